"""Losses on real numbers: softmax + cross-entropy instead of squared error (seed 000 ~L424–428), their
gradients with respect to the scores (softmax + cross-entropy gives y − t), what a saturated sigmoid does
to learning with squared error, and logistic regression's gradient (a − y)x (seed 003 ~L14–63).

All hand-written in numpy; the tests check every gradient against torch autograd in float64.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from explorer.fc.checks import FCError, array, integer, number
from explorer.fc.matrix import log_softmax, parse_vector, sigmoid

MAX_CLASSES = 100  # scores of one example


def _softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + e^z) without overflow."""
    z = np.asarray(z, dtype=np.float64)
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


# ---------------------------------------------------------------- softmax: cross-entropy vs squared error


@dataclass(frozen=True)
class LossComparison:
    """One example's scores through softmax, with both losses and both gradients w.r.t. the scores."""

    scores: np.ndarray  # (K,) f, the network's raw class scores
    label: int  # the true class y_i
    p: np.ndarray  # (K,) softmax(f)
    t: np.ndarray  # (K,) one-hot target
    cross_entropy: float  # L_i = −log p[y_i] = −log(e^{f_y} / Σ_j e^{f_j})
    squared_error: float  # ½ Σ_k (p_k − t_k)²
    grad_cross_entropy: np.ndarray  # (K,) ∂L_i/∂f = p − t
    grad_squared_error: np.ndarray  # (K,) ∂(½‖p − t‖²)/∂f = J_softmax (p − t), J = diag(p) − p pᵀ

    @property
    def ratio(self) -> float:
        """‖grad CE‖ / ‖grad squared error‖: how much stronger cross-entropy pushes on these numbers."""
        se = float(np.linalg.norm(self.grad_squared_error))
        return float(np.linalg.norm(self.grad_cross_entropy)) / se if se > 0 else float("inf")


def check_scores(scores) -> np.ndarray:
    s = array(scores, name="scores", ndim=1, max_cells=MAX_CLASSES)
    if s.size < 2:
        raise FCError("fc.error.classes", got=s.size)
    return s


def compare_losses(scores, label: int) -> LossComparison:
    """Softmax of ``scores`` (K,) with true class ``label``; cross-entropy and squared error side by side."""
    s = check_scores(scores)
    label = integer(label, name="label", low=0, high=s.size - 1)
    logp = log_softmax(s)
    p = np.exp(logp)
    t = np.zeros_like(p)
    t[label] = 1.0
    err = p - t
    jac = np.diag(p) - np.outer(p, p)  # ∂p/∂f, symmetric
    return LossComparison(s, label, p, t, float(-logp[label]), float(0.5 * err @ err), err, jac @ err)


def parse_scores(text: str) -> np.ndarray:
    """Scores typed on one line ("3.2 5.1 -1.7"), 2..MAX_CLASSES numbers."""
    return check_scores(parse_vector(text, name="scores"))


@dataclass(frozen=True)
class RealScores:
    """The bundled CNN's raw class scores for one embedded test digit."""

    index: int
    image: np.ndarray  # (28, 28) in [0, 1]
    label: int  # the true digit
    scores: np.ndarray  # (10,) float64 logits


@cache
def _bundled():
    import torch

    from explorer.activations import load_bundled_model
    from explorer.core.data import load_embedded

    data = load_embedded("test")
    model = load_bundled_model().eval()
    with torch.inference_mode():
        logits = model(data.images).double().numpy()
    logits.flags.writeable = False
    return data.images[:, 0].numpy(), data.labels.numpy(), logits


def real_scores(index: int) -> RealScores:
    """Scores of the lectures' trained CNN (the app's bundled model) on embedded test digit ``index``."""
    images, labels, logits = _bundled()
    index = integer(index, name="index", low=0, high=len(labels) - 1)
    return RealScores(index, images[index].astype(np.float64), int(labels[index]), logits[index].copy())


def misclassified() -> np.ndarray:
    """Indices of the embedded test digits the bundled CNN gets wrong (its scores are the instructive ones:
    confidently wrong means a large p − t)."""
    _, labels, logits = _bundled()
    return np.flatnonzero(logits.argmax(axis=1) != labels)


# ---------------------------------------------------------------- a sigmoid output: squared error vs cross-entropy


@dataclass(frozen=True)
class Saturation:
    """One sigmoid output a = σ(z) with target y, over a range of z: both losses and dL/dz."""

    y: float  # the target, 0..1
    z: np.ndarray  # (P,)
    a: np.ndarray  # (P,) σ(z)
    squared_error: np.ndarray  # (P,) ½(a − y)²
    cross_entropy: np.ndarray  # (P,) −(y log a + (1 − y) log(1 − a))
    grad_squared_error: np.ndarray  # (P,) (a − y)·a(1 − a): vanishes where σ saturates, right or wrong
    grad_cross_entropy: np.ndarray  # (P,) a − y: large exactly when the output is confidently wrong


