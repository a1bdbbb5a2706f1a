"""Shapes & parameters: the output-size formula, whole-network tables checked by PyTorch, blocks and depth,
receptive fields, grouped convolutions, comparisons, a quiz; the PyTorch code of every view."""

import pandas as pd
import streamlit as st

from explorer.core import links
from explorer.core.i18n import translate
from explorer.core.session import chart, choice, lang, lesson_link, t, tabs, through_app
from explorer.shapes import alexnet, grouped, lessons, network, quiz, receptive, shared, sizes, view
from explorer.shapes import compare as shapes_compare
from explorer.shapes.plots import MAX_CELLS, grid_figure
from explorer.shapes.sizes import ShapeError

NS = "shapes"
CALC_FIELDS = ("h", "w", "kh", "kw", "stride", "dilation")
OPS = ("conv", "maxpool", "avgpool")
TABS = ("calc", "network", "blocks", "rf", "grouped", "compare", "quiz")
BLOCK_LIMITS = {"n": (1, 8), "c": (1, 512), "h": (1, 512), "w": (1, 512), "fn": (1, 512), "fh": (1, 11),
                "fw": (1, 11), "stride": (1, 8), "padding": (0, 10)}
GROUP_LIMITS = {"c_in": grouped.MAX_CHANNELS, "c_out": grouped.MAX_CHANNELS, "k": 11, "size": 512}


def _labeler(prefix: str):
    """A format_func bound to this run's language (AppTest calls it outside the session)."""
    language = lang()
    return lambda key: translate(f"{prefix}.{key}", language)


def _error(error: ShapeError) -> str:
    return view.error_message(error, lang=lang())


def _load_example(ex: sizes.Example) -> None:
    st.session_state.update(view.example_state(ex))


def _show(blocks: list) -> None:
    """Draw a view (`explorer.shapes.lessons`) in order; PyTorch code goes into a "code" expander."""
    for kind, *body in blocks:
        if kind == "figures":
            with st.container(horizontal=True, gap="medium"):
                for fig, key, config in body[0]:
                    chart(st, fig, key=key, width="content", config=config)
        elif kind == "select":  # a figure whose points can be clicked, and the figure it explains
            left, right = st.columns(2)
            chart(left, body[0], key=body[1], on_select="rerun", selection_mode="points", width="content",
                  config=lessons.NO_BAR)
            chart(right, body[2], key=f"{body[1]}.input", width="content", config=lessons.NO_BAR)
        elif kind == "table":
            st.dataframe(body[0], key=body[1], hide_index=True)
        elif kind == "metrics":
            for col, (label, value) in zip(st.columns(len(body[0])), body[0]):
                col.metric(label, value)
        elif kind == "code":
            with st.expander(t("shapes.code.title")):
                st.code(body[0], language="python")
        else:
            getattr(st, kind)(body[0])


def _kept(key: str, build) -> None:
    """Show the view ``build()`` makes, or its error and the last view that worked (kept under ``key``)."""
    try:
        st.session_state[key] = build()
    except ShapeError as error:
        st.error(_error(error))
        if key in st.session_state:
            st.caption(t("common.kept_previous"))
    if key in st.session_state:
        _show(st.session_state[key])


@st.cache_data(show_spinner=False)
def _alexnet_measured() -> dict[str, int]:
    return {v.id: alexnet.torch_output(v) for v in alexnet.VARIANTS}


def _alexnet() -> None:
    with st.expander(t("shapes.alex.title")):
        st.button(t("shapes.alex.load"), key="shapes.alex.load", on_click=_load_example,
                  args=(sizes.Example(224, 224, 11, 11, 4, 0, (54, 54)),))
        _show(lessons.alexnet_view(lang=lang(), measured=_alexnet_measured()))


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
    _alexnet()
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
    _show([("code", lessons.calc_code(values))])
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
    _show(lessons.network_view(rows, layers, shape, lang=lang()))


def blocks_tab() -> None:
    st.markdown(t("shapes.blocks.intro"))
    cols = st.columns(len(BLOCK_LIMITS))
    values = {f: int(col.number_input(t(f"shapes.blocks.{f}"), lo, hi, lessons.BLOCK_DEFAULTS[f], step=1,
                                      key=f"shapes.blocks.{f}"))
              for col, (f, (lo, hi)) in zip(cols, BLOCK_LIMITS.items())}
    _kept("shapes.blocks.last", lambda: lessons.blocks_view(values, lang=lang()))
    st.subheader(t("shapes.blocks.mix_title"))
    c1, c2 = st.columns(2)
    size = lessons.MIX_INPUT.shape[1] - 1
    row = c1.slider(t("shapes.blocks.mix_row"), 0, size, 0, key="shapes.blocks.mix_row")
    col = c2.slider(t("shapes.blocks.mix_col"), 0, size, 0, key="shapes.blocks.mix_col")
    _show(lessons.mixing_view(row, col, lang=lang()))


def _clicked(key: str) -> tuple[int, int] | None:
    """The unit clicked in chart ``key`` since the last run (each click is used once), as (row, col)."""
    state = st.session_state.get(key)
    points = (state or {}).get("selection", {}).get("points", []) if hasattr(state, "get") else []
    point = (int(points[0]["y"]), int(points[0]["x"])) if points else None
    if point == st.session_state.get(f"{key}.used"):
        return None
    st.session_state[f"{key}.used"] = point
    return point


