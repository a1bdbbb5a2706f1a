"""The lectures' fully connected network in matrix form (seed 001), forward and backward by hand in numpy.

Forward, as the lecture's code (``a`` before the activation, ``z`` after it)::

    a1 = np.dot(x, W1) + b1;  z1 = sigmoid(a1)  (or relu)
    a2 = np.dot(z1, W2) + b2; y = softmax(a2)          # 2 layers; 3 layers add z2, a3
    loss = mean cross-entropy over the batch

Backward: ``dy = (y - t) / batch_num``, then per affine layer ∂L/∂W = Xᵀ·∂L/∂Y, ∂L/∂b = Σ ∂L/∂Y,
∂L/∂X = ∂L/∂Y·Wᵀ, and through the activation ``da = dz * z * (1 - z)`` (sigmoid) or
``da = dz; da[a <= 0] = 0`` (ReLU, the homework's mask). Every matrix is kept as a :class:`Step` so a
page can step through it with the shapes and the lecture's formula filled in. torch is only the oracle
(:func:`verify_with_torch`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from functools import cache
from typing import Sequence

import numpy as np

from explorer.fc.checks import MAX_ABS, FCError, array, integer, number, option, shape_text

ACTIVATIONS: tuple[str, ...] = ("sigmoid", "relu")
LOSSES: tuple[str, ...] = ("softmax_ce",)
LAYERS: tuple[int, ...] = (1, 2, 3)  # affine layers; the lecture has 2, its homework 3
MAX_BATCH = 64  # examples (rows of X)
MAX_WIDTH = 784  # features of any layer: a whole 28×28 digit fits
MAX_CELLS = 100_000  # entries of any one matrix
MAX_TEXT = 100_000  # characters of one typed matrix
SHRINK_SIZES: tuple[int, ...] = (2, 4, 5, 7, 10, 14, 28)  # side of a shrunk digit (D = side²)
SATURATED = 10.0  # sigmoid input beyond ±10: slope σ' < 5e-5, the gradient has practically vanished
TERMS_SHOWN = 6  # a worked sum with more terms shows the first 3, "⋯" and the last one


@dataclass(frozen=True)
class Step:
    """One forward or backward step of the walkthrough."""

    id: str  # "affine1", "act1", "softmax", "loss", "dy", "dW2", "db2", "dz1", "da1", "dW1", "db1", "dX"
    kind: str  # names the i18n keys: affine, sigmoid, relu, softmax, loss, dy, dW, db, dz, da_sigmoid, da_relu, dX
    layer: int  # the layer l the step belongs to (0: none)
    phase: str  # "forward" | "backward"
    formula: str  # LaTeX: the lecture's formula, each matrix with its shape under it
    detail: str  # LaTeX: the focus entry of the result worked out with its numbers
    code: str  # the lecture's numpy line for this step
    arrays: dict[str, np.ndarray]  # name -> 2-D array for display (vectors as one row), inputs first
    shapes: dict[str, str]  # name -> true shape, "4×16" or "4" for a vector
    result: str  # the name in `arrays` this step produces
    highlight: dict[str, np.ndarray] = field(default_factory=dict)  # name -> bool mask feeding the focus entry

    @property
    def name_key(self) -> str:
        return f"fc.step.{self.kind}.name"

    @property
    def explain_key(self) -> str:
        return f"fc.step.{self.kind}.explain"

    @property
    def params(self) -> dict[str, object]:
        """Format arguments of the step's texts: ``{l}`` is the layer."""
        return {"l": self.layer}


@dataclass(frozen=True)
class MLPStep:
    """One forward and backward pass of the MLP on a batch: loss, gradients and every matrix."""

    loss: float  # mean cross-entropy over the batch
    grads: dict[str, np.ndarray]  # same keys and shapes as params
    tensors: dict[str, np.ndarray]  # X, t, W1, b1, a1, z1, ..., y, loss, dy, dW., db., dz., da., dX
    steps: tuple[Step, ...]
    options: dict[str, object]  # activations, loss, layers, focus
    warnings: tuple[tuple[str, dict], ...] = ()  # (i18n key, params): saturated sigmoid, dead ReLU units

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)

    @property
    def predictions(self) -> np.ndarray:
        """Predicted class of each example (N,)."""
        return self.tensors["y"].argmax(axis=1)


# ---------------------------------------------------------------- elementary pieces


def sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-a) without overflow: only ever exponentiates non-positive numbers."""
    a = np.asarray(a, dtype=np.float64)
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def relu(a: np.ndarray) -> np.ndarray:
    return np.maximum(np.asarray(a, dtype=np.float64), 0.0)


def log_softmax(a: np.ndarray) -> np.ndarray:
    """log softmax of each row, shifted by the row maximum so e^x never overflows."""
    a = np.asarray(a, dtype=np.float64)
    shifted = a - a.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(a: np.ndarray) -> np.ndarray:
    return np.exp(log_softmax(a))


_ACTIVATE = {"sigmoid": sigmoid, "relu": relu, "linear": lambda a: a}  # "linear": internal, for the toy


def one_hot(labels: Sequence[int] | np.ndarray, classes: int) -> np.ndarray:
    """(N,) class numbers → (N, K) one-hot rows t."""
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    out = np.zeros((len(labels), classes))
    out[np.arange(len(labels)), labels] = 1.0
    return out


# ---------------------------------------------------------------- validation


def _layers_of(params: dict) -> int:
    if not isinstance(params, dict):
        raise FCError("fc.error.params_keys", got=type(params).__name__, expected="W1, b1, W2, b2")
    layers = sum(1 for k in params if isinstance(k, str) and k.startswith("W"))
    expected = {f"{p}{l}" for l in range(1, layers + 1) for p in "Wb"}
    if layers not in LAYERS or set(params) != expected:
        raise FCError("fc.error.params_keys", got=", ".join(sorted(map(str, params)))[:80],
                      expected="W1, b1, W2, b2 [, W3, b3]")
    return layers


def _activations(activations: str | Sequence[str], hidden: int) -> tuple[str, ...]:
    acts = (activations,) * hidden if isinstance(activations, str) else tuple(activations)
    if len(acts) != hidden:
        raise FCError("fc.error.activations_count", got=len(acts), hidden=hidden)
    return tuple(option(a, ACTIVATIONS, name="activation") for a in acts)


def check_inputs(X, T, params: dict, activations: str | Sequence[str], loss: str
                 ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], tuple[str, ...]]:
    """Float64 copies of the inputs, or :class:`FCError` with an ``fc.error.*`` key."""
    option(loss, LOSSES, name="loss")
    layers = _layers_of(params)
    acts = _activations(activations, layers - 1)
    X = array(X, name="X", ndim=2, max_cells=MAX_CELLS)
    T = array(T, name="t", ndim=2, max_cells=MAX_CELLS)
    if X.shape[0] > MAX_BATCH:
        raise FCError("fc.error.batch", got=X.shape[0], limit=MAX_BATCH)
    out: dict[str, np.ndarray] = {}
    width = X.shape[1]
    for l in range(1, layers + 1):
        W = array(params[f"W{l}"], name=f"W{l}", ndim=2, max_cells=MAX_CELLS)
        b = array(_as_vector(params[f"b{l}"]), name=f"b{l}", ndim=1, max_cells=MAX_CELLS)
        if W.shape[0] != width:
            raise FCError("fc.error.shape", name=f"W{l}", expected=width,
                          got=shape_text(W.shape), prev="X" if l == 1 else f"W{l - 1}")
        if b.shape[0] != W.shape[1]:
            raise FCError("fc.error.bias", name=f"b{l}", expected=W.shape[1], got=b.shape[0], weight=f"W{l}")
        out[f"W{l}"], out[f"b{l}"] = W, b
        width = W.shape[1]
    for name, value in (("X", X.shape[1]), *((f"W{l}", out[f"W{l}"].shape[1]) for l in range(1, layers + 1))):
        if value > MAX_WIDTH:
            raise FCError("fc.error.width", name=name, got=value, limit=MAX_WIDTH)
    if width < 2:
        raise FCError("fc.error.classes", got=width)
    if T.shape != (X.shape[0], width):
        raise FCError("fc.error.t_shape", expected=shape_text((X.shape[0], width)), got=shape_text(T.shape))
    if not (np.isin(T, (0.0, 1.0)).all() and (T.sum(axis=1) == 1).all()):
        raise FCError("fc.error.one_hot")
    return X, T, out, acts


def _as_vector(value: object) -> object:
    """A bias typed as one row (1, H) is accepted as the vector (H,); anything else is left to the checks."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        return value
    return arr.reshape(-1) if arr.ndim == 2 and arr.shape[0] == 1 and arr.dtype != object else value


# ---------------------------------------------------------------- forward / backward


def forward(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], activations: tuple[str, ...]
            ) -> dict[str, np.ndarray]:
    """Every forward matrix: a1, z1, ..., aL, y, loss (checked inputs; activations may also be "linear")."""
    layers = len(activations) + 1
    t: dict[str, np.ndarray] = {"X": X, "t": T, **params}
    h = X  # (N, D)
    for l in range(1, layers + 1):
        a = h @ params[f"W{l}"] + params[f"b{l}"]  # (N, H_l)
        t[f"a{l}"] = a
        if l < layers:
            h = _ACTIVATE[activations[l - 1]](a)
            t[f"z{l}"] = h
    logp = log_softmax(t[f"a{layers}"])  # (N, K)
    t["y"] = np.exp(logp)
    t["loss"] = np.array(-(T * logp).sum() / X.shape[0])
    return t


