"""The Kernel lab's kernel editor without Streamlit: how a kernel is written in cells and text, and how
a grid of typed cells changes when the user edits, pastes or resizes it.

Cells are kept as the text the user typed (``"1/9"`` stays ``"1/9"``); `explorer.kernels.ops.parse_kernel`
turns a grid into numbers (or names the bad cell).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Mapping, Sequence

import numpy as np

CUSTOM = "custom"  # the preset id of a kernel the user made (edited, random, pasted, resized)
MAX_DENOMINATOR = 256  # 1/9, 1/16, 1/256 are shown as fractions; other values as decimals


def cell_text(value: float) -> str:
    """One weight as the lectures write it: ``1/9``, ``-1``, ``0.25``, ``0.1234``."""
    if float(value).is_integer():
        return str(int(value))
    fraction = Fraction(float(value)).limit_denominator(MAX_DENOMINATOR)
    if abs(float(fraction) - value) < 1e-12 and fraction.denominator not in (2, 4, 5, 10):
        return f"{fraction.numerator}/{fraction.denominator}"
    return f"{value:.6g}"


def kernel_cells(kernel: np.ndarray) -> list[list[str]]:
    """A kernel as rows of cell texts."""
    return [[cell_text(v) for v in row] for row in np.asarray(kernel, dtype=float)]


def cells_text(cells: Sequence[Sequence[object]]) -> str:
    """Cells as the text box shows them: one row per line, cells separated by spaces."""
    return "\n".join(" ".join(str(c) if str(c).strip() else "?" for c in row) for row in cells)


def apply_edits(cells: Sequence[Sequence[object]], edited_rows: Mapping[Any, Mapping[str, Any]]) -> list[list[str]]:
    """``cells`` with a data editor's edits applied: ``{row: {"column number (1-based)": value}}``."""
    out = [[str(c) for c in row] for row in cells]
    for row, changes in edited_rows.items():
        for column, value in changes.items():
            r, c = int(row), int(column) - 1
            if 0 <= r < len(out) and 0 <= c < len(out[r]):
                out[r][c] = "" if value is None else str(value)
    return out


def resized(cells: Sequence[Sequence[object]], rows: int, cols: int) -> list[list[str]]:
    """``cells`` cut or padded with 0 to ``rows`` x ``cols`` (top-left kept)."""
    return [[str(cells[i][j]) if i < len(cells) and j < len(cells[i]) else "0" for j in range(cols)]
            for i in range(rows)]
