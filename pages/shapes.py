"""Shapes & parameters: the output-size formula, whole-network tables checked by PyTorch, comparisons, a quiz."""

import pandas as pd
import streamlit as st

from explorer import quiz, shapes, shapes_compare, shapes_export
from explorer.i18n import translate
from explorer.session import lang, t
from explorer.shapes import LayerError, ShapeError
from explorer.shapes_plot import MAX_CELLS, grid_figure

NS = "shapes"
CALC_FIELDS = ("h", "w", "kh", "kw", "stride", "dilation")
OPS = ("conv", "maxpool", "avgpool")
TABS = ("calc", "network", "compare", "quiz")
EXPORTS = (  # (label key, builder, file name, MIME type, widget key)
    ("common.download_csv", shapes_export.to_csv, "network.csv", "text/csv", "shapes.net.csv"),
    ("common.download_md", shapes_export.to_markdown, "network.md", "text/markdown", "shapes.net.md"),
    ("shapes.net.download_tex", shapes_export.to_latex, "network.tex", "text/x-tex", "shapes.net.tex"),
)


def _labeler(prefix: str):
    """A format_func bound to this run's language (AppTest calls it outside the session)."""
    language = lang()
    return lambda key: translate(f"{prefix}.{key}", language)


def _error(error: ShapeError) -> str:
    """The translated reason, prefixed with the layer for errors inside a network."""
    reason = t(error.key, **error.params)
    if isinstance(error, LayerError):
        return t("shapes.err.at_layer", number=error.index + 1, name=error.name, reason=reason)
    return reason


def _load_example(ex: shapes.Example) -> None:
    st.session_state.update({"shapes.calc.op": "conv", "shapes.calc.h": ex.h, "shapes.calc.w": ex.w,
                             "shapes.calc.kh": ex.kh, "shapes.calc.kw": ex.kw, "shapes.calc.stride": ex.stride,
                             "shapes.calc.padding": str(ex.padding), "shapes.calc.dilation": 1,
                             "shapes.calc.pos": 0})


def _calc_inputs() -> dict:
    defaults = {"h": 7, "w": 7, "kh": 3, "kw": 3, "stride": 1, "dilation": 1}
    cols = st.columns(6)
    values = {f: cols[i].number_input(t(f"shapes.calc.{f}"), value=defaults[f], step=1, key=f"shapes.calc.{f}")
              for i, f in enumerate(CALC_FIELDS)}
    cols = st.columns([2, 2, 1])
    values["padding"] = cols[0].text_input(t("shapes.calc.padding"), value="0", key="shapes.calc.padding",
                                           help=t("shapes.calc.padding_help"))
    values["op"] = cols[1].segmented_control(t("shapes.calc.op"), OPS, default=OPS[0],
                                             format_func=_labeler("shapes.kind"), key="shapes.calc.op")
    values["ceil"] = cols[2].toggle(t("shapes.calc.ceil"), key="shapes.calc.ceil")
    return values


def _calc_result(v: dict) -> dict:
    """Output size, formula and fit per axis; ShapeError for impossible configurations."""
    return shapes.calculate((v["h"], v["w"]), (v["kh"], v["kw"]), stride=v["stride"], dilation=v["dilation"],
                            padding=shapes.parse_padding(v["padding"], t("shapes.calc.padding")), op=v["op"],
                            ceil_mode=v["ceil"])


def _show_fit(axis: str, fit: shapes.Fit) -> None:
    if fit.fits:
        return
    st.warning(t("shapes.fit.uneven", axis=t(f"shapes.axis.{axis}"), exact=f"{float(fit.exact):g}",
                 output=fit.output, remainder=fit.remainder, ignored=fit.ignored_input))
    pairs = lambda xs: ", ".join(f"{a} → {b}" for a, b in xs) or "—"  # noqa: E731
    st.markdown(t("shapes.fit.suggest", paddings=pairs(fit.paddings), strides=pairs(fit.strides),
                  kernels=pairs(fit.kernels), sizes=pairs(fit.sizes)))


