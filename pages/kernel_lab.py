"""Kernel lab: slide preset or custom kernels over your own images; pooling; lecture step-through."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from explorer.core import images
from explorer.core.samples import sample_images
from explorer.core.session import chart, get, t
from explorer.kernels import ops as kn
from explorer.kernels import plots as kp
from explorer.kernels import stepthrough as stp

NS = "kernel_lab"
SOURCES = ("sample", "upload", "camera")  # option ids; labels come from kernel_lab.source_<id>
POOL_TARGETS = ("output", "input")
POOL_KINDS = ("max", "avg")


def _fixed(key_of):
    """A format_func whose texts are translated now (AppTest calls it later, outside the session)."""
    cache: dict = {}

    def label(option) -> str:
        if option not in cache:
            cache[option] = t(key_of(option))
        return cache[option]
    return label


def _frame(cells: list[list[object]]) -> pd.DataFrame:
    """Editor data: float columns when every cell is a number, text otherwise (so bad cells show)."""
    numeric = all(isinstance(c, (int, float)) and not isinstance(c, bool) for row in cells for c in row)
    frame = pd.DataFrame(cells, columns=[str(i + 1) for i in range(len(cells[0]))])
    return frame.astype(float) if numeric else frame.astype(str)


def _set_grid(cells: list[list[object]]) -> None:
    st.session_state[f"{NS}.grid"] = cells
    st.session_state[f"{NS}.editor_version"] = st.session_state.get(f"{NS}.editor_version", 0) + 1
    rows, cols = len(cells), len(cells[0]) if cells else 1
    if 1 <= rows <= kn.MAX_SIZE and 1 <= cols <= kn.MAX_SIZE:
        st.session_state[f"{NS}.rows"], st.session_state[f"{NS}.cols"] = rows, cols


def _load_preset() -> None:
    _set_grid(kn.PRESETS[st.session_state[f"{NS}.preset"]].tolist())


def _resize() -> None:
    old = np.asarray(st.session_state[f"{NS}.kernel"])
    new = np.zeros((st.session_state[f"{NS}.rows"], st.session_state[f"{NS}.cols"]))
    r, c = min(old.shape[0], new.shape[0]), min(old.shape[1], new.shape[1])
    new[:r, :c] = old[:r, :c]
    _set_grid(new.tolist())


def _normalise() -> None:
    try:
        _set_grid(np.round(kn.normalize(st.session_state[f"{NS}.kernel"]), 6).tolist())
    except kn.KernelError as err:
        st.session_state[f"{NS}.notice"] = (err.key, err.params)


def _randomise() -> None:
    rng = get(f"{NS}.rng", np.random.default_rng)  # per-session generator
    _set_grid(kn.random_kernel(st.session_state[f"{NS}.rows"], st.session_state[f"{NS}.cols"], rng=rng).tolist())


def _from_text() -> None:
    cells = kn.parse_text_grid(st.session_state.get(f"{NS}.kernel_text", ""))
    if cells:
        st.session_state[f"{NS}.grid"] = cells
        st.session_state[f"{NS}.editor_version"] = st.session_state.get(f"{NS}.editor_version", 0) + 1


def _show_error(err: kn.KernelError | images.ImageError) -> None:
    st.error(f"{t('common.error_prefix')}: {t(err.key, **err.params)}")
    st.info(t("common.kept_previous"))


def _new_image() -> np.ndarray | None:
    """The image from the chosen source if it is new and loads; errors are shown and remembered."""
    source = st.radio(t(f"{NS}.source"), SOURCES, key=f"{NS}.source", horizontal=True,
                      format_func=_fixed(lambda s: f"{NS}.source_{s}"))
    samples = sample_images()
    ident, read = None, None
    if source == "sample":
        name = st.selectbox(t(f"{NS}.sample"), list(samples), key=f"{NS}.sample",
                            format_func=_fixed(lambda n: f"samples.{n}"))
        ident, read = ("sample", name), samples[name].read_bytes
    else:
        widget = st.file_uploader if source == "upload" else st.camera_input
        kwargs = {"type": list(images.EXTENSIONS)} if source == "upload" else {}
        got = widget(t(f"{NS}.{source}"), key=f"{NS}.{source}", **kwargs)
        if got is not None:
            ident, read = (source, got.file_id), got.getvalue
    if ident is None or ident == st.session_state.get(f"{NS}.source_id"):
        error = st.session_state.get(f"{NS}.source_error")
        if error and error[0] == ident:
            _show_error(images.ImageError(error[1], **error[2]))
        return None
    st.session_state[f"{NS}.source_id"] = ident
    try:
        return images.load_image(read())
    except images.ImageError as err:
        st.session_state[f"{NS}.source_error"] = (ident, err.key, err.params)
        _show_error(err)
        return None


def _kernel_editor():
    """Preset picker + editable grid -> (parsed kernel or None when a cell is bad, slot for its figure)."""
    left, right = st.columns([3, 1])
    preset = left.selectbox(t(f"{NS}.preset"), list(kn.PRESETS), key=f"{NS}.preset", on_change=_load_preset,
                            format_func=_fixed(lambda n: kn.preset_label_key(n)))
    left.caption(t(kn.preset_why_key(preset)))
    slot = right.empty()  # filled by the caller once the kernel in use is known
    with left.expander(t(f"{NS}.edit_kernel"), expanded=False):
        c1, c2 = st.columns(2)
        c1.number_input(t(f"{NS}.rows"), 1, kn.MAX_SIZE, key=f"{NS}.rows", on_change=_resize)
        c2.number_input(t(f"{NS}.cols"), 1, kn.MAX_SIZE, key=f"{NS}.cols", on_change=_resize)
        b1, b2, b3 = st.columns(3)
        b1.button(t(f"{NS}.reset"), key=f"{NS}.reset_button", on_click=_load_preset)
        b2.button(t(f"{NS}.normalise"), key=f"{NS}.normalise_button", on_click=_normalise)
        b3.button(t(f"{NS}.random"), key=f"{NS}.random_button", on_click=_randomise)
        notice = st.session_state.pop(f"{NS}.notice", None)
        if notice:
            st.warning(t(notice[0], **notice[1]))
        version = st.session_state.get(f"{NS}.editor_version", 0)
        edited = st.data_editor(_frame(st.session_state[f"{NS}.grid"]), key=f"{NS}.editor.{version}",
                                hide_index=True, num_rows="fixed")
        st.text_area(t(f"{NS}.kernel_text"), key=f"{NS}.kernel_text", on_change=_from_text,
                     placeholder="-1 0 1\n-1 0 1\n-1 0 1", height=100)
    try:
        return kn.parse_kernel(edited.to_numpy().tolist()), slot
    except kn.KernelError as err:
        _show_error(err)
        return None, slot


def _options() -> dict:
    """Colour mode and convolution options from the widgets (not validated here)."""
    c1, c2, c3, c4, c5 = st.columns(5)
    colour = c1.radio(t(f"{NS}.colour"), kn.COLOUR_MODES, key=f"{NS}.colour",
                      format_func=_fixed(lambda m: f"{NS}.colour_{m}"))
    stride = c2.number_input(t(f"{NS}.stride"), value=1, step=1, key=f"{NS}.stride")
    same = c3.checkbox(t(f"{NS}.same"), key=f"{NS}.same", help=t(f"{NS}.same_help"))
    padding = c3.number_input(t(f"{NS}.padding"), value=0, step=1, key=f"{NS}.padding", disabled=same)
    dilation = c4.number_input(t(f"{NS}.dilation"), value=1, step=1, key=f"{NS}.dilation")
    mode = c5.selectbox(t(f"{NS}.padding_mode"), kn.PADDING_MODES, key=f"{NS}.padding_mode",
                        format_func=_fixed(lambda m: f"{NS}.mode_{m}"))
    weights = (1 / 3, 1 / 3, 1 / 3)
    if colour == "depth":
        cols = st.columns(3)
        weights = tuple(cols[i].number_input(t(f"{NS}.depth_weight", channel="RGB"[i]), value=round(1 / 3, 4),
                                             step=0.1, format="%.4f", key=f"{NS}.depth_{i}") for i in range(3))
    return {"colour": colour, "stride": int(stride), "padding": "same" if same else int(padding),
            "dilation": int(dilation), "padding_mode": mode, "channel_weights": weights}


def _image_lab() -> None:
    new = _new_image()
    if new is not None:  # a decoded image waits here until it works with the kernel and options
        st.session_state[f"{NS}.pending"] = new
    kernel, slot = _kernel_editor()
    options = _options()
    valid = st.session_state[f"{NS}.valid"]
    image = st.session_state.get(f"{NS}.pending", valid["image"])
    kernel = kernel if kernel is not None else valid["kernel"]
    small = valid["preview"] if image is valid["image"] else images.preview(image)  # <= 1.5 MP
    try:
        raw = kn.filter_image(small, kernel, **options)
        valid.update(image=image, preview=small, kernel=kernel, options=options)
        st.session_state.pop(f"{NS}.pending", None)
    except kn.KernelError as err:
        _show_error(err)
        raw = kn.filter_image(valid["preview"], valid["kernel"], **valid["options"])
    st.session_state[f"{NS}.kernel"] = valid["kernel"]
    chart(slot, kp.kernel_figure(valid["kernel"], height=170), key=f"{NS}.kernel_fig")
    _show_result(valid, raw)


def _input_source(shown: np.ndarray, colour: str) -> str | None:
    """The input picture's encoded source, made once per image and colour mode (None if small)."""
    if shown.shape[0] * shown.shape[1] <= kp.HOVER_PIXELS:
        return None
    ident = (id(st.session_state[f"{NS}.valid"]["preview"]), colour)
    cached = st.session_state.get(f"{NS}.input_source")
    if not cached or cached[0] != ident:
        cached = st.session_state[f"{NS}.input_source"] = (ident, kp.image_source(shown))
    return cached[1]


