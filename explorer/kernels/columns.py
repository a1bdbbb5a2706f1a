"""im2col: a convolution as one matrix product (seed 001, "im2col로 데이터 전개하기").

Every window the filter visits is laid out as one row (``C·kh·kw`` values, channel by channel, each
channel row by row); the filters become the columns of a weight matrix; the whole convolution is then
``cols @ W + b``, reshaped to (FN, OH, OW). Rows are windows in row-major order and columns in (c, i, j)
order, exactly ``F.unfold(x[None], (kh, kw), stride=stride, padding=padding)[0].T`` (checked in the tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.kernels.ops import KernelError, check_options, output_length

MAX_SIDE = 40  # im2col copies every window: the lesson's matrices stay small
MAX_CHANNELS = 8


def _block(x: np.ndarray) -> np.ndarray:
    """(H, W) or (C, H, W) -> (C, H, W) float64, or `KernelError`."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or 0 in a.shape:
        raise KernelError("kernels.error.block_shape", shape=str(np.shape(x)))
    if max(a.shape[1:]) > MAX_SIDE or a.shape[0] > MAX_CHANNELS:
        raise KernelError("kernels.error.block_too_large", shape="×".join(map(str, a.shape)), side=MAX_SIDE,
                          channels=MAX_CHANNELS)
    return a


def output_size(h: int, w: int, kh: int, kw: int, *, stride: int = 1, padding: int = 0) -> tuple[int, int]:
    """(OH, OW) of the windows, or `KernelError` for bad options or a kernel larger than the padded input."""
    check_options(stride=stride)
    for value in (kh, kw):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise KernelError("kernels.error.kernel_size", rows=kh, cols=kw, max=MAX_SIDE)
    if isinstance(padding, bool) or not isinstance(padding, (int, np.integer)) or padding < 0:
        raise KernelError("kernels.error.padding", value=str(padding))
    oh = output_length(h, kh, stride=stride, pad_total=2 * padding)
    ow = output_length(w, kw, stride=stride, pad_total=2 * padding)
    if oh < 1 or ow < 1:
        raise KernelError("kernels.error.image_smaller_than_kernel", h=h, w=w, kh=kh, kw=kw)
    return oh, ow


def im2col(x: np.ndarray, kh: int, kw: int, *, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Windows as rows: (OH·OW, C·kh·kw) for ``x`` of shape (C, H, W) or (H, W) (zero padding)."""
    a = _block(x)
    c, h, w = a.shape
    oh, ow = output_size(h, w, kh, kw, stride=stride, padding=padding)
    padded = np.pad(a, ((0, 0), (padding, padding), (padding, padding)))
    cols = np.empty((oh * ow, c, kh, kw))
    for i in range(kh):  # the (i, j) cell of every window at once
        for j in range(kw):
            cols[:, :, i, j] = padded[:, i:i + (oh - 1) * stride + 1:stride,
                                      j:j + (ow - 1) * stride + 1:stride].reshape(c, -1).T
    return cols.reshape(oh * ow, c * kh * kw)


def filters_as_columns(filters: np.ndarray) -> np.ndarray:
    """Filters (FN, C, kh, kw), (C, kh, kw) or (kh, kw) -> the weight matrix (C·kh·kw, FN)."""
    f = np.asarray(filters, dtype=np.float64)
    f = f.reshape((1,) * (4 - f.ndim) + f.shape) if f.ndim in (2, 3) else f
    if f.ndim != 4 or 0 in f.shape:
        raise KernelError("kernels.error.block_shape", shape=str(np.shape(filters)))
    return f.reshape(f.shape[0], -1).T


@dataclass(frozen=True)
class Product:
    """The convolution as ``cols @ weights + bias``, with everything a page writes on the matrices."""

    cols: np.ndarray  # (OH·OW, C·kh·kw): one window per row
    weights: np.ndarray  # (C·kh·kw, FN): one filter per column
    bias: np.ndarray  # (FN,)
    product: np.ndarray  # (OH·OW, FN) = cols @ weights + bias
    output: np.ndarray  # (FN, OH, OW): the product's columns reshaped, as conv2d returns them
    in_shape: tuple[int, int, int]  # (C, H, W)
    kernel: tuple[int, int]  # (kh, kw)


def conv_as_product(x: np.ndarray, filters: np.ndarray, *, stride: int = 1, padding: int = 0,
                    bias: np.ndarray | float | None = None) -> Product:
    """``F.conv2d(x, filters, bias, stride, padding)`` computed as one matrix product."""
    a = _block(x)
    f = np.asarray(filters, dtype=np.float64)
    f = f.reshape((1,) * (4 - f.ndim) + f.shape) if f.ndim in (2, 3) else f
    if f.ndim != 4 or f.shape[1] != a.shape[0]:
        raise KernelError("kernels.error.depth", image=str(a.shape), kernel=str(np.shape(filters)))
    cols = im2col(a, f.shape[2], f.shape[3], stride=stride, padding=padding)
    weights = filters_as_columns(f)
    b = np.broadcast_to(np.asarray(0.0 if bias is None else bias, dtype=np.float64), (f.shape[0],)).copy()
    product = cols @ weights + b
    oh, ow = output_size(a.shape[1], a.shape[2], f.shape[2], f.shape[3], stride=stride, padding=padding)
    return Product(cols, weights, b, product, product.T.reshape(f.shape[0], oh, ow), a.shape, f.shape[2:])


def column_labels(channels: int, kh: int, kw: int) -> list[str]:
    """Names of im2col's columns: ``x[c,i,j]`` (0-based, as in the code), channel by channel."""
    return [f"x[{c},{i},{j}]" if channels > 1 else f"x[{i},{j}]"
            for c in range(channels) for i in range(kh) for j in range(kw)]
