"""Your own image: draw, upload or pick a digit; see each step, every layer, the prediction, Grad-CAM."""

from __future__ import annotations

import copy

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitAPIException

from explorer.activations import digits, imagenet, inside, plots
from explorer.core import links
from explorer.core.data import load_embedded
from explorer.core.figures import SIGNED_LEGEND_KEY
from explorer.core.images import UPLOAD_WIDGET_MB, ImageError, load_image, to_png
from explorer.core.models import layer_kind, numbered
from explorer.core.samples import sample_images
from explorer.core.session import chart, choice, drawing_pad, lesson_link, t, through_app
from explorer.kernels import PRESETS, preset_label_key

NS = "activations"
SOURCES = ("draw", "upload", "test")
MODELS = ("session", "bundled")
EXPLAIN = ("gradcam", "saliency")
KERNEL_LAB = "pages/kernels.py"
PAD = 280  # drawing pad side in pixels (MNIST's 28 × 10)
UNSURE = 0.6  # a top probability below this gets a warning


@st.cache_resource
def _bundled_model():
    return inside.load_bundled_model()


@st.cache_resource
def _test_set():
    return load_embedded("test")


@st.cache_resource
def _imagenet_model(arch: str):
    return imagenet.load_imagenet_model(arch)


def _model():
    """The model trained in this session (Train page) if there is one, else the bundled SeedCNN."""
    runner = st.session_state.get("train.runner")  # the Train page's run (explorer.training.Runner)
    steps = runner.snapshot.step if runner is not None and runner.snapshot is not None else 0
    if steps > 0 and runner.alive:
        choice_ = choice("radio", t(f"{NS}.model"), MODELS, key=f"{NS}.model", horizontal=True,
                         format=lambda m: t(f"{NS}.model.{m}"))
        if choice_ == "session":
            return inside.snapshot_model(runner), t(f"{NS}.model.session_note", steps=steps,
                                                     model=t(f"train.model.{runner.config.model}"))
    info = inside.bundled_info()  # a private copy: hooks never touch the model other sessions share
    return copy.deepcopy(_bundled_model()), t(f"{NS}.model.bundled_note", accuracy=f"{info['test_accuracy']:.1%}",
                                              n=info["test_images"])


def _drawn() -> digits.Preprocessed | None:
    """The drawing pad with its (translated) Undo and Clear buttons; None until something is drawn."""
    strokes = drawing_pad(key=f"{NS}.strokes", label=t(f"{NS}.pad_label"), size=PAD)
    with st.container(horizontal=True):
        st.button(t(f"{NS}.undo"), key=f"{NS}.undo", on_click=lambda: strokes and strokes.pop(), disabled=not strokes,
                  icon=":material/undo:")
        st.button(t(f"{NS}.clear"), key=f"{NS}.clear", on_click=strokes.clear, disabled=not strokes,
                  icon=":material/delete:")
    st.caption(t(f"{NS}.draw_help"))
    if not strokes:
        st.info(t(f"{NS}.draw_first"))
        return None
    return digits.preprocess_steps(digits.render_strokes(strokes, size=PAD))


def _input() -> digits.Preprocessed | None:
    """Read the chosen source; on bad input say why and fall back to the last good digit."""
    source = choice("segmented_control", t(f"{NS}.source"), SOURCES, key=f"{NS}.source",
                    format=lambda s: t(f"{NS}.source.{s}"))
    try:
        if source == "draw":
            result = _drawn()
            if result is None:
                return None
        elif source == "upload":
            upload = st.file_uploader(t(f"{NS}.upload"), key=f"{NS}.upload", max_upload_size=UPLOAD_WIDGET_MB)
            if upload is None:
                st.info(t(f"{NS}.upload_first"))
                return None
            result = digits.digit_from_upload(upload.getvalue())
        else:
            data = _test_set()
            i = st.number_input(t(f"{NS}.test_index", n=len(data.labels)), min_value=0,
                                max_value=len(data.labels) - 1, value=0, step=1, key=f"{NS}.test_index")
            st.caption(t(f"{NS}.test_label", label=int(data.labels[int(i)])))
            result = digits.preprocess_steps(data.images[int(i), 0].numpy())
    except (ImageError, digits.DigitError) as err:
        st.error(f"{t('common.error_prefix')}: {t(err.key, **err.params)}")
        previous = st.session_state.get(f"{NS}.last")
        if previous is not None:
            st.caption(t("common.kept_previous"))
        return previous
    st.session_state[f"{NS}.last"] = result
    return result


