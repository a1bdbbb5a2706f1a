"""Running a `Trainer` on a worker thread: heartbeat stop, a process-wide cap, a fair CPU share.

`Runner` drives a trainer until paused, finished, failed or abandoned (no heartbeat from its page),
limited process-wide by `SLOTS`; each worker runs at low priority on its share of the CPUs
(`explorer.core.threads`).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Literal

from explorer.core.threads import (
    limit_this_thread,
    lower_this_thread,
    threads_per_training,
)
from explorer.training.config import TrainingError
from explorer.training.trainer import Trainer

MAX_TRAININGS_ENV = "CNN_EXPLORER_MAX_TRAININGS"
DEFAULT_MAX_TRAININGS = 4
HEARTBEAT_TIMEOUT_S = 15.0  # a worker whose page has not polled for this long stops


def max_trainings() -> int:
    """How many trainings may run at once in this process (``$CNN_EXPLORER_MAX_TRAININGS``, default 4)."""
    try:
        return max(1, int(os.environ.get(MAX_TRAININGS_ENV, DEFAULT_MAX_TRAININGS)))
    except ValueError:
        return DEFAULT_MAX_TRAININGS


SLOTS = threading.BoundedSemaphore(max_trainings())
_active = 0  # trainings running right now in this process (whatever their slots)
_active_lock = threading.Lock()


def running_trainings() -> int:
    """How many `Runner` workers are training right now."""
    return _active


def _count_running(delta: int) -> None:
    global _active
    with _active_lock:
        _active += delta


RunState = Literal["idle", "running", "paused", "finished", "failed", "abandoned"]


class Runner:
    """Trains one `Trainer` on a worker thread until paused, finished, failed or abandoned.

    The page calls `heartbeat()` each time it polls; without one for ``heartbeat_timeout`` seconds
    (tab closed, page left) the worker stops by itself. At most ``slots`` runners train at once.
    """

    def __init__(self, trainer: Trainer, *, heartbeat_timeout: float = HEARTBEAT_TIMEOUT_S,
                 slots: threading.Semaphore | None = None, batches_per_tick: int = 1) -> None:
        self.trainer = trainer
        self.heartbeat_timeout = heartbeat_timeout
        self.slots = slots if slots is not None else SLOTS
        self.batches_per_tick = batches_per_tick
        self.state: RunState = "idle"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._beat = time.monotonic()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def heartbeat(self) -> None:
        """Tell the worker someone is still watching."""
        self._beat = time.monotonic()

    def start(self) -> bool:
        """Start (or resume) training; False when every training slot is taken (try again later)."""
        if self.running:
            return True
        if self.trainer.finished:
            self.state = "failed" if self.trainer.error else "finished"
            return True
        if not self.slots.acquire(blocking=False):
            return False
        self._stop.clear()
        self.heartbeat()
        self.state = "running"
        self._thread = threading.Thread(target=self._work, name="cnn-explorer-train", daemon=True)
        self._thread.start()
        return True

    def pause(self, *, timeout: float = 10.0) -> None:
        """Stop after the current batch and wait for the worker to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self.state == "running":
            self.state = "paused"

    def _work(self) -> None:
        _count_running(+1)
        lower_this_thread()  # page reruns first: a training only gets the CPU time they leave
        threads = 0
        try:
            while not self._stop.is_set():
                if time.monotonic() - self._beat > self.heartbeat_timeout:
                    self.state = "abandoned"
                    return
                share = threads_per_training(running_trainings())
                if share != threads:  # an equal share of the CPUs among the trainings running now
                    threads = share
                    limit_this_thread(threads)
                if self.trainer.step(self.batches_per_tick) == 0 or self.trainer.finished:
                    self.state = "failed" if self.trainer.error else "finished"
                    return
            self.state = "paused"
        except Exception as err:  # never leave a dead thread holding a slot silently
            self.trainer.error = TrainingError("train.error.crashed", error=type(err).__name__)
            self.state = "failed"
        finally:
            _count_running(-1)
            self.slots.release()


