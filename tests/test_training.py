"""Trainer on small injected data: learning, determinism, isolation, NaN, checkpoints, the runner."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
import torch
from torch.nn import functional as F

from explorer.training import (CheckpointError, Runner, TrainConfig, Trainer, TrainingError,
                               feature_maps, load_checkpoint, max_trainings, running_trainings,
                               save_checkpoint, shift_images)
from tests.bad_checkpoints import bad_checkpoints, good
from tests.conftest import until


@dataclass(frozen=True)
class Data:
    images: torch.Tensor
    labels: torch.Tensor


def _digits(n: int, seed: int) -> Data:
    """Easy synthetic digits: class k lights up a k-dependent band, plus noise."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 10
    images = 0.1 * torch.rand(n, 1, 28, 28, generator=g)
    for k in range(10):
        images[labels == k, 0, 2 * k + 4:2 * k + 7, 4:24] += 0.9
    return Data(images.clamp(0, 1), labels)


TRAIN, TEST = _digits(200, 0), _digits(100, 1)
SMALL = TrainConfig(batch_size=50, epochs=2)


def _trainer(config: TrainConfig = SMALL) -> Trainer:
    return Trainer(config, TRAIN, TEST, device=torch.device("cpu"))


def test_defaults_are_the_lectures_recipe():
    c = TrainConfig()
    assert (c.model, c.optimizer, c.lr, c.batch_size, c.epochs, c.seed) == ("seed_cnn", "adam", 0.001, 100, 15, 777)
    assert not c.augment and c.schedule == "constant"


@pytest.mark.parametrize(("field", "value", "key"), [
    ("lr", float("nan"), "train.error.lr"), ("lr", -1.0, "train.error.lr"),
    ("batch_size", 0, "train.error.batch_size"), ("epochs", 0, "train.error.epochs"),
    ("model", "vgg", "train.error.model"), ("optimizer", "rmsprop", "train.error.optimizer"),
    ("train_size", 0, "train.error.train_size"), ("schedule", "step", "train.error.schedule"),
])
def test_bad_hyperparameters_are_refused_with_a_key(field, value, key):
    with pytest.raises(TrainingError) as err:
        TrainConfig(**{field: value})
    assert err.value.key == key


def test_a_few_steps_reduce_the_loss():
    trainer = _trainer(TrainConfig(batch_size=50, epochs=3, lr=0.003))
    assert trainer.step(12) == 12
    h = trainer.history
    assert len(h.loss) == 12 and h.step == list(range(1, 13))
    assert sum(h.loss[-3:]) / 3 < 0.7 * sum(h.loss[:3]) / 3
    assert h.epoch == [1, 2, 3] and trainer.finished
    assert trainer.step(5) == 0  # nothing left to do
    assert trainer.evaluate() > 0.5


def test_same_seed_same_weights_regardless_of_how_steps_are_chunked():
    config = TrainConfig(batch_size=50, epochs=1, augment=True, schedule="cosine", train_size=150)
    a, b = _trainer(config), _trainer(config)
    a.step(3)
    for _ in range(3):
        b.step(1)
    for (name, wa), wb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(wa, wb), name
    c = _trainer(TrainConfig(batch_size=50, epochs=1, seed=1))
    assert not torch.equal(c.state_dict()["features.0.weight"], _trainer(config).state_dict()["features.0.weight"])


def test_reset_rewinds_to_the_same_initial_weights():
    first = _trainer().state_dict()
    trained = _trainer()
    trained.step(2)
    assert not torch.equal(trained.state_dict()["features.0.weight"], first["features.0.weight"])
    assert torch.equal(_trainer().state_dict()["features.0.weight"], first["features.0.weight"])


def test_training_never_touches_the_global_rng():
    before = torch.random.get_rng_state()
    trainer = _trainer(TrainConfig(model="deep_seed_cnn", batch_size=20, epochs=1, augment=True, train_size=40))
    trainer.step(2)
    assert torch.equal(torch.random.get_rng_state(), before)


def test_two_trainers_in_one_process_do_not_affect_each_other():
    alone = _trainer()
    alone.step(3)
    a, b = _trainer(), _trainer(TrainConfig(batch_size=50, epochs=2, seed=5, lr=0.01))
    for _ in range(3):  # interleaved, as two sessions would be
        a.step(1)
        b.step(1)
    for (name, wa), wb in zip(alone.state_dict().items(), a.state_dict().values()):
        assert torch.equal(wa, wb), name


def test_evaluation_matches_a_direct_computation():
    trainer = _trainer()
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
    trainer = _trainer()
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
    trainer = _trainer(TrainConfig(batch_size=50, epochs=5, lr=1e6, optimizer=optimizer))
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


