"""Training the lectures' CNNs on MNIST, step by step, so a page can watch it learn.

No Streamlit here. `Trainer` owns one model, its optimizer and its own ``torch.Generator``s (init, data
order/augmentation, dropout): two trainers in one process never touch each other or the global RNG.
`explorer.training.runner` drives it on a worker; `explorer.training.checkpoints` saves and loads it.
"""

from __future__ import annotations

import copy
import math
import threading
import time

import torch
from torch import nn
from torch.nn import functional as F

from explorer.core.models import build_model, numbered, pick_device
from explorer.training.checkpoints import check_state_dict, load_checkpoint
from explorer.training.config import (
    Evaluation,
    History,
    Snapshot,
    Split,
    TrainConfig,
    TrainingError,
)

EVAL_BATCH = 250  # digits per evaluation batch: their conv maps stay in cache (1,000 took twice as long)
DIVERGED_LOSS = 1e4  # a cross-entropy this large (ln 10 = 2.3 at the start) means training diverged


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


def pool_before_relu(model: nn.Module) -> nn.Module:
    """The same network, faster to train: in ``model.features`` every ReLU directly before a max pool moves
    after it. max(relu(a), relu(b)) = relu(max(a, b)), and the gradients are the same too (a ReLU passes
    gradient only where the window's maximum is positive, to that same element), but the ReLU and its
    backward now touch a quarter of the values. Shares every module, so every parameter, with ``model``
    (train/eval mode included); ``model`` itself (its layer order, feature maps, state_dict) is unchanged.
    A model without ``features``/``classifier`` Sequentials, or with nothing to move, is returned as is."""
    features, classifier = getattr(model, "features", None), getattr(model, "classifier", None)
    if not (isinstance(features, nn.Sequential) and isinstance(classifier, nn.Module)):
        return model
    layers, moved, i = list(features), False, 0
    while i < len(layers) - 1:
        if type(layers[i]) is nn.ReLU and isinstance(layers[i + 1], nn.MaxPool2d):
            layers[i], layers[i + 1] = layers[i + 1], layers[i]
            moved, i = True, i + 2
        else:
            i += 1
    return nn.Sequential(nn.Sequential(*layers), classifier) if moved else model


