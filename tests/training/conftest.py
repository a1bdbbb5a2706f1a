"""Small injected data for the training wing's tests: easy synthetic digits, a small config, a trainer."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from explorer.training import TrainConfig, Trainer


@dataclass(frozen=True)
class Data:
    images: torch.Tensor
    labels: torch.Tensor


def synthetic_digits(n: int, seed: int) -> Data:
    """Easy synthetic digits: class k lights up a k-dependent band, plus noise."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 10
    images = 0.1 * torch.rand(n, 1, 28, 28, generator=g)
    for k in range(10):
        images[labels == k, 0, 2 * k + 4:2 * k + 7, 4:24] += 0.9
    return Data(images.clamp(0, 1), labels)


TRAIN, TEST = synthetic_digits(200, 0), synthetic_digits(100, 1)
SMALL = TrainConfig(batch_size=50, epochs=2)


def small_trainer(config: TrainConfig = SMALL) -> Trainer:
    return Trainer(config, TRAIN, TEST, device=torch.device("cpu"))
