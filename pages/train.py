"""Train MNIST live: the lectures' CNN learns in a worker process while curves, filters and feature maps
update here."""

from __future__ import annotations

import streamlit as st

from explorer.core import links
from explorer.core.data import load_mnist
from explorer.core.figures import SIGNED_LEGEND_KEY, clicked_point
from explorer.core.models import MODELS
from explorer.core.session import chart, choice, lesson_link, t, through_app
from explorer.interpret import confusion_cell
from explorer.training import (
    CheckpointError,
    Runner,
    TrainConfig,
    TrainingError,
    load_checkpoint,
    plots,
    save_checkpoint,
)
from explorer.training.config import OPTIMIZERS, SCHEDULES
from explorer.training.runner import controls, max_trainings
from explorer.training.worker import Data

NS = "train"
POLL_S = 0.5  # live view refresh: 2 Hz (also the worker's heartbeat)
RUNNER, DATA, WATCH = f"{NS}.runner", f"{NS}.data", f"{NS}.watch"
UPLOAD_WIDGET_MB = 100  # checkpoints up to MAX_CHECKPOINT_BYTES (64 MB) load; up to this they get our own message


def load_data():
    """(train, test) for this page's pictures; tests inject small data under ``train.data``."""
    if DATA not in st.session_state:
        bar = st.progress(0.0, text=t(f"{NS}.loading"))

        def progress(done: int, total: int) -> None:
            bar.progress(min(1.0, done / max(total, 1)), text=t("common.data_downloading",
                                                                percent=int(100 * done / max(total, 1))))
        st.session_state[DATA] = (load_mnist("train", progress=progress), load_mnist("test"))
        bar.empty()
    return st.session_state[DATA]


def worker_data(train, test) -> Data:
    """What the worker trains on: MNIST as the page has it (the worker reads the same files), or arrays."""
    if getattr(train, "kind", None) in ("full", "embedded"):
        return Data("mnist")
    return Data("arrays", train.images, train.labels, test.images, test.labels)


def data_caption(train, test) -> None:
    if getattr(train, "notice", None):
        st.warning(t(train.notice, **train.notice_params))
    if getattr(train, "kind", "") == "full":
        st.caption(t("common.data_source.full", path=train.path))
    else:
        st.caption(t("common.data_source.embedded", n_train=len(train.labels), n_test=len(test.labels)))


def settings() -> TrainConfig | None:
    """The hyperparameter widgets as a config (None, with a message, when they are invalid)."""
    d = TrainConfig()
    with st.expander(t(f"{NS}.settings"), expanded=False, key=f"{NS}.settings_open"):
        c = st.columns(3)
        options = {"model": list(MODELS), "optimizer": OPTIMIZERS, "schedule": SCHEDULES}
        chosen = {name: choice("selectbox", t(f"{NS}.{name}"), values, key=f"{NS}.{name}", where=col,
                               format=lambda v, n=name: t(f"{NS}.{n}.{v}"))
                  for col, (name, values) in zip(c, options.items())}
        c = st.columns(5)
        lr = c[0].number_input(t(f"{NS}.lr"), value=d.lr, min_value=0.0, format="%.5f", step=0.0005, key=f"{NS}.lr")
        batch = c[1].number_input(t(f"{NS}.batch_size"), 1, 1000, d.batch_size, key=f"{NS}.batch_size")
        epochs = c[2].number_input(t(f"{NS}.epochs"), 1, 100, d.epochs, key=f"{NS}.epochs")
        seed = c[3].number_input(t(f"{NS}.seed"), 0, 2**31 - 1, d.seed, key=f"{NS}.seed")
        size = c[4].number_input(t(f"{NS}.train_size"), 0, 60000, 0, step=500, key=f"{NS}.train_size")
        augment = st.checkbox(t(f"{NS}.augment"), value=d.augment, key=f"{NS}.augment")
    try:
        return TrainConfig(lr=float(lr), batch_size=int(batch), epochs=int(epochs), seed=int(seed),
                           train_size=int(size) or None, augment=augment, **chosen)
    except TrainingError as err:
        st.error(t(err.key, **err.params))
        return None


def fresh(config: TrainConfig, train, test) -> Runner:
    """A new run (its own worker process) with ``config``; the old one, if any, is ended."""
    old = st.session_state.get(RUNNER)
    if old is not None:
        old.stop()
    runner = st.session_state[RUNNER] = Runner(config, worker_data(train, test))
    runner.refresh(watched())
    return runner


def watched() -> tuple[int, int]:
    """(test image index, channels per layer) whose feature maps the worker sends."""
    return int(st.session_state.get(f"{NS}.image", 0)), int(st.session_state.get(f"{NS}.channels", 8))


def _start() -> None:
    runner, config = st.session_state[RUNNER], st.session_state.get(f"{NS}.config")
    if config is not None and config != runner.config and controls(runner).phase == "not_started":
        runner = fresh(config, *load_data())  # nothing trained yet: take the new settings at once
    if not runner.start():
        st.session_state[f"{NS}.notice"] = (f"{NS}.queued", {"n": max_trainings()})


def _pause() -> None:
    st.session_state[RUNNER].pause()


