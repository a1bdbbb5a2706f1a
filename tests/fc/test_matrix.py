"""The MLP forward/backward by hand: torch autograd (float64) as the oracle, the lecture's own numpy code
run verbatim on the same numbers, the display steps, exports and every refusal."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from explorer.fc import matrix as mx
from explorer.fc.checks import FCError
from tests.fc.conftest import catalog

# ------------------------------------------------------------------ random cases vs autograd


def _random_case(rng: np.random.Generator, *, layers: int, n: int):
    sizes = [int(rng.integers(1, 7)) for _ in range(layers)] + [int(rng.integers(2, 6))]
    X = rng.normal(0, 1.5, size=(n, sizes[0]))
    params = {}
    for l, (a, b) in enumerate(zip(sizes, sizes[1:]), start=1):
        params[f"W{l}"] = rng.normal(0, 1.0, size=(a, b))
        params[f"b{l}"] = rng.normal(0, 0.5, size=b)
    T = mx.one_hot(rng.integers(0, sizes[-1], size=n), sizes[-1])
    return X, T, params


def _autograd(X, T, params, activations):
    """An independent float64 computation of the loss and every gradient."""
    x = torch.tensor(X, requires_grad=True)
    p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    h = x
    layers = len(activations) + 1
    for l in range(1, layers + 1):
        h = F.linear(h, p[f"W{l}"].T, p[f"b{l}"])
        if l < layers:
            h = torch.sigmoid(h) if activations[l - 1] == "sigmoid" else F.relu(h)
    loss = F.cross_entropy(h, torch.tensor(T))  # class probabilities as the target: mean of −Σ t log y
    loss.backward()
    return float(loss.detach()), {k: v.grad.numpy() for k, v in p.items()}, x.grad.numpy()


@pytest.mark.parametrize("layers", [2, 3])
@pytest.mark.parametrize("acts", ["sigmoid", "relu", "mixed"])
def test_every_gradient_matches_autograd_on_random_cases(layers, acts):
    rng = np.random.default_rng([layers, len(acts)])
    for n in range(1, 9):
        for _ in range(3):
            X, T, params = _random_case(rng, layers=layers, n=n)
            activations = (("sigmoid", "relu") if acts == "mixed" else (acts,) * 2)[:layers - 1]
            result = mx.mlp_step(X, T, params, activations=activations)
            loss, grads, dX = _autograd(X, T, params, activations)
            assert result.loss == pytest.approx(loss, abs=1e-12)
            assert result.grads.keys() == params.keys()
            for k in params:
                assert result.grads[k].shape == params[k].shape
                np.testing.assert_allclose(result.grads[k], grads[k], atol=1e-12, rtol=0)
            np.testing.assert_allclose(result.tensors["dX"], dX, atol=1e-12, rtol=0)
            assert max(mx.verify_with_torch(result).values()) < 1e-12


def test_one_layer_is_softmax_regression():
    rng = np.random.default_rng(1)
    X, T, params = _random_case(rng, layers=1, n=5)
    result = mx.mlp_step(X, T, params, activations=())
    loss, grads, _ = _autograd(X, T, params, ())
    assert result.loss == pytest.approx(loss, abs=1e-12)
    np.testing.assert_allclose(result.grads["W1"], grads["W1"], atol=1e-12)
    assert max(mx.verify_with_torch(result).values()) < 1e-12


def test_verify_with_torch_can_fail():
    ex = mx.default_batch()
    result = mx.mlp_step(ex.X, ex.t, ex.params, activations=ex.activations)
    broken = mx.MLPStep(**{**result.__dict__, "grads": {**result.grads, "W1": result.grads["W1"] + 1e-3}})
    assert mx.verify_with_torch(broken)["dW1"] == pytest.approx(1e-3)


def test_verify_summary_names_the_worst_difference():
    ex = mx.default_batch()
    result = mx.mlp_step(ex.X, ex.t, ex.params, activations=ex.activations)
    ok, diff, name = mx.verify_summary(result)
    assert ok and diff < 1e-12 and name in mx.verify_with_torch(result)
    broken = mx.MLPStep(**{**result.__dict__, "grads": {**result.grads, "b2": result.grads["b2"] + 1e-6}})
    assert mx.verify_summary(broken) == (False, pytest.approx(1e-6), "db2")
    assert ex.text_params == {"n": 4, "digits": ", ".join(map(str, ex.labels)), "size": 4, "d": 16}
    assert catalog("ko")["fc.example"].format(**ex.text_params)


def test_relu_at_exactly_zero_passes_no_gradient_like_torch():
    X = np.array([[1.0, -1.0], [0.0, 0.0]])
    params = {"W1": np.array([[1.0, 0.0], [1.0, 1.0]]), "b1": np.zeros(2),
              "W2": np.array([[1.0, -1.0], [0.5, 2.0]]), "b2": np.zeros(2)}
    result = mx.mlp_step(X, mx.one_hot([0, 1], 2), params, activations="relu")
    assert (result.tensors["a1"] == 0).sum() >= 3  # several units sit exactly at 0
    assert max(mx.verify_with_torch(result).values()) < 1e-15


def test_huge_inputs_stay_finite_and_warn_of_saturation():
    X = np.full((2, 3), 1e6)
    params = {"W1": np.full((3, 2), 1e6), "b1": np.zeros(2), "W2": np.array([[1e6, -1e6], [0.0, 1.0]]),
              "b2": np.zeros(2)}
    result = mx.mlp_step(X, mx.one_hot([1, 1], 2), params, activations="sigmoid")
    assert np.isfinite(result.loss) and result.loss > 1e5  # confidently wrong, but no overflow
    assert not result.grads["W1"].any()  # the saturated sigmoid passes nothing back
    assert [k for k, _ in result.warnings] == ["fc.warn.saturated"]
    assert result.warnings[0][1]["share"] == "100%"
    assert max(mx.verify_with_torch(result).values()) < 1e-6 * result.loss


# ------------------------------------------------------------------ the lecture's own code (seed 001)


def _lecture_two_layer(x, t, W1, b1, W2, b2):
    """Seed 001 ~L548–552 and ~L630–639, verbatim apart from the helpers."""
    def sigmoid(a):
        return 1 / (1 + np.exp(-a))

    def softmax(a):
        e = np.exp(a - a.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    batch_num = x.shape[0]
    grads = {}
    # forward
    a1 = np.dot(x, W1) + b1
    z1 = sigmoid(a1)
    a2 = np.dot(z1, W2) + b2
    y = softmax(a2)
    # backward
    dy = (y - t) / batch_num
    grads['W2'] = np.dot(z1.T, dy)
    grads['b2'] = np.sum(dy, axis=0)

    dz1 = np.dot(dy, W2.T)
    da1 = z1*(1-z1)*dz1
    grads['W1'] = np.dot(x.T, da1)
    grads['b1'] = np.sum(da1, axis=0)
    return grads, dz1


def _lecture_three_layer(x, t, W1, b1, W2, b2, W3, b3):
    """The homework (seed 001 ~L418–449), verbatim apart from the helpers."""
    def sigmoid(a):
        return 1 / (1 + np.exp(-a))

    def relu(a):
        return np.maximum(0, a)

    def softmax(a):
        e = np.exp(a - a.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    batch_num = x.shape[0]
    grads = {}
    # forward
    a1 = np.dot(x, W1) + b1
    z1 = sigmoid(a1)
    a2 = np.dot(z1, W2) + b2
    z2 = relu(a2)
    a3 = np.dot(z2, W3) + b3
    y = softmax(a3)

    # backward
    dy = (y - t) / batch_num

    grads['W3'] = z2.T @ dy
    grads['b3'] = np.sum(dy, axis=0)

    dz2 = dy @ W3.T
    da2_mask = (a2<=0) #mask for filter
    da2 = dz2
    da2[da2_mask] = 0 #filter the elem

    grads['W2'] = z1.T @ da2
    grads['b2'] = np.sum(da2, axis=0)

    dz1 = da2 @ W2.T
    da1 = dz1 * z1 * (1 - z1)
    grads['W1'] = x.T @ da1
    grads['b1'] = np.sum(da1, axis=0)

    return grads


def test_the_lectures_two_layer_code_gives_the_same_gradients():
    ex = mx.default_batch(layers=2)
    result = mx.mlp_step(ex.X, ex.t, ex.params, activations="sigmoid")
    grads, dz1 = _lecture_two_layer(ex.X, ex.t, **ex.params)
    for k, v in grads.items():
        np.testing.assert_allclose(result.grads[k], v, atol=1e-15)
    # the first version of the slide (~L578) summed dz1 for b1: a typo that autograd does not confirm
    assert not np.allclose(np.sum(dz1, axis=0), result.grads["b1"])
    assert "fc.note.b1_typo" in catalog("en") and "fc.note.b1_typo" in catalog("ko")


def test_the_homeworks_three_layer_code_with_the_relu_mask_gives_the_same_gradients():
    ex = mx.default_batch(layers=3)
    assert ex.activations == ("sigmoid", "relu")  # the homework: sigmoid, then ReLU
    result = mx.mlp_step(ex.X, ex.t, ex.params, activations=ex.activations)
    grads = _lecture_three_layer(ex.X, ex.t, **{k: v.copy() for k, v in ex.params.items()})
    for k, v in grads.items():
        np.testing.assert_allclose(result.grads[k], v, atol=1e-15)
    assert result.step("da2").code == "da2 = dz2; da2[a2 <= 0] = 0"
    assert (result.tensors["da2"][result.tensors["a2"] <= 0] == 0).all()


def test_dy_is_y_minus_t_over_the_batch_size():
    ex = mx.default_batch()
    t = mx.mlp_step(ex.X, ex.t, ex.params, activations=ex.activations).tensors
    np.testing.assert_array_equal(t["dy"], (t["y"] - t["t"]) / 4)
    np.testing.assert_allclose(t["y"].sum(axis=1), 1.0)


# ------------------------------------------------------------------ the default batch


def test_default_batch_is_real_digits_shrunk_and_seeded():
    ex = mx.default_batch()
    assert ex.X.shape == (4, 16) and ex.t.shape == (4, 10) and ex.thumbnails.shape == (4, 4, 4)
    assert set(ex.params) == {"W1", "b1", "W2", "b2"} and ex.params["W1"].shape == (16, 4)
    assert len(set(ex.labels.tolist())) == 4 and (ex.t.argmax(1) == ex.labels).all()
    assert 0 <= ex.X.min() and ex.X.max() <= 1 and (np.round(ex.X, 2) == ex.X).all()
    # the thumbnails are 5x5 block means of the central 20x20 box of the real digit
    np.testing.assert_allclose(ex.thumbnails[0, 1, 2], np.round(ex.images[0, 9:14, 14:19].mean(), 2))
    again = mx.default_batch()
    np.testing.assert_array_equal(again.X, ex.X)
    np.testing.assert_array_equal(again.params["W1"], ex.params["W1"])
    assert not np.array_equal(mx.default_batch(seed=1).X, ex.X)
    three = mx.default_batch(layers=3, classes=3, n=3, size=7)
    assert three.X.shape == (3, 49) and three.params["W3"].shape == (3, 3) and set(three.labels) == {0, 1, 2}


@pytest.mark.parametrize("size", mx.SHRINK_SIZES)
def test_shrink_keeps_the_mean_brightness_of_the_box(size):
    img = np.random.default_rng(size).random((2, 28, 28))
    small = mx.shrink(img, size=size)
    box = img[:, 4:24, 4:24] if 20 % size == 0 else img
    assert small.shape == (2, size, size)
    np.testing.assert_allclose(small.mean(axis=(1, 2)), box.mean(axis=(1, 2)))


def test_the_default_stepper_run_is_fast_enough_to_rerun():
    # not a timing assert: just that the work per rerun is small (a few hundred numbers per matrix)
    ex = mx.default_batch(layers=3)
    result = mx.mlp_step(ex.X, ex.t, ex.params, activations=ex.activations)
    assert max(a.size for s in result.steps for a in s.arrays.values()) <= 64


# ------------------------------------------------------------------ steps for display


def test_steps_cover_forward_then_backward_and_their_keys_exist():
    en, ko = catalog("en"), catalog("ko")
    for layers in (1, 2, 3):
        ex = mx.default_batch(layers=layers)
        result = mx.mlp_step(ex.X, ex.t, ex.params, activations=ex.activations)
        phases = [s.phase for s in result.steps]
        assert phases == sorted(phases, key=["forward", "backward"].index)
        assert phases.count("forward") == 2 * layers + 1  # affine + activation per layer, softmax, loss
        assert [s.id for s in result.steps][-1] == "dX"
        assert len({s.id for s in result.steps}) == len(result.steps)
        for s in result.steps:
            assert s.result in s.arrays and s.formula and s.detail and s.code
            assert s.name_key in en and s.explain_key in ko
            assert en[s.name_key].format(**s.params) and ko[s.explain_key].format(**s.params)
            for name, arr in s.arrays.items():
                assert arr.ndim == 2 and s.shapes[name]
                assert np.prod([int(v) for v in s.shapes[name].split("×")]) == arr.size
            for name, mask in s.highlight.items():
                assert mask.dtype == bool and mask.shape == s.arrays[name].shape, (s.id, name)
                assert mask.any(), (s.id, name)


def test_grad_shapes_are_written_on_the_formulas():
    ex = mx.default_batch()
    result = mx.mlp_step(ex.X, ex.t, ex.params, activations=ex.activations)
    assert r"\underbrace{X}_{4\times 16}" in result.step("affine1").formula
    assert r"\underbrace{X^T}_{16\times 4}" in result.step("dW1").formula
    assert result.step("dW1").shapes["dW1"] == "16×4"
    assert result.step("db2").shapes["db2"] == "10"
    assert result.step("dy").code == "dy = (y - t) / batch_num"
    assert result.step("dW2").code == "grads['W2'] = np.dot(z1.T, dy)"


@pytest.mark.parametrize(("step", "focus"), [("affine1", (2, 3)), ("dW1", (5, 1)), ("dz1", (1, 2)),
                                             ("da1", (3, 0)), ("db2", (0, 7)), ("dX", (3, 15))])
def test_the_worked_entry_ends_with_the_entry_itself(step, focus):
    ex = mx.default_batch()
    result = mx.mlp_step(ex.X, ex.t, ex.params, activations=ex.activations, focus=focus)
    s = result.step(step)
    value = s.arrays[s.result][tuple(np.argwhere(s.highlight[s.result])[0])]
    assert s.detail.endswith(f"= {mx._tex_num(value)}")
    assert s.highlight[s.result].sum() == 1


def test_worked_sums_are_shortened_but_keep_the_last_term():
    ex = mx.default_batch()
    s = mx.mlp_step(ex.X, ex.t, ex.params, activations=ex.activations).step("affine1")
    assert r"\cdots" in s.detail and s.detail.count(r"\cdot") >= 4
    assert mx._tex_num(1.5e-7) == r"1.5\times10^{-7}"


def test_focus_is_clipped_into_every_matrix():
    ex = mx.default_batch()
    result = mx.mlp_step(ex.X, ex.t, ex.params, activations=ex.activations, focus=(99, -5))
    assert "[3,0]" in result.step("affine1").detail


def test_dead_relu_units_are_reported():
    X = np.array([[1.0, 2.0], [0.5, 1.0]])
    params = {"W1": np.array([[1.0, -1.0], [1.0, -1.0]]), "b1": np.zeros(2),
              "W2": np.eye(2), "b2": np.zeros(2)}
    result = mx.mlp_step(X, mx.one_hot([0, 1], 2), params, activations="relu")
    assert result.warnings == (("fc.warn.dead_relu", {"layer": 1, "count": 1, "width": 2}),)


# ------------------------------------------------------------------ gradient descent on the batch


def test_loss_history_decreases_and_matches_repeated_steps():
    ex = mx.default_batch()
    losses, final = mx.loss_history(ex.X, ex.t, ex.params, activations=ex.activations, lr=1.0, steps=5)
    assert len(losses) == 6 and all(b < a for a, b in zip(losses, losses[1:]))
    params = ex.params
    for _ in range(5):
        params = mx.sgd_update(params, mx.mlp_step(ex.X, ex.t, params, activations=ex.activations).grads, lr=1.0)
    np.testing.assert_allclose(final["W1"], params["W1"])


def test_loss_history_stops_before_values_explode():
    ex = mx.default_batch()
    params = {**ex.params, "W2": ex.params["W2"] * 1e5}
    losses, final = mx.loss_history(ex.X, ex.t, params, activations="relu", lr=100.0, steps=50)
    assert len(losses) < 51 and all(np.isfinite(losses))
    assert max(np.abs(v).max() for v in final.values()) <= 1e6


# ------------------------------------------------------------------ export


def test_exports_contain_every_step():
    ex = mx.default_batch()
    result = mx.mlp_step(ex.X, ex.t, ex.params, activations=ex.activations)
    lines = mx.to_csv(result).splitlines()
    assert lines[0] == "step,phase,array,shape,row,col,value"
    assert len(lines) == 1 + sum(a.size for s in result.steps for a in s.arrays.values())
    assert "dW1,backward,dW1,16×4,15,3," in mx.to_csv(result)
    md = mx.to_markdown(result, names={"affine1": "Affine 계층 1"}, title="행렬 역전파", summary="요약")
    assert md.startswith("# 행렬 역전파\n") and "## 1. Affine 계층 1" in md and "요약" in md
    assert md.count("\n## ") == len(result.steps)
    assert "dy = (y - t) / batch_num" in md and f"{result.loss:.4f}" in md


# ------------------------------------------------------------------ typed matrices


def test_parse_round_trips_and_accepts_brackets_and_commas():
    m = np.array([[1.5, -2, 0.01], [3, 4e-5, 6]])
    assert mx.parse_matrix("[1.5, -2, 0.01]\n3 4e-5 6\n", name="W", rows=2, cols=3).tolist() == m.tolist()
    np.testing.assert_allclose(mx.parse_matrix(mx.format_matrix(m, digits=8), name="W"), m)
    np.testing.assert_array_equal(mx.parse_vector("1 2 3", name="b", size=3), [1, 2, 3])
    np.testing.assert_array_equal(mx.parse_vector("1\n2\n3", name="b"), [1, 2, 3])
    np.testing.assert_array_equal(mx.parse_vector("\u22120.5 2", name="b"), [-0.5, 2])
    np.testing.assert_array_equal(mx.parse_labels("2 0", n=2, classes=3), [[0, 0, 1], [1, 0, 0]])


@pytest.mark.parametrize(("call", "key"), [
    (lambda: mx.parse_matrix("", name="X"), "fc.error.empty"),
    (lambda: mx.parse_matrix("1 2\n3", name="X"), "fc.error.ragged"),
    (lambda: mx.parse_matrix("1, ,3", name="X"), "fc.error.empty_cell"),
    (lambda: mx.parse_matrix("1 x 3", name="X"), "fc.error.not_number"),
    (lambda: mx.parse_matrix("1 nan", name="X"), "fc.error.not_finite_cell"),
    (lambda: mx.parse_matrix("1 -inf", name="X"), "fc.error.not_finite_cell"),
    (lambda: mx.parse_matrix("1 2e7", name="X"), "fc.error.too_large_cell"),
    (lambda: mx.parse_matrix("1 2\n3 4", name="X", rows=2, cols=3), "fc.error.typed_shape"),
    (lambda: mx.parse_matrix("1\n" * 65, name="X"), "fc.error.too_many_rows"),
    (lambda: mx.parse_matrix("1 " * 785, name="X"), "fc.error.too_many_cols"),
    (lambda: mx.parse_matrix("1 " * 60_000, name="X"), "fc.error.text_too_long"),
    (lambda: mx.parse_vector("1 2\n3 4", name="b"), "fc.error.not_vector"),
    (lambda: mx.parse_vector("1 2", name="b", size=3), "fc.error.typed_shape"),
    (lambda: mx.parse_labels("1 5", n=2, classes=3), "fc.error.labels"),
    (lambda: mx.parse_labels("1 0.5", n=2, classes=3), "fc.error.labels"),
    (lambda: mx.shrink(np.zeros((1, 28, 28)), size=6), "fc.error.option"),
    (lambda: mx.random_params((3,), seed=0), "fc.error.layers"),
    (lambda: mx.default_batch(layers=3, hidden=(4,)), "fc.error.hidden_count"),
    (lambda: mx.default_batch(n=5, classes=3), "fc.error.range"),
    (lambda: mx.default_batch(layers=2.5), "fc.error.not_integer"),
])
def test_typed_input_refusals(call, key, translated):
    with pytest.raises(FCError) as err:
        call()
    assert err.value.key == key
    translated(err.value)


def _good():
    ex = mx.default_batch()
    return {"X": ex.X, "T": ex.t, "params": dict(ex.params), "activations": ex.activations}


def _with(changes: dict) -> dict:
    args = _good()
    params = changes.pop("params", {})
    if isinstance(params, dict):
        params = {k: v for k, v in {**args["params"], **params}.items() if v is not None}
    args.update(changes, params=params)
    return args


@pytest.mark.parametrize(("changes", "key"), [
    (lambda: {"X": np.full((4, 16), np.nan)}, "fc.error.not_finite"),
    (lambda: {"X": [["a"] * 16] * 4}, "fc.error.not_numbers"),
    (lambda: {"X": np.zeros(16)}, "fc.error.ndim"),
    (lambda: {"X": np.zeros((4, 0))}, "fc.error.ndim"),
    (lambda: {"X": np.full((4, 16), 2e6)}, "fc.error.too_large_value"),
    (lambda: {"X": np.zeros((65, 16)), "T": mx.one_hot(np.zeros(65, int), 10)}, "fc.error.batch"),
    (lambda: {"X": np.zeros((4, 200_000))}, "fc.error.too_big"),
    (lambda: {"X": np.zeros((4, 800)), "params": {"W1": np.zeros((800, 4))}}, "fc.error.width"),
    (lambda: {"params": {"W1": np.zeros((15, 4))}}, "fc.error.shape"),
    (lambda: {"params": {"b1": np.zeros(5)}}, "fc.error.bias"),
    (lambda: {"params": {"W3": np.zeros((10, 2))}}, "fc.error.params_keys"),
    (lambda: {"params": {"b2": None}}, "fc.error.params_keys"),
    (lambda: {"params": [1, 2]}, "fc.error.params_keys"),
    (lambda: {"params": {"W2": np.zeros((4, 1)), "b2": np.zeros(1)}, "T": np.ones((4, 1))}, "fc.error.classes"),
    (lambda: {"T": np.zeros((4, 9))}, "fc.error.t_shape"),
    (lambda: {"T": np.zeros((4, 10))}, "fc.error.one_hot"),
    (lambda: {"T": np.full((4, 10), 0.1)}, "fc.error.one_hot"),
    (lambda: {"activations": ("sigmoid", "relu")}, "fc.error.activations_count"),
    (lambda: {"activations": ("tanh",)}, "fc.error.option"),
    (lambda: {"loss": "mse"}, "fc.error.option"),
])
def test_mlp_step_refusals(changes, key, translated):
    with pytest.raises(FCError) as err:
        mx.mlp_step(**_with(changes()))
    assert err.value.key == key
    translated(err.value)


def test_a_bias_typed_as_one_row_is_accepted():
    args = _good()
    args["params"]["b1"] = args["params"]["b1"].reshape(1, -1)
    assert np.isfinite(mx.mlp_step(**args).loss)


def test_loss_history_refuses_a_bad_rate(translated):
    ex = mx.default_batch()
    for lr, key in ((float("nan"), "fc.error.not_finite"), (0.0, "fc.error.range"), ("x", "fc.error.not_number_value")):
        with pytest.raises(FCError) as err:
            mx.loss_history(ex.X, ex.t, ex.params, activations=ex.activations, lr=lr)
        assert err.value.key == key
        translated(err.value)


def test_every_error_key_in_the_code_has_both_translations():
    import re
    from pathlib import Path

    source = "".join(p.read_text(encoding="utf-8") for p in Path(mx.__file__).parent.glob("*.py"))
    keys = set(re.findall(r'"(fc\.(?:error|warn)\.[a-z_]+)"', source))
    assert len(keys) > 30
    for lang in ("en", "ko"):
        assert keys <= catalog(lang).keys(), keys - catalog(lang).keys()
    kinds = {"affine", "sigmoid", "relu", "softmax", "loss", "dy", "dW", "db", "dz", "da_sigmoid", "da_relu", "dX"}
    for kind, part in itertools.product(kinds, ("name", "explain")):
        assert f"fc.step.{kind}.{part}" in catalog("ko")
