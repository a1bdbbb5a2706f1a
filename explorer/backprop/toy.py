"""The lecture's 6x6 toy CNN, forward and backward, computed by hand in numpy.

conv(X, W1) -> f -> 2x2 pool -> flatten -> W2 . flat -> f -> E = 1/2 (y - L2_a)^2, where f is the
sigmoid (the lecture) or ReLU, and the pool is max (the lecture) or average. Every intermediate
tensor is kept as a :class:`Step` so a page can show the arithmetic one step at a time.
torch is used only as the oracle (:func:`verify_with_torch`), never for the walkthrough itself.

Max-pool ties follow torch: inside each 2x2 window torch scans row by row and keeps the first
largest value (a later cell must be strictly larger to win), so the winner of a tie is the
top-most, then left-most tied cell, and only that cell receives the gradient.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np

from explorer.core.i18n import UserError

ACTIVATIONS: tuple[str, ...] = ("sigmoid", "relu")
POOLINGS: tuple[str, ...] = ("max", "avg")
UPDATES: tuple[str, ...] = ("W1", "both")  # "W1": the lecture updates only W1
POOL = 2  # 2x2 window, stride 2, no padding (torch's floor mode: a trailing odd row/column is dropped)
SATURATION = 30.0  # |z| beyond this: sigmoid'(z) < 1e-13, the gradient has vanished


class BackpropInputError(UserError):
    """A user-facing input problem, carrying an i18n key and its format arguments."""


@dataclass(frozen=True)
class Step:
    """One forward, backward or update step of the walkthrough."""

    id: str  # "conv", "pool", "dW1", ... (also names its i18n keys)
    phase: str  # "forward" | "backward" | "update"
    formula: str  # LaTeX
    arrays: dict[str, np.ndarray]  # named 2-D arrays shown for this step, inputs first
    result: str  # the name in `arrays` this step produces
    highlight: dict[str, np.ndarray] = field(default_factory=dict)  # name -> bool mask feeding the result

    @property
    def name_key(self) -> str:
        return f"backprop.step.{self.id}.name"

    @property
    def explain_key(self) -> str:
        return f"backprop.step.{self.id}.explain"


@dataclass(frozen=True)
class Walkthrough:
    """Everything the stepper shows, for one set of inputs."""

    steps: tuple[Step, ...]
    loss: float
    grad_W1: np.ndarray  # (k, l)
    grad_W2: np.ndarray  # (n,)
    W1_updated: np.ndarray
    W2_updated: np.ndarray
    loss_after_update: float
    tensors: dict[str, np.ndarray]  # every named tensor, forward and backward
    options: dict[str, object]  # lr, activation, pooling, update, focus, weight
    warnings: tuple[tuple[str, dict], ...] = ()  # (i18n key, params): saturation, overflow

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)


# ---------------------------------------------------------------- elementary pieces


def sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-z) without overflow: only ever exponentiates non-positive numbers."""
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def activate(z: np.ndarray, kind: str) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    return sigmoid(z) if kind == "sigmoid" else np.maximum(z, 0.0)


def activation_grad(z: np.ndarray, a: np.ndarray, kind: str) -> np.ndarray:
    """f'(z) given z and a = f(z); ReLU'(0) = 0, as torch."""
    return a * (1.0 - a) if kind == "sigmoid" else (np.asarray(z) > 0).astype(np.float64)


