"""Backprop stepper: the lecture's 6x6 toy CNN, forward and backward, one step at a time; backprop to a
convolution's input (full convolution with the rotated kernel); the symbolic view of a shared weight."""

from __future__ import annotations

import streamlit as st

from explorer.backprop import input_grad as ig
from explorer.backprop import plots, view
from explorer.backprop import symbolic as sy
from explorer.backprop import toy as bp
from explorer.core import links
from explorer.core.i18n import translate
from explorer.core.session import chart, choice, get, lang, lesson_link, t, tabs, through_app

NS = "backprop"
SHAPES = {"X": (6, 6), "W1": (3, 3), "W2": (1, 4)}
NUMBERS = {"y": 1.0, "lr": 1.0}
SOURCES = ("lecture", "random", "mnist")
EXPORTS = {"md": ("backprop.md", "text/markdown"), "csv": ("backprop.csv", "text/csv")}  # file, MIME
CHOICES = {"activation": bp.ACTIVATIONS, "pooling": bp.POOLINGS, "update": bp.UPDATES}
TABS = ("stepper", "input", "symbolic")
SYMBOLIC = {"h": (3, sy.MAX_INPUT), "w": (3, sy.MAX_INPUT), "kh": (2, sy.MAX_KERNEL), "kw": (2, sy.MAX_KERNEL)}


def _lecture_state() -> dict:
    ex = bp.toy_example()
    state = {f"{NS}.{n}_text": bp.format_matrix(ex[n].reshape(SHAPES[n])) for n in SHAPES}
    return state | {f"{NS}.{n}": v for n, v in NUMBERS.items()} | {f"{NS}.{n}": c[0] for n, c in CHOICES.items()}


def _labels(prefix: str):
    """format_func for options: bound to this run's language (AppTest calls it outside the run)."""
    code = lang()
    return lambda value: translate(f"{prefix}.{value}", code)


def _reset() -> None:
    st.session_state.update(_lecture_state())


def _load_x() -> None:
    source = st.session_state[f"{NS}.source"]
    if source == "lecture":
        X = bp.toy_example()["X"]
    elif source == "random":
        X = bp.random_input(st.session_state[f"{NS}.seed"])
    else:
        from explorer.core.data import load_mnist

        try:
            images = load_mnist("test", download=False).images
            index = min(int(st.session_state[f"{NS}.mnist_index"]), len(images) - 1)
            X = bp.mnist_crop(images[index].numpy(), row=st.session_state[f"{NS}.crop_row"],
                              col=st.session_state[f"{NS}.crop_col"])
        except Exception as err:  # missing/damaged data: say so (no paths, no traceback), keep X
            st.session_state[f"{NS}.load_error"] = type(err).__name__
            return
    st.session_state[f"{NS}.X_text"] = bp.format_matrix(X)


