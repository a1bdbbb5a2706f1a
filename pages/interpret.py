"""Inside the trained network: what it learned and whether to trust it, for the bundled model, the Train
page's run or a builder run. Heavy work (feature visualisation, t-SNE) runs in worker processes, cached
per model: the bundled model's results are shared by every session of the server."""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st
import torch

from explorer import interpret as ip
from explorer.activations import digits, inside
from explorer.activations import plots as act_plots
from explorer.core import links, workers
from explorer.core.data import load_embedded
from explorer.core.figures import SIGNED_LEGEND_KEY, clicked_point
from explorer.core.images import UPLOAD_WIDGET_MB, ImageError
from explorer.core.models import numbered
from explorer.core.session import chart, choice, drawing_pad, get, lesson_link, run_job, t, tabs, through_app
from explorer.interpret import plots, view
from explorer.training import TrainingError
from explorer.training import plots as train_plots

NS = "interpret"
RUNNERS = {"session": "train.runner", "builder": "builder.runner"}  # model kind -> its page's Runner
TABS = ("features", "attribution", "adversarial", "embedding", "timelapse", "confusion")
SOURCES = ("test", "draw", "upload")
STEPS = (64, 128, 256, 512)  # optimisation steps offered for feature visualisation
EPS_MAX, SWEEP = 0.5, 51  # FGSM strengths shown: 0 … EPS_MAX, SWEEP points on the curve
MAX_TEST = 2000  # test images of a builder's own data kept for these views
PX = view.PICTURE_PX


@st.cache_resource
def _bundled() -> view.Subject:
    test = load_embedded("test")
    return view.subject("bundled", inside.load_bundled_model(), test.images, test.labels)


@st.cache_resource
def _shared() -> workers.Results:
    return workers.Results(size=64)  # the bundled model's results, computed once for every session


def _trained(runner) -> bool:
    return runner is not None and runner.alive and runner.snapshot is not None and runner.snapshot.step > 0


def _copy(kind: str, runner) -> view.Subject:
    """A frozen copy of a run's latest weights, with the test images it is judged on."""
    data = runner.data
    if data.kind == "mnist":
        test = load_embedded("test")
        images, labels = test.images, test.labels
    else:
        images, labels = data.test_images[:MAX_TEST], data.test_labels[:MAX_TEST]
        images = images.float().div(255) if images.dtype == torch.uint8 else images
    return view.subject(kind, runner.model(), images, labels, classes=data.classes, step=runner.snapshot.step)


def _subject() -> view.Subject:
    kinds = ["bundled"] + [k for k, key in RUNNERS.items() if _trained(st.session_state.get(key))]
    kind = choice("radio", t(f"{NS}.model"), kinds, key=f"{NS}.model", horizontal=True,
                  format=lambda k: t(f"{NS}.model.{k}"))
    if kind != "bundled":
        runner, held = st.session_state[RUNNERS[kind]], st.session_state.get(f"{NS}.copy.{kind}")
        try:
            if held is None or held[0] is not runner:
                held = st.session_state[f"{NS}.copy.{kind}"] = (runner, _copy(kind, runner))
        except TrainingError as err:
            st.error(t(err.key, **err.params))
        else:
            subject = held[1]
            with st.container(horizontal=True, vertical_alignment="center"):
                st.caption(t(f"{NS}.model.weights", step=subject.step, n=len(subject.labels)))
                if runner.snapshot.step != subject.step:
                    st.button(t(f"{NS}.model.update", step=runner.snapshot.step), key=f"{NS}.update",
                              on_click=st.session_state.pop, args=(f"{NS}.copy.{kind}",), icon=":material/sync:")
            return subject
    info = inside.bundled_info()
    st.caption(t(f"{NS}.model.bundled_note", accuracy=f"{info['test_accuracy']:.1%}", n=info["test_images"]))
    return _bundled()


def _memo(key: tuple, compute):
    """This session's last results of quick computations (a rerun that changes nothing recomputes nothing)."""
    memo = get(f"{NS}.memo", dict)
    if key not in memo:
        if len(memo) >= 24:
            memo.clear()
        memo[key] = compute()
    return memo[key]


