"""Fully connected networks, the lectures' other half: backprop in matrix form step by step, the homework's MLP
trained live, activations and the vanishing gradient, why a nonlinearity, losses, FC vs CNN on shifted digits."""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

from explorer import fc
from explorer.core import links
from explorer.core.data import load_embedded, load_mnist
from explorer.core.figures import SIGNED_LEGEND_KEY
from explorer.core.i18n import UserError
from explorer.core.session import chart, choice, lang, lesson_link, run_job, t, tabs, through_app
from explorer.core.workers import Results
from explorer.fc import plots, view
from explorer.training import Runner
from explorer.training import plots as training_plots
from explorer.training.runner import controls, max_trainings
from explorer.training.worker import Data

NS = "fc"
POLL_S = 0.5  # live views refresh twice a second
RUNNER, DATA, SHIFT_DATA = f"{NS}.runner", f"{NS}.data", f"{NS}.shift_data"  # tests inject small data
SHIFT = f"{NS}.shift"  # the settings FC vs CNN was last asked to run with
PLAIN = {"config": {"displayModeBar": False}}
SHRINK_SIZES = (2, 4, 5, 7)  # side of a shrunk digit the stepper offers (D = side², at most 49)
EXPORTS = {"md": ("fc_backprop.md", "text/markdown"), "csv": ("fc_backprop.csv", "text/csv")}  # file, MIME
SHAPES_PAGE = "pages/shapes.py"


def _label(prefix: str):
    return lambda value: t(f"{prefix}.{value}")


def _refused(err: UserError) -> None:
    st.error(view.error_text(err, lang=lang()))
    st.caption(t("common.kept_previous"))


def _kept(key: str, compute):
    """``compute()`` remembered under ``key``; when it refuses the input, the message and the last good value."""
    try:
        st.session_state[key] = compute()
    except UserError as err:
        _refused(err)
    return st.session_state.get(key)


@st.cache_resource
def _shared() -> Results:
    """Pure, seeded computations (the activation lab's measurements), computed once for every session."""
    return Results(size=64)


# ---------------------------------------------------------------- 1. the matrix stepper


def _load_example() -> None:
    layers = st.session_state.get(f"{NS}.layers", 2)
    ex = fc.default_batch(layers=layers, n=st.session_state.get(f"{NS}.n", 4),
                          size=st.session_state.get(f"{NS}.size", 4), seed=st.session_state.get(f"{NS}.seed", 0))
    st.session_state.update({f"{NS}.text.{k}": v for k, v in view.example_texts(ex).items()})
    st.session_state.update({f"{NS}.act{l}": a for l, a in enumerate(ex.activations, start=1)} | {f"{NS}.example": ex})


def _move(delta: int, total: int) -> None:
    st.session_state[f"{NS}.step"] = min(total, max(1, st.session_state[f"{NS}.step"] + delta))