def conv2d(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Valid cross-correlation (what torch calls conv2d): out[i,j] = sum(x[i:i+k, j:j+l] * w)."""
    k, l = w.shape
    oh, ow = x.shape[0] - k + 1, x.shape[1] - l + 1
    out = np.zeros((oh, ow))
    for a in range(k):
        for b in range(l):
            out += w[a, b] * x[a:a + oh, b:b + ow]
    return out


def pool2x2(a: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Pooled map (ph, pw) and the routing weights (H, W): 1 at max winners / 1/4 for avg."""
    ph, pw = a.shape[0] // POOL, a.shape[1] // POOL
    windows = a[:ph * POOL, :pw * POOL].reshape(ph, POOL, pw, POOL).transpose(0, 2, 1, 3)
    windows = windows.reshape(ph, pw, POOL * POOL)  # row-major inside each window, like torch
    route = np.zeros_like(a, dtype=np.float64)
    if kind == "avg":
        route[:ph * POOL, :pw * POOL] = 1.0 / (POOL * POOL)
        return windows.mean(axis=2), route
    first = windows.argmax(axis=2)  # first maximum in row-major order = torch's tie rule
    for i in range(ph):
        for j in range(pw):
            r, c = divmod(int(first[i, j]), POOL)
            route[i * POOL + r, j * POOL + c] = 1.0
    return windows.max(axis=2), route


def unpool(d_pooled: np.ndarray, route: np.ndarray) -> np.ndarray:
    """Send each pooled cell's gradient back through its window, weighted by `route`."""
    up = np.zeros_like(route)
    ph, pw = d_pooled.shape
    up[:ph * POOL, :pw * POOL] = np.kron(d_pooled, np.ones((POOL, POOL)))
    return up * route


# ---------------------------------------------------------------- validation


def check_inputs(X, W1, W2, y, lr, activation: str, pooling: str) -> tuple[np.ndarray, ...]:
    """Float64 copies of the inputs, or BackpropInputError with an i18n key."""
    if activation not in ACTIVATIONS:
        raise BackpropInputError("backprop.error.option", name="activation", value=activation)
    if pooling not in POOLINGS:
        raise BackpropInputError("backprop.error.option", name="pooling", value=pooling)
    arrays = []
    for name, value, ndim in (("X", X, 2), ("W1", W1, 2)):
        arr = np.asarray(value, dtype=np.float64)
        if arr.ndim != ndim or 0 in arr.shape:
            raise BackpropInputError("backprop.error.ndim", name=name)
        arrays.append(arr)
    X, W1 = arrays
    W2 = np.asarray(W2, dtype=np.float64).reshape(-1)
    for name, arr in (("X", X), ("W1", W1), ("W2", W2), ("y", np.asarray(y, float)),
                      ("lr", np.asarray(lr, float))):
        if not np.all(np.isfinite(arr)):
            raise BackpropInputError("backprop.error.not_finite", name=name)
    oh, ow = X.shape[0] - W1.shape[0] + 1, X.shape[1] - W1.shape[1] + 1
    if oh < POOL or ow < POOL:
        raise BackpropInputError("backprop.error.too_small", x=_shape(X.shape), w=_shape(W1.shape))
    n = (oh // POOL) * (ow // POOL)
    if W2.size != n:
        raise BackpropInputError("backprop.error.w2_size", n=n, got=W2.size)
    return X, W1, W2, float(y), float(lr)


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(str(s) for s in shape)


# ---------------------------------------------------------------- forward / backward


def forward(X, W1, W2, y, *, activation: str = "sigmoid", pooling: str = "max") -> dict[str, np.ndarray]:
    """All forward tensors (float64); E may be inf/nan if the values overflowed."""
    with np.errstate(all="ignore"):
        L1 = conv2d(X, W1)  # (H-k+1, W-l+1)
        L1_a = activate(L1, activation)
        pooled, route = pool2x2(L1_a, pooling)  # (ph, pw), (H-k+1, W-l+1)
        flat = pooled.reshape(-1)  # (n,) row-major, like torch's view(1, -1)
        L2 = np.array(float(W2 @ flat))
        L2_a = activate(L2, activation)
        E = 0.5 * (y - L2_a) ** 2
    return {"X": X, "W1": W1, "W2": W2, "y": np.array(y), "L1": L1, "L1_a": L1_a,
            "L1_pool": pooled, "route": route, "flat": flat, "L2": L2, "L2_a": L2_a, "E": E}


def backward(fw: dict[str, np.ndarray], *, activation: str) -> dict[str, np.ndarray]:
    """Every gradient, by the chain rule, from the forward tensors."""
    with np.errstate(all="ignore"):
        dE_dL2a = fw["L2_a"] - fw["y"]
        dL2a_dL2 = activation_grad(fw["L2"], fw["L2_a"], activation)
        delta2 = dE_dL2a * dL2a_dL2  # dE/dL2
        dW2 = delta2 * fw["flat"]  # (n,)
        dpool = (delta2 * fw["W2"]).reshape(fw["L1_pool"].shape)  # dE/dL1_pool
        dL1_a = unpool(dpool, fw["route"])
        dact1 = activation_grad(fw["L1"], fw["L1_a"], activation)
        dL1 = dL1_a * dact1
        dW1 = conv2d(fw["X"], dL1)  # "the weight gradient is the input convolved with the error"
    return {"dE_dL2a": dE_dL2a, "dL2a_dL2": dL2a_dL2, "delta2": delta2, "dW2": dW2, "dpool": dpool,
            "dL1_a": dL1_a, "dact1": dact1, "dL1": dL1, "dW1": dW1}


def contributions(X: np.ndarray, dL1: np.ndarray, a: int, b: int) -> np.ndarray:
    """Weight sharing: W1[a,b] touched every position (i,j); its gradient is the sum of these."""
    oh, ow = dL1.shape
    return X[a:a + oh, b:b + ow] * dL1


def walkthrough(X, W1, W2, y, *, lr: float = 1.0, activation: str = "sigmoid", pooling: str = "max",
                update: str = "W1", focus: tuple[int, int] = (0, 0),
                weight: tuple[int, int] = (0, 0)) -> Walkthrough:
    """The whole forward/backward/update walkthrough.

    ``update="W1"`` updates only W1 (the lecture: E after = 0.1226); ``"both"`` updates W1 and W2.
    ``focus`` is the L1 cell whose receptive field is highlighted; ``weight`` the W1 entry whose
    per-position contributions are shown.
    """
    X, W1, W2, y, lr = check_inputs(X, W1, W2, y, lr, activation, pooling)
    if update not in UPDATES:
        raise BackpropInputError("backprop.error.option", name="update", value=update)
    fw = forward(X, W1, W2, y, activation=activation, pooling=pooling)
    bw = backward(fw, activation=activation)
    focus = _clip(focus, fw["L1"].shape)
    weight = _clip(weight, W1.shape)
    with np.errstate(all="ignore"):
        W1_new = W1 - lr * bw["dW1"]
        W2_new = W2 - lr * bw["dW2"] if update == "both" else W2.copy()
    after = forward(X, W1_new, W2_new, y, activation=activation, pooling=pooling)
    contrib = contributions(X, bw["dL1"], *weight)
    tensors = {**fw, **bw, "contrib": contrib, "W1_new": W1_new, "W2_new": W2_new, "E_after": after["E"]}
    options = {"lr": lr, "activation": activation, "pooling": pooling, "update": update,
               "focus": focus, "weight": weight}
    return Walkthrough(
        steps=tuple(_steps(tensors, options)), loss=float(fw["E"]), grad_W1=bw["dW1"], grad_W2=bw["dW2"],
        W1_updated=W1_new, W2_updated=W2_new, loss_after_update=float(after["E"]), tensors=tensors,
        options=options, warnings=tuple(_warnings(fw, after, activation)),
    )


def toy_example() -> dict[str, object]:
    """The lecture's inputs: X = 1..36 (6x6), W1 = 0.01 I (3x3), W2 = [0, .01, 0, .01], y = 1, lr = 1."""
    return {"X": np.arange(1, 37, dtype=np.float64).reshape(6, 6), "W1": 0.01 * np.eye(3),
            "W2": np.array([0.0, 0.01, 0.0, 0.01]), "y": 1.0, "lr": 1.0}


def random_input(seed: int, *, shape: tuple[int, int] = (6, 6)) -> np.ndarray:
    """Whole numbers 0..9, easy to read and multiply; the same seed gives the same X."""
    return np.random.default_rng(int(seed)).integers(0, 10, size=shape).astype(np.float64)


def mnist_crop(image: np.ndarray, *, row: int, col: int, size: int = 6) -> np.ndarray:
    """A ``size`` x ``size`` window of a 28x28 digit (values 0..1), clipped to stay inside it."""
    img = np.asarray(image, dtype=np.float64).reshape(image.shape[-2:])
    row = min(max(int(row), 0), img.shape[0] - size)
    col = min(max(int(col), 0), img.shape[1] - size)
    return img[row:row + size, col:col + size].copy()


def _clip(cell: tuple[int, int], shape: tuple[int, ...]) -> tuple[int, int]:
    return (min(max(int(cell[0]), 0), shape[0] - 1), min(max(int(cell[1]), 0), shape[1] - 1))


def _warnings(fw: dict, after: dict, activation: str) -> list[tuple[str, dict]]:
    out: list[tuple[str, dict]] = []
    if not np.isfinite(fw["E"]) or not np.all(np.isfinite(fw["L1"])):
        out.append(("backprop.warn.overflow", {}))
    elif not np.isfinite(after["E"]):
        out.append(("backprop.warn.overflow_after", {"loss": float(after["E"])}))
    elif after["E"] > fw["E"] + 1e-12:
        out.append(("backprop.warn.increased", {"before": f"{float(fw['E']):.4g}",
                                                "after": f"{float(after['E']):.4g}"}))
    if activation == "sigmoid":
        z = max(float(np.max(np.abs(fw["L1"]), initial=0.0)), abs(float(fw["L2"])))
        if np.isfinite(z) and z > SATURATION:
            out.append(("backprop.warn.saturated", {"z": f"{z:.3g}"}))
    return out


# ---------------------------------------------------------------- the steps, for display


def _row(v: np.ndarray) -> np.ndarray:
    return np.atleast_2d(np.asarray(v, dtype=np.float64))


def _mask(shape: tuple[int, ...], cells=None, *, full: bool = False) -> np.ndarray:
    m = np.full(shape, full, dtype=bool)
    if cells is not None:
        m[cells] = True
    return m


def _steps(t: dict[str, np.ndarray], o: dict) -> list[Step]:
    f = r"\sigma" if o["activation"] == "sigmoid" else r"\mathrm{ReLU}"
    fprime = r"L1_a(1-L1_a)" if o["activation"] == "sigmoid" else r"[L1>0]"
    fprime2 = r"L2_a(1-L2_a)" if o["activation"] == "sigmoid" else r"[L2>0]"
    pool = r"\mathrm{maxpool}" if o["pooling"] == "max" else r"\mathrm{avgpool}"
    (fi, fj), (a, b) = o["focus"], o["weight"]
    k, l = t["W1"].shape
    oh, ow = t["L1"].shape
    win = (slice(fi, fi + k), slice(fj, fj + l))
    used = t["route"] > 0
    scalar = np.ones((1, 1), dtype=bool)
    flat_all = np.ones_like(_row(t["flat"]), dtype=bool)
    steps = [
        Step("conv", "forward", r"L1_{ij} = \sum_{a,b} X_{i+a,\,j+b}\, W1_{ab}",
             {"X": t["X"], "W1": t["W1"], "L1": t["L1"]}, "L1",
             {"X": _mask(t["X"].shape, win), "W1": _mask(t["W1"].shape, full=True),
              "L1": _mask(t["L1"].shape, (fi, fj))}),
        Step("act1", "forward", rf"L1_a = {f}(L1)", {"L1": t["L1"], "L1_a": t["L1_a"]}, "L1_a",
             {"L1": _mask(t["L1"].shape, (fi, fj)), "L1_a": _mask(t["L1"].shape, (fi, fj))}),
        Step("pool", "forward", rf"L1_{{pool}} = {pool}_{{2\times2}}(L1_a)",
             {"L1_a": t["L1_a"], "L1_pool": t["L1_pool"]}, "L1_pool",
             {"L1_a": used, "L1_pool": _mask(t["L1_pool"].shape, full=True)}),
        Step("flatten", "forward", r"\mathrm{flat} = \mathrm{vec}(L1_{pool})",
             {"L1_pool": t["L1_pool"], "flat": _row(t["flat"])}, "flat",
             {"L1_pool": _mask(t["L1_pool"].shape, full=True), "flat": flat_all}),
        Step("linear", "forward", r"L2 = W2 \cdot \mathrm{flat} = \sum_n W2_n\, \mathrm{flat}_n",
             {"W2": _row(t["W2"]), "flat": _row(t["flat"]), "L2": _row(t["L2"])}, "L2",
             {"W2": _row(t["W2"]) != 0, "flat": _row(t["W2"]) != 0, "L2": scalar}),
        Step("act2", "forward", rf"L2_a = {f}(L2)", {"L2": _row(t["L2"]), "L2_a": _row(t["L2_a"])}, "L2_a"),
        Step("loss", "forward", r"E = \tfrac12 (y - L2_a)^2",
             {"y": _row(t["y"]), "L2_a": _row(t["L2_a"]), "E": _row(t["E"])}, "E"),
        Step("dE_dL2a", "backward", r"\frac{\partial E}{\partial L2_a} = L2_a - y",
             {"L2_a": _row(t["L2_a"]), "y": _row(t["y"]), "dE_dL2a": _row(t["dE_dL2a"])}, "dE_dL2a"),
        Step("dL2a_dL2", "backward", rf"\frac{{\partial L2_a}}{{\partial L2}} = {fprime2}",
             {"L2": _row(t["L2"]), "L2_a": _row(t["L2_a"]), "dL2a_dL2": _row(t["dL2a_dL2"])}, "dL2a_dL2"),
        Step("delta2", "backward",
             r"\delta = \frac{\partial E}{\partial L2} = \frac{\partial E}{\partial L2_a}\,"
             r"\frac{\partial L2_a}{\partial L2}",
             {"dE_dL2a": _row(t["dE_dL2a"]), "dL2a_dL2": _row(t["dL2a_dL2"]), "delta2": _row(t["delta2"])},
             "delta2"),
        Step("dW2", "backward", r"\frac{\partial E}{\partial W2} = \delta \cdot \mathrm{flat}",
             {"delta2": _row(t["delta2"]), "flat": _row(t["flat"]), "dW2": _row(t["dW2"])}, "dW2"),
        Step("dpool", "backward", r"\frac{\partial E}{\partial L1_{pool}} = \delta \cdot W2",
             {"delta2": _row(t["delta2"]), "W2": _row(t["W2"]), "dpool": t["dpool"]}, "dpool",
             {"W2": _row(t["W2"]) != 0, "dpool": t["dpool"] != 0}),
        Step("unpool", "backward",
             r"\frac{\partial E}{\partial L1_a} = \mathrm{route}\odot\mathrm{up}\!\left("
             r"\frac{\partial E}{\partial L1_{pool}}\right)",
             {"dpool": t["dpool"], "route": t["route"], "dL1_a": t["dL1_a"]}, "dL1_a",
             {"route": used, "dL1_a": used}),
        Step("dact1", "backward", rf"\frac{{\partial L1_a}}{{\partial L1}} = {fprime}",
             {"L1_a": t["L1_a"], "dact1": t["dact1"]}, "dact1"),
        Step("dL1", "backward",
             r"\frac{\partial E}{\partial L1} = \frac{\partial E}{\partial L1_a} \odot "
             r"\frac{\partial L1_a}{\partial L1}",
             {"dL1_a": t["dL1_a"], "dact1": t["dact1"], "dL1": t["dL1"]}, "dL1",
             {"dL1_a": used, "dL1": used}),
        Step("dW1", "backward",
             r"\frac{\partial E}{\partial W1_{ab}} = \sum_{i,j} X_{i+a,\,j+b}\,"
             r"\frac{\partial E}{\partial L1_{ij}} \;=\; \mathrm{conv}\!\left(X, \frac{\partial E}{\partial L1}\right)",
             {"X": t["X"], "dL1": t["dL1"], "dW1": t["dW1"]}, "dW1",
             {"X": _mask(t["X"].shape, (slice(a, a + oh), slice(b, b + ow))), "dL1": t["dL1"] != 0,
              "dW1": _mask(t["W1"].shape, (a, b))}),
        Step("sharing", "backward",
             rf"\frac{{\partial E}}{{\partial W1_{{{a}{b}}}}} = \sum_{{i,j}} X_{{i+{a},\,j+{b}}}\,"
             rf"\frac{{\partial E}}{{\partial L1_{{ij}}}} = {t['dW1'][a, b]:.6g}",
             {"X": t["X"], "dL1": t["dL1"], "contrib": t["contrib"]}, "contrib",
             {"X": _mask(t["X"].shape, (slice(a, a + oh), slice(b, b + ow))), "contrib": t["contrib"] != 0}),
        Step("update", "update",
             r"W \leftarrow W - \eta\,\frac{\partial E}{\partial W}" + rf",\quad \eta = {o['lr']:g}",
             {"W1": t["W1"], "dW1": t["dW1"], "W1_new": t["W1_new"], "W2_new": _row(t["W2_new"])}, "W1_new"),
        Step("loss_after", "update", r"E' = \tfrac12 (y - L2_a')^2",
             {"E": _row(t["E"]), "E_after": _row(t["E_after"])}, "E_after"),
    ]
    return steps


# ---------------------------------------------------------------- checks


def verify_with_torch(wt: Walkthrough) -> dict[str, float]:
    """Max |hand - torch.autograd| for every tensor and gradient (float64, same inputs)."""
    import torch
    import torch.nn.functional as F

    t, o = wt.tensors, wt.options
    X = torch.tensor(t["X"]).view(1, 1, *t["X"].shape)
    W1 = torch.tensor(t["W1"]).view(1, 1, *t["W1"].shape).requires_grad_()
    W2 = torch.tensor(t["W2"]).view(1, -1).requires_grad_()
    y = torch.tensor(float(t["y"]), dtype=torch.float64)

    def run(w1, w2):
        act = torch.sigmoid if o["activation"] == "sigmoid" else torch.relu
        pool = F.max_pool2d if o["pooling"] == "max" else F.avg_pool2d
        L1 = F.conv2d(X, w1)
        L1_a = act(L1)
        L1_pool = pool(L1_a, kernel_size=POOL, stride=POOL)
        L2_a = act(F.linear(L1_pool.reshape(1, -1), w2))
        return L1, L1_a, L1_pool, L2_a, 0.5 * (y - L2_a.squeeze()) ** 2

    L1, L1_a, L1_pool, L2_a, E = run(W1, W2)
    E.backward()
    with torch.no_grad():
        W1_new = W1 - o["lr"] * W1.grad
        W2_new = W2 - o["lr"] * W2.grad if o["update"] == "both" else W2.clone()
        E_after = run(W1_new, W2_new)[-1]
    pairs = {"L1": (t["L1"], L1), "L1_a": (t["L1_a"], L1_a), "L1_pool": (t["L1_pool"], L1_pool),
             "L2_a": (t["L2_a"], L2_a), "E": (t["E"], E), "dW1": (wt.grad_W1, W1.grad),
             "dW2": (wt.grad_W2, W2.grad), "W1_new": (wt.W1_updated, W1_new),
             "W2_new": (wt.W2_updated, W2_new), "E_after": (t["E_after"], E_after)}
    return {name: _maxdiff(mine, theirs.detach().numpy()) for name, (mine, theirs) in pairs.items()}


def finite_difference(wt: Walkthrough, *, eps: float = 1e-6) -> dict[str, float]:
    """Max |analytic - central difference (E(w+eps) - E(w-eps)) / 2 eps| for W1 and W2."""
    t, o = wt.tensors, wt.options

    def loss(W1, W2) -> float:
        return float(forward(t["X"], W1, W2, float(t["y"]), activation=o["activation"],
                             pooling=o["pooling"])["E"])

    out = {}
    for name, base, grad in (("dW1", t["W1"], wt.grad_W1), ("dW2", t["W2"], wt.grad_W2)):
        numeric = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            plus, minus = base.copy(), base.copy()
            plus[idx] += eps
            minus[idx] -= eps
            args = (plus, t["W2"]) if name == "dW1" else (t["W1"], plus)
            args_m = (minus, t["W2"]) if name == "dW1" else (t["W1"], minus)
            numeric[idx] = (loss(*args) - loss(*args_m)) / (2 * eps)
        out[name] = _maxdiff(grad, numeric)
    return out


def _maxdiff(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64).reshape(-1), np.asarray(b, dtype=np.float64).reshape(-1)
    with np.errstate(all="ignore"):
        d = np.abs(a - b)
    same = (a == b) | (np.isnan(a) & np.isnan(b))  # inf == inf and nan/nan agree
    return float(np.max(np.where(same, 0.0, d), initial=0.0))


@dataclass(frozen=True)
class History:
    """E before each of K gradient steps and after the last; stops early if values overflow."""

    losses: tuple[float, ...]
    diverged_at: int | None  # step at which E became inf/nan, else None
    W1: np.ndarray
    W2: np.ndarray


def train_steps(X, W1, W2, y, *, lr: float = 1.0, k: int = 10, activation: str = "sigmoid",
                pooling: str = "max", update: str = "W1") -> History:
    """K plain gradient-descent steps on the one example; E history of length k+1 (or shorter)."""
    X, W1, W2, y, lr = check_inputs(X, W1, W2, y, lr, activation, pooling)
    losses: list[float] = []
    for step in range(int(k) + 1):
        fw = forward(X, W1, W2, y, activation=activation, pooling=pooling)
        E = float(fw["E"])
        if not np.isfinite(E):
            return History(tuple(losses), step, W1, W2)
        losses.append(E)
        if step == k:
            break
        bw = backward(fw, activation=activation)
        with np.errstate(all="ignore"):
            W1 = W1 - lr * bw["dW1"]
            if update == "both":
                W2 = W2 - lr * bw["dW2"]
    return History(tuple(losses), None, W1, W2)


def first_increase(losses: tuple[float, ...] | list[float], *, tol: float = 1e-12) -> int | None:
    """The first step s at which E rose (losses[s] > losses[s-1]), else None."""
    return next((s for s in range(1, len(losses)) if losses[s] > losses[s - 1] + tol), None)


# ---------------------------------------------------------------- input parsing and export

def parse_matrix(text: str, *, name: str, shape: tuple[int, int]) -> np.ndarray:
    """A matrix typed as rows on lines, cells separated by spaces/commas; exact ``shape`` required."""
    lines = [ln for ln in str(text).strip().splitlines() if ln.strip()]
    if not lines:
        raise BackpropInputError("backprop.error.empty", name=name)
    rows = []
    for r, line in enumerate(lines, start=1):
        line = line.strip().strip("[]")
        cells = [c.strip() for c in line.split(",")] if "," in line else line.split()
        row = []
        for c, cell in enumerate(cells, start=1):
            if cell == "":
                raise BackpropInputError("backprop.error.empty_cell", name=name, row=r, col=c)
            try:
                value = float(cell)
            except ValueError:
                raise BackpropInputError("backprop.error.not_number", name=name, row=r, col=c,
                                         value=cell[:20]) from None
            if not np.isfinite(value):
                raise BackpropInputError("backprop.error.not_finite_cell", name=name, row=r, col=c)
            row.append(value)
        rows.append(row)
    got = (len(rows), max(len(r) for r in rows))
    if any(len(r) != got[1] for r in rows) or got != tuple(shape):
        raise BackpropInputError("backprop.error.shape", name=name, expected=_shape(shape),
                                 got=_shape(got) if all(len(r) == got[1] for r in rows) else
                                 "/".join(str(len(r)) for r in rows))
    return np.array(rows, dtype=np.float64)


def format_matrix(arr: np.ndarray, *, digits: int = 4) -> str:
    """The inverse of :func:`parse_matrix`: rows on lines, compact numbers."""
    return "\n".join(" ".join(f"{v:.{digits}g}" for v in row) for row in np.atleast_2d(arr))


def to_csv(wt: Walkthrough) -> str:
    """Every step's arrays as long-format CSV: step, phase, array, row, col, value."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["step", "phase", "array", "row", "col", "value"])
    for s in wt.steps:
        for name, arr in s.arrays.items():
            for (i, j), v in np.ndenumerate(np.atleast_2d(arr)):
                w.writerow([s.id, s.phase, name, i, j, repr(float(v))])
    return buf.getvalue()


def to_markdown(wt: Walkthrough, *, names: dict[str, str] | None = None, title: str = "Backprop walkthrough",
                summary: str = "", digits: int = 4) -> str:
    """A handout: ``title``, ``summary``, then each step's title (``names``: step id -> text),
    its formula and its arrays as tables. The page passes translated texts."""
    names = names or {}
    o = wt.options
    out = [f"# {title}\n", f"{summary}\n" if summary else "",
           f"activation = {o['activation']}, pooling = {o['pooling']}, lr = {o['lr']:g}, update = {o['update']}\n",
           f"E = {wt.loss:.{digits}f} → E' = {wt.loss_after_update:.{digits}f}\n"]
    for n, s in enumerate(wt.steps, start=1):
        out.append(f"## {n}. {names.get(s.id, s.id)}\n\n$${s.formula}$$\n")
        for name, arr in s.arrays.items():
            arr = np.atleast_2d(arr)
            out.append(f"**{name}** {_shape(arr.shape)}\n")
            out.append("| " + " | ".join(f"{j}" for j in range(arr.shape[1])) + " |")
            out.append("|" + "---|" * arr.shape[1])
            out += ["| " + " | ".join(f"{v:.{digits}f}" for v in row) + " |" for row in arr]
            out.append("")
    return "\n".join(out)
