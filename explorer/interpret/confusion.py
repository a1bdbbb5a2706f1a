"""The clickable confusion matrix: counts of (true, predicted) pairs, and the test images behind a cell.

Rows are the true label, columns the prediction, as in `explorer.training`'s evaluation; the diagonal holds
the digits read correctly. Clicking a cell asks `confusion_cell` which images those are.
"""

from __future__ import annotations

import numpy as np
import torch

from explorer.interpret.common import InterpretError, check_count

MAX_CLASSES = 1000


def _labels(values: object, name: str) -> np.ndarray:
    v = np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values)
    if v.ndim != 1 or not v.size:
        raise InterpretError("interpret.error.labels_shape", name=name, shape=str(v.shape))
    whole = v.dtype.kind in "iu" or (v.dtype.kind == "f" and np.isfinite(v).all() and (v == np.round(v)).all())
    if not whole:
        raise InterpretError("interpret.error.labels_values", name=name)
    v = v.astype(np.int64)
    if v.min() < 0:
        raise InterpretError("interpret.error.labels_values", name=name)
    return v


def _pair(predictions: object, labels: object) -> tuple[np.ndarray, np.ndarray]:
    p, y = _labels(predictions, "predictions"), _labels(labels, "labels")
    if len(p) != len(y):
        raise InterpretError("interpret.error.labels_length", predictions=len(p), labels=len(y))
    return p, y


def confusion_matrix(predictions: object, labels: object, *, classes: int | None = None) -> np.ndarray:
    """(K, K) int64 counts: entry [t, p] = how many images of true label t were predicted p.

    K is ``classes``, or one more than the largest label or prediction seen.
    """
    p, y = _pair(predictions, labels)
    seen = int(max(p.max(), y.max())) + 1
    k = seen if classes is None else check_count(classes, name="classes", low=seen, high=MAX_CLASSES)
    if k > MAX_CLASSES:
        raise InterpretError("interpret.error.integer", name="classes", value=str(k), low=1, high=MAX_CLASSES)
    return np.bincount(y * k + p, minlength=k * k).reshape(k, k).astype(np.int64)


def confusion_cell(predictions: object, labels: object, true: int, predicted: int, *,
                   limit: int | None = None) -> np.ndarray:
    """Indices (ascending, int64) of the images with label ``true`` predicted as ``predicted``; the first
    ``limit`` of them if given."""
    p, y = _pair(predictions, labels)
    true = check_count(true, name="true", low=0, high=MAX_CLASSES - 1)
    predicted = check_count(predicted, name="predicted", low=0, high=MAX_CLASSES - 1)
    found = np.flatnonzero((y == true) & (p == predicted)).astype(np.int64)
    if limit is not None:
        found = found[:check_count(limit, name="limit", low=0, high=2**31 - 1)]  # more than there are: all
    return found


def top_confusions(matrix: object, *, k: int = 5) -> list[tuple[int, int, int]]:
    """The ``k`` largest off-diagonal cells as (true, predicted, count), largest first, empty cells left out:
    "the mistakes this model makes most" (all of them when there are fewer than ``k``)."""
    m = np.asarray(matrix, dtype=np.int64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise InterpretError("interpret.error.confusion_shape", shape=str(m.shape))
    off = m.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(-off.ravel(), kind="stable")[:check_count(k, name="k", low=1, high=MAX_CLASSES**2)]
    cells = [(int(i // m.shape[1]), int(i % m.shape[1]), int(off.ravel()[i])) for i in order]
    return [c for c in cells if c[2] > 0]


def cell_from_click(x: object, y: object, classes: int) -> tuple[int, int] | None:
    """(true, predicted) for a click on a heatmap whose x axis is the prediction and y axis the true label
    (Plotly reports the clicked point's x and y); None for anything outside the matrix."""
    try:
        predicted, true = round(float(x)), round(float(y))
    except (TypeError, ValueError, OverflowError):
        return None
    if not (0 <= true < classes and 0 <= predicted < classes):
        return None
    return true, predicted