def _stepper_inputs():
    if f"{NS}.text.X" not in st.session_state:
        _load_example()
    with st.expander(t("fc.stepper.inputs"), expanded=True):
        c = st.columns(3)
        layers = choice("segmented_control", t("fc.stepper.layers"), view.LAYERS, key=f"{NS}.layers", where=c[0],
                        format=lambda n: t("fc.stepper.layers_n", n=n), on_change=_load_example)
        acts = tuple(choice("selectbox", t("fc.stepper.activation", l=l), fc.ACTIVATIONS, key=f"{NS}.act{l}",
                            format=_label("fc.activation"), where=c[l]) for l in range(1, layers))
        c = st.columns(3)
        c[0].number_input(t("fc.stepper.n"), 1, 10, 4, key=f"{NS}.n")
        c[1].select_slider(t("fc.stepper.size"), SHRINK_SIZES, 4, key=f"{NS}.size", format_func=lambda s: f"{s}×{s}")
        c[2].number_input(t("fc.stepper.seed"), 0, 9999, 0, key=f"{NS}.seed")
        st.button(t("fc.stepper.load"), key=f"{NS}.load", on_click=_load_example, icon=":material/input:")
        c = st.columns([4, 1])
        c[0].text_area(t("fc.stepper.x_label"), key=f"{NS}.text.X", height=130, help=t("fc.stepper.matrix_help"))
        c[1].text_input(t("fc.stepper.t_label"), key=f"{NS}.text.t", help=t("fc.stepper.t_help"))
        c = st.columns(layers)
        for l in range(1, layers + 1):
            c[l - 1].text_area(t("fc.stepper.w_label", l=l), key=f"{NS}.text.W{l}", height=200)
            c[l - 1].text_input(t("fc.stepper.b_label", l=l), key=f"{NS}.text.b{l}")
        c = st.columns(2)
        focus = (c[0].number_input(t("fc.stepper.focus_row"), 0, 63, 0, key=f"{NS}.focus_row"),
                 c[1].number_input(t("fc.stepper.focus_col"), 0, 783, 0, key=f"{NS}.focus_col"))
    texts = {n: st.session_state.get(f"{NS}.text.{n}", "") for n in view.matrix_names(layers)}
    return _kept(f"{NS}.valid", lambda: fc.mlp_step(*view.parse_inputs(texts, layers=layers), activations=acts,
                                                    focus=focus))


@st.fragment
def _walk(result) -> None:
    """Previous / Next / slider through the steps: only this part reruns on a click."""
    total, key = len(result.steps), f"{NS}.step"
    st.session_state[key] = min(max(1, st.session_state.get(key, 1)), total)
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.button(t("fc.stepper.prev"), key=f"{NS}.prev", icon=":material/chevron_left:", on_click=_move,
                  args=(-1, total))
        st.button(t("fc.stepper.next"), key=f"{NS}.next", icon=":material/chevron_right:", on_click=_move,
                  args=(1, total))
        n = st.slider(t("fc.stepper.step"), 1, total, key=key)
    step, layers = result.steps[n - 1], result.options["layers"]
    st.caption(view.step_caption(n, total, step, lang=lang()))
    st.subheader(view.step_title(step, lang=lang()))
    chart(st, plots.chain_figure(layers, plots.lit_nodes(list(step.arrays), layers), step.phase), key=f"{NS}.chain",
          **PLAIN)
    st.code(step.code, language="python")
    st.latex(step.formula)
    st.latex(step.detail)
    st.markdown(t(step.explain_key, **step.params))
    if view.shows_b1_note(step, result):
        st.info(t("fc.note.b1_typo"))
    with st.container(horizontal=True, gap="medium"):
        for i, (name, arr) in enumerate(step.arrays.items()):
            chart(st, plots.grid_figure(arr, title=view.grid_title(step, name), highlight=step.highlight.get(name)),
                  key=f"{NS}.grid.{i}", width="content", **PLAIN)
    st.caption(t(SIGNED_LEGEND_KEY))


