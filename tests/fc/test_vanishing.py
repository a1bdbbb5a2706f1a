"""Per-layer gradient norms against an independent float64 torch computation, and the vanishing gradient
the lectures describe (seed 001 ~L644–669): deep sigmoid stacks starve their first layers, ReLU with He
initialisation and batch normalisation do not."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from explorer.core.data import load_embedded
from explorer.fc import vanishing as van
from explorer.fc.checks import FCError

ACT = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
       "leaky_relu": lambda h: F.leaky_relu(h, 0.01)}


def _independent_weights(depth: int, width: int, init: str, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The same draws, restated: one generator, layers in order, weight then bias."""
    gen = torch.Generator().manual_seed(seed)
    sizes = [784] + [width] * depth + [10]
    out = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        W, b = torch.empty(fan_out, fan_in), torch.empty(fan_out)
        if init == "default":
            nn.init.kaiming_uniform_(W, a=math.sqrt(5), generator=gen)
            nn.init.uniform_(b, -1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in), generator=gen)
        elif init == "xavier":
            nn.init.xavier_uniform_(W, generator=gen)
            b.zero_()
        else:
            nn.init.kaiming_normal_(W, nonlinearity="relu", generator=gen)
            b.zero_()
        out.append((W.double().requires_grad_(), b.double().requires_grad_()))
    return out


def _independent_norms(depth, *, activation, init, seed, batchnorm=False, width=van.WIDTH) -> list[float]:
    layers = _independent_weights(depth, width, init, seed)
    data = load_embedded("train")
    pick = torch.randperm(len(data.labels), generator=torch.Generator().manual_seed(seed))[:van.BATCH]
    h = data.images[pick].reshape(van.BATCH, -1).double()
    for W, b in layers[:-1]:
        h = F.linear(h, W, b)
        if batchnorm:
            h = (h - h.mean(0)) / torch.sqrt(h.var(0, unbiased=False) + 1e-5)
        h = ACT[activation](h)
    loss = F.cross_entropy(F.linear(h, *layers[-1]), data.labels[pick])
    grads = torch.autograd.grad(loss, [W for W, _ in layers])
    return [float(g.norm()) for g in grads]


@pytest.mark.parametrize(("activation", "init", "batchnorm"), [
    ("sigmoid", "default", False), ("relu", "he", False), ("tanh", "xavier", False),
    ("leaky_relu", "default", False), ("sigmoid", "xavier", True), ("relu", "default", True)])
def test_norms_match_an_independent_float64_computation(activation, init, batchnorm):
    got = van.gradient_norms(4, activation=activation, init=init, seed=3, batchnorm=batchnorm, width=16)
    expected = _independent_norms(4, activation=activation, init=init, seed=3, batchnorm=batchnorm, width=16)
    assert len(got) == 5
    np.testing.assert_allclose(got, expected, rtol=2e-4, atol=1e-12)


def test_the_default_width_and_depth_match_too():
    got = van.gradient_norms(8, activation="sigmoid", init="xavier", seed=0)
    np.testing.assert_allclose(got, _independent_norms(8, activation="sigmoid", init="xavier", seed=0), rtol=2e-4)


def test_the_vanishing_gradient_is_seen():
    sig = van.gradient_norms(10, activation="sigmoid")
    relu_he = van.gradient_norms(10, activation="relu", init="he")
    sig_bn = van.gradient_norms(10, activation="sigmoid", batchnorm=True)
    assert sig[0] / sig[-1] < 1e-4  # the first layer of a 10-layer sigmoid stack gets almost nothing
    assert all(b > a for a, b in zip(sig, sig[1:]))  # and it shrinks layer by layer going back
    assert 0.1 < relu_he[0] / relu_he[-1] < 10  # ReLU + He keeps it
    assert sig_bn[0] / sig_bn[-1] > 0.1  # batch normalisation rescues even the sigmoid


def test_profile_rows_are_steps_and_row_zero_is_gradient_norms():
    seen = []
    p = van.gradient_profile(3, activation="relu", init="he", steps=4, lr=0.05, progress=seen.append)
    assert p.norms.shape == (5, 4) and p.losses.shape == (5,) and p.spread.shape == (5, 3)
    np.testing.assert_allclose(p.norms[0], van.gradient_norms(3, activation="relu", init="he"), rtol=1e-6)
    assert p.losses[-1] < p.losses[0]
    assert seen[-1] == 1.0 and len(seen) == 5
    assert p.ratio == pytest.approx(p.norms[0, 0] / p.norms[0, -1])
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(p)).norms, p.norms)


def test_compare_profiles_runs_each_activation_on_the_same_stack():
    seen = []
    profiles = van.compare_profiles(2, activations=("sigmoid", "relu"), init="xavier", steps=1, progress=seen.append)
    assert [p.activation for p in profiles] == ["sigmoid", "relu"]
    for p in profiles:
        alone = van.gradient_profile(2, activation=p.activation, init="xavier", steps=1)
        np.testing.assert_allclose(p.norms, alone.norms, rtol=1e-6)
    assert seen == sorted(seen) and seen[-1] == 1.0 and 0.5 in seen
    assert pickle.loads(pickle.dumps(profiles))[1].init == "xavier"


def test_the_batch_is_real_seeded_digits():
    x, y = van.mnist_batch(seed=4)
    x2, _ = van.mnist_batch(seed=4)
    assert x.shape == (100, 1, 28, 28) and torch.equal(x, x2) and 0 <= int(y.min()) and int(y.max()) <= 9
    assert not torch.equal(van.mnist_batch(seed=5)[0], x)
    x[:] = 0  # a copy: the cached digits are not changed
    assert van.mnist_batch(seed=4)[0].any()


@pytest.mark.parametrize(("call", "key"), [
    (lambda: van.gradient_norms(0, activation="relu"), "fc.error.range"),
    (lambda: van.gradient_norms(31, activation="relu"), "fc.error.range"),
    (lambda: van.gradient_norms(3, activation="softmax"), "fc.error.option"),
    (lambda: van.gradient_norms(3, activation="relu", init="zeros"), "fc.error.option"),
    (lambda: van.gradient_norms(3, activation="relu", width=0), "fc.error.range"),
    (lambda: van.gradient_profile(3, activation="relu", steps=51), "fc.error.range"),
    (lambda: van.gradient_profile(3, activation="relu", lr=float("nan")), "fc.error.not_finite"),
    (lambda: van.gradient_norms("deep", activation="relu"), "fc.error.not_integer"),
    (lambda: van.compare_profiles(2, activations=()), "fc.error.option"),
    (lambda: van.compare_profiles(21 * 2, activations=("relu",)), "fc.error.range"),
])
def test_refusals(call, key, translated):
    with pytest.raises(FCError) as err:
        call()
    assert err.value.key == key
    translated(err.value)
