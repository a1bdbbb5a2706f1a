"""Trainer on small injected data: learning, determinism, isolation, NaN, evaluation, feature maps."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from explorer.core.models import build_model
from explorer.training import (
    TrainConfig,
    Trainer,
)
from explorer.training.trainer import feature_maps, pool_before_relu, shift_images
from tests.training.conftest import SMALL, TEST, TRAIN, Data, small_trainer


def test_a_few_steps_reduce_the_loss():
    trainer = small_trainer(TrainConfig(batch_size=50, epochs=3, lr=0.003))
    assert trainer.step(12) == 12
    h = trainer.history
    assert len(h.loss) == 12 and h.step == list(range(1, 13))
    assert sum(h.loss[-3:]) / 3 < 0.7 * sum(h.loss[:3]) / 3
    assert h.epoch == [1, 2, 3] and trainer.finished
    assert trainer.step(5) == 0  # nothing left to do
    assert trainer.evaluate() > 0.5


def test_same_seed_same_weights_regardless_of_how_steps_are_chunked():
    config = TrainConfig(batch_size=50, epochs=1, augment=True, schedule="cosine", train_size=150)
    a, b = small_trainer(config), small_trainer(config)
    a.step(3)
    for _ in range(3):
        b.step(1)
    for (name, wa), wb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(wa, wb), name
    c = small_trainer(TrainConfig(batch_size=50, epochs=1, seed=1))
    assert not torch.equal(c.state_dict()["features.0.weight"], small_trainer(config).state_dict()["features.0.weight"])


def test_reset_rewinds_to_the_same_initial_weights():
    first = small_trainer().state_dict()
    trained = small_trainer()
    trained.step(2)
    assert not torch.equal(trained.state_dict()["features.0.weight"], first["features.0.weight"])
    assert torch.equal(small_trainer().state_dict()["features.0.weight"], first["features.0.weight"])


def test_training_never_touches_the_global_rng():
    before = torch.random.get_rng_state()
    trainer = small_trainer(TrainConfig(model="deep_seed_cnn", batch_size=20, epochs=1, augment=True, train_size=40))
    trainer.step(2)
    assert torch.equal(torch.random.get_rng_state(), before)


def test_two_trainers_in_one_process_do_not_affect_each_other():
    alone = small_trainer()
    alone.step(3)
    a, b = small_trainer(), small_trainer(TrainConfig(batch_size=50, epochs=2, seed=5, lr=0.01))
    for _ in range(3):  # interleaved, as two sessions would be
        a.step(1)
        b.step(1)
    for (name, wa), wb in zip(alone.state_dict().items(), a.state_dict().values()):
        assert torch.equal(wa, wb), name


def test_evaluation_matches_a_direct_computation():
    trainer = small_trainer()
    trainer.step(2)
    result = trainer.evaluate_full()
    with torch.no_grad():
        trainer.model.eval()
        logits = trainer.model(TEST.images)
    assert result.accuracy == pytest.approx(float((logits.argmax(1) == TEST.labels).float().mean()))
    assert result.loss == pytest.approx(float(F.cross_entropy(logits, TEST.labels)), rel=1e-5)
    assert int(result.confusion.sum()) == len(TEST.labels)
    assert int(result.confusion.trace()) == int((result.predictions == TEST.labels).sum())
    wrong = result.misclassified(limit=5)
    assert all(result.predictions[i] != result.labels[i] for i in wrong)


def test_snapshot_and_feature_maps_are_what_the_page_draws():
    trainer = small_trainer()
    trainer.step(4)  # two epochs of 4 steps each: after 4 steps, epoch 1 ended
    snap = trainer.snapshot()
    assert (snap.step, snap.total_steps, snap.epoch, snap.epochs) == (4, 8, 1, 2)
    assert snap.images_per_s > 0 and snap.eta_s > 0 and not snap.finished
    assert [tuple(f.shape) for f in snap.filters] == [(32, 1, 3, 3), (64, 32, 3, 3)]
    assert snap.evaluation is not None and len(snap.history.test_accuracy) == 1
    snap.history.loss.append(99.0)  # a copy: the trainer's history is unchanged
    assert len(trainer.history.loss) == 4
    maps = trainer.feature_maps(TEST.images[0])
    assert [tuple(m.shape) for _, m in maps][-1] == (64, 7, 7) and len(maps) == 6
    direct = feature_maps(trainer.model, TEST.images[0])
    assert torch.equal(direct[0][1], maps[0][1])


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_huge_learning_rate_stops_training_and_keeps_the_last_good_weights(optimizer):
    trainer = small_trainer(TrainConfig(batch_size=50, epochs=5, lr=1e6, optimizer=optimizer))
    trainer.step(40)
    assert trainer.error is not None and trainer.error.key == "train.error.nan"
    assert trainer.finished and trainer.step(1) == 0
    assert all(torch.isfinite(w).all() for w in trainer.state_dict().values())
    assert len(trainer.history.loss) == trainer.step_count
    with torch.no_grad():  # the kept weights are the ones that gave the last recorded (sane) loss
        trainer.model.train()
        assert all(torch.isfinite(trainer.model(TRAIN.images[:10])).flatten())


def test_a_nan_loss_stops_training_with_the_weights_unchanged():
    images = TRAIN.images.clone()
    images[:] = float("nan")
    trainer = Trainer(SMALL, Data(images, TRAIN.labels), TEST, device=torch.device("cpu"))
    before = trainer.state_dict()
    assert trainer.step(3) == 0 and trainer.error.key == "train.error.nan"
    for (k, a), b in zip(before.items(), trainer.state_dict().values()):
        assert torch.equal(a, b), k


def test_shift_images_moves_pixels_and_keeps_shape():
    image = torch.zeros(1, 1, 28, 28)
    image[0, 0, 10, 10] = 1
    g = torch.Generator().manual_seed(0)
    moved = shift_images(image.repeat(50, 1, 1, 1), max_shift=2, generator=g)
    assert moved.shape == (50, 1, 28, 28) and torch.allclose(moved.sum((1, 2, 3)), torch.ones(50))
    ys, xs = torch.nonzero(moved[:, 0])[:, 1], torch.nonzero(moved[:, 0])[:, 2]
    assert ys.min() >= 8 and ys.max() <= 12 and xs.min() >= 8 and xs.max() <= 12
    assert len(set(zip(ys.tolist(), xs.tolist()))) > 5


def test_frozen_model_and_predict_use_the_latest_weights_without_touching_training():
    trainer = small_trainer()
    trainer.step(2)
    frozen = trainer.frozen_model()
    assert not frozen.training and all(not p.requires_grad for p in frozen.parameters())
    with torch.no_grad():
        direct = frozen(TEST.images[:8]).argmax(1)
    assert torch.equal(trainer.predict(TEST.images[:8]), direct)
    kept = frozen.state_dict()["features.0.weight"].clone()
    trainer.step(1)  # training on does not change the copy
    assert torch.equal(frozen.state_dict()["features.0.weight"], kept)
    assert not torch.equal(frozen.state_dict()["features.0.weight"], trainer.state_dict()["features.0.weight"])



MLP = ({"kind": "flatten"}, {"kind": "linear", "out_features": 32}, {"kind": "sigmoid"},
       {"kind": "linear", "out_features": 10})


def test_a_layer_table_trains_like_any_model():
    from explorer.training import TrainConfig

    trainer = small_trainer(TrainConfig(model="custom", layers=MLP, batch_size=50, epochs=2, lr=0.01))
    first = trainer.snapshot().history
    trainer.step(8)
    h = trainer.history
    assert trainer.finished and len(h.step) == 8 and h.loss[-1] < h.loss[0]
    assert trainer.evaluation.confusion.shape == (10, 10) and not first.step


def test_the_lecture_table_starts_from_the_same_weights_as_the_named_network():
    from explorer.builder import preset
    from explorer.training import TrainConfig

    named = small_trainer(TrainConfig(seed=3)).state_dict()
    table = small_trainer(TrainConfig(model="custom", layers=tuple(preset("seed_cnn")), seed=3)).state_dict()
    assert named.keys() == table.keys() and all(torch.equal(named[k], table[k]) for k in named)


def test_shifts_move_every_channel_of_a_colour_image_together():
    import torch

    images = torch.rand(4, 3, 9, 11, generator=torch.Generator().manual_seed(0))
    moved = shift_images(images, max_shift=2, generator=torch.Generator().manual_seed(1))
    single = torch.stack([shift_images(images[:, c:c + 1], max_shift=2, generator=torch.Generator().manual_seed(1))[:, 0]
                          for c in range(3)], dim=1)
    assert torch.equal(moved, single)


def test_the_time_lapse_keeps_bounded_evenly_spaced_frames_and_the_last_one():
    from explorer.training import TrainConfig

    trainer = small_trainer(TrainConfig(batch_size=20, epochs=8))
    trainer.step(1000)
    frames = trainer.frames()
    assert trainer.finished and 2 <= len(frames) <= trainer.timelapse.config.max_frames
    steps = [f.step for f in frames]
    assert steps == sorted(steps) and steps[-1] == trainer.step_count  # the run's last moment is kept
    assert frames[-1].confusion is not None and frames[-1].filters and frames[-1].gradients
    assert trainer.timelapse.memory_bytes() <= trainer.timelapse.bound_mb() * 2**20
    assert small_trainer(TrainConfig(timelapse=False)).frames() == []


def _grads(model: nn.Module, forward, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    model.zero_grad(set_to_none=True)
    logits = forward(x)
    F.cross_entropy(logits, y).backward()
    return logits.detach(), [p.grad.clone() for p in model.parameters()]


@pytest.mark.parametrize("name", ["seed_cnn", "deep_seed_cnn"])
def test_pool_before_relu_is_the_same_network_with_the_same_gradients(name):
    model = build_model(name, generator=torch.Generator().manual_seed(0)).eval()  # eval: no dropout draws
    x = torch.randn(16, 1, 28, 28, generator=torch.Generator().manual_seed(1))  # many negative pre-activations
    y = torch.arange(16) % 10
    fast = pool_before_relu(model)
    expected, grads = _grads(model, model, x, y)  # the lectures' order, as the autograd oracle
    logits, fast_grads = _grads(model, fast, x, y)
    assert torch.equal(logits, expected)
    assert all(torch.equal(a, b) for a, b in zip(fast_grads, grads))
    assert [type(m) for m in model.features][:3] == [nn.Conv2d, nn.ReLU, nn.MaxPool2d]  # the model unchanged
    assert [type(m) for m in fast[0]][:3] == [nn.Conv2d, nn.MaxPool2d, nn.ReLU]
    assert {id(p) for p in fast.parameters()} == {id(p) for p in model.parameters()}  # shared, not copied
    model.train()
    assert all(m.training for m in fast[1].modules())  # one set of modules: one train/eval mode


def test_pool_before_relu_moves_only_a_relu_directly_before_a_max_pool():
    model = nn.Module()
    model.features = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2),
                                   nn.Conv2d(2, 2, 3), nn.Sigmoid(), nn.MaxPool2d(2),  # not moved: kept exact
                                   nn.ReLU(), nn.AvgPool2d(2))  # an average does not commute with ReLU
    model.classifier = nn.Flatten()
    fast = pool_before_relu(model)
    assert [type(m).__name__ for m in fast[0]] == ["Conv2d", "BatchNorm2d", "MaxPool2d", "ReLU", "Conv2d",
                                                   "Sigmoid", "MaxPool2d", "ReLU", "AvgPool2d"]
    assert [type(m).__name__ for m in model.features][2:4] == ["ReLU", "MaxPool2d"]  # the model is unchanged
    mlp, lenet = nn.Sequential(nn.Linear(4, 4), nn.ReLU()), build_model("lenet5")  # LeNet-5: tanh, average
    assert pool_before_relu(mlp) is mlp and pool_before_relu(lenet) is lenet