def stepper_tab() -> None:
    st.markdown(t("fc.stepper.intro"))
    result = _stepper_inputs()
    ex = st.session_state.get(f"{NS}.example")
    if ex is not None and ex.X.shape == result.tensors["X"].shape and (ex.X == result.tensors["X"]).all():
        st.caption(t("fc.example", **ex.text_params))
        chart(st, plots.digits_figure(ex.images, ex.thumbnails, ex.labels, caption=t("fc.stepper.digit")),
              key=f"{NS}.digits", **PLAIN)
    st.markdown(view.summary_text(result, lang=lang()))
    for text in view.warning_texts(result, lang=lang()):
        st.warning(text)
    _walk(result)
    inputs = (result.options["activations"], *((n, v.shape, v.tobytes()) for n, v in result.tensors.items()
                                               if n in ("X", "t") or n in result.grads))
    if st.session_state.get(f"{NS}.verified", (None,))[0] != inputs:  # autograd once per new input, not per click
        st.session_state[f"{NS}.verified"] = (inputs, fc.verify_summary(result))
    ok, line = view.verify_line(st.session_state[f"{NS}.verified"][1], lang=lang())
    (st.success if ok else st.warning)(line)
    with st.expander(t("fc.stepper.descent")):
        c = st.columns(2)
        lr = c[0].number_input(t("fc.stepper.lr"), 0.001, 100.0, 0.5, key=f"{NS}.lr", format="%g")
        k = c[1].slider(t("fc.stepper.k"), 1, 200, 20, key=f"{NS}.k")
        losses, _ = fc.loss_history(result.tensors["X"], result.tensors["t"], {k_: result.tensors[k_] for k_ in
                                    result.grads}, activations=result.options["activations"], lr=lr, steps=k)
        chart(st, plots.loss_figure(losses, x_title=t("fc.stepper.step_axis"), y_title=t("fc.stepper.loss_axis")),
              key=f"{NS}.descent_chart")
    with st.expander(t("fc.stepper.export")):
        c = st.columns(2)
        c[0].download_button(t("common.download_md"), lambda: view.handout(result, lang=lang()), *EXPORTS["md"],
                             key=f"{NS}.md", on_click="ignore")
        c[1].download_button(t("common.download_csv"), lambda: view.csv_bytes(result), *EXPORTS["csv"],
                             key=f"{NS}.csv", on_click="ignore")


# ---------------------------------------------------------------- 2. the homework's MLP, trained live


def _mnist():
    """(train, test) as the Train page has them (full MNIST or the embedded sample); tests inject small data."""
    if DATA not in st.session_state:
        with st.spinner(t("fc.train.loading")):
            st.session_state[DATA] = (load_mnist("train"), load_mnist("test"))
    return st.session_state[DATA]


def _worker_data() -> Data:
    train, test = _mnist()
    if getattr(train, "kind", None) in ("full", "embedded"):
        return Data("mnist")
    return Data("arrays", train.images, train.labels, test.images, test.labels)


def _start() -> None:
    runner, config = st.session_state.get(RUNNER), st.session_state.get(f"{NS}.hw.config")
    if config is not None and (runner is None or (config != runner.config and controls(runner).phase == "not_started")):
        if runner is not None:
            runner.stop()
        runner = st.session_state[RUNNER] = Runner(config, _worker_data())
    if runner is not None and not runner.start() and runner.queued:  # every training slot is taken
        st.session_state[f"{NS}.hw.notice"] = ("train.queued", {"n": max_trainings()})


def _reset() -> None:
    if (runner := st.session_state.pop(RUNNER, None)) is not None:
        runner.stop()


def _homework_settings():
    c = st.columns(3)
    layers = choice("segmented_control", t("fc.stepper.layers"), view.LAYERS, key=f"{NS}.hw.layers", where=c[0],
                    format=lambda n: t("fc.stepper.layers_n", n=n))
    activation = choice("selectbox", t("fc.train.activation"), view.HOMEWORK_ACTIVATIONS, key=f"{NS}.hw.activation",
                        format=_label("fc.train.activation"), where=c[1], help=t("fc.train.activation_help"))
    init = choice("selectbox", t("fc.train.init"), fc.INITS, key=f"{NS}.hw.init", format=_label("fc.init"), where=c[2],
                  help=t("fc.init.help"))
    c = st.columns(3)
    hidden = [c[l - 1].number_input(t("fc.train.hidden", l=l), 1, 1024, h, key=f"{NS}.hw.hidden{l}")
              for l, h in enumerate(view.default_hidden(layers), start=1)]
    epochs = c[layers - 1].number_input(t("fc.train.epochs"), 1, 100, 20, key=f"{NS}.hw.epochs")
    c = st.columns(3)
    numbers = dict(epochs=epochs,
                   lr=c[0].number_input(t("fc.train.lr"), 0.0, 10.0, 0.001, format="%.4f", key=f"{NS}.hw.lr"),
                   seed=c[1].number_input(t("fc.train.seed"), 0, 2**31 - 1, 777, key=f"{NS}.hw.seed"),
                   train_size=c[2].number_input(t("fc.train.size"), 0, 60000, 5000, 1000, key=f"{NS}.hw.size"))
    try:
        return view.homework_config(layers=layers, activation=activation, hidden=hidden, init=init, **numbers)
    except UserError as err:
        st.error(view.error_text(err, lang=lang()))
        return None


