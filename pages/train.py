"""Train MNIST live: the lectures' CNN learns while curves, filters and feature maps update."""

from __future__ import annotations

import math

import streamlit as st

from explorer.core.data import load_mnist
from explorer.core.i18n import translate
from explorer.core.models import MODELS
from explorer.core.session import chart, lang, t, through_app
from explorer.training import (
    CheckpointError,
    Runner,
    TrainConfig,
    Trainer,
    TrainingError,
    plots,
    save_checkpoint,
)
from explorer.training.config import OPTIMIZERS, SCHEDULES
from explorer.training.runner import max_trainings
from explorer.training.trainer import apply_checkpoint

POLL_S = 0.5  # live view refresh: 2 Hz
UPLOAD_WIDGET_MB = 100  # checkpoints up to MAX_CHECKPOINT_BYTES (64 MB) load; up to this they get our own message
TRAINER, RUNNER, DATA = "train.trainer", "train.runner", "train.data"


def load_data():
    """(train, test) for this session; tests inject small data under ``train.data``."""
    if DATA not in st.session_state:
        bar = st.progress(0.0, text=t("train.loading"))

        def progress(done: int, total: int) -> None:
            bar.progress(min(1.0, done / max(total, 1)), text=t("common.data_downloading",
                                                                percent=int(100 * done / max(total, 1))))
        st.session_state[DATA] = (load_mnist("train", progress=progress), load_mnist("test"))
        bar.empty()
    return st.session_state[DATA]


def data_caption(train, test) -> None:
    if getattr(train, "notice", None):
        st.warning(t(train.notice, **train.notice_params))
    if getattr(train, "kind", "") == "full":
        st.caption(t("common.data_source.full", path=train.path))
    else:
        st.caption(t("common.data_source.embedded", n_train=len(train.labels), n_test=len(test.labels)))


def labels(prefix: str):
    """format_func bound to this run's language (AppTest calls it outside the run)."""
    code = lang()
    return lambda value: translate(f"{prefix}.{value}", code)


def settings() -> TrainConfig | None:
    """The hyperparameter widgets as a config (None, with a message, when they are invalid)."""
    d = TrainConfig()
    with st.expander(t("train.settings"), expanded=False):
        c = st.columns(3)
        model = c[0].selectbox(t("train.model"), list(MODELS), key="train.model",
                               format_func=labels("train.model"))
        optimizer = c[1].selectbox(t("train.optimizer"), OPTIMIZERS, key="train.optimizer",
                                   format_func=labels("train.optimizer"))
        schedule = c[2].selectbox(t("train.schedule"), SCHEDULES, key="train.schedule",
                                  format_func=labels("train.schedule"))
        c = st.columns(5)
        lr = c[0].number_input(t("train.lr"), value=d.lr, min_value=0.0, format="%.5f", step=0.0005, key="train.lr")
        batch = c[1].number_input(t("train.batch_size"), 1, 1000, d.batch_size, key="train.batch_size")
        epochs = c[2].number_input(t("train.epochs"), 1, 100, d.epochs, key="train.epochs")
        seed = c[3].number_input(t("train.seed"), 0, 2**31 - 1, d.seed, key="train.seed")
        size = c[4].number_input(t("train.train_size"), 0, 60000, 0, step=500, key="train.train_size")
        augment = st.checkbox(t("train.augment"), value=d.augment, key="train.augment")
    try:
        return TrainConfig(model=model, optimizer=optimizer, lr=float(lr), batch_size=int(batch),
                           epochs=int(epochs), seed=int(seed), train_size=int(size) or None,
                           augment=augment, schedule=schedule)
    except TrainingError as err:
        st.error(t(err.key, **err.params))
        return None


def fresh(config: TrainConfig, train, test) -> None:
    old = st.session_state.get(RUNNER)
    if old is not None:
        old.pause()
    trainer = Trainer(config, train, test)
    st.session_state[TRAINER], st.session_state[RUNNER] = trainer, Runner(trainer)


def controls(config: TrainConfig | None, train, test) -> None:
    runner: Runner = st.session_state[RUNNER]
    trainer = runner.trainer
    c = st.columns(3)
    start = c[0].button(t("train.resume" if trainer.step_count else "train.start"), key="train.start",
                        type="primary", width="stretch")
    pause = c[1].button(t("train.pause"), key="train.pause", width="stretch")
    reset = c[2].button(t("train.reset"), key="train.reset", width="stretch")
    if reset and config is not None:
        fresh(config, train, test)
    elif pause:
        runner.pause()
    elif start:
        if runner.running:
            st.info(t("train.already_running"))
            return
        if config is not None and config != trainer.config and trainer.step_count == 0:
            fresh(config, train, test)  # nothing trained yet: take the new settings at once
            runner = st.session_state[RUNNER]
        if not runner.start():
            st.warning(t("train.queued", n=max_trainings()))
    if config is not None and config != st.session_state[TRAINER].config and st.session_state[TRAINER].step_count:
        st.info(t("train.pending_changes"))


