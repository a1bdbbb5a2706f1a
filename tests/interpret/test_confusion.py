"""explorer.interpret.confusion: the matrix against scikit-learn, the images behind each cell, clicks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from explorer.interpret import cell_from_click, confusion_cell, confusion_matrix, top_confusions
from explorer.interpret.common import InterpretError


def _predictions(bundled, test_set, n: int = 300) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.no_grad():
        return bundled(test_set.images[:n]).argmax(1), test_set.labels[:n]


def test_matrix_equals_scikit_learn_with_rows_as_true_labels(bundled, test_set):
    predictions, labels = _predictions(bundled, test_set)
    ours = confusion_matrix(predictions, labels, classes=10)
    np.testing.assert_array_equal(ours, sk_confusion_matrix(labels.numpy(), predictions.numpy(), labels=range(10)))
    assert ours.dtype == np.int64 and ours.sum() == 300
    # the training wing's convention, computed its way (bincount of label * 10 + prediction)
    np.testing.assert_array_equal(ours, torch.bincount(labels * 10 + predictions, minlength=100).view(10, 10))


def test_each_cell_lists_exactly_its_images(bundled, test_set):
    predictions, labels = _predictions(bundled, test_set)
    matrix = confusion_matrix(predictions, labels, classes=10)
    seen = []
    for t in range(10):
        for p in range(10):
            cell = confusion_cell(predictions, labels, t, p)
            assert len(cell) == matrix[t, p] and (np.diff(cell) > 0).all()
            assert (labels.numpy()[cell] == t).all() and (predictions.numpy()[cell] == p).all()
            seen += list(cell)
    assert sorted(seen) == list(range(300))
    first = confusion_cell(predictions, labels, 1, 1, limit=3)
    assert list(first) == list(confusion_cell(predictions, labels, 1, 1)[:3]) and len(first) == 3
    few = confusion_cell([0, 1, 1], [0, 1, 1], 1, 1, limit=24)  # a limit above the images there: all of them
    assert list(few) == [1, 2]


def test_matrix_size_defaults_to_the_classes_seen():
    assert confusion_matrix([0, 2, 1], [1, 2, 2]).shape == (3, 3)
    assert confusion_matrix(np.array([0.0, 1.0]), np.array([1, 1])).tolist() == [[0, 0], [1, 1]]


def test_top_confusions_are_the_largest_mistakes():
    m = np.array([[50, 3, 0], [7, 40, 1], [0, 7, 30]])
    assert top_confusions(m, k=3) == [(1, 0, 7), (2, 1, 7), (0, 1, 3)]
    assert top_confusions(np.eye(3, dtype=int) * 5) == []
    assert top_confusions(np.array([[5, 1], [2, 6]]), k=5) == [(1, 0, 2), (0, 1, 1)]  # two classes, two mistakes


@pytest.mark.parametrize(("x", "y", "expected"), [
    (3, 7, (7, 3)), ("2", "0", (0, 2)), (9.0, 9.0, (9, 9)), (10, 0, None), (-1, 3, None),
    (None, 1, None), ("nan", 1, None), (float("inf"), 1, None), ("seven", 1, None),
])
def test_cell_from_click(x, y, expected):
    assert cell_from_click(x, y, 10) == expected


@pytest.mark.parametrize(("call", "key"), [
    (lambda: confusion_matrix([0, 1], [0]), "interpret.error.labels_length"),
    (lambda: confusion_matrix([[0, 1]], [[0, 1]]), "interpret.error.labels_shape"),
    (lambda: confusion_matrix([], []), "interpret.error.labels_shape"),
    (lambda: confusion_matrix([0, -1], [0, 1]), "interpret.error.labels_values"),
    (lambda: confusion_matrix([0.5, 1], [0, 1]), "interpret.error.labels_values"),
    (lambda: confusion_matrix(["a"], ["b"]), "interpret.error.labels_values"),
    (lambda: confusion_matrix([0, 9], [0, 1], classes=5), "interpret.error.integer"),
    (lambda: confusion_matrix([0, 5000], [0, 1]), "interpret.error.integer"),
    (lambda: confusion_cell([0, 1], [0, 1], 0, -1), "interpret.error.integer"),
    (lambda: confusion_cell([0, 1], [0, 1], 0, 1, limit=-1), "interpret.error.integer"),
    (lambda: top_confusions(np.zeros((2, 3))), "interpret.error.confusion_shape"),
])
def test_confusion_refusals(call, key):
    with pytest.raises(InterpretError) as info:
        call()
    assert info.value.key == key