def backward(t: dict[str, np.ndarray], activations: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Every gradient, layer by layer from the top, as the lecture's code."""
    layers = len(activations) + 1
    n = t["X"].shape[0]
    g: dict[str, np.ndarray] = {"dy": (t["y"] - t["t"]) / n}  # dy = (y - t) / batch_num, (N, K)
    upstream = g["dy"]  # ∂L/∂a_l of the current layer
    for l in range(layers, 0, -1):
        prev = t["X"] if l == 1 else t[f"z{l - 1}"]
        g[f"dW{l}"] = prev.T @ upstream  # Xᵀ·∂L/∂Y
        g[f"db{l}"] = upstream.sum(axis=0)
        if l == 1:
            g["dX"] = upstream @ t["W1"].T  # ∂L/∂X = ∂L/∂Y·Wᵀ
            break
        dz = upstream @ t[f"W{l}"].T  # (N, H_{l-1})
        if activations[l - 2] == "sigmoid":
            z = t[f"z{l - 1}"]
            da = dz * (1.0 - z) * z
        elif activations[l - 2] == "relu":
            da = dz.copy()
            da[t[f"a{l - 1}"] <= 0] = 0.0  # the homework's mask
        else:
            da = dz  # "linear": no activation (the toy's linear network)
        g[f"dz{l - 1}"], g[f"da{l - 1}"] = dz, da
        upstream = da
    return g


def mlp_step(X, T, params: dict, *, activations: str | Sequence[str], loss: str = "softmax_ce",
             focus: tuple[int, int] = (0, 0)) -> MLPStep:
    """Forward and backward of the 1–3 layer MLP on the batch ``X`` (N, D) with one-hot targets ``T`` (N, K).

    ``params``: ``W1`` (D, H1), ``b1`` (H1,), ..., ``WL`` (H_{L-1}, K), ``bL`` (K,); ``activations``: one of
    ``ACTIVATIONS`` per hidden layer (or one name for all); the output is softmax + cross-entropy.
    ``focus`` is the (row, column) entry each step works out with its numbers (clipped to each result).
    """
    X, T, params, acts = check_inputs(X, T, params, activations, loss)
    t = forward(X, T, params, acts)
    g = backward(t, acts)
    tensors = {**t, **g}
    layers = len(acts) + 1
    grads = {f"{p}{l}": g[f"d{p}{l}"] for l in range(1, layers + 1) for p in "Wb"}
    options = {"activations": acts, "loss": loss, "layers": layers, "focus": (int(focus[0]), int(focus[1]))}
    return MLPStep(loss=float(t["loss"]), grads=grads, tensors=tensors, steps=tuple(_steps(tensors, options)),
                   options=options, warnings=tuple(_warnings(tensors, acts)))


def _warnings(t: dict[str, np.ndarray], activations: tuple[str, ...]) -> list[tuple[str, dict]]:
    out: list[tuple[str, dict]] = []
    for l, act in enumerate(activations, start=1):
        a = t[f"a{l}"]
        if act == "sigmoid" and (share := float(np.mean(np.abs(a) > SATURATED))) > 0:
            out.append(("fc.warn.saturated", {"layer": l, "share": f"{share:.0%}", "limit": f"{SATURATED:g}"}))
        if act == "relu" and (dead := int(np.sum((a <= 0).all(axis=0)))) > 0:
            out.append(("fc.warn.dead_relu", {"layer": l, "count": dead, "width": a.shape[1]}))
    return out


def sgd_update(params: dict[str, np.ndarray], grads: dict[str, np.ndarray], *, lr: float
               ) -> dict[str, np.ndarray]:
    """W ← W − η ∂L/∂W for every parameter (new arrays)."""
    return {k: params[k] - lr * grads[k] for k in params}


def loss_history(X, T, params: dict, *, activations: str | Sequence[str], lr: float = 0.5, steps: int = 20
                 ) -> tuple[list[float], dict[str, np.ndarray]]:
    """Full-batch gradient descent on the stepper's batch: the loss before each step and after the last,
    and the final parameters. Stops early if a value leaves ±MAX_ABS (too large a learning rate)."""
    lr = number(lr, name="lr", low=1e-6, high=100.0)
    steps = integer(steps, name="steps", low=0, high=1000)
    X, T, params, acts = check_inputs(X, T, params, activations, "softmax_ce")
    losses = []
    for k in range(steps + 1):
        t = forward(X, T, params, acts)
        losses.append(float(t["loss"]))
        if k == steps:
            break
        g = backward(t, acts)
        new = sgd_update(params, {key: g[f"d{key}"] for key in params}, lr=lr)
        if any(np.max(np.abs(v)) > MAX_ABS for v in new.values()):
            break
        params = new
    return losses, params


# ---------------------------------------------------------------- the steps, for display


def _tex_num(v: float) -> str:
    """A compact number for LaTeX: 4 significant digits, 1.2\\times10^{-5} instead of 1.2e-05."""
    text = f"{float(v):.4g}"
    if "e" in text:
        mant, exp = text.split("e")
        text = f"{mant}\\times10^{{{int(exp)}}}"
    return text


def _factor(v: float) -> str:
    """A number as a factor in a product: negative numbers in parentheses."""
    return f"({_tex_num(v)})" if v < 0 else _tex_num(v)


def _sum_tex(terms: list[str]) -> str:
    if len(terms) > TERMS_SHOWN:
        terms = terms[:3] + [r"\cdots", terms[-1]]
    return " + ".join(terms)


def _dot(a: np.ndarray, b: np.ndarray) -> str:
    return _sum_tex([f"{_factor(x)}\\cdot{_factor(y)}" for x, y in zip(a, b)])


def _clip(cell: tuple[int, int], shape: tuple[int, ...]) -> tuple[int, int]:
    shape = np.atleast_2d(np.zeros(shape)).shape
    return (min(max(int(cell[0]), 0), shape[0] - 1), min(max(int(cell[1]), 0), shape[1] - 1))


def _u(name: str, shape: tuple[int, ...]) -> str:
    """``name`` with its shape written under it."""
    under = shape_text(shape).replace("×", r"\times ")
    return rf"\underbrace{{{name}}}_{{{under}}}"


def _display(arr: np.ndarray) -> np.ndarray:
    return np.atleast_2d(np.asarray(arr, dtype=np.float64))


def _mask(shape: tuple[int, ...], cells=None) -> np.ndarray:
    m = np.zeros(np.atleast_2d(np.zeros(shape)).shape, dtype=bool)
    if cells is not None:
        m[cells] = True
    return m


def _step(id_: str, kind: str, layer: int, phase: str, formula: str, detail: str, code: str,
          arrays: dict[str, np.ndarray], result: str, highlight: dict[str, np.ndarray]) -> Step:
    return Step(id_, kind, layer, phase, formula, detail, code,
                {k: _display(v) for k, v in arrays.items()},
                {k: shape_text(np.shape(v)) for k, v in arrays.items()}, result, highlight)


def _tex(name: str) -> str:
    """Tensor name → LaTeX symbol: W1 → W_1, dW1 → \\partial W_1 (read: ∂L/∂W_1)."""
    if name == "loss":
        return "L"
    if name.startswith("d") and len(name) > 1:
        return rf"\frac{{\partial L}}{{\partial {_tex(name[1:])}}}"
    head, tail = name.rstrip("0123456789"), name[len(name.rstrip("0123456789")):]
    return f"{head}_{{{tail}}}" if tail else head


def _forward_steps(t: dict[str, np.ndarray], o: dict) -> list[Step]:
    layers, acts = o["layers"], o["activations"]
    steps = []
    for l in range(1, layers + 1):
        src = "X" if l == 1 else f"z{l - 1}"
        W, b, a = t[f"W{l}"], t[f"b{l}"], t[f"a{l}"]
        i, j = _clip(o["focus"], a.shape)
        code_src = "x" if l == 1 else src
        steps.append(_step(
            f"affine{l}", "affine", l, "forward",
            rf"{_u(_tex(f'a{l}'), a.shape)} = {_u(_tex(src), t[src].shape)}\,{_u(_tex(f'W{l}'), W.shape)}"
            rf" + {_u(_tex(f'b{l}'), b.shape)}",
            rf"{_tex(f'a{l}')}[{i},{j}] = {_dot(t[src][i], W[:, j])} + {_factor(b[j])} = {_tex_num(a[i, j])}",
            f"a{l} = np.dot({code_src}, W{l}) + b{l}",
            {src: t[src], f"W{l}": W, f"b{l}": b, f"a{l}": a}, f"a{l}",
            {src: _mask(t[src].shape, (i, slice(None))), f"W{l}": _mask(W.shape, (slice(None), j)),
             f"b{l}": _mask(b.shape, (0, j)), f"a{l}": _mask(a.shape, (i, j))}))
        if l == layers:
            break
        z, act = t[f"z{l}"], acts[l - 1]
        worked = (rf"\frac{{1}}{{1 + e^{{-{_factor(a[i, j])}}}}}" if act == "sigmoid"
                  else rf"\max(0,\ {_tex_num(a[i, j])})")
        symbol = r"\sigma" if act == "sigmoid" else r"\mathrm{ReLU}"
        steps.append(_step(
            f"act{l}", act, l, "forward", rf"{_u(_tex(f'z{l}'), z.shape)} = {symbol}({_u(_tex(f'a{l}'), a.shape)})",
            rf"{_tex(f'z{l}')}[{i},{j}] = {worked} = {_tex_num(z[i, j])}", f"z{l} = {act}(a{l})",
            {f"a{l}": a, f"z{l}": z}, f"z{l}", {f"a{l}": _mask(a.shape, (i, j)), f"z{l}": _mask(z.shape, (i, j))}))
    aL, y, T = t[f"a{layers}"], t["y"], t["t"]
    i, j = _clip(o["focus"], y.shape)
    exps = _sum_tex([f"e^{{{_tex_num(v)}}}" for v in aL[i]])
    steps.append(_step(
        "softmax", "softmax", layers, "forward",
        rf"{_u('y', y.shape)} = \mathrm{{softmax}}({_u(_tex(f'a{layers}'), aL.shape)}),\quad "
        rf"y_{{ik}} = \frac{{e^{{a_{{ik}}}}}}{{\sum_m e^{{a_{{im}}}}}}",
        rf"y[{i},{j}] = \frac{{e^{{{_tex_num(aL[i, j])}}}}}{{{exps}}} = {_tex_num(y[i, j])}",
        f"y = softmax(a{layers})", {f"a{layers}": aL, "y": y}, "y",
        {f"a{layers}": _mask(aL.shape, (i, slice(None))), "y": _mask(y.shape, (i, j))}))
    n = T.shape[0]
    true = T.argmax(axis=1)
    logs = _sum_tex([rf"\log {_tex_num(y[r, true[r]])}" for r in range(n)])
    steps.append(_step(
        "loss", "loss", 0, "forward",
        rf"L = -\frac{{1}}{{N}}\sum_{{i}}\sum_k t_{{ik}}\log y_{{ik}},\quad N = {n},\ "
        rf"{_u('y', y.shape)},\ {_u('t', T.shape)}",
        rf"L = -\frac{{1}}{{{n}}}\left({logs}\right) = {_tex_num(t['loss'])}",
        "loss = -np.sum(t * np.log(y)) / batch_num", {"y": y, "t": T, "loss": t["loss"]}, "loss",
        {"y": T.astype(bool), "t": T.astype(bool), "loss": _mask((), (0, 0))}))
    return steps


def _g(l: int, layers: int) -> str:
    """LaTeX of the gradient arriving at layer l's output: dy at the top, ∂L/∂a_l below it."""
    return r"\mathrm{dy}" if l == layers else _tex(f"da{l}")


def _backward_steps(t: dict[str, np.ndarray], o: dict) -> list[Step]:
    layers, acts = o["layers"], o["activations"]
    y, T, dy = t["y"], t["t"], t["dy"]
    n = T.shape[0]
    i, j = _clip(o["focus"], dy.shape)
    steps = [_step(
        "dy", "dy", layers, "backward",
        rf"{_u(_g(layers, layers), dy.shape)} = {_tex(f'da{layers}')} = \frac{{y - t}}{{N}},\quad N = {n}",
        rf"\mathrm{{dy}}[{i},{j}] = \frac{{{_tex_num(y[i, j])} - {_tex_num(T[i, j])}}}{{{n}}} = {_tex_num(dy[i, j])}",
        "dy = (y - t) / batch_num", {"y": y, "t": T, "dy": dy}, "dy",
        {"y": _mask(y.shape, (i, j)), "t": _mask(T.shape, (i, j)), "dy": _mask(dy.shape, (i, j))})]
    for l in range(layers, 0, -1):
        up = "dy" if l == layers else f"da{l}"
        src = "X" if l == 1 else f"z{l - 1}"
        code_src = "x" if l == 1 else src
        G, A, W = t[up], t[src], t[f"W{l}"]
        dW, db = t[f"dW{l}"], t[f"db{l}"]
        r, c = _clip(o["focus"], dW.shape)
        steps.append(_step(
            f"dW{l}", "dW", l, "backward",
            rf"{_u(_tex(f'dW{l}'), dW.shape)} = {_u(_tex(src) + '^T', A.T.shape)}\,{_u(_g(l, layers), G.shape)}",
            rf"{_tex(f'dW{l}')}[{r},{c}] = {_dot(A[:, r], G[:, c])} = {_tex_num(dW[r, c])}",
            f"grads['W{l}'] = np.dot({code_src}.T, {up})", {src: A, up: G, f"dW{l}": dW}, f"dW{l}",
            {src: _mask(A.shape, (slice(None), r)), up: _mask(G.shape, (slice(None), c)),
             f"dW{l}": _mask(dW.shape, (r, c))}))
        _, c = _clip(o["focus"], db.shape)
        steps.append(_step(
            f"db{l}", "db", l, "backward",
            rf"{_u(_tex(f'db{l}'), db.shape)} = \sum_{{i=1}}^{{N}} \left({_u(_g(l, layers), G.shape)}\right)_{{i,:}}",
            rf"{_tex(f'db{l}')}[{c}] = {_sum_tex([_factor(v) for v in G[:, c]])} = {_tex_num(db[c])}",
            f"grads['b{l}'] = np.sum({up}, axis=0)", {up: G, f"db{l}": db}, f"db{l}",
            {up: _mask(G.shape, (slice(None), c)), f"db{l}": _mask(db.shape, (0, c))}))
        if l == 1:
            dX = t["dX"]
            r, c = _clip(o["focus"], dX.shape)
            steps.append(_step(
                "dX", "dX", 1, "backward",
                rf"{_u(_tex('dX'), dX.shape)} = {_u(_g(1, layers), G.shape)}\,{_u('W_{1}^T', W.T.shape)}",
                rf"{_tex('dX')}[{r},{c}] = {_dot(G[r], W[c])} = {_tex_num(dX[r, c])}",
                f"dx = np.dot({up}, W1.T)", {up: G, "W1": W, "dX": dX}, "dX",
                {up: _mask(G.shape, (r, slice(None))), "W1": _mask(W.shape, (c, slice(None))),
                 "dX": _mask(dX.shape, (r, c))}))
            break
        k = l - 1
        dz, da, act = t[f"dz{k}"], t[f"da{k}"], acts[k - 1]
        r, c = _clip(o["focus"], dz.shape)
        steps.append(_step(
            f"dz{k}", "dz", k, "backward",
            rf"{_u(_tex(f'dz{k}'), dz.shape)} = {_u(_g(l, layers), G.shape)}\,{_u(f'W_{{{l}}}^T', W.T.shape)}",
            rf"{_tex(f'dz{k}')}[{r},{c}] = {_dot(G[r], W[c])} = {_tex_num(dz[r, c])}",
            f"dz{k} = np.dot({up}, W{l}.T)", {up: G, f"W{l}": W, f"dz{k}": dz}, f"dz{k}",
            {up: _mask(G.shape, (r, slice(None))), f"W{l}": _mask(W.shape, (c, slice(None))),
             f"dz{k}": _mask(dz.shape, (r, c))}))
        steps.append(_activation_grad_step(t, k, act, _clip(o["focus"], da.shape)))
    return steps


def _activation_grad_step(t: dict[str, np.ndarray], k: int, act: str, cell: tuple[int, int]) -> Step:
    """∂L/∂a_k from ∂L/∂z_k through the activation: z(1 − z) for the sigmoid, the mask a > 0 for ReLU."""
    r, c = cell
    dz, da = t[f"dz{k}"], t[f"da{k}"]
    if act == "sigmoid":
        z = t[f"z{k}"]
        formula = rf"{_u(_tex(f'da{k}'), da.shape)} = {_tex(f'dz{k}')} \odot z_{{{k}}} \odot (1 - z_{{{k}}})"
        worked = rf"{_factor(dz[r, c])}\cdot{_factor(z[r, c])}\cdot(1 - {_factor(z[r, c])})"
        code = f"da{k} = dz{k} * (1 - z{k}) * z{k}"
        arrays = {f"dz{k}": dz, f"z{k}": z, f"da{k}": da}
    else:
        a = t[f"a{k}"]
        formula = rf"{_u(_tex(f'da{k}'), da.shape)} = {_tex(f'dz{k}')} \odot [a_{{{k}}} > 0]"
        worked = (rf"{_factor(dz[r, c])}\quad (a_{{{k}}}[{r},{c}] = {_tex_num(a[r, c])} > 0)" if a[r, c] > 0
                  else rf"0\quad (a_{{{k}}}[{r},{c}] = {_tex_num(a[r, c])} \le 0)")
        code = f"da{k} = dz{k}; da{k}[a{k} <= 0] = 0"
        arrays = {f"dz{k}": dz, f"a{k}": a, f"da{k}": da}
    return _step(f"da{k}", f"da_{act}", k, "backward", formula,
                 rf"{_tex(f'da{k}')}[{r},{c}] = {worked} = {_tex_num(da[r, c])}", code,
                 arrays, f"da{k}", {name: _mask(arr.shape, (r, c)) for name, arr in arrays.items()})


def _steps(t: dict[str, np.ndarray], o: dict) -> list[Step]:
    return _forward_steps(t, o) + _backward_steps(t, o)


# ---------------------------------------------------------------- the oracle


def verify_with_torch(result: MLPStep) -> dict[str, float]:
    """Max |hand − torch.autograd| (float64, same inputs) for every forward matrix and every gradient."""
    import torch
    import torch.nn.functional as F

    t, acts = result.tensors, result.options["activations"]
    layers = len(acts) + 1
    X = torch.tensor(t["X"], requires_grad=True)
    params = {k: torch.tensor(t[k], requires_grad=True) for k in result.grads}
    pre, post = {}, {}
    h = X
    for l in range(1, layers + 1):
        a = h @ params[f"W{l}"] + params[f"b{l}"]
        a.retain_grad()
        pre[l] = a
        if l < layers:
            h = torch.sigmoid(a) if acts[l - 1] == "sigmoid" else torch.relu(a)
            h.retain_grad()
            post[l] = h
    loss = F.cross_entropy(pre[layers], torch.tensor(t["t"].argmax(axis=1)))
    loss.backward()
    pairs = {"loss": (t["loss"], loss), "y": (t["y"], torch.softmax(pre[layers], dim=1)),
             "dy": (t["dy"], pre[layers].grad), "dX": (t["dX"], X.grad)}
    for l in range(1, layers + 1):
        pairs[f"a{l}"] = (t[f"a{l}"], pre[l])
        pairs[f"dW{l}"] = (result.grads[f"W{l}"], params[f"W{l}"].grad)
        pairs[f"db{l}"] = (result.grads[f"b{l}"], params[f"b{l}"].grad)
        if l < layers:
            pairs[f"z{l}"] = (t[f"z{l}"], post[l])
            pairs[f"dz{l}"] = (t[f"dz{l}"], post[l].grad)
            pairs[f"da{l}"] = (t[f"da{l}"], pre[l].grad)
    return {name: _maxdiff(mine, theirs.detach().numpy()) for name, (mine, theirs) in pairs.items()}


VERIFY_TOLERANCE = 1e-9  # relative to the largest value in play: float64 round-off is far below


def verify_summary(result: MLPStep) -> tuple[bool, float, str]:
    """(agrees, largest difference, where) of :func:`verify_with_torch`, for the page's line under the steps
    (``fc.verify.ok`` / ``fc.verify.bad``). The tolerance scales with the largest value in play."""
    diffs = verify_with_torch(result)
    name = max(diffs, key=diffs.__getitem__)
    scale = max(1.0, *(float(np.max(np.abs(v), initial=0.0)) for v in result.tensors.values()))
    return diffs[name] <= VERIFY_TOLERANCE * scale, diffs[name], name


def _maxdiff(a, b) -> float:
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b), initial=0.0))


