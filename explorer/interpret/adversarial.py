"""Adversarial examples by the fast gradient sign method (FGSM, Goodfellow et al. 2015).

x_adv = clamp(x + eps * sign(grad_x CE(f(x), label)), 0, 1): every pixel moves by eps in the direction
that raises the loss of the given label. The direction is computed once at x, so a whole range of eps
values costs one more forward pass (`eps_sweep`), and the smallest eps that changes the prediction is
found by a scan of that range followed by bisection (`smallest_flipping_eps`).

For a drawn or uploaded digit there is no true label: pass the model's own prediction as ``label``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from explorer.interpret.common import (
    check_count,
    check_image,
    check_number,
    check_target,
    logits,
    private_copy,
)

SCAN_POINTS = 64  # eps values tried at once before bisecting
MAX_SWEEP = 1024  # eps values in one sweep


def _setup(model: nn.Module, image: object, label: object) -> tuple[nn.Module, torch.Tensor, int]:
    net = private_copy(model)
    x = check_image(image)
    with torch.no_grad():
        classes = logits(net, x).shape[1]
    return net, x, check_target(label, classes, name="label")


def _direction(net: nn.Module, x: torch.Tensor, label: int) -> torch.Tensor:
    """sign(d CE / d x) at x: (1, C, H, W) of -1, 0, +1."""
    x = x.clone().requires_grad_(True)
    with torch.enable_grad():
        loss = F.cross_entropy(logits(net, x), torch.tensor([label]))
        (grad,) = torch.autograd.grad(loss, x)
    return grad.sign()


def _attacked(x: torch.Tensor, direction: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """clamp(x + eps * direction, 0, 1) for each eps (E,): (E, C, H, W)."""
    return (x + eps[:, None, None, None] * direction).clamp(0, 1)


def fgsm(model: nn.Module, image: object, label: int, eps: float) -> torch.Tensor:
    """The FGSM image (1, C, H, W): clamp(x + eps * sign(grad_x CE), 0, 1)."""
    net, x, label = _setup(model, image, label)
    eps = check_number(eps, name="eps", low=0.0, high=1.0)
    return _attacked(x, _direction(net, x, label), torch.tensor([eps], dtype=x.dtype))


@dataclass(frozen=True)
class Adversarial:
    """One FGSM attack, everything the page shows."""

    eps: float
    image: torch.Tensor  # (1, C, H, W) the attacked image, in [0, 1]
    perturbation: torch.Tensor  # (1, C, H, W) image - original (in [-eps, eps]; smaller where clamped)
    probabilities: np.ndarray  # (K,) float64 softmax on the attacked image
    prediction: int  # its argmax
    clean_probabilities: np.ndarray  # (K,) float64 softmax on the original
    clean_prediction: int


def adversarial(model: nn.Module, image: object, label: int, eps: float) -> Adversarial:
    """FGSM at ``eps`` with the new prediction and probabilities beside the old ones."""
    net, x, label = _setup(model, image, label)
    eps = check_number(eps, name="eps", low=0.0, high=1.0)
    attacked = _attacked(x, _direction(net, x, label), torch.tensor([eps], dtype=x.dtype))
    with torch.no_grad():
        probs = torch.softmax(logits(net, torch.cat([x, attacked])), dim=1).double().numpy()  # (2, K)
    return Adversarial(eps, attacked, attacked - x, probs[1], int(probs[1].argmax()), probs[0],
                       int(probs[0].argmax()))


def eps_sweep(model: nn.Module, image: object, label: int, eps_values: object) -> np.ndarray:
    """Softmax probabilities (E, K) of the FGSM image at each eps (one gradient, one batched forward):
    what the page's slider moves through."""
    net, x, label = _setup(model, image, label)
    eps = np.asarray(eps_values, dtype=np.float64).ravel()
    check_count(len(eps), name="eps_values", low=1, high=MAX_SWEEP)
    for value in eps:
        check_number(float(value), name="eps", low=0.0, high=1.0)
    with torch.no_grad():
        batch = _attacked(x, _direction(net, x, label), torch.as_tensor(eps, dtype=x.dtype))
        return torch.softmax(logits(net, batch), dim=1).double().numpy()


def smallest_flipping_eps(model: nn.Module, image: object, label: int, *, eps_max: float = 0.5,
                          tol: float = 1e-3) -> float | None:
    """The smallest eps in (0, eps_max] at which FGSM makes the prediction differ from ``label``, to ``tol``;
    0.0 if the prediction already differs; None if nothing up to eps_max does.

    Method: a scan of SCAN_POINTS evenly spaced eps values (one batch), then bisection between the last
    unflipped and the first flipped of them. Guarantees: the prediction differs at the returned eps, not at
    any scanned eps below it, and not at some eps within ``tol`` below it. (The prediction need not be
    monotone in eps; if it flips back and forth between two scan points, the bisection finds one of the
    switches.)
    """
    net, x, label = _setup(model, image, label)
    eps_max = check_number(eps_max, name="eps_max", low=1e-6, high=1.0)
    tol = check_number(tol, name="tol", low=1e-7, high=eps_max)
    direction = _direction(net, x, label)

    def flipped(eps: torch.Tensor) -> torch.Tensor:  # (E,) bool
        with torch.no_grad():
            return logits(net, _attacked(x, direction, eps)).argmax(dim=1) != label

    if bool(flipped(torch.zeros(1, dtype=x.dtype))[0]):
        return 0.0
    grid = torch.linspace(0, eps_max, SCAN_POINTS + 1, dtype=torch.float64)[1:]  # (S,)
    hits = torch.nonzero(flipped(grid.to(x.dtype))).flatten()
    if not len(hits):
        return None
    first = int(hits[0])
    low, high = (float(grid[first - 1]) if first else 0.0), float(grid[first])
    while high - low > tol:
        middle = (low + high) / 2
        if bool(flipped(torch.tensor([middle], dtype=x.dtype))[0]):
            high = middle
        else:
            low = middle
    return high
