"""Why a nonlinearity (seed 001 ~L485–504): two linear layers multiply out to one, W2(W1x) = (W2W1)x = Wx,
and a 2-D toy where a linear network cannot separate the classes and a ReLU network can.

The collapse uses the slide's column-vector convention (x is a column, W1 is hidden × inputs). The toy nets
are 2 → hidden → hidden → 2 with softmax + cross-entropy; "linear" has no activation (so it is one linear
map, a straight boundary), "relu" puts ReLUs between the layers. Both are trained full-batch with Adam using
the stepper's hand-written numpy forward and backward (`explorer.fc.matrix`; fast and thread-free, about
30 ms per network), from the same seeded numpy generator; the decision regions are predicted on a grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from explorer.fc.checks import FCError, array, integer, number, option
from explorer.fc.matrix import backward, forward, one_hot

TOYS: tuple[str, ...] = ("xor", "circles", "spirals")
KINDS: tuple[str, ...] = ("linear", "relu")
MAX_SIZE = 16  # rows/columns of a typed collapse matrix
MAX_POINTS = 2000  # toy points
MAX_GRID = 200  # decision-region grid side
Progress = Callable[[float], None]


# ---------------------------------------------------------------- two linear layers are one


@dataclass(frozen=True)
class Collapse:
    """W2(W1x) = (W2W1)x: the two-layer output, the one-layer output, and what a ReLU in between changes."""

    W1: np.ndarray  # (H, D)
    W2: np.ndarray  # (K, H)
    x: np.ndarray  # (D,)
    W: np.ndarray  # (K, D) = W2 @ W1
    h: np.ndarray  # (H,) = W1 x
    two_layers: np.ndarray  # (K,) = W2 (W1 x)
    one_layer: np.ndarray  # (K,) = W x, equal to two_layers
    h_relu: np.ndarray  # (H,) = max(0, W1 x)
    with_relu: np.ndarray  # (K,) = W2 max(0, W1 x), in general not W x

    @property
    def same(self) -> bool:
        """True: the two linear layers gave the one layer's output (up to rounding)."""
        return bool(np.allclose(self.two_layers, self.one_layer, rtol=1e-12, atol=1e-12))

    @property
    def relu_changes(self) -> bool:
        """True when the ReLU made the output differ from W x (some hidden value was negative)."""
        return not np.allclose(self.with_relu, self.one_layer, rtol=1e-12, atol=1e-12)


def collapse(W1, W2, x) -> Collapse:
    """Multiply out two linear layers; ``W1`` (H, D), ``W2`` (K, H), ``x`` (D,)."""
    W1 = array(W1, name="W1", ndim=2, max_cells=MAX_SIZE * MAX_SIZE)
    W2 = array(W2, name="W2", ndim=2, max_cells=MAX_SIZE * MAX_SIZE)
    x = array(np.reshape(x, -1) if np.ndim(x) == 2 and 1 in np.shape(x) else x, name="x", ndim=1,
              max_cells=MAX_SIZE)
    if W1.shape[1] != x.shape[0]:
        raise FCError("fc.error.collapse_shape", left="W1", right="x", cols=W1.shape[1], rows=x.shape[0])
    if W2.shape[1] != W1.shape[0]:
        raise FCError("fc.error.collapse_shape", left="W2", right="W1", cols=W2.shape[1], rows=W1.shape[0])
    h = W1 @ x
    h_relu = np.maximum(h, 0.0)
    W = W2 @ W1
    return Collapse(W1, W2, x, W, h, W2 @ h, W @ x, h_relu, W2 @ h_relu)


def collapse_example(*, seed: int = 0) -> dict[str, np.ndarray]:
    """Small whole numbers, easy to multiply by hand: W1 (3×2), W2 (2×3), x (2,). Seed 0 has a negative
    hidden value, so the ReLU visibly changes the result."""
    rng = np.random.default_rng(integer(seed, name="seed", low=0, high=2**32 - 1))
    while True:
        W1 = rng.integers(-3, 4, size=(3, 2)).astype(float)
        W2 = rng.integers(-3, 4, size=(2, 3)).astype(float)
        x = rng.integers(-2, 3, size=2).astype(float)
        c = collapse(W1, W2, x)
        if c.relu_changes and np.any(c.h > 0) and np.all(x != 0):
            return {"W1": W1, "W2": W2, "x": x}


# ---------------------------------------------------------------- the 2-D toy


