"""The lectures' parameter comparisons, with PyTorch counting where a layer exists."""

import pytest
from torch import nn

from explorer.shapes import compare as cmp


def test_fully_vs_locally_connected_vs_convolutional():
    c = cmp.connectivity()
    assert (c.fully_connected, c.locally_connected, c.convolutional) == (1_600_000_000, 4_000_000, 10_000)
    assert cmp.connectivity(image=20, hidden=400, filter_size=3, filters=5).convolutional == 45
    conv = nn.Conv2d(1, 100, 10, bias=False, device="meta")
    assert sum(p.numel() for p in conv.parameters()) == c.convolutional
    with pytest.raises(ValueError):
        cmp.connectivity(image=0)


def test_fc_net_of_the_16x16_example():
    layers = cmp.fc_net((256, 100, 26))
    assert layers == [(25_600, 100), (2_600, 26)]
    net = nn.Sequential(nn.Linear(256, 100), nn.Linear(100, 26))
    assert sum(p.numel() for p in net.parameters()) == sum(w + b for w, b in layers) == 28_326


def test_ten_5x5_filters_on_32x32x3():
    assert cmp.conv_layer_params() == 760
    assert sum(p.numel() for p in nn.Conv2d(3, 10, 5, padding=2).parameters()) == 760


@pytest.mark.parametrize(("layers", "stacked", "single", "rf"), [(2, 18, 25, 5), (3, 27, 49, 7), (1, 9, 9, 3)])
def test_stacked_3x3_vs_one_big_filter(layers, stacked, single, rf):
    s = cmp.stacked_vs_single(layers)
    assert (s.stacked_params, s.single_params, s.receptive_field) == (stacked, single, rf)
    assert cmp.torch_stack_check(layers) == (stacked, rf)


def test_worked_counts_as_latex():
    assert cmp.fc_net_latex() == ("256\\cdot100 + 100\\cdot26 + 100 + 26 = 25{,}600 + 2{,}600 + 100 + 26"
                                  " = 28{,}326")
    assert cmp.fc_net_latex((4, 3)) == "4\\cdot3 + 3 = 12 + 3 = 15"
    assert cmp.conv_layer_latex() == "(5\\cdot5\\cdot3 + 1)\\cdot10 = 760"
    conv = nn.Conv2d(1, 6, 5)
    assert cmp.conv_layer_latex(in_channels=1, kernel=5, filters=6).endswith(
        f"= {sum(p.numel() for p in conv.parameters())}")