# ---------------------------------------------------------------- the default batch: real digits, shrunk


@dataclass(frozen=True)
class Example:
    """A small batch of real MNIST digits shrunk so every matrix fits on screen, with starting weights."""

    X: np.ndarray  # (N, size²) pixel means in [0, 1], 2 decimals
    t: np.ndarray  # (N, K) one-hot
    labels: np.ndarray  # (N,) the digits
    images: np.ndarray  # (N, 28, 28) the original digits
    thumbnails: np.ndarray  # (N, size, size) what X holds, row by row
    params: dict[str, np.ndarray]  # W1 (D, H1), b1 (H1,), ... rounded to 2 decimals, biases 0
    activations: tuple[str, ...]  # per hidden layer
    indices: np.ndarray  # (N,) positions in the embedded training set

    @property
    def text_params(self) -> dict[str, object]:
        """Format arguments of ``fc.example``: n, digits, size, d."""
        n, size = self.thumbnails.shape[:2]
        return {"n": n, "digits": ", ".join(str(int(d)) for d in self.labels), "size": size, "d": size * size}


@cache
def _embedded_train() -> tuple[np.ndarray, np.ndarray]:
    from explorer.core.data import load_embedded

    data = load_embedded("train")
    images = data.images[:, 0].numpy()  # (5000, 28, 28)
    labels = data.labels.numpy()
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def shrink(images: np.ndarray, *, size: int = 4) -> np.ndarray:
    """(N, 28, 28) → (N, size, size) block means. MNIST digits sit in the central 20×20 box, so sizes that
    divide 20 average that box; 7 and 14 average the whole image."""
    size = integer(size, name="size", low=2, high=28)
    if size not in SHRINK_SIZES:
        raise FCError("fc.error.option", name="size", value=str(size), choices=", ".join(map(str, SHRINK_SIZES)))
    images = np.asarray(images, dtype=np.float64)
    box = images[:, 4:24, 4:24] if 20 % size == 0 else images
    k = box.shape[1] // size
    return box.reshape(len(box), size, k, size, k).mean(axis=(2, 4))


