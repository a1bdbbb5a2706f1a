"""Backprop to the input of a convolution, the lecture's way (seed 000, "Backpropagation in Convolution Layer").

For Y = conv2d(X, W) (valid cross-correlation, one channel, stride S, zero padding P) and an error
δ = ∂L/∂Y, the lecture writes δx = δ * flip(W): the *full* convolution of δ with the kernel rotated by
180°. With a stride, δ is first dilated (S − 1 zeros between its cells, the positions the window
skipped); the result is the gradient for the padded input, whose border (the padding) is cropped; rows
and columns no window reached get 0. Beside it, dW = X ⋆ δ (the weight gradient the Backprop stepper
shows), with the same dilation. Every step is kept so a page can show it; torch autograd is the oracle
(`torch_gradients`), never used for the computation itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from explorer.backprop.toy import BackpropInputError, parse_matrix

MAX_SIDE = 9  # the pictures are for small matrices
MAX_KERNEL = 5
MAX_STRIDE = 3
MAX_PADDING = 3


def _whole(value: object, name: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise BackpropInputError("backprop.error.setting", name=name, value=str(value), low=low, high=high)
    return int(value)


def forward_shape(input_shape: Sequence[int], kernel_shape: Sequence[int], *, stride: int = 1,
                  padding: int = 0) -> tuple[int, int]:
    """(OH, OW) of Y = conv2d(X, W), or BackpropInputError when the kernel does not fit."""
    stride = _whole(stride, "S", low=1, high=MAX_STRIDE)
    padding = _whole(padding, "P", low=0, high=MAX_PADDING)
    h, w = (int(v) for v in input_shape)
    kh, kw = (int(v) for v in kernel_shape)
    oh, ow = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    if h + 2 * padding < kh or w + 2 * padding < kw:
        raise BackpropInputError("backprop.error.kernel_too_big", x=f"{h}×{w}", w=f"{kh}×{kw}", p=padding)
    return oh, ow


def dilate(delta: np.ndarray, stride: int) -> np.ndarray:
    """δ with ``stride − 1`` zeros between neighbouring cells: ((OH−1)S + 1, (OW−1)S + 1)."""
    d = np.asarray(delta, dtype=np.float64)
    out = np.zeros(((d.shape[0] - 1) * stride + 1, (d.shape[1] - 1) * stride + 1))
    out[::stride, ::stride] = d
    return out


def correlate(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Valid cross-correlation: out[i, j] = Σ x[i + a, j + b] k[a, b]."""
    oh, ow = x.shape[0] - k.shape[0] + 1, x.shape[1] - k.shape[1] + 1
    out = np.zeros((oh, ow))
    for a in range(k.shape[0]):
        for b in range(k.shape[1]):
            out += k[a, b] * x[a:a + oh, b:b + ow]
    return out


@dataclass(frozen=True)
class InputGradient:
    """Every picture of δx = full convolution of δ with the rotated kernel, for one setting."""

    delta: np.ndarray  # (OH, OW): ∂L/∂Y
    dilated: np.ndarray  # ((OH−1)S + 1, (OW−1)S + 1): δ with the stride's zeros
    full: np.ndarray  # dilated δ with a border of K − 1 zeros: the full convolution's input
    flipped: np.ndarray  # (kh, kw): the kernel rotated by 180°
    reached: np.ndarray  # ((OH−1)S + kh, (OW−1)S + kw): gradient of the padded input rows the windows reached
    padded: np.ndarray  # (H + 2P, W + 2P): the same, with 0 for rows/columns no window reached
    grad: np.ndarray  # (H, W): δx, the padding cropped
    stride: int
    padding: int


def input_gradient(delta: np.ndarray, kernel: np.ndarray, *, stride: int = 1, padding: int = 0,
                   input_shape: Sequence[int]) -> np.ndarray:
    """dL/dX for Y = conv2d(X, kernel): the full convolution of (dilated) δ with the rotated kernel."""
    return input_gradient_steps(delta, kernel, stride=stride, padding=padding, input_shape=input_shape).grad


