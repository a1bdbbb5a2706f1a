"""The training worker: one `Trainer` in its own process, answering its page's commands.

`serve` runs in a worker process (`explorer.core.workers.start`). The page (`explorer.training.Runner`)
sends commands on one queue and reads replies on another; the worker only ever sends in answer to a
command, so a page that stops reading can never fill a pipe and block it, and the queue's own feeder
thread carries large replies.

Commands are ``(number, kind, *arguments)``: ``("poll", watch)`` (also the heartbeat; ``watch`` = (test
image index, channels) whose feature maps to send), ``("start",)``, ``("pause",)``, ``("state",)``,
``("load", state_dict)``, ``("frames",)`` (the time-lapse), ``("stop",)``. Every view carries only the history rows not sent before, and
the evaluation only when it is new. Each reply ``(kind, value, number)`` carries the number of the command it answers:
``("ready", view)`` (number 0), ``("view", view)``, ``("started", None)``, ``("busy", None)``,
``("state", state_dict)``, ``("loaded", view)``, ``("refused", error)``.

A training holds one machine-wide slot (`explorer.core.workers.Slots`) while it runs, none while paused.
Without a poll for ``heartbeat_s`` (tab closed) it pauses itself ("abandoned"); after ``idle_exit_s``
without any command the process ends.
"""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass
from typing import Any, Literal

import torch

from explorer.core.workers import Slots, cpu_count, pack, set_threads
from explorer.training.checkpoints import CheckpointError
from explorer.training.config import History, Snapshot, Split, TrainConfig, TrainingError
from explorer.training.trainer import Trainer

RunState = Literal["idle", "running", "paused", "finished", "failed", "abandoned"]
SHARE_CHECK_S = 2.0  # how often a running worker re-reads how many trainings share the CPUs
MAP_DTYPE = torch.float16  # feature maps travel to the page at half precision (display only)


@dataclass(frozen=True)
class Data:
    """Training and test data for a worker: MNIST (each worker loads it from the files the page used), or
    arrays given by the page: float images (a test's small data) or uint8 pixels (a student's own images:
    a quarter of the bytes to send; the worker makes the floats)."""

    kind: Literal["mnist", "arrays", "pixels"] = "mnist"
    train_images: torch.Tensor | None = None  # (N, C, H, W) float32 in [0, 1], or uint8 for "pixels"
    train_labels: torch.Tensor | None = None  # (N,) int64
    test_images: torch.Tensor | None = None
    test_labels: torch.Tensor | None = None
    classes: tuple[str, ...] | None = None  # class names of the page's own data; None: the digits 0-9

    def splits(self) -> tuple[Split, Split]:
        if self.kind == "mnist":
            from explorer.core.data import load_mnist

            return load_mnist("train", download=False), load_mnist("test", download=False)
        train, test = self.train_images, self.test_images
        if self.kind == "pixels":
            train, test = train.float().div_(255), test.float().div_(255)
        return _Split(train, self.train_labels), _Split(test, self.test_labels)


@dataclass(frozen=True)
class _Split:
    images: torch.Tensor
    labels: torch.Tensor


@dataclass(frozen=True)
class View:
    """What the page draws, sent by the worker: the snapshot (its history only the rows the page lacks),
    the run state, and the watched test image's feature maps and prediction."""

    snapshot: Snapshot
    state: RunState
    maps: list[tuple[str, torch.Tensor]] | None  # [(layer label, (channels, H, W))] of the watched image
    prediction: int | None  # the model's digit for the watched image
    watch: tuple[int, int] | None  # (image index, channels) these maps are for
    threads: int  # torch threads the worker trains with now (its share of the CPUs)


def serve(config: TrainConfig, data: Data, commands: Any, replies: Any, *, slots: Slots,
          heartbeat_s: float, idle_exit_s: float) -> None:
    """The worker's life: build the trainer, then answer commands and train while running."""
    set_threads(1)
    try:
        trainer = Trainer(config, *data.splits(), device=torch.device("cpu"))
    except Exception as err:  # bad data or settings: reported, nothing to train
        replies.put(pack(("refused", _user_error(err), 0)))
        return
    worker = _Worker(trainer, replies, slots, heartbeat_s)
    replies.put(pack(("ready", worker.view(None), 0)))
    last_command = time.monotonic()
    while True:
        try:
            command = commands.get(timeout=0 if worker.running else 0.2)
        except queue.Empty:
            command = None
        except (EOFError, OSError):  # the page's end of the queue is gone
            return
        if command is not None:
            last_command = time.monotonic()
            if command[1] == "stop":
                return
            worker.handle(command)
        if worker.running:
            worker.train()
        elif time.monotonic() - last_command > idle_exit_s:
            return