def calculator() -> None:
    st.caption(t("shapes.examples"))
    cols = st.columns(5)
    for i, ex in enumerate(shapes.WORKED_EXAMPLES):
        label = f"{ex.h}×{ex.w} · {ex.kh}×{ex.kw} · S{ex.stride} · P{ex.padding}"
        cols[i % 5].button(label, key=f"shapes.example.{i}", on_click=_load_example, args=(ex,),
                           width="stretch")
    values = _calc_inputs()
    try:
        result = _calc_result(values)
        st.session_state["shapes.calc.last"] = (values, result)
    except ShapeError as error:
        st.error(_error(error))
        if "shapes.calc.last" not in st.session_state:
            return
        st.caption(t("common.kept_previous"))
        values, result = st.session_state["shapes.calc.last"]
    (oh, latex_h, fit_h), (ow, latex_w, fit_w) = result["h"], result["w"]
    st.metric(t("shapes.calc.output"), f"{oh} × {ow}")
    st.latex(r"O = \left\lfloor \frac{N + 2P - D\cdot(K-1) - 1}{S} \right\rfloor + 1")
    rounds_up = values["op"] != "conv" and values["ceil"]  # the floor explanation does not apply
    for axis, latex, fit in (("h", latex_h, fit_h), ("w", latex_w, fit_w)):
        st.markdown(t(f"shapes.axis.{axis}"))
        st.latex(latex)
        if not rounds_up:
            _show_fit(axis, fit)
    pad = fit_h.padding, fit_w.padding
    if max(values["h"] + 2 * pad[0], values["w"] + 2 * pad[1]) > MAX_CELLS:
        st.info(t("shapes.err.grid_too_large", limit=MAX_CELLS))
        return
    last = oh * ow - 1
    if st.session_state.get("shapes.calc.pos", 0) > last:
        st.session_state["shapes.calc.pos"] = last
    pos = st.slider(t("shapes.calc.position"), 0, max(last, 1), key="shapes.calc.pos", disabled=last == 0)
    pos = min(pos, last)
    labels = {k: t(f"shapes.grid.{k}") for k in ("padding", "input", "ignored", "window", "output", "current",
                                                  "input_title", "output_title")}
    fig = grid_figure(values["h"], values["w"], (values["kh"], values["kw"]), stride=(values["stride"],) * 2,
                      padding=pad, dilation=(values["dilation"],) * 2, position=divmod(pos, ow), labels=labels)
    st.plotly_chart(fig, key="shapes.calc.grid", width="stretch")
    st.caption(t("shapes.grid.legend"))


def _load_preset() -> None:
    preset = shapes.PRESETS[st.session_state["shapes.net.preset"]]
    st.session_state["shapes.net.records"] = shapes.layers_to_records(preset.layers)
    st.session_state["shapes.net.input"] = "×".join(map(str, preset.input_shape))
    st.session_state["shapes.net.version"] = st.session_state.get("shapes.net.version", 0) + 1


@st.cache_data(max_entries=64, show_spinner=False)
def _verify(layers: tuple, input_shape: tuple) -> shapes.Verification:
    return shapes.verify(list(layers), input_shape)


