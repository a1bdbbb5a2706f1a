"""Position-by-position records of a convolution or pooling on a small matrix (for the step-through).

Each `Step` holds the window under the kernel, the element-wise products and their sum, so a page
can write out ``2×1 + 0×2 + … = 7`` and fill in one output cell at a time. Built-in examples are the
lectures' own worked examples (seeds 000, 001, 002 and 004).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from explorer.kernels.ops import (
    MAX_BIAS,
    KernelError,
    check_options,
    output_shape,
    resolve_padding,
)

Op = Literal["conv", "max", "avg"]
MAX_MATRIX = 12  # the step-through is for small matrices


@dataclass(frozen=True)
class Step:
    """One window position. Coordinates are in the padded input."""

    out_row: int
    out_col: int
    top: int  # window's top row in the padded input
    left: int  # window's left column in the padded input
    window: np.ndarray  # (kh, kw) input values under the window
    products: np.ndarray | None  # (kh, kw) window * kernel for "conv", None for pooling
    value: float  # sum of products (+ bias), or max / mean of the window


@dataclass(frozen=True)
class Example:
    """A worked example: label key ``kernel_lab.example.<name>``, optional caption ``...<name>.note``."""

    name: str
    op: Op
    matrix: np.ndarray
    kernel: np.ndarray | None = None  # for "conv"
    size: int = 2  # window size for pooling
    stride: int = 1
    padding: int = 0
    expected: np.ndarray | None = field(default=None)
    bias: float = 0.0  # for "conv": added to every output (one bias per filter)


def pad_matrix(matrix: np.ndarray, padding: int) -> np.ndarray:
    """``matrix`` with a border of ``padding`` zeros."""
    return np.pad(np.asarray(matrix, dtype=np.float64), padding)


def steps(matrix: np.ndarray, *, op: Op = "conv", kernel: np.ndarray | None = None, size: int = 2,
          stride: int = 1, padding: int = 0, bias: float = 0.0) -> list[Step]:
    """Every window position in row-major order (zero padding), or `KernelError` for bad options.

    ``bias`` (convolution only) is added to every sum, as ``conv2d``'s bias.
    """
    if op == "conv" and (not np.isfinite(bias) or abs(bias) > MAX_BIAS):
        raise KernelError("kernels.error.bias", value=f"{bias:g}", max=f"{MAX_BIAS:g}")
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or max(m.shape) > MAX_MATRIX:
        raise KernelError("kernels.error.shape", image=str(m.shape), kernel=str(np.shape(kernel)))
    k = np.asarray(kernel, dtype=np.float64) if op == "conv" else np.ones((size, size))
    if k.ndim != 2:
        raise KernelError("kernels.error.shape", image=str(m.shape), kernel=str(k.shape))
    check_options(stride=stride)
    resolve_padding(padding, k.shape)
    oh, ow = output_shape(m.shape, k.shape, stride=stride, padding=padding)
    padded = pad_matrix(m, padding)
    kh, kw = k.shape
    out = []
    for r in range(oh):
        for c in range(ow):
            top, left = r * stride, c * stride
            window = padded[top:top + kh, left:left + kw]
            if op == "conv":
                products = window * k
                value = float(products.sum()) + bias
            else:
                products = None
                value = float(window.max() if op == "max" else window.mean())
            out.append(Step(r, c, top, left, window.copy(), products, value))
    return out


def result(all_steps: list[Step], *, upto: int | None = None) -> np.ndarray:
    """The output matrix, filled for the first ``upto`` steps (NaN elsewhere; all when None)."""
    oh = max(s.out_row for s in all_steps) + 1
    ow = max(s.out_col for s in all_steps) + 1
    out = np.full((oh, ow), np.nan)
    for s in all_steps[: len(all_steps) if upto is None else upto]:
        out[s.out_row, s.out_col] = s.value
    return out


def fmt(x: float) -> str:
    """Short number: integers without decimals, others with up to 3."""
    return str(int(round(x))) if abs(x - round(x)) < 1e-9 else f"{x:.3f}".rstrip("0").rstrip(".")


def step_formula(step: Step, *, kernel: np.ndarray | None = None, op: Op = "conv", bias: float = 0.0) -> str:
    """The arithmetic of one step as text: ``1×2 + 2×0 + … = 7``, ``max(1, 3, 2, 1) = 3``; a bias is
    written last: ``… + 0×2 + (−1) = 6``."""
    if op == "conv" and kernel is not None:
        terms = [f"{fmt(x)}×{fmt(w)}" for x, w in zip(step.window.ravel(), np.asarray(kernel).ravel())]
        if bias:
            terms.append(fmt(bias) if bias > 0 else f"({fmt(bias)})")
        return " + ".join(terms) + f" = {fmt(step.value)}"
    values = ", ".join(fmt(x) for x in step.window.ravel())
    if op == "max":
        return f"max({values}) = {fmt(step.value)}"
    return f"({values.replace(', ', ' + ')}) / {step.window.size} = {fmt(step.value)}"


_LECTURE_K = np.array([[2, 0, 1], [0, 1, 2], [1, 0, 2]], dtype=float)
_MATRIX7 = np.fromfunction(lambda r, c: (c - r + 1) % 4, (7, 7))  # rows 1 2 3 0 1 2 3 / 0 1 2 3 …
_POOL4 = np.array([[1, 3, 3, 2], [2, 1, 3, 5], [7, 2, 6, 2], [2, 2, 4, 1]], dtype=float)
# seed 002 keeps only the output 6 8 / 3 4; the slide's figure is CS231n's 4x4 input
_CS231N_POOL = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=float)
EXAMPLES: dict[str, Example] = {
    "padded_4x4": Example(  # seed 001: input 4x4, padding 1, stride 1
        "padded_4x4", "conv", np.array([[1, 2, 3, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 3, 0, 1]], float),
        kernel=_LECTURE_K, padding=1,
        expected=np.array([[7, 12, 10, 2], [4, 15, 16, 10], [10, 6, 15, 6], [8, 10, 4, 3]], float)),
    "stride2_7x7": Example(  # seed 001: input 7x7, padding 0, stride 2 -> 3x3 (first row 15 17 ...)
        "stride2_7x7", "conv", _MATRIX7,
        kernel=_LECTURE_K, stride=2,
        expected=np.array([[15, 17, 15], [17, 15, 17], [15, 17, 15]], float)),
    "padded_3x3": Example(  # seed 004: the 3x3 image drawn with its zero border (5x5), P=1, S=1
        "padded_3x3", "conv", np.pad(np.array([[1, 3, 5], [2, 0, 0], [2, 4, 1]], float), 1),
        kernel=np.array([[2, 1, 0], [0, 0, 1], [1, 2, 2]], float), padding=1,
        expected=np.array([[2, 8, 17, 13, 5], [5, 7, 7, 0, 0], [6, 13, 17, 17, 11],
                           [2, 6, 5, 0, 0], [0, 2, 8, 9, 2]], float)),  # centre 3x3 = the 3x3 image, P=1
    "max_pool_4x4": Example("max_pool_4x4", "max", _POOL4, size=2, stride=1,
                            expected=np.array([[3, 3, 5], [7, 6, 6], [7, 6, 6]], float)),
    "avg_pool_4x4": Example("avg_pool_4x4", "avg", _POOL4, size=2, stride=1,
                            expected=np.array([[1.75, 2.5, 3.25], [3, 3, 4], [3.25, 3.5, 3.25]])),
    "max_pool_stride2": Example("max_pool_stride2", "max", _CS231N_POOL, size=2, stride=2,  # seed 002
                                expected=np.array([[6, 8], [3, 4]], float)),
    "edge_step": Example(  # seed 001: a 0 | 100 step under the vertical edge filter
        "edge_step", "conv", np.tile([0, 0, 0, 100, 100, 100], (5, 1)).astype(float),
        kernel=np.array([[-1, 0, 1]] * 3, float),
        expected=np.tile([0, 300, 300, 0], (3, 1)).astype(float)),
}


def run_example(example: Example) -> list[Step]:
    return steps(example.matrix, op=example.op, kernel=example.kernel, size=example.size,
                 stride=example.stride, padding=example.padding, bias=example.bias)
