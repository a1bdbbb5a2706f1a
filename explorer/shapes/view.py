"""What the Shapes page shows, as plain data: translated messages, table rows, widget states.

No Streamlit here: every function takes the language (``lang``) and returns text or rows, so the page
only reads widgets and renders.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from explorer.core.i18n import translate
from explorer.shapes import compare as shapes_compare
from explorer.shapes import export as shapes_export
from explorer.shapes import quiz
from explorer.shapes.network import (
    PRESETS,
    Layer,
    Row,
    Verification,
    layer_formula,
    layers_from_records,
    layers_to_records,
    totals,
)
from explorer.shapes.plots import MAX_CELLS
from explorer.shapes.sizes import (
    Example,
    Fit,
    LayerError,
    ShapeError,
    calculate,
    parse_padding,
    parse_shape,
    shape_text,
)

SUMMARY_COLUMNS = ("name", "kind", "output", "params", "macs", "rf")   # shapes.col.* keys, export order too
GRID_LABELS = ("padding", "input", "ignored", "window", "output", "current", "input_title", "output_title")
STACK_DEPTHS = (1, 2, 3, 4)
CONNECTIVITY_SIZES = {"image": 200, "hidden": 40_000, "filter_size": 10, "filters": 100}  # seed 004's defaults
EXPORTS = (  # (label key, builder, file name, MIME type, widget key)
    ("common.download_csv", shapes_export.to_csv, "network.csv", "text/csv", "shapes.net.csv"),
    ("common.download_md", shapes_export.to_markdown, "network.md", "text/markdown", "shapes.net.md"),
    ("shapes.net.download_tex", shapes_export.to_latex, "network.tex", "text/x-tex", "shapes.net.tex"),
)


def _at_layer(number: int, name: str, key: str, params: Mapping[str, Any], lang: str) -> str:
    return translate("shapes.err.at_layer", lang, number=number, name=name, reason=translate(key, lang, **params))


def error_message(error: ShapeError, *, lang: str) -> str:
    """The translated reason, prefixed with the layer for errors inside a network."""
    if isinstance(error, LayerError):
        return _at_layer(error.index + 1, error.name, error.key, error.params, lang)
    return translate(error.key, lang, **error.params)


def row_error_message(row: Row, *, lang: str) -> str | None:
    """The flagged layer's reason (``summarize(strict=False)``'s last row), or None if it ran."""
    if row.error_key is None:
        return None
    return _at_layer(row.index + 1, row.name, row.error_key, row.error_params, lang)


# ---------------------------------------------------------------------------------------------
# Calculator


def example_label(ex: Example) -> str:
    """``"227×227 · 11×11 · S4 · P0"``: the button of a worked example."""
    return f"{ex.h}×{ex.w} · {ex.kh}×{ex.kw} · S{ex.stride} · P{ex.padding}"


def example_state(ex: Example) -> dict[str, Any]:
    """Calculator widget values (by key) that load a worked example."""
    return {"shapes.calc.op": "conv", "shapes.calc.h": ex.h, "shapes.calc.w": ex.w, "shapes.calc.kh": ex.kh,
            "shapes.calc.kw": ex.kw, "shapes.calc.stride": ex.stride, "shapes.calc.padding": str(ex.padding),
            "shapes.calc.dilation": 1, "shapes.calc.pos": 0}


def calc_result(values: Mapping[str, Any], *, lang: str) -> dict[str, tuple[int, str, Fit]]:
    """:func:`explorer.shapes.calculate` on the calculator's widget values (h, w, kh, kw, stride, dilation,
    padding text, op, ceil); ShapeError for impossible configurations."""
    padding = parse_padding(values["padding"], translate("shapes.calc.padding", lang))
    return calculate((values["h"], values["w"]), (values["kh"], values["kw"]), stride=values["stride"],
                     dilation=values["dilation"], padding=padding, op=values["op"], ceil_mode=values["ceil"])


def _pairs(pairs: Iterable[tuple[int, int]]) -> str:
    return ", ".join(f"{a} → {b}" for a, b in pairs) or "—"


def fit_messages(axis: str, fit: Fit, *, lang: str) -> tuple[str, str] | None:
    """(warning, suggestions) for an axis where the window does not fit evenly; None when it does."""
    if fit.fits:
        return None
    warning = translate("shapes.fit.uneven", lang, axis=translate(f"shapes.axis.{axis}", lang),
                        exact=f"{float(fit.exact):g}", output=fit.output, remainder=fit.remainder,
                        ignored=fit.ignored_input)
    suggest = translate("shapes.fit.suggest", lang, paddings=_pairs(fit.paddings), strides=_pairs(fit.strides),
                        kernels=_pairs(fit.kernels), sizes=_pairs(fit.sizes))
    return warning, suggest


def grid_args(values: Mapping[str, Any], result: Mapping[str, tuple[int, str, Fit]]) -> dict[str, Any] | None:
    """Arguments of :func:`explorer.shapes_plot.grid_figure` (all but ``position``/``labels``) for a
    calculator result, or None when the padded input is larger than the picture draws."""
    pad = result["h"][2].padding, result["w"][2].padding
    if max(values["h"] + 2 * pad[0], values["w"] + 2 * pad[1]) > MAX_CELLS:
        return None
    return {"h": values["h"], "w": values["w"], "kernel": (values["kh"], values["kw"]),
            "stride": (values["stride"],) * 2, "padding": pad, "dilation": (values["dilation"],) * 2}


def grid_labels(*, lang: str) -> dict[str, str]:
    """Translated legend words of :func:`explorer.shapes_plot.grid_figure`."""
    return {k: translate(f"shapes.grid.{k}", lang) for k in GRID_LABELS}


# ---------------------------------------------------------------------------------------------
# Network table


def preset_state(name: str) -> dict[str, Any]:
    """Editor records and input text (by session key) that load preset ``name``."""
    preset = PRESETS[name]
    return {"shapes.net.records": layers_to_records(preset.layers),
            "shapes.net.input": shape_text(preset.input_shape)}


def parse_network(records: Iterable[dict[str, Any]], input_text: str, *, lang: str,
                  ) -> tuple[list[Layer], tuple[int, ...]]:
    """Layers and input shape from the editor's rows and the typed C×H×W; ShapeError/LayerError if bad."""
    shape = parse_shape(input_text, translate("shapes.net.input", lang))
    return layers_from_records(records), shape


