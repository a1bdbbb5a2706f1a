"""explorer.backprop.symbolic: the slide's sums of symbols, evaluated on numbers, against torch autograd."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.backprop import input_grad as ig
from explorer.backprop import symbolic as sy
from explorer.backprop.toy import BackpropInputError


def test_the_slide_s_shared_weight_gradient():
    lay = sy.layout(3, 3, 2, 2)
    assert sy.weight_latex(lay, 1, 1, ones=True) == (
        r"\frac{\partial P}{\partial w_{11}} = x_{11} + x_{12} + x_{21} + x_{22}")
    assert sy.output_latex(lay, 1, 1) == r"y_{11} = x_{11}\,w_{11} + x_{12}\,w_{12} + x_{21}\,w_{21} + x_{22}\,w_{22}"
    assert sy.input_latex(lay, 2, 2).count(r"\delta") == 4  # the centre is in all four windows


@pytest.mark.parametrize(("h", "w", "kh", "kw"), [(3, 3, 2, 2), (4, 5, 2, 3), (6, 6, 4, 1), (2, 2, 2, 2)])
def test_every_sum_equals_autograd_on_random_numbers(h, w, kh, kw):
    lay = sy.layout(h, w, kh, kw)
    rng = np.random.default_rng(h * 10 + w)
    x, k, d = rng.normal(size=(h, w)), rng.normal(size=(kh, kw)), rng.normal(size=lay.out)
    gx, gw = ig.torch_gradients(x, k, d)
    for a in range(1, kh + 1):
        for b in range(1, kw + 1):
            assert sy.evaluate(sy.weight_terms(lay, a, b), d, x) == pytest.approx(gw[a - 1, b - 1])
    for r in range(1, h + 1):
        for c in range(1, w + 1):
            assert sy.evaluate(sy.input_terms(lay, r, c), d, k) == pytest.approx(gx[r - 1, c - 1])
    y = sum(x[i - 1, j - 1] * k[a - 1, b - 1] for (i, j), (a, b) in sy.output_terms(lay, 1, 1))
    assert y == pytest.approx(float(np.sum(x[:kh, :kw] * k)))


def test_symbols_and_bad_layouts():
    assert sy.symbols("x", 2, 3) == [["x11", "x12", "x13"], ["x21", "x22", "x23"]]
    for args in [(3, 3, 4, 1), (0, 3, 1, 1), (7, 3, 1, 1), (3, 3, 1, 5)]:
        with pytest.raises(BackpropInputError):
            sy.layout(*args)
