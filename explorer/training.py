"""Training the lectures' CNNs on MNIST, step by step, so a page can watch it learn.

No Streamlit here. `Trainer` owns one model, its optimizer and its own ``torch.Generator``s (init, data
order/augmentation, dropout): two trainers in one process never touch each other or the global RNG.
`Runner` drives a trainer on a worker thread that stops when nobody polls it any more (heartbeat),
limited process-wide by `SLOTS`; each worker runs at low priority on its share of the CPUs
(`explorer.threads`). Checkpoints: `save_checkpoint` / `load_checkpoint` (weights only,
``torch.load(weights_only=True)`` or safetensors, then strict checks).
"""

from __future__ import annotations

import copy
import io
import math
import os
import pickle
import threading
import time
import warnings
import zipfile
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

import torch
from torch import nn
from torch.nn import functional as F

from explorer.models import MODELS, build_model, pick_device
from explorer.threads import limit_this_thread, lower_this_thread, threads_per_training

Optimizer = Literal["adam", "sgd"]
Schedule = Literal["constant", "cosine"]
OPTIMIZERS: tuple[Optimizer, ...] = ("adam", "sgd")
SCHEDULES: tuple[Schedule, ...] = ("constant", "cosine")
MAX_TRAININGS_ENV = "CNN_EXPLORER_MAX_TRAININGS"
DEFAULT_MAX_TRAININGS = 4
HEARTBEAT_TIMEOUT_S = 15.0  # a worker whose page has not polled for this long stops
MAX_CHECKPOINT_BYTES = 64 * 1024 * 1024
EVAL_BATCH = 1000
DIVERGED_LOSS = 1e4  # a cross-entropy this large (ln 10 = 2.3 at the start) means training diverged
CHECKPOINT_FORMAT = "cnn-explorer/1"
CODE_SIGNS = ("Unsupported global", "GLOBAL", "REDUCE", "reduce", "Unsupported class")


class TrainingError(ValueError):
    """A user-facing problem: ``key`` is an i18n key, ``params`` its format arguments."""

    def __init__(self, key: str, /, **params: Any) -> None:
        super().__init__(key if not params else f"{key} {params}")
        self.key, self.params = key, {k: str(v) for k, v in params.items()}


class CheckpointError(TrainingError):
    """A checkpoint file that is refused (corrupt, code, wrong architecture, …)."""


class Split(Protocol):
    """What `explorer.data.load_mnist` returns, as far as training is concerned."""

    images: torch.Tensor  # (N, 1, 28, 28) float32 in [0, 1]
    labels: torch.Tensor  # (N,) int64


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one run. Defaults are the lectures' recipe (seed 000)."""

    model: str = "seed_cnn"  # network name from explorer.models.MODELS
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

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise TrainingError("train.error.model", model=self.model)
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


@dataclass
class History:
    """Loss and accuracy per step (training batches) and per epoch (training mean, test set)."""

    step: list[int] = field(default_factory=list)  # global step number (1-based)
    loss: list[float] = field(default_factory=list)  # training batch loss at that step
    accuracy: list[float] = field(default_factory=list)  # training batch accuracy at that step
    epoch: list[int] = field(default_factory=list)  # epoch number (1-based) of each epoch row
    epoch_step: list[int] = field(default_factory=list)  # global step at which that epoch ended
    train_loss: list[float] = field(default_factory=list)  # mean training loss over the epoch
    train_accuracy: list[float] = field(default_factory=list)  # mean training accuracy over the epoch
    test_loss: list[float] = field(default_factory=list)  # test-set loss at epoch end
    test_accuracy: list[float] = field(default_factory=list)  # test-set accuracy at epoch end

    def copy(self) -> History:
        return History(**{name: list(values) for name, values in vars(self).items()})


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


