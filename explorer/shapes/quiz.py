"""Seeded shape and parameter-count questions: the same seed gives the whole class the same quiz."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from explorer.core.i18n import translate
from explorer.shapes import network, sizes

KINDS = ("conv_output", "pool_output", "conv_params", "preset_output", "preset_params")
QUIZ_PRESETS = ("seed_mnist_cnn", "seed_deep_cnn", "lenet5", "alexnet", "vgg16")
MAX_SEED = 10**9


@dataclass(frozen=True)
class Question:
    """One question: ``prompt_key``/``params`` for the page to translate, the answer and its worked formula."""

    kind: str
    prompt_key: str
    params: dict[str, Any]
    answer: int
    formula: str                                  # LaTeX with the numbers filled in
    config: dict[str, Any] = field(default_factory=dict)  # the layer, for checking against torch.nn


def _conv_output(rng: random.Random) -> Question:
    while True:
        n, k, s = rng.randint(5, 64), rng.choice([1, 2, 3, 3, 5, 5, 7, 11]), rng.choice([1, 1, 2, 2, 3, 4])
        p, d = rng.choice([0, 0, 1, 1, 2, 3]), rng.choice([1, 1, 1, 2])
        if n + 2 * p >= d * (k - 1) + 1:
            break
    answer = sizes.conv_output_size(n, k, stride=s, padding=p, dilation=d)
    return Question("conv_output", "shapes.quiz.q.conv_output", {"n": n, "k": k, "s": s, "p": p, "d": d}, answer,
                    sizes.formula_latex(n, k, stride=s, padding=p, dilation=d),
                    {"n": n, "kernel": k, "stride": s, "padding": p, "dilation": d})


def _pool_output(rng: random.Random) -> Question:
    while True:
        n, k = rng.randint(4, 40), rng.choice([2, 2, 3, 3, 4])
        s, p, ceil = rng.choice([1, 2, 2, 3]), rng.randint(0, k // 2), rng.random() < 0.5
        if n + 2 * p >= k:
            break
    answer = sizes.pool_output_size(n, k, stride=s, padding=p, ceil_mode=ceil)
    key = "shapes.quiz.q.pool_output_ceil" if ceil else "shapes.quiz.q.pool_output"
    return Question("pool_output", key, {"n": n, "k": k, "s": s, "p": p}, answer,
                    sizes.formula_latex(n, k, stride=s, padding=p, ceil_mode=ceil),
                    {"n": n, "kernel": k, "stride": s, "padding": p, "ceil_mode": ceil})


def _conv_params(rng: random.Random) -> Question:
    c_in, c_out, k = rng.choice([1, 3, 16, 32, 64]), rng.choice([6, 10, 16, 32, 64, 96]), rng.choice([1, 3, 5, 7])
    answer = c_out * (c_in * k * k + 1)
    return Question("conv_params", "shapes.quiz.q.conv_params", {"c_in": c_in, "c_out": c_out, "k": k}, answer,
                    _conv_params_latex(c_out, c_in, k, k, answer),
                    {"in_channels": c_in, "out_channels": c_out, "kernel": k})


def _preset_row(rng: random.Random, kinds: tuple[str, ...]) -> tuple[str, network.Row, network.Layer]:
    name = rng.choice(QUIZ_PRESETS)
    preset = network.PRESETS[name]
    rows = network.summarize(name)
    index = rng.choice([r.index for r in rows if r.kind in kinds])
    return name, rows[index], preset.layers[index]


def _conv_params_latex(out: int, per_filter: int, kh: int, kw: int, params: int) -> str:
    return f"{out}\\cdot({per_filter}\\cdot{kh}\\cdot{kw} + 1) = {params}"


def _preset_output(rng: random.Random) -> Question:
    name, row, layer = _preset_row(rng, ("conv", "maxpool", "avgpool"))
    p = layer.padding[0] if not isinstance(layer.padding, str) else "same"
    return Question("preset_output", "shapes.quiz.q.preset_output",
                    {"preset": name, "layer": row.name, "shape": sizes.shape_text(row.input_shape),
                     "k": layer.kernel[0], "s": layer.strides()[0], "p": p},
                    row.output_shape[1], network.layer_formula(layer, row.input_shape[1]),
                    {"preset": name, "index": row.index})


def _preset_params(rng: random.Random) -> Question:
    name, row, layer = _preset_row(rng, ("conv", "linear"))
    params = {"preset": name, "layer": row.name, "shape": sizes.shape_text(row.input_shape)}
    if row.kind == "conv":
        out, per, kh, kw = row.kernel_shape
        formula = _conv_params_latex(out, per, kh, kw, row.params)
        key, params = "shapes.quiz.q.preset_params_conv", {**params, "out": out, "k": kh, "groups": layer.groups}
    else:
        out, n_in = row.kernel_shape
        formula = f"{n_in}\\cdot{out} + {out} = {row.params}"
        key, params = "shapes.quiz.q.preset_params_linear", {**params, "out": out}
    return Question("preset_params", key, params, row.params, formula, {"preset": name, "index": row.index})


_MAKERS = {"conv_output": _conv_output, "pool_output": _pool_output, "conv_params": _conv_params,
           "preset_output": _preset_output, "preset_params": _preset_params}


def make_quiz(seed: int, *, count: int = 5, kinds: tuple[str, ...] = KINDS) -> list[Question]:
    """``count`` questions drawn from ``kinds``; identical for identical ``seed`` on every machine."""
    seed = sizes.parse_int(seed, "seed")
    if not 0 <= seed <= MAX_SEED:
        raise sizes.ShapeError("shapes.err.seed", limit=MAX_SEED)
    if not kinds or any(k not in _MAKERS for k in kinds):
        raise sizes.ShapeError("shapes.err.quiz_kinds")
    rng = random.Random(f"cnn-explorer-quiz:{seed}")
    return [_MAKERS[rng.choice(kinds)](rng) for _ in range(count)]


def check(question: Question, text: object, *, what: str = "answer") -> bool:
    """Whether the typed answer is right; non-numbers raise ShapeError (``shapes.err.not_integer``) whose
    message calls the field ``what`` (the page passes its translated name)."""
    return sizes.parse_int(text, what) == question.answer


def prompt_text(question: Question, *, lang: str) -> str:
    """The question in ``lang`` (a preset's name translated too)."""
    params = dict(question.params)
    if "preset" in params:
        params["preset"] = translate(f"shapes.preset.{params['preset']}", lang)
    return translate(question.prompt_key, lang, **params)
