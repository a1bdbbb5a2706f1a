"""Shifted digits: shift_accuracy against a copy shifted by hand, and the FC-vs-CNN job on a small sample."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from explorer.activations import load_bundled_model
from explorer.core.data import load_embedded
from explorer.fc import shift
from explorer.fc.checks import FCError


@pytest.fixture(scope="module")
def data():
    train, test = load_embedded("train"), load_embedded("test")
    return train.images[:300], train.labels[:300], test.images[:200], test.labels[:200]


def _by_hand(images: np.ndarray, s: int) -> np.ndarray:
    out = np.zeros_like(images)
    for col in range(images.shape[-1]):
        if 0 <= col - s < images.shape[-1]:
            out[..., col] = images[..., col - s]
    return out


@pytest.mark.parametrize("s", [-3, -1, 0, 1, 2, 4, 27])
def test_shift_right_moves_columns_and_fills_zeros(s):
    images = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    np.testing.assert_array_equal(shift.shift_right(images, s).numpy(), _by_hand(images.numpy(), s))


def test_shift_accuracy_matches_a_hand_shifted_copy(data):
    model = load_bundled_model()
    images, labels = data[2], data[3]
    shifts = [0, 1, 2, 3, 4]
    got = shift.shift_accuracy(model, images, labels, shifts)
    for s, acc in zip(shifts, got):
        moved = torch.from_numpy(_by_hand(images.numpy(), s))
        with torch.no_grad():
            expected = int((model(moved).argmax(1) == labels).sum()) / len(labels)
        assert acc == pytest.approx(expected, abs=1e-12)
    assert got[0] > 0.9 and got[-1] < got[0]


def test_shift_accuracy_leaves_the_model_mode_alone(data):
    model = load_bundled_model().train()
    shift.shift_accuracy(model, data[2][:10], data[3][:10], [0])
    assert model.training


def test_fc_vs_cnn_is_seeded_and_consistent(data):
    seen = []
    a = shift.fc_vs_cnn(*data, shifts=(0, 2), epochs=1, seed=3, progress=seen.append)
    b = shift.fc_vs_cnn(*data, shifts=(0, 2), epochs=1, seed=3)
    assert a.shifts == (0, 2) and len(a.mlp_accuracy) == len(a.cnn_accuracy) == 2
    assert a.mlp_accuracy == b.mlp_accuracy and a.cnn_accuracy == b.cnn_accuracy
    assert a.mlp_accuracy[0] == pytest.approx(a.mlp_figures.test_accuracy[-1])
    assert a.cnn_accuracy[0] == pytest.approx(a.cnn_figures.test_accuracy[-1])
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0) and seen[0] == pytest.approx(0.1)
    assert a.mlp_parameters == 784 * 100 + 100 + 100 * 10 + 10
    assert a.cnn_parameters == (9 * 32 + 32) + (9 * 32 * 64 + 64) + (3136 * 10 + 10)
    assert a.train_size == 300 and a.epochs == 1 and a.mlp_seconds > 0 and a.cnn_seconds > 0
    assert pickle.loads(pickle.dumps(a)).cnn_accuracy == a.cnn_accuracy  # a worker can send it back
    mlp, cnn = shift.load_models(a)
    assert shift.shift_accuracy(mlp, data[2], data[3], (0, 2)) == a.mlp_accuracy
    assert shift.shift_accuracy(cnn, data[2], data[3], (0, 2)) == a.cnn_accuracy


@pytest.mark.parametrize(("call", "key"), [
    (lambda m, d: shift.shift_accuracy(m, d[2][:, 0], d[3], [0]), "fc.error.images"),
    (lambda m, d: shift.shift_accuracy(m, d[2], d[3][:5], [0]), "fc.error.images"),
    (lambda m, d: shift.shift_accuracy(m, d[2].numpy(), d[3], [0]), "fc.error.images"),
    (lambda m, d: shift.shift_accuracy(m, d[2], d[3], [28]), "fc.error.range"),
    (lambda m, d: shift.shift_accuracy(m, d[2], d[3], [1.5]), "fc.error.not_integer"),
    (lambda m, d: shift.shift_accuracy(m, d[2] * float("nan"), d[3], [0]), "fc.error.not_finite"),
    (lambda m, d: shift.fc_vs_cnn(*d, shifts=()), "fc.error.no_shifts"),
    (lambda m, d: shift.fc_vs_cnn(*d, epochs=0), "fc.error.range"),
    (lambda m, d: shift.fc_vs_cnn(*d, activation="tanh"), "fc.error.option"),
    (lambda m, d: shift.fc_vs_cnn(*d, hidden=0), "fc.error.range"),
    (lambda m, d: shift.fc_vs_cnn(d[0], d[1] - 1, d[2], d[3]), "fc.error.mnist_labels"),
])
def test_refusals(call, key, data, translated):
    with pytest.raises(FCError) as err:
        call(load_bundled_model(), data)
    assert err.value.key == key
    translated(err.value)