def rf_tab() -> None:
    st.markdown(t("shapes.rf.intro"))
    c1, c2 = st.columns(2)
    with c1:
        name = choice("selectbox", t("shapes.rf.network"), list(receptive.NETWORKS), key="shapes.rf.network",
                      format=_labeler("shapes.rf.net"))
    layers = {i: (n, s) for i, n, s in receptive.spatial_layers(name)}
    with c2:
        index = choice("selectbox", t("shapes.rf.layer"), list(layers), key=f"shapes.rf.layer.{name}",
                       default=list(layers)[-1], format=lambda i: f"{layers[i][0]} ({sizes.shape_text(layers[i][1])})")
    (_, oh, ow), keys = layers[index][1], (f"shapes.rf.row.{name}.{index}", f"shapes.rf.col.{name}.{index}")
    picked = _clicked(lessons.units_key(name, index))
    for k, v, n in zip(keys, picked or (None, None), (oh, ow)):
        st.session_state[k] = v if v is not None and v < n else min(st.session_state.get(k, n // 2), n - 1)
    c1, c2 = st.columns(2)
    row, col = (c.slider(t(f"shapes.rf.{w}"), 0, max(n - 1, 1), key=k, disabled=n < 2)
                for c, w, k, n in zip((c1, c2), ("row", "col"), keys, (oh, ow)))
    _kept("shapes.rf.last", lambda: lessons.receptive_view(name, index, row, col, lang=lang()))


@st.cache_data(max_entries=64, show_spinner=False)
def _group_checks(c_in: int, c_out: int, k: int, groups: int, size: int) -> dict[str, tuple[int, int]]:
    counts = {"standard": grouped.torch_counts(c_in, c_out, k, out_h=size, out_w=size),
              "grouped": grouped.torch_counts(c_in, c_out, k, groups=groups, out_h=size, out_w=size),
              "depthwise": grouped.torch_counts(c_in, c_in, k, groups=c_in, out_h=size, out_w=size),
              "pointwise": grouped.torch_counts(c_in, c_out, 1, out_h=size, out_w=size)}
    counts["separable"] = tuple(a + b for a, b in zip(counts["depthwise"], counts["pointwise"]))
    return counts


def grouped_tab() -> None:
    st.markdown(t("shapes.grp.intro"))
    values = {f: int(col.number_input(t(f"shapes.grp.{f}"), 1, hi, lessons.GROUP_DEFAULTS[f], step=1,
                                      key=f"shapes.grp.{f}"))
              for col, (f, hi) in zip(st.columns(4), GROUP_LIMITS.items())}
    options = grouped.valid_groups(values["c_in"], values["c_out"])
    groups = 1 if len(options) < 2 else choice(
        "select_slider", t("shapes.grp.groups"), options, key="shapes.grp.groups", default=1,
        format=lambda g: lessons.group_label(g, values["c_in"], values["c_out"], lang=lang()))
    checks = _group_checks(values["c_in"], values["c_out"], values["k"], groups, values["size"])
    _kept("shapes.grp.last", lambda: lessons.grouped_view(values, groups, lang=lang(), checks=checks))


@st.cache_data(show_spinner=False)
def _stack_check(layers: int) -> tuple[int, int]:
    return shapes_compare.torch_stack_check(layers)


def compare_tab() -> None:
    st.subheader(t("shapes.shared.title"))
    cols = st.columns(4)
    n, k, stride, selected = (int(col.number_input(t(f"shapes.shared.{f}"), lo, hi, v, key=f"shapes.shared.{f}"))
                              for col, (f, lo, hi, v) in zip(cols, (("n", 1, shared.MAX_INPUT, 5),
                                                                     ("k", 1, shared.MAX_KERNEL, 3),
                                                                     ("stride", 1, 3, 1), ("output", 1, 49, 5))))
    _kept("shapes.shared.last", lambda: lessons.shared_view(n, k, stride, selected, lang=lang()))
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


def _padding(text: str) -> str:
    """A linked padding: "same" or a whole number, as typed in the calculator."""
    if text.strip().lower() == "same":
        return "same"
    try:
        return str(links.whole(0, 64)(text))
    except links.LinkError:
        raise links.LinkError("shapes.link.padding", low=0, high=64) from None


def link_fields() -> list[links.Field]:
    """The settings a teacher's link can set: /shapes?preset=alexnet, /shapes?h=32&kh=5&stride=2&padding=same."""
    limits = {"h": (1, 4096), "w": (1, 4096), "kh": (1, 64), "kw": (1, 64), "stride": (1, 64), "dilation": (1, 16)}
    return [links.Field("tab", "shapes.tab", links.one_of(TABS)),
            links.Field("preset", "shapes.net.preset", links.one_of(list(network.PRESETS))),
            *(links.Field(name, f"shapes.calc.{name}", links.whole(*limits[name])) for name in CALC_FIELDS),
            links.Field("padding", "shapes.calc.padding", _padding),
            links.Field("op", "shapes.calc.op", links.one_of(OPS)),
            links.Field("ceil", "shapes.calc.ceil", links.flag())]


def main() -> None:
    through_app()
    st.title(t("shapes.title"))
    st.markdown(t("shapes.intro"))
    linked = lesson_link(link_fields(), page="shapes")
    if "shapes.net.preset" in linked:
        _load_preset()  # a linked preset fills the network table, as choosing it does
        if "shapes.tab" not in linked:
            st.session_state["shapes.tab"] = "network"
    bodies = dict(zip(TABS, (calculator_tab, network_tab, blocks_tab, rf_tab, grouped_tab, compare_tab, quiz_tab)))
    for name, tab in tabs(TABS, key="shapes.tab", format=lambda k: t(f"shapes.tab.{k}")).items():
        if tab.open:
            with tab:
                bodies[name]()


main()
