"""Image kernels: presets, custom-kernel validation, convolution (cross-correlation) and pooling.

`apply_kernel` runs on torch's depthwise conv2d in the channels_last memory format (NCHW depthwise
falls onto a slow reference kernel on CPU). oneDNN vectorises that conv over channels, so 1 or 3
channels leave most vector lanes empty: for larger kernels the image is cut into horizontal bands
that are stacked as extra channels (8 per colour), convolved in one call and read back as channel
planes. Rank-1 kernels (box, Gaussian, Sobel...) from 5x5 up run as two 1-D convs. Timings:
benchmarks/bench_kernels.py and benchmarks/README.md. `pool` is written with
NumPy (one strided slice per window offset) and checked against ``torch.nn.functional`` in the tests.
"""

from __future__ import annotations

import re
from typing import Literal, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import as_strided

from explorer.core.i18n import UserError

PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]
PADDING_MODES: tuple[str, ...] = ("zeros", "reflect", "replicate", "circular")
MIN_SIZE, MAX_SIZE = 1, 11  # custom kernels: 1x1 .. 11x11, rows and columns chosen separately
MAX_WEIGHT = 10_000.0  # larger |weights| are refused as absurd
MAX_BIAS = 1_000_000.0  # larger |bias| likewise


class KernelError(UserError):
    """A user-facing kernel/operation problem: ``key`` is an i18n key, ``params`` its arguments."""


def _k(rows: Sequence[Sequence[float]], scale: float = 1.0) -> np.ndarray:
    return np.asarray(rows, dtype=np.float64) * scale


