"""explorer.shapes.transposed: ConvTranspose2d's output size, with PyTorch as the oracle."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from explorer.shapes import ShapeError, conv_output_size, conv_transpose_output_size
from explorer.shapes import transposed as tp


def _torch(n, k, **options) -> int:
    layer = nn.ConvTranspose2d(1, 1, (k, 1), stride=(options["stride"], 1), padding=(options["padding"], 0),
                               output_padding=(options["output_padding"], 0), dilation=(options["dilation"], 1))
    return layer(torch.zeros(1, 1, n, 1)).shape[2]  # on the CPU: the meta device skips the output_padding check


CASES = list(itertools.product([1, 2, 5], [1, 3, 4], [1, 2, 3], [0, 1, 2], [0, 1, 2], [1, 2]))


@pytest.mark.parametrize(("n", "k", "stride", "padding", "output_padding", "dilation"), CASES)
def test_output_size_equals_pytorch_or_both_refuse(n, k, stride, padding, output_padding, dilation):
    options = {"stride": stride, "padding": padding, "output_padding": output_padding, "dilation": dilation}
    try:
        expected = _torch(n, k, **options)
    except RuntimeError:
        with pytest.raises(ShapeError) as info:
            conv_transpose_output_size(n, k, **options)
        assert info.value.key in ("shapes.err.output_padding", "shapes.err.transpose_empty")
        assert str(info.value)  # the user-facing message (English)
        return
    assert conv_transpose_output_size(n, k, **options) == expected


@pytest.mark.parametrize(("args", "key"), [
    ((0, 3), "shapes.err.size"), ((4, 0), "shapes.err.kernel"), ((4, 3, 0), "shapes.err.stride"),
    ((4, 3, 1, -1), "shapes.err.padding"), ((4, 3, 2, 0, 2), "shapes.err.output_padding"),
    ((4, 3, 1, 0, -1), "shapes.err.output_padding"), ((4, 3, 1, 0, 0, 0), "shapes.err.dilation"),
    ((10**7, 3), "shapes.err.size_too_large"), (("four", 3), "shapes.err.not_integer"),
    ((1, 1, 1, 1), "shapes.err.transpose_empty"),
])
def test_impossible_settings_raise_with_a_message(args, key):
    names = ("n", "k", "stride", "padding", "output_padding", "dilation")
    kwargs = dict(zip(names[2:], args[2:]))
    with pytest.raises(ShapeError) as info:
        conv_transpose_output_size(*args[:2], **kwargs)
    assert info.value.key == key and isinstance(info.value, ValueError)


@pytest.mark.parametrize(("n", "k", "stride", "padding"), [(5, 3, 2, 0), (6, 3, 2, 0), (7, 3, 2, 1), (28, 5, 3, 2)])
def test_output_padding_undoes_a_convolution_s_shape(n, k, stride, padding):
    o, op = tp.undo(n, k, stride=stride, padding=padding)
    assert o == conv_output_size(n, k, stride=stride, padding=padding)
    assert conv_transpose_output_size(o, k, stride=stride, padding=padding, output_padding=op) == n
    assert n in tp.inputs_with_output(o, k, stride=stride, padding=padding)
    for m in tp.inputs_with_output(o, k, stride=stride, padding=padding):
        assert conv_output_size(m, k, stride=stride, padding=padding) == o


def test_formula_has_the_numbers_filled_in():
    assert tp.transpose_formula_latex(2, 3, stride=2) == "O = (2 - 1)\\cdot2 - 2\\cdot0 + 1\\cdot(3 - 1) + 0 + 1 = 5"
