"""Shapes & parameters: the output-size formula, whole-network tables checked by PyTorch, comparisons, a quiz."""

import pandas as pd
import streamlit as st

from explorer.core.i18n import translate
from explorer.core.session import chart, choice, lang, t, through_app
from explorer.shapes import compare as shapes_compare
from explorer.shapes import network, quiz, sizes, view
from explorer.shapes.plots import MAX_CELLS, grid_figure
from explorer.shapes.sizes import ShapeError

NS = "shapes"
CALC_FIELDS = ("h", "w", "kh", "kw", "stride", "dilation")
OPS = ("conv", "maxpool", "avgpool")
TABS = ("calc", "network", "compare", "quiz")


def _labeler(prefix: str):
    """A format_func bound to this run's language (AppTest calls it outside the session)."""
    language = lang()
    return lambda key: translate(f"{prefix}.{key}", language)


def _error(error: ShapeError) -> str:
    return view.error_message(error, lang=lang())


def _load_example(ex: sizes.Example) -> None:
    st.session_state.update(view.example_state(ex))


def _calc_inputs() -> dict:
    defaults = {"h": 7, "w": 7, "kh": 3, "kw": 3, "stride": 1, "dilation": 1}
    cols = st.columns(6)
    values = {f: cols[i].number_input(t(f"shapes.calc.{f}"), value=defaults[f], step=1, key=f"shapes.calc.{f}")
              for i, f in enumerate(CALC_FIELDS)}
    cols = st.columns([2, 3], vertical_alignment="bottom")
    values["padding"] = cols[0].text_input(t("shapes.calc.padding"), value="0", key="shapes.calc.padding",
                                           help=t("shapes.calc.padding_help"))
    with cols[1]:
        values["op"] = choice("segmented_control", t("shapes.calc.op"), OPS, key="shapes.calc.op",
                              format=_labeler("shapes.kind"))
    values["ceil"] = st.toggle(t("shapes.calc.ceil"), key="shapes.calc.ceil")
    return values


def calculator_tab() -> None:
    st.caption(t("shapes.examples"))
    with st.container(horizontal=True, gap="small"):  # buttons as wide as their text, wrapping
        for i, ex in enumerate(sizes.WORKED_EXAMPLES):
            st.button(view.example_label(ex), key=f"shapes.example.{i}", on_click=_load_example, args=(ex,),
                      width="content")
    values = _calc_inputs()
    try:
        result = view.calc_result(values, lang=lang())
        st.session_state["shapes.calc.last"] = (values, result)
    except ShapeError as error:
        st.error(_error(error))
        if "shapes.calc.last" not in st.session_state:
            return
        st.caption(t("common.kept_previous"))
        values, result = st.session_state["shapes.calc.last"]
    (oh, _, _), (ow, _, _) = result["h"], result["w"]
    st.metric(t("shapes.calc.output"), f"{oh} × {ow}")
    st.latex(r"O = \left\lfloor \frac{N + 2P - D\cdot(K-1) - 1}{S} \right\rfloor + 1")
    rounds_up = values["op"] != "conv" and values["ceil"]  # the floor explanation does not apply
    for axis, (_, latex, fit) in result.items():
        st.markdown(t(f"shapes.axis.{axis}"))
        st.latex(latex)
        messages = None if rounds_up else view.fit_messages(axis, fit, lang=lang())
        if messages:
            st.warning(messages[0])
            st.markdown(messages[1])
    grid = view.grid_args(values, result)
    if grid is None:
        st.info(t("shapes.err.grid_too_large", limit=MAX_CELLS))
        return
    last = oh * ow - 1
    if st.session_state.get("shapes.calc.pos", 0) > last:
        st.session_state["shapes.calc.pos"] = last
    pos = st.slider(t("shapes.calc.position"), 0, max(last, 1), key="shapes.calc.pos", disabled=last == 0)
    pos = min(pos, last)
    fig = grid_figure(**grid, position=divmod(pos, ow), labels=view.grid_labels(lang=lang()))
    chart(st, fig, key="shapes.calc.grid", width="stretch")
    st.caption(t("shapes.grid.legend"))


def _load_preset() -> None:
    st.session_state.update(view.preset_state(st.session_state["shapes.net.preset"]))
    st.session_state["shapes.net.version"] = st.session_state.get("shapes.net.version", 0) + 1


@st.cache_data(max_entries=64, show_spinner=False)
def _verify(layers: tuple, input_shape: tuple) -> network.Verification:
    return network.verify(list(layers), input_shape)