def random_params(sizes: Sequence[int], *, seed: int = 0, decimals: int = 2) -> dict[str, np.ndarray]:
    """W_l ~ N(0, 1/fan_in) rounded to ``decimals`` (easy to read and to type), biases 0 (the lecture's
    TwoLayerNet starts with zero biases). ``sizes`` = (D, H1, ..., K)."""
    sizes = [integer(s, name="size", low=1, high=MAX_WIDTH) for s in sizes]
    if len(sizes) - 1 not in LAYERS:
        raise FCError("fc.error.layers", got=len(sizes) - 1)
    rng = np.random.default_rng(integer(seed, name="seed", low=0, high=2**32 - 1))
    out = {}
    for l, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:]), start=1):
        out[f"W{l}"] = np.round(rng.normal(0.0, 1.0 / np.sqrt(fan_in), size=(fan_in, fan_out)), decimals)
        out[f"b{l}"] = np.zeros(fan_out)
    return out


DEFAULT_HIDDEN: dict[int, tuple[int, ...]] = {1: (), 2: (4,), 3: (4, 3)}
DEFAULT_ACTIVATIONS: dict[int, tuple[str, ...]] = {1: (), 2: ("sigmoid",), 3: ("sigmoid", "relu")}


def default_batch(*, layers: int = 2, n: int = 4, size: int = 4, classes: int = 10,
                  hidden: Sequence[int] | None = None, seed: int = 0) -> Example:
    """``n`` real training digits with different labels (drawn from 0..classes-1), shrunk to size×size.

    Default: 4 digits at 4×4 (D = 16), hidden 4 (3 layers: 4 and 3), K = 10; activations as the lecture:
    sigmoid (2 layers) and sigmoid then ReLU (the 3-layer homework).
    """
    layers = integer(layers, name="layers", low=min(LAYERS), high=max(LAYERS))
    classes = integer(classes, name="classes", low=2, high=10)
    n = integer(n, name="n", low=1, high=min(classes, 10))
    seed = integer(seed, name="seed", low=0, high=2**32 - 1)
    hidden = tuple(DEFAULT_HIDDEN[layers] if hidden is None else hidden)
    if len(hidden) != layers - 1:
        raise FCError("fc.error.hidden_count", got=len(hidden), hidden=layers - 1)
    images, labels = _embedded_train()
    rng = np.random.default_rng(seed)
    digits = rng.permutation(classes)[:n]
    indices = np.array([rng.choice(np.flatnonzero(labels == d)) for d in digits])
    thumbs = shrink(images[indices].astype(np.float64), size=size)
    X = np.round(thumbs.reshape(n, -1), 2)
    params = random_params((X.shape[1], *hidden, classes), seed=seed)
    return Example(X=X, t=one_hot(digits, classes), labels=digits, images=images[indices].astype(np.float64),
                   thumbnails=X.reshape(n, size, size), params=params,
                   activations=DEFAULT_ACTIVATIONS[layers], indices=indices)