def _live(runner: Runner) -> None:
    runner.poll(None)
    if st.session_state.get(f"{NS}.hw.polling") and not runner.running:
        st.session_state[f"{NS}.hw.polling"] = False
        st.rerun()  # ended: one full run updates the buttons and stops the polling
    snap, c = runner.snapshot, controls(runner)
    if snap is None:  # the worker could not even build the network
        st.error(t(c.status, step=0, epochs=0, accuracy="—", error=t(runner.error.key, **runner.error.params)
                   if runner.error is not None else ""))
        return
    st.progress(snap.step / max(1, snap.total_steps), text=t("fc.train.progress", epoch=min(snap.epoch + 1, snap.epochs),
                                                               epochs=snap.epochs, step=snap.step, total=snap.total_steps))
    accuracy = f"{runner.evaluation.accuracy:.2%}" if runner.evaluation is not None else "—"
    error = t(runner.error.key, **runner.error.params) if runner.error is not None else ""
    text = t(c.status, step=snap.step, epochs=snap.epochs, accuracy=accuracy, error=error)
    {"failed": st.error, "finished": st.success, "paused": st.info}.get(c.phase, st.caption)(text)
    chart(st, training_plots.curves_figure(
        snap.history, loss_title=t("fc.train.cost"), accuracy_title=t("train.accuracy"),
        step_title=t("train.step_axis"), train_name=t("train.train_curve"),
        train_epoch_name=t("train.train_epoch_curve"), test_name=t("train.test_curve")), key=f"{NS}.hw.curves")
    if (line := view.homework_line(snap.history, lang=lang())) is not None:
        st.markdown(line)
        st.dataframe(view.homework_rows(snap.history, lang=lang()), hide_index=True, key=f"{NS}.hw.table")


def train_tab() -> None:
    st.markdown(t("fc.train.intro"))
    train, test = _mnist()
    st.caption(view.data_caption(train, test, lang=lang()))
    config = st.session_state[f"{NS}.hw.config"] = _homework_settings()
    if config is not None:
        st.caption(t("fc.train.network", net=view.architecture(config, lang=lang())))
    runner = st.session_state.get(RUNNER)
    c = controls(runner) if runner is not None else None
    changed = runner is not None and config is not None and config != runner.config
    cols = st.columns(3)
    cols[0].button(t(c.start_label if c else "train.start"), key=f"{NS}.hw.start", type="primary", width="stretch",
                   disabled=config is None or (c is not None and not c.start_enabled), on_click=_start)
    cols[1].button(t("train.pause"), key=f"{NS}.hw.pause", width="stretch", disabled=not (c and c.pause_enabled),
                   on_click=lambda: st.session_state[RUNNER].pause())
    cols[2].button(t("train.reset"), key=f"{NS}.hw.reset", width="stretch",
                   disabled=not (c and (c.reset_enabled or changed)), on_click=_reset)
    if notice := st.session_state.pop(f"{NS}.hw.notice", None):
        st.warning(t(notice[0], **notice[1]))
    if changed and c.phase != "not_started":
        st.info(t("train.pending_changes"))
    st.markdown(t("fc.homework.lecture"))
    st.caption(t("fc.train.data_differs"))
    if runner is None:
        st.caption(t("fc.train.not_started"))
        return
    st.session_state[f"{NS}.hw.polling"] = runner.running
    st.fragment(run_every=POLL_S if runner.running else None, key=f"{NS}.hw.live")(_live)(runner)