def saturation(*, y: float = 1.0, lo: float = -10.0, hi: float = 10.0, points: int = 201) -> Saturation:
    """Squared error and cross-entropy of a sigmoid output on a grid of z (e.g. z = −10 with y = 1: confidently
    wrong; the squared-error gradient is 4.5e-5, the cross-entropy gradient −1)."""
    y = number(y, name="y", low=0.0, high=1.0)
    lo = number(lo, name="lo", low=-100.0, high=100.0)
    hi = number(hi, name="hi", low=-100.0, high=100.0)
    if hi <= lo:
        raise FCError("fc.error.interval", lo=f"{lo:g}", hi=f"{hi:g}")
    z = np.linspace(lo, hi, integer(points, name="points", low=2, high=5001))
    a = sigmoid(z)
    ce = y * _softplus(-z) + (1 - y) * _softplus(z)  # −log σ(z) = softplus(−z), −log(1 − σ(z)) = softplus(z)
    return Saturation(y, z, a, 0.5 * (a - y) ** 2, ce, (a - y) * a * (1 - a), a - y)


@dataclass(frozen=True)
class LearningCurves:
    """Gradient descent on one sigmoid neuron a = σ(w·x + b) from a confidently wrong start, with each loss."""

    steps: np.ndarray  # (S+1,) 0..S
    a_squared_error: np.ndarray  # (S+1,) the output during training with ½(a − y)²
    a_cross_entropy: np.ndarray  # (S+1,) the output during training with cross-entropy
    loss_squared_error: np.ndarray  # (S+1,)
    loss_cross_entropy: np.ndarray  # (S+1,)


def learning_curves(*, w: float = -4.0, b: float = -2.0, x: float = 1.0, y: float = 1.0, lr: float = 1.0,
                    steps: int = 60) -> LearningCurves:
    """Both losses from the same start (w·x + b = −6 by default, a ≈ 0.0025 while y = 1): with squared error
    the output barely moves for many steps (σ' ≈ 0 there), with cross-entropy it moves at once."""
    w = number(w, name="w", low=-100.0, high=100.0)
    b = number(b, name="b", low=-100.0, high=100.0)
    x = number(x, name="x", low=-100.0, high=100.0)
    y = number(y, name="y", low=0.0, high=1.0)
    lr = number(lr, name="lr", low=1e-6, high=100.0)
    steps = integer(steps, name="steps", low=1, high=10_000)
    runs = {}
    for loss in ("squared_error", "cross_entropy"):
        wk, bk = w, b
        outs, losses = [], []
        for _ in range(steps + 1):
            z = wk * x + bk
            a = float(sigmoid(z))
            outs.append(a)
            losses.append(0.5 * (a - y) ** 2 if loss == "squared_error"
                          else float(y * _softplus(-z) + (1 - y) * _softplus(z)))
            dz = (a - y) * a * (1 - a) if loss == "squared_error" else a - y
            wk, bk = wk - lr * dz * x, bk - lr * dz
        runs[loss] = (np.array(outs), np.array(losses))
    return LearningCurves(np.arange(steps + 1), runs["squared_error"][0], runs["cross_entropy"][0],
                          runs["squared_error"][1], runs["cross_entropy"][1])


# ---------------------------------------------------------------- logistic regression (seed 003)


@dataclass(frozen=True)
class LogisticStep:
    """z = w·x + b, a = σ(z), L = −(y log a + (1 − y) log(1 − a)) and the chain rule piece by piece."""

    x: np.ndarray  # (D,)
    y: float  # 0..1
    w: np.ndarray  # (D,)
    b: float
    z: float
    a: float
    loss: float
    dL_da: float  # −y/a + (1 − y)/(1 − a)   (inf when a rounds to exactly 0 or 1)
    da_dz: float  # a(1 − a)
    dw: np.ndarray  # (D,) ∂L/∂w = (a − y)x
    db: float  # ∂L/∂b = a − y

    def updated(self, lr: float) -> tuple[np.ndarray, float]:
        """w − α(a − y)x, b − α(a − y) (seed 003, 1.3)."""
        return self.w - lr * self.dw, self.b - lr * self.db


def logistic_step(x, y: float, *, w, b: float = 0.0) -> LogisticStep:
    """One example through logistic regression, forward and backward (seed 003 §1.1–1.2)."""
    x = array(x, name="x", ndim=1, max_cells=10_000)
    w = array(w, name="w", ndim=1, max_cells=10_000)
    if w.shape != x.shape:
        raise FCError("fc.error.logistic_shape", x=x.size, w=w.size)
    y = number(y, name="y", low=0.0, high=1.0)
    b = number(b, name="b", low=-1e6, high=1e6)
    z = float(w @ x + b)
    a = float(sigmoid(z))
    loss = float(y * _softplus(-z) + (1 - y) * _softplus(z))
    with np.errstate(divide="ignore", invalid="ignore"):
        dL_da = float(-y / np.float64(a) + (1 - y) / np.float64(1 - a))
    return LogisticStep(x, y, w, b, z, a, loss, dL_da, a * (1 - a), (a - y) * x, a - y)
