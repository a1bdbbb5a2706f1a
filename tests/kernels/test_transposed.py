"""explorer.kernels.transposed against torch.nn.functional.conv_transpose2d (float64) as the oracle."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from explorer.core.i18n import catalog
from explorer.kernels import KernelError, conv_transpose
from explorer.kernels import transposed as tr


def _torch(x, k, **options):
    return F.conv_transpose2d(torch.tensor(x)[None, None], torch.tensor(k)[None, None], **options)[0, 0].numpy()


def _case(rng):
    x = rng.integers(-5, 6, size=tuple(rng.integers(1, 6, size=2))).astype(float)
    k = rng.normal(size=tuple(rng.integers(1, 5, size=2)))
    stride = int(rng.integers(1, 4))
    options = {"stride": stride, "padding": int(rng.integers(0, 3)), "output_padding": int(rng.integers(0, stride))}
    return x, k, options


@pytest.mark.parametrize("seed", range(40))
def test_scatter_stamps_and_as_convolution_all_equal_torch(seed):
    rng = np.random.default_rng(seed)
    x, k, options = _case(rng)
    try:
        expected = _torch(x, k, **options)
    except RuntimeError:  # torch refuses (empty output): so do we
        with pytest.raises(KernelError) as info:
            conv_transpose(x, k, **options)
        assert info.value.key == "kernels.error.transpose_empty"
        return
    np.testing.assert_allclose(conv_transpose(x, k, **options), expected, atol=1e-12)
    np.testing.assert_allclose(tr.as_convolution(x, k, **options).output, expected, atol=1e-12)
    stamps = tr.stamps(x, k, **options)
    assert len(stamps) == x.size
    np.testing.assert_allclose(stamps[-1].partial, expected, atol=1e-12)


def test_the_default_lesson_example():
    x, k = np.array([[1.0, 2], [3, 4]]), np.array([[2.0, 0, 1], [0, 1, 2], [1, 0, 2]])
    out = conv_transpose(x, k, stride=2)
    assert out.shape == (5, 5)  # (2 - 1)·2 + 3 = 5: the shape a 5×5 → 2×2 convolution came from
    assert out[2, 2] == 1 * 2 + 2 * 1 + 3 * 1 + 4 * 2  # the four stamps overlap in the centre
    conv = tr.as_convolution(x, k, stride=2)
    assert conv.canvas.shape == (7, 7) and conv.border == 2
    assert (conv.codes == tr.INPUT).sum() == 4 and (conv.codes == tr.INSERTED).sum() == 9 - 4
    np.testing.assert_array_equal(conv.flipped, k[::-1, ::-1])


def test_stamps_record_where_each_input_value_lands():
    x, k = np.array([[1.0, 2], [3, 4]]), np.ones((3, 3))
    stamps = tr.stamps(x, k, stride=2, padding=1)
    assert [(s.row, s.col, s.top, s.left) for s in stamps] == [(0, 0, -1, -1), (0, 1, -1, 1), (1, 0, 1, -1),
                                                               (1, 1, 1, 1)]
    assert stamps[0].partial.sum() == 4  # the 3×3 stamp of 1, cropped by the padding to 2×2


def test_padding_larger_than_the_kernel_crops_the_canvas():
    x, k = np.arange(16.0).reshape(4, 4), np.ones((2, 2))
    conv = tr.as_convolution(x, k, stride=2, padding=2)
    assert conv.border == -1
    np.testing.assert_allclose(conv.output, _torch(x, k, stride=2, padding=2))


@pytest.mark.parametrize(("options", "key"), [
    ({"stride": 0}, "kernels.error.stride"),
    ({"padding": -1}, "kernels.error.padding"),
    ({"stride": 2, "output_padding": 2}, "kernels.error.output_padding"),
    ({"output_padding": -1}, "kernels.error.output_padding"),
    ({"stride": 1, "padding": 3}, "kernels.error.transpose_empty"),
])
def test_impossible_settings_are_refused_like_torch(options, key):
    x, k = np.ones((2, 2)), np.ones((2, 2))
    with pytest.raises(KernelError) as info:
        conv_transpose(x, k, **options)
    assert info.value.key == key and key in catalog("ko") and key in catalog("en")
    if key != "kernels.error.padding":
        with pytest.raises(RuntimeError):
            _torch(x, k, **{"stride": 1, **options})


def test_shape_errors_and_drawing_limits():
    with pytest.raises(KernelError) as info:
        conv_transpose(np.ones(3), np.ones((2, 2)))
    assert info.value.key == "kernels.error.shape"
    with pytest.raises(KernelError) as info:
        tr.check_sizes(np.ones((tr.MAX_INPUT + 1, 2)), np.ones((2, 2)))
    assert info.value.key == "kernels.error.input_too_large"
    with pytest.raises(KernelError) as info:
        tr.check_sizes(np.ones((2, 2)), np.ones((2, tr.MAX_KERNEL + 1)))
    assert info.value.key == "kernels.error.kernel_too_large"


def test_stretch_inserts_stride_minus_one_zeros():
    assert tr.stretch(np.array([[1.0, 2], [3, 4]]), 3).tolist() == [
        [1, 0, 0, 2], [0, 0, 0, 0], [0, 0, 0, 0], [3, 0, 0, 4]]
