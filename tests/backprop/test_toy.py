"""The hand-written backprop walkthrough: the lecture's numbers, and torch.autograd as the oracle."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from explorer.backprop import toy as bp
from explorer.core.i18n import LOCALES_DIR

LECTURE = bp.toy_example()


def lecture(**kwargs) -> bp.Walkthrough:
    ex = bp.toy_example()
    return bp.walkthrough(ex["X"], ex["W1"], ex["W2"], ex["y"], lr=ex["lr"], **kwargs)


# ------------------------------------------------------------------ the lecture (seed 003)

@pytest.mark.parametrize(("name", "expected"), [
    ("L1", [[0.24, 0.27, 0.30, 0.33], [0.42, 0.45, 0.48, 0.51],
            [0.60, 0.63, 0.66, 0.69], [0.78, 0.81, 0.84, 0.87]]),
    ("L1_pool", [[0.6106, 0.6248], [0.6921, 0.7047]]),
    ("L2", 0.0133), ("L2_a", 0.5033), ("E", 0.1233), ("dE_dL2a", -0.4967), ("dL2a_dL2", 0.2500),
    ("dW1", [[-0.0086, -0.0091, -0.0097], [-0.0119, -0.0124, -0.0130], [-0.0152, -0.0157, -0.0163]]),
    ("W1_new", [[0.0186, 0.0091, 0.0097], [0.0119, 0.0224, 0.0130], [0.0152, 0.0157, 0.0263]]),
    ("E_after", 0.1226),
])
def test_lecture_numbers_to_four_decimals(name, expected):
    got = lecture().tensors[name]
    np.testing.assert_array_equal(np.round(got, 4), np.array(expected))


def test_lecture_summary_attributes_and_default_update_is_w1_only():
    wt = lecture()
    assert round(wt.loss, 4) == 0.1233
    assert round(wt.loss_after_update, 4) == 0.1226
    np.testing.assert_array_equal(wt.W2_updated, LECTURE["W2"])  # the lecture leaves W2 alone
    np.testing.assert_array_equal(wt.tensors["route"], [[0, 0, 0, 0], [0, 1, 0, 1], [0, 0, 0, 0], [0, 1, 0, 1]])
    both = lecture(update="both")
    assert both.loss_after_update < wt.loss
    np.testing.assert_allclose(both.W2_updated, LECTURE["W2"] - both.grad_W2)


def test_the_weight_gradient_is_the_input_convolved_with_the_error():
    wt = lecture()
    t = wt.tensors
    expected = F.conv2d(torch.tensor(t["X"])[None, None], torch.tensor(t["dL1"])[None, None])[0, 0]
    np.testing.assert_allclose(wt.grad_W1, expected.numpy(), atol=1e-15)


@pytest.mark.parametrize(("a", "b"), list(itertools.product(range(3), range(3))))
def test_weight_sharing_contributions_sum_to_the_gradient(a, b):
    wt = lecture(weight=(a, b))
    contrib = wt.step("sharing").arrays["contrib"]
    assert contrib.shape == (4, 4)
    assert contrib.sum() == pytest.approx(wt.grad_W1[a, b], abs=1e-15)
    # only max-pool winners whose W2 weight is non-zero carry error: 2 of the 16 positions (lecture)
    assert np.count_nonzero(contrib) == 2


# ------------------------------------------------------------------ torch as the oracle

def _random_case(rng: np.random.Generator):
    h, w = rng.integers(4, 9, size=2)
    k, l = rng.integers(1, 4, size=2)
    oh, ow = h - k + 1, w - l + 1
    X = rng.normal(0, 2, size=(h, w))
    W1 = rng.normal(0, 0.5, size=(k, l))
    W2 = rng.normal(0, 1, size=(oh // 2) * (ow // 2))
    return X, W1, W2, float(rng.uniform(-1, 2)), float(rng.uniform(0.01, 3))


@pytest.mark.parametrize("activation", bp.ACTIVATIONS)
@pytest.mark.parametrize("pooling", bp.POOLINGS)
@pytest.mark.parametrize("update", bp.UPDATES)
def test_every_gradient_matches_autograd_on_random_inputs(activation, pooling, update):
    rng = np.random.default_rng([7, bp.ACTIVATIONS.index(activation), bp.POOLINGS.index(pooling),
                                 bp.UPDATES.index(update)])
    for _ in range(12):
        X, W1, W2, y, lr = _random_case(rng)
        wt = bp.walkthrough(X, W1, W2, y, lr=lr, activation=activation, pooling=pooling, update=update)
        diffs = bp.verify_with_torch(wt)
        assert set(diffs) >= {"dW1", "dW2", "W1_new", "W2_new", "E", "E_after"}
        assert max(diffs.values()) < 1e-6, diffs


def test_verify_with_torch_can_fail():
    wt = lecture()
    broken = bp.Walkthrough(**{**wt.__dict__, "grad_W1": wt.grad_W1 + 1e-3})
    assert bp.verify_with_torch(broken)["dW1"] == pytest.approx(1e-3)


@pytest.mark.parametrize("activation", bp.ACTIVATIONS)
@pytest.mark.parametrize("pooling", bp.POOLINGS)
def test_finite_differences_agree(activation, pooling):
    rng = np.random.default_rng(11)
    X, W1, W2, y, _ = _random_case(rng)
    wt = bp.walkthrough(X, W1, W2, y, activation=activation, pooling=pooling)
    assert max(bp.finite_difference(wt).values()) < 1e-6


def test_average_pooling_spreads_the_error_evenly():
    wt = lecture(pooling="avg")
    t = wt.tensors
    np.testing.assert_allclose(t["dL1_a"], np.kron(t["dpool"], np.full((2, 2), 0.25)))


# ------------------------------------------------------------------ max-pool ties (seed 004)

def test_tie_goes_to_the_first_cell_in_row_major_order_like_torch():
    a = np.array([[1.0, 1.0, 0.0, 2.0], [1.0, 1.0, 2.0, 2.0],
                  [5.0, 3.0, 4.0, 4.0], [5.0, 5.0, 4.0, 9.0]])
    pooled, route = bp.pool2x2(a, "max")
    np.testing.assert_array_equal(pooled, [[1, 2], [5, 9]])
    np.testing.assert_array_equal(route, [[1, 0, 0, 1], [0, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]])
    x = torch.tensor(a)[None, None].requires_grad_()
    F.max_pool2d(x, 2, 2).sum().backward()
    np.testing.assert_array_equal(route, x.grad[0, 0].numpy())


def test_ties_in_a_whole_walkthrough_match_autograd():
    # integer inputs and an all-ones filter make many equal values inside the pooling windows
    rng = np.random.default_rng(3)
    for _ in range(20):
        X = rng.integers(0, 2, size=(6, 6)).astype(float)
        wt = bp.walkthrough(X, np.ones((1, 1)), rng.normal(size=9), 1.0)
        assert max(bp.verify_with_torch(wt).values()) < 1e-12


def test_odd_maps_drop_the_last_row_and_column_like_torch():
    rng = np.random.default_rng(5)
    wt = bp.walkthrough(rng.normal(size=(7, 7)), rng.normal(size=(3, 3)), rng.normal(size=4), 0.5,
                        pooling="avg")
    assert wt.tensors["L1"].shape == (5, 5)
    assert not wt.tensors["dL1_a"][4].any() and not wt.tensors["dL1_a"][:, 4].any()
    assert max(bp.verify_with_torch(wt).values()) < 1e-6


# ------------------------------------------------------------------ overflow, saturation

def test_sigmoid_is_safe_for_huge_arguments():
    z = np.array([-1e308, -1000.0, -1.0, 0.0, 1.0, 1000.0, 1e308])
    s = bp.sigmoid(z)  # filterwarnings=error: an overflow warning would fail here
    np.testing.assert_allclose(s, torch.sigmoid(torch.tensor(z)).numpy(), atol=1e-15)
    assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5


def test_huge_weights_saturate_without_warnings_and_say_so():
    wt = bp.walkthrough(LECTURE["X"], 1e6 * np.eye(3), LECTURE["W2"] * 1e6, 1.0)
    assert np.isfinite(wt.loss)
    assert [k for k, _ in wt.warnings] == ["backprop.warn.saturated"]
    assert not wt.grad_W1.any()  # sigmoid'(1e7) = 0: the gradient vanished


def test_exploding_learning_rate_is_reported_not_raised():
    wt = bp.walkthrough(LECTURE["X"], LECTURE["W1"], LECTURE["W2"], 1.0, lr=1e300, activation="relu",
                        update="both")
    assert np.isfinite(wt.loss)
    assert not np.isfinite(wt.loss_after_update)
    assert wt.warnings[0][0] == "backprop.warn.overflow_after"
    hist = bp.train_steps(LECTURE["X"], LECTURE["W1"], LECTURE["W2"], 1.0, lr=1e300, k=5,
                          activation="relu", update="both")
    assert hist.diverged_at is not None and len(hist.losses) == hist.diverged_at


def test_train_steps_history_starts_at_the_lecture_loss_and_decreases():
    hist = bp.train_steps(LECTURE["X"], LECTURE["W1"], LECTURE["W2"], 1.0, lr=1.0, k=5)
    assert len(hist.losses) == 6 and hist.diverged_at is None
    assert round(hist.losses[0], 4) == 0.1233 and round(hist.losses[1], 4) == 0.1226
    assert all(b < a for a, b in zip(hist.losses, hist.losses[1:]))


# ------------------------------------------------------------------ bad input

@pytest.mark.parametrize(("kwargs", "key"), [
    ({"X": np.full((6, 6), np.nan)}, "backprop.error.not_finite"),
    ({"W1": np.array([[np.inf]])}, "backprop.error.not_finite"),
    ({"W2": np.zeros(5)}, "backprop.error.w2_size"),
    ({"X": np.zeros((3, 3))}, "backprop.error.too_small"),
    ({"X": np.zeros(6)}, "backprop.error.ndim"),
    ({"y": float("nan")}, "backprop.error.not_finite"),
    ({"lr": float("inf")}, "backprop.error.not_finite"),
    ({"activation": "tanh"}, "backprop.error.option"),
    ({"pooling": "median"}, "backprop.error.option"),
    ({"update": "W2"}, "backprop.error.option"),
])
def test_bad_inputs_raise_translatable_errors(kwargs, key):
    args = {k: LECTURE[k] for k in ("X", "W1", "W2", "y")}
    args.update({k: v for k, v in kwargs.items() if k in args})
    opts = {k: v for k, v in kwargs.items() if k not in args}
    with pytest.raises(bp.BackpropInputError) as err:
        bp.walkthrough(**args, **opts)
    assert err.value.key == key
    assert err.value.key in _catalog("en") and err.value.key in _catalog("ko")


@pytest.mark.parametrize(("text", "key"), [
    ("", "backprop.error.empty"),
    ("  \n ", "backprop.error.empty"),
    ("1, ,3\n4,5,6", "backprop.error.empty_cell"),
    ("1 2 x\n4 5 6", "backprop.error.not_number"),
    ("1 2 nan\n4 5 6", "backprop.error.not_finite_cell"),
    ("1 2 inf\n4 5 6", "backprop.error.not_finite_cell"),
    ("1 2\n4 5", "backprop.error.shape"),
    ("1 2 3\n4 5", "backprop.error.shape"),
])
def test_parse_matrix_rejects_bad_cells(text, key):
    with pytest.raises(bp.BackpropInputError) as err:
        bp.parse_matrix(text, name="W", shape=(2, 3))
    assert err.value.key == key
    en = _catalog("en")[key].format(**err.value.params)  # the message formats with its params
    assert en


def test_parse_matrix_round_trips_format_matrix():
    m = np.array([[1.5, -2, 0.01], [3, 4e-5, 6]])
    assert bp.parse_matrix("[1.5, -2, 0.01]\n3 4e-5 6\n", name="W", shape=(2, 3)).tolist() == m.tolist()
    np.testing.assert_allclose(bp.parse_matrix(bp.format_matrix(m, digits=6), name="W", shape=(2, 3)), m)


# ------------------------------------------------------------------ steps, export, i18n keys

def _catalog(lang: str) -> dict[str, str]:
    out = {}
    for path in (LOCALES_DIR / lang).glob("backprop.json"):
        out.update(json.loads(path.read_text(encoding="utf-8")))
    return out


def test_steps_are_complete_and_their_keys_exist():
    wt = lecture()
    assert [s.phase for s in wt.steps][:7] == ["forward"] * 7
    assert wt.steps[-1].id == "loss_after"
    en, ko = _catalog("en"), _catalog("ko")
    for s in wt.steps:
        assert s.formula and s.result in s.arrays
        assert s.name_key in en and s.explain_key in ko
        for name, mask in s.highlight.items():
            assert mask.dtype == bool and mask.shape == np.atleast_2d(s.arrays[name]).shape, (s.id, name)


def test_conv_highlight_is_the_receptive_field_of_the_focus_cell():
    s = lecture(focus=(1, 2)).step("conv")
    assert s.highlight["X"][1:4, 2:5].all() and s.highlight["X"].sum() == 9
    assert s.highlight["L1"][1, 2] and s.highlight["L1"].sum() == 1


def test_exports_contain_every_step():
    wt = lecture()
    csv_text = bp.to_csv(wt)
    assert csv_text.splitlines()[0] == "step,phase,array,row,col,value"
    assert len(csv_text.splitlines()) == 1 + sum(np.atleast_2d(a).size for s in wt.steps for a in s.arrays.values())
    md = bp.to_markdown(wt, names={"conv": "합성곱"}, title="역전파", summary="요약")
    assert md.startswith("# 역전파\n") and "요약" in md and "## 1. 합성곱" in md and "0.1226" in md and "-0.0086" in md
    assert md.count("## ") == len(wt.steps)


def test_a_learning_rate_that_overshoots_is_reported():
    wt = bp.walkthrough(LECTURE["X"], LECTURE["W1"], LECTURE["W2"], 1.0, lr=1e6, activation="relu")
    assert wt.loss_after_update > 1e6 * wt.loss
    assert [k for k, _ in wt.warnings] == ["backprop.warn.increased"]


def test_random_input_is_seeded_and_mnist_crop_stays_inside():
    np.testing.assert_array_equal(bp.random_input(4), bp.random_input(4))
    assert not np.array_equal(bp.random_input(4), bp.random_input(5))
    assert set(np.unique(bp.random_input(4))) <= set(range(10))
    image = np.arange(28 * 28, dtype=float).reshape(1, 28, 28) / 784
    crop = bp.mnist_crop(image, row=30, col=-3)
    assert crop.shape == (6, 6) and crop[0, 0] == image[0, 22, 0]


def test_first_increase_finds_where_e_went_up():
    assert bp.first_increase([0.5, 0.4, 0.3]) is None
    assert bp.first_increase([0.5, 0.4, 0.45, 0.1]) == 2
    assert bp.first_increase([]) is None