def _store(subject: view.Subject) -> workers.Results | None:
    return _shared() if subject.kind == "bundled" else None


def _digit(subject: view.Subject, where) -> tuple[torch.Tensor, int | None] | None:
    """The image asked about (1, C, H, W) and its true class if known: a test image, or (for digit models)
    a drawn or uploaded digit made MNIST-like. None until there is one; bad input is explained."""
    with where:
        sources = SOURCES if subject.digits else SOURCES[:1]
        source = choice("radio", t(f"{NS}.source"), sources, key=f"{NS}.source",
                        format=lambda s: t(f"activations.source.{s}"))
        if source == "test":
            n = len(subject.labels)
            if st.session_state.get(f"{NS}.index", 0) >= n:
                st.session_state[f"{NS}.index"] = 0
            i = int(st.number_input(t("activations.test_index", n=n), 0, n - 1, key=f"{NS}.index"))
            x, label = subject.images[i:i + 1], int(subject.labels[i])
        else:
            x, label = _own_digit(source), None
        if x is not None:
            st.image(view.picture(x, side=2 * PX), caption=t(f"{NS}.label", label=subject.classes[label])
                     if label is not None else t(f"{NS}.yours"))
    return None if x is None else (x, label)


def _own_digit(source: str) -> torch.Tensor | None:
    try:
        if source == "draw":
            strokes = drawing_pad(key=f"{NS}.strokes", label=t("activations.pad_label"), size=196, width=14)
            st.button(t("activations.clear"), key=f"{NS}.clear", on_click=strokes.clear, disabled=not strokes,
                      icon=":material/delete:")
            if not strokes:
                st.info(t("activations.draw_first"))
                return None
            digit = digits.preprocess_steps(digits.render_strokes(strokes, size=196, width=14)).digit
        else:
            upload = st.file_uploader(t("activations.upload"), key=f"{NS}.upload", max_upload_size=UPLOAD_WIDGET_MB)
            if upload is None:
                st.info(t("activations.upload_first"))
                return None
            digit = digits.digit_from_upload(upload.getvalue()).digit
    except (ImageError, digits.DigitError) as err:
        st.error(f"{t('common.error_prefix')}: {t(err.key, **err.params)}")
        return None
    return torch.from_numpy(np.ascontiguousarray(digit, dtype=np.float32))[None, None]


def _id(x: torch.Tensor) -> str:
    return hashlib.sha1(x.numpy().tobytes()).hexdigest()[:12]


def _error(err: ip.InterpretError) -> None:
    st.error(f"{t('common.error_prefix')}: {t(err.key, **err.params)}")


# ---------------------------------------------------------------- 1. what a filter likes


def features_tab(s: view.Subject) -> None:
    st.caption(t(f"{NS}.features.help"))
    convs = view.conv_choices(s.model)
    c = st.columns(3)
    steps = c[1].select_slider(t(f"{NS}.features.steps"), STEPS, value=256, key=f"{NS}.steps")
    seed = int(c[2].number_input(t(f"{NS}.features.seed"), 0, 9999, 0, key=f"{NS}.seed"))
    if not convs:
        st.info(t(f"{NS}.error.no_conv"))
    else:
        names = {layer: t(f"{NS}.features.layer_option", n=n, channels=k) for layer, n, k in convs}
        layer = choice("selectbox", t(f"{NS}.features.layer"), list(names), key=f"{NS}.layer",
                       format=names.__getitem__, where=c[0])
        st.subheader(t(f"{NS}.features.grid", layer=names[layer].split(" (")[0]))
        gallery = run_job((s.key, "layer", layer, seed, steps), view.layer_gallery, s.model, layer, seed=seed,
                          steps=steps, shape=s.input_shape, store=_store(s))
        if gallery is not None:
            st.image([view.picture(x) for x in gallery.images], width=PX,
                     caption=[t(f"{NS}.features.channel_score", channel=ch, value=f"{v:.2f}")
                              for ch, v in zip(gallery.targets, gallery.scores)])
            st.caption(t(f"{NS}.features.grid_help"))
            channel = choice("selectbox", t(f"{NS}.features.pick"), list(gallery.targets), key=f"{NS}.channel",
                             format=lambda ch: t(f"{NS}.features.channel", channel=ch))
            order, values = _memo((s.key, "top", layer, channel), lambda: ip.top_activating(
                s.model, layer, channel, s.images[:view.EMBED_POINTS], k=9))
            st.markdown(f"**{t(f'{NS}.features.top', k=len(order))}**")
            st.image([view.picture(gallery.images[gallery.targets.index(channel)])]
                     + [view.picture(s.images[i]) for i in order], width=PX,
                     caption=[t(f"{NS}.features.optimised")] + [t(f"{NS}.features.top_score", index=int(i),
                                                                    value=f"{v:.2f}") for i, v in zip(order, values)])
    st.subheader(t(f"{NS}.features.classes"))
    classes = run_job((s.key, "classes", seed, steps), view.classes_gallery, s.model, seed=seed, steps=steps,
                      shape=s.input_shape, store=_store(s))
    if classes is not None:
        st.image([view.picture(x) for x in classes.images], width=PX,
                 caption=[t(f"{NS}.features.class_score", digit=s.classes[k], p=f"{p:.2f}")
                          for k, p in zip(classes.targets, classes.scores)])
        st.caption(t(f"{NS}.features.class_help"))