def _show_steps(result: digits.Preprocessed) -> None:
    st.subheader(t(f"{NS}.steps"))
    columns = st.columns(len(digits.STEP_NAMES))
    for col, name in zip(columns, digits.STEP_NAMES):
        col.image(plots.step_image(result.steps[name]), caption=t(f"{NS}.step.{name}"), width=112)
    if not result.inverted:
        st.caption(t(f"{NS}.not_inverted"))
    st.download_button(t("common.download_png"), to_png(plots.enlarge(result.digit, side=280)),
                       file_name="digit_28x28.png", mime="image/png", key=f"{NS}.download_digit")


def _hover(label: str) -> str:
    """Plotly hover template: translated label, channel number, value."""
    return label + " %{customdata}: %{z:.3f}"


def _chart(fig, name: str) -> None:
    chart(st, fig, key=f"{NS}.chart.{name}", config=plots.png_config(f"activations_{name}"))


def _show_prediction(model, result: digits.Preprocessed) -> None:
    x = inside.to_input(result.digit)
    probs = inside.predict(model, x)
    best = int(probs.argmax())
    left, right = st.columns(2)
    with left:
        st.metric(t(f"{NS}.prediction"), str(best), t(f"{NS}.confidence", p=f"{probs[best]:.0%}"),
                  delta_color="off", delta_arrow="off")
        _chart(plots.probability_bars(probs, title=t(f"{NS}.probabilities"), xaxis=t(f"{NS}.class"),
                                      yaxis=t(f"{NS}.probability")), "probs")
    for key in result.warnings:
        left.warning(t(key, n=result.components))
    if probs[best] < UNSURE:
        left.warning(t(f"{NS}.warn.unsure", p=f"{probs[best]:.0%}"))
    with right:
        method = choice("radio", t(f"{NS}.explain"), EXPLAIN, key=f"{NS}.explain", horizontal=True,
                        format=lambda m: t(f"{NS}.explain.{m}"))
        heat = inside.grad_cam(model, x) if method == "gradcam" else inside.saliency(model, x)
        _chart(plots.gradcam_figure(result.digit, heat, title=t(f"{NS}.explain.title", digit=best)), "cam")
        st.caption(t(f"{NS}.explain.help.{method}"))


def _show_layers(model, result: digits.Preprocessed) -> None:
    st.subheader(t(f"{NS}.layers"))
    shared = st.toggle(t(f"{NS}.shared_scale"), value=True, key=f"{NS}.shared_scale")
    maps = inside.feature_maps(model, inside.to_input(result.digit))
    labels = inside.layer_labels(model)  # ids ("conv1") for chart keys; names in the user's language below
    modules = inside.feature_layers(model)
    names = {n: t(f"common.layer.{kind}", n=i) for n, (kind, i) in zip(modules, numbered(modules.values()))}
    shown = [n for n in maps if layer_kind(modules[n]) in ("conv", "pool")]
    zrange = (min(float(maps[n].min()) for n in shown), max(float(maps[n].max()) for n in shown))
    hover = _hover(t(f"{NS}.hover_map"))
    for name in shown:
        a = maps[name][0]
        title = t(f"{NS}.layer_title", label=names[name], shape=" × ".join(map(str, a.shape)))
        grid = plots.feature_grid(a, title=title, shared_scale=shared, zrange=zrange, hover=hover)
        if layer_kind(modules[name]) == "conv":
            left, right = st.columns([1, 2])
            with left:
                _chart(plots.filter_grid(modules[name].weight, title=t(f"{NS}.filters", label=names[name]),
                                         hover=_hover(t(f"{NS}.hover_filter"))), f"filters_{labels[name]}")
                st.caption(t(SIGNED_LEGEND_KEY))
            with right:
                _chart(grid, f"maps_{labels[name]}")
        else:
            _chart(grid, f"maps_{labels[name]}")
    st.caption(t(f"{NS}.shared_scale_help"))
    _show_presets(model)
    st.subheader(t(f"{NS}.stats"))
    rows = [{t(f"{NS}.stats.layer"): names[s.name], t(f"{NS}.stats.shape"): " × ".join(map(str, s.shape)),
             t(f"{NS}.stats.mean"): s.mean, t(f"{NS}.stats.std"): s.std, t(f"{NS}.stats.min"): s.min,
             t(f"{NS}.stats.max"): s.max, t(f"{NS}.stats.zero"): s.zero_fraction,
             t(f"{NS}.stats.dead"): s.dead_channels} for s in inside.layer_stats(maps)]
    st.dataframe(rows, key=f"{NS}.stats_table", hide_index=True)


