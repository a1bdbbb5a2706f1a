"""The symbolic view of a convolution's backprop (seed 004, "CNN Backpropagation"): letters, not numbers.

Input cells are x_ij, weights w_ab, outputs y_ij (1-based, as the slide writes them; stride 1, no
padding). Every output is a sum of products (``y_11 = x_11 w_11 + x_12 w_12 + …``); the same weight
appears in every window, so its gradient is a sum over positions: with P = Σ y (every δ = 1, the slide's
∂P11/∂w11) ``∂P/∂w_11 = x_11 + x_12 + x_21 + x_22``, in general ``Σ δ_ij x_(i+a−1)(j+b−1)``. An input
cell's gradient collects the weights of every window it was in: ``∂L/∂x_rc = Σ δ_ij w_ab`` — the full
convolution with the rotated kernel (`explorer.backprop.input_grad`). Terms are kept as index tuples, so
the tests evaluate them on numbers and compare with torch autograd.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.backprop.toy import BackpropInputError

Index = tuple[int, int]  # 1-based (row, column)
MAX_INPUT, MAX_KERNEL = 6, 4
DELTA = r"\delta"


@dataclass(frozen=True)
class Layout:
    """An H×W input and a kh×kw kernel at stride 1 without padding (the slide's setting)."""

    h: int
    w: int
    kh: int
    kw: int

    @property
    def out(self) -> tuple[int, int]:
        return self.h - self.kh + 1, self.w - self.kw + 1


def layout(h: int, w: int, kh: int, kw: int) -> Layout:
    """A checked `Layout`, or BackpropInputError (sizes 1..MAX, kernel not larger than the input)."""
    for name, value, high in (("H", h, MAX_INPUT), ("W", w, MAX_INPUT), ("kh", kh, MAX_KERNEL), ("kw", kw, MAX_KERNEL)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= high:
            raise BackpropInputError("backprop.error.setting", name=name, value=str(value), low=1, high=high)
    if kh > h or kw > w:
        raise BackpropInputError("backprop.error.kernel_too_big", x=f"{h}×{w}", w=f"{kh}×{kw}", p=0)
    return Layout(int(h), int(w), int(kh), int(kw))


def output_terms(lay: Layout, i: int, j: int) -> list[tuple[Index, Index]]:
    """y_ij = Σ x · w as (x index, w index) pairs, in the kernel's reading order."""
    return [((i + a - 1, j + b - 1), (a, b)) for a in range(1, lay.kh + 1) for b in range(1, lay.kw + 1)]


def weight_terms(lay: Layout, a: int, b: int) -> list[tuple[Index, Index]]:
    """∂L/∂w_ab = Σ δ_ij x_(i+a−1)(j+b−1) as (δ index, x index) pairs, one per output position."""
    oh, ow = lay.out
    return [((i, j), (i + a - 1, j + b - 1)) for i in range(1, oh + 1) for j in range(1, ow + 1)]


def input_terms(lay: Layout, r: int, c: int) -> list[tuple[Index, Index]]:
    """∂L/∂x_rc = Σ δ_ij w_ab over the windows that contain x_rc, as (δ index, w index) pairs."""
    oh, ow = lay.out
    return [((i, j), (r - i + 1, c - j + 1)) for i in range(1, oh + 1) for j in range(1, ow + 1)
            if 1 <= r - i + 1 <= lay.kh and 1 <= c - j + 1 <= lay.kw]


def _sym(name: str, index: Index) -> str:
    return f"{name}_{{{index[0]}{index[1]}}}" if max(index) < 10 else f"{name}_{{{index[0]},{index[1]}}}"


def output_latex(lay: Layout, i: int, j: int) -> str:
    """``y_{11} = x_{11} w_{11} + x_{12} w_{12} + …``"""
    body = " + ".join(f"{_sym('x', x)}\\,{_sym('w', w)}" for x, w in output_terms(lay, i, j))
    return f"{_sym('y', (i, j))} = {body}"


def weight_latex(lay: Layout, a: int, b: int, *, ones: bool) -> str:
    """The shared weight's gradient: with ``ones`` (P = Σ y, every δ = 1) the slide's sum of x's."""
    terms = weight_terms(lay, a, b)
    if ones:
        return (f"\\frac{{\\partial P}}{{\\partial {_sym('w', (a, b))}}} = "
                + " + ".join(_sym("x", x) for _, x in terms))
    return (f"\\frac{{\\partial L}}{{\\partial {_sym('w', (a, b))}}} = "
            + " + ".join(f"{_sym(DELTA, d)}\\,{_sym('x', x)}" for d, x in terms))


def input_latex(lay: Layout, r: int, c: int) -> str:
    """``∂L/∂x_rc = δ_11 w_22 + …`` (the windows that contained x_rc)."""
    terms = input_terms(lay, r, c)
    return (f"\\frac{{\\partial L}}{{\\partial {_sym('x', (r, c))}}} = "
            + " + ".join(f"{_sym(DELTA, d)}\\,{_sym('w', w)}" for d, w in terms))


def symbols(name: str, rows: int, cols: int) -> list[list[str]]:
    """Cell labels ``x11``, ``x12``, … for a grid figure (plain text, 1-based)."""
    return [[f"{name}{i}{j}" if max(rows, cols) < 10 else f"{name}{i},{j}" for j in range(1, cols + 1)]
            for i in range(1, rows + 1)]


def evaluate(terms: list[tuple[Index, Index]], first: np.ndarray, second: np.ndarray) -> float:
    """A sum of products of two symbol grids' values (1-based indices into ``first`` and ``second``)."""
    return float(sum(first[p[0] - 1, p[1] - 1] * second[q[0] - 1, q[1] - 1] for p, q in terms))
