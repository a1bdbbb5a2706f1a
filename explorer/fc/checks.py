"""Input checks shared by the fully connected lesson: one error class and a few validators.

Every refusal is an :class:`FCError` whose ``key`` is an ``fc.error.*`` i18n key, so a page shows
``t(err.key, **err.params)`` and keeps its previous values.
"""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from explorer.core.i18n import UserError

MAX_ABS = 1e6  # |value| above this is refused: every product in the lesson's networks then stays finite


class FCError(UserError):
    """A user-facing input problem of the fully connected lesson (an ``fc.error.*`` key + params)."""


def option(value: object, choices: Iterable[str], *, name: str) -> str:
    """``value`` if it is one of ``choices``, else ``fc.error.option``."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise FCError("fc.error.option", name=name, value=str(value)[:40], choices=", ".join(choices))
    return value


def integer(value: object, *, name: str, low: int, high: int) -> int:
    """``value`` as an int in [low, high], else ``fc.error.not_integer`` / ``fc.error.range``."""
    if isinstance(value, bool):
        raise FCError("fc.error.not_integer", name=name, value=str(value))
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise FCError("fc.error.not_integer", name=name, value=str(value)[:40]) from None
    if not math.isfinite(x) or x != int(x):
        raise FCError("fc.error.not_integer", name=name, value=str(value)[:40])
    if not low <= int(x) <= high:
        raise FCError("fc.error.range", name=name, value=int(x), low=low, high=high)
    return int(x)


def number(value: object, *, name: str, low: float, high: float) -> float:
    """``value`` as a finite float in [low, high], else ``fc.error.not_number_value`` / ``fc.error.range``."""
    if isinstance(value, bool):
        raise FCError("fc.error.not_number_value", name=name, value=str(value))
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FCError("fc.error.not_number_value", name=name, value=str(value)[:40]) from None
    if not math.isfinite(x):
        raise FCError("fc.error.not_finite", name=name)
    if not low <= x <= high:
        raise FCError("fc.error.range", name=name, value=f"{x:g}", low=f"{low:g}", high=f"{high:g}")
    return x


def array(value: object, *, name: str, ndim: int, max_cells: int) -> np.ndarray:
    """A float64 copy of ``value`` with ``ndim`` dimensions, no empty axis, at most ``max_cells`` entries,
    finite and within ±MAX_ABS."""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise FCError("fc.error.not_numbers", name=name) from None
    if arr.ndim != ndim or 0 in arr.shape:
        raise FCError("fc.error.ndim", name=name, ndim=ndim, got=shape_text(arr.shape))
    if arr.size > max_cells:
        raise FCError("fc.error.too_big", name=name, got=shape_text(arr.shape), limit=max_cells)
    if not np.all(np.isfinite(arr)):
        raise FCError("fc.error.not_finite", name=name)
    if np.max(np.abs(arr)) > MAX_ABS:
        raise FCError("fc.error.too_large_value", name=name, limit=f"{MAX_ABS:g}")
    return arr


def shape_text(shape: tuple[int, ...]) -> str:
    """``(4, 16)`` → ``4×16``; a vector ``(4,)`` → ``4``; a scalar → ``1``."""
    return "×".join(str(s) for s in shape) if shape else "1"