def toy_data(kind: str, *, n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded 2-D points (n, 2) in about [-1, 1]² and labels (n,) 0/1.

    ``xor``: the class is the sign of x·y (no line separates it); ``circles``: an inner disc and a ring;
    ``spirals``: two interleaved spirals.
    """
    kind = option(kind, TOYS, name="toy")
    n = integer(n, name="n", low=4, high=MAX_POINTS)
    noise = number(noise, name="noise", low=0.0, high=1.0)
    rng = np.random.default_rng(integer(seed, name="seed", low=0, high=2**32 - 1))
    labels = np.arange(n) % 2
    if kind == "xor":
        pts = rng.uniform(-1, 1, size=(n, 2))
        pts += np.sign(pts) * 0.1  # a gap along both axes
        labels = (pts[:, 0] * pts[:, 1] > 0).astype(np.int64)
    elif kind == "circles":
        radius = np.where(labels == 0, rng.uniform(0.0, 0.45, n), rng.uniform(0.65, 1.0, n))
        angle = rng.uniform(0, 2 * np.pi, n)
        pts = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    else:
        s = rng.uniform(0.1, 1.0, n)
        angle = 3 * np.pi * s + np.pi * labels
        pts = np.stack([s * np.cos(angle), s * np.sin(angle)], axis=1)
    pts = pts + rng.normal(0, noise * 0.2, size=pts.shape)
    return pts.astype(np.float64), labels.astype(np.int64)


def toy_params(*, hidden: int = 16, seed: int = 0) -> dict[str, np.ndarray]:
    """Weights of 2 → hidden → hidden → 2 in the stepper's layout (W_l: fan_in × fan_out), He-uniform
    W ~ U(±√(6/fan_in)), biases 0, drawn from a numpy generator seeded by ``seed``."""
    hidden = integer(hidden, name="hidden", low=1, high=256)
    rng = np.random.default_rng(integer(seed, name="seed", low=0, high=2**32 - 1))
    sizes = (2, hidden, hidden, 2)
    params = {}
    for l, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:]), start=1):
        bound = np.sqrt(6.0 / fan_in)
        params[f"W{l}"] = rng.uniform(-bound, bound, size=(fan_in, fan_out))
        params[f"b{l}"] = np.zeros(fan_out)
    return params


def _adam(params: dict[str, np.ndarray], grads: dict[str, np.ndarray], state: dict, *, lr: float,
          betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> dict[str, np.ndarray]:
    """One Adam step (as torch.optim.Adam), new arrays; ``state`` holds the moments and the step count."""
    state["t"] = state.get("t", 0) + 1
    out = {}
    for k, p in params.items():
        m = state[f"m{k}"] = betas[0] * state.get(f"m{k}", 0.0) + (1 - betas[0]) * grads[k]
        v = state[f"v{k}"] = betas[1] * state.get(f"v{k}", 0.0) + (1 - betas[1]) * grads[k] ** 2
        m_hat, v_hat = m / (1 - betas[0] ** state["t"]), v / (1 - betas[1] ** state["t"])
        out[k] = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return out


def _probabilities(points: np.ndarray, params: dict[str, np.ndarray], acts: tuple[str, ...]) -> np.ndarray:
    return forward(points, np.zeros((len(points), 2)), params, acts)["y"]  # (n, 2); the loss is unused


@dataclass(frozen=True)
class ToyFit:
    """One toy network after training: its accuracy, loss curve and decision regions."""

    kind: str  # "linear" | "relu"
    accuracy: float  # on the training points, 0..1
    losses: np.ndarray  # (steps,) cross-entropy before each step
    xs: np.ndarray  # (G,) grid x coordinates
    ys: np.ndarray  # (G,) grid y coordinates
    regions: np.ndarray  # (G, G) predicted class at (ys[i], xs[j])
    confidence: np.ndarray  # (G, G) probability of class 1
    params: dict[str, np.ndarray]  # the trained weights, the stepper's layout


def fit_toy(points: np.ndarray, labels: np.ndarray, *, kind: str, hidden: int = 16, steps: int = 300,
            lr: float = 0.03, grid: int = 80, seed: int = 0) -> ToyFit:
    """Train one toy network full-batch with Adam — the forward and backward are the stepper's hand-written
    numpy ones — and predict its decision regions on a grid × grid mesh."""
    acts = (option(kind, KINDS, name="network"),) * 2
    steps = integer(steps, name="steps", low=1, high=5000)
    grid = integer(grid, name="grid", low=2, high=MAX_GRID)
    lr = number(lr, name="lr", low=1e-5, high=1.0)
    params = toy_params(hidden=hidden, seed=seed)
    x = np.asarray(points, dtype=np.float64)  # (n, 2)
    T = one_hot(labels, 2)  # (n, 2)
    losses = np.empty(steps)
    state: dict = {}
    for k in range(steps):
        t = forward(x, T, params, acts)
        losses[k] = float(t["loss"])
        g = backward(t, acts)
        params = _adam(params, {key: g[f"d{key}"] for key in params}, state, lr=lr)
    lo, hi = x.min(axis=0) - 0.2, x.max(axis=0) + 0.2
    xs, ys = np.linspace(lo[0], hi[0], grid), np.linspace(lo[1], hi[1], grid)
    mesh = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)  # (G·G, 2)
    prob = _probabilities(mesh, params, acts)[:, 1].reshape(grid, grid)
    acc = float((_probabilities(x, params, acts).argmax(axis=1) == labels).mean())
    return ToyFit(kind, acc, losses, xs, ys, (prob > 0.5).astype(np.int64), prob, params)


@dataclass(frozen=True)
class ToyComparison:
    """The same points, a linear network and a ReLU network."""

    toy: str
    points: np.ndarray  # (n, 2)
    labels: np.ndarray  # (n,)
    linear: ToyFit
    relu: ToyFit


def compare_toy(toy: str = "xor", *, n: int = 200, noise: float = 0.1, hidden: int = 16, steps: int = 300,
                grid: int = 80, seed: int = 0, progress: Progress | None = None) -> ToyComparison:
    """A linear and a ReLU network (same size, same init seed) trained on the same seeded toy points."""
    points, labels = toy_data(toy, n=n, noise=noise, seed=seed)
    fits = []
    for i, kind in enumerate(KINDS):
        fits.append(fit_toy(points, labels, kind=kind, hidden=hidden, steps=steps, grid=grid, seed=seed))
        if progress is not None:
            progress((i + 1) / len(KINDS))
    return ToyComparison(toy, points, labels, *fits)