def _inputs() -> dict:
    """Widgets for X, W1, W2, y, lr and options; returns the last valid set."""
    for key, value in _lecture_state().items():
        st.session_state.setdefault(key, value)
    valid = get(f"{NS}.valid", lambda: {**bp.toy_example(), **{n: c[0] for n, c in CHOICES.items()}})
    with st.expander(t("backprop.inputs"), expanded=True):
        c_x, c_w, c_src = st.columns([3, 2, 2])
        texts = {"X": c_x.text_area(t("backprop.x_label"), key=f"{NS}.X_text", height=170,
                                    help=t("backprop.matrix_help")),
                 "W1": c_w.text_area(t("backprop.w1_label"), key=f"{NS}.W1_text", height=100),
                 "W2": c_w.text_area(t("backprop.w2_label"), key=f"{NS}.W2_text", height=68)}
        c_y, c_lr, *c_opts = st.columns([1, 1, 2, 2, 2])
        y = c_y.number_input(t("backprop.y_label"), key=f"{NS}.y", format="%g", step=0.1)
        lr = c_lr.number_input(t("backprop.lr_label"), key=f"{NS}.lr", format="%g", min_value=0.0, step=0.1)
        opts = {name: choice("radio", t(f"backprop.{name}"), choices, key=f"{NS}.{name}", horizontal=True,
                              format=_labels(f"backprop.{name}"), where=col)
                for col, (name, choices) in zip(c_opts, CHOICES.items())}
        source = choice("selectbox", t("backprop.x_source"), SOURCES, key=f"{NS}.source",
                        format=_labels("backprop.source"), where=c_src)
        if source == "random":
            c_src.number_input(t("backprop.seed"), 0, 2**31 - 1, 0, key=f"{NS}.seed")
        elif source == "mnist":
            c_src.number_input(t("backprop.mnist_index"), 0, 9999, 0, key=f"{NS}.mnist_index")
            c_src.slider(t("backprop.crop_row"), 0, 22, 11, key=f"{NS}.crop_row")
            c_src.slider(t("backprop.crop_col"), 0, 22, 11, key=f"{NS}.crop_col")
        with st.container(horizontal=True):  # buttons as wide as their text
            st.button(t("backprop.load"), key=f"{NS}.load", on_click=_load_x, icon=":material/input:")
            st.button(t("backprop.reset"), key=f"{NS}.reset", on_click=_reset, icon=":material/restart_alt:")
    if reason := st.session_state.pop(f"{NS}.load_error", None):
        st.error(t("backprop.error.mnist", reason=reason))
    try:
        mats = {n: bp.parse_matrix(texts[n], name=n, shape=SHAPES[n]) for n in SHAPES}
    except bp.BackpropInputError as err:
        st.error(f'{t("common.error_prefix")}: {t(err.key, **err.params)}')
        st.caption(t("common.kept_previous"))
        return valid
    valid.update(X=mats["X"], W1=mats["W1"], W2=mats["W2"].reshape(-1), y=y, lr=lr, **opts)
    return valid


def _stepper(inputs: dict, total: int) -> None:
    key = f"{NS}.step"
    if st.session_state.get(f"{NS}.play") and st.session_state[key] < total:
        st.session_state[key] += 1
    with st.container(horizontal=True, vertical_alignment="bottom"):  # buttons as wide as their text
        st.button(t("backprop.prev"), key=f"{NS}.prev", icon=":material/chevron_left:",
                  on_click=lambda: st.session_state.update({key: max(1, st.session_state[key] - 1)}))
        st.button(t("backprop.next"), key=f"{NS}.next", icon=":material/chevron_right:",
                  on_click=lambda: st.session_state.update({key: min(total, st.session_state[key] + 1)}))
        n = st.slider(t("backprop.step_slider"), 1, total, key=key)
    c_focus, c_weight = st.columns(2)
    focus = c_focus.select_slider(t("backprop.focus"), range(16), key=f"{NS}.focus",
                                  format_func=lambda i: f"({i // 4}, {i % 4})")
    weight = c_weight.select_slider(t("backprop.weight"), range(9), key=f"{NS}.weight",
                                    format_func=lambda i: f"({i // 3}, {i % 3})")
    wt = bp.walkthrough(**inputs, focus=divmod(focus, 4), weight=divmod(weight, 3))
    step = wt.steps[n - 1]
    st.caption(t("backprop.step_of", n=n, total=total, phase=t(f"backprop.phase.{step.phase}")))
    st.subheader(t(step.name_key))
    chart(st, plots.network_figure(step.id, step.phase), key=f"{NS}.network", config={"displayModeBar": False})
    st.latex(step.formula)
    st.markdown(t(step.explain_key))
    if step.id in ("pool", "unpool") and inputs["pooling"] == "max":
        st.info(t("backprop.ties_note"))
    with st.container(horizontal=True, gap="medium"):  # grids as wide as their cells, wrapping when needed
        for i, (name, arr) in enumerate(step.arrays.items()):
            fig = plots.grid_figure(arr, title=name, highlight=step.highlight.get(name))
            chart(st, fig, key=f"{NS}.grid.{i}", config={"displayModeBar": False}, width="content")


def _show(blocks: list) -> None:
    """Draw a view (`explorer.backprop.view`) in order; PyTorch code goes into an expander."""
    for kind, body in blocks:
        if kind == "figures":
            with st.container(horizontal=True, gap="medium"):  # grids as wide as their cells, wrapping
                for fig, key in body:
                    chart(st, fig, key=key, config={"displayModeBar": False}, width="content")
        elif kind == "code" and body.startswith("import torch"):
            with st.expander(t("backprop.code")):
                st.code(body, language="python")
        elif kind == "code":
            st.code(body, language=None)
        else:
            getattr(st, kind)(body)