def _reset() -> None:
    fresh(st.session_state.get(f"{NS}.config") or st.session_state[RUNNER].config, *load_data())


def buttons(runner: Runner, config: TrainConfig | None) -> None:
    """Start/Resume, Pause, Reset: one state decides every label and which buttons work. The clicks are
    handled in callbacks, before the page is drawn, so the labels show the state the click made."""
    st.session_state[f"{NS}.config"] = config
    c = controls(runner)
    changed = config is not None and config != runner.config
    cols = st.columns(3)
    cols[0].button(t(c.start_label), key=f"{NS}.start", type="primary", width="stretch",
                   disabled=not c.start_enabled, on_click=_start)
    cols[1].button(t(f"{NS}.pause"), key=f"{NS}.pause", width="stretch", disabled=not c.pause_enabled,
                   on_click=_pause)
    cols[2].button(t(f"{NS}.reset"), key=f"{NS}.reset", width="stretch", disabled=not (c.reset_enabled or changed),
                   on_click=_reset)
    if notice := st.session_state.pop(f"{NS}.notice", None):
        st.warning(t(notice[0], **notice[1]))
    if changed and c.phase != "not_started":
        st.info(t(f"{NS}.pending_changes"))


def status(runner: Runner) -> None:
    snap, c = runner.snapshot, controls(runner)
    eta = plots.eta_text(snap.eta_s) or t(f"{NS}.eta_unknown")
    st.progress(snap.step / max(1, snap.total_steps), text=t(
        f"{NS}.progress", epoch=min(snap.epoch + 1, snap.epochs), epochs=snap.epochs, step=snap.step,
        total=snap.total_steps, ips=f"{snap.images_per_s:,.0f}", eta=eta))
    accuracy = f"{runner.evaluation.accuracy:.2%}" if runner.evaluation is not None else "—"
    error = t(runner.error.key, **runner.error.params) if runner.error is not None else ""
    text = t(c.status, step=snap.step, epochs=snap.epochs, accuracy=accuracy, error=error)
    {"failed": st.error, "finished": st.success}.get(c.phase, st.info if c.phase == "paused" else st.caption)(text)


def layer_name(label: tuple[str, int]) -> str:
    kind, n = label
    return t(f"common.layer.{kind}", n=n)


def live_view(runner: Runner, test) -> None:
    """Everything that moves while training; re-run every POLL_S seconds by its fragment."""
    runner.poll(watched())
    if st.session_state.get(f"{NS}.polling") and not runner.running:
        st.session_state[f"{NS}.polling"] = False
        st.rerun()  # training ended: one full run updates the buttons and stops the polling
    snap = runner.snapshot
    status(runner)
    st.subheader(t(f"{NS}.curves"))
    chart(st, plots.curves_figure(
        snap.history, loss_title=t(f"{NS}.loss"), accuracy_title=t(f"{NS}.accuracy"),
        step_title=t(f"{NS}.step_axis"), train_name=t(f"{NS}.train_curve"),
        train_epoch_name=t(f"{NS}.train_epoch_curve"), test_name=t(f"{NS}.test_curve")), key=f"{NS}.curves_chart")
    left, right = st.columns([2, 3])
    with left:
        st.subheader(t(f"{NS}.filters"))
        for i, weights in enumerate(snap.filters[:2]):
            st.caption(t(f"{NS}.filters1", n=weights.shape[0], k=weights.shape[-1]) if weights.shape[1] == 1
                       else t(f"{NS}.filters2", n=weights.shape[0], c=weights.shape[1]))
            chart(st, plots.filters_figure(weights, title=""), key=f"{NS}.filters_chart{i}")
        st.caption(t(SIGNED_LEGEND_KEY))
    with right:
        st.subheader(t(f"{NS}.feature_maps"))
        index, channels = runner.watch or watched()
        st.caption(t(f"{NS}.image_label", label=int(test.labels[index]), pred=runner.prediction))
        maps = [(layer_name(label), m.float()) for label, m in runner.maps or []]
        chart(st, plots.feature_maps_figure([(t(f"{NS}.input"), test.images[index]), *maps], channels=channels),
              key=f"{NS}.maps_chart")
    epoch_end(runner, test)


def epoch_end(runner: Runner, test) -> None:
    st.subheader(t(f"{NS}.epoch_end"))
    ev = runner.evaluation
    if ev is None:
        st.caption(t(f"{NS}.no_epoch_yet"))
        return
    st.metric(t(f"{NS}.test_accuracy", epoch=runner.evaluation_epoch, accuracy=f"{ev.accuracy:.2%}"),
              f"{ev.accuracy:.2%}")
    left, right = st.columns([2, 3])
    event = chart(left, plots.confusion_figure(ev.confusion, title=t(f"{NS}.confusion"),
                                               true_title=t(f"{NS}.true_digit"),
                                               predicted_title=t(f"{NS}.predicted_digit")),
                  key=f"{NS}.confusion_chart", on_select="rerun", selection_mode="points")
    left.caption(t(f"{NS}.confusion_click"))
    cell = clicked_cell(event, [str(d) for d in range(len(ev.confusion))])
    if cell is not None:  # the images of the clicked cell
        shown, caption = confusion_cell(ev.predictions, ev.labels, *cell, limit=24), t(
            f"{NS}.cell", true=cell[0], pred=cell[1], n=int(ev.confusion[cell]))
    else:  # the first mistakes
        shown, caption = ev.misclassified(limit=24).numpy(), t(f"{NS}.misclassified")
    with right:
        st.markdown(caption)
        if len(shown) == 0:
            st.caption(t(f"{NS}.none_wrong") if cell is None else t(f"{NS}.cell_empty"))
        else:
            chart(st, plots.misclassified_figure(
                test.images[shown], ev.predictions[shown].tolist(), ev.labels[shown].tolist(),
                caption=t(f"{NS}.misclassified_caption")), key=f"{NS}.wrong_chart")


