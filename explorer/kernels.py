"""Image kernels: presets, custom-kernel validation, convolution (cross-correlation) and pooling.

`apply_kernel` runs on torch's depthwise conv2d in the channels_last memory format, which reads the
(H, W, C) image without a copy and avoids the slow NCHW depthwise path on CPU (see
benchmarks/bench_kernels.py). `pool` is written with
NumPy windows and checked against ``torch.nn.functional`` in the tests.
"""

from __future__ import annotations

from typing import Literal, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view

PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]
PADDING_MODES: tuple[str, ...] = ("zeros", "reflect", "replicate", "circular")
MIN_SIZE, MAX_SIZE = 1, 11  # custom kernels: 1x1 .. 11x11, rows and columns chosen separately
MAX_WEIGHT = 10_000.0  # larger |weights| are refused as absurd


class KernelError(ValueError):
    """A user-facing kernel/operation problem: ``key`` is an i18n key, ``params`` its arguments."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(f"{key} {params}" if params else key)
        self.key = key
        self.params = params


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


def _cell_value(cell: object, row: int, col: int) -> float:
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        raise KernelError("kernels.error.cell_blank", row=row, col=col)
    if isinstance(cell, bool):
        raise KernelError("kernels.error.cell_not_number", row=row, col=col, value=str(cell))
    try:
        value = float(cell.strip().replace(",", ".") if isinstance(cell, str) else cell)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise KernelError("kernels.error.cell_not_number", row=row, col=col, value=str(cell)[:20]) from None
    if np.isnan(value):
        raise KernelError("kernels.error.cell_blank" if not isinstance(cell, str) else "kernels.error.cell_nan",
                          row=row, col=col)
    if not np.isfinite(value) or abs(value) > MAX_WEIGHT:
        raise KernelError("kernels.error.cell_too_large", row=row, col=col, value=f"{value:.3g}", max=f"{MAX_WEIGHT:g}")
    return value


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
                 dilation: int = 1, padding_mode: PaddingMode = "zeros") -> np.ndarray:
    """Cross-correlate ``image`` with ``kernel`` exactly like ``torch.nn.functional.conv2d``.

    image (H, W) or (H, W, C); kernel (kh, kw) is applied to each channel -> (OH, OW[, C]);
    kernel (kh, kw, C) extends the full depth and sums over channels -> (OH, OW).
    Returns float32. Raises `KernelError` for invalid options or an empty output.
    """
    kernel = np.asarray(kernel, dtype=np.float32)
    image = np.asarray(image)
    if image.ndim not in (2, 3) or kernel.ndim not in (2, 3) or kernel.size == 0:
        raise KernelError("kernels.error.shape", image=str(image.shape), kernel=str(kernel.shape))
    full_depth = kernel.ndim == 3
    if full_depth and (image.ndim != 3 or image.shape[2] != kernel.shape[2]):
        raise KernelError("kernels.error.depth", image=str(image.shape), kernel=str(kernel.shape))
    if padding_mode not in PADDING_MODES:
        raise KernelError("kernels.error.padding_mode", value=str(padding_mode))
    output_shape(image.shape, kernel.shape, stride=stride, padding=padding, dilation=dilation)
    pads = resolve_padding(padding, kernel.shape[:2], dilation=dilation)
    x = _pad(_planes(image), pads, padding_mode)  # (1, C, H, W) channels_last
    c = x.shape[1]
    # depthwise (C, 1, kh, kw) per channel, or one (1, C, kh, kw) filter over the full depth
    w = torch.from_numpy(np.array(np.moveaxis(kernel, 2, 0)[None] if full_depth
                                  else np.broadcast_to(kernel, (c, 1, *kernel.shape))))
    w = w.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        y = F.conv2d(x, w, stride=stride, dilation=dilation, groups=1 if full_depth else c)  # (1, C', OH, OW)
    out = y[0].permute(1, 2, 0)  # channels_last -> (OH, OW, C') without a copy
    out = out.contiguous().numpy()
    return out[:, :, 0] if full_depth or image.ndim == 2 else out


def _planes(image: np.ndarray) -> torch.Tensor:
    """(H, W[, C]) array -> float32 (1, C, H, W) in channels_last memory format (HWC order kept).

    Channels_last depthwise conv2d is fast on CPU; NCHW depthwise falls onto a slow reference kernel.
    """
    arr = np.ascontiguousarray(image if image.ndim == 3 else image[:, :, None])
    t = torch.from_numpy(arr) if arr.flags.writeable else torch.tensor(arr)  # read-only: copy
    return t.to(torch.float32)[None].permute(0, 3, 1, 2)


def _pad(x: torch.Tensor, pads: tuple[int, int, int, int], mode: str) -> torch.Tensor:
    top, bottom, left, right = pads
    if not any(pads):
        return x
    h, w = x.shape[-2:]
    if mode == "reflect" and (max(top, bottom) >= h or max(left, right) >= w):
        raise KernelError("kernels.error.reflect_too_wide", pad=max(pads), h=h, w=w)
    if mode == "circular" and (max(top, bottom) > h or max(left, right) > w):
        raise KernelError("kernels.error.circular_too_wide", pad=max(pads), h=h, w=w)
    torch_mode = "constant" if mode == "zeros" else mode
    return F.pad(x, (left, right, top, bottom), mode=torch_mode).contiguous(memory_format=torch.channels_last)


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
    a = np.asarray(array, dtype=np.float64)
    a3 = a[:, :, None] if a.ndim == 2 else a
    output_shape(a3.shape, (size, size), stride=stride, padding=padding)
    fill = -np.inf if kind == "max" else 0.0
    padded = np.pad(a3, ((padding, padding), (padding, padding), (0, 0)), constant_values=fill)
    windows = sliding_window_view(padded, (size, size), axis=(0, 1))[::stride, ::stride]
    out = windows.max(axis=(-2, -1)) if kind == "max" else windows.mean(axis=(-2, -1))
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
    return np.clip(np.rint(v), 0, 255).astype(np.uint8)


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
