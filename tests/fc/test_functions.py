"""Activation functions and their derivatives against torch autograd (float64)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from explorer.fc import functions as fn
from explorer.fc.checks import FCError

TORCH = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
         "leaky_relu": lambda z: F.leaky_relu(z, fn.LEAKY_SLOPE)}


@pytest.mark.parametrize("name", fn.FUNCTIONS)
def test_values_and_derivatives_match_autograd(name):
    z = np.concatenate([np.random.default_rng(0).normal(0, 4, 200), [-800.0, -1.0, 0.0, 1.0, 800.0]])
    zt = torch.tensor(z, requires_grad=True)
    out = TORCH[name](zt)
    out.sum().backward()
    np.testing.assert_allclose(fn.value(name, z), out.detach().numpy(), atol=1e-15)
    np.testing.assert_allclose(fn.derivative(name, z), zt.grad.numpy(), atol=1e-15)


def test_curves_show_the_sigmoid_slope_is_at_most_a_quarter():
    got = {c.name: c for c in fn.curves(points=241)}
    assert set(got) == set(fn.FUNCTIONS)
    assert got["sigmoid"].max_slope == pytest.approx(0.25)
    assert got["tanh"].max_slope == pytest.approx(1.0) and got["relu"].max_slope == 1.0
    assert got["relu"].df[got["relu"].z < 0].max() == 0 and got["leaky_relu"].df.min() == fn.LEAKY_SLOPE
    assert got["sigmoid"].z.shape == got["sigmoid"].f.shape == (241,)


def test_the_chain_of_ten_sigmoids_leaves_a_millionth():
    assert fn.chain_factor("sigmoid", 10) == pytest.approx(0.25 ** 10) and fn.chain_factor("sigmoid", 10) < 1e-6
    assert fn.chain_factor("relu", 20) == 1.0


@pytest.mark.parametrize(("call", "key"), [
    (lambda: fn.value("swish", np.zeros(2)), "fc.error.option"),
    (lambda: fn.curves(lo=1, hi=1), "fc.error.interval"),
    (lambda: fn.curves(points=10**6), "fc.error.range"),
    (lambda: fn.curves(lo=float("nan")), "fc.error.not_finite"),
    (lambda: fn.chain_factor("relu", -1), "fc.error.range"),
])
def test_refusals(call, key, translated):
    with pytest.raises(FCError) as err:
        call()
    assert err.value.key == key
    translated(err.value)