def shift_images(images: torch.Tensor, *, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Each image moved by a random (dy, dx) in [-max_shift, max_shift], zero-filled. (B, C, H, W)."""
    if max_shift == 0:
        return images
    b, _, h, w = images.shape
    padded = F.pad(images, (max_shift,) * 4)  # (B, C, H+2s, W+2s)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, b), generator=generator).to(images.device)
    rows = (torch.arange(h, device=images.device)[None, :] + dy[:, None])  # (B, H)
    cols = (torch.arange(w, device=images.device)[None, :] + dx[:, None])  # (B, W)
    batch = torch.arange(b, device=images.device)[:, None, None]
    return padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def _timelapse():
    from explorer.interpret import Timelapse, TimelapseConfig

    return Timelapse(TimelapseConfig())


def weighted_layers(model: nn.Module) -> list[torch.Tensor]:
    """The weight of every conv and fully connected layer, input side first."""
    return [m.weight for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def make_model(config: TrainConfig, *, generator: torch.Generator) -> nn.Module:
    """The run's network: a lecture network by name, or the run's own layer table (`explorer.builder`)."""
    if config.layers is not None:
        from explorer.builder import build_model as from_table

        return from_table(list(config.layers), config.input_shape, generator=generator, init=config.init)
    return build_model(config.model, generator=generator)


def _default_data(split: str) -> Split:
    from explorer.core.data import load_mnist

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
        self.model = make_model(cfg, generator=self._init_gen)
        _seed_dropout(self.model, self._dropout_gen)
        self.model.to(self.device, memory_format=torch.channels_last)  # NHWC: faster oneDNN convs on CPU
        self.view = copy.deepcopy(self.model).eval().requires_grad_(False)  # published weights
        self._fast = pool_before_relu(self.model)  # what steps and evaluation run: same maths, less work
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
        self._weights = weighted_layers(self.model)
        self.seconds = 0.0  # spent in training steps
        self.timelapse = _timelapse() if cfg.timelapse else None
        self._grad_norms: list[float] = []

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
                seconds = time.perf_counter() - start
                self.seconds += seconds
                self._publish(*result, seconds=seconds)
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
        logits = self._fast(images)
        loss = F.cross_entropy(logits, labels)
        value = float(loss.detach())
        if not math.isfinite(value) or value > DIVERGED_LOSS:
            self._fail()
            return None
        with torch.no_grad():  # these weights gave a sane loss: the ones to go back to
            torch._foreach_copy_(self._good, [p.detach() for p in self.model.parameters()])
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self._grad_norms = [float(w.grad.norm()) for w in self._weights]  # "더 깊게?": do gradients vanish?
        self._record(final=False)  # the time-lapse keeps this moment (gradients included) if it is due
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
            h.grad_norm.append(self._grad_norms)
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
        if self.finished:
            self._record(final=True)

    def _record(self, *, final: bool) -> None:
        """Offer this moment to the time-lapse (which keeps an evenly thinned, bounded set of frames)."""
        if self.timelapse is None:
            return
        ev = self.evaluation
        with self.lock:
            self.timelapse.record(self.model, step=self.step_count + (0 if final else 1),
                                  epoch=self.step_count / self.steps_per_epoch, digit=self.test_data.images[:1],
                                  confusion=None if ev is None else ev.confusion.numpy(),
                                  accuracy=None if ev is None else ev.accuracy, final=final)

    # ----- evaluation -------------------------------------------------------------------------
    @torch.inference_mode()
    def _evaluate(self, data: Split) -> Evaluation:
        """The training model (eval mode) on a whole split; call with ``_step_lock`` held."""
        self.model.eval()
        preds, losses = [], 0.0
        for start in range(0, len(data.labels), EVAL_BATCH):
            x = data.images[start:start + EVAL_BATCH].to(self.device)
            y = data.labels[start:start + EVAL_BATCH].to(self.device)
            logits = self._fast(x)
            losses += float(F.cross_entropy(logits, y, reduction="sum"))
            preds.append(logits.argmax(1).cpu())
        predictions = torch.cat(preds)
        labels = data.labels.cpu()
        k = self.config.classes
        confusion = torch.bincount(labels * k + predictions, minlength=k * k).reshape(k, k)
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
                            self.history.copy(), filters, self.evaluation, self.seconds)

    def frames(self) -> list:
        """The time-lapse's frames so far (`explorer.interpret.Frame`, oldest first); [] without one."""
        with self.lock:
            return list(self.timelapse.frames) if self.timelapse is not None else []

    def feature_maps(self, image: torch.Tensor) -> list[tuple[tuple[str, int], torch.Tensor]]:
        """Output of every layer of ``model.features`` for one image (C, H, W): [((kind, n), (C', H', W'))]."""
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
        check_state_dict(state, model=self.config)
        with self._step_lock, self.lock:
            self.model.load_state_dict(state, strict=True)
            self._sync_view()
            self.optimizer = self._make_optimizer()
            self._good = [p.detach().clone() for p in self.model.parameters()]
            self.error = None


@torch.inference_mode()
def feature_maps(model: nn.Module, image: torch.Tensor) -> list[tuple[tuple[str, int], torch.Tensor]]:
    """Run ``image`` (C, H, W) through ``model.features``, keeping each layer's output (C', H', W') with the
    layer's kind and number (`explorer.core.models.numbered`: ("conv", 1), ...) for a translated label."""
    was_training = model.training
    model.eval()
    x = image.unsqueeze(0)  # (1, C, H, W)
    out = []
    for label, layer in zip(numbered(model.features), model.features):
        x = layer(x)
        out.append((label, x[0].detach().cpu().clone()))
    model.train(was_training)
    return out


def apply_checkpoint(trainer: Trainer, data: bytes) -> None:
    """Load checkpoint bytes into ``trainer`` (its weights stay unchanged when refused)."""
    trainer.load_state_dict(load_checkpoint(data, model=trainer.config))