def status(runner: Runner) -> None:
    trainer, snap = runner.trainer, runner.trainer.snapshot()
    eta = t("train.eta_unknown") if not math.isfinite(snap.eta_s) else f"{int(snap.eta_s) // 60}:{int(snap.eta_s) % 60:02d}"
    st.progress(snap.step / max(1, snap.total_steps), text=t(
        "train.progress", epoch=min(snap.epoch + 1, snap.epochs), epochs=snap.epochs, step=snap.step,
        total=snap.total_steps, ips=f"{snap.images_per_s:,.0f}", eta=eta))
    if snap.error is not None:
        st.error(t(snap.error.key, **snap.error.params))
    elif snap.finished:
        st.success(t("train.finished", epochs=snap.epochs, accuracy=f"{trainer.evaluation.accuracy:.2%}"))
    elif runner.state == "abandoned":
        st.warning(t("train.abandoned"))
    elif not runner.running:
        st.caption(t("train.paused", step=snap.step) if snap.step else t("train.not_started"))


def live_view(runner: Runner, image_index: int, channels: int) -> None:
    """Everything that moves while training; re-run every POLL_S seconds by its fragment."""
    runner.heartbeat()
    if st.session_state.get("train.polling") and not runner.running:
        st.session_state["train.polling"] = False
        st.rerun()  # training ended: one full run stops the polling
    trainer, snap = runner.trainer, runner.trainer.snapshot()
    status(runner)
    st.subheader(t("train.curves"))
    chart(st, plots.curves_figure(
        snap.history, loss_title=t("train.loss"), accuracy_title=t("train.accuracy"),
        step_title=t("train.step_axis"), train_name=t("train.train_curve"),
        train_epoch_name=t("train.train_epoch_curve"), test_name=t("train.test_curve")), key="train.curves_chart")
    left, right = st.columns([2, 3])
    with left:
        st.subheader(t("train.filters"))
        for i, weights in enumerate(snap.filters[:2]):
            title = (t("train.filters1", n=weights.shape[0]) if weights.shape[1] == 1
                     else t("train.filters2", n=weights.shape[0], c=weights.shape[1]))
            chart(st, plots.filters_figure(weights, title=title), key=f"train.filters_chart{i}")
    with right:
        st.subheader(t("train.feature_maps"))
        image = trainer.test_data.images[image_index]
        maps = trainer.feature_maps(image)
        pred = int(trainer.predict(image[None])[0])
        st.caption(t("train.image_label", label=int(trainer.test_data.labels[image_index]), pred=pred))
        chart(st, plots.feature_maps_figure([(t("train.input"), image.cpu()), *maps], channels=channels),
              key="train.maps_chart")
    epoch_end(trainer, snap)


def epoch_end(trainer: Trainer, snap) -> None:
    st.subheader(t("train.epoch_end"))
    ev = snap.evaluation
    if ev is None or not snap.epoch:
        st.caption(t("train.no_epoch_yet"))
        return
    st.metric(t("train.test_accuracy", epoch=snap.epoch, accuracy=f"{ev.accuracy:.2%}"), f"{ev.accuracy:.2%}")
    left, right = st.columns([2, 3])
    chart(left, plots.confusion_figure(ev.confusion, title=t("train.confusion"), true_title=t("train.true_digit"),
                                       predicted_title=t("train.predicted_digit")), key="train.confusion_chart")
    wrong = ev.misclassified(limit=24)
    with right:
        st.markdown(t("train.misclassified"))
        if len(wrong) == 0:
            st.caption(t("train.none_wrong"))
        else:
            chart(st, plots.misclassified_figure(
                trainer.test_data.images[wrong], ev.predictions[wrong].tolist(), ev.labels[wrong].tolist(),
                caption=t("train.misclassified_caption")), key="train.wrong_chart")


def save_load(runner: Runner) -> None:
    trainer = runner.trainer
    with st.expander(t("train.save_load")):
        if runner.running:
            st.caption(t("train.download_paused"))
        else:
            st.download_button(t("train.download"), save_checkpoint(trainer.state_dict(), model=trainer.config.model),
                               file_name=f"{trainer.config.model}_step{trainer.step_count}.pt",
                               mime="application/octet-stream", key="train.download")
        upload = st.file_uploader(t("train.upload"), key="train.upload", max_upload_size=UPLOAD_WIDGET_MB)
        if upload is not None and st.session_state.get("train.upload_id") != upload.file_id:
            if runner.running:
                st.warning(t("train.upload_running"))
                return
            st.session_state["train.upload_id"] = upload.file_id
            try:
                apply_checkpoint(trainer, upload.getvalue())
                st.session_state["train.upload_msg"] = ("success", "train.loaded", {"name": upload.name})
            except CheckpointError as err:
                st.session_state["train.upload_msg"] = ("error", err.key, err.params)
        kind, key, params = st.session_state.get("train.upload_msg", (None, None, {}))
        if kind == "success":
            st.success(t(key, **params))
        elif kind == "error":
            st.error(t(key, **params))
            st.caption(t("common.kept_previous"))


def main() -> None:
    through_app()
    st.title(t("train.title"))
    st.markdown(t("train.intro"))
    train, test = load_data()
    data_caption(train, test)
    config = settings()
    if RUNNER not in st.session_state:
        fresh(config or TrainConfig(), train, test)
    controls(config, train, test)
    runner: Runner = st.session_state[RUNNER]
    st.caption(t("train.device", device=str(runner.trainer.device)))
    c = st.columns(2)
    n_test = len(runner.trainer.test_data.labels)
    image_index = c[0].number_input(t("train.image"), 0, n_test - 1, 0, key="train.image")
    channels = c[1].slider(t("train.channels"), 1, 16, 8, key="train.channels")
    st.session_state["train.polling"] = runner.running
    st.fragment(run_every=POLL_S if runner.running else None, key="train.live")(live_view)(
        runner, int(image_index), int(channels))
    save_load(runner)


main()
