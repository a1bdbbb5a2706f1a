"""The networks of the lectures. This file defines layers only; training lives in `explorer.training`.

Every model splits into ``features`` (conv/pool stack) and ``classifier`` (flatten + fully connected),
torchvision style, so any layer's output is one forward hook away.
"""

from __future__ import annotations

import math
from typing import Callable, Iterable

import torch
from torch import nn


def init_weights(model: nn.Module, generator: torch.Generator | None = None,
                 *, xavier: tuple[nn.Linear, ...] = ()) -> None:
    """PyTorch's default init for every conv/linear layer, drawn from ``generator`` (not the global RNG).

    Layers in ``xavier`` get Xavier-uniform weights instead, as the lectures' code does.
    """
    with torch.no_grad():
        for layer in model.modules():
            if not isinstance(layer, (nn.Conv2d, nn.Linear)):
                continue
            if layer in xavier:
                nn.init.xavier_uniform_(layer.weight, generator=generator)
            else:
                nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
            if layer.bias is not None:
                bound = 1 / math.sqrt(layer.weight[0].numel())
                nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


def conv_block(c_in: int, c_out: int, *, pool_padding: int = 0) -> list[nn.Module]:
    """The lectures' block: 3x3 conv (stride 1, padding 1) -> ReLU -> 2x2 max pool (stride 2)."""
    return [
        nn.Conv2d(c_in, c_out, kernel_size=3, stride=1, padding=1),  # (B, c_out, H, W)
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=2, stride=2, padding=pool_padding),  # (B, c_out, ~H/2, ~W/2)
    ]


class MetaBuilt(nn.Module):
    """A ``features`` + ``classifier`` network whose layers are made on the meta device (their own default
    init would draw from the global RNG), then initialised from ``generator`` only.

    ``make`` returns the two ``nn.Sequential``s; ``xavier`` lists indices into the classifier whose
    layers get Xavier-uniform weights (the lectures' code).
    """

    def __init__(self, make: Callable[[], tuple[nn.Sequential, nn.Sequential]], *,
                 generator: torch.Generator | None = None, xavier: tuple[int, ...] = ()) -> None:
        super().__init__()
        with torch.device("meta"):
            self.features, self.classifier = make()
        self.to_empty(device="cpu")  # real (uninitialised) storage, filled below
        init_weights(self, generator, xavier=tuple(self.classifier[i] for i in xavier))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, C, H, W)
        return self.classifier(self.features(x))


class SeedCNN(MetaBuilt):
    """The lectures' MNIST CNN (seed 000): two 3x3 conv blocks and one fully connected layer."""

    def __init__(self, *, generator: torch.Generator | None = None) -> None:
        super().__init__(lambda: (
            nn.Sequential(
                *conv_block(1, 32),   # (B, 32, 14, 14)
                *conv_block(32, 64),  # (B, 64, 7, 7)
            ),
            nn.Sequential(
                nn.Flatten(),                             # (B, 3136)
                nn.Linear(7 * 7 * 64, 10, bias=True),     # (B, 10)
            )), generator=generator, xavier=(1,))


class DeepSeedCNN(MetaBuilt):
    """The lectures' deeper variant: three conv blocks, FC 625 with dropout, FC 10."""

    def __init__(self, *, dropout: float = 0.5, generator: torch.Generator | None = None) -> None:
        super().__init__(lambda: (
            nn.Sequential(
                *conv_block(1, 32),                    # (B, 32, 14, 14)
                *conv_block(32, 64),                   # (B, 64, 7, 7)
                *conv_block(64, 128, pool_padding=1),  # (B, 128, 4, 4): (7 + 2 - 2) // 2 + 1 = 4
            ),
            nn.Sequential(
                nn.Flatten(),                              # (B, 2048)
                nn.Linear(4 * 4 * 128, 625, bias=True),    # (B, 625)
                nn.ReLU(),
                nn.Dropout(p=dropout),
                nn.Linear(625, 10, bias=True),             # (B, 10)
            )), generator=generator, xavier=(1, 4))


class LeNet5(MetaBuilt):
    """LeNet-5 (LeCun et al. 1998) for 28x28 MNIST: C1 pads by 2 so it sees the classic 32x32."""

    def __init__(self, *, generator: torch.Generator | None = None) -> None:
        super().__init__(lambda: (
            nn.Sequential(
                nn.Conv2d(1, 6, kernel_size=5, padding=2),  # C1: (B, 6, 28, 28)
                nn.Tanh(),
                nn.AvgPool2d(kernel_size=2, stride=2),      # S2: (B, 6, 14, 14)
                nn.Conv2d(6, 16, kernel_size=5),            # C3: (B, 16, 10, 10)
                nn.Tanh(),
                nn.AvgPool2d(kernel_size=2, stride=2),      # S4: (B, 16, 5, 5)
            ),
            nn.Sequential(
                nn.Flatten(),                               # (B, 400)
                nn.Linear(16 * 5 * 5, 120),                 # C5: (B, 120)
                nn.Tanh(),
                nn.Linear(120, 84),                         # F6: (B, 84)
                nn.Tanh(),
                nn.Linear(84, 10),                          # output: (B, 10)
            )), generator=generator)


MODELS: dict[str, Callable[..., nn.Module]] = {
    "seed_cnn": SeedCNN,
    "deep_seed_cnn": DeepSeedCNN,
    "lenet5": LeNet5,
}


def build_model(name: str = "seed_cnn", *, generator: torch.Generator | None = None) -> nn.Module:
    """A fresh model by name; with ``generator`` its initial weights depend on that generator only."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; expected one of {sorted(MODELS)}")
    return MODELS[name](generator=generator)


def layer_kind(module: nn.Module) -> str:
    """What a layer is, as the lectures name it: "conv", "pool", "act", "norm", "dropout", "flatten",
    "linear" or "other" (i18n: ``common.layer.<kind>``)."""
    kinds = ((nn.Conv2d, "conv"), ((nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d), "pool"),
             ((nn.ReLU, nn.Tanh, nn.Sigmoid, nn.LeakyReLU), "act"), ((nn.BatchNorm1d, nn.BatchNorm2d), "norm"),
             (nn.Dropout, "dropout"), (nn.Flatten, "flatten"), (nn.Linear, "linear"))
    return next((kind for types, kind in kinds if isinstance(module, types)), "other")


def numbered(modules: Iterable[nn.Module]) -> list[tuple[str, int]]:
    """Each layer's kind and its number among layers of that kind: [("conv", 1), ("act", 1), ("pool", 1), ...]."""
    counts: dict[str, int] = {}
    out = []
    for module in modules:
        kind = layer_kind(module)
        counts[kind] = counts.get(kind, 0) + 1
        out.append((kind, counts[kind]))
    return out


def pick_device() -> torch.device:
    """CUDA, then Apple MPS, else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
