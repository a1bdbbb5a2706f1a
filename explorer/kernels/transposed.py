"""Transposed convolution on one channel, written out the two ways its pictures show it.

*Scatter*: every input value stamps ``value × kernel`` onto the output, ``stride`` cells apart; where the
stamps overlap they add up; ``padding`` then crops that many rows and columns from each border and
``output_padding`` adds rows and columns at the bottom and right. *As a convolution*: insert ``stride − 1``
zeros between the input cells, pad the stretched input with ``K − 1 − padding`` zeros (plus
``output_padding`` at the bottom and right), and slide the 180°-rotated kernel over it. Both give exactly
``torch.nn.functional.conv_transpose2d`` (checked in the tests); the same computation is the gradient of a
convolution with respect to its input (`explorer.backprop`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.kernels.ops import KernelError

MAX_INPUT = 6  # the pictures are for small matrices: input up to 6×6
MAX_KERNEL = 5  # kernel up to 5×5
MAX_STRIDE = 3  # with these limits the output stays within 22×22
# cell codes of the stretched, padded input ("as a convolution")
INPUT, INSERTED, PADDING = 0, 1, 2


def _whole(value: object, name: str, *, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise KernelError(f"kernels.error.{name}", value=str(value))
    return int(value)


def output_length(n: int, k: int, *, stride: int = 1, padding: int = 0, output_padding: int = 0) -> int:
    """(N − 1)·S − 2P + (K − 1) + output_padding + 1: PyTorch's ConvTranspose2d size (dilation 1)."""
    return (n - 1) * stride - 2 * padding + (k - 1) + output_padding + 1


def check(image_shape: tuple[int, int], kernel_shape: tuple[int, int], *, stride: int, padding: int,
          output_padding: int) -> tuple[int, int]:
    """(OH, OW), or `KernelError` for options PyTorch refuses or an empty output."""
    stride = _whole(stride, "stride", low=1)
    padding = _whole(padding, "padding", low=0)
    if (isinstance(output_padding, bool) or not isinstance(output_padding, (int, np.integer))
            or not 0 <= output_padding < stride):  # PyTorch: smaller than the stride (or the dilation, 1 here)
        raise KernelError("kernels.error.output_padding", value=str(output_padding), stride=stride)
    oh, ow = (output_length(n, k, stride=stride, padding=padding, output_padding=output_padding)
              for n, k in zip(image_shape, kernel_shape))
    if oh < 1 or ow < 1:
        raise KernelError("kernels.error.transpose_empty", oh=oh, ow=ow, padding=padding)
    return oh, ow