# ---------------------------------------------------------------- typed matrices


def parse_matrix(text: str, *, name: str, rows: int | None = None, cols: int | None = None,
                 max_rows: int = MAX_BATCH, max_cols: int = MAX_WIDTH) -> np.ndarray:
    """A matrix typed as rows on lines, cells separated by spaces or commas. ``rows``/``cols``: the shape it
    must have (None: any, up to ``max_rows`` × ``max_cols``)."""
    text = str(text)
    if len(text) > MAX_TEXT:
        raise FCError("fc.error.text_too_long", name=name, limit=MAX_TEXT)
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        raise FCError("fc.error.empty", name=name)
    if len(lines) > max_rows:
        raise FCError("fc.error.too_many_rows", name=name, got=len(lines), limit=max_rows)
    parsed = [_parse_row(line, name=name, row=r, max_cols=max_cols) for r, line in enumerate(lines, start=1)]
    widths = {len(r) for r in parsed}
    if len(widths) > 1:
        raise FCError("fc.error.ragged", name=name, got="/".join(str(len(r)) for r in parsed))
    got = (len(parsed), widths.pop())
    if (rows is not None and got[0] != rows) or (cols is not None and got[1] != cols):
        expected = f"{rows if rows is not None else 'n'}×{cols if cols is not None else 'm'}"
        raise FCError("fc.error.typed_shape", name=name, expected=expected, got=shape_text(got))
    return np.array(parsed, dtype=np.float64)