# ---------------------------------------------------------------- 2. why this prediction?


def attribution_tab(s: view.Subject) -> None:
    st.caption(t(f"{NS}.attribution.help"))
    left, right = st.columns([1, 3])
    asked = _digit(s, left)
    if asked is None:
        return
    x, _ = asked
    probs = view.probabilities(s.model, x)
    best = int(probs.argmax())
    left.metric(t(f"{NS}.prediction"), s.classes[best], f"{probs[best]:.0%}", delta_color="off", delta_arrow="off")
    target = choice("selectbox", t(f"{NS}.attribution.target"), list(range(len(s.classes))), key=f"{NS}.target",
                    format=lambda k: s.classes[k], default=best, where=left)
    with left.expander(t(f"{NS}.attribution.settings")):
        window = st.slider(t(f"{NS}.attribution.window"), 1, 8, 4, key=f"{NS}.window")
        stride = st.slider(t(f"{NS}.attribution.stride"), 1, 4, 2, key=f"{NS}.stride")
        steps = st.slider(t(f"{NS}.attribution.steps"), 10, 200, 50, step=10, key=f"{NS}.ig_steps")
    key = (s.key, _id(x), target, window, stride, steps)
    try:
        maps = _memo(("maps", *key), lambda: ip.attribution_maps(s.model, x, target, window=window, stride=stride,
                                                                  steps=steps))
        cams = _memo(("cams", *key[:3]), lambda: ip.grad_cam_layers(s.model, x, target))
    except ip.InterpretError as err:
        _error(err)
        return
    hover = t(f"{NS}.attribution.hover")
    with right:
        cols = st.columns(len(maps))
        for col, (method, attr) in zip(cols, maps.items()):
            chart(col, plots.attribution_figure(attr, title=t(f"{NS}.method.{method}"), hover=hover),
                  key=f"{NS}.map.{method}")
        st.caption(t(SIGNED_LEGEND_KEY))
        total, gap = ip.completeness(s.model, x, target, maps["integrated_gradients"])
        st.caption(t(f"{NS}.attribution.completeness", total=f"{total:.3f}", gap=f"{gap:.3f}"))
        st.markdown(f"**{t(f'{NS}.attribution.which_layer')}**")
        cols = st.columns(max(len(cams), 1))
        for col, (n, attr) in zip(cols, enumerate(cams.values(), 1)):
            chart(col, plots.attribution_figure(attr, title=t("common.layer.conv", n=n), hover=hover),
                  key=f"{NS}.cam.{n}")
        _sanity(s, x, target, window, stride, steps)