def headers(*, lang: str) -> list[str]:
    """Translated column titles of the summary (and of its exports)."""
    return [translate(f"shapes.col.{c}", lang) for c in SUMMARY_COLUMNS]


def summary_records(rows: Sequence[Row], *, lang: str) -> list[dict[str, Any]]:
    """The summary table: one dict per row, keyed by translated titles; ⚠ marks the layer that broke."""
    titles = headers(lang=lang)
    return [dict(zip(titles, (r.name, translate(f"shapes.kind.{r.kind}", lang), shape_text(r.output_shape) or "⚠",
                              r.params, r.macs, r.receptive_field)))
            for r in rows]


def _good(rows: Sequence[Row]) -> list[Row]:
    return [r for r in rows if r.error_key is None]


def network_metrics(rows: Sequence[Row], *, lang: str) -> list[tuple[str, str]]:
    """(label, value) of the totals shown under the table: parameters, MACs, output shape."""
    good = _good(rows)
    total = totals(good)
    return [(translate("shapes.net.total_params", lang), f"{total['params']:,}"),
            (translate("shapes.net.total_macs", lang), f"{total['macs']:,}"),
            (translate("shapes.net.output", lang), shape_text(good[-1].output_shape) if good else "—")]


def export_files(rows: Sequence[Row], *, lang: str) -> list[tuple[str, str, str, str, str]]:
    """(label, file content, file name, MIME type, widget key) of the CSV, Markdown and LaTeX downloads."""
    good = _good(rows)
    kw = {"headers": headers(lang=lang), "total_label": translate("shapes.net.total", lang),
          "kind_name": lambda kind: translate(f"shapes.kind.{kind}", lang)}
    return [(translate(label, lang), build(good, **kw), file_name, mime, key)
            for label, build, file_name, mime, key in EXPORTS]


