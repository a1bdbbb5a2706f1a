"""What one training run is: its settings (`TrainConfig`), its errors, and what it reports.

`History` (loss and accuracy per step and epoch), `Evaluation` (a whole split: accuracy, confusion
matrix) and `Snapshot` (a consistent copy of everything a page draws) are plain data, safe to read
while a `explorer.training.Trainer` goes on training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import torch

from explorer.core.i18n import UserError
from explorer.core.models import MODELS

Optimizer = Literal["adam", "sgd"]
Schedule = Literal["constant", "cosine"]
CUSTOM = "custom"  # TrainConfig.model of a network given as a layer table
OPTIMIZERS: tuple[Optimizer, ...] = ("adam", "sgd")
SCHEDULES: tuple[Schedule, ...] = ("constant", "cosine")


class TrainingError(UserError):
    """A user-facing training problem: ``key`` is an i18n key, ``params`` its format arguments (as text)."""

    def __init__(self, key: str, /, **params: Any) -> None:
        super().__init__(key, **{k: str(v) for k, v in params.items()})


class Split(Protocol):
    """What `explorer.core.data.load_mnist` returns, as far as training is concerned."""

    images: torch.Tensor  # (N, 1, 28, 28) float32 in [0, 1]
    labels: torch.Tensor  # (N,) int64


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one run. Defaults are the lectures' recipe (seed 000)."""

    model: str = "seed_cnn"  # network name from explorer.core.models.MODELS, or "custom": the table in `layers`
    layers: tuple[dict, ...] | None = None  # a layer table (explorer.builder) when `model` is "custom"
    input_shape: tuple[int, int, int] = (1, 28, 28)  # (C, H, W) of one image
    classes: int = 10  # output units = number of classes
    init: str = "default"  # weight init of a custom table: "default" (PyTorch's), "xavier" or "he"
    optimizer: Optimizer = "adam"  # "adam" (lectures) or "sgd" (SGD with `momentum`)
    lr: float = 0.001  # learning rate (peak rate when `schedule` is "cosine")
    batch_size: int = 100  # images per step
    epochs: int = 15  # passes over the training images
    seed: int = 777  # seeds the run's own generators: same seed, same initial weights and order
    train_size: int | None = None  # use this many training images (a seeded random subset); None = all
    augment: bool = False  # random shifts of up to `shift` pixels on each training image
    shift: int = 2  # largest shift in pixels when `augment` is on
    schedule: Schedule = "constant"  # "constant" lr, or "cosine": decay to 0 over all steps
    momentum: float = 0.9  # momentum of "sgd" (ignored by Adam)
    timelapse: bool = True  # keep snapshots for the time-lapse replay (explorer.interpret; bounded memory)

    def __post_init__(self) -> None:
        custom = self.model == CUSTOM and self.layers is not None
        if self.model not in MODELS and not custom:
            raise TrainingError("train.error.model", model=self.model)
        if not 2 <= int(self.classes) <= 1000:
            raise TrainingError("train.error.classes", classes=self.classes)
        if self.optimizer not in OPTIMIZERS:
            raise TrainingError("train.error.optimizer", optimizer=self.optimizer)
        if self.schedule not in SCHEDULES:
            raise TrainingError("train.error.schedule", schedule=self.schedule)
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and 0 < self.lr <= 1e6):
            raise TrainingError("train.error.lr", lr=self.lr)
        if not 1 <= int(self.batch_size) <= 10_000:
            raise TrainingError("train.error.batch_size", batch_size=self.batch_size)
        if not 1 <= int(self.epochs) <= 1000:
            raise TrainingError("train.error.epochs", epochs=self.epochs)
        if self.train_size is not None and self.train_size < 1:
            raise TrainingError("train.error.train_size", train_size=self.train_size)
        if not 0 <= self.shift <= 8:
            raise TrainingError("train.error.shift", shift=self.shift)


EPOCH_FIELDS = ("epoch", "epoch_step", "train_loss", "train_accuracy", "test_loss", "test_accuracy")


@dataclass
class History:
    """Loss and accuracy per step (training batches) and per epoch (training mean, test set)."""

    step: list[int] = field(default_factory=list)  # global step number (1-based)
    loss: list[float] = field(default_factory=list)  # training batch loss at that step
    accuracy: list[float] = field(default_factory=list)  # training batch accuracy at that step
    grad_norm: list[list[float]] = field(default_factory=list)  # per weighted layer (conv/linear), that step
    epoch: list[int] = field(default_factory=list)  # epoch number (1-based) of each epoch row
    epoch_step: list[int] = field(default_factory=list)  # global step at which that epoch ended
    train_loss: list[float] = field(default_factory=list)  # mean training loss over the epoch
    train_accuracy: list[float] = field(default_factory=list)  # mean training accuracy over the epoch
    test_loss: list[float] = field(default_factory=list)  # test-set loss at epoch end
    test_accuracy: list[float] = field(default_factory=list)  # test-set accuracy at epoch end

    def copy(self) -> History:
        return History(**{name: list(values) for name, values in vars(self).items()})

    def tail(self, steps: int, epochs: int) -> History:
        """The rows after the first ``steps`` step rows and ``epochs`` epoch rows (what a page lacks)."""
        return History(**{name: list(values[epochs if name in EPOCH_FIELDS else steps:])
                          for name, values in vars(self).items()})

    def extend(self, more: History) -> None:
        """Append ``more``'s rows (a `tail`) to these."""
        for name, values in vars(more).items():
            getattr(self, name).extend(values)


@dataclass(frozen=True)
class Evaluation:
    """The model on a whole split: accuracy, mean loss, every prediction, confusion matrix."""

    accuracy: float
    loss: float
    predictions: torch.Tensor  # (N,) int64
    labels: torch.Tensor  # (N,) int64
    confusion: torch.Tensor  # (10, 10) int64, rows = true label, columns = predicted

    def misclassified(self, limit: int = 24) -> torch.Tensor:
        """Indices of the first ``limit`` wrongly predicted images."""
        return torch.nonzero(self.predictions != self.labels).flatten()[:limit]


@dataclass(frozen=True)
class Snapshot:
    """What a page draws at one moment: a consistent copy, safe to read while training goes on."""

    step: int  # steps done
    total_steps: int  # steps in the whole run
    epoch: int  # completed epochs
    epochs: int  # epochs in the run
    images_per_s: float  # recent training speed
    eta_s: float  # seconds left at that speed (inf when unknown)
    finished: bool
    error: TrainingError | None  # why training stopped early (NaN loss), if it did
    history: History
    filters: list[torch.Tensor]  # weights of each conv layer, (C_out, C_in, k, k), CPU copies
    evaluation: Evaluation | None  # of the last epoch end
    seconds: float = 0.0  # time spent in training steps so far