def _sanity(s: view.Subject, x: torch.Tensor, target: int, window: int, stride: int, steps: int) -> None:
    with st.expander(t(f"{NS}.sanity.title"), expanded=True):
        st.caption(t(f"{NS}.sanity.help"))
        method = choice("segmented_control", t(f"{NS}.sanity.method"), ip.METHODS, key=f"{NS}.sanity_method",
                        format=lambda m: t(f"{NS}.method.{m}"))
        check = _memo(("sanity", s.key, _id(x), target, method, window, stride, steps), lambda: ip.sanity_check(
            s.model, x, target, method=method, window=window, stride=stride, steps=steps))
        hover = t(f"{NS}.attribution.hover")
        cols = st.columns(3)
        chart(cols[0], plots.attribution_figure(check.original, title=t(f"{NS}.sanity.trained"), hover=hover),
              key=f"{NS}.sanity.before")
        chart(cols[1], plots.attribution_figure(check.randomized, title=t(f"{NS}.sanity.random"), hover=hover),
              key=f"{NS}.sanity.after")
        cols[2].metric(t(f"{NS}.sanity.similarity_label"), f"{check.similarity:+.2f}")
        cols[2].caption(t(f"{NS}.sanity.similarity", value=f"{check.similarity:+.2f}",
                          abs_value=f"{check.similarity_abs:+.2f}"))
        (cols[2].success if check.passed else cols[2].warning)(t(f"{NS}.sanity.{'passed' if check.passed else 'failed'}"))


# ---------------------------------------------------------------- 3. adversarial example


def adversarial_tab(s: view.Subject) -> None:
    st.caption(t(f"{NS}.adversarial.help"))
    left, right = st.columns([1, 3])
    asked = _digit(s, left)
    if asked is None:
        return
    x, label = asked
    if label is None:
        label = int(view.probabilities(s.model, x).argmax())
        left.caption(t(f"{NS}.adversarial.own_label", digit=s.classes[label]))
    eps = right.slider(t(f"{NS}.adversarial.eps"), 0.0, EPS_MAX, 0.1, 0.005, key=f"{NS}.eps", format="%.3f")
    key = (s.key, _id(x), label)
    result = ip.adversarial(s.model, x, label, eps)
    flip = _memo(("flip", *key), lambda: ip.smallest_flipping_eps(s.model, x, label, eps_max=EPS_MAX))
    grid = np.linspace(0, EPS_MAX, SWEEP)
    sweep = _memo(("sweep", *key), lambda: ip.eps_sweep(s.model, x, label, grid))
    with right:
        cols = st.columns(3)
        before, after = result.clean_prediction, result.prediction
        cols[0].image(view.picture(x, side=2 * PX), caption=t(f"{NS}.adversarial.before", digit=s.classes[before],
                                                               p=f"{result.clean_probabilities[before]:.0%}"))
        scale = 1 / (2 * eps) if eps > 0 else 1.0  # the perturbation, ±eps, shown as 0.5 ± 0.5
        cols[1].image(view.picture(result.perturbation * scale + 0.5, side=2 * PX),
                      caption=t(f"{NS}.adversarial.perturbation", scale=f"{scale:.0f}"))
        cols[2].image(view.picture(result.image, side=2 * PX), caption=t(f"{NS}.adversarial.after",
                                                                         digit=s.classes[after],
                                                                         p=f"{result.probabilities[after]:.0%}"))
        if flip is None:
            st.info(t(f"{NS}.adversarial.never", eps=EPS_MAX))
        elif flip == 0:
            st.warning(t(f"{NS}.adversarial.already"))
        else:
            st.info(t(f"{NS}.adversarial.smallest", eps=f"{flip:.3f}"))
        cols = st.columns(2)
        chart(cols[0], act_plots.probability_bars(result.probabilities, labels=list(s.classes),
                                                  title=t(f"{NS}.adversarial.probs", eps=f"{eps:.3f}"),
                                                  xaxis=t(f"{NS}.class"), yaxis=t(f"{NS}.probability")),
              key=f"{NS}.adv.probs")
        chart(cols[1], plots.eps_figure(grid, sweep, s.classes, chosen=eps, flip=flip, title=t(f"{NS}.adversarial.sweep"),
                                        x_title=t(f"{NS}.adversarial.eps"), y_title=t(f"{NS}.probability")),
              key=f"{NS}.adv.sweep")


