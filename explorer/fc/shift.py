"""FC vs CNN on shifted digits (seed 000 ~L36–37: "a letter moved by 2 pixels is new data to it";
seed 001 ~L1607, seed 002 ~L259): train the homework's MLP and the lectures' CNN on the same digits without
augmentation, then test both on test digits moved right by 0..4 pixels.

A fully connected layer gives every pixel position its own weight, so a shifted digit meets weights that
never saw it; convolution shares its filters across positions and pooling absorbs small moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from torch import nn

from explorer.core.models import SeedCNN
from explorer.fc.checks import FCError, integer, number, option
from explorer.fc.mlp import EpochFigures, build, check_data, fit, layer_table

MAX_SHIFT = 27  # pixels: a 28-pixel-wide digit moved further is gone
EVAL_BATCH = 1000
Progress = Callable[[float], None]


def shift_right(images: torch.Tensor, shift: int) -> torch.Tensor:
    """``images`` (N, C, H, W) moved right by ``shift`` pixels (left if negative), vacated columns 0."""
    shift = integer(shift, name="shift", low=-MAX_SHIFT, high=MAX_SHIFT)
    if shift == 0:
        return images.clone()
    out = torch.zeros_like(images)
    if shift > 0:
        out[..., shift:] = images[..., :-shift]
    else:
        out[..., :shift] = images[..., -shift:]
    return out


@torch.inference_mode()
def shift_accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, shifts: Sequence[int]
                   ) -> list[float]:
    """Accuracy (0..1) of ``model`` on ``images`` (N, 1, 28, 28) moved right by each shift in pixels, the
    vacated columns filled with 0. The model is evaluated in eval mode and left as it was."""
    images, labels = check_data(images, labels, name="images")
    shifts = [integer(s, name="shift", low=-MAX_SHIFT, high=MAX_SHIFT) for s in shifts]
    was = model.training
    model.eval()
    try:
        out = []
        for s in shifts:
            moved = shift_right(images, s)
            correct = sum(int((model(moved[i:i + EVAL_BATCH]).argmax(1) == labels[i:i + EVAL_BATCH]).sum())
                          for i in range(0, len(labels), EVAL_BATCH))
            out.append(correct / len(labels))
        return out
    finally:
        model.train(was)


@dataclass(frozen=True)
class ShiftComparison:
    """Both networks' accuracy on shifted test digits, and what their training cost."""

    shifts: tuple[int, ...]
    mlp_accuracy: list[float]  # one per shift, 0..1
    cnn_accuracy: list[float]
    mlp_seconds: float  # training time (the per-epoch evaluations excluded)
    cnn_seconds: float
    mlp_parameters: int
    cnn_parameters: int
    mlp_figures: EpochFigures  # per-epoch cost and seconds; train / test accuracy (unshifted) after the last
    cnn_figures: EpochFigures
    mlp_table: list[dict]  # the MLP's layer table
    mlp_state: dict[str, torch.Tensor]  # trained weights (CPU), to look at or to test further
    cnn_state: dict[str, torch.Tensor]
    epochs: int
    train_size: int
    seed: int


def fc_vs_cnn(train_images: torch.Tensor, train_labels: torch.Tensor, test_images: torch.Tensor,
              test_labels: torch.Tensor, *, shifts: Sequence[int] = (0, 1, 2, 3, 4), epochs: int = 15,
              hidden: int = 100, activation: str = "relu", batch_size: int = 100, lr: float = 1e-3,
              seed: int = 777, progress: Progress | None = None) -> ShiftComparison:
    """Train the MLP 784 → ``hidden`` → 10 and the lectures' CNN (``SeedCNN``) on the same digits with the
    lectures' recipe (Adam 1e-3, batch 100, 15 epochs, no augmentation), each initialised from a generator
    seeded ``seed`` and shuffled by one seeded ``seed + 1``; then :func:`shift_accuracy` for both.

    A long job (about 25 s for the CNN on 5,000 digits, 15 epochs, 2 CPU threads); picklable in and out.
    Progress: the MLP is the first 10 %, the CNN the rest.
    """
    train_images, train_labels = check_data(train_images, train_labels, name="train")
    test_images, test_labels = check_data(test_images, test_labels, name="test")
    shifts = tuple(integer(s, name="shift", low=-MAX_SHIFT, high=MAX_SHIFT) for s in shifts)
    if not shifts:
        raise FCError("fc.error.no_shifts")
    epochs = integer(epochs, name="epochs", low=1, high=100)
    batch_size = integer(batch_size, name="batch_size", low=1, high=10_000)
    lr = number(lr, name="lr", low=1e-6, high=10.0)
    option(activation, ("sigmoid", "relu"), name="activation")
    seed = integer(seed, name="seed", low=0, high=2**63 - 1)
    table = layer_table(hidden=(integer(hidden, name="hidden", low=1, high=1024),), activations=activation)
    mlp = build(table, generator=torch.Generator().manual_seed(seed))
    cnn = SeedCNN(generator=torch.Generator().manual_seed(seed))
    results = {}
    for name, model, span in (("mlp", mlp, (0.0, 0.1)), ("cnn", cnn, (0.1, 1.0))):
        figures = fit(model, train_images, train_labels, epochs=epochs, batch_size=batch_size, lr=lr,
                      generator=torch.Generator().manual_seed(seed + 1), test=(test_images, test_labels),
                      evaluate="last", progress=progress, progress_span=span)
        results[name] = (figures, shift_accuracy(model, test_images, test_labels, shifts))
    return ShiftComparison(
        shifts, results["mlp"][1], results["cnn"][1], sum(results["mlp"][0].seconds),
        sum(results["cnn"][0].seconds), _count(mlp), _count(cnn), results["mlp"][0], results["cnn"][0], table,
        _state(mlp), _state(cnn), epochs, len(train_labels), seed)


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def load_models(result: ShiftComparison) -> tuple[nn.Module, nn.Module]:
    """The two trained networks of a :class:`ShiftComparison`, in eval mode."""
    mlp = build(result.mlp_table)
    mlp.load_state_dict(result.mlp_state, strict=True)
    cnn = SeedCNN(generator=torch.Generator().manual_seed(0))
    cnn.load_state_dict(result.cnn_state, strict=True)
    return mlp.eval(), cnn.eval()
