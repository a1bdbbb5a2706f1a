"""The page's handle on a training that runs in its own worker process (`explorer.training.worker`).

A `Runner` starts the worker, sends it commands and keeps what it reported: the run state, the whole
history (the worker sends only the rows the page lacks), the latest evaluation, the watched test image's
feature maps. `poll` never waits (the page calls it twice a second: it is also the heartbeat); the few
calls that need an answer (`start`, `pause`, `state_dict`, `load_state_dict`, `refresh`) wait for it.
At most ``$CNN_EXPLORER_MAX_TRAININGS`` trainings run at once on one machine (replicas included);
the worker ends when its Runner is garbage-collected (the session is gone) or its page process ends.

`controls` maps the one run state to every label, enabled button and status line of the Train page.
"""

from __future__ import annotations

import os
import queue
import time
import weakref
from dataclasses import dataclass, replace
from typing import Any, Literal

import torch

from explorer.core import workers
from explorer.training.checkpoints import CheckpointError
from explorer.training.config import Evaluation, History, Snapshot, TrainConfig, TrainingError
from explorer.training.trainer import make_model
from explorer.training.worker import Data, RunState, View, serve

MAX_TRAININGS_ENV = "CNN_EXPLORER_MAX_TRAININGS"
DEFAULT_MAX_TRAININGS = 4
HEARTBEAT_TIMEOUT_S = 15.0  # a worker whose page has not polled for this long pauses itself ("abandoned")
IDLE_EXIT_S = 30 * 60.0  # a worker that hears nothing for this long ends (its model with it)
READY_TIMEOUT_S = 120.0  # building the trainer (loading data, the first forkserver start)
ANSWER_TIMEOUT_S = 60.0  # an answer may wait for one step or one end-of-epoch evaluation


def max_trainings() -> int:
    """How many trainings may run at once on this machine (``$CNN_EXPLORER_MAX_TRAININGS``, default 4)."""
    try:
        return max(1, int(os.environ.get(MAX_TRAININGS_ENV, DEFAULT_MAX_TRAININGS)))
    except ValueError:
        return DEFAULT_MAX_TRAININGS


def running_trainings() -> int:
    """How many trainings are running on this machine right now."""
    return workers.Slots("train", max_trainings()).busy()


class WorkerGone(TrainingError):
    """The worker process ended without a word (killed, crashed, out of memory)."""

    def __init__(self, key: str = "train.error.worker_died", /, **params: Any) -> None:
        super().__init__(key, **params)