class _SeededDropout(nn.Module):
    """`nn.Dropout` with masks drawn from a given generator instead of the global RNG."""

    def __init__(self, p: float, generator: torch.Generator) -> None:
        super().__init__()
        self.p, self.generator = p, generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.empty(x.shape, device="cpu").bernoulli_(1 - self.p, generator=self.generator)
        return x * keep.to(x.device) / (1 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def _seed_dropout(model: nn.Module, generator: torch.Generator) -> None:
    for parent in model.modules():
        for name, child in parent.named_children():
            if isinstance(child, nn.Dropout):
                setattr(parent, name, _SeededDropout(child.p, generator))


def shift_images(images: torch.Tensor, *, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Each image moved by a random (dy, dx) in [-max_shift, max_shift], zero-filled. (B,1,H,W)."""
    if max_shift == 0:
        return images
    b, _, h, w = images.shape
    padded = F.pad(images, (max_shift,) * 4)  # (B, 1, H+2s, W+2s)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, b), generator=generator).to(images.device)
    rows = (torch.arange(h, device=images.device)[None, :] + dy[:, None])  # (B, H)
    cols = (torch.arange(w, device=images.device)[None, :] + dx[:, None])  # (B, W)
    batch = torch.arange(b, device=images.device)[:, None, None]
    return padded[batch, 0, rows[:, :, None], cols[:, None, :]].unsqueeze(1)


def _default_data(split: str) -> Split:
    from explorer.data import load_mnist

    return load_mnist(split)  # type: ignore[arg-type]


class Trainer:
    """One model being trained: call `step` repeatedly; read `history`, `snapshot()`, `evaluate()`.

    Thread-safe for one trainer thread plus readers: the training model is touched only inside
    `step` (under ``_step_lock``); after each step its weights are copied into ``view``, a second
    instance in eval mode that readers use (snapshot, feature maps, predictions, state_dict) under
    ``lock``, which is only ever held briefly, so a page polling at a few Hz never waits for a step.
    """

    def __init__(self, config: TrainConfig | None = None, train: Split | None = None,
                 test: Split | None = None, *, device: torch.device | None = None) -> None:
        self.config = config or TrainConfig()
        self.device = device or pick_device()
        self.train_data = train if train is not None else _default_data("train")
        self.test_data = test if test is not None else _default_data("test")
        cfg = self.config
        self._init_gen = torch.Generator().manual_seed(cfg.seed)
        self._data_gen = torch.Generator().manual_seed(cfg.seed + 1)
        self._dropout_gen = torch.Generator().manual_seed(cfg.seed + 2)
        self.model = build_model(cfg.model, generator=self._init_gen)
        _seed_dropout(self.model, self._dropout_gen)
        self.model.to(self.device, memory_format=torch.channels_last)  # NHWC: faster oneDNN convs on CPU
        self.view = copy.deepcopy(self.model).eval().requires_grad_(False)  # published weights
        self._images, self._labels = self._training_set()
        self.optimizer = self._make_optimizer()
        self.lock = threading.RLock()  # guards what readers see; held only briefly
        self._step_lock = threading.RLock()  # one step (or load) at a time on the training model
        self.history = History()
        self.step_count = 0
        self.epoch = 0
        self.error: TrainingError | None = None
        self.evaluation: Evaluation | None = None
        self._order = torch.empty(0, dtype=torch.int64)
        self._pos = 0
        self._epoch_losses: list[float] = []
        self._epoch_correct = 0
        self._epoch_seen = 0
        self._speed = 0.0  # images/s, exponential moving average
        self._good = [p.detach().clone() for p in self.model.parameters()]

    # ----- set-up -----------------------------------------------------------------------------
    def _training_set(self) -> tuple[torch.Tensor, torch.Tensor]:
        images, labels = self.train_data.images, self.train_data.labels
        n = len(labels)
        if self.config.train_size is not None and self.config.train_size < n:
            pick = torch.randperm(n, generator=self._data_gen)[: self.config.train_size]
            images, labels = images[pick], labels[pick]  # a copy: shared data is never modified
        return images.to(self.device), labels.to(self.device)

    def _make_optimizer(self) -> torch.optim.Optimizer:
        params = self.model.parameters()
        if self.config.optimizer == "sgd":
            return torch.optim.SGD(params, lr=self.config.lr, momentum=self.config.momentum)
        return torch.optim.Adam(params, lr=self.config.lr)

    @property
    def train_size(self) -> int:
        """How many training images one epoch goes through."""
        return len(self._labels)

    @property
    def steps_per_epoch(self) -> int:
        """Batches per epoch (the last partial batch is dropped, as in the lectures' DataLoader)."""
        return max(1, self.train_size // self.config.batch_size)

    @property
    def total_steps(self) -> int:
        return self.steps_per_epoch * self.config.epochs

    @property
    def finished(self) -> bool:
        """True once every epoch is done or training stopped on an error."""
        return self.error is not None or self.epoch >= self.config.epochs

    # ----- training ---------------------------------------------------------------------------
    def step(self, n_batches: int = 1) -> int:
        """Train on up to ``n_batches`` batches; returns how many were done (0 once finished)."""
        done = 0
        while done < n_batches and not self.finished:
            with self._step_lock:
                start = time.perf_counter()
                result = self._one_step()
                if result is None:
                    break
                self._publish(*result, seconds=time.perf_counter() - start)
                if self._pos >= self.steps_per_epoch:
                    self._end_epoch()
            done += 1
        return done

    def _next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._pos == 0 or len(self._order) == 0:
            self._order = torch.randperm(self.train_size, generator=self._data_gen)
        bs = min(self.config.batch_size, self.train_size)
        index = self._order[self._pos * bs:(self._pos + 1) * bs].to(self.device)
        images = self._images[index]  # (B, 1, 28, 28)
        if self.config.augment:
            images = shift_images(images, max_shift=self.config.shift, generator=self._data_gen)
        return images.contiguous(memory_format=torch.channels_last), self._labels[index]

    def _lr_now(self) -> float:
        if self.config.schedule == "cosine":
            return 0.5 * self.config.lr * (1 + math.cos(math.pi * self.step_count / self.total_steps))
        return self.config.lr

    def _one_step(self) -> tuple[float, int, int] | None:
        """One optimizer step: (loss, correct, batch size), or None when the loss went bad."""
        images, labels = self._next_batch()
        self.model.train()
        for group in self.optimizer.param_groups:
            group["lr"] = self._lr_now()
        logits = self.model(images)
        loss = F.cross_entropy(logits, labels)
        value = float(loss.detach())
        if not math.isfinite(value) or value > DIVERGED_LOSS:
            self._fail()
            return None
        with torch.no_grad():  # these weights gave a sane loss: the ones to go back to
            torch._foreach_copy_(self._good, [p.detach() for p in self.model.parameters()])
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self._pos += 1
        return value, int((logits.argmax(1) == labels).sum()), len(labels)

    def _publish(self, loss: float, correct: int, n: int, *, seconds: float) -> None:
        """Make the step visible to readers: weights into ``view``, history, speed."""
        with self.lock, torch.no_grad():
            self._sync_view()
            self.step_count += 1
            self._epoch_losses.append(loss)
            self._epoch_correct += correct
            self._epoch_seen += n
            h = self.history
            h.step.append(self.step_count)
            h.loss.append(loss)
            h.accuracy.append(correct / n)
            speed = n / max(seconds, 1e-9)
            self._speed = speed if self._speed == 0 else 0.8 * self._speed + 0.2 * speed

    def _sync_view(self) -> None:
        with torch.no_grad():
            torch._foreach_copy_(list(self.view.parameters()), [p.detach() for p in self.model.parameters()])

    def _fail(self) -> None:
        """The loss is NaN/inf or exploded: go back to the last weights with a sane loss and stop."""
        with self.lock, torch.no_grad():
            torch._foreach_copy_(list(self.model.parameters()), self._good)
            self._sync_view()
            self.error = TrainingError("train.error.nan", step=self.step_count + 1, lr=self.config.lr)

    def _end_epoch(self) -> None:
        evaluation = self._evaluate(self.test_data)
        with self.lock:
            self._pos = 0
            self.epoch += 1
            self.evaluation = evaluation
            h = self.history
            h.epoch.append(self.epoch)
            h.epoch_step.append(self.step_count)
            h.train_loss.append(sum(self._epoch_losses) / max(1, len(self._epoch_losses)))
            h.train_accuracy.append(self._epoch_correct / max(1, self._epoch_seen))
            h.test_loss.append(evaluation.loss)
            h.test_accuracy.append(evaluation.accuracy)
            self._epoch_losses, self._epoch_correct, self._epoch_seen = [], 0, 0

    # ----- evaluation -------------------------------------------------------------------------
    @torch.inference_mode()
    def _evaluate(self, data: Split) -> Evaluation:
        """The training model (eval mode) on a whole split; call with ``_step_lock`` held."""
        self.model.eval()
        preds, losses = [], 0.0
        for start in range(0, len(data.labels), EVAL_BATCH):
            x = data.images[start:start + EVAL_BATCH].to(self.device)
            y = data.labels[start:start + EVAL_BATCH].to(self.device)
            logits = self.model(x)
            losses += float(F.cross_entropy(logits, y, reduction="sum"))
            preds.append(logits.argmax(1).cpu())
        predictions = torch.cat(preds)
        labels = data.labels.cpu()
        confusion = torch.bincount(labels * 10 + predictions, minlength=100).reshape(10, 10)
        return Evaluation(float((predictions == labels).float().mean()), losses / max(1, len(labels)),
                          predictions, labels, confusion)

    def evaluate_full(self, data: Split | None = None) -> Evaluation:
        """Evaluate on ``data`` (default: the test split, then remembered as `evaluation`)."""
        with self._step_lock:  # waits for a running step to end
            result = self._evaluate(data if data is not None else self.test_data)
            if data is None or data is self.test_data:
                with self.lock:
                    self.evaluation = result
        return result

    def evaluate(self) -> float:
        """Accuracy on the test split (0..1)."""
        return self.evaluate_full().accuracy

    @property
    def images_per_s(self) -> float:
        return self._speed

    def snapshot(self) -> Snapshot:
        """A consistent copy of everything the UI draws."""
        with self.lock:
            left = (self.total_steps - self.step_count) * min(self.config.batch_size, self.train_size)
            eta = left / self._speed if self._speed > 0 else math.inf
            filters = [m.weight.detach().cpu().clone(memory_format=torch.contiguous_format)
                       for m in self.view.modules()
                       if isinstance(m, nn.Conv2d)]
            return Snapshot(self.step_count, self.total_steps, self.epoch, self.config.epochs,
                            self._speed, 0.0 if self.finished else eta, self.finished, self.error,
                            self.history.copy(), filters, self.evaluation)

    def feature_maps(self, image: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
        """Output of every layer of ``model.features`` for one image (1, 28, 28): [(name, (C, H, W))]."""
        with self.lock:
            return feature_maps(self.view, image.to(self.device))

    @torch.inference_mode()
    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """Predicted digits (B,) for images (B, 1, 28, 28), with the latest weights in eval mode."""
        with self.lock:
            return self.view(images.to(self.device)).argmax(1).cpu()

    def frozen_model(self) -> nn.Module:
        """A copy of the latest model in eval mode, on the CPU (safe while training continues)."""
        with self.lock:
            return copy.deepcopy(self.view).cpu().to(memory_format=torch.contiguous_format).eval()

    # ----- weights ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, torch.Tensor]:
        """The latest weights (CPU copies)."""
        with self.lock:
            return {k: v.detach().cpu().clone(memory_format=torch.contiguous_format)
                    for k, v in self.view.state_dict().items()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Replace the weights after `check_state_dict`; the optimizer starts afresh, history is kept."""
        check_state_dict(state, model=self.config.model)
        with self._step_lock, self.lock:
            self.model.load_state_dict(state, strict=True)
            self._sync_view()
            self.optimizer = self._make_optimizer()
            self._good = [p.detach().clone() for p in self.model.parameters()]
            self.error = None


@torch.inference_mode()
def feature_maps(model: nn.Module, image: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
    """Run ``image`` (1, H, W) through ``model.features``, keeping each layer's output (C, H, W)."""
    was_training = model.training
    model.eval()
    x = image.unsqueeze(0)  # (1, 1, H, W)
    out = []
    for index, layer in enumerate(model.features):
        x = layer(x)
        out.append((f"{index}: {type(layer).__name__}", x[0].detach().cpu().clone()))
    model.train(was_training)
    return out


# ----- running on a worker thread ----------------------------------------------------------------
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


# ----- checkpoints -------------------------------------------------------------------------------
# The lectures' CNN names its layers layer1/layer2/fc; accept its state_dict for the seed CNN.
LECTURE_KEYS = {"seed_cnn": {"layer1.0.": "features.0.", "layer2.0.": "features.3.", "fc.": "classifier.1."}}


def expected_state(model: str) -> dict[str, torch.Tensor]:
    """Keys, shapes and dtypes a checkpoint of ``model`` must have (from a fresh instance)."""
    return build_model(model, generator=torch.Generator().manual_seed(0)).state_dict()


def save_checkpoint(state: dict[str, torch.Tensor], *, model: str) -> bytes:
    """A ``.pt`` file (bytes): ``{"format", "model", "state_dict"}``, loadable with weights_only."""
    buffer = io.BytesIO()
    torch.save({"format": CHECKPOINT_FORMAT, "model": model,
                "state_dict": {k: v.detach().cpu().contiguous() for k, v in state.items()}}, buffer)
    return buffer.getvalue()


def load_checkpoint(data: bytes, *, model: str) -> dict[str, torch.Tensor]:
    """Weights for ``model`` read from ``data`` (.pt or .safetensors bytes), checked; else CheckpointError."""
    if len(data) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError("train.ckpt.too_large", mb=MAX_CHECKPOINT_BYTES // 2**20)
    if len(data) < 8:
        raise CheckpointError("train.ckpt.corrupt")
    raw = _read_safetensors(data) if _looks_like_safetensors(data) else _read_pt(data)
    state = _unwrap(raw, model=model)
    check_state_dict(state, model=model)
    return state


def _looks_like_safetensors(data: bytes) -> bool:
    header = int.from_bytes(data[:8], "little")
    return 0 < header < len(data) and data[8:9] == b"{"


def _read_safetensors(data: bytes) -> dict[str, torch.Tensor]:
    try:
        from safetensors.torch import load
    except ImportError:
        raise CheckpointError("train.ckpt.corrupt") from None
    try:
        return load(data)
    except Exception:
        raise CheckpointError("train.ckpt.corrupt") from None


def _read_pt(data: bytes) -> Any:
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols and sparse checks
            warnings.simplefilter("ignore")
            return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as err:
        if any(sign in str(err) for sign in CODE_SIGNS):  # a class or function it would have to run
            raise CheckpointError("train.ckpt.code") from None
        raise CheckpointError("train.ckpt.corrupt") from None
    except (RuntimeError, EOFError, ValueError, zipfile.BadZipFile, OSError, KeyError,
            AttributeError, TypeError, IndexError, UnicodeDecodeError, MemoryError, OverflowError):
        raise CheckpointError("train.ckpt.corrupt") from None


def _unwrap(raw: Any, *, model: str) -> dict[str, torch.Tensor]:
    """The state_dict inside a loaded object: ours (with "model") or a bare/lecture state_dict."""
    if not isinstance(raw, dict):
        raise CheckpointError("train.ckpt.not_weights")
    if raw.get("format") == CHECKPOINT_FORMAT and isinstance(raw.get("state_dict"), dict):
        saved_for = raw.get("model")
        if isinstance(saved_for, str) and saved_for != model:
            raise CheckpointError("train.ckpt.other_model", found=saved_for, expected=model)
        raw = raw["state_dict"]
    if not all(isinstance(k, str) for k in raw):
        raise CheckpointError("train.ckpt.not_weights")
    renames = LECTURE_KEYS.get(model, {})
    state = {}
    for key, value in raw.items():
        for old, new in renames.items():
            if key.startswith(old):
                key = new + key[len(old):]
        state[key] = value
    return state


def _architecture_of(keys: set[str]) -> str | None:
    for name in MODELS:
        if set(expected_state(name)) == keys:
            return name
    return None


def check_state_dict(state: Any, *, model: str) -> None:
    """Refuse anything but dense, finite float tensors with exactly ``model``'s keys and shapes."""
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError("train.ckpt.not_weights")
    expected = expected_state(model)
    if set(state) != set(expected):
        other = _architecture_of(set(state))
        if other is not None:
            raise CheckpointError("train.ckpt.other_model", found=other, expected=model)
        missing = sorted(set(expected) - set(state))
        unexpected = sorted(set(state) - set(expected))
        raise CheckpointError("train.ckpt.keys", missing=", ".join(missing[:4]) or "-",
                              unexpected=", ".join(unexpected[:4]) or "-")
    for key, want in expected.items():
        got = state[key]
        if got.layout != torch.strided or got.is_sparse or got.is_quantized or got.is_nested:
            raise CheckpointError("train.ckpt.sparse", weight=key)
        if got.dtype != want.dtype:
            raise CheckpointError("train.ckpt.dtype", weight=key, found=str(got.dtype).removeprefix("torch."),
                                  expected=str(want.dtype).removeprefix("torch."))
        if got.shape != want.shape:
            raise CheckpointError("train.ckpt.shape", weight=key, found=tuple(got.shape),
                                  expected=tuple(want.shape))
        if got.is_floating_point() and not bool(torch.isfinite(got).all()):
            raise CheckpointError("train.ckpt.nonfinite", weight=key)


def apply_checkpoint(trainer: Trainer, data: bytes) -> None:
    """Load checkpoint bytes into ``trainer`` (its weights stay unchanged when refused)."""
    trainer.load_state_dict(load_checkpoint(data, model=trainer.config.model))


def with_changes(config: TrainConfig, **changes: Any) -> TrainConfig:
    """``config`` with some fields changed (validated again)."""
    return replace(config, **changes)