def _network_inputs() -> tuple[list, tuple]:
    """Layers and input shape from the editor; ShapeError/LayerError on bad cells."""
    if "shapes.net.records" not in st.session_state:
        st.session_state.setdefault("shapes.net.preset", "seed_deep_cnn")
        _load_preset()
    if st.session_state.get("shapes.net.lang") != lang():  # the editor restarts in the new language, edits kept
        st.session_state["shapes.net.lang"] = lang()
        if "shapes.net.edited" in st.session_state:
            st.session_state["shapes.net.records"] = st.session_state["shapes.net.edited"]
            st.session_state["shapes.net.version"] += 1
    cols = st.columns([2, 1], vertical_alignment="bottom")
    with cols[0]:
        choice("selectbox", t("shapes.net.preset"), list(network.PRESETS), key="shapes.net.preset",
               format=_labeler("shapes.preset"), on_change=_load_preset)
    text = cols[1].text_input(t("shapes.net.input"), key="shapes.net.input", help=t("shapes.net.input_help"))
    column = st.column_config
    st.space("small")  # room for the editor's toolbar, which floats above its top edge
    edited = st.data_editor(
        pd.DataFrame(st.session_state["shapes.net.records"]), num_rows="dynamic", width="stretch", placeholder="",
        key=f"shapes.net.editor.{st.session_state['shapes.net.version']}", column_config={
            "name": column.TextColumn(t("shapes.col.name")),
            "kind": column.SelectboxColumn(t("shapes.col.kind"), options=network.LAYER_KINDS, required=True,
                                           format_func=_labeler("shapes.kind"), width=120),
            "out": column.NumberColumn(t("shapes.col.out"), step=1, help=t("shapes.col.out_help")),
            **{c: column.TextColumn(t(f"shapes.col.{c}")) for c in ("kernel", "stride", "padding", "dilation")},
            "groups": column.NumberColumn(t("shapes.col.groups"), step=1),
            "ceil_mode": column.CheckboxColumn(t("shapes.col.ceil_mode"))})
    st.session_state["shapes.net.edited"] = edited.to_dict("records")
    return view.parse_network(st.session_state["shapes.net.edited"], text, lang=lang())


def network_tab() -> None:
    try:
        layers, shape = _network_inputs()
        rows = network.summarize(layers, shape, strict=False)
        st.session_state["shapes.net.last"] = (layers, shape, rows)
    except ShapeError as error:
        st.error(_error(error))
        if st.session_state.get("shapes.net.last") is None:
            return
        st.caption(t("common.kept_previous"))
        layers, shape, rows = st.session_state["shapes.net.last"]
    number = {t(f"shapes.col.{c}"): st.column_config.NumberColumn(format="localized") for c in ("params", "macs")}
    st.dataframe(pd.DataFrame(view.summary_records(rows, lang=lang())), key="shapes.net.table", hide_index=True,
                 width="stretch", placeholder="", column_config=number)
    broken = view.row_error_message(rows[-1], lang=lang())
    if broken:
        st.error(broken)
    for col, (label, value) in zip(st.columns(3), view.network_metrics(rows, lang=lang())):
        col.metric(label, value)
    for name, latex in view.floored_formulas(rows, layers):
        st.info(t("shapes.net.floored", name=name))
        st.latex(latex)
    if not broken:
        level, message = view.verification_message(_verify(tuple(layers), shape), lang=lang())
        getattr(st, level)(message)
    for col, (label, data, file_name, mime, key) in zip(st.columns(3), view.export_files(rows, lang=lang())):
        col.download_button(label, data, file_name, mime, key=key)


@st.cache_data(show_spinner=False)
def _stack_check(layers: int) -> tuple[int, int]:
    return shapes_compare.torch_stack_check(layers)


def compare_tab() -> None:
    st.subheader(t("shapes.cmp.connect_title"))
    cols = st.columns(4)
    sizes = {f: col.number_input(t(f"shapes.cmp.{f}"), min_value=1, max_value=10**6, value=v, step=1,
                                 key=f"shapes.cmp.{f}")
             for col, (f, v) in zip(cols, view.CONNECTIVITY_SIZES.items())}
    for col, (label, value) in zip(st.columns(3), view.connectivity_metrics(sizes, lang=lang())):
        col.metric(label, value)
    st.subheader(t("shapes.cmp.fc_title"))
    st.latex(shapes_compare.fc_net_latex((256, 100, 26)))
    st.subheader(t("shapes.cmp.conv_title"))
    st.latex(shapes_compare.conv_layer_latex())
    st.subheader(t("shapes.cmp.stack_title"))
    checks = {n: _stack_check(n) for n in view.STACK_DEPTHS}
    st.dataframe(pd.DataFrame(view.stack_records(checks, lang=lang())), key="shapes.cmp.stack", hide_index=True)
    st.caption(t("shapes.cmp.stack_note"))


def quiz_tab() -> None:
    seed_text = st.text_input(t("shapes.quiz.seed"), value="2024", key="shapes.quiz.seed",
                              help=t("shapes.quiz.seed_help"))
    try:
        seed = sizes.parse_int(seed_text, t("shapes.quiz.seed"))
        questions = quiz.make_quiz(seed)
    except ShapeError as error:
        st.error(_error(error))
        return
    with st.form(key="shapes.quiz.form"):
        for i, q in enumerate(questions):
            st.markdown(f"**{i + 1}.** " + quiz.prompt_text(q, lang=lang()))
            st.text_input(t("shapes.quiz.answer"), key=f"shapes.quiz.answer.{seed}.{i}")
        if st.form_submit_button(t("shapes.quiz.check"), key="shapes.quiz.check"):
            st.session_state["shapes.quiz.checked"] = seed
    if st.session_state.get("shapes.quiz.checked") != seed:
        return
    answers = [st.session_state.get(f"shapes.quiz.answer.{seed}.{i}", "") for i in range(len(questions))]
    feedback, score = view.quiz_feedback(questions, answers, lang=lang())
    for level, message, formula in feedback:
        getattr(st, level)(message)
        if formula:
            st.latex(formula)
    st.metric(t("shapes.quiz.score"), f"{score} / {len(questions)}")


def main() -> None:
    through_app()
    st.title(t("shapes.title"))
    st.markdown(t("shapes.intro"))
    tabs = st.tabs([t(f"shapes.tab.{k}") for k in TABS])
    for tab, body in zip(tabs, (calculator_tab, network_tab, compare_tab, quiz_tab)):
        with tab:
            body()


main()
