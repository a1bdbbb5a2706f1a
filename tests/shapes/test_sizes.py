"""explorer.shapes.sizes against torch.nn as the oracle, and the lectures' worked examples."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest
import torch
from torch import nn

from explorer.shapes import sizes
from explorer.shapes.sizes import ShapeError, conv_output_exact, conv_output_size, pool_output_size


def torch_conv_size(n, k, s, p, d):
    """Output height of nn.Conv2d on a zero (1, 1, n, 1) input, or None if PyTorch refuses."""
    conv = nn.Conv2d(1, 1, (k, 1), stride=(s, 1), padding=(p, 0), dilation=(d, 1), bias=False)
    try:
        with torch.no_grad():
            return conv(torch.zeros(1, 1, n, 1)).shape[2]
    except RuntimeError:
        return None


def torch_pool_size(kind, n, k, s, p, d, ceil):
    layer = (nn.MaxPool2d((k, 1), stride=(s, 1), padding=(p, 0), dilation=(d, 1), ceil_mode=ceil) if kind == "max"
             else nn.AvgPool2d((k, 1), stride=(s, 1), padding=(p, 0), ceil_mode=ceil))
    try:
        return layer(torch.zeros(1, 1, n, 1)).shape[2]
    except RuntimeError:
        return None


def ours_or_none(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ShapeError:
        return None


@pytest.mark.parametrize("seed", range(4))
def test_conv_output_size_matches_torch_on_random_configurations(seed):
    rng = random.Random(seed)
    for _ in range(150):
        n, k, s = rng.randint(1, 40), rng.randint(1, 9), rng.randint(1, 5)
        p, d = rng.randint(0, 4), rng.randint(1, 3)
        expected = torch_conv_size(n, k, s, p, d)
        assert ours_or_none(conv_output_size, n, k, stride=s, padding=p, dilation=d) == expected, (n, k, s, p, d)
        if expected is not None:
            exact = conv_output_exact(n, k, stride=s, padding=p, dilation=d)
            assert math.floor(exact) == expected
            assert exact == Fraction(n + 2 * p - d * (k - 1) - 1, s) + 1


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("seed", range(3))
def test_pool_output_size_matches_torch_including_ceil_mode_and_dilation(kind, seed):
    rng = random.Random(100 + seed)
    checked_ceil_difference = False
    for _ in range(150):
        n, k, s = rng.randint(1, 30), rng.randint(1, 6), rng.randint(1, 4)
        p, d, ceil = rng.randint(0, 3), (rng.randint(1, 3) if kind == "max" else 1), rng.random() < 0.6
        expected = torch_pool_size(kind, n, k, s, p, d, ceil)
        ours = ours_or_none(pool_output_size, n, k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
        assert ours == expected, (kind, n, k, s, p, d, ceil)
        if ceil and expected is not None:
            floor = ours_or_none(pool_output_size, n, k, stride=s, padding=p, dilation=d)
            checked_ceil_difference |= floor is not None and floor != expected
    assert checked_ceil_difference  # ceil mode really differed somewhere


def test_ceil_mode_drops_a_window_that_would_start_in_the_padding():
    # 5 + 2 - 2 = 5 → ceil(5/2) + 1 = 4, but window 4 would start at 6 ≥ 5 + 1: PyTorch gives 3
    assert pool_output_size(5, 2, stride=2, padding=1, ceil_mode=True) == 3
    assert nn.MaxPool2d(2, 2, padding=1, ceil_mode=True)(torch.zeros(1, 1, 5, 5)).shape[-1] == 3


@pytest.mark.parametrize(("args", "expected"), [
    ((227, 11, 4, 0), 55),   # 예제 1
    ((64, 7, 2, 0), 29),     # 예제 2 (29.5)
    ((32, 5, 1, 2), 32),     # 예제 3
    ((32, 5, 1, 0), 28), ((64, 5, 1, 0), 60),   # 예제 4: 32x64, 5x5 → 28x60
    ((64, 3, 1, 1), 64), ((32, 3, 1, 1), 32),   # 예제 5: 64x32, pad 1 → 64x32
    ((7, 3, 1, 0), 5), ((7, 3, 2, 0), 3),
    ((28, 5, 3, 2), 10), ((31, 5, 3, 2), 11),   # (28, 31), P=2, S=3, F=5 → (10, 11)
    ((4, 3, 1, 1), 4),                           # 4x4, P=1, S=1, 3x3 → 4x4
    ((7, 3, 1, 1), 7),                           # 7x7 with 1-pixel border → 7x7
])
def test_lecture_worked_examples(args, expected):
    n, k, s, p = args
    assert conv_output_size(n, k, stride=s, padding=p) == expected
    assert torch_conv_size(n, k, s, p, 1) == expected


def test_non_integer_cases_are_explained():
    assert conv_output_exact(64, 7, stride=2) == Fraction(59, 2)  # 29.5
    fit = sizes.explain_fit(7, 3, stride=3)  # the lecture's "cannot"
    assert (fit.fits, fit.exact, fit.output, fit.remainder, fit.ignored_input) == (False, Fraction(7, 3), 2, 1, 1)
    assert fit.paddings[0] == (1, 3) and (2, 3) in fit.strides and (4, 2) in fit.strides
    fit = sizes.explain_fit(64, 7, stride=2)
    assert fit.paddings == ()  # 57 + 2P is always odd: no padding fits stride 2
    assert fit.ignored_input == 1 and (6, 30) in fit.kernels and (63, 29) in fit.sizes
    assert sizes.explain_fit(227, 11, stride=4).fits
    # padding absorbs the remainder first: nothing real is dropped
    fit = sizes.explain_fit(8, 3, stride=2, padding=1)
    assert fit.remainder == 1 and fit.ignored_input == 0


@pytest.mark.parametrize("seed", range(3))
def test_suggestions_really_fit_in_torch(seed):
    rng = random.Random(seed)
    for _ in range(40):
        n, k, s, p = rng.randint(3, 30), rng.randint(1, 5), rng.randint(2, 4), rng.randint(0, 2)
        try:
            fit = sizes.explain_fit(n, k, stride=s, padding=p)
        except ShapeError:
            continue
        for pad, out in fit.paddings:
            assert torch_conv_size(n, k, s, pad, 1) == out and sizes.explain_fit(n, k, stride=s, padding=pad).fits
        for stride, out in fit.strides:
            assert torch_conv_size(n, k, stride, p, 1) == out
        for kernel, out in fit.kernels:
            assert torch_conv_size(n, kernel, s, p, 1) == out
        for size, out in fit.sizes:
            assert torch_conv_size(size, k, s, p, 1) == out


@pytest.mark.parametrize(("call", "key"), [
    (lambda: conv_output_size(0, 3), "shapes.err.size"),
    (lambda: conv_output_size(-5, 3), "shapes.err.size"),
    (lambda: conv_output_size(7, 3, stride=0), "shapes.err.stride"),
    (lambda: conv_output_size(7, 0), "shapes.err.kernel"),
    (lambda: conv_output_size(7, 3, padding=-1), "shapes.err.padding"),
    (lambda: conv_output_size(7, 3, dilation=0), "shapes.err.dilation"),
    (lambda: conv_output_size(3, 5), "shapes.err.window"),
    (lambda: conv_output_size(3, 3, dilation=2), "shapes.err.window"),
    (lambda: conv_output_size("7", 3), "shapes.err.not_integer"),
    (lambda: conv_output_size(7.5, 3), "shapes.err.not_integer"),
    (lambda: conv_output_size(7, 3, stride=2, padding="same"), "shapes.err.same_stride"),
    (lambda: conv_output_size(7, 3, padding="half"), "shapes.err.not_integer"),
    (lambda: conv_output_size(10**7, 3), "shapes.err.size_too_large"),
    (lambda: pool_output_size(7, 2, padding=2), "shapes.err.pool_padding"),
    (lambda: pool_output_size(7, 3, padding="same"), "shapes.err.pool_same"),
])
def test_impossible_configurations_raise_a_translatable_value_error(call, key):
    with pytest.raises(ValueError) as info:
        call()
    assert isinstance(info.value, ShapeError) and info.value.key == key
    assert "shapes.err" not in str(info.value)  # the message is a sentence, not a key


def test_same_padding_keeps_the_size_like_torch():
    for k, d in [(3, 1), (5, 1), (3, 2), (1, 1)]:
        assert conv_output_size(9, k, padding="same", dilation=d) == 9
        assert nn.Conv2d(1, 1, k, padding="same", dilation=d)(torch.zeros(1, 1, 9, 9)).shape[-1] == 9


def test_formula_latex_fills_in_the_numbers():
    text = sizes.formula_latex(64, 7, stride=2)
    assert "64 + 2\\cdot0 - 1\\cdot(7-1) - 1" in text and "28.5" in text and text.endswith("= 29")
    assert sizes.formula_latex(7, 2, stride=2, ceil_mode=True).endswith("= 4")
    assert "\\lceil" in sizes.formula_latex(7, 2, stride=2, ceil_mode=True)


@pytest.mark.parametrize("ex", sizes.WORKED_EXAMPLES, ids=lambda e: f"{e.h}x{e.w}-k{e.kh}-s{e.stride}-p{e.padding}")
def test_worked_examples_table_agrees_with_torch(ex):
    conv = nn.Conv2d(1, 1, (ex.kh, ex.kw), stride=ex.stride, padding=ex.padding)
    assert tuple(conv(torch.zeros(1, 1, ex.h, ex.w)).shape[2:]) == ex.answer
    assert (conv_output_size(ex.h, ex.kh, stride=ex.stride, padding=ex.padding),
            conv_output_size(ex.w, ex.kw, stride=ex.stride, padding=ex.padding)) == ex.answer


def test_calculator_gives_both_axes_like_torch():
    result = sizes.calculate((32, 64), (5, 5))  # 예제 4
    assert (result["h"][0], result["w"][0]) == (28, 60)
    result = sizes.calculate((7, 9), (2, 2), stride=2, op="maxpool", ceil_mode=True)
    pool = nn.MaxPool2d(2, 2, ceil_mode=True)(torch.zeros(1, 1, 7, 9))
    assert (result["h"][0], result["w"][0]) == tuple(pool.shape[2:]) == (4, 5)
    assert "\\lceil" in result["h"][1] and not result["h"][2].fits
    assert sizes.calculate((9, 9), (4, 4), padding="same")["w"][0] == 9
    assert sizes.parse_padding(" Same ") == "same" and sizes.parse_padding("2") == 2
    for kwargs, key in [({"op": "avgpool", "dilation": 2}, "shapes.err.avgpool_dilation"),
                        ({"op": "softmax"}, "shapes.err.unknown_kind"),
                        ({"op": "maxpool", "padding": "same"}, "shapes.err.pool_same")]:
        with pytest.raises(ShapeError) as info:
            sizes.calculate((8, 8), (3, 3), **kwargs)
        assert info.value.key == key


def test_typed_shapes_parse_and_print():
    assert sizes.parse_shape("1×28×28", "C×H×W") == (1, 28, 28)
    assert sizes.parse_shape(" 3 x 32 x 32 ", "C×H×W") == (3, 32, 32)
    assert sizes.parse_shape("3136", "C×H×W") == (3136,)
    with pytest.raises(ShapeError) as info:
        sizes.parse_shape("one×28×28", "C×H×W")
    assert info.value.key == "shapes.err.not_integer" and info.value.params["what"] == "C×H×W"
    assert sizes.shape_text((64, 7, 7)) == "64×7×7" and sizes.shape_text((10,)) == "10"
    assert sizes.shape_text(None) == "" and sizes.shape_text(()) == ""
    assert sizes.parse_shape(sizes.shape_text((1, 28, 28)), "C×H×W") == (1, 28, 28)