def _error(err: bp.BackpropInputError) -> None:
    st.error(f'{t("common.error_prefix")}: {t(err.key, **err.params)}')
    st.caption(t("common.kept_previous"))


def _position(label: str, n: int, key: str) -> int:
    """A 1..n slider kept inside 1..n when n shrinks."""
    if not 1 <= st.session_state.get(key, 1) <= n:
        st.session_state[key] = 1
    return st.slider(label, 1, max(n, 2), key=key, disabled=n < 2)


def _input_tab() -> None:
    st.markdown(t("backprop.ig.intro"))
    c1, c2, c3, c4 = st.columns([2, 2, 1, 2])
    with c1:
        name = choice("selectbox", t("backprop.ig.example"), list(ig.EXAMPLES), key=f"{NS}.ig.example",
                      format=_labels("backprop.ig.example"))
    x0, w0, s0, p0 = ig.EXAMPLES[name]
    x_text = c1.text_area(t("backprop.ig.x"), bp.format_matrix(x0), key=f"{NS}.ig.x.{name}", height=150)
    w_text = c2.text_area(t("backprop.ig.w"), bp.format_matrix(w0), key=f"{NS}.ig.w.{name}", height=100)
    stride = c3.number_input(t("backprop.ig.stride"), 1, ig.MAX_STRIDE, s0, key=f"{NS}.ig.stride.{name}")
    padding = c3.number_input(t("backprop.ig.padding"), 0, ig.MAX_PADDING, p0, key=f"{NS}.ig.padding.{name}")
    own = c4.toggle(t("backprop.ig.own_delta"), key=f"{NS}.ig.own.{name}", help=t("backprop.ig.own_help"))
    d_text = c4.text_area(t("backprop.ig.delta_text"), "1 2\n3 4", key=f"{NS}.ig.delta.{name}", height=100,
                          disabled=not own)
    try:
        st.session_state[f"{NS}.ig.valid"] = ig.setting(x_text, w_text, d_text if own else None,
                                                        stride=int(stride), padding=int(padding))
    except bp.BackpropInputError as err:
        _error(err)
    setting = get(f"{NS}.ig.valid", lambda: ig.setting(bp.format_matrix(x0), bp.format_matrix(w0), None,
                                                         stride=s0, padding=p0))
    step = _position(t("backprop.ig.step"), setting.cells, f"{NS}.ig.step")
    _show(view.input_grad_view(setting, step=step - 1, lang=lang()))
    with st.expander(t("backprop.pool.title")):
        _show(view.pooling_view(lang=lang()))


def _symbolic_tab() -> None:
    st.markdown(t("backprop.sym.intro"))
    cols = st.columns(4)
    sizes = {n: int(col.number_input(t(f"backprop.sym.{n}"), 1, hi, value, key=f"{NS}.sym.{n}"))
             for col, (n, (value, hi)) in zip(cols, SYMBOLIC.items())}
    try:
        st.session_state[f"{NS}.sym.valid"] = sy.layout(**sizes)
    except bp.BackpropInputError as err:
        _error(err)
    lay = get(f"{NS}.sym.valid", lambda: sy.layout(3, 3, 2, 2))
    c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
    pairs = {"weight": (lay.kh, lay.kw), "cell": (lay.h, lay.w)}
    picked = {n: divmod(c.select_slider(t(f"backprop.sym.{n}"), range(a * b), key=f"{NS}.sym.{n}.{a}x{b}",
                                        format_func=lambda i, b=b: f"({i // b + 1}, {i % b + 1})"), b)
              for c, (n, (a, b)) in zip((c1, c2), pairs.items())}  # 0-based (row, col) of a flat index
    ones = c3.toggle(t("backprop.sym.ones"), value=True, key=f"{NS}.sym.ones", help=t("backprop.sym.ones_help"))
    _show(view.symbolic_view(lay, **{n: (i + 1, j + 1) for n, (i, j) in picked.items()}, ones=ones, lang=lang()))