def _network_inputs() -> tuple[list, tuple]:
    """Layers and input shape from the editor; ShapeError/LayerError on bad cells."""
    if "shapes.net.records" not in st.session_state:
        st.session_state.setdefault("shapes.net.preset", "seed_deep_cnn")
        _load_preset()
    cols = st.columns([2, 1])
    cols[0].selectbox(t("shapes.net.preset"), list(shapes.PRESETS), key="shapes.net.preset",
                      format_func=_labeler("shapes.preset"), on_change=_load_preset)
    text = cols[1].text_input(t("shapes.net.input"), key="shapes.net.input", help=t("shapes.net.input_help"))
    column = st.column_config
    edited = st.data_editor(
        pd.DataFrame(st.session_state["shapes.net.records"]), num_rows="dynamic", width="stretch",
        key=f"shapes.net.editor.{st.session_state['shapes.net.version']}", column_config={
            "name": column.TextColumn(t("shapes.col.name")),
            "kind": column.SelectboxColumn(t("shapes.col.kind"), options=shapes.LAYER_KINDS, required=True),
            "out": column.NumberColumn(t("shapes.col.out"), step=1, help=t("shapes.col.out_help")),
            **{c: column.TextColumn(t(f"shapes.col.{c}")) for c in ("kernel", "stride", "padding", "dilation")},
            "groups": column.NumberColumn(t("shapes.col.groups"), step=1),
            "ceil_mode": column.CheckboxColumn(t("shapes.col.ceil_mode"))})
    shape = tuple(shapes.parse_int(x, t("shapes.net.input")) for x in text.replace("x", "×").split("×"))
    return shapes.layers_from_records(edited.to_dict("records")), shape


def network() -> None:
    try:
        layers, shape = _network_inputs()
        rows = shapes.summarize(layers, shape, strict=False)
        st.session_state["shapes.net.last"] = (layers, shape, rows)
    except ShapeError as error:
        st.error(_error(error))
        if st.session_state.get("shapes.net.last") is None:
            return
        st.caption(t("common.kept_previous"))
        layers, shape, rows = st.session_state["shapes.net.last"]
    good = [r for r in rows if r.error_key is None]
    table = pd.DataFrame([{
        t("shapes.col.name"): r.name, t("shapes.col.kind"): t(f"shapes.kind.{r.kind}"),
        t("shapes.col.output"): "×".join(map(str, r.output_shape or ())) or "⚠",
        t("shapes.col.params"): r.params, t("shapes.col.macs"): r.macs,
        t("shapes.col.rf"): r.receptive_field} for r in rows])
    number = st.column_config.NumberColumn(format="localized")
    st.dataframe(table, key="shapes.net.table", hide_index=True, width="stretch",
                 column_config={t(f"shapes.col.{c}"): number for c in ("params", "macs")})
    if rows[-1].error_key:
        st.error(t("shapes.err.at_layer", number=len(rows), name=rows[-1].name,
                   reason=t(rows[-1].error_key, **rows[-1].error_params)))
    total = shapes.totals(good)
    cols = st.columns(3)
    cols[0].metric(t("shapes.net.total_params"), f"{total['params']:,}")
    cols[1].metric(t("shapes.net.total_macs"), f"{total['macs']:,}")
    cols[2].metric(t("shapes.net.output"), "×".join(map(str, good[-1].output_shape)) if good else "—")
    for r, layer in zip(good, layers):
        if r.exact and any(x.denominator != 1 for x in r.exact):
            st.info(t("shapes.net.floored", name=r.name))
            st.latex(shapes.layer_formula(layer, r.input_shape[1]))
    if rows[-1].error_key is None:
        check = _verify(tuple(layers), shape)
        if check.skipped_key:
            st.warning(t(check.skipped_key, **check.skipped_params))
        elif check.matches:
            st.success(t(f"shapes.net.verified_{check.device}", params=f"{check.total_params:,}",
                         ms=f"{1000 * check.seconds:.0f}"))
        else:
            st.error(t("shapes.net.mismatch"))
    headers = [t(f"shapes.col.{c}") for c in ("name", "kind", "output", "params", "macs", "rf")]
    kw = dict(headers=headers, total_label=t("shapes.net.total"))
    for col, (label, build, file_name, mime, key) in zip(st.columns(3), EXPORTS):
        col.download_button(t(label), build(good, **kw), file_name, mime, key=key)


@st.cache_data(show_spinner=False)
def _stack_check(layers: int) -> tuple[int, int]:
    return shapes_compare.torch_stack_check(layers)