def _show_presets(model) -> None:
    conv = inside.first_conv(model)
    if conv.in_channels != 1:
        return
    weights = conv.weight.detach()[:, 0].numpy()
    found = inside.closest_presets(weights, PRESETS)
    with st.expander(t(f"{NS}.presets")):
        st.caption(t(f"{NS}.presets_help"))
        cells = [t(f"{NS}.preset_match", i=i, preset=t(preset_label_key(name)), cos=f"{cos:+.2f}")
                 for i, (name, cos) in enumerate(found)]
        st.markdown("\n".join(f"- {c}" for c in cells))


def _photo_tab() -> None:
    st.caption(t(f"{NS}.photo_intro"))
    cached = imagenet.cached_archs()
    if not cached:
        st.warning(t(f"{NS}.imagenet.offline_note"))
        try:
            st.page_link(KERNEL_LAB, label=t(f"{NS}.imagenet.kernel_lab"), icon=":material/grid_on:")
        except StreamlitAPIException:  # page run on its own (no navigation): no page to link to
            pass
        arch = st.selectbox(t(f"{NS}.imagenet.arch"), list(imagenet.ARCHS), key=f"{NS}.download_arch",
                            format_func=lambda a: imagenet.ARCHS[a])
        if st.button(t(f"{NS}.imagenet.download", mb=f"{imagenet.download_size_mb(arch):.0f}"),
                     key=f"{NS}.download"):
            try:
                with st.spinner(t(f"{NS}.imagenet.downloading")):
                    imagenet.download_weights(arch)
                st.rerun()
            except imagenet.WeightsError as err:
                st.error(t(err.key, **err.params))
        return
    arch = st.selectbox(t(f"{NS}.imagenet.arch"), cached, key=f"{NS}.arch",
                        format_func=lambda a: imagenet.ARCHS[a])
    samples = sample_images()
    upload = st.file_uploader(t(f"{NS}.photo_upload"), key=f"{NS}.photo_upload", max_upload_size=UPLOAD_WIDGET_MB)
    try:
        data = upload.getvalue() if upload is not None else samples["cat"].read_bytes()
        rgb = load_image(data)
        model = _imagenet_model(arch)
    except (ImageError, imagenet.WeightsError) as err:
        st.error(f"{t('common.error_prefix')}: {t(err.key, **err.params)}")
        return
    result = imagenet.classify_photo(model, rgb, imagenet.categories(arch))
    left, right = st.columns([1, 2])
    left.image(result.input_image, caption=t(f"{NS}.imagenet.crop"))
    with right:
        names, probs = zip(*result.top5)
        _chart(plots.probability_bars(np.array(probs), labels=list(names), title=t(f"{NS}.imagenet.top5")),
               "top5")
    left, right = st.columns([1, 2])
    with left:
        _chart(plots.rgb_filter_grid(result.filters, title=t(f"{NS}.imagenet.filters")), "rgb_filters")
    with right:
        _chart(plots.feature_grid(result.responses, title=t(f"{NS}.imagenet.responses"), max_maps=32,
                                  hover=_hover(t(f"{NS}.hover_map"))), "responses")


def main() -> None:
    through_app()
    st.title(t(f"{NS}.title"))
    st.markdown(t(f"{NS}.intro"))
    lesson_link([links.Field("source", f"{NS}.source", links.one_of(SOURCES)),
                 links.Field("digit", f"{NS}.test_index", links.whole(0, len(_test_set().labels) - 1)),
                 links.Field("explain", f"{NS}.explain", links.one_of(EXPLAIN))], page=NS)
    digit_tab, photo_tab = st.tabs([t(f"{NS}.tab.digit"), t(f"{NS}.tab.photo")])
    with digit_tab:
        model, note = _model()
        st.caption(note)
        result = _input()
        if result is not None:
            _show_steps(result)
            _show_prediction(model, result)
            _show_layers(model, result)
    with photo_tab:
        _photo_tab()


main()
