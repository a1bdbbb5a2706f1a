"""explorer.shapes.grouped: parameters and MACs of grouped / depthwise-separable convolutions, by PyTorch."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from explorer.shapes import ShapeError, conv_macs, conv_params
from explorer.shapes import grouped as gp


@pytest.mark.parametrize(("c_in", "c_out", "k", "groups", "bias"), [
    (64, 128, 3, 1, True), (64, 128, 3, 4, True), (64, 64, 3, 64, True), (64, 128, 1, 1, False),
    (6, 9, (3, 5), 3, True),
])
def test_parameters_and_macs_equal_pytorch(c_in, c_out, k, groups, bias):
    module = nn.Conv2d(c_in, c_out, k, groups=groups, bias=bias, device="meta")
    assert conv_params(c_in, c_out, k, groups=groups, bias=bias) == sum(p.numel() for p in module.parameters())
    params, macs = gp.torch_counts(c_in, c_out, k, groups=groups, out_h=7, out_w=5)
    assert conv_macs(c_in, c_out, k, groups=groups, out_h=7, out_w=5) == macs
    assert params == conv_params(c_in, c_out, k, groups=groups)


def test_the_lesson_s_numbers_64_to_128():
    s = gp.separable(64, 128, 3, out_h=56, out_w=56)
    assert (s.standard_params, s.depthwise_params, s.pointwise_params, s.separable_params) == (73_856, 640, 8_320,
                                                                                              8_960)
    assert s.standard_macs == 231_211_008 and s.separable_macs == 1_806_336 + 25_690_112
    assert abs(s.separable_macs / s.standard_macs - (1 / 128 + 1 / 9)) < 1e-12
    with torch.device("meta"):  # no random weights: only the parameter count is read
        separable = nn.Sequential(nn.Conv2d(64, 64, 3, groups=64), nn.Conv2d(64, 128, 1))
    assert sum(p.numel() for p in separable.parameters()) == 8_960


def test_valid_groups_and_the_connection_grid():
    assert gp.valid_groups(64, 128) == [1, 2, 4, 8, 16, 32, 64]
    assert gp.valid_groups(6, 9) == [1, 3]
    grid = gp.connections(4, 6, 2)
    assert grid[0] == [1, 1, 0, 0] and grid[5] == [0, 0, 1, 1]
    weights = torch.ones(6, 2, 1, 1)  # what nn.Conv2d(4, 6, 1, groups=2) reads: feed one channel at a time
    for c in range(4):
        x = torch.zeros(1, 4, 1, 1)
        x[0, c] = 1
        seen = torch.nn.functional.conv2d(x, weights, groups=2)[0, :, 0, 0]
        assert seen.tolist() == [float(row[c]) for row in grid]


@pytest.mark.parametrize(("call", "key"), [
    (lambda: conv_params(64, 128, 3, groups=3), "shapes.err.groups"),
    (lambda: conv_params(64, 100, 3, groups=8), "shapes.err.groups"),
    (lambda: conv_params(0, 128, 3), "shapes.err.positive"),
    (lambda: conv_params(64, 128, 0), "shapes.err.positive"),
    (lambda: conv_params(10**5, 128, 3), "shapes.err.size_too_large"),
    (lambda: conv_params("many", 128, 3), "shapes.err.not_integer"),
    (lambda: conv_macs(64, 128, 3, out_h=0, out_w=4), "shapes.err.positive"),
])
def test_impossible_settings_raise_with_a_message(call, key):
    with pytest.raises(ShapeError) as info:
        call()
    assert info.value.key == key and str(info.value)
