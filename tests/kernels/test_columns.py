"""explorer.kernels.columns (im2col) against F.unfold and F.conv2d (float64) as the oracles."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from explorer.kernels import KernelError, im2col
from explorer.kernels import columns as cols
from explorer.kernels.stepthrough import EXAMPLES


@pytest.mark.parametrize("seed", range(30))
def test_im2col_is_unfold_transposed_and_the_product_is_conv2d(seed):
    rng = np.random.default_rng(seed)
    c, kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
    h, w = int(rng.integers(kh, 8)), int(rng.integers(kw, 8))
    stride, padding = int(rng.integers(1, 3)), int(rng.integers(0, 2))
    x = rng.normal(size=(c, h, w))
    expected = F.unfold(torch.tensor(x)[None], (kh, kw), stride=stride, padding=padding)[0].T.numpy()
    np.testing.assert_allclose(im2col(x, kh, kw, stride=stride, padding=padding), expected)
    filters, bias = rng.normal(size=(2, c, kh, kw)), rng.normal(size=2)
    p = cols.conv_as_product(x, filters, stride=stride, padding=padding, bias=bias)
    y = F.conv2d(torch.tensor(x)[None], torch.tensor(filters), torch.tensor(bias), stride=stride, padding=padding)
    np.testing.assert_allclose(p.output, y[0].numpy(), atol=1e-12)
    assert p.cols.shape == (p.output.shape[1] * p.output.shape[2], c * kh * kw) and p.weights.shape == (c * kh * kw, 2)


def test_one_channel_matrices_and_the_lectures_4x4():
    ex = EXAMPLES["padded_4x4"]
    assert im2col(ex.matrix, 3, 3).shape == (4, 9)  # 2×2 windows of 9 values
    p = cols.conv_as_product(ex.matrix, ex.kernel)
    assert p.output[0].tolist() == [[15, 16], [6, 15]]  # seed 001 without padding
    padded = cols.conv_as_product(ex.matrix, ex.kernel, padding=1)
    np.testing.assert_array_equal(padded.output[0], ex.expected)  # the slide's 7 12 10 2 / …
    assert padded.cols.shape == (16, 9)


def test_column_labels_follow_channel_then_row_then_column():
    assert cols.column_labels(1, 2, 2) == ["x[0,0]", "x[0,1]", "x[1,0]", "x[1,1]"]
    assert cols.column_labels(2, 1, 2) == ["x[0,0,0]", "x[0,0,1]", "x[1,0,0]", "x[1,0,1]"]


@pytest.mark.parametrize(("call", "key"), [
    (lambda: im2col(np.ones((2, 2)), 3, 3), "kernels.error.image_smaller_than_kernel"),
    (lambda: im2col(np.ones((4, 4)), 2, 2, stride=0), "kernels.error.stride"),
    (lambda: im2col(np.ones((4, 4)), 2, 2, padding=-1), "kernels.error.padding"),
    (lambda: im2col(np.ones((4, 4)), 0, 2), "kernels.error.kernel_size"),
    (lambda: im2col(np.ones((1, 1, 4, 4)), 2, 2), "kernels.error.block_shape"),
    (lambda: im2col(np.ones((100, 100)), 3, 3), "kernels.error.block_too_large"),
    (lambda: cols.conv_as_product(np.ones((3, 4, 4)), np.ones((1, 2, 3, 3))), "kernels.error.depth"),
])
def test_bad_shapes_are_refused(call, key):
    with pytest.raises(KernelError) as info:
        call()
    assert info.value.key == key