# ---------------------------------------------------------------- 4. embedding map


def embedding_tab(s: view.Subject) -> None:
    st.caption(t(f"{NS}.embedding.help"))
    method = choice("segmented_control", t(f"{NS}.embedding.method"), ip.EMBED_METHODS, key=f"{NS}.embed",
                    format=lambda m: t(f"{NS}.embedding.{m}"))
    images, labels = s.images[:view.EMBED_POINTS], s.labels[:view.EMBED_POINTS]
    try:
        if method == "pca":
            found = _memo((s.key, "pca"), lambda: view.embedding(s.model, images, method="pca", progress=None))
        else:
            found = run_job((s.key, "tsne"), view.embedding, s.model, images, method="tsne", store=_store(s))
    except ip.InterpretError as err:
        _error(err)
        return
    if found is None:
        return
    features, coords = found
    left, right = st.columns([3, 1])
    asked = _digit(s, right)
    yours = None
    if asked is not None:
        yours = ip.locate(ip.penultimate_features(s.model, asked[0]), features, coords, method=method)[0]
    fig = plots.embedding_figure(coords, labels.numpy(), s.classes, title=t(f"{NS}.embedding.title", n=len(labels)),
                                 yours=yours, yours_name=t(f"{NS}.embedding.yours"), hover=t(f"{NS}.embedding.point"))
    event = chart(left, fig, key=f"{NS}.embedding.map.{method}", on_select="rerun", selection_mode="points")
    by_pca = method == ip.EMBED_METHODS[0]  # PCA shows its explained variance; t-SNE has none
    note = (t(f"{NS}.embedding.variance", share=f"{ip.pca(features).variance_ratio.sum():.0%}") if by_pca
            else t(f"{NS}.embedding.tsne_note"))
    left.caption(note)
    point = clicked_point(event)
    if point is not None and isinstance(point.get("customdata"), (int, float)):
        i = int(point["customdata"])
        predicted = int(view.predictions(s.model, images[i:i + 1])[0])
        right.image(view.picture(images[i], side=2 * PX), caption=t(
            f"{NS}.embedding.clicked", index=i, label=s.classes[int(labels[i])], predicted=s.classes[predicted]))
    else:
        left.caption(t(f"{NS}.embedding.click"))


# ---------------------------------------------------------------- 5. training time-lapse


def timelapse_tab(s: view.Subject) -> None:
    st.caption(t(f"{NS}.timelapse.help"))
    runner = st.session_state.get(RUNNERS[s.kind]) if s.kind in RUNNERS else None
    frames = [] if runner is None else _memo(("frames", id(runner), runner.snapshot.step), runner.frames)
    if not frames:
        st.info(t(f"{NS}.timelapse.none"))
        return
    steps = [f.step for f in frames]
    step = st.select_slider(t(f"{NS}.timelapse.slider"), steps, value=steps[-1], key=f"{NS}.frame.{id(runner)}")
    frame = frames[steps.index(step)]
    bound = ip.TimelapseConfig()
    used = sum(f.memory_bytes() for f in frames) / 2**20  # MB
    st.caption(t(f"{NS}.timelapse.bound", frames=bound.max_frames, mb=f"{bound.max_mb:g}", count=len(frames),
                 used=f"{used:.1f}"))
    st.subheader(t(f"{NS}.timelapse.frame", step=step, epoch=f"{frame.epoch:.2f}"))
    modules = dict(s.model.named_modules())
    names = {name: t(f"common.layer.{kind}", n=n) for name, (kind, n) in zip(modules, numbered(modules.values()))}
    left, right = st.columns(2)
    first = next(iter(frame.filters), None)
    if first is not None:
        chart(left, train_plots.filters_figure(torch.from_numpy(frame.filters[first].astype(np.float32)),
                                               title=t(f"{NS}.timelapse.filters", layer=names.get(first, first))),
              key=f"{NS}.tl.filters")
    maps = [(names.get(layer, layer), torch.from_numpy(m.astype(np.float32))) for layer, m in frame.maps.items()
            if m.ndim == 3]
    if maps:
        right.caption(t(f"{NS}.timelapse.maps"))
        chart(right, train_plots.feature_maps_figure(maps), key=f"{NS}.tl.maps")
    if frame.confusion is not None:
        chart(left, train_plots.confusion_figure(torch.from_numpy(frame.confusion), classes=s.classes,
                                                 title=t(f"{NS}.timelapse.accuracy", accuracy=f"{frame.accuracy:.1%}"),
                                                 true_title=t(f"{NS}.confusion.true"),
                                                 predicted_title=t(f"{NS}.confusion.predicted")), key=f"{NS}.tl.conf")
    st.subheader(t(f"{NS}.timelapse.histograms"))
    for n, layer in enumerate(frame.weights, 1):
        cols = st.columns(2)
        for col, kind in zip(cols, ("weights", "gradients")):
            hist = getattr(frame, kind).get(layer)
            if hist is None:
                continue
            chart(col, plots.histogram_figure(hist, title=t(f"{NS}.timelapse.{kind}", layer=names.get(layer, layer)),
                                              x_title=t(f"{NS}.timelapse.value"), y_title=t(f"{NS}.timelapse.count")),
                  key=f"{NS}.tl.{kind}.{n}")
            if hist.outside:
                col.caption(t(f"{NS}.timelapse.outside", count=hist.outside))