# ---------------------------------------------------------------- 3. activation lab


def activations_tab() -> None:
    st.markdown(t("fc.act.intro"))
    names = {n: t(f"fc.activation.{n}") for n in fc.FUNCTIONS}
    chart(st, plots.activation_figure(fc.curves(), names=names, f_title=t("fc.act.f"), df_title=t("fc.act.df"),
                                      z_title="z"), key=f"{NS}.act.curves")
    st.subheader(t("fc.act.deep"))
    st.markdown(t("fc.vanishing.explain"))
    c = st.columns(2) + st.columns(2, vertical_alignment="bottom")
    settings = dict(depth=c[0].slider(t("fc.act.depth"), 1, 20, 10, key=f"{NS}.act.depth"),
                    init=choice("selectbox", t("fc.train.init"), fc.INITS, key=f"{NS}.act.init",
                                format=_label("fc.init"), where=c[1], help=t("fc.init.help")),
                    steps=c[2].slider(t("fc.act.steps"), 0, 20, 5, key=f"{NS}.act.steps"),
                    batchnorm=c[3].toggle(t("fc.act.batchnorm"), key=f"{NS}.act.batchnorm"))
    st.caption(f'{t("fc.act.setup")} {view.chain_text(settings["depth"], lang=lang())}')
    profiles = run_job((NS, "vanish", *settings.items()), fc.compare_profiles, store=_shared(), **settings)
    if profiles is not None:
        chart(st, plots.gradient_figure(
            profiles, names=names, step=settings["steps"], layer_title=t("fc.act.layer"), norm_title=t("fc.act.norm"),
            at_init=t("fc.act.at_init"), after=t("fc.act.after")), key=f"{NS}.act.norms")
        st.dataframe(view.profile_rows(profiles, step=settings["steps"], lang=lang()), hide_index=True,
                     key=f"{NS}.act.table")


# ---------------------------------------------------------------- 4. why a nonlinearity


@st.cache_data(max_entries=32, show_spinner=False)
def _toy(toy: str, hidden: int):
    return fc.compare_toy(toy, hidden=hidden)


def nonlinear_tab() -> None:
    st.markdown(t("fc.collapse.explain"))
    for name, text in view.collapse_texts(fc.collapse_example()).items():
        st.session_state.setdefault(f"{NS}.col.{name}", text)
    c = st.columns(3)
    texts = {n: c[i].text_area(t(f"fc.collapse.{n}"), key=f"{NS}.col.{n}", height=110)
             for i, n in enumerate(("W1", "W2", "x"))}
    result = _kept(f"{NS}.col.valid", lambda: fc.collapse(**view.parse_collapse(texts)))
    for line in view.collapse_latex(result):
        st.latex(line)
    st.markdown(view.collapse_verdict(result, lang=lang()))
    st.subheader(t("fc.toy.title"))
    c = st.columns(2)
    toy = choice("segmented_control", t("fc.toy.label"), fc.TOYS, key=f"{NS}.toy", format=_label("fc.toy"), where=c[0])
    hidden = c[1].select_slider(t("fc.toy.hidden"), (4, 8, 16, 32), 16, key=f"{NS}.toy.hidden")
    comparison = _toy(toy, hidden)
    chart(st, plots.toy_figure(comparison, titles=view.toy_titles(comparison, lang=lang()),
                               class_names=[t("fc.toy.class", k=k) for k in (0, 1)]), key=f"{NS}.toy.chart")
    st.markdown(t("fc.toy.explain"))


# ---------------------------------------------------------------- 5. losses