def _parse_row(line: str, *, name: str, row: int, max_cols: int) -> list[float]:
    line = line.replace("\u2212", "-").strip().strip("[]").strip()  # "−" (as shown on the page) is a minus
    cells = [c.strip() for c in line.split(",")] if "," in line else line.split()
    if len(cells) > max_cols:
        raise FCError("fc.error.too_many_cols", name=name, row=row, got=len(cells), limit=max_cols)
    out = []
    for col, cell in enumerate(cells, start=1):
        if cell == "":
            raise FCError("fc.error.empty_cell", name=name, row=row, col=col)
        try:
            value = float(cell)
        except ValueError:
            raise FCError("fc.error.not_number", name=name, row=row, col=col, value=cell[:20]) from None
        if not np.isfinite(value):
            raise FCError("fc.error.not_finite_cell", name=name, row=row, col=col)
        if abs(value) > MAX_ABS:
            raise FCError("fc.error.too_large_cell", name=name, row=row, col=col, limit=f"{MAX_ABS:g}")
        out.append(value)
    return out


def parse_vector(text: str, *, name: str, size: int | None = None) -> np.ndarray:
    """A bias typed on one line (or one number per line)."""
    m = parse_matrix(text, name=name, max_rows=MAX_WIDTH, max_cols=MAX_WIDTH)
    if 1 not in m.shape:
        raise FCError("fc.error.not_vector", name=name, got=shape_text(m.shape))
    v = m.reshape(-1)
    if size is not None and v.size != size:
        raise FCError("fc.error.typed_shape", name=name, expected=str(size), got=str(v.size))
    return v