def clicked_cell(event, classes: list[str]) -> tuple[int, int] | None:
    """(true, predicted) of the confusion-matrix cell the student clicked, if any."""
    point = clicked_point(event) or {}
    x, y = point.get("x"), point.get("y")
    return (classes.index(y), classes.index(x)) if x in classes and y in classes else None


def _load_upload() -> None:
    """A checkpoint chosen: checked here, loaded into the worker, and the view refreshed before drawing."""
    upload, runner = st.session_state.get(f"{NS}.upload"), st.session_state[RUNNER]
    if upload is None:
        return
    if runner.running:
        st.session_state[f"{NS}.upload_msg"] = ("warning", f"{NS}.upload_running", {})
        return
    try:
        runner.load_state_dict(load_checkpoint(upload.getvalue(), model=runner.config.model))
        runner.refresh(watched())
        st.session_state[f"{NS}.upload_msg"] = ("success", f"{NS}.loaded", {"name": upload.name})
    except CheckpointError as err:
        st.session_state[f"{NS}.upload_msg"] = ("error", err.key, err.params)


def save_load(runner: Runner) -> None:
    with st.expander(t(f"{NS}.save_load"), key=f"{NS}.save_load_open"):
        if runner.running:
            st.caption(t(f"{NS}.download_paused"))
        else:
            st.download_button(t(f"{NS}.download"), lambda: save_checkpoint(runner.state_dict(),
                                                                            model=runner.config.model),
                               file_name=f"{runner.config.model}_step{runner.snapshot.step}.pt",
                               mime="application/octet-stream", key=f"{NS}.download", on_click="ignore")
        st.file_uploader(t(f"{NS}.upload"), key=f"{NS}.upload", max_upload_size=UPLOAD_WIDGET_MB,
                         on_change=_load_upload)
        kind, key, params = st.session_state.get(f"{NS}.upload_msg", (None, None, {}))
        if kind is not None:
            getattr(st, kind)(t(key, **params))
            if kind == "error":
                st.caption(t("common.kept_previous"))


def link_fields(n_test: int) -> list[links.Field]:
    """The settings a teacher's link can set: /train?model=deep_seed_cnn&lr=0.01."""
    return [links.Field("model", f"{NS}.model", links.one_of(list(MODELS))),
            links.Field("lr", f"{NS}.lr", links.number(1e-6, 1.0)),
            links.Field("batch", f"{NS}.batch_size", links.whole(1, 1000)),
            links.Field("epochs", f"{NS}.epochs", links.whole(1, 100)),
            links.Field("seed", f"{NS}.seed", links.whole(0, 2**31 - 1)),
            links.Field("optimizer", f"{NS}.optimizer", links.one_of(OPTIMIZERS)),
            links.Field("schedule", f"{NS}.schedule", links.one_of(SCHEDULES)),
            links.Field("images", f"{NS}.train_size", links.whole(0, 60000)),
            links.Field("augment", f"{NS}.augment", links.flag()),
            links.Field("digit", f"{NS}.image", links.whole(0, n_test - 1))]


def main() -> None:
    through_app()
    st.title(t(f"{NS}.title"))
    st.markdown(t(f"{NS}.intro"))
    train, test = load_data()
    lesson_link(link_fields(len(test.labels)), page=NS)
    data_caption(train, test)
    config = settings()
    if RUNNER not in st.session_state:
        with st.spinner(t(f"{NS}.preparing")):
            fresh(config or TrainConfig(), train, test)
    runner = st.session_state[RUNNER]
    buttons(runner, config)
    if not runner.wait_ready():  # the trainer could not be built (bad data or settings)
        st.error(t(runner.error.key, **runner.error.params) if runner.error else t(f"{NS}.status.failed"))
        return
    c = st.columns(2)
    c[0].number_input(t(f"{NS}.image"), 0, len(test.labels) - 1, 0, key=f"{NS}.image")
    c[1].slider(t(f"{NS}.channels"), 1, 16, 8, key=f"{NS}.channels")
    if runner.watch != watched():
        runner.refresh(watched())  # a new digit or channel count: its maps now, not after the next step
    st.session_state[f"{NS}.polling"] = runner.running
    st.fragment(run_every=POLL_S if runner.running else None, key=f"{NS}.live")(live_view)(runner, test)
    save_load(runner)


main()