def _scores():
    """(scores, true class) of the bundled CNN on an embedded test digit, or typed ones."""
    source = choice("segmented_control", t("fc.loss.source"), ("real", "typed"), key=f"{NS}.loss.source",
                    format=_label("fc.loss.source"))
    c = st.columns([1, 3])
    if source == "real":
        with st.spinner(t("fc.loss.loading")):
            wrong = fc.misclassified()
        index = c[1].number_input(t("fc.loss.index"), 0, 999, int(wrong[0]), key=f"{NS}.loss.index")
        c[1].caption(t("fc.loss.wrong", indices=", ".join(str(i) for i in wrong[:12])))
        real = fc.real_scores(index)
        chart(c[0], plots.digit_figure(real.image, title=t("fc.loss.digit", label=real.label)),
              key=f"{NS}.loss.digit", **PLAIN)
        return fc.compare_losses(real.scores, real.label)
    text = c[1].text_input(t("fc.loss.scores"), "3.2 5.1 -1.7", key=f"{NS}.loss.scores", help=t("fc.loss.scores_help"))
    label = c[0].number_input(t("fc.loss.label"), 0, 99, 0, key=f"{NS}.loss.label")
    return _kept(f"{NS}.loss.valid", lambda: fc.compare_losses(fc.parse_scores(text), label))


def losses_tab() -> None:
    st.markdown(t("fc.loss.explain"))
    cmp = _scores()
    for line in view.loss_latex(cmp):
        st.latex(line)
    st.markdown(view.loss_summary(cmp, lang=lang()))
    names = {n: t(f"fc.loss.{n}") for n in ("cross_entropy", "squared_error")}
    chart(st, plots.scores_figure(cmp, class_title=t("fc.loss.class"), p_title=t("fc.loss.p"),
                                  grad_title=t("fc.loss.grad"), names=names), key=f"{NS}.loss.chart")
    st.dataframe(view.loss_rows(cmp, lang=lang()), hide_index=True, key=f"{NS}.loss.table")
    st.subheader(t("fc.loss.saturation_title"))
    st.markdown(t("fc.loss.saturation_explain"))
    chart(st, plots.saturation_figure(fc.saturation(), names=names, loss_title=t("fc.loss.loss"),
                                      grad_title=t("fc.loss.dz"), z_title="z"), key=f"{NS}.loss.saturation")
    chart(st, plots.learning_figure(fc.learning_curves(), names=names, step_title=t("fc.stepper.step_axis"),
                                    output_title=t("fc.loss.output")), key=f"{NS}.loss.learning")
    st.subheader(t("fc.loss.logistic_title"))
    st.markdown(t("fc.loss.logistic_explain"))
    ex = view.LOGISTIC_EXAMPLE
    c = st.columns(5)
    x_text = c[0].text_input("x", ex["x"], key=f"{NS}.log.x")
    w_text = c[1].text_input("w", ex["w"], key=f"{NS}.log.w")
    b = c[2].number_input("b", -100.0, 100.0, ex["b"], key=f"{NS}.log.b", format="%g")
    y = c[3].number_input("y", 0, 1, ex["y"], key=f"{NS}.log.y")
    lr = c[4].number_input("α", 0.0, 10.0, ex["lr"], key=f"{NS}.log.lr", format="%g")
    step = _kept(f"{NS}.log.valid", lambda: view.logistic(x_text, w_text, y=y, b=b))
    for line in view.logistic_latex(step, lr=lr):
        st.latex(line)


# ---------------------------------------------------------------- 6. FC vs CNN on shifted digits


def _shift_data():
    if SHIFT_DATA not in st.session_state:
        st.session_state[SHIFT_DATA] = (load_embedded("train"), load_embedded("test"))
    return st.session_state[SHIFT_DATA]


def _run_shift() -> None:
    st.session_state[SHIFT] = dict(st.session_state[f"{NS}.shift.settings"])