def _matrices(image: np.ndarray, kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, k = np.asarray(image, dtype=np.float64), np.asarray(kernel, dtype=np.float64)
    if x.ndim != 2 or k.ndim != 2 or 0 in x.shape or 0 in k.shape:
        raise KernelError("kernels.error.shape", image=str(x.shape), kernel=str(k.shape))
    return x, k


def conv_transpose(image: np.ndarray, kernel: np.ndarray, *, stride: int = 1, padding: int = 0,
                   output_padding: int = 0) -> np.ndarray:
    """``F.conv_transpose2d`` of one (H, W) channel with one (kh, kw) kernel, by scattering -> (OH, OW)."""
    x, k = _matrices(image, kernel)
    oh, ow = check(x.shape, k.shape, stride=stride, padding=padding, output_padding=output_padding)
    return _full(x, k, stride, output_padding)[padding:padding + oh, padding:padding + ow]


def _full(x: np.ndarray, k: np.ndarray, stride: int, output_padding: int) -> np.ndarray:
    """Every stamp added up, before cropping: ((H−1)S + kh + op, (W−1)S + kw + op)."""
    (h, w), (kh, kw) = x.shape, k.shape
    full = np.zeros(((h - 1) * stride + kh + output_padding, (w - 1) * stride + kw + output_padding))
    for a in range(kh):  # one strided slice per kernel offset: the (a, b) cell of every stamp at once
        for b in range(kw):
            full[a:a + (h - 1) * stride + 1:stride, b:b + (w - 1) * stride + 1:stride] += k[a, b] * x
    return full


def stretch(image: np.ndarray, stride: int) -> np.ndarray:
    """``image`` with ``stride − 1`` zeros between neighbouring cells: ((H−1)S + 1, (W−1)S + 1)."""
    x = np.asarray(image, dtype=np.float64)
    out = np.zeros(((x.shape[0] - 1) * stride + 1, (x.shape[1] - 1) * stride + 1))
    out[::stride, ::stride] = x
    return out


@dataclass(frozen=True)
class AsConvolution:
    """The transposed convolution as a plain (valid) convolution of a stretched, padded input."""

    canvas: np.ndarray  # (OH + kh − 1, OW + kw − 1): stretched input, zero border
    codes: np.ndarray  # same shape: INPUT, INSERTED (stride zeros) or PADDING
    flipped: np.ndarray  # (kh, kw): the kernel rotated by 180°
    border: int  # K − 1 − P zeros on each side (negative: that many rows cropped instead)
    output: np.ndarray  # (OH, OW)


def as_convolution(image: np.ndarray, kernel: np.ndarray, *, stride: int = 1, padding: int = 0,
                   output_padding: int = 0) -> AsConvolution:
    """The stretched input padded by K − 1 − P (+ output_padding at the bottom/right), and the result of
    sliding the rotated kernel over it (equal to `conv_transpose`)."""
    x, k = _matrices(image, kernel)
    oh, ow = check(x.shape, k.shape, stride=stride, padding=padding, output_padding=output_padding)
    stretched = stretch(x, stride)
    codes = np.full(stretched.shape, INSERTED)
    codes[::stride, ::stride] = INPUT
    pads = [(k.shape[0] - 1 - padding, k.shape[0] - 1 - padding + output_padding),
            (k.shape[1] - 1 - padding, k.shape[1] - 1 - padding + output_padding)]
    canvas, codes = _border(stretched, pads, 0.0), _border(codes, pads, PADDING)
    flipped = k[::-1, ::-1]
    out = np.zeros((oh, ow))
    for a in range(k.shape[0]):
        for b in range(k.shape[1]):
            out += flipped[a, b] * canvas[a:a + oh, b:b + ow]
    return AsConvolution(canvas, codes, flipped, k.shape[0] - 1 - padding, out)


def _border(a: np.ndarray, pads: list[tuple[int, int]], fill: float) -> np.ndarray:
    """``a`` padded by ``pads`` ((top, bottom), (left, right)); a negative amount crops instead."""
    grown = np.pad(a, [(max(p, 0), max(q, 0)) for p, q in pads], constant_values=fill)
    (t, b), (l, r) = pads
    return grown[max(-t, 0):grown.shape[0] - max(-b, 0), max(-l, 0):grown.shape[1] - max(-r, 0)]


@dataclass(frozen=True)
class Stamp:
    """One input cell's contribution, in output coordinates (the stamp may hang over the cropped border)."""

    row: int  # input cell
    col: int
    value: float
    top: int  # stamp's top-left in the output (may be negative: cropped by padding)
    left: int
    partial: np.ndarray  # (OH, OW): the output after this and all earlier stamps


def stamps(image: np.ndarray, kernel: np.ndarray, *, stride: int = 1, padding: int = 0,
           output_padding: int = 0) -> list[Stamp]:
    """The scatter view one input cell at a time, in row-major order; the last partial is the output."""
    x, k = _matrices(image, kernel)
    oh, ow = check(x.shape, k.shape, stride=stride, padding=padding, output_padding=output_padding)
    full = np.zeros(((x.shape[0] - 1) * stride + k.shape[0] + output_padding,
                     (x.shape[1] - 1) * stride + k.shape[1] + output_padding))
    out = []
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            full[i * stride:i * stride + k.shape[0], j * stride:j * stride + k.shape[1]] += x[i, j] * k
            out.append(Stamp(i, j, float(x[i, j]), i * stride - padding, j * stride - padding,
                             full[padding:padding + oh, padding:padding + ow].copy()))
    return out


def check_sizes(image: np.ndarray, kernel: np.ndarray) -> None:
    """`KernelError` unless the input and kernel are small enough to draw (the tab's limits)."""
    for what, a, limit in (("input", image, MAX_INPUT), ("kernel", kernel, MAX_KERNEL)):
        if max(np.shape(a)) > limit:
            raise KernelError(f"kernels.error.{what}_too_large", shape="×".join(map(str, np.shape(a))), limit=limit)
