"""What the fully connected page shows, as plain data: typed matrices read, translated texts, LaTeX lines,
table columns, the homework's training settings. No Streamlit: every function takes the language
(``lang``) where it returns text, so the page only reads widgets and renders.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from explorer.core.i18n import UserError, translate
from explorer.fc.checks import FCError, integer, option
from explorer.fc.losses import LogisticStep, logistic_step
from explorer.fc.matrix import (
    MAX_WIDTH,
    Example,
    MLPStep,
    Step,
    format_matrix,
    parse_labels,
    parse_matrix,
    parse_vector,
    to_csv,
    to_markdown,
)
from explorer.fc.mlp import HOMEWORK_HIDDEN, INITS, homework_table, trainer_layers
from explorer.fc.nonlinear import MAX_SIZE, Collapse
from explorer.training import TrainConfig

TABS: tuple[str, ...] = ("stepper", "train", "activations", "nonlinear", "losses", "shift")  # fc.tab.* keys
LAYERS: tuple[int, ...] = (2, 3)  # the lecture's 2-layer network and its 3-layer homework
HOMEWORK_ACTIVATIONS: tuple[str, ...] = ("lecture", "sigmoid", "relu")  # "lecture": sigmoid (2), sigmoid → ReLU (3)
SHIFTS: tuple[int, ...] = (0, 1, 2, 3, 4)  # pixels
EXPECTED: dict[str, tuple[int, float]] = {"mlp": (2, 0.69), "cnn": (2, 0.88)}  # measured on the 5k subset (issue)
LECTURE_RESULT = {"train": "99.500", "test": "97.3000", "cost": "0.0066"}  # seed 001, the homework's result line
LOGISTIC_EXAMPLE = {"x": "1.0 2.0", "w": "0.5 -0.4", "b": 0.1, "y": 1, "lr": 0.1}  # z = −0.2  # small numbers to follow by hand


def message(err: UserError, *, lang: str) -> str:
    """The translated refusal."""
    return translate(err.key, lang, **err.params)


def error_text(err: UserError, *, lang: str) -> str:
    """"Could not use this input: <reason>" in ``lang``."""
    return f"{translate('common.error_prefix', lang)}: {message(err, lang=lang)}"


# ---------------------------------------------------------------- the matrix stepper


def matrix_names(layers: int) -> tuple[str, ...]:
    """The typed inputs of a network with ``layers`` affine layers: X, t, W1, b1, ..."""
    return ("X", "t", *(f"{p}{l}" for l in range(1, layers + 1) for p in "Wb"))


def example_texts(example: Example) -> dict[str, str]:
    """The text boxes' contents for a default batch: matrices as rows of numbers, t as the digits."""
    out = {"X": format_matrix(example.X), "t": " ".join(str(int(d)) for d in example.labels)}
    return out | {name: format_matrix(value) for name, value in example.params.items()}


def parse_inputs(texts: Mapping[str, str], *, layers: int) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """X (N, D), one-hot t (N, K) and the weights from the typed texts, or :class:`FCError` (the shapes
    between them are checked by `mlp_step`)."""
    X = parse_matrix(texts["X"], name="X")
    params: dict[str, np.ndarray] = {}
    for l in range(1, layers + 1):
        params[f"W{l}"] = parse_matrix(texts[f"W{l}"], name=f"W{l}", max_rows=MAX_WIDTH)
        params[f"b{l}"] = parse_vector(texts[f"b{l}"], name=f"b{l}")
    classes = params[f"W{layers}"].shape[1]
    if classes < 2:
        raise FCError("fc.error.classes", got=classes)
    return X, parse_labels(texts["t"], n=X.shape[0], classes=classes), params


def step_title(step: Step, *, lang: str) -> str:
    return translate(step.name_key, lang, **step.params)


def step_caption(n: int, total: int, step: Step, *, lang: str) -> str:
    return translate("fc.stepper.step_of", lang, n=n, total=total, phase=translate(f"fc.phase.{step.phase}", lang))


def grid_title(step: Step, name: str) -> str:
    """A grid's title: the matrix and its true shape (a vector shows as one row but keeps its shape)."""
    return f"{name}  ({step.shapes[name]})"


def shows_b1_note(step: Step, result: MLPStep) -> bool:
    """The lecture's 2-layer slide sums dz1 for b1 where it should sum da1: say so at that step."""
    return step.id == "db1" and result.options["layers"] == 2


