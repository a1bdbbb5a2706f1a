"""A layer table as a PyTorch model: ``features`` (everything before the first flatten / global average pool)
and ``classifier`` (the rest), torchvision style, so feature maps are one hook away.

Models are made on the meta device, then initialised from a ``torch.Generator`` only (never the global RNG):

- ``init="default"``: PyTorch's own default for conv/linear, W ~ kaiming_uniform(a=√5), b ~ U(±1/√fan_in),
  drawn layer by layer, weight then bias, exactly as `explorer.core.models.init_weights` draws them;
- ``init="xavier"``: Xavier (Glorot) uniform weights, zero biases;
- ``init="he"``: He (Kaiming) normal weights for ReLU, zero biases.

A conv/linear row's own ``"init"`` sets only that row's weight (the lectures' ``xavier_uniform_(self.fc.weight)``),
so the lecture presets start from the same weights as `explorer.core.models` for the same generator.
Batch norm starts as the identity (weight 1, bias 0, running mean 0, variance 1).
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

from explorer.builder.table import (
    INITS,
    TO_VECTOR_KINDS,
    TableError,
    check_layers,
    raise_first,
)

LEAKY_SLOPE = 0.01  # leaky ReLU's slope for negative inputs (PyTorch's default)


class TableNet(nn.Module):
    """The network of a layer table. ``row_paths[i]`` names the module(s) of table row ``i``."""

    def __init__(self, features: nn.Sequential, classifier: nn.Sequential, *, layers: Sequence[dict],
                 input_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.features = features          # (B, C, H, W) -> (B, C', H', W')
        self.classifier = classifier      # (B, C', H', W') -> (B, classes)
        self.layers = tuple(dict(r) for r in layers)   # the table in normal form
        self.input_shape = input_shape
        self.row_paths = layer_paths(self.layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, C, H, W)
        return self.classifier(self.features(x))


def layer_paths(layers: Sequence[dict]) -> list[tuple[str, ...]]:
    """For each row, the names of its modules in the model: ``("features.0",)``; a gap row has two
    (``AdaptiveAvgPool2d(1)`` and ``Flatten()``). The classifier starts at the first flatten or gap row."""
    paths: list[tuple[str, ...]] = []
    part, n = "features", 0
    for row in layers:
        if part == "features" and row.get("kind") in TO_VECTOR_KINDS:
            part, n = "classifier", 0
        count = 2 if row.get("kind") == "gap" else 1
        paths.append(tuple(f"{part}.{n + i}" for i in range(count)))
        n += count
    return paths


def _modules(row: dict, shape: tuple[int, ...]) -> list[nn.Module]:
    """The module(s) of one normal-form row whose input has ``shape`` (C, H, W) or (F,)."""
    kind = row["kind"]
    if kind == "conv":
        return [nn.Conv2d(shape[0], row["out_channels"], kernel_size=row["kernel"], stride=row["stride"],
                          padding=row["padding"])]
    if kind in ("maxpool", "avgpool"):
        pool = nn.MaxPool2d if kind == "maxpool" else nn.AvgPool2d
        return [pool(kernel_size=row["kernel"], stride=row["stride"], padding=row["padding"])]
    if kind == "linear":
        return [nn.Linear(shape[0], row["out_features"], bias=True)]
    if kind == "batchnorm":
        return [(nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d)(shape[0])]
    if kind == "dropout":
        return [nn.Dropout(p=row["p"])]
    if kind == "gap":
        return [nn.AdaptiveAvgPool2d(1), nn.Flatten()]  # (B, C, H, W) -> (B, C, 1, 1) -> (B, C)
    if kind == "leaky_relu":
        return [nn.LeakyReLU(LEAKY_SLOPE)]
    return [{"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "flatten": nn.Flatten}[kind]()]


def _make(layers: Sequence[object], input_shape: Sequence[int]) -> tuple[TableNet, dict[nn.Module, str]]:
    """The model on the meta device (no memory, no RNG) and each weighted module's own weight init."""
    check = check_layers(layers, input_shape)
    raise_first(check)
    features: list[nn.Module] = []
    classifier: list[nn.Module] = []
    own_init: dict[nn.Module, str] = {}
    with torch.device("meta"):
        for row, summary in zip(check.layers, check.rows):
            made = _modules(row, summary.input_shape)
            if "init" in row:
                own_init[made[0]] = row["init"]
            (classifier if classifier or row["kind"] in TO_VECTOR_KINDS else features).extend(made)
        model = TableNet(nn.Sequential(*features), nn.Sequential(*classifier), layers=check.layers,
                         input_shape=check.input_shape)
    return model, own_init


