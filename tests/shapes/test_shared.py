"""explorer.shapes.shared: the convolution drawn as shared-weight edges, checked by PyTorch."""

from __future__ import annotations

import pytest
from torch import nn

from explorer.shapes import ShapeError, shared


@pytest.mark.parametrize(("n", "k", "stride"), [(5, 3, 1), (7, 3, 2), (4, 4, 1), (6, 2, 2), (3, 1, 1)])
def test_edges_equal_pytorch_s(n, k, stride):
    g = shared.conv_layer(n, k, stride=stride)
    assert set(g.edges) == shared.torch_edges(n, k, stride=stride)
    assert len(g.edges) == g.outputs * k * k and len({e.weight for e in g.edges}) == k * k


def test_the_slide_s_5x5_and_3x3_give_9_outputs_not_16():
    g = shared.conv_layer(5, 3)
    assert (g.out, g.outputs, len(g.edges), g.fc_edges) == (3, 9, 81, 225)
    assert sum(p.numel() for p in nn.Conv2d(1, 1, 3, device="meta").parameters()) == 3 * 3 + 1
    assert sum(p.numel() for p in nn.Linear(25, 9, device="meta").parameters()) == g.fc_edges + g.outputs
    first = [e for e in g.edges if e.target == 1]  # output 1 reads input nodes 1-3, 6-8, 11-13 with W1…W9
    assert [(e.source, e.weight) for e in first] == [(1, 1), (2, 2), (3, 3), (6, 4), (7, 5), (8, 6), (11, 7),
                                                     (12, 8), (13, 9)]


@pytest.mark.parametrize(("n", "k", "key"), [(8, 3, "shapes.err.shared_size"), (5, 6, "shapes.err.shared_kernel"),
                                             (3, 4, "shapes.err.window")])
def test_sizes_outside_the_drawing_are_refused(n, k, key):
    with pytest.raises(ShapeError) as info:
        shared.conv_layer(n, k)
    assert info.value.key == key