def warning_texts(result: MLPStep, *, lang: str) -> list[str]:
    return [translate(key, lang, **params) for key, params in result.warnings]


def verify_line(summary: tuple[bool, float, str], *, lang: str) -> tuple[bool, str]:
    """(agrees, the translated line under the stepper) of `verify_summary`'s check against PyTorch autograd."""
    ok, diff, name = summary
    return ok, translate("fc.verify.ok" if ok else "fc.verify.bad", lang, diff=f"{diff:.1e}", name=name)


def handout(result: MLPStep, *, lang: str) -> str:
    """The Markdown handout: every step with its translated title, code line, formula and matrices."""
    names = {s.id: step_title(s, lang=lang) for s in result.steps}
    return to_markdown(result, names=names, title=translate("fc.stepper.handout_title", lang),
                       summary=translate("fc.intro", lang))


def csv_bytes(result: MLPStep) -> bytes:
    """Every matrix of every step as CSV, UTF-8 with BOM (Excel reads it as Unicode)."""
    return to_csv(result).encode("utf-8-sig")


def summary_text(result: MLPStep, *, lang: str) -> str:
    o = result.options
    acts = ", ".join(translate(f"fc.activation.{a}", lang) for a in o["activations"])
    shape = "×".join(str(s) for s in result.tensors["X"].shape)
    return translate("fc.stepper.summary", lang, layers=o["layers"], activations=acts, loss=f"{result.loss:.4f}",
                     shape=shape)


# ---------------------------------------------------------------- the homework's MLP, trained live


def homework_config(*, layers: int, activation: str, hidden: Sequence[int], init: str, epochs: int, lr: float,
                    seed: int, train_size: int) -> TrainConfig:
    """The Train machinery's settings for the homework MLP (``activation`` "lecture" keeps the lecture's
    code: sigmoid, or sigmoid then ReLU). :class:`FCError` or ``TrainingError`` when a setting is bad."""
    layers = integer(layers, name="layers", low=2, high=3)
    activation = option(activation, HOMEWORK_ACTIVATIONS, name="activation")
    table = homework_table(layers=layers, activation=None if activation == "lecture" else activation,
                           hidden=tuple(hidden)[:layers - 1])
    return TrainConfig(model="custom", layers=trainer_layers(table), init=option(init, INITS, name="init"),
                       epochs=int(epochs), lr=float(lr), seed=int(seed), train_size=int(train_size) or None)


def default_hidden(layers: int) -> tuple[int, ...]:
    return HOMEWORK_HIDDEN[layers]


def data_caption(train: Any, test: Any, *, lang: str) -> str:
    """Which MNIST the live training uses: the full set's folder, or the embedded sample's sizes."""
    if getattr(train, "kind", "") == "full":
        return translate("common.data_source.full", lang, path=train.path)
    return translate("common.data_source.embedded", lang, n_train=len(train.labels), n_test=len(test.labels))


def architecture(config: TrainConfig, *, lang: str) -> str:
    """"784 → 100 (sigmoid) → 10" for the network a config trains."""
    parts, width = ["784"], None
    for row in config.layers or ():
        if row["kind"] == "linear":
            width = str(row["out_features"])
            parts.append(width)
        elif row["kind"] != "flatten":
            parts[-1] = f"{width} ({translate('fc.activation.' + row['kind'], lang)})"
    return " → ".join(parts)


def homework_rows(history: Any, *, lang: str) -> dict[str, list[str]]:
    """Per epoch the homework's three figures (columns keyed by their translated headers)."""
    cols = ("epoch", "train", "test", "cost")
    values = (list(history.epoch), [f"{100 * a:.2f}%" for a in history.train_accuracy],
              [f"{100 * a:.2f}%" for a in history.test_accuracy], [f"{c:.4f}" for c in history.train_loss])
    return {translate(f"fc.train.col.{c}", lang): v for c, v in zip(cols, values)}


def homework_line(history: Any, *, lang: str) -> str | None:
    """The last epoch written as the lecture's result line, or None before the first epoch ends."""
    if not history.epoch:
        return None
    return translate("fc.homework.figures", lang, train=f"{100 * history.train_accuracy[-1]:.3f}",
                     test=f"{100 * history.test_accuracy[-1]:.4f}", cost=f"{history.train_loss[-1]:.4f}")


# ---------------------------------------------------------------- activation lab


