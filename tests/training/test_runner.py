"""Runner: a trainer on a worker thread, paused, resumed, abandoned, capped, at low priority."""

from __future__ import annotations

import threading

import torch

from explorer.training import (
    Runner,
    TrainConfig,
)
from explorer.training.runner import max_trainings, running_trainings
from tests.conftest import until
from tests.training.conftest import small_trainer


def test_runner_trains_in_the_background_pauses_and_resumes():
    slots = threading.BoundedSemaphore(1)
    runner = Runner(small_trainer(TrainConfig(batch_size=50, epochs=50)), slots=slots)
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
    runner = Runner(small_trainer(TrainConfig(batch_size=50, epochs=50)), slots=slots, heartbeat_timeout=0.2)
    runner.start()
    assert until(lambda: not runner.running, timeout=20)
    assert runner.state == "abandoned"
    assert slots.acquire(blocking=False)


def test_runner_refuses_when_all_slots_are_taken_and_finishes():
    slots = threading.BoundedSemaphore(1)
    first = Runner(small_trainer(TrainConfig(batch_size=100, epochs=1)), slots=slots)
    second = Runner(small_trainer(), slots=slots)
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


def test_runner_trains_at_low_priority_on_its_share_of_the_cpus(monkeypatch):
    """The worker lowers its own priority and bounds its own torch threads; the caller keeps its own."""
    import os
    import sys

    from explorer.core import threads

    monkeypatch.setenv(threads.THREADS_ENV, "1")
    seen: list[tuple[int, int]] = []
    trainer = small_trainer(TrainConfig(batch_size=50, epochs=50))
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

