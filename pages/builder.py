"""Your own network, your own data: build a CNN from a layer table, train it on MNIST or your own class
folders in a worker process, compare runs, and take the code home."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

from explorer import builder as bd
from explorer.builder import plots, view
from explorer.core import links
from explorer.core.data import load_mnist
from explorer.core.figures import clicked_point
from explorer.core.session import chart, choice, lang, lesson_link, t, through_app
from explorer.core.workers import Job
from explorer.interpret import confusion_cell
from explorer.training import CheckpointError, Runner, TrainConfig, TrainingError, load_checkpoint, save_checkpoint
from explorer.training import plots as train_plots
from explorer.training.runner import controls, max_trainings
from explorer.training.worker import Data

NS = "builder"
TABLE, VERSION, RUNNER, RUNS, DATA, JOB = (f"{NS}.{k}" for k in ("table", "version", "runner", "runs", "dataset",
                                                                  "job"))
SOURCES = ("mnist", "zip", "classes")
TABS = ("network", "data", "train", "code")
FILES = {"script": ("my_cnn.py", "text/x-python"), "table": ("layers.json", "application/json"),  # (name, MIME)
         "weights": ("my_cnn.pt", "application/octet-stream")}
MNIST_SHAPE, MNIST_CLASSES = (1, 28, 28), tuple(str(d) for d in range(10))
POLL_S = 0.5
ZIP_WIDGET_MB = 110  # the zip limit is 100 MB; up to this a larger zip gets our own message


def _load_preset() -> None:
    classes = len(_classes())
    st.session_state[TABLE] = bd.preset(st.session_state[f"{NS}.preset"], classes=classes)
    st.session_state[VERSION] = st.session_state.get(VERSION, 0) + 1


def _classes() -> tuple[str, ...]:
    data = st.session_state.get(DATA)
    return data.classes if data is not None and st.session_state.get(f"{NS}.source") != "mnist" else MNIST_CLASSES


def _input_shape() -> tuple[int, int, int]:
    data = st.session_state.get(DATA)
    return data.input_shape if data is not None and st.session_state.get(f"{NS}.source") != "mnist" else MNIST_SHAPE


def _frame(records: list[dict]) -> pd.DataFrame:
    """Editor rows numbered from 1, as the messages number them; blank numbers shown empty (NaN)."""
    frame = pd.DataFrame(records, columns=view.EDITOR_COLUMNS, index=range(1, len(records) + 1))
    return frame.astype({"size": "float64", "p": "float64"})


def network_tab() -> bd.TableCheck:
    """The layer table: presets, the editor, and every row checked through the Shapes wing."""
    if TABLE not in st.session_state:
        st.session_state[f"{NS}.preset"] = "seed_cnn"
        _load_preset()
    if st.session_state.get(f"{NS}.lang") != lang():  # the editor restarts in the new language, edits kept
        st.session_state[f"{NS}.lang"], st.session_state[VERSION] = lang(), st.session_state.get(VERSION, 0) + 1
    name = choice("selectbox", t(f"{NS}.preset"), list(bd.PRESETS), key=f"{NS}.preset",
                  format=lambda p: t(f"{NS}.preset.{p}"), on_change=_load_preset)
    st.caption(t(f"{NS}.preset.{name}.help"))
    choice("segmented_control", t(f"{NS}.init"), bd.INITS, key=f"{NS}.init", format=lambda i: t(f"{NS}.init.{i}"))
    column = st.column_config
    edited = st.data_editor(
        _frame(view.editor_records(st.session_state[TABLE])), num_rows="dynamic",
        key=f"{NS}.editor.{st.session_state[VERSION]}", width="stretch", hide_index=False, column_config={
            "kind": column.SelectboxColumn(t(f"{NS}.col.kind"), options=bd.KINDS, required=True,
                                           format_func=lambda k: t(f"{NS}.kind.{k}")),
            "size": column.NumberColumn(t(f"{NS}.col.size"), step=1, help=t(f"{NS}.col.size_help")),
            **{c: column.TextColumn(t(f"{NS}.col.{c}")) for c in ("kernel", "stride", "padding")},
            "p": column.NumberColumn(t(f"{NS}.col.p"), min_value=0.0, max_value=0.99, step=0.05),
            "init": column.SelectboxColumn(t(f"{NS}.col.init"), options=bd.INITS, help=t(f"{NS}.col.init_help"),
                                           format_func=lambda i: t(f"{NS}.init.{i}"))})
    st.caption(t(f"{NS}.editor_help"))
    st.session_state[TABLE] = view.table_from_records(edited.to_dict("records"))
    check = bd.check_layers(st.session_state[TABLE], _input_shape(), classes=len(_classes()))
    for message in view.problem_messages(check, lang=lang()):
        st.error(message)
    number = st.column_config.NumberColumn(format="localized")
    st.dataframe(pd.DataFrame(view.summary_records(check, lang=lang())), hide_index=True, key=f"{NS}.summary",
                 column_config={t(f"{NS}.col.{c}"): number for c in ("params", "macs")})
    cols = st.columns(3)
    cols[0].metric(t(f"{NS}.total_params"), f"{check.params:,}")
    cols[1].metric(t(f"{NS}.total_macs"), f"{check.macs:,}")
    cols[2].metric(t(f"{NS}.train_memory"), t(f"{NS}.megabytes", mb=f"{check.train_mb:,.0f}"))
    return check


def _load_job(kind: str, payload, size, gray) -> None:
    fn = bd.load_image_folder if kind == "zip" else bd.from_class_uploads
    st.session_state[JOB] = Job(fn, payload, size=size, grayscale=gray)


@st.fragment(run_every=POLL_S)
def _job_progress() -> None:
    state = st.session_state[JOB].poll()
    if not state.done:
        st.progress(state.progress, text=t(f"{NS}.loading"))
        return
    del st.session_state[JOB]
    if state.busy:
        st.session_state[f"{NS}.data_msg"] = ("warning", f"{NS}.busy", {})
    elif state.error is not None:
        err = state.error
        st.session_state[f"{NS}.data_msg"] = ("error", getattr(err, "key", "common.worker_died"),
                                              getattr(err, "params", {}))
    else:
        st.session_state[DATA] = state.result
        st.session_state[f"{NS}.data_msg"] = None
        _load_preset()  # the chosen network, its last layer scoring the new classes
    st.rerun()


def data_tab() -> None:
    source = choice("segmented_control", t(f"{NS}.source"), SOURCES, key=f"{NS}.source",
                    format=lambda s: t(f"{NS}.source.{s}"))
    if source == "mnist":
        st.caption(t(f"{NS}.mnist_note"))
        return
    c1, c2 = st.columns(2)
    h = c1.number_input(t(f"{NS}.height"), 8, 256, bd.DEFAULT_SIZE[0], key=f"{NS}.height")
    w = c2.number_input(t(f"{NS}.width"), 8, 256, bd.DEFAULT_SIZE[1], key=f"{NS}.width")
    gray = st.toggle(t(f"{NS}.grayscale"), key=f"{NS}.grayscale")
    st.caption(t(f"{NS}.limits", **bd.LIMITS))
    if source == "zip":
        upload = st.file_uploader(t(f"{NS}.zip"), key=f"{NS}.zip", max_upload_size=ZIP_WIDGET_MB)
        if upload is not None and st.button(t(f"{NS}.load"), key=f"{NS}.load_zip", type="primary"):
            _load_job("zip", upload.getvalue(), (int(h), int(w)), gray)
    else:
        _class_uploads((int(h), int(w)), gray)
    if JOB in st.session_state:
        _job_progress()
    if msg := st.session_state.get(f"{NS}.data_msg"):
        getattr(st, msg[0])(t(msg[1], **msg[2]))
        st.caption(t("common.kept_previous"))
    _preview()


def _class_uploads(size, gray) -> None:
    """Pictures per class: uploaded or taken with the camera, a class at a time (a classroom activity)."""
    uploads: dict[str, list[bytes]] = st.session_state.setdefault(f"{NS}.uploads", {})
    name = st.text_input(t(f"{NS}.class_name"), key=f"{NS}.class_name", max_chars=64)
    c1, c2 = st.columns(2)
    files = c1.file_uploader(t(f"{NS}.class_files"), key=f"{NS}.class_files", accept_multiple_files=True,
                             max_upload_size=50)
    photo = c2.camera_input(t(f"{NS}.camera"), key=f"{NS}.camera")
    if st.button(t(f"{NS}.add_pictures"), key=f"{NS}.add", disabled=not (files or photo)):
        try:
            uploads.setdefault(bd.check_class_name(name), []).extend(
                [f.getvalue() for f in files or []] + ([photo.getvalue()] if photo else []))
        except bd.DataError as err:
            st.error(t(err.key, **err.params))
    if uploads:
        st.caption(t(f"{NS}.collected", classes=", ".join(f"{k} ({len(v)})" for k, v in uploads.items())))
        c1, c2 = st.columns(2)
        if c1.button(t(f"{NS}.use_pictures"), key=f"{NS}.use", type="primary"):
            _load_job("classes", dict(uploads), size, gray)
        c2.button(t(f"{NS}.clear_pictures"), key=f"{NS}.clear", on_click=uploads.clear)


def _preview() -> None:
    data = st.session_state.get(DATA)
    if data is None:
        return
    st.success(t(f"{NS}.loaded", n=len(data), classes=len(data.classes), shape=view.shape_text(data.input_shape)))
    for reason, n in data.skipped.items():
        if n:
            st.warning(t(f"{NS}.skipped.{reason}", n=n))
    if data.ignored:
        st.caption(t(f"{NS}.ignored", n=data.ignored))
    for cls in bd.preview(data, per_class=8):
        st.markdown(f"**{cls.name}** · {t(f'{NS}.count', n=cls.count)}")
        st.image([img if img.shape[-1] == 3 else img[..., 0] for img in cls.images], width=96)


def train_tab(check: bd.TableCheck) -> None:
    c = st.columns(4)
    epochs = c[0].number_input(t("train.epochs"), 1, 100, 5, key=f"{NS}.epochs")
    lr = c[1].number_input(t("train.lr"), 0.00001, 1.0, 0.001, format="%.5f", key=f"{NS}.lr")
    batch = c[2].number_input(t("train.batch_size"), 1, 1000, 100, key=f"{NS}.batch")
    seed = c[3].number_input(t("train.seed"), 0, 2**31 - 1, 777, key=f"{NS}.seed")
    if not check.ok:
        st.info(t(f"{NS}.fix_table_first"))
        return
    try:
        config = TrainConfig(model="custom", layers=tuple(check.layers), input_shape=_input_shape(),
                             classes=len(_classes()), init=st.session_state.get(f"{NS}.init", "default"),
                             epochs=int(epochs), lr=float(lr), batch_size=int(batch), seed=int(seed))
    except TrainingError as err:
        st.error(t(err.key, **err.params))
        return
    st.session_state[f"{NS}.config"] = config
    runner = st.session_state.get(RUNNER)
    c = controls(runner) if runner is not None else None
    cols = st.columns(3)
    cols[0].button(t(c.start_label if c else "train.start"), key=f"{NS}.start", type="primary", width="stretch",
                   disabled=c is not None and not c.start_enabled and runner.config == config, on_click=_start)
    cols[1].button(t("train.pause"), key=f"{NS}.pause", width="stretch", disabled=not (c and c.pause_enabled),
                   on_click=lambda: st.session_state[RUNNER].pause())
    cols[2].button(t(f"{NS}.keep_run"), key=f"{NS}.keep", width="stretch", on_click=_keep_run,
                   disabled=runner is None or not runner.snapshot or not runner.snapshot.epoch)
    if notice := st.session_state.pop(f"{NS}.notice", None):
        st.warning(t(notice[0], **notice[1]))
    if runner is not None:
        st.session_state[f"{NS}.polling"] = runner.running
        st.fragment(run_every=POLL_S if runner.running else None, key=f"{NS}.live")(_live)(runner)
    _compare()


def _data_for_worker():
    data = st.session_state.get(DATA)
    if data is None or st.session_state.get(f"{NS}.source") == "mnist":
        return Data("mnist")
    train, test = bd.split(data, seed=int(st.session_state.get(f"{NS}.seed", 777)))
    return Data("pixels", data.pixels[train], data.labels[train], data.pixels[test], data.labels[test],
                classes=data.classes)


def _start() -> None:
    runner, config = st.session_state.get(RUNNER), st.session_state[f"{NS}.config"]
    if runner is None or runner.config != config or controls(runner).phase in ("finished", "failed"):
        if runner is not None:
            runner.stop()
        runner = st.session_state[RUNNER] = Runner(config, _data_for_worker())
    if not runner.start():
        st.session_state[f"{NS}.notice"] = ("train.queued", {"n": max_trainings()})


def _keep_run() -> None:
    runner, runs = st.session_state[RUNNER], st.session_state.get(RUNS, [])
    snap, h = runner.snapshot, runner.history
    label = t(f"{NS}.run_label", n=len(runs) + 1, preset=t(f"{NS}.preset.{st.session_state[f'{NS}.preset']}"))
    record = view.RunRecord(label, runner.config.layers, sum(r.params for r in bd.check_layers(
        list(runner.config.layers), runner.config.input_shape).rows), snap.epoch, tuple(h.test_accuracy),
        tuple(h.train_loss), snap.seconds, view.mean_grad_norms(h.grad_norm))
    st.session_state[RUNS] = view.keep(runs, record)


def _live(runner: Runner) -> None:
    runner.poll()
    if st.session_state.get(f"{NS}.polling") and not runner.running:
        st.session_state[f"{NS}.polling"] = False
        st.rerun()
    snap = runner.snapshot
    if snap is None:
        return
    st.progress(snap.step / max(1, snap.total_steps), text=t("train.progress", epoch=min(snap.epoch + 1, snap.epochs),
                epochs=snap.epochs, step=snap.step, total=snap.total_steps, ips=f"{snap.images_per_s:,.0f}",
                eta=train_plots.eta_text(snap.eta_s) or t("train.eta_unknown")))
    if runner.error is not None:
        st.error(t(runner.error.key, **runner.error.params))
    chart(st, train_plots.curves_figure(snap.history, loss_title=t("train.loss"), accuracy_title=t("train.accuracy"),
                                        step_title=t("train.step_axis"), train_name=t("train.train_curve"),
                                        train_epoch_name=t("train.train_epoch_curve"),
                                        test_name=t("train.test_curve")), key=f"{NS}.curves")
    if runner.evaluation is not None:
        _confusion(runner)


def _confusion(runner: Runner) -> None:
    """The test confusion matrix; a clicked cell shows its test images."""
    ev, classes = runner.evaluation, _classes()
    left, right = st.columns([3, 2])
    event = chart(left, train_plots.confusion_figure(ev.confusion, title=t("train.confusion"),
                                                     true_title=t(f"{NS}.true_class"),
                                                     predicted_title=t(f"{NS}.predicted_class"), classes=classes),
                  key=f"{NS}.confusion", on_select="rerun", selection_mode="points")
    point = clicked_point(event) or {}
    if point.get("x") not in classes or point.get("y") not in classes:
        left.caption(t(f"{NS}.confusion_click"))
        return
    true, pred = classes.index(point["y"]), classes.index(point["x"])
    shown = confusion_cell(ev.predictions, ev.labels, true, pred, limit=24)
    right.markdown(t(f"{NS}.cell", true=point["y"], pred=point["x"], n=int(ev.confusion[true, pred])))
    if len(shown) == 0:
        right.caption(t(f"{NS}.cell_empty"))
        return
    d = runner.data
    images = load_mnist("test", download=False).images if d.kind == "mnist" else d.test_images
    right.image([plots.picture(_as_pixels(images[int(i)])) for i in shown], width=64)


def _as_pixels(image: torch.Tensor) -> torch.Tensor:
    """(C, H, W) floats in [0, 1] or uint8, as uint8."""
    return image if image.dtype == torch.uint8 else image.mul(255).round().clamp(0, 255).to(torch.uint8)


def _compare() -> None:
    runs = st.session_state.get(RUNS, [])
    st.subheader(t(f"{NS}.compare"))
    if not runs:
        st.caption(t(f"{NS}.compare_empty"))
        return
    st.dataframe(pd.DataFrame(view.runs_table(runs, lang=lang())), hide_index=True, key=f"{NS}.runs")
    left, right = st.columns(2)
    chart(left, plots.accuracy_figure(runs, title=t(f"{NS}.compare_accuracy"), x_title=t(f"{NS}.epoch"),
                                      y_title=t("train.accuracy")), key=f"{NS}.compare_acc")
    chart(right, plots.gradient_figure(runs, title=t(f"{NS}.compare_grads"), x_title=t(f"{NS}.weighted_layer"),
                                       y_title=t(f"{NS}.grad_norm")), key=f"{NS}.compare_grad")
    st.caption(t(f"{NS}.compare_help"))


def code_tab(check: bd.TableCheck) -> None:
    if not check.ok:
        st.info(t(f"{NS}.fix_table_first"))
        return
    mnist = st.session_state.get(f"{NS}.source", "mnist") == "mnist" or st.session_state.get(DATA) is None
    shape = _input_shape()
    script = bd.to_script(list(check.layers), data_dir=None if mnist else "data", size=shape[1:],
                          grayscale=shape[0] == 1, epochs=int(st.session_state.get(f"{NS}.epochs", 5)),
                          lr=float(st.session_state.get(f"{NS}.lr", 0.001)), init=st.session_state.get(f"{NS}.init",
                                                                                                        "default"),
                          batch_size=int(st.session_state.get(f"{NS}.batch", 100)), lang=lang())
    st.code(script, language="python")
    c = st.columns(3)
    c[0].download_button(t(f"{NS}.download_script"), script, *FILES["script"], key=f"{NS}.dl_script")
    c[1].download_button(t(f"{NS}.download_table"), bd.table_to_json(check.layers, input_shape=shape,
                                                                     classes=_classes()),
                         *FILES["table"], key=f"{NS}.dl_table")
    runner = st.session_state.get(RUNNER)
    if runner is not None and runner.snapshot and runner.snapshot.step and not runner.running:
        c[2].download_button(t(f"{NS}.download_weights"), lambda: save_checkpoint(runner.state_dict(),
                                                                                  model=runner.config),
                             *FILES["weights"], key=f"{NS}.dl_weights", on_click="ignore")
    _load_back()


def _load_back() -> None:
    """A layer table (and optionally weights) from files made here; refused files say why."""
    c = st.columns(2)
    table = c[0].file_uploader(t(f"{NS}.upload_table"), key=f"{NS}.up_table", max_upload_size=1)
    weights = c[1].file_uploader(t(f"{NS}.upload_weights"), key=f"{NS}.up_weights", max_upload_size=100)
    if table is not None and st.button(t(f"{NS}.use_upload"), key=f"{NS}.use_upload"):
        try:
            loaded = bd.table_from_json(table.getvalue())
            config = TrainConfig(model="custom", layers=tuple(loaded.layers), input_shape=tuple(loaded.input_shape),
                                 classes=len(loaded.classes or _classes()), init=loaded.init)
            state = load_checkpoint(weights.getvalue(), model=config) if weights is not None else None
        except (bd.TableError, CheckpointError, TrainingError) as err:
            st.error(t(err.key, **err.params))
            st.caption(t("common.kept_previous"))
            return
        st.session_state[TABLE], st.session_state[VERSION] = loaded.layers, st.session_state.get(VERSION, 0) + 1
        if state is not None:
            runner = st.session_state[RUNNER] = Runner(config, _data_for_worker())
            runner.load_state_dict(state)
        st.success(t(f"{NS}.uploaded"))


def main() -> None:
    through_app()
    st.title(t(f"{NS}.title"))
    st.markdown(t(f"{NS}.intro"))
    linked = lesson_link([links.Field("preset", f"{NS}.preset", links.one_of(list(bd.PRESETS))),
                          links.Field("init", f"{NS}.init", links.one_of(bd.INITS)),
                          links.Field("source", f"{NS}.source", links.one_of(SOURCES)),
                          links.Field("epochs", f"{NS}.epochs", links.whole(1, 100)),
                          links.Field("lr", f"{NS}.lr", links.number(1e-5, 1.0)),
                          links.Field("batch", f"{NS}.batch", links.whole(1, 1000)),
                          links.Field("seed", f"{NS}.seed", links.whole(0, 2**31 - 1))], page=NS)
    if f"{NS}.preset" in linked:
        _load_preset()  # a linked preset replaces the table
    tabs = st.tabs([t(f"{NS}.tab.{k}") for k in TABS])
    with tabs[1]:
        data_tab()
    with tabs[0]:
        check = network_tab()
    with tabs[2]:
        train_tab(check)
    with tabs[3]:
        code_tab(check)


main()