def chain_text(depth: int, *, lang: str) -> str:
    """The best case of the chain rule through ``depth`` sigmoid layers, 0.25^depth, against ReLU's 1."""
    return translate("fc.act.chain", lang, depth=depth, value=f"{0.25 ** depth:.2g}")


def profile_rows(profiles: Sequence[Any], *, step: int, lang: str) -> dict[str, list[str]]:
    """Per activation: the first and last layer's gradient norm at initialisation, their ratio, and the
    batch loss at initialisation and after ``step`` steps."""
    def fmt(v: float) -> str:
        return f"{v:.2e}"

    rows = [(translate(f"fc.activation.{p.activation}", lang), fmt(p.norms[0, 0]), fmt(p.norms[0, -1]),
             fmt(p.ratio), f"{p.losses[0]:.3f}", f"{p.losses[min(step, len(p.losses) - 1)]:.3f}") for p in profiles]
    cols = ("activation", "first", "last", "ratio", "loss0", "loss")
    return {translate(f"fc.act.col.{c}", lang, steps=step): [r[i] for r in rows] for i, c in enumerate(cols)}


# ---------------------------------------------------------------- why a nonlinearity


def collapse_texts(example: Mapping[str, np.ndarray]) -> dict[str, str]:
    return {name: format_matrix(value) for name, value in example.items()}


def parse_collapse(texts: Mapping[str, str]) -> dict[str, np.ndarray]:
    """W1, W2 (at most 16×16) and x (a vector) from the typed texts, or :class:`FCError`."""
    out = {n: parse_matrix(texts[n], name=n, max_rows=MAX_SIZE, max_cols=MAX_SIZE) for n in ("W1", "W2")}
    return out | {"x": parse_vector(texts["x"], name="x")}


def _num(v: float) -> str:
    return f"{v:.4g}".replace("e", r"\mathrm{e}")


def bmatrix(arr: np.ndarray, *, column: bool = False) -> str:
    """A matrix (or a vector: a column when ``column``) as LaTeX."""
    a = np.asarray(arr, dtype=np.float64)
    a = a.reshape(-1, 1) if a.ndim == 1 and column else np.atleast_2d(a)
    rows = r" \\ ".join(" & ".join(_num(v) for v in row) for row in a)
    return rf"\begin{{bmatrix}} {rows} \end{{bmatrix}}"


def collapse_latex(c: Collapse) -> list[str]:
    """The slide's W2(W1x) = (W2W1)x = Wx with the numbers, then the same with a ReLU in between."""
    W1, W2, x = bmatrix(c.W1), bmatrix(c.W2), bmatrix(c.x, column=True)
    return [rf"W_2(W_1x) = {W2}\left({W1}{x}\right) = {W2}{bmatrix(c.h, column=True)} = "
            rf"{bmatrix(c.two_layers, column=True)}",
            rf"W = W_2W_1 = {W2}{W1} = {bmatrix(c.W)},\qquad Wx = {bmatrix(c.W)}{x} = "
            rf"{bmatrix(c.one_layer, column=True)}",
            rf"W_2\max(0, W_1x) = {W2}{bmatrix(c.h_relu, column=True)} = {bmatrix(c.with_relu, column=True)}"]


def collapse_verdict(c: Collapse, *, lang: str) -> str:
    same = translate("fc.collapse.same" if c.same else "fc.collapse.not_same", lang)
    relu = translate("fc.collapse.relu_changes" if c.relu_changes else "fc.collapse.relu_same", lang)
    return f"{same} {relu}"


def toy_titles(comparison: Any, *, lang: str) -> list[str]:
    return [translate(f"fc.toy.net.{kind}", lang, accuracy=f"{100 * fit.accuracy:.0f}%")
            for kind, fit in (("linear", comparison.linear), ("relu", comparison.relu))]


# ---------------------------------------------------------------- losses


def loss_rows(cmp: Any, *, lang: str) -> dict[str, list[str]]:
    """Per class: score f, softmax p, target t, cross-entropy's gradient p − t and squared error's."""
    cols = {"class": [str(k) + (" ✓" if k == cmp.label else "") for k in range(len(cmp.p))],
            "score": [f"{v:.3f}" for v in cmp.scores], "p": [f"{v:.4f}" for v in cmp.p],
            "t": [f"{v:g}" for v in cmp.t], "grad_ce": [f"{v:+.4f}" for v in cmp.grad_cross_entropy],
            "grad_se": [f"{v:+.4f}" for v in cmp.grad_squared_error]}
    return {translate(f"fc.loss.col.{k}", lang): v for k, v in cols.items()}