def _draw_shift(result) -> None:
    chart(st, plots.shift_figure(result.shifts, {"mlp": result.mlp_accuracy, "cnn": result.cnn_accuracy},
                                 names={n: t(f"fc.shift.{n}") for n in ("mlp", "cnn")}, shift_title=t("fc.shift.axis"),
                                 accuracy_title=t("fc.shift.accuracy"), expected=view.EXPECTED), key=f"{NS}.shift.chart")
    st.dataframe(view.shift_rows(result, lang=lang()), hide_index=True, key=f"{NS}.shift.table")
    st.caption(view.shift_summary(result, lang=lang()))


def shift_tab() -> None:
    st.markdown(t("fc.shift.argument"))
    train, test = _shift_data()
    digit = test.images[:1]
    chart(st, plots.shifted_digits_figure([fc.shift_right(digit, s)[0, 0].numpy() for s in view.SHIFTS], view.SHIFTS,
                                          caption=t("fc.shift.moved")), key=f"{NS}.shift.digits", **PLAIN)
    st.caption(t("fc.shift.data", n_train=f"{len(train.labels):,}", n_test=f"{len(test.labels):,}"))
    c = st.columns(2)
    st.session_state[f"{NS}.shift.settings"] = dict(
        epochs=c[0].number_input(t("fc.train.epochs"), 1, 30, 15, key=f"{NS}.shift.epochs"),
        seed=c[1].number_input(t("fc.train.seed"), 0, 2**31 - 1, 777, key=f"{NS}.shift.seed"))
    st.button(t("fc.shift.run"), key=f"{NS}.shift.run", type="primary", on_click=_run_shift,
              icon=":material/play_arrow:")
    asked = st.session_state.get(SHIFT)
    if asked is None:
        st.info(view.expected_text(lang=lang()))
    elif (result := run_job((NS, "shift", len(train.labels), len(test.labels), *asked.items()), fc.fc_vs_cnn,
                            train.images, train.labels, test.images, test.labels, shifts=view.SHIFTS,
                            **asked)) is not None:
        _draw_shift(result)
    st.caption(t("fc.shift.shapes_note"))
    try:
        st.page_link(SHAPES_PAGE, label=t("fc.shift.shapes_link"), icon=":material/straighten:")
    except StreamlitAPIException:  # page run on its own (no navigation): no page to link to
        pass


def _one_of_numbers(options) -> links.Parser:
    """One of these whole numbers (a link names the option, here a number)."""
    parse = links.one_of([str(o) for o in options])
    return lambda text: int(parse(text))


def link_fields() -> list[links.Field]:
    """The settings a teacher's link can set: /fc?layers=3&n=8&seed=5, /fc?tab=activations&depth=20&init=he."""
    return [links.Field("tab", f"{NS}.tab", links.one_of(view.TABS)),
            links.Field("layers", f"{NS}.layers", _one_of_numbers(view.LAYERS)),
            links.Field("n", f"{NS}.n", links.whole(1, 10)),
            links.Field("size", f"{NS}.size", _one_of_numbers(SHRINK_SIZES)),
            links.Field("seed", f"{NS}.seed", links.whole(0, 9999)),
            links.Field("depth", f"{NS}.act.depth", links.whole(1, 20)),
            links.Field("init", f"{NS}.act.init", links.one_of(fc.INITS))]


def main() -> None:
    through_app()
    st.title(t("fc.title"))
    st.markdown(t("fc.intro"))
    linked = lesson_link(link_fields(), page=NS)
    if linked & {f"{NS}.{k}" for k in ("layers", "n", "size", "seed")}:
        _load_example()  # the stepper's batch follows the link, as after "Load"
    bodies = dict(zip(view.TABS, (stepper_tab, train_tab, activations_tab, nonlinear_tab, losses_tab, shift_tab)))
    for name, tab in tabs(view.TABS, key=f"{NS}.tab", format=lambda k: t(f"fc.tab.{k}")).items():
        if tab.open:
            with tab:
                bodies[name]()


main()