_BINOMIAL5 = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1])
# name -> kernel (kh, kw). Texts: kernels.preset.<name> (label) and kernels.why.<name> (explanation).
PRESETS: dict[str, np.ndarray] = {
    "identity": _k([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "box3": _k(np.ones((3, 3)), 1 / 9),
    "box5": _k(np.ones((5, 5)), 1 / 25),
    "gaussian3": _k([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 1 / 16),
    "gaussian5": _k(_BINOMIAL5, 1 / 256),
    "low_pass": _k([[1, 1, 1], [1, 2, 1], [1, 1, 1]], 1 / 10),
    "high_pass": _k([[-1, -2, -1], [-2, 12, -2], [-1, -2, -1]], 1 / 16),
    "sharpen": _k([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "laplacian4": _k([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "laplacian8": _k([[1, 1, 1], [1, -8, 1], [1, 1, 1]]),
    "sobel_x": _k([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "sobel_y": _k([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "prewitt_x": _k([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]),
    "prewitt_y": _k([[-1, -1, -1], [0, 0, 0], [1, 1, 1]]),
    "emboss": _k([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
    "outline": _k([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
    "lecture_vertical_edge": _k([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]),
}


def preset_label_key(name: str) -> str:
    return f"kernels.preset.{name}"


def preset_why_key(name: str) -> str:
    return f"kernels.why.{name}"


# ---------------------------------------------------------------- custom kernels

def parse_kernel(cells: Sequence[Sequence[object]]) -> np.ndarray:
    """Validate an edited grid (rows of cells) into a float kernel, or raise `KernelError`.

    Blank, non-numeric, NaN, infinite and absurd (|w| > MAX_WEIGHT) cells are refused; the
    message names the cell (1-based row and column).
    """
    rows = [list(r) for r in cells]
    n_rows, n_cols = len(rows), max((len(r) for r in rows), default=0)
    if not (MIN_SIZE <= n_rows <= MAX_SIZE and MIN_SIZE <= n_cols <= MAX_SIZE):
        raise KernelError("kernels.error.kernel_size", rows=n_rows, cols=n_cols, max=MAX_SIZE)
    out = np.zeros((n_rows, n_cols))
    for i, row in enumerate(rows):
        for j in range(n_cols):
            out[i, j] = _cell_value(row[j] if j < len(row) else None, i + 1, j + 1)
    return out


_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _cell_value(cell: object, row: int, col: int) -> float:
    """A typed weight: a number (``-0.5``, ``.25``, ``3``, ``1e-3``) or a fraction (``1/9``, ``-1/8``)."""
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        raise KernelError("kernels.error.cell_blank", row=row, col=col)
    if isinstance(cell, bool):
        raise KernelError("kernels.error.cell_not_number", row=row, col=col, value=str(cell))
    if isinstance(cell, str):
        value = _typed_number(cell, row, col)
    else:
        try:
            value = float(cell)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            raise KernelError("kernels.error.cell_not_number", row=row, col=col, value=str(cell)[:20]) from None
        if np.isnan(value):
            raise KernelError("kernels.error.cell_blank", row=row, col=col)
    if not np.isfinite(value) or abs(value) > MAX_WEIGHT:
        raise KernelError("kernels.error.cell_too_large", row=row, col=col, value=f"{value:.3g}", max=f"{MAX_WEIGHT:g}")
    return value


def _typed_number(text: str, row: int, col: int) -> float:
    s = text.strip().replace("\u2212", "-").replace(",", ".").replace(" ", "")
    low = s.lower().lstrip("+-")
    if low == "nan":
        raise KernelError("kernels.error.cell_nan", row=row, col=col)
    if low in ("inf", "infinity"):
        return float("inf")
    parts = s.split("/")
    if len(parts) > 2 or not all(_DECIMAL.fullmatch(x) for x in parts):
        raise KernelError("kernels.error.cell_not_number", row=row, col=col, value=text.strip()[:20])
    numbers = [float(x) for x in parts]
    if len(numbers) == 2 and numbers[1] == 0:
        raise KernelError("kernels.error.cell_divide_by_zero", row=row, col=col, value=text.strip()[:20])
    return numbers[0] / numbers[1] if len(numbers) == 2 else numbers[0]


def check_cells(cells: Sequence[Sequence[object]]) -> list[tuple[int, int, KernelError]]:
    """Every bad cell of a typed grid as (row, col, error), 0-based; empty when `parse_kernel` accepts it."""
    bad = []
    for i, row in enumerate(cells):
        for j, cell in enumerate(row):
            try:
                _cell_value(cell, i + 1, j + 1)
            except KernelError as err:
                bad.append((i, j, err))
    return bad


def normalize(kernel: np.ndarray) -> np.ndarray:
    """``kernel`` scaled so its weights sum to 1 (refused when the sum is about 0)."""
    total = float(np.sum(kernel))
    if abs(total) < 1e-12:
        raise KernelError("kernels.error.sum_zero")
    return kernel / total


def random_kernel(rows: int, cols: int, *, rng: np.random.Generator) -> np.ndarray:
    """Random weights in [-1, 1] rounded to 0.1, from the caller's (per-session) generator."""
    return np.round(rng.uniform(-1.0, 1.0, size=(rows, cols)), 1)


# ---------------------------------------------------------------- sizes

def resolve_padding(padding: int | str, kernel_shape: tuple[int, int], *,
                    dilation: int = 1) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) padding; "same" keeps the size at stride 1 (extra on bottom/right)."""
    if padding == "same":
        th, tw = (dilation * (k - 1) for k in kernel_shape)
        return th // 2, th - th // 2, tw // 2, tw - tw // 2
    if isinstance(padding, bool) or not isinstance(padding, (int, np.integer)):
        raise KernelError("kernels.error.padding", value=str(padding))
    if padding < 0:
        raise KernelError("kernels.error.padding", value=str(padding))
    p = int(padding)
    return p, p, p, p


def output_length(n: int, k: int, *, stride: int = 1, pad_total: int = 0, dilation: int = 1) -> int:
    """Output length along one axis: floor((N + P_total - D(K-1) - 1) / S) + 1 (may be <= 0)."""
    return (n + pad_total - dilation * (k - 1) - 1) // stride + 1


def check_options(*, stride: int, dilation: int = 1) -> None:
    for name, value in (("stride", stride), ("dilation", dilation)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise KernelError(f"kernels.error.{name}", value=str(value))


def output_shape(image_shape: tuple[int, ...], kernel_shape: tuple[int, ...], *, stride: int = 1,
                 padding: int | str = 0, dilation: int = 1) -> tuple[int, int]:
    """(OH, OW) of `apply_kernel`, or `KernelError` when options are invalid or the output is empty."""
    check_options(stride=stride, dilation=dilation)
    top, bottom, left, right = resolve_padding(padding, kernel_shape[:2], dilation=dilation)
    oh = output_length(image_shape[0], kernel_shape[0], stride=stride, pad_total=top + bottom, dilation=dilation)
    ow = output_length(image_shape[1], kernel_shape[1], stride=stride, pad_total=left + right, dilation=dilation)
    if oh < 1 or ow < 1:
        raise KernelError("kernels.error.image_smaller_than_kernel", h=image_shape[0], w=image_shape[1],
                          kh=dilation * (kernel_shape[0] - 1) + 1, kw=dilation * (kernel_shape[1] - 1) + 1)
    return oh, ow


# ---------------------------------------------------------------- convolution

def apply_kernel(image: np.ndarray, kernel: np.ndarray, *, stride: int = 1, padding: int | str = 0,
                 dilation: int = 1, padding_mode: PaddingMode = "zeros", bias: float = 0.0) -> np.ndarray:
    """Cross-correlate ``image`` with ``kernel`` exactly like ``torch.nn.functional.conv2d``.

    image (H, W) or (H, W, C); kernel (kh, kw) is applied to each channel -> (OH, OW[, C]);
    kernel (kh, kw, C) extends the full depth and sums over channels -> (OH, OW). ``bias`` is added to
    every output value (``conv2d``'s bias: one number per output map).
    Returns float32 (a per-channel result may be a non-contiguous view of channel planes).
    Raises `KernelError` for invalid options or an empty output.
    """
    if not np.isfinite(bias) or abs(bias) > MAX_BIAS:
        raise KernelError("kernels.error.bias", value=f"{bias:g}", max=f"{MAX_BIAS:g}")
    out = _correlate(image, kernel, stride=stride, padding=padding, dilation=dilation, padding_mode=padding_mode)
    if bias:
        out += np.float32(bias)  # in place: keeps the channel-plane layout
    return out


def _correlate(image: np.ndarray, kernel: np.ndarray, *, stride: int, padding: int | str, dilation: int,
               padding_mode: PaddingMode) -> np.ndarray:
    kernel = np.asarray(kernel, dtype=np.float32)
    image = np.asarray(image)
    if image.ndim not in (2, 3) or kernel.ndim not in (2, 3) or kernel.size == 0:
        raise KernelError("kernels.error.shape", image=str(image.shape), kernel=str(kernel.shape))
    full_depth = kernel.ndim == 3
    if full_depth and (image.ndim != 3 or image.shape[2] != kernel.shape[2]):
        raise KernelError("kernels.error.depth", image=str(image.shape), kernel=str(kernel.shape))
    if padding_mode not in PADDING_MODES:
        raise KernelError("kernels.error.padding_mode", value=str(padding_mode))
    oh, _ = output_shape(image.shape, kernel.shape, stride=stride, padding=padding, dilation=dilation)
    src = _padded_source(image, resolve_padding(padding, kernel.shape[:2], dilation=dilation), padding_mode)
    if src.shape[2] == 3 and not full_depth and kernel.size >= MIN_SEPARABLE_TAPS:
        factors = _rank1_factors(kernel)
        if factors is not None:
            return _separable(src, *factors, stride=stride, dilation=dilation)
    out = _depthwise(src, kernel, oh=oh, stride=stride, dilation=dilation)  # (OH, OW, C)
    if full_depth:
        return _sum_channels(out)
    return out[:, :, 0] if image.ndim == 2 else out


def _depthwise(src: np.ndarray, kernel: np.ndarray, *, oh: int, stride: int, dilation: int) -> np.ndarray:
    """Channel c of ``src`` (H, W, C) with ``kernel`` (kh, kw), or with slice c of a (kh, kw, C) kernel.

    Returns (OH, OW, C) float32, possibly a view of contiguous channel planes (C, OH, OW).
    """
    c, kh, kw = src.shape[2], kernel.shape[0], kernel.shape[1]
    reach = dilation * (kh - 1) + 1
    bands = _band_count(oh, reach=reach, stride=stride, channels=c, taps=kh * kw)
    while bands > 1 and (bands - 1) * -(-oh // bands) > oh:  # every band must start inside the output
        bands -= 1
    rows = -(-oh // bands)  # output rows per band; the last band is moved up to end at row `oh`
    batch = bands > 1 and kernel.ndim == 2  # colours as a batch of (bands)-channel images: a bit faster
    x = _fold(src, bands=bands, step=rows * stride, last=(oh - rows) * stride,
              height=(rows - 1) * stride + reach, batch=batch)
    per_channel = np.moveaxis(kernel, 2, 0) if kernel.ndim == 3 else np.broadcast_to(kernel, (1 if batch else c, kh, kw))
    w = torch.from_numpy(np.repeat(per_channel, bands, axis=0)[:, None]).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        y = F.conv2d(x, w, stride=stride, dilation=dilation, groups=w.shape[0])
    # y is channels_last: (N, C', rows, OW) stored as (N, rows, OW, C'); view it as (C, rows, OW, bands)
    cube = y.permute(0, 2, 3, 1).numpy()
    if bands == 1:  # (1, rows, OW, C): already an (OH, OW, C) image
        return cube[0]
    if not batch:
        cube = cube[0].reshape(*cube.shape[1:3], c, bands).transpose(2, 0, 1, 3)
    return _unfold_planes(cube, height=oh).transpose(1, 2, 0)


MIN_SEPARABLE_TAPS = 25  # rank-1 RGB kernels from 5x5 up run as two 1-D convs (3x3: no gain measured)


def _rank1_factors(kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(column, row) with ``kernel == outer(column, row)`` when the kernel has rank 1 (box, Gaussian,
    Sobel, Prewitt...), else None. Scaled by the largest weight, so integer kernels stay exact."""
    k = kernel.astype(np.float64)
    i, j = np.unravel_index(int(np.argmax(np.abs(k))), k.shape)
    pivot = k[i, j]
    if kernel.shape[0] < 2 or kernel.shape[1] < 2 or pivot == 0:
        return None
    column, row = k[:, j], k[i, :] / pivot
    # the kernel is already rounded to float32: 4 roundings of 2**-24 bound the residual of a rank-1 one
    if np.max(np.abs(np.outer(column, row) - k)) > 3e-7 * abs(pivot):
        return None
    return column.astype(np.float32), row.astype(np.float32)


def _separable(src: np.ndarray, column: np.ndarray, row: np.ndarray, *, stride: int, dilation: int) -> np.ndarray:
    """Depthwise conv with ``outer(column, row)`` as a (kh x 1) then a (1 x kw) conv -> (OH, OW, C)."""
    x = _fold(src, bands=1, step=0, last=0, height=src.shape[0], batch=False)  # (1, C, H, W)
    c = x.shape[1]
    wc = torch.from_numpy(column).view(1, 1, -1, 1).repeat(c, 1, 1, 1).contiguous(memory_format=torch.channels_last)
    wr = torch.from_numpy(row).view(1, 1, 1, -1).repeat(c, 1, 1, 1).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        y = F.conv2d(x, wc, stride=(stride, 1), dilation=(dilation, 1), groups=c)
        y = F.conv2d(y, wr, stride=(1, stride), dilation=(1, dilation), groups=c)
    return y[0].permute(1, 2, 0).numpy()  # channels_last: (OH, OW, C) without a copy


def _sum_channels(values: np.ndarray) -> np.ndarray:
    """(H, W, C) -> (H, W): the full-depth filter's sum over channels, in channel order."""
    total = values[:, :, 0].copy()
    for i in range(1, values.shape[2]):
        total += values[:, :, i]
    return total


def _unfold_planes(cube: np.ndarray, *, height: int, chunk: int = 2048) -> np.ndarray:
    """Undo `_fold` on the conv output, a (C, rows, OW, bands) view -> contiguous planes (C, height, OW).

    Band b of channel c fills rows b*rows.. of plane c; the last band fills the bottom ``rows`` rows
    (it overlaps the band before it). Transposed in cache-sized chunks: 2-3x faster than one go,
    and NumPy allocates large arrays on huge pages, which saves most of the page faults.
    """
    channels, rows, ow, bands = cube.shape
    out = np.empty((channels, height, ow), dtype=cube.dtype)
    run = rows * ow
    flat = cube.reshape(channels, run, bands)  # a view for both fold layouts
    body = as_strided(out, (channels, bands - 1, run), (out.strides[0], run * out.itemsize, out.itemsize))
    for start in range(0, run, chunk):
        body[:, :, start:start + chunk] = flat[:, start:start + chunk, :bands - 1].transpose(0, 2, 1)
    out[:, height - rows:] = cube[..., bands - 1]
    return out


# image depth -> (bands, smallest kernel area worth it); other depths are not folded. Measured
# (CPU and wall, preview and 12 MP): RGB gains from about 6x6 up (the fold and unfold copies cost
# more than a 3x3 or 5x5 conv saves); one channel gains at every size.
BANDS = {1: (16, 1), 3: (8, 36)}
MIN_BAND_ROWS = 32  # and at least 4 kernel reaches per band, so overlaps stay small


def _band_count(oh: int, *, reach: int, stride: int, channels: int, taps: int) -> int:
    """How many horizontal bands of the output to stack as extra channels (1 = no folding).

    oneDNN's depthwise conv2d fills its vector lanes with channels: 1 or 3 channels waste most
    of them; 8 or 16 bands per channel halve the time of an 11x11 RGB conv (5x for one channel).
    """
    most, min_taps = BANDS.get(channels, (1, 0))
    if taps < min_taps:
        return 1
    rows_needed = max(MIN_BAND_ROWS, -(-4 * reach // stride))
    return max(1, min(most, oh // rows_needed))


def _padded_source(image: np.ndarray, pads: tuple[int, int, int, int], mode: str) -> np.ndarray:
    """(H, W[, C]) array -> (H', W', C) array with the padding applied (dtype kept for zeros)."""
    arr = image if image.ndim == 3 else image[:, :, None]
    if not any(pads):
        return arr
    top, bottom, left, right = pads
    h, w = arr.shape[:2]
    if mode == "reflect" and (max(top, bottom) >= h or max(left, right) >= w):
        raise KernelError("kernels.error.reflect_too_wide", pad=max(pads), h=h, w=w)
    if mode == "circular" and (max(top, bottom) > h or max(left, right) > w):
        raise KernelError("kernels.error.circular_too_wide", pad=max(pads), h=h, w=w)
    if mode == "zeros":
        out = np.zeros((h + top + bottom, w + left + right, arr.shape[2]), dtype=arr.dtype)
        out[top:top + h, left:left + w] = arr
        return out
    x = torch.from_numpy(np.array(arr, dtype=np.float32)).permute(2, 0, 1)[None]  # (1, C, H, W) view
    return F.pad(x, (left, right, top, bottom), mode=mode)[0].permute(1, 2, 0).contiguous().numpy()


def _fold(src: np.ndarray, *, bands: int, step: int, last: int, height: int, batch: bool) -> torch.Tensor:
    """Stack ``bands`` row bands of ``src`` (H, W, C) as channels, float32 and channels_last.

    Band b starts at row b*step (the last one at row ``last``). ``batch``: (C, bands, height, W),
    one image per colour; else (1, C*bands, height, W) with channel c*bands + b. The copy (and the
    conversion to float32) is one NumPy strided copy: several times faster than torch's here.
    """
    src = np.ascontiguousarray(src)
    h, w, c = src.shape
    row, col, item = src.strides
    # NumPy allocates large arrays on huge pages: fewer page faults than torch.empty
    dest = np.empty((c, height, w, bands) if batch else (height, w, c, bands), dtype=np.float32)
    if bands > 1:
        sizes, strides = (((c, height, w, bands - 1), (item, row, col, step * row)) if batch
                          else ((height, w, c, bands - 1), (row, col, item, step * row)))
        np.copyto(dest[..., :bands - 1], as_strided(src, sizes, strides, writeable=False))
    last_rows = src[last:last + height]
    np.copyto(dest[..., -1], last_rows.transpose(2, 0, 1) if batch else last_rows)
    x = torch.from_numpy(dest)
    return x.permute(0, 3, 1, 2) if batch else x.view(1, height, w, c * bands).permute(0, 3, 1, 2)


# ---------------------------------------------------------------- pooling

def pool(array: np.ndarray, *, kind: Literal["max", "avg"] = "max", size: int = 2,
         stride: int | None = None, padding: int = 0) -> np.ndarray:
    """Max or average pooling of (H, W) or (H, W, C), like torch's max_pool2d / avg_pool2d.

    ``stride`` defaults to ``size``. Max pooling pads with -inf, average pooling with zeros
    that count in the mean (torch's ``count_include_pad=True``).
    """
    stride = size if stride is None else stride
    if kind not in ("max", "avg"):
        raise KernelError("kernels.error.pool_kind", value=str(kind))
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise KernelError("kernels.error.pool_size", value=str(size))
    check_options(stride=stride)
    if isinstance(padding, bool) or not isinstance(padding, (int, np.integer)) or padding < 0:
        raise KernelError("kernels.error.padding", value=str(padding))
    if padding > size // 2:
        raise KernelError("kernels.error.pool_padding", padding=padding, half=size // 2)
    a = np.asarray(array)
    if not (kind == "max" and a.dtype == np.float32):  # a max of float32 values is exact in float32
        a = a.astype(np.float64)
    a3 = a[:, :, None] if a.ndim == 2 else a
    oh, ow = output_shape(a3.shape, (size, size), stride=stride, padding=padding)
    fill = -np.inf if kind == "max" else 0.0
    padded = np.pad(a3, ((padding, padding), (padding, padding), (0, 0)), constant_values=fill) if padding else a3
    # one strided slice per window offset: the (i, j) element of every window at once
    offsets = [padded[i:i + (oh - 1) * stride + 1:stride, j:j + (ow - 1) * stride + 1:stride]
               for i in range(size) for j in range(size)]
    out = offsets[0].copy()
    for part in offsets[1:]:
        np.maximum(out, part, out=out) if kind == "max" else np.add(out, part, out=out)
    if kind == "avg":
        out /= size * size
    out = out.astype(np.float64, copy=False)
    return out[:, :, 0] if a.ndim == 2 else out


# ---------------------------------------------------------------- display

DISPLAY_MODES: tuple[str, ...] = ("clip", "abs", "minmax")


def to_display(values: np.ndarray, *, mode: str = "clip") -> np.ndarray:
    """Raw float output -> uint8 for display: clip to 0..255, absolute value, or min-max stretch."""
    v = np.asarray(values, dtype=np.float32)
    if mode == "abs":
        v = np.abs(v)
    elif mode == "minmax":
        lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 0.0)
        v = (v - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(v)
    elif mode != "clip":
        raise KernelError("kernels.error.display_mode", value=str(mode))
    v = np.rint(v)  # keeps the memory layout of `values` (channel planes from `apply_kernel`)
    np.clip(v, 0, 255, out=v)
    out = np.empty(v.shape, dtype=np.uint8)  # C order, ready for encoding
    if v.ndim == 3 and not v.flags.c_contiguous:
        for c in range(v.shape[2]):  # one plane at a time: reads stay contiguous
            out[:, :, c] = v[:, :, c]
    else:
        np.copyto(out, v, casting="unsafe")
    return out


# ---------------------------------------------------------------- helpers for the lab page

COLOUR_MODES: tuple[str, ...] = ("rgb", "gray", "depth")


def filter_image(image: np.ndarray, kernel: np.ndarray, *, colour: str = "rgb",
                 channel_weights: Sequence[float] = (1.0, 1.0, 1.0), **options) -> np.ndarray:
    """Apply ``kernel`` to an RGB uint8 image in one colour mode.

    "gray": on the luma (H, W); "rgb": per channel (H, W, 3); "depth": one k×k×3 filter whose
    slice for channel c is ``kernel * channel_weights[c]``, summed over channels -> (H, W).
    ``options`` go to `apply_kernel`.
    """
    if colour == "gray":
        gray = image[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        return apply_kernel(gray, kernel, **options)
    if colour == "rgb":
        return apply_kernel(image, kernel, **options)
    if colour == "depth":
        depth = np.stack([kernel * float(w) for w in channel_weights], axis=2)
        return apply_kernel(image[..., :3], depth, **options)
    raise KernelError("kernels.error.colour_mode", value=str(colour))


def parse_text_grid(text: str) -> list[list[str]]:
    """Rows of cells from text: one row per line (or ``;``), cells split by spaces, tabs or commas.

    Brackets are ignored, so ``[[1, 0], [0, 1]]`` works too. Cells stay strings for `parse_kernel`.
    """
    cleaned = text.replace("[[", "").replace("]]", "").replace("],", ";").replace("[", "").replace("]", "")
    lines = [ln for ln in cleaned.replace(";", "\n").splitlines() if ln.strip()]
    rows = [[c for c in ln.replace(",", " ").replace("\t", " ").split(" ") if c] for ln in lines]
    width = max((len(r) for r in rows), default=0)
    return [r + [""] * (width - len(r)) for r in rows]


def size_formula(n: int, k: int, *, stride: int, pads: tuple[int, int], dilation: int = 1,
                 symbol: str = "H") -> str:
    """LaTeX of the lecture formula with the numbers filled in, e.g. ``(4 + 2·1 - 3)/1 + 1 = 4``."""
    out = output_length(n, k, stride=stride, pad_total=sum(pads), dilation=dilation)
    if pads[0] == pads[1]:
        pad_sym, pad_num = "2P", f"2\\cdot{pads[0]}"
    else:
        pad_sym, pad_num = "P_1 + P_2", f"{pads[0]} + {pads[1]}"
    reach_sym, reach_num = ("D(F-1) - 1", f"{dilation}\\cdot({k}-1) - 1") if dilation != 1 else ("F", f"{k}")
    return (f"O_{{{symbol}}} = \\left\\lfloor \\frac{{{symbol} + {pad_sym} - {reach_sym}}}{{S}} \\right\\rfloor + 1"
            f" = \\left\\lfloor \\frac{{{n} + {pad_num} - {reach_num}}}{{{stride}}} \\right\\rfloor + 1 = {out}")