def _show_result(valid: dict, raw: np.ndarray) -> None:
    image, shown, kernel, options = valid["image"], valid["preview"], valid["kernel"], valid["options"]
    if options["colour"] == "gray":
        shown = np.rint(images.to_gray(shown)).astype(np.uint8)
    pads = kn.resolve_padding(options["padding"], kernel.shape, dilation=options["dilation"])
    for n, k, p, sym in [(shown.shape[0], kernel.shape[0], pads[:2], "H"), (shown.shape[1], kernel.shape[1], pads[2:], "W")]:
        st.latex(kn.size_formula(n, k, stride=options["stride"], pads=p, dilation=options["dilation"], symbol=sym))
    mode = st.radio(t(f"{NS}.display"), kn.DISPLAY_MODES, key=f"{NS}.display", horizontal=True,
                    format_func=_fixed(lambda m: f"{NS}.display_{m}"))
    display = kn.to_display(raw, mode=mode)
    left, right = st.columns(2)
    chart(left, kp.image_figure(shown, raw=shown, source=_input_source(shown, options["colour"]),
                                title=t(f"{NS}.input_title", h=shown.shape[0], w=shown.shape[1])),
          key=f"{NS}.input_fig")
    chart(right, kp.image_figure(display, raw=raw, title=t(f"{NS}.output_title", h=raw.shape[0], w=raw.shape[1])),
          key=f"{NS}.output_fig")
    chart(st, kp.histogram_figure(raw, title=t(f"{NS}.histogram")), key=f"{NS}.histogram_fig")
    # PNG bytes are made only when a download is clicked (deferred data)
    st.download_button(t("common.download_png"), lambda: images.to_png(display), file_name="kernel_output.png",
                       mime="image/png", key=f"{NS}.download", on_click="ignore")
    if image.shape[0] * image.shape[1] > images.PREVIEW_PIXELS:
        st.caption(t(f"{NS}.preview_note", h=image.shape[0], w=image.shape[1]))
        st.download_button(t(f"{NS}.download_full"), file_name="kernel_output_full.png", mime="image/png",
                           data=lambda: images.to_png(kn.to_display(kn.filter_image(image, kernel, **options), mode=mode)),
                           key=f"{NS}.download_full", on_click="ignore")
    _pooling(shown, display, raw)


