"""explorer.interpret.timelapse: histograms against numpy, a frame against the model it was taken from,
even thinning within the stated bounds, and a short real training run recorded step by step."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from explorer.core.models import SeedCNN
from explorer.interpret import Bins, Frame, Histogram, Timelapse, TimelapseConfig, bins_for, histogram, make_frame
from explorer.interpret.common import InterpretError
from explorer.interpret.timelapse import MB, fixed_edges
from tests.interpret.conftest import BUILDER_SHAPE, builder_model


def test_histogram_equals_numpy_inside_and_piles_the_rest_into_the_end_bins():
    rng = np.random.default_rng(0)
    values = rng.normal(size=500)
    edges = np.linspace(-1, 1, 11)
    h = histogram(values, edges)
    inside = values[(values >= -1) & (values <= 1)]
    expected, _ = np.histogram(inside, bins=edges)
    expected[0] += int((values < -1).sum())
    expected[-1] += int((values > 1).sum())
    np.testing.assert_array_equal(h.counts, expected)
    assert h.outside == int((np.abs(values) > 1).sum()) and h.counts.sum() == 500
    with_nan = histogram(np.array([np.nan, 0.5, np.inf]), edges)
    assert with_nan.counts.sum() == 2 and with_nan.counts[-1] == 1  # NaN dropped, inf in the last bin
    assert histogram(torch.tensor([0.0, 0.05]), edges).counts[5] == 2


def test_fixed_edges_are_symmetric_with_a_margin():
    edges = fixed_edges(np.array([-0.2, 0.1]), bins=4, margin=2.0)
    np.testing.assert_allclose(edges, [-0.4, -0.2, 0.0, 0.2, 0.4])
    assert fixed_edges(np.zeros(3))[-1] > 0  # all-zero values still get a range


def _trained_step(model, images, labels):
    """The gradients of one batch's loss on ``model``, left in each parameter's .grad."""
    model.zero_grad()
    F.cross_entropy(model(images), labels).backward()


def test_a_frame_holds_the_model_it_was_taken_from(test_set):
    model = SeedCNN(generator=torch.Generator().manual_seed(0))
    _trained_step(model, test_set.images[:32], test_set.labels[:32])
    digit = test_set.images[5:6]
    confusion = np.arange(100).reshape(10, 10)
    frame = make_frame(model, step=7, epoch=0.5, digit=digit, confusion=confusion, accuracy=0.25)
    assert (frame.step, frame.epoch, frame.accuracy) == (7, 0.5, 0.25)
    assert list(frame.filters) == ["features.0", "features.3"]
    np.testing.assert_allclose(frame.filters["features.0"], model.features[0].weight.detach().numpy(), atol=1e-3)
    assert frame.filters["features.3"].dtype == np.float16
    assert list(frame.weights) == list(frame.gradients) == ["features.0", "features.3", "classifier.1"]
    for name, layer in (("features.3", model.features[3]), ("classifier.1", model.classifier[1])):
        w, g = layer.weight.detach().numpy(), layer.weight.grad.numpy()
        np.testing.assert_array_equal(frame.weights[name].counts, histogram(w, frame.weights[name].edges).counts)
        assert frame.weights[name].counts.sum() == w.size and frame.gradients[name].counts.sum() == g.size
        np.testing.assert_allclose(frame.gradients[name].edges[-1], 2 * np.abs(g).max())
    np.testing.assert_array_equal(frame.confusion, confusion)
    with torch.no_grad():
        x = digit
        for index, layer in enumerate(model.eval().features):
            x = layer(x)
            np.testing.assert_allclose(frame.maps[f"features.{index}"], x[0].numpy(), rtol=1e-2, atol=1e-3)
    expected = (sum(a.nbytes for a in frame.filters.values()) + sum(a.nbytes for a in frame.maps.values())
                + sum(h.edges.nbytes + h.counts.nbytes for h in [*frame.weights.values(), *frame.gradients.values()])
                + confusion.size * 8)
    assert frame.memory_bytes() == expected
    assert 150_000 < frame.memory_bytes() < 300_000  # about 0.2 MB for the seed CNN


def test_gradients_from_a_mapping_equal_those_in_grad(test_set):
    model = SeedCNN(generator=torch.Generator().manual_seed(1))
    _trained_step(model, test_set.images[:16], test_set.labels[:16])
    grads = {name: p.grad.clone() for name, p in model.named_parameters()}
    from_grad = make_frame(model, step=1, epoch=0)
    model.zero_grad(set_to_none=True)
    from_mapping = make_frame(model, step=1, epoch=0, grads=grads)
    for name in from_grad.gradients:
        np.testing.assert_array_equal(from_grad.gradients[name].counts, from_mapping.gradients[name].counts)
    assert make_frame(model, step=1, epoch=0).gradients == {}  # no gradients: no histograms


def _tiny_frame(step: int, size: int = 1000) -> Frame:
    return Frame(step, step / 10, {"c": np.zeros(size, np.float16)}, {}, {}, None, None, {})


def test_thinning_keeps_evenly_spaced_frames_within_the_frame_bound():
    keeper = Timelapse(TimelapseConfig(max_frames=5))
    kept = [keeper.add(_tiny_frame(step)) for step in range(40)]
    steps = keeper.steps()
    assert len(keeper) <= 5 and steps[0] == 0
    assert len(set(np.diff(steps))) == 1  # evenly spaced
    assert sum(kept) >= len(steps) and keeper.offers == 40
    keeper.add(_tiny_frame(39), final=True)
    assert keeper.steps()[-1] == 39 and len(keeper) <= 5


def test_wants_predicts_what_add_keeps():
    keeper = Timelapse(TimelapseConfig(max_frames=4))
    for step in range(30):
        wanted = keeper.wants()
        assert keeper.add(_tiny_frame(step)) == wanted


def test_thinning_keeps_memory_within_the_stated_bound():
    size = 100_000  # 200 kB per frame
    keeper = Timelapse(TimelapseConfig(max_frames=1000, max_mb=1.0))
    for step in range(50):
        keeper.add(_tiny_frame(step, size))
        assert keeper.memory_bytes() <= 1.0 * MB
    assert len(keeper) >= 2 and len(set(np.diff(keeper.steps()))) == 1


def test_a_frame_larger_than_half_the_bound_is_refused():
    keeper = Timelapse(TimelapseConfig(max_mb=0.1))
    with pytest.raises(InterpretError) as info:
        keeper.add(_tiny_frame(0, 40_000))  # 80 kB > 50 kB
    assert info.value.key == "interpret.error.frame_too_big"


@pytest.mark.parametrize("kwargs", [{"max_frames": 1}, {"max_mb": 0}, {"bins": 1}, {"margin": 0.5},
                                    {"max_frames": 2.5}])
def test_timelapse_config_refusals(kwargs):
    with pytest.raises(InterpretError):
        TimelapseConfig(**kwargs)


def test_a_short_training_run_recorded_step_by_step(test_set):
    """Train the seed CNN 12 steps (SGD on 32 test digits), record each step: bins stay fixed, frames differ."""
    gen = torch.Generator().manual_seed(2)
    model = SeedCNN(generator=gen)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    images, labels = test_set.images[:32], test_set.labels[:32]
    keeper = Timelapse(TimelapseConfig(max_frames=6))
    for step in range(12):
        model.train()
        opt.zero_grad()
        F.cross_entropy(model(images), labels).backward()
        with torch.no_grad():
            predictions = model.eval()(images).argmax(1)
        confusion = torch.bincount(labels * 10 + predictions, minlength=100).view(10, 10)
        keeper.record(model, step=step, epoch=step / 12, digit=images[:1], confusion=confusion,
                      accuracy=float((predictions == labels).float().mean()))
        opt.step()
    frames = keeper.frames
    assert len(frames) <= 6 and frames[0].step == 0
    edges = [f.weights["features.0"].edges for f in frames]
    assert all(np.array_equal(e, edges[0]) for e in edges)  # fixed bins: frames compare
    assert all(np.array_equal(f.gradients["classifier.1"].edges, frames[0].gradients["classifier.1"].edges)
               for f in frames)
    assert not np.array_equal(frames[0].filters["features.0"], frames[-1].filters["features.0"])
    assert keeper.bins.weights.keys() == {"features.0", "features.3", "classifier.1"}
    back = pickle.loads(pickle.dumps(keeper))  # a worker can send it to the page
    assert back.steps() == keeper.steps() and isinstance(back.frames[0].weights["features.0"], Histogram)


def test_record_skips_making_frames_it_would_drop(monkeypatch):
    from explorer.interpret import timelapse

    made = []
    monkeypatch.setattr(timelapse, "make_frame", lambda *a, **k: made.append(k["step"]) or _tiny_frame(k["step"]))
    keeper = Timelapse(TimelapseConfig(max_frames=3))
    model = builder_model()
    for step in range(16):
        keeper.record(model, step=step, epoch=0)
    assert len(made) < 16 and set(keeper.steps()) <= set(made)


def test_frames_of_a_builder_model(colour_image):
    model = builder_model()
    frame = make_frame(model, step=0, epoch=0, digit=colour_image, confusion=np.eye(4, dtype=int))
    assert frame.maps["features.0"].shape == (4, *BUILDER_SHAPE[1:]) and frame.confusion.shape == (4, 4)
    assert isinstance(bins_for(model), Bins) and frame.filters["features.0"].shape == (4, 3, 3, 3)


@pytest.mark.parametrize(("kwargs", "key"), [
    ({"step": -1}, "interpret.error.integer"),
    ({"epoch": float("nan")}, "interpret.error.number"),
    ({"confusion": np.zeros((2, 3))}, "interpret.error.confusion_shape"),
    ({"digit": np.zeros((2, 1, 28, 28))}, "interpret.error.image_shape"),
])
def test_make_frame_refusals(kwargs, key):
    args = {"step": 0, "epoch": 0, **kwargs}
    with pytest.raises(InterpretError) as info:
        make_frame(SeedCNN(), **args)
    assert info.value.key == key
