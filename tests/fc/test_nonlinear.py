"""Two linear layers are one (seed 001 ~L485); a linear network cannot separate the toys, a ReLU one can."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from explorer.fc import nonlinear as nl
from explorer.fc.checks import FCError
from explorer.fc.matrix import backward, forward, one_hot


def test_two_linear_layers_multiply_out_to_one():
    rng = np.random.default_rng(0)
    for _ in range(20):
        d, h, k = rng.integers(1, 6, size=3)
        W1, W2, x = rng.normal(size=(h, d)), rng.normal(size=(k, h)), rng.normal(size=d)
        c = nl.collapse(W1, W2, x)
        assert c.same and c.W.shape == (k, d)
        np.testing.assert_allclose(c.W, W2 @ W1)
        np.testing.assert_allclose(c.with_relu, W2 @ np.maximum(W1 @ x, 0))


def test_the_example_has_small_whole_numbers_and_the_relu_changes_it():
    ex = nl.collapse_example()
    c = nl.collapse(**ex)
    assert ex["W1"].shape == (3, 2) and ex["W2"].shape == (2, 3)
    assert all((np.round(v) == v).all() and np.abs(v).max() <= 3 for v in ex.values())
    assert c.same and c.relu_changes and (c.h < 0).any()
    np.testing.assert_array_equal(nl.collapse_example()["W1"], ex["W1"])


def test_relu_with_no_negative_hidden_value_changes_nothing():
    c = nl.collapse(np.eye(2), np.array([[1.0, 2.0]]), np.array([1.0, 3.0]))
    assert c.same and not c.relu_changes


@pytest.mark.parametrize("toy", nl.TOYS)
def test_a_relu_network_separates_what_a_linear_one_cannot(toy):
    r = nl.compare_toy(toy, n=160, steps=250, grid=30, seed=0)
    assert r.points.shape == (160, 2) and set(np.unique(r.labels)) == {0, 1}
    assert r.relu.accuracy >= 0.97
    assert r.linear.accuracy <= 0.8
    assert r.relu.regions.shape == (30, 30) and r.relu.xs.shape == r.relu.ys.shape == (30,)
    assert set(np.unique(r.relu.regions)) == {0, 1}
    assert r.relu.losses[-1] < r.relu.losses[0]


def test_the_linear_network_draws_a_straight_boundary():
    r = nl.compare_toy("circles", n=120, steps=100, grid=40, seed=1)
    # a linear map thresholded at p = 0.5 is a half-plane: along every grid row the class changes at most once
    changes = np.abs(np.diff(r.linear.regions, axis=1)).sum(axis=1)
    assert changes.max() <= 1
    # and the "linear" net really is one affine map: its logits are affine in (x, y)
    params = r.linear.params
    pts = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    logits = forward(pts, np.zeros((4, 2)), params, ("linear", "linear"))["a3"]
    np.testing.assert_allclose(logits[3] - logits[2], logits[1] - logits[0], atol=1e-12)


def test_the_toy_training_uses_gradients_that_match_autograd():
    params = nl.toy_params(hidden=5, seed=2)
    x, y = nl.toy_data("xor", n=30, seed=2)
    for kind in nl.KINDS:
        t = forward(x, one_hot(y, 2), params, (kind, kind))
        g = backward(t, (kind, kind))
        p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
        h = torch.tensor(x)
        for l in (1, 2, 3):
            h = h @ p[f"W{l}"] + p[f"b{l}"]
            if l < 3 and kind == "relu":
                h = torch.relu(h)
        torch.nn.functional.cross_entropy(h, torch.tensor(y)).backward()
        for k in params:
            np.testing.assert_allclose(g[f"d{k}"], p[k].grad.numpy(), atol=1e-12)


def test_adam_matches_torch():
    params = nl.toy_params(hidden=3, seed=0)
    grads = {k: np.random.default_rng(1).normal(size=v.shape) for k, v in params.items()}
    state: dict = {}
    mine = nl._adam(nl._adam(params, grads, state, lr=0.03), grads, state, lr=0.03)
    tp = [torch.tensor(v, requires_grad=True) for v in params.values()]
    opt = torch.optim.Adam(tp, lr=0.03)
    for _ in range(2):
        for p, g in zip(tp, grads.values()):
            p.grad = torch.tensor(g)
        opt.step()
    for (k, v), p in zip(mine.items(), tp):
        np.testing.assert_allclose(v, p.detach().numpy(), atol=1e-12)


def test_toys_are_seeded():
    a, b = nl.toy_data("spirals", seed=3), nl.toy_data("spirals", seed=3)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], nl.toy_data("spirals", seed=4)[0])
    r1 = nl.compare_toy("xor", n=40, steps=20, grid=5, seed=2)
    r2 = nl.compare_toy("xor", n=40, steps=20, grid=5, seed=2)
    np.testing.assert_array_equal(r1.relu.confidence, r2.relu.confidence)


def test_progress_is_reported_and_the_result_pickles():
    seen = []
    r = nl.compare_toy("xor", n=20, steps=5, grid=3, progress=seen.append)
    assert seen == [0.5, 1.0]
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(r)).relu.regions, r.relu.regions)


@pytest.mark.parametrize(("call", "key"), [
    (lambda: nl.collapse(np.ones((3, 2)), np.ones((2, 3)), np.ones(3)), "fc.error.collapse_shape"),
    (lambda: nl.collapse(np.ones((3, 2)), np.ones((2, 2)), np.ones(2)), "fc.error.collapse_shape"),
    (lambda: nl.collapse(np.ones((3, 2)), np.ones((2, 3)), [1, np.nan]), "fc.error.not_finite"),
    (lambda: nl.collapse(np.ones((17, 17)), np.ones((2, 17)), np.ones(17)), "fc.error.too_big"),
    (lambda: nl.collapse("a b", np.ones((2, 3)), np.ones(2)), "fc.error.not_numbers"),
    (lambda: nl.toy_data("moons"), "fc.error.option"),
    (lambda: nl.toy_data("xor", n=10**6), "fc.error.range"),
    (lambda: nl.toy_data("xor", noise=-1), "fc.error.range"),
    (lambda: nl.compare_toy("xor", grid=1000), "fc.error.range"),
    (lambda: nl.compare_toy("xor", hidden=0), "fc.error.range"),
    (lambda: nl.fit_toy(np.zeros((4, 2)), np.zeros(4, int), kind="tanh"), "fc.error.option"),
    (lambda: nl.toy_params(seed=-1), "fc.error.range"),
])
def test_refusals(call, key, translated):
    with pytest.raises(FCError) as err:
        call()
    assert err.value.key == key
    translated(err.value)