def test_checkpoint_round_trips_exactly():
    trainer = _trainer()
    trainer.step(2)
    data = save_checkpoint(trainer.state_dict(), model="seed_cnn")
    fresh = _trainer()
    fresh.load_state_dict(load_checkpoint(data, model="seed_cnn"))
    for (name, a), b in zip(trainer.state_dict().items(), fresh.state_dict().values()):
        assert torch.equal(a, b), name
    assert fresh.evaluate() == trainer.evaluate()


def test_safetensors_and_lecture_state_dicts_are_accepted():
    from safetensors.torch import save

    trainer = _trainer()
    state = trainer.state_dict()
    assert torch.equal(load_checkpoint(save(state), model="seed_cnn")["classifier.1.bias"], state["classifier.1.bias"])
    lecture = {k.replace("features.0.", "layer1.0.").replace("features.3.", "layer2.0.")
               .replace("classifier.1.", "fc."): v for k, v in state.items()}
    import io

    buffer = io.BytesIO()
    torch.save(lecture, buffer)
    loaded = load_checkpoint(buffer.getvalue(), model="seed_cnn")
    assert torch.equal(loaded["features.3.weight"], state["features.3.weight"])


@pytest.mark.parametrize("name", sorted(bad_checkpoints()))
def test_bad_checkpoints_are_refused_and_the_weights_stay(name):
    data, key = bad_checkpoints()[name]
    trainer = _trainer()
    before = trainer.state_dict()
    with pytest.raises(CheckpointError) as err:
        trainer.load_state_dict(load_checkpoint(data, model="seed_cnn"))
    assert err.value.key == key
    for (k, a), b in zip(before.items(), trainer.state_dict().values()):
        assert torch.equal(a, b), k


def test_good_fixture_checkpoint_loads():
    assert len(load_checkpoint(good(), model="seed_cnn")) == 6


def test_load_state_dict_checks_too():
    trainer = _trainer()
    with pytest.raises(CheckpointError):
        trainer.load_state_dict({"features.0.weight": torch.zeros(32, 1, 3, 3)})



def test_runner_trains_in_the_background_pauses_and_resumes():
    slots = threading.BoundedSemaphore(1)
    runner = Runner(_trainer(TrainConfig(batch_size=50, epochs=50)), slots=slots)
    assert runner.start() and runner.start()  # a second start while running changes nothing
    assert until(lambda: runner.trainer.step_count >= 2)
    runner.pause()
    assert runner.state == "paused" and not runner.running  # the worker has ended: no step can follow
    done = runner.trainer.step_count
    assert slots.acquire(blocking=False)  # the slot was given back
    slots.release()
    assert runner.start() and until(lambda: runner.trainer.step_count > done)
    runner.pause()


def test_runner_stops_by_itself_when_nobody_polls():
    slots = threading.BoundedSemaphore(1)
    runner = Runner(_trainer(TrainConfig(batch_size=50, epochs=50)), slots=slots, heartbeat_timeout=0.2)
    runner.start()
    assert until(lambda: not runner.running, timeout=20)
    assert runner.state == "abandoned"
    assert slots.acquire(blocking=False)


def test_runner_refuses_when_all_slots_are_taken_and_finishes():
    slots = threading.BoundedSemaphore(1)
    first = Runner(_trainer(TrainConfig(batch_size=100, epochs=1)), slots=slots)
    second = Runner(_trainer(), slots=slots)
    assert first.start()
    assert not second.start() or not first.running  # queued while the first one runs
    assert until(lambda: not first.running)
    assert first.state == "finished" and first.trainer.finished
    assert second.start()
    second.pause()


def test_max_trainings_reads_the_environment(monkeypatch):
    monkeypatch.setenv("CNN_EXPLORER_MAX_TRAININGS", "2")
    assert max_trainings() == 2
    monkeypatch.setenv("CNN_EXPLORER_MAX_TRAININGS", "lots")
    assert max_trainings() == 4


def test_frozen_model_and_predict_use_the_latest_weights_without_touching_training():
    trainer = _trainer()
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


def test_runner_trains_at_low_priority_on_its_share_of_the_cpus(monkeypatch):
    """The worker lowers its own priority and bounds its own torch threads; the caller keeps its own."""
    import os
    import sys

    from explorer import threads

    monkeypatch.setenv(threads.THREADS_ENV, "1")
    seen: list[tuple[int, int]] = []
    trainer = _trainer(TrainConfig(batch_size=50, epochs=50))
    step = trainer.step

    def watched_step(n: int = 1) -> int:
        seen.append((torch.get_num_threads(), os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
                     if sys.platform == "linux" else threads.TRAINING_NICE))
        return step(n)

    monkeypatch.setattr(trainer, "step", watched_step)
    before = torch.get_num_threads()
    runner = Runner(trainer, slots=threading.BoundedSemaphore(1))
    runner.start()
    assert until(lambda: len(seen) >= 2)
    runner.pause()
    expected_threads = 1 if threads.can_limit_threads() else before
    assert set(seen) == {(expected_threads, threads.TRAINING_NICE)}
    assert torch.get_num_threads() == before and running_trainings() == 0