def floored_formulas(rows: Sequence[Row], layers: Sequence[Layer]) -> list[tuple[str, str]]:
    """(layer name, LaTeX of its height formula) for each layer whose output was floored."""
    return [(r.name, layer_formula(layer, r.input_shape[1])) for r, layer in zip(rows, layers)
            if r.error_key is None and r.exact and any(x.denominator != 1 for x in r.exact)]


def verification_message(check: Verification, *, lang: str) -> tuple[str, str]:
    """(level, text) with level "warning" (not built), "success" (PyTorch agrees) or "error"."""
    if check.skipped_key:
        return "warning", translate(check.skipped_key, lang, **check.skipped_params)
    if check.matches:
        return "success", translate(f"shapes.net.verified_{check.device}", lang, params=f"{check.total_params:,}",
                                    ms=f"{1000 * check.seconds:.0f}")
    return "error", translate("shapes.net.mismatch", lang)


# ---------------------------------------------------------------------------------------------
# Comparisons


def connectivity_metrics(sizes: Mapping[str, int], *, lang: str) -> list[tuple[str, str]]:
    """(label, weights) of a fully connected, locally connected and convolutional layer for ``sizes``."""
    c = shapes_compare.connectivity(**sizes)
    return [(translate(f"shapes.cmp.{kind}", lang), f"{value:,}") for kind, value in
            (("fc", c.fully_connected), ("local", c.locally_connected), ("conv", c.convolutional))]


def stack_records(checks: Mapping[int, tuple[int, int]], *, lang: str) -> list[dict[str, Any]]:
    """Stacked 3×3 convolutions vs one big filter, per depth in ``checks`` (depth → PyTorch's
    (parameters, receptive field) from :func:`explorer.shapes_compare.torch_stack_check`)."""
    records = []
    for n, measured in checks.items():
        s = shapes_compare.stacked_vs_single(n)
        records.append({
            translate("shapes.cmp.layers", lang): n, translate("shapes.cmp.stacked", lang): s.stacked_params,
            translate("shapes.cmp.single", lang): f"{s.receptive_field}×{s.receptive_field}: {s.single_params}",
            translate("shapes.col.rf", lang): s.receptive_field,
            translate("shapes.cmp.torch", lang): "✓" if tuple(measured) == (s.stacked_params, s.receptive_field)
            else "✗"})
    return records


# ---------------------------------------------------------------------------------------------
# Quiz


def quiz_feedback(questions: Sequence[quiz.Question], answers: Sequence[object], *, lang: str,
                  ) -> tuple[list[tuple[str, str, str | None]], int]:
    """Per question (level, message, worked formula or None) and the score.

    A blank answer is "unanswered" (info), a non-number an "error" that names the field in ``lang``.
    """
    feedback, score = [], 0
    what = translate("shapes.quiz.answer", lang)
    for number, (q, typed) in enumerate(zip(questions, answers), start=1):
        if typed is None or not str(typed).strip():
            feedback.append(("info", translate("shapes.quiz.unanswered", lang, number=number), None))
            continue
        try:
            right = quiz.check(q, typed, what=what)
        except ShapeError as error:
            feedback.append(("error", f"{number}. " + error_message(error, lang=lang), None))
            continue
        score += right
        key = "shapes.quiz.right" if right else "shapes.quiz.wrong"
        feedback.append(("success" if right else "warning", translate(key, lang, number=number, answer=q.answer),
                         q.formula))
    return feedback, score