def compare() -> None:
    st.subheader(t("shapes.cmp.connect_title"))
    cols = st.columns(4)
    sizes = {f: cols[i].number_input(t(f"shapes.cmp.{f}"), min_value=1, max_value=10**6, value=v, step=1,
                                     key=f"shapes.cmp.{f}")
             for i, (f, v) in enumerate([("image", 200), ("hidden", 40_000), ("filter_size", 10), ("filters", 100)])}
    c = shapes_compare.connectivity(**sizes)
    cols = st.columns(3)
    for col, kind, value in zip(cols, ("fc", "local", "conv"),
                                (c.fully_connected, c.locally_connected, c.convolutional)):
        col.metric(t(f"shapes.cmp.{kind}"), f"{value:,}")
    st.subheader(t("shapes.cmp.fc_title"))
    (w1, b1), (w2, b2) = shapes_compare.fc_net((256, 100, 26))
    st.latex(f"256\\cdot100 + 100\\cdot26 + 100 + 26 = {w1:,} + {w2:,} + {b1} + {b2} = {w1 + w2 + b1 + b2:,}"
             .replace(",", "{,}"))
    st.subheader(t("shapes.cmp.conv_title"))
    st.latex(f"(5\\cdot5\\cdot3 + 1)\\cdot10 = {shapes_compare.conv_layer_params()}")
    st.subheader(t("shapes.cmp.stack_title"))
    rows = []
    for n in (1, 2, 3, 4):
        s, (torch_params, torch_rf) = shapes_compare.stacked_vs_single(n), _stack_check(n)
        rows.append({t("shapes.cmp.layers"): n, t("shapes.cmp.stacked"): s.stacked_params,
                     t("shapes.cmp.single"): f"{s.receptive_field}×{s.receptive_field}: {s.single_params}",
                     t("shapes.col.rf"): s.receptive_field,
                     t("shapes.cmp.torch"): "✓" if (torch_params, torch_rf) == (s.stacked_params,
                                                                                s.receptive_field) else "✗"})
    st.dataframe(pd.DataFrame(rows), key="shapes.cmp.stack", hide_index=True)
    st.caption(t("shapes.cmp.stack_note"))


def quiz_tab() -> None:
    seed_text = st.text_input(t("shapes.quiz.seed"), value="2024", key="shapes.quiz.seed",
                              help=t("shapes.quiz.seed_help"))
    try:
        seed = shapes.parse_int(seed_text, t("shapes.quiz.seed"))
        questions = quiz.make_quiz(seed)
    except ShapeError as error:
        st.error(_error(error))
        return
    with st.form(key="shapes.quiz.form"):
        for i, q in enumerate(questions):
            params = {**q.params, **({"preset": t(f"shapes.preset.{q.params['preset']}")} if "preset" in q.params else {})}
            st.markdown(f"**{i + 1}.** " + t(q.prompt_key, **params))
            st.text_input(t("shapes.quiz.answer"), key=f"shapes.quiz.answer.{seed}.{i}")
        if st.form_submit_button(t("shapes.quiz.check"), key="shapes.quiz.check"):
            st.session_state["shapes.quiz.checked"] = seed
    if st.session_state.get("shapes.quiz.checked") != seed:
        return
    score = 0
    for i, q in enumerate(questions):
        typed = st.session_state.get(f"shapes.quiz.answer.{seed}.{i}", "")
        try:
            right = quiz.check(q, typed)
        except ShapeError as error:
            st.error(f"{i + 1}. " + _error(error))
            continue
        score += right
        (st.success if right else st.warning)(t("shapes.quiz.right" if right else "shapes.quiz.wrong",
                                                number=i + 1, answer=q.answer))
        st.latex(q.formula)
    st.metric(t("shapes.quiz.score"), f"{score} / {len(questions)}")


def main() -> None:
    st.title(t("shapes.title"))
    st.markdown(t("shapes.intro"))
    tabs = st.tabs([t(f"shapes.tab.{k}") for k in TABS])
    for tab, body in zip(tabs, (calculator, network, compare, quiz_tab)):
        with tab:
            body()


main()
