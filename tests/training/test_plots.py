"""Figure builders of the training page: right traces, right data, right text."""

from __future__ import annotations

import math

import numpy as np
import torch

from explorer.training.config import History
from explorer.training.plots import (
    GAP,
    confusion_figure,
    curves_figure,
    feature_maps_figure,
    filters_figure,
    misclassified_figure,
    smooth,
    tile,
    to_codes,
)


def test_tile_places_each_map_with_nan_gaps():
    maps = torch.arange(6 * 2 * 3, dtype=torch.float32).reshape(6, 2, 3)
    z = tile(maps, cols=4, pad=1, scale="none")
    assert z.shape == (2 * 3 - 1, 4 * 4 - 1)
    assert np.array_equal(z[0:2, 0:3], maps[0].numpy()) and np.array_equal(z[3:5, 4:7], maps[5].numpy())
    assert np.isnan(z[2]).all() and np.isnan(z[:, 3]).all()
    assert np.isnan(z[3:5, 8:11]).all()  # no 7th map


def test_tile_scales_each_map_by_its_own_peak():
    maps = torch.stack([torch.full((2, 2), 4.0), torch.full((2, 2), -0.5), torch.zeros(2, 2)])
    z = tile(maps, cols=3, scale="each")
    assert np.allclose(z[:, 0:2], 1) and np.allclose(z[:, 3:5], -1) and np.allclose(z[:, 6:8], 0)


def test_smooth_is_a_trailing_moving_average():
    assert smooth([1, 2, 3, 4], window=2) == [1, 1.5, 2.5, 3.5]
    assert smooth([], window=3) == []


def _history() -> History:
    h = History()
    for s in range(1, 11):
        h.step.append(s)
        h.loss.append(2.3 / s)
        h.accuracy.append(s / 10)
    h.epoch, h.epoch_step = [1, 2], [5, 10]
    h.train_loss, h.train_accuracy = [1.0, 0.5], [0.4, 0.8]
    h.test_loss, h.test_accuracy = [0.9, 0.4], [0.5, 0.9]
    return h


def test_curves_show_train_steps_and_test_epochs():
    fig = curves_figure(_history(), loss_title="L", accuracy_title="A", step_title="S",
                        train_name="train", train_epoch_name="train/epoch", test_name="test")
    assert len(fig.data) == 6
    names = [trace.name for trace in fig.data]
    assert names[:3] == ["train", "train/epoch", "test"]
    test_acc = fig.data[5]
    assert list(test_acc.x) == [5, 10] and list(test_acc.y) == [0.5, 0.9]
    assert fig.layout.annotations[0].text == "L" and fig.layout.annotations[1].text == "A"


def test_curves_of_an_empty_history_draw():
    fig = curves_figure(History(), loss_title="L", accuracy_title="A", step_title="S",
                        train_name="a", train_epoch_name="b", test_name="c")
    assert all(len(trace.x) == 0 for trace in fig.data)


def _decode(fig, low: float, high: float) -> np.ndarray:
    codes = np.array(fig.data[0].z, dtype=float)
    return np.where(codes == GAP, np.nan, low + codes / (GAP - 1) * (high - low))


def test_to_codes_maps_the_range_to_bytes_and_gaps_to_their_code():
    codes = to_codes(np.array([[-1.0, 0.0, 1.0, np.nan, 7.0]]), low=-1, high=1)
    assert codes.dtype == np.uint8 and codes.tolist() == [[0, 127, 254, GAP, 254]]


def test_filters_figure_tiles_first_and_summarises_second_layer():
    first = torch.randn(32, 1, 3, 3)
    fig = filters_figure(first, title="conv1", cols=16)
    z = _decode(fig, -1, 1)
    assert z.shape == (2 * 4 - 1, 16 * 4 - 1) and np.isnan(z[3]).all()
    expected = first[5, 0] / first[5, 0].abs().max()
    assert np.allclose(z[0:3, 20:23], expected.numpy(), atol=1 / 127)
    second = torch.randn(64, 32, 3, 3)
    z2 = _decode(filters_figure(second, title="conv2"), -1, 1)
    mean = second[0].mean(0)
    assert z2.shape == (8 * 4 - 1, 8 * 4 - 1)  # default: 8 per row
    assert np.allclose(z2[0:3, 0:3], (mean / mean.abs().max()).numpy(), atol=1 / 127)
    assert fig.layout.title.text == "conv1"


def test_feature_maps_figure_has_one_band_per_layer_scaled_to_unit_range():
    conv = torch.randn(32, 28, 28)
    pooled = torch.rand(32, 14, 14) * 5
    fig = feature_maps_figure([("0: Conv2d", conv), ("2: MaxPool2d", pooled)], channels=8)
    assert len(fig.data) == 1
    assert [a.text for a in fig.layout.annotations] == ["0: Conv2d  (32 × 28 × 28)", "2: MaxPool2d  (32 × 14 × 14)"]
    z = _decode(fig, 0, 1)
    assert np.nanmin(z) >= 0 and np.nanmax(z) <= 1 and z.shape[1] == 8 * 28 + 7 * 2
    band = 28 + 2 + 8
    first = (conv[0] - conv[0].min()) / (conv[0].max() - conv[0].min())
    assert np.allclose(z[8:36, 0:28], first.numpy(), atol=1 / 127)
    second = (pooled[1] - pooled[1].min()) / (pooled[1].max() - pooled[1].min())
    assert np.allclose(z[band + 8:band + 36:2, 30:58:2], second.numpy(), atol=1 / 127)  # 14×14 shown as 2×2 blocks


def test_confusion_figure_puts_true_digits_on_rows():
    confusion = torch.zeros(10, 10, dtype=torch.int64)
    confusion[3, 5] = 7
    fig = confusion_figure(confusion, title="C", true_title="true", predicted_title="pred")
    z = np.array(fig.data[0].z)
    assert z[3, 5] == 7 and z.sum() == 7
    assert fig.layout.yaxis.title.text == "true" and fig.layout.xaxis.title.text == "pred"


def test_misclassified_gallery_captions_each_digit():
    images = torch.rand(10, 1, 28, 28)
    fig = misclassified_figure(images, [1, 2, 3, 4, 5, 6, 7, 8, 9, 0], [7] * 10, caption="{pred}≠{true}", cols=8)
    texts = [a.text for a in fig.layout.annotations]
    assert texts[0] == "1≠7" and len(texts) == 10
    z = _decode(fig, 0, 1)
    assert math.isclose(np.nanmax(z), float(images.max()), abs_tol=1 / 127)
    assert np.allclose(z[12:40, 0:28], images[0, 0].numpy(), atol=1 / 127)


def test_misclassified_gallery_can_be_empty():
    fig = misclassified_figure(torch.zeros(0, 1, 28, 28), [], [], caption="{pred}/{true}")
    assert len(fig.layout.annotations) == 0
