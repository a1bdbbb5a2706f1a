"""The homework's MLP in PyTorch (seed 001: 784 → hidden → 10, sigmoid or ReLU), its init choices, and a
training loop with the homework's figures (train accuracy, test accuracy, cost).

Layers are described by a plain table (list of dicts, e.g. ``{"kind": "linear", "out_features": 100}``) so a
page or the Train machinery can show and build the same network. Networks are built by the app's one builder,
`explorer.builder.build_model` (made on the meta device, initialised from a ``torch.Generator`` only: one
student's run never touches the global RNG); this module keeps its tables' ``in_features`` / ``num_features``
for display, the builder infers them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from explorer.builder import INITS, build_model, initialize
from explorer.fc.checks import FCError, integer, number, option

HIDDEN_ACTIVATIONS: tuple[str, ...] = ("sigmoid", "tanh", "relu", "leaky_relu")
MAX_HIDDEN = 1024  # units of one hidden layer
MAX_DEPTH = 30  # hidden layers
HOMEWORK_HIDDEN: dict[int, tuple[int, ...]] = {2: (100,), 3: (100, 50)}  # the lecture gives no sizes: ours
HOMEWORK_ACTIVATIONS: dict[int, tuple[str, ...]] = {2: ("sigmoid",), 3: ("sigmoid", "relu")}  # seed 001 code
Progress = Callable[[float], None]


# ---------------------------------------------------------------- layer tables


def layer_table(*, hidden: Sequence[int] = (100,), activations: str | Sequence[str] = "sigmoid",
                batchnorm: bool = False, in_features: int = 784, classes: int = 10) -> list[dict]:
    """Flatten → [Linear → (BatchNorm) → activation] per hidden layer → Linear(classes), as dicts."""
    hidden = [integer(h, name="hidden", low=1, high=MAX_HIDDEN) for h in hidden]
    if len(hidden) > MAX_DEPTH:
        raise FCError("fc.error.range", name="depth", value=len(hidden), low=0, high=MAX_DEPTH)
    acts = (activations,) * len(hidden) if isinstance(activations, str) else tuple(activations)
    if len(acts) != len(hidden):
        raise FCError("fc.error.activations_count", got=len(acts), hidden=len(hidden))
    table: list[dict] = [{"kind": "flatten"}]
    width = integer(in_features, name="in_features", low=1, high=784)
    for units, act in zip(hidden, acts):
        table.append({"kind": "linear", "in_features": width, "out_features": units})
        if batchnorm:
            table.append({"kind": "batchnorm", "num_features": units})
        table.append({"kind": option(act, HIDDEN_ACTIVATIONS, name="activation")})
        width = units
    table.append({"kind": "linear", "in_features": width,
                  "out_features": integer(classes, name="classes", low=2, high=1000)})
    return table


def homework_table(*, layers: int = 2, activation: str | None = None, hidden: Sequence[int] | None = None
                   ) -> list[dict]:
    """The homework MLP: 2 layers 784 → 100 → 10 (sigmoid, the lecture's 2-layer example) or 3 layers
    784 → 100 → 50 → 10 (sigmoid then ReLU, the homework's code). ``activation`` overrides all hidden layers."""
    layers = integer(layers, name="layers", low=2, high=3)
    acts = HOMEWORK_ACTIVATIONS[layers] if activation is None else (activation,) * (layers - 1)
    return layer_table(hidden=tuple(HOMEWORK_HIDDEN[layers] if hidden is None else hidden), activations=acts)


def _builder_row(spec: dict) -> dict:
    """One row of this module's tables as a row of the builder's table (sizes are inferred there)."""
    if spec["kind"] == "linear":
        return {"kind": "linear", "out_features": spec["out_features"]}
    return {"kind": spec["kind"]}


def trainer_layers(table: Sequence[dict]) -> tuple[dict, ...]:
    """A table of this module as the builder's layer table (no sizes but ``out_features``), the form
    ``explorer.training.TrainConfig(model="custom", layers=...)`` trains."""
    return tuple(_builder_row(spec) for spec in table)


def build(table: Sequence[dict], *, init: str = "default", generator: torch.Generator | None = None
          ) -> nn.Sequential:
    """The ``nn.Sequential`` of a layer table, weights drawn from ``generator`` by ``init`` (through
    `explorer.builder.build_model`: the table starts with flatten, so every layer is in its classifier)."""
    option(init, INITS, name="init")
    in_features = next(spec["in_features"] for spec in table if spec["kind"] == "linear")
    model = build_model([_builder_row(spec) for spec in table], (in_features,), init=init,
                        generator=generator if generator is not None else torch.Generator().manual_seed(0))
    return nn.Sequential(*model.features, *model.classifier)


def build_mlp(*, hidden: Sequence[int] = (100,), activations: str | Sequence[str] = "sigmoid",
              init: str = "default", batchnorm: bool = False, seed: int = 0) -> nn.Sequential:
    """784 → hidden... → 10 with its own generator seeded by ``seed``."""
    table = layer_table(hidden=hidden, activations=activations, batchnorm=batchnorm)
    return build(table, init=init, generator=torch.Generator().manual_seed(int(seed)))


# ---------------------------------------------------------------- init choices


def init_default(model: nn.Module, generator: torch.Generator) -> None:
    """PyTorch's own default for nn.Linear: W ~ U(±1/√fan_in) (kaiming_uniform, a = √5), b ~ U(±1/√fan_in)."""
    initialize(model, init="default", generator=generator)


def init_xavier(model: nn.Module, generator: torch.Generator) -> None:
    """Xavier (Glorot) uniform, as the lectures' code (seed 000): W ~ U(±√(6/(fan_in+fan_out))), b = 0."""
    initialize(model, init="xavier", generator=generator)


def init_he(model: nn.Module, generator: torch.Generator) -> None:
    """He (Kaiming) normal for ReLU: W ~ N(0, 2/fan_in), b = 0."""
    initialize(model, init="he", generator=generator)


INIT_FUNCTIONS: dict[str, Callable[[nn.Module, torch.Generator], None]] = {
    "default": init_default, "xavier": init_xavier, "he": init_he}


def reinit(model: nn.Module, init: str, *, generator: torch.Generator) -> None:
    """Re-initialise every nn.Linear (and nn.Conv2d) of ``model`` by ``init`` ("default", "xavier", "he") from
    ``generator``; batch norm back to the identity."""
    INIT_FUNCTIONS[option(init, INITS, name="init")](model, generator)


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    """The nn.Linear layers of ``model``, first layer first."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


# ---------------------------------------------------------------- training, the homework's figures


@dataclass
class EpochFigures:
    """Per epoch, the homework's three figures (seed 001: "train acc 99.5 / test acc 97.3, cost 0.0066")."""

    cost: list[float] = field(default_factory=list)  # mean training loss over the epoch's batches
    train_accuracy: list[float] = field(default_factory=list)  # whole training set after the epoch, 0..1
    test_accuracy: list[float] = field(default_factory=list)  # whole test set after the epoch, 0..1
    # (both only after the last epoch when trained with evaluate="last")
    seconds: list[float] = field(default_factory=list)  # wall time of each epoch's training


@dataclass(frozen=True)
class TrainResult:
    """A finished run: the weights (picklable) and the figures."""

    state_dict: dict[str, torch.Tensor]  # CPU copies
    table: list[dict]  # the layer table the weights belong to
    figures: EpochFigures
    seconds: float  # training time in total (the per-epoch evaluations excluded)


@torch.inference_mode()
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, *, batch: int = 1000) -> float:
    """Share of ``images`` (N, 1, 28, 28) classified as ``labels`` (eval mode)."""
    was = model.training
    model.eval()
    correct = sum(int((model(images[i:i + batch]).argmax(1) == labels[i:i + batch]).sum())
                  for i in range(0, len(labels), batch))
    model.train(was)
    return correct / max(1, len(labels))


def fit(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, *, epochs: int, batch_size: int = 100,
        lr: float = 1e-3, generator: torch.Generator, test: tuple[torch.Tensor, torch.Tensor] | None = None,
        evaluate: str = "every", progress: Progress | None = None,
        progress_span: tuple[float, float] = (0.0, 1.0)) -> EpochFigures:
    """The lectures' loop (Adam, cross-entropy, shuffled batches, last partial batch dropped) on ``model``
    in place; data order from ``generator``. Returns the cost of every epoch and the accuracies after every
    epoch (``evaluate="every"``) or only after the last (``"last"``: cheaper for a CNN)."""
    option(evaluate, ("every", "last"), name="evaluate")
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    n = len(labels)
    steps = max(1, n // batch_size)
    figures = EpochFigures()
    lo, hi = progress_span
    for epoch in range(epochs):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(n, generator=generator)
        total = 0.0
        for s in range(steps):
            idx = order[s * batch_size:(s + 1) * batch_size]
            loss = F.cross_entropy(model(images[idx]), labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach())
        figures.seconds.append(time.perf_counter() - start)
        figures.cost.append(total / steps)
        if evaluate == "every" or epoch == epochs - 1:
            figures.train_accuracy.append(accuracy(model, images, labels))
            if test is not None:
                figures.test_accuracy.append(accuracy(model, *test))
        if progress is not None:
            progress(lo + (hi - lo) * (epoch + 1) / epochs)
    return figures


def check_data(images: torch.Tensor, labels: torch.Tensor, *, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST-shaped float images (N, 1, 28, 28) and int labels (N,) 0..9, else ``fc.error.images``."""
    if not (isinstance(images, torch.Tensor) and isinstance(labels, torch.Tensor)) or images.ndim != 4 \
            or tuple(images.shape[1:]) != (1, 28, 28) or labels.shape != (len(images),) or len(images) == 0:
        got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise FCError("fc.error.images", name=name, got=str(got))
    if not torch.isfinite(images).all():
        raise FCError("fc.error.not_finite", name=name)
    if labels.dtype not in (torch.int64, torch.int32, torch.uint8) or labels.min() < 0 or labels.max() > 9:
        raise FCError("fc.error.mnist_labels", name=name)
    return images.float(), labels.long()


def train_mlp(train_images: torch.Tensor, train_labels: torch.Tensor, *,
              test_images: torch.Tensor | None = None, test_labels: torch.Tensor | None = None,
              layers: int = 2, activation: str | None = None, hidden: Sequence[int] | None = None,
              init: str = "default", epochs: int = 20, batch_size: int = 100, lr: float = 1e-3, seed: int = 777,
              progress: Progress | None = None) -> TrainResult:
    """Train the homework MLP (:func:`homework_table`) with the lectures' recipe (Adam 1e-3, batch 100);
    seeds its own generators (init: ``seed``, data order: ``seed + 1``). A long job: picklable in and out."""
    train_images, train_labels = check_data(train_images, train_labels, name="train")
    test = None
    if test_images is not None and test_labels is not None:
        test = check_data(test_images, test_labels, name="test")
    epochs = integer(epochs, name="epochs", low=1, high=200)
    batch_size = integer(batch_size, name="batch_size", low=1, high=10_000)
    lr = number(lr, name="lr", low=1e-6, high=10.0)
    table = homework_table(layers=layers, activation=activation, hidden=hidden)
    model = build(table, init=init, generator=torch.Generator().manual_seed(int(seed)))
    figures = fit(model, train_images, train_labels, epochs=epochs, batch_size=batch_size, lr=lr,
                  generator=torch.Generator().manual_seed(int(seed) + 1), test=test, progress=progress)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return TrainResult(state, table, figures, sum(figures.seconds))


def load(result: TrainResult) -> nn.Sequential:
    """The trained network of a :class:`TrainResult`, in eval mode."""
    model = build(result.table)
    model.load_state_dict(result.state_dict, strict=True)
    return model.eval()