def _stepper_tab() -> None:
    st.markdown(t("backprop.intro"))
    if st.session_state.pop(f"{NS}.stop_play", False):
        st.session_state[f"{NS}.play"] = False
    inputs = _inputs()
    wt = bp.walkthrough(**inputs)
    st.markdown(t("backprop.in_use", loss=f"{wt.loss:.4f}", after=f"{wt.loss_after_update:.4f}"))
    for key, params in wt.warnings:
        st.warning(t(key, **params))
    total = len(wt.steps)
    st.session_state.setdefault(f"{NS}.step", 1)
    playing = st.toggle(t("backprop.play"), key=f"{NS}.play")
    if playing and st.session_state[f"{NS}.step"] >= total:
        st.session_state[f"{NS}.step"] = 1

    @st.fragment(run_every=1.5 if playing else None)
    def stepper() -> None:
        _stepper(inputs, total)
        if playing and st.session_state[f"{NS}.step"] >= total:
            st.session_state[f"{NS}.stop_play"] = True
            st.rerun()

    stepper()
    with st.expander(t("backprop.verify")):
        st.caption(t("backprop.verify_caption"))
        diffs = {t("backprop.verify.torch", name=k): v for k, v in bp.verify_with_torch(wt).items()}
        diffs |= {t("backprop.verify.fd", name=k): v for k, v in bp.finite_difference(wt).items()}
        if max(diffs.values()) < 1e-6:
            st.success(t("backprop.verify_ok"))
        else:
            st.warning(t("backprop.verify_bad"))
        st.dataframe({t("backprop.verify_quantity"): list(diffs),
                      t("backprop.verify_diff"): [f"{v:.2e}" for v in diffs.values()]},
                     key=f"{NS}.verify_table", hide_index=True)
    with st.expander(t("backprop.ksteps")):
        k = st.slider(t("backprop.k_label"), 1, 200, 20, key=f"{NS}.k")
        hist = bp.train_steps(inputs["X"], inputs["W1"], inputs["W2"], inputs["y"], lr=inputs["lr"], k=k,
                              activation=inputs["activation"], pooling=inputs["pooling"],
                              update=inputs["update"])
        st.caption(t("backprop.k_caption"))
        if hist.diverged_at is not None:
            st.warning(t("backprop.warn.diverged", step=hist.diverged_at))
        if (rise := bp.first_increase(hist.losses)) is not None:
            st.warning(t("backprop.warn.k_increased", step=rise, before=f"{hist.losses[rise - 1]:.4g}",
                         after=f"{hist.losses[rise]:.4g}"))
        chart(st, plots.loss_figure(hist.losses, x_title=t("backprop.plot.step"), y_title=t("backprop.plot.loss")),
              key=f"{NS}.loss_plot")
    with st.expander(t("backprop.export")):
        names = {s.id: t(s.name_key) for s in wt.steps}
        c_md, c_csv = st.columns(2)
        handout = bp.to_markdown(wt, names=names, title=t("backprop.title"), summary=t("backprop.intro"))
        c_md.download_button(t("common.download_md"), handout, *EXPORTS["md"], key=f"{NS}.md")
        c_csv.download_button(t("common.download_csv"), bp.to_csv(wt), *EXPORTS["csv"], key=f"{NS}.csv")


def link_fields() -> list[links.Field]:
    """The settings a teacher's link can set: /backprop?step=12&pooling=avg."""
    total = len(bp.walkthrough(**bp.toy_example()).steps)  # the same for every option
    return [links.Field("tab", f"{NS}.tab", links.one_of(TABS)),
            links.Field("step", f"{NS}.step", links.whole(1, total)),
            *(links.Field(name, f"{NS}.{name}", links.one_of(options)) for name, options in CHOICES.items()),
            links.Field("lr", f"{NS}.lr", links.number(0.0, 100.0)),
            links.Field("focus", f"{NS}.focus", links.whole(0, 15)),
            links.Field("weight", f"{NS}.weight", links.whole(0, 8))]


def main() -> None:
    through_app()
    st.title(t("backprop.title"))
    lesson_link(link_fields(), page=NS)
    bodies = dict(zip(TABS, (_stepper_tab, _input_tab, _symbolic_tab)))
    for name, tab in tabs(TABS, key=f"{NS}.tab", format=lambda k: t(f"backprop.tab.{k}")).items():
        if tab.open:
            with tab:
                bodies[name]()


main()