def _pooling(shown: np.ndarray, display: np.ndarray, raw: np.ndarray) -> None:
    st.subheader(t(f"{NS}.pooling"))
    c1, c2, c3, c4, c5 = st.columns(5)
    target = c1.radio(t(f"{NS}.pool_target"), POOL_TARGETS, key=f"{NS}.pool_target",
                      format_func=_fixed(lambda s: f"{NS}.pool_{s}"))
    kind = c2.radio(t(f"{NS}.pool_kind"), POOL_KINDS, key=f"{NS}.pool_kind",
                    format_func=_fixed(lambda s: f"{NS}.pool_{s}"))
    size = c3.number_input(t(f"{NS}.pool_size"), 1, 16, 2, key=f"{NS}.pool_size")
    stride = c4.number_input(t(f"{NS}.pool_stride"), 1, 16, 2, key=f"{NS}.pool_stride")
    padding = c5.number_input(t(f"{NS}.pool_padding"), 0, 8, 0, key=f"{NS}.pool_padding")
    source = raw if target == "output" else shown.astype(np.float64)
    try:
        pooled = kn.pool(source, kind=kind, size=int(size), stride=int(stride), padding=int(padding))
    except kn.KernelError as err:
        _show_error(err)
        return
    mode = st.session_state[f"{NS}.display"] if target == "output" else "clip"
    st.caption(t(f"{NS}.pool_sizes", h=source.shape[0], w=source.shape[1], oh=pooled.shape[0], ow=pooled.shape[1],
                 ratio=f"{source.shape[0] * source.shape[1] / max(pooled.shape[0] * pooled.shape[1], 1):.1f}"))
    chart(st, kp.image_figure(kn.to_display(pooled, mode=mode), raw=pooled, height=320,
                              title=t(f"{NS}.pool_title", h=pooled.shape[0], w=pooled.shape[1])),
          key=f"{NS}.pool_fig")