def loss_latex(cmp: Any) -> list[str]:
    """The denominator Σ_j e^{f_j} with the scores written in (more than 10 classes: 3 terms, ⋯, the last), then
    L_i = −log(e^{f_y} / Σ_j e^{f_j}) with its numbers."""
    terms = [f"e^{{{_num(f)}}}" for f in cmp.scores]
    if len(terms) > 10:
        terms = terms[:3] + [r"\cdots", terms[-1]]
    y, total = cmp.label, float(np.exp(cmp.scores - cmp.scores.max()).sum() * np.exp(cmp.scores.max()))
    return [rf"\sum_j e^{{f_j}} = {' + '.join(terms)} = {_num(total)}",
            rf"L_i = -\log\frac{{e^{{f_{{y_i}}}}}}{{\sum_j e^{{f_j}}}} = -\log\frac{{e^{{{_num(cmp.scores[y])}}}}}"
            rf"{{{_num(total)}}} = -\log {_num(cmp.p[y])} = {_num(cmp.cross_entropy)}"]


def loss_summary(cmp: Any, *, lang: str) -> str:
    return translate("fc.loss.summary", lang, ce=f"{cmp.cross_entropy:.4f}", se=f"{cmp.squared_error:.4f}",
                     ratio=f"{cmp.ratio:.3g}")


def logistic(x_text: str, w_text: str, *, y: float, b: float) -> LogisticStep:
    """Seed 003's logistic regression on x and w typed on one line each, or :class:`FCError`."""
    return logistic_step(parse_vector(x_text, name="x"), y, w=parse_vector(w_text, name="w"), b=b)


def logistic_latex(step: Any, *, lr: float) -> list[str]:
    """Seed 003's forward, chain rule and update, each with this example's numbers."""
    x, w = bmatrix(step.x), bmatrix(step.w)
    new_w, new_b = step.updated(lr)
    dl_da = _num(step.dL_da) if np.isfinite(step.dL_da) else r"\infty"
    return [rf"z = w\cdot x + b = {w}\cdot{x} + {_num(step.b)} = {_num(step.z)},\quad a = \sigma(z) = {_num(step.a)}",
            rf"L = -(y\log a + (1-y)\log(1-a)) = {_num(step.loss)}\quad(y = {_num(step.y)})",
            rf"\frac{{\partial L}}{{\partial w}} = \frac{{\partial L}}{{\partial a}}\frac{{\partial a}}{{\partial z}}"
            rf"\frac{{\partial z}}{{\partial w}} = \left(-\frac{{y}}{{a}} + \frac{{1-y}}{{1-a}}\right) a(1-a)\,x"
            rf" = {dl_da}\cdot{_num(step.da_dz)}\cdot{x} = (a - y)\,x = {bmatrix(step.dw)}",
            rf"\frac{{\partial L}}{{\partial b}} = a - y = {_num(step.db)},\qquad w - \alpha(a-y)x = {bmatrix(new_w)},"
            rf"\quad b - \alpha(a-y) = {_num(new_b)}\quad(\alpha = {_num(lr)})"]


# ---------------------------------------------------------------- FC vs CNN on shifted digits


def shift_rows(result: Any, *, lang: str) -> dict[str, list[str]]:
    cols = {"shift": [f"{s} px" for s in result.shifts], "mlp": [f"{100 * a:.1f}%" for a in result.mlp_accuracy],
            "cnn": [f"{100 * a:.1f}%" for a in result.cnn_accuracy]}
    return {translate(f"fc.shift.col.{k}", lang): v for k, v in cols.items()}


def shift_summary(result: Any, *, lang: str) -> str:
    return translate("fc.shift.summary", lang, n=f"{result.train_size:,}", epochs=result.epochs,
                     mlp=f"{result.mlp_parameters:,}", cnn=f"{result.cnn_parameters:,}",
                     mlp_s=f"{result.mlp_seconds:.1f}", cnn_s=f"{result.cnn_seconds:.1f}")


def expected_text(*, lang: str) -> str:
    (shift, mlp), (_, cnn) = EXPECTED["mlp"], EXPECTED["cnn"]
    return translate("fc.shift.expected", lang, shift=shift, mlp=f"{100 * mlp:.0f}%", cnn=f"{100 * cnn:.0f}%")