def parse_labels(text: str, *, n: int, classes: int) -> np.ndarray:
    """The true classes typed as n whole numbers 0..classes-1 → one-hot t (n, classes)."""
    v = parse_vector(text, name="t", size=n)
    if not np.all(v == np.round(v)) or v.min() < 0 or v.max() > classes - 1:
        raise FCError("fc.error.labels", n=n, high=classes - 1)
    return one_hot(v.astype(np.int64), classes)


def format_matrix(arr: np.ndarray, *, digits: int = 4) -> str:
    """The inverse of :func:`parse_matrix`: rows on lines, compact numbers."""
    return "\n".join(" ".join(f"{v:.{digits}g}" for v in row) for row in np.atleast_2d(arr))


# ---------------------------------------------------------------- export for a handout


def to_csv(result: MLPStep) -> str:
    """Every step's arrays as long-format CSV: step, phase, array, shape, row, col, value.
    (Encode as ``utf-8-sig`` for Excel.)"""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["step", "phase", "array", "shape", "row", "col", "value"])
    for s in result.steps:
        for name, arr in s.arrays.items():
            for (i, j), v in np.ndenumerate(arr):
                w.writerow([s.id, s.phase, name, s.shapes[name], i, j, repr(float(v))])
    return buf.getvalue()


def to_markdown(result: MLPStep, *, names: dict[str, str] | None = None, title: str = "Backprop in matrix form",
                summary: str = "", digits: int = 4) -> str:
    """A handout: ``title``, ``summary``, then each step's title (``names``: step id -> text), the lecture's
    code line, the formula with shapes, the worked entry and the arrays as tables. The page passes
    translated texts."""
    names = names or {}
    o = result.options
    acts = ", ".join(o["activations"]) or "–"
    out = [f"# {title}\n", f"{summary}\n" if summary else "",
           f"layers = {o['layers']}, activations = {acts}, loss = softmax + cross-entropy\n",
           f"L = {result.loss:.{digits}f}\n"]
    for n, s in enumerate(result.steps, start=1):
        out.append(f"## {n}. {names.get(s.id, s.id)}\n\n```python\n{s.code}\n```\n\n$${s.formula}$$\n\n"
                   f"$${s.detail}$$\n")
        for name, arr in s.arrays.items():
            out.append(f"**{name}** ({s.shapes[name]})\n")
            out.append("| " + " | ".join(f"{j}" for j in range(arr.shape[1])) + " |")
            out.append("|" + "---|" * arr.shape[1])
            out += ["| " + " | ".join(f"{v:.{digits}f}" for v in row) + " |" for row in arr]
            out.append("")
    return "\n".join(out)