def input_gradient_steps(delta: np.ndarray, kernel: np.ndarray, *, stride: int = 1, padding: int = 0,
                         input_shape: Sequence[int]) -> InputGradient:
    """`input_gradient` with every intermediate picture; BackpropInputError for shapes that do not fit."""
    d, k = _matrix(delta, "δ"), _matrix(kernel, "W")
    h, w = _input_shape(input_shape)
    oh, ow = forward_shape((h, w), k.shape, stride=stride, padding=padding)
    if d.shape != (oh, ow):
        raise BackpropInputError("backprop.error.delta_shape", got=_text(d.shape), expected=_text((oh, ow)))
    dilated = dilate(d, stride)
    kh, kw = k.shape
    full = np.pad(dilated, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    flipped = k[::-1, ::-1]
    reached = correlate(full, flipped)
    padded = np.zeros((h + 2 * padding, w + 2 * padding))
    padded[:reached.shape[0], :reached.shape[1]] = reached
    return InputGradient(d, dilated, full, flipped, reached, padded,
                         padded[padding:padding + h, padding:padding + w].copy(), stride, padding)


def weight_gradient(x: np.ndarray, delta: np.ndarray, *, stride: int = 1, padding: int = 0,
                    kernel_shape: Sequence[int]) -> np.ndarray:
    """dL/dW = X ⋆ δ: the padded input cross-correlated with the dilated δ -> (kh, kw)."""
    a, d = _matrix(x, "X"), _matrix(delta, "δ")
    kh, kw = (int(v) for v in kernel_shape)
    oh, ow = forward_shape(a.shape, (kh, kw), stride=stride, padding=padding)
    if d.shape != (oh, ow):
        raise BackpropInputError("backprop.error.delta_shape", got=_text(d.shape), expected=_text((oh, ow)))
    xp = np.pad(a, padding)
    dilated = dilate(d, stride)
    return correlate(xp[:dilated.shape[0] + kh - 1, :dilated.shape[1] + kw - 1], dilated)


@dataclass(frozen=True)
class Window:
    """One cell of δx (in the padded input's coordinates): the rotated kernel over the full δ."""

    row: int
    col: int
    window: np.ndarray  # (kh, kw) values of the bordered, dilated δ under the kernel
    products: np.ndarray  # window × flipped kernel
    value: float
    cropped: bool  # the cell is padding: its gradient is dropped


def windows(result: InputGradient) -> list[Window]:
    """Every reached cell in row-major order, as the full convolution computes it."""
    kh, kw = result.flipped.shape
    h, w = result.grad.shape
    p = result.padding
    out = []
    for r in range(result.reached.shape[0]):
        for c in range(result.reached.shape[1]):
            win = result.full[r:r + kh, c:c + kw]
            products = win * result.flipped
            cropped = not (p <= r < p + h and p <= c < p + w)
            out.append(Window(r, c, win.copy(), products, float(products.sum()), cropped))
    return out


def torch_gradients(x: np.ndarray, kernel: np.ndarray, delta: np.ndarray, *, stride: int = 1,
                    padding: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(dL/dX, dL/dW) from torch autograd (float64) for L = Σ δ · conv2d(X, W): the oracle."""
    xt = torch.tensor(np.asarray(x, dtype=np.float64))[None, None].requires_grad_(True)
    wt = torch.tensor(np.asarray(kernel, dtype=np.float64))[None, None].requires_grad_(True)
    y = F.conv2d(xt, wt, stride=stride, padding=padding)
    y.backward(torch.tensor(np.asarray(delta, dtype=np.float64))[None, None])
    return xt.grad[0, 0].numpy(), wt.grad[0, 0].numpy()


def _matrix(values: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64)
    if a.ndim != 2 or 0 in a.shape:
        raise BackpropInputError("backprop.error.ndim", name=name)
    if not np.all(np.isfinite(a)):
        raise BackpropInputError("backprop.error.not_finite", name=name)
    limit = {"W": MAX_KERNEL, "δ": MAX_SIDE + 2 * MAX_PADDING}.get(name, MAX_SIDE)
    if max(a.shape) > limit:
        raise BackpropInputError("backprop.error.too_large", name=name, shape=_text(a.shape), limit=limit)
    return a


def _input_shape(shape: Sequence[int]) -> tuple[int, int]:
    h, w = (int(v) for v in shape)
    if not (1 <= h <= MAX_SIDE and 1 <= w <= MAX_SIDE):
        raise BackpropInputError("backprop.error.too_large", name="X", shape=_text((h, w)), limit=MAX_SIDE)
    return h, w


def _text(shape: Sequence[int]) -> str:
    return "×".join(str(int(s)) for s in shape)


# ---------------------------------------------------------------- pooling, backwards ("upsampling")

def lp_pool_gradient(window: np.ndarray, p: float) -> np.ndarray:
    """∂g/∂x_i of Lp pooling g(x) = (Σ|x_k|^p)^(1/p) over one window (the lecture's formula)."""
    x = np.asarray(window, dtype=np.float64)
    total = np.sum(np.abs(x) ** p)
    return total ** (1 / p - 1) * np.abs(x) ** (p - 1) * np.sign(x)


# ---------------------------------------------------------------- the lecture-sized examples

# seed 001's 4x4 input and 3x3 filter; seed 001's 7x7 stride-2 example
LECTURE_X = np.array([[1, 2, 3, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 3, 0, 1]], dtype=np.float64)
LECTURE_W = np.array([[2, 0, 1], [0, 1, 2], [1, 0, 2]], dtype=np.float64)
MATRIX7 = np.fromfunction(lambda r, c: (c - r + 1) % 4, (7, 7))
EXAMPLES: dict[str, tuple[np.ndarray, np.ndarray, int, int]] = {  # name -> (X, W, stride, padding)
    "lecture_4x4": (LECTURE_X, LECTURE_W, 1, 0),
    "lecture_4x4_padded": (LECTURE_X, LECTURE_W, 1, 1),
    "stride2_7x7": (MATRIX7, LECTURE_W, 2, 0),
    "stride2_6x6_uneven": (MATRIX7[:6, :6], LECTURE_W, 2, 0),
}


def default_delta(shape: Sequence[int]) -> np.ndarray:
    """An easy-to-follow error signal of ``shape``: 1, 2, 3, … row by row."""
    oh, ow = (int(v) for v in shape)
    return np.arange(1, oh * ow + 1, dtype=np.float64).reshape(oh, ow)


def parse_grid(text: str, *, name: str) -> np.ndarray:
    """A matrix of any size typed as rows on lines (`explorer.backprop.toy.parse_matrix`'s rules)."""
    lines = [ln.strip().strip("[]") for ln in str(text).strip().splitlines() if ln.strip()]
    first = lines[0] if lines else ""
    width = len(first.split(",")) if "," in first else len(first.split())
    return _matrix(parse_matrix(text, name=name, shape=(len(lines), width)), name)


@dataclass(frozen=True)
class Setting:
    """A checked input for the "backprop to the input" view."""

    x: np.ndarray  # (H, W)
    kernel: np.ndarray  # (kh, kw)
    delta: np.ndarray  # (OH, OW)
    stride: int
    padding: int

    @property
    def cells(self) -> int:
        """How many cells the full convolution computes (the step-through's length)."""
        return input_gradient_steps(self.delta, self.kernel, stride=self.stride, padding=self.padding,
                                    input_shape=self.x.shape).reached.size


def setting(x_text: str, w_text: str, delta_text: str | None, *, stride: int, padding: int) -> Setting:
    """Parse and check X, W and δ (δ = 1, 2, 3, … when ``delta_text`` is None); BackpropInputError if bad."""
    x, k = parse_grid(x_text, name="X"), parse_grid(w_text, name="W")
    shape = forward_shape(x.shape, k.shape, stride=stride, padding=padding)
    delta = default_delta(shape) if delta_text is None else parse_grid(delta_text, name="δ")
    input_gradient_steps(delta, k, stride=stride, padding=padding, input_shape=x.shape)  # checks δ's shape
    return Setting(x, k, delta, int(stride), int(padding))