class Runner:
    """One training in a worker process, seen from its page."""

    def __init__(self, config: TrainConfig, data: Data | None = None, *,
                 heartbeat_timeout: float = HEARTBEAT_TIMEOUT_S, idle_exit: float = IDLE_EXIT_S,
                 trainings: int | None = None) -> None:
        self.config = config
        self.data = data or Data()  # what it trains on (the page reads the test images and class names)
        ctx = workers.context()
        self._commands, self._replies = ctx.Queue(), ctx.Queue()
        self._proc = workers.start(serve, config, self.data, self._commands, self._replies,
                                   slots=workers.Slots("train", trainings or max_trainings()), heartbeat_s=heartbeat_timeout,
                                   idle_exit_s=idle_exit, name="cnn-explorer-train")
        self._finalizer = weakref.finalize(self, _shut_down, self._proc, self._commands)
        self.state: RunState = "idle"
        self.ready = False
        self.queued = False  # the last start found every training slot taken
        self.error: TrainingError | None = None  # why it cannot go on (NaN loss, a crash, a dead worker)
        self.history = History()
        self.snapshot: Snapshot | None = None  # the latest, with the whole history
        self.evaluation: Evaluation | None = None  # of the latest epoch end
        self.maps: list[tuple[tuple[str, int], torch.Tensor]] | None = None
        self.prediction: int | None = None
        self.watch: tuple[int, int] | None = None
        self.view_threads = 0  # torch threads the worker trained with at its last view
        self._sent = 0  # number of the last command sent

    # ----- reading the worker ------------------------------------------------------------------
    def _apply(self, kind: str, value: Any) -> None:
        if kind in ("ready", "view", "loaded"):
            self._view(value)
            self.ready = True
        elif kind == "started":
            self.queued = False
            self.state = "running" if not self.snapshot or not self.snapshot.finished else self.state
        elif kind == "busy":
            self.queued = True
        elif kind == "refused" and not self.ready:  # the trainer could not even be built
            self.error, self.state = value, "failed"

    def _view(self, view: View) -> None:
        snap = view.snapshot
        self.history.extend(snap.history)
        if snap.evaluation is not None:
            self.evaluation = snap.evaluation
        self.snapshot = replace(snap, history=self.history, evaluation=self.evaluation)
        self.state, self.view_threads = view.state, view.threads
        if snap.error is not None:
            self.error = snap.error
        if view.watch is not None:
            self.maps, self.prediction, self.watch = view.maps, view.prediction, view.watch

    def _drain(self) -> None:
        while True:
            try:
                kind, value, _ = workers.unpack(self._replies.get_nowait())
            except queue.Empty:
                break
            self._apply(kind, value)
        if not self._proc.is_alive() and self._replies.empty() and self.state != "failed":
            self.error = WorkerGone(code=str(self._proc.exitcode))
            self.state = "failed"

    def _wait(self, number: int, timeout: float) -> tuple[str, Any] | None:
        """Apply replies until the answer to command ``number`` arrives (returned), the worker dies or
        time runs out (None)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                kind, value, answers = workers.unpack(self._replies.get(timeout=0.1))
            except queue.Empty:
                if not self._proc.is_alive():
                    self._drain()
                    return None
                continue
            self._apply(kind, value)
            if answers == number:
                return kind, value
        return None

    def _send(self, kind: str, *args: Any) -> int:
        self._sent += 1
        self._commands.put((self._sent, kind, *args))
        return self._sent

    def _ask(self, kind: str, *args: Any, timeout: float = ANSWER_TIMEOUT_S) -> tuple[str, Any] | None:
        if not self.wait_ready():
            return None
        return self._wait(self._send(kind, *args), timeout)

    # ----- what the page calls -----------------------------------------------------------------
    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> bool:
        """Wait for the worker to have built its trainer (the first snapshot); False if it could not."""
        if not self.ready and self.state != "failed":
            self._wait(0, timeout)
        return self.ready

    def poll(self, watch: tuple[int, int] | None = None) -> None:
        """Take in what the worker sent and ask for the next view (also the heartbeat). Never waits."""
        self._drain()
        if self._proc.is_alive():
            self._send("poll", watch)

    def refresh(self, watch: tuple[int, int] | None = None, timeout: float = ANSWER_TIMEOUT_S) -> None:
        """A view made now (after a load, on the first draw): waits for it."""
        self._ask("poll", watch, timeout=timeout)

    @property
    def evaluation_epoch(self) -> int:
        return self.history.epoch[-1] if self.evaluation is not None and self.history.epoch else 0

    def start(self) -> bool:
        """Start or resume; False when every training slot on the machine is taken (try again later)."""
        answer = self._ask("start")
        return answer is not None and answer[0] == "started"

    def pause(self) -> None:
        """Pause after the current step (the worker keeps the model; its slot is given back)."""
        if self._proc.is_alive():
            self._ask("pause")

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def alive(self) -> bool:
        return self._proc.is_alive()

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The latest weights (CPU tensors); TrainingError when the worker cannot answer."""
        answer = self._ask("state")
        if answer is None:
            raise self.error or WorkerGone()
        return answer[1]

    def model(self) -> torch.nn.Module:
        """A CPU, eval-mode copy of the network with the latest weights (the page's own; training goes on)."""
        model = make_model(self.config, generator=torch.Generator())
        model.load_state_dict(self.state_dict(), strict=True)
        return model.eval()

    def frames(self) -> list:
        """The run's time-lapse frames (`explorer.interpret.Frame`), oldest first."""
        answer = self._ask("frames")
        return answer[1] if answer is not None else []

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Replace the weights (already checked by `explorer.training.load_checkpoint`); the view is
        refreshed at once. CheckpointError when the worker refuses them."""
        answer = self._ask("load", state)
        if answer is None:
            raise self.error or WorkerGone()
        if answer[0] == "refused":
            raise answer[1] if isinstance(answer[1], CheckpointError) else CheckpointError("train.ckpt.corrupt")

    def stop(self) -> None:
        """End the worker (Reset, or the session is over)."""
        self._finalizer()


def _shut_down(proc: Any, commands: Any) -> None:
    try:
        commands.put((-1, "stop"))
    except (OSError, ValueError):
        pass
    proc.join(2)
    workers.terminate(proc)


# ---------------------------------------------------------------- one state, every control


Phase = Literal["not_started", "running", "paused", "finished", "failed"]


@dataclass(frozen=True)
class Controls:
    """What the Train page shows for one state: labels (i18n keys), which buttons work, the status."""

    phase: Phase
    start_label: str  # "train.start" | "train.resume" | "train.running" | "train.done"
    start_enabled: bool
    pause_enabled: bool
    reset_enabled: bool
    status: str  # i18n key of the status line


def phase(runner: Runner) -> Phase:
    """The one state of a run, as a student sees it."""
    snap = runner.snapshot
    if runner.state == "failed" or runner.error is not None:
        return "failed"
    if runner.state == "running":
        return "running"
    if snap is not None and snap.finished:
        return "finished"
    if snap is not None and snap.step > 0:
        return "paused"
    return "not_started"


def controls(runner: Runner) -> Controls:
    """Every label, button and the status line, from `phase` (and whether the worker left on its own)."""
    p = phase(runner)
    if p == "running":
        return Controls(p, "train.running", False, True, True, "train.status.running")
    if p == "paused":
        status = "train.status.abandoned" if runner.state == "abandoned" else "train.status.paused"
        return Controls(p, "train.resume", True, False, True, status)
    if p == "finished":
        return Controls(p, "train.done", False, False, True, "train.status.finished")
    if p == "failed":
        return Controls(p, "train.start", False, False, True, "train.status.failed")
    return Controls(p, "train.start", True, False, False, "train.status.not_started")
