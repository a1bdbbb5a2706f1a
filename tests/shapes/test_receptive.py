"""explorer.shapes.receptive: receptive-field boxes against PyTorch's input gradient; the effective field."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.shapes import ShapeError
from explorer.shapes import receptive as rf
from explorer.shapes.network import Layer, conv, pool


@pytest.mark.parametrize("name", sorted(rf.NETWORKS))
def test_every_box_equals_the_gradient_support_in_pytorch(name):
    shape, layers = rf.NETWORKS[name]
    rng = np.random.default_rng(len(name))
    for index, _, (_, oh, ow) in rf.spatial_layers(name):
        for row, col in [(0, 0), (oh - 1, ow - 1), (int(rng.integers(oh)), int(rng.integers(ow)))]:
            box = rf.receptive_box(layers, shape, index, row, col)
            assert box.clipped(shape[1], shape[2]) == rf.torch_box(layers, shape, index, row, col)
            assert rf.checked(name, index, row, col)


def test_the_seed_cnn_s_pool2_unit_sees_a_10x10_box():
    shape, layers = rf.NETWORKS["seed_mnist_cnn"]
    box = rf.receptive_box(layers, shape, 5, 3, 4)
    assert box.size == (10, 10) and (box.top, box.left) == (9, 13)
    corner = rf.receptive_box(layers, shape, 5, 0, 0)
    assert (corner.top, corner.left) == (-3, -3) and corner.clipped(28, 28).size == (7, 7)  # 3 rows of padding


def test_dilation_stride_and_same_padding():
    layers = (conv(1, 3, padding="same", dilation=2), pool(2), conv(1, 3, stride=2, padding=1))
    shape = (1, 20, 20)
    for row, col in [(0, 0), (2, 3), (4, 4)]:
        box = rf.receptive_box(layers, shape, 2, row, col)
        assert box.clipped(20, 20) == rf.torch_box(layers, shape, 2, row, col)
    assert rf.receptive_box(layers, shape, 0, 5, 5).size == (5, 5)


def test_a_unit_outside_the_layer_is_refused():
    shape, layers = rf.NETWORKS["lenet5"]
    with pytest.raises(ShapeError) as info:
        rf.receptive_box(layers, shape, 5, 5, 0)
    assert info.value.key == "shapes.err.unit"
    with pytest.raises(ShapeError):
        rf.effective_rf(5, 7, 0, images=torch.zeros(1, 1, 28, 28))
    with pytest.raises(ShapeError):
        rf.receptive_box((Layer("flatten"),), (1, 4, 4), 0, 0, 0)


def test_effective_field_is_the_mean_gradient_and_zero_outside_the_box():
    model, digits = rf._bundled()
    images = digits[:8]
    erf = rf.effective_rf(3, 5, 6, images=images)
    x = images.clone().requires_grad_(True)
    total = torch.zeros(28, 28)
    for i in range(len(images)):  # one image at a time: the batch must not mix images
        (g,) = torch.autograd.grad(model.features[:4](x[i:i + 1])[0, :, 5, 6].sum(), x)
        total += g[i, 0].abs()
    np.testing.assert_allclose(erf, (total / len(images)).numpy(), rtol=1e-5, atol=1e-8)
    box = rf.receptive_box(rf.NETWORKS["seed_mnist_cnn"][1], (1, 28, 28), 3, 5, 6).clipped(28, 28)
    outside = np.ones((28, 28), dtype=bool)
    outside[box.top:box.bottom + 1, box.left:box.right + 1] = False
    assert erf[outside].max() == 0 and erf[~outside].max() > 0
    cached = rf.bundled_erf(3, 5, 6)
    assert cached.shape == (28, 28) and not cached.flags.writeable