def build_model(layers: Sequence[object], input_shape: Sequence[int], *, generator: torch.Generator | None = None,
                init: str = "default") -> TableNet:
    """The model of a table for inputs of ``input_shape`` (C, H, W), weights drawn from ``generator`` by
    ``init`` (a fresh generator seeded 0 if None). A table with problems raises its first as `TableError`."""
    if init not in INITS:
        raise TableError("builder.error.init", value=str(init)[:40], choices=", ".join(INITS))
    model, own_init = _make(layers, input_shape)
    model.to_empty(device="cpu")  # real (uninitialised) storage, filled below
    initialize(model, init=init, generator=generator if generator is not None else torch.Generator().manual_seed(0),
               weights=own_init)
    return model


def initialize(model: nn.Module, *, init: str = "default", generator: torch.Generator,
               weights: dict[nn.Module, str] | None = None) -> None:
    """(Re-)initialise every conv/linear layer of ``model`` by ``init`` from ``generator`` (weights, then
    bias, layer by layer); ``weights`` overrides the weight's rule of single layers. Batch norm: identity."""
    if init not in INITS:
        raise TableError("builder.error.init", value=str(init)[:40], choices=", ".join(INITS))
    weights = weights or {}
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                _init_weight(m.weight, weights.get(m, init), generator)
                if m.bias is not None:
                    _init_bias(m.bias, m.weight, init, generator)
            elif isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.reset_parameters()  # weight 1, bias 0, running mean 0, running var 1: no randomness


def _init_weight(weight: torch.Tensor, rule: str, generator: torch.Generator) -> None:
    if rule == "xavier":
        nn.init.xavier_uniform_(weight, generator=generator)
    elif rule == "he":
        nn.init.kaiming_normal_(weight, nonlinearity="relu", generator=generator)
    else:
        nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)


def _init_bias(bias: torch.Tensor, weight: torch.Tensor, rule: str, generator: torch.Generator) -> None:
    if rule == "default":
        bound = 1 / math.sqrt(weight[0].numel())  # 1/√fan_in
        nn.init.uniform_(bias, -bound, bound, generator=generator)
    else:
        nn.init.zeros_(bias)


def expected_state(layers: Sequence[object], input_shape: Sequence[int]) -> dict[str, torch.Tensor]:
    """Keys, shapes and dtypes a weights file for this table must have: a fresh model's state_dict on the
    meta device (no memory used, whatever the size)."""
    model, _ = _make(layers, input_shape)
    return dict(model.state_dict())


def gradient_norms(model: TableNet) -> list[float | None]:
    """Per table row, the norm ‖∂L/∂W‖ of its weight after a backward pass (None for rows without weights,
    0.0 before any gradient): the vanishing gradient of "더 깊게?" layer by layer."""
    modules = dict(model.named_modules())
    norms: list[float | None] = []
    for paths in model.row_paths:
        weight = getattr(modules[paths[0]], "weight", None)
        if not isinstance(modules[paths[0]], (nn.Conv2d, nn.Linear)) or weight is None:
            norms.append(None)
        else:
            norms.append(0.0 if weight.grad is None else float(weight.grad.norm()))
    return norms