# ---------------------------------------------------------------- 6. confusion matrix


def confusion_tab(s: view.Subject) -> None:
    st.caption(t(f"{NS}.confusion.help"))
    predicted, matrix = _memo((s.key, "confusion"), lambda: view.confusion(s))
    left, right = st.columns([3, 2])
    fig = train_plots.confusion_figure(torch.from_numpy(matrix), classes=s.classes, true_title=t(f"{NS}.confusion.true"),
                                       title=t(f"{NS}.confusion.title", n=len(predicted)),
                                       predicted_title=t(f"{NS}.confusion.predicted"))
    point = clicked_point(chart(left, fig, key=f"{NS}.confusion.chart", on_select="rerun", selection_mode="points"))
    with right:
        if point is not None and point.get("x") in s.classes and point.get("y") in s.classes:
            true, pred = s.classes.index(point["y"]), s.classes.index(point["x"])
            found = ip.confusion_cell(predicted, s.labels.numpy(), true, pred)
            if len(found):
                st.markdown(f"**{t(f'{NS}.confusion.cell', true=point['y'], predicted=point['x'], count=len(found))}**")
                st.image([view.picture(s.images[i]) for i in found[:40]], width=PX, caption=[f"#{i}" for i in found[:40]])
            else:
                st.info(t(f"{NS}.confusion.empty_cell", true=point["y"], predicted=point["x"]))
        st.markdown(f"**{t(f'{NS}.confusion.top')}**")
        st.markdown("\n".join(f"- {t(f'{NS}.confusion.mistake', true=s.classes[a], predicted=s.classes[b], count=n)}"
                              for a, b, n in ip.top_confusions(matrix)) or t(f"{NS}.confusion.none"))


def link_fields() -> list[links.Field]:
    """The settings a teacher's link can set: /interpret?view=adversarial&digit=7&eps=0.1."""
    return [links.Field("view", f"{NS}.tab", links.one_of(TABS)),
            links.Field("digit", f"{NS}.index", links.whole(0, view.EMBED_POINTS - 1)),
            links.Field("eps", f"{NS}.eps", links.number(0.0, EPS_MAX))]


def main() -> None:
    through_app()
    st.title(t(f"{NS}.title"))
    st.markdown(t(f"{NS}.intro"))
    lesson_link(link_fields(), page=NS)
    subject = _subject()
    views = {"features": features_tab, "attribution": attribution_tab, "adversarial": adversarial_tab,
             "embedding": embedding_tab, "timelapse": timelapse_tab, "confusion": confusion_tab}
    for name, tab in tabs(TABS, key=f"{NS}.tab", format=lambda k: t(f"{NS}.tab.{k}")).items():
        if tab.open:
            with tab:
                views[name](subject)


main()