def _step_through() -> None:
    name = st.selectbox(t(f"{NS}.example"), list(stp.EXAMPLES), key=f"{NS}.example",
                        format_func=_fixed(lambda n: f"{NS}.example.{n}"))
    ex = stp.EXAMPLES[name]
    st.caption(t(f"{NS}.example_note.{name}"))
    c1, c2 = st.columns(2)
    stride = c1.number_input(t(f"{NS}.stride"), value=ex.stride, step=1, key=f"{NS}.st_stride.{name}")
    padding = c2.number_input(t(f"{NS}.padding"), value=ex.padding, step=1, key=f"{NS}.st_padding.{name}")
    matrix, kernel = ex.matrix, ex.kernel
    with st.expander(t(f"{NS}.edit_numbers")):
        try:
            matrix = kn.parse_kernel(st.data_editor(_frame(ex.matrix.tolist()), key=f"{NS}.st_matrix.{name}",
                                                    hide_index=True).to_numpy().tolist())
            if ex.kernel is not None:
                kernel = kn.parse_kernel(st.data_editor(_frame(ex.kernel.tolist()), key=f"{NS}.st_kernel.{name}",
                                                        hide_index=True).to_numpy().tolist())
        except kn.KernelError as err:
            _show_error(err)
            matrix, kernel = ex.matrix, ex.kernel
    try:
        all_steps = stp.steps(matrix, op=ex.op, kernel=kernel, size=ex.size, stride=int(stride), padding=int(padding))
    except kn.KernelError as err:
        _show_error(err)
        all_steps, stride, padding = stp.run_example(ex), ex.stride, ex.padding
        matrix, kernel = ex.matrix, ex.kernel
    playing = st.toggle(t(f"{NS}.play"), key=f"{NS}.play")
    _stepper(all_steps, matrix, kernel, ex, int(padding), playing)


def _stepper(all_steps, matrix, kernel, ex, padding: int, playing: bool) -> None:
    pos_key = f"{NS}.position.{ex.name}"
    if st.session_state.get(pos_key, 1) > len(all_steps):
        st.session_state[pos_key] = 1

    @st.fragment(run_every=1.2 if playing else None)
    def show() -> None:
        if playing:
            st.session_state[pos_key] = st.session_state.get(pos_key, 0) % len(all_steps) + 1
        pos = st.slider(t(f"{NS}.position"), 1, len(all_steps), key=pos_key)
        step = all_steps[pos - 1]
        win = step.window.shape
        c1, c2, c3 = st.columns([3, 2, 3])
        chart(c1, kp.matrix_figure(stp.pad_matrix(matrix, padding), padding=padding, title=t(f"{NS}.st_input"),
                                   window=(step.top, step.left, *win)), key=f"{NS}.st_in_fig", width="content")
        if kernel is not None:
            chart(c2, kp.kernel_figure(kernel, title=t(f"{NS}.st_kernel")), key=f"{NS}.st_k_fig", width="content")
        chart(c3, kp.matrix_figure(stp.result(all_steps, upto=pos), title=t(f"{NS}.st_output"),
                                   window=(step.out_row, step.out_col, 1, 1), colorscale="Oranges"),
              key=f"{NS}.st_out_fig", width="content")
        st.caption(t(f"{NS}.step_caption", pos=pos, n=len(all_steps), row=step.out_row + 1, col=step.out_col + 1,
                     top=step.top, left=step.left))
        st.code(stp.step_formula(step, kernel=kernel, op=ex.op), language=None)

    show()


def main() -> None:
    st.title(t(f"{NS}.title"))
    st.markdown(t(f"{NS}.intro"))
    if f"{NS}.valid" not in st.session_state:
        first = next(iter(sample_images().values()))
        start = kn.PRESETS[st.session_state.setdefault(f"{NS}.preset", "lecture_vertical_edge")]
        image = images.load_image(first.read_bytes())
        st.session_state[f"{NS}.valid"] = {"image": image, "preview": images.preview(image), "kernel": start,
                                           "options": {"colour": "rgb", "stride": 1, "padding": 0, "dilation": 1,
                                                       "padding_mode": "zeros"}}
        st.session_state[f"{NS}.kernel"] = start
        _set_grid(start.tolist())
    lab, steps_tab = st.tabs([t(f"{NS}.tab_lab"), t(f"{NS}.tab_steps")])
    with lab:
        _image_lab()
    with steps_tab:
        _step_through()


main()