def _user_error(err: Exception) -> TrainingError:
    if isinstance(err, TrainingError):
        return err
    return TrainingError("train.error.crashed", error=type(err).__name__)


class _Worker:
    """The trainer plus its run state, slot and CPU share."""

    def __init__(self, trainer: Trainer, replies: Any, slots: Slots, heartbeat_s: float) -> None:
        self.trainer, self.replies, self.slots, self.heartbeat_s = trainer, replies, slots, heartbeat_s
        self.state: RunState = "finished" if trainer.finished else "idle"
        self.slot: int | None = None
        self.beat = time.monotonic()
        self.threads = 0
        self.next_share_check = 0.0
        self.sent = (0, 0, -1)  # step rows, epoch rows and the evaluation's epoch already sent to the page

    @property
    def running(self) -> bool:
        return self.state == "running"

    def handle(self, command: tuple) -> None:
        number, kind, *args = command
        if kind == "poll":
            self.beat = time.monotonic()
            reply = "view", self.view(args[0])
        elif kind == "start":
            reply = self.start()
        elif kind == "pause":
            self.stop_running("paused")
            reply = "view", self.view(None)
        elif kind == "state":
            reply = "state", self.trainer.state_dict()
        elif kind == "frames":
            reply = "frames", self.trainer.frames()
        elif kind == "load":
            reply = self.load(args[0])
        else:
            return
        self.replies.put(pack((*reply, number)))

    def load(self, state: dict) -> tuple[str, Any]:
        try:
            self.trainer.load_state_dict(state)
        except CheckpointError as err:
            return "refused", err
        if self.state in ("failed", "finished"):
            self.state = "finished" if self.trainer.finished else "paused"
        return "loaded", self.view(None)

    def start(self) -> tuple[str, Any]:
        if self.running:
            return "started", None
        if self.trainer.finished:
            self.state = "failed" if self.trainer.error else "finished"
            return "started", None
        self.slot = self.slots.acquire()
        if self.slot is None:
            return "busy", None
        self.state, self.beat, self.next_share_check = "running", time.monotonic(), 0.0
        return "started", None

    def stop_running(self, state: RunState) -> None:
        if self.slot is not None:
            self.slots.release(self.slot)
            self.slot = None
        if self.running:
            self.state = state

    def train(self) -> None:
        now = time.monotonic()
        if now - self.beat > self.heartbeat_s:  # nobody is watching: stop and give the slot back
            self.stop_running("abandoned")
            return
        if now >= self.next_share_check:  # an equal share of the CPUs among the trainings running now
            self.next_share_check = now + SHARE_CHECK_S
            share = max(1, cpu_count() // max(1, self.slots.busy()))
            if share != self.threads:
                self.threads = share
                set_threads(share)
        try:
            self.trainer.step(1)
        except Exception as err:  # never leave a slot held by a broken run
            self.trainer.error = TrainingError("train.error.crashed", error=type(err).__name__)
        if self.trainer.finished:
            self.stop_running("failed" if self.trainer.error else "finished")

    def view(self, watch: tuple[int, int] | None) -> View:
        """The snapshot with the history rows not sent before; the evaluation only when it is new."""
        snap = self.trainer.snapshot()
        steps, epochs, evaluated = self.sent
        history: History = snap.history.tail(steps, epochs)
        evaluation = snap.evaluation if snap.epoch != evaluated else None
        self.sent = (len(snap.history.step), len(snap.history.epoch), snap.epoch)
        snap = Snapshot(**{**vars(snap), "history": history, "evaluation": evaluation})
        maps = prediction = None
        if watch is not None:
            maps, prediction = self.watched(*watch)
        return View(snap, self.state, maps, prediction, watch, torch.get_num_threads())

    def watched(self, index: int, channels: int) -> tuple[list[tuple[str, torch.Tensor]], int]:
        images = self.trainer.test_data.images
        image = images[min(max(0, index), len(images) - 1)]
        maps = [(label, m[:channels].to(MAP_DTYPE)) for label, m in self.trainer.feature_maps(image)]
        return maps, int(self.trainer.predict(image[None])[0])
