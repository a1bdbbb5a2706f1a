"""The four activation functions of the lesson and their derivatives, in numpy, for plotting and for the
stepper's worked numbers: sigmoid, tanh, ReLU, leaky ReLU (seed 001: "ReLU vs. Sigmoid"; 000 ~L415)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.fc.checks import FCError, integer, number, option

FUNCTIONS: tuple[str, ...] = ("sigmoid", "tanh", "relu", "leaky_relu")
LEAKY_SLOPE = 0.01  # slope of leaky ReLU for negative inputs (PyTorch's default)
MAX_POINTS = 5001  # points of one plotted curve


def sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-z), computed without overflow."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def value(name: str, z: np.ndarray, *, slope: float = LEAKY_SLOPE) -> np.ndarray:
    """f(z) for one of ``FUNCTIONS``."""
    z = np.asarray(z, dtype=np.float64)
    name = option(name, FUNCTIONS, name="activation")
    if name == "sigmoid":
        return sigmoid(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    return np.where(z > 0, z, slope * z)


def derivative(name: str, z: np.ndarray, *, slope: float = LEAKY_SLOPE) -> np.ndarray:
    """f'(z): σ(1 − σ) (at most 1/4), 1 − tanh² (at most 1), [z > 0] for ReLU (0 at z = 0, as PyTorch),
    1 or ``slope`` for leaky ReLU."""
    z = np.asarray(z, dtype=np.float64)
    name = option(name, FUNCTIONS, name="activation")
    if name == "sigmoid":
        s = sigmoid(z)
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0).astype(np.float64)
    return np.where(z > 0, 1.0, slope)


@dataclass(frozen=True)
class Curve:
    """One activation function on a grid."""

    name: str
    z: np.ndarray  # (P,) inputs
    f: np.ndarray  # (P,) f(z)
    df: np.ndarray  # (P,) f'(z)
    max_slope: float  # the largest f' on the grid: 0.25 for the sigmoid, 1 for the others


def curves(*, lo: float = -6.0, hi: float = 6.0, points: int = 241, names: tuple[str, ...] = FUNCTIONS,
           slope: float = LEAKY_SLOPE) -> list[Curve]:
    """Every function in ``names`` and its derivative on ``points`` evenly spaced inputs in [lo, hi]."""
    lo = number(lo, name="lo", low=-1e3, high=1e3)
    hi = number(hi, name="hi", low=-1e3, high=1e3)
    if hi <= lo:
        raise FCError("fc.error.interval", lo=f"{lo:g}", hi=f"{hi:g}")
    points = integer(points, name="points", low=2, high=MAX_POINTS)
    slope = number(slope, name="slope", low=0.0, high=1.0)
    z = np.linspace(lo, hi, points)
    out = []
    for name in names:
        df = derivative(name, z, slope=slope)
        out.append(Curve(name, z, value(name, z, slope=slope), df, float(df.max())))
    return out


def chain_factor(name: str, depth: int) -> float:
    """The best case of the chain rule through ``depth`` layers: (max f')^depth, e.g. 0.25^10 ≈ 1e-6 for the
    sigmoid ("기울기 0.. 이런거 중간에 곱하면 뭔가 뒤로 전달할게 없다", seed 001)."""
    depth = integer(depth, name="depth", low=0, high=1000)
    best = {"sigmoid": 0.25, "tanh": 1.0, "relu": 1.0, "leaky_relu": 1.0}[option(name, FUNCTIONS, name="activation")]
    return best ** depth
