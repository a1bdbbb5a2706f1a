"""The vanishing gradient, measured: per-layer weight-gradient norms of a deep stack of Linear layers on a
batch of real MNIST digits, at initialisation and after a few steps (seed 001 ~L602–669, seed 000
~L341–345, ~L756–764 "더 깊게?").

Options: the activation (sigmoid, tanh, ReLU, leaky ReLU), the init (PyTorch default, Xavier, He) and batch
normalisation (Linear → BatchNorm → activation). The network is 784 → width × depth → 10 with cross-entropy,
built from its own generator, so the same seed gives the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from explorer.fc.checks import FCError, integer, number, option
from explorer.fc.functions import FUNCTIONS
from explorer.fc.mlp import INITS, MAX_DEPTH, build, layer_table, linear_layers

WIDTH = 64  # units of every hidden layer
BATCH = 100  # digits in the batch (the lectures' batch size)
MAX_STEPS = 50  # "a few steps" of gradient descent
Progress = Callable[[float], None]


@cache
def _embedded() -> tuple[torch.Tensor, torch.Tensor]:
    from explorer.core.data import load_embedded

    data = load_embedded("train")
    return data.images, data.labels


def mnist_batch(*, size: int = BATCH, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``size`` real training digits (size, 1, 28, 28) and their labels, picked by ``seed`` (copies)."""
    size = integer(size, name="size", low=1, high=5000)
    images, labels = _embedded()
    pick = torch.randperm(len(labels), generator=torch.Generator().manual_seed(int(seed)))[:size]
    return images[pick].clone(), labels[pick].clone()


def deep_stack(depth: int, *, activation: str, init: str = "default", batchnorm: bool = False,
               width: int = WIDTH, seed: int = 0) -> nn.Sequential:
    """784 → ``width`` (× ``depth`` hidden layers) → 10, initialised from a generator seeded by ``seed``."""
    depth = integer(depth, name="depth", low=1, high=MAX_DEPTH)
    option(activation, FUNCTIONS, name="activation")
    table = layer_table(hidden=(integer(width, name="width", low=1, high=1024),) * depth,
                        activations=activation, batchnorm=bool(batchnorm))
    return build(table, init=init, generator=torch.Generator().manual_seed(int(seed)))


@dataclass(frozen=True)
class GradientProfile:
    """Per-layer gradient norms of one deep stack, at initialisation and after each of a few steps."""

    depth: int
    activation: str
    init: str
    batchnorm: bool
    norms: np.ndarray  # (steps+1, depth+1): ‖∂L/∂W_l‖ (Frobenius), first layer first, the output layer last
    losses: np.ndarray  # (steps+1,) cross-entropy on the batch at each of those moments
    spread: np.ndarray  # (steps+1, depth): std of each hidden layer's output over the batch (saturation shows)

    @property
    def ratio(self) -> float:
        """First layer's norm over the last layer's, at initialisation: ≪ 1 means the gradient vanished."""
        return float(self.norms[0, 0] / self.norms[0, -1]) if self.norms[0, -1] > 0 else float("nan")


def _norms_and_spread(model: nn.Sequential, images: torch.Tensor, labels: torch.Tensor
                      ) -> tuple[list[float], float, list[float]]:
    outputs: list[torch.Tensor] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: outputs.append(out.detach()))
             for m in model if isinstance(m, (nn.Sigmoid, nn.Tanh, nn.ReLU, nn.LeakyReLU))]
    try:
        model.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
    finally:
        for h in hooks:
            h.remove()
    norms = [float(layer.weight.grad.norm()) for layer in linear_layers(model)]
    return norms, float(loss.detach()), [float(o.std()) for o in outputs]


def gradient_profile(depth: int, *, activation: str, init: str = "default", seed: int = 0,
                     batchnorm: bool = False, width: int = WIDTH, steps: int = 0, lr: float = 0.1,
                     progress: Progress | None = None) -> GradientProfile:
    """Norms at initialisation (row 0) and after each of ``steps`` plain gradient-descent steps with rate
    ``lr`` on the same batch (BatchNorm in training mode: batch statistics)."""
    option(init, INITS, name="init")
    steps = integer(steps, name="steps", low=0, high=MAX_STEPS)
    lr = number(lr, name="lr", low=1e-6, high=10.0)
    model = deep_stack(depth, activation=activation, init=init, batchnorm=batchnorm, width=width, seed=seed)
    images, labels = mnist_batch(seed=seed)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    norms, losses, spread = [], [], []
    for k in range(steps + 1):
        n, loss, s = _norms_and_spread(model, images, labels)
        norms.append(n)
        losses.append(loss)
        spread.append(s)
        if k < steps:
            opt.step()
        if progress is not None:
            progress((k + 1) / (steps + 1))
    return GradientProfile(int(depth), activation, init, bool(batchnorm), np.array(norms), np.array(losses),
                           np.array(spread))


def gradient_norms(depth: int, *, activation: str, init: str = "default", seed: int = 0,
                   batchnorm: bool = False, width: int = WIDTH) -> list[float]:
    """The weight-gradient norm of each Linear layer (``depth`` hidden layers, then the output layer), first
    layer first, for a fresh network on a batch of 100 real MNIST digits."""
    profile = gradient_profile(depth, activation=activation, init=init, seed=seed, batchnorm=batchnorm,
                               width=width)
    return profile.norms[0].tolist()


def compare_profiles(depth: int, *, activations: tuple[str, ...] = ("sigmoid", "relu"), init: str = "default",
                     batchnorm: bool = False, steps: int = 5, lr: float = 0.1, seed: int = 0,
                     width: int = WIDTH, progress: Progress | None = None) -> list[GradientProfile]:
    """:func:`gradient_profile` of the same stack once per activation (same init, batch and seed), for the
    page's side-by-side view. A long job: picklable in and out."""
    if not activations:
        raise FCError("fc.error.option", name="activation", value="", choices=", ".join(FUNCTIONS))
    out = []
    for i, activation in enumerate(activations):
        span = (i / len(activations), (i + 1) / len(activations))

        def part(fraction: float, lo: float = span[0], hi: float = span[1]) -> None:
            if progress is not None:
                progress(lo + (hi - lo) * fraction)

        out.append(gradient_profile(depth, activation=activation, init=init, seed=seed, batchnorm=batchnorm,
                                    width=width, steps=steps, lr=lr, progress=part))
    return out
