"""Kernel lab: slide preset or custom kernels over your own images; pooling; lecture step-through; im2col;
transposed convolution; the PyTorch code of every configuration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from explorer.core import images, links
from explorer.core.samples import sample_images
from explorer.core.session import chart, choice, get, lang, lesson_link, t, tabs, through_app
from explorer.kernels import code as kcode
from explorer.kernels import editor, view
from explorer.kernels import ops as kn
from explorer.kernels import plots as kp
from explorer.kernels import stepthrough as stp
from explorer.kernels import transposed as tr
from explorer.shapes import ShapeError

NS = "kernel_lab"
SOURCES = ("sample", "upload", "camera")  # option ids; labels come from kernel_lab.source_<id>
POOL_TARGETS = ("output", "input")
POOL_KINDS = ("max", "avg")
TABS = ("lab", "steps", "im2col", "transposed")
PRESET, BASE, GRID, TEXT = f"{NS}.preset", f"{NS}.base_preset", f"{NS}.grid", f"{NS}.kernel_text"
ROWS, COLS, VERSION = f"{NS}.rows", f"{NS}.cols", f"{NS}.editor_version"


def _text(prefix: str):
    """An option's translated text, for `choice`."""
    return lambda option: t(f"{prefix}{option}")


def _set_grid(cells: list[list[str]], *, custom: bool = True, text: bool = True) -> None:
    """New editor cells (callbacks only): the editor restarts from them, Rows/Cols and the text box follow."""
    st.session_state[GRID] = cells
    st.session_state[VERSION] = st.session_state.get(VERSION, 0) + 1
    rows, cols = len(cells), len(cells[0]) if cells else 0
    if 1 <= rows <= kn.MAX_SIZE and 1 <= cols <= kn.MAX_SIZE:
        st.session_state[ROWS], st.session_state[COLS] = rows, cols
    if text:
        st.session_state[TEXT] = editor.cells_text(cells)
    if custom:
        st.session_state[PRESET] = editor.CUSTOM


def _preset_chosen() -> None:
    if st.session_state[PRESET] != editor.CUSTOM:
        st.session_state[BASE] = st.session_state[PRESET]
        _set_grid(editor.kernel_cells(kn.PRESETS[st.session_state[BASE]]), custom=False)


def _reset() -> None:
    st.session_state[PRESET] = st.session_state[BASE]
    _set_grid(editor.kernel_cells(kn.PRESETS[st.session_state[BASE]]), custom=False)


def _edited() -> None:
    delta = st.session_state.get(f"{NS}.editor.{st.session_state.get(VERSION, 0)}") or {}
    _set_grid(editor.apply_edits(st.session_state[GRID], delta.get("edited_rows", {})))


def _resize() -> None:
    _set_grid(editor.resized(st.session_state[GRID], st.session_state[ROWS], st.session_state[COLS]))


def _normalise() -> None:
    try:
        _set_grid(editor.kernel_cells(kn.normalize(kn.parse_kernel(st.session_state[GRID]))))
    except kn.KernelError as err:
        st.session_state[f"{NS}.notice"] = (err.key, err.params)


def _randomise() -> None:
    rng = get(f"{NS}.rng", np.random.default_rng)  # per-session generator
    _set_grid(editor.kernel_cells(kn.random_kernel(st.session_state[ROWS], st.session_state[COLS], rng=rng)))


def _from_text() -> None:
    cells = kn.parse_text_grid(st.session_state.get(TEXT, ""))
    if cells:
        _set_grid(cells, text=False)


def _show_error(err: kn.KernelError | images.ImageError | ShapeError) -> None:
    st.error(f"{t('common.error_prefix')}: {t(err.key, **err.params)}")
    st.info(t("common.kept_previous"))


def _show(blocks: list) -> None:
    """Draw a view (`explorer.kernels.view`): texts, code and rows of figures, in order."""
    for kind, body in blocks:
        if kind == "figures":
            with st.container(horizontal=True, gap="medium"):  # as wide as their cells, wrapping when needed
                for fig, key in body:
                    chart(st, fig, key=key, width="content", config={"displayModeBar": False})
        elif kind == "code":
            st.code(body, language="python" if "import torch" in body else None)
        else:
            getattr(st, kind)(body)


def _new_image() -> np.ndarray | None:
    """The image from the chosen source if it is new and loads; errors are shown and remembered."""
    source = choice("radio", t(f"{NS}.source"), SOURCES, key=f"{NS}.source", horizontal=True,
                    format=_text(f"{NS}.source_"))
    samples = sample_images()
    ident, read = None, None
    if source == "sample":
        name = choice("selectbox", t(f"{NS}.sample"), list(samples), key=f"{NS}.sample", format=_text("samples."))
        ident, read = ("sample", name), samples[name].read_bytes
    else:
        if source == "upload":  # no type filter: Streamlit would refuse other files in English; we say why
            got = st.file_uploader(t(f"{NS}.upload"), key=f"{NS}.upload", max_upload_size=images.UPLOAD_WIDGET_MB)
        else:
            got = st.camera_input(t(f"{NS}.camera"), key=f"{NS}.camera")
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
    with left:
        preset = choice("selectbox", t(f"{NS}.preset"), [*kn.PRESETS, editor.CUSTOM], key=PRESET,
                        format=lambda n: t(kn.preset_label_key(n) if n != editor.CUSTOM else f"{NS}.custom"),
                        on_change=_preset_chosen)
    left.caption(t(kn.preset_why_key(preset) if preset != editor.CUSTOM else f"{NS}.custom_why"))
    slot = right.empty()  # filled by the caller once the kernel in use is known
    with left.expander(t(f"{NS}.edit_kernel"), expanded=False):
        c1, c2 = st.columns(2)
        c1.number_input(t(f"{NS}.rows"), 1, kn.MAX_SIZE, key=ROWS, on_change=_resize)
        c2.number_input(t(f"{NS}.cols"), 1, kn.MAX_SIZE, key=COLS, on_change=_resize)
        b1, b2, b3 = st.columns(3)
        b1.button(t(f"{NS}.reset"), key=f"{NS}.reset_button", on_click=_reset, width="stretch")
        b2.button(t(f"{NS}.normalise"), key=f"{NS}.normalise_button", on_click=_normalise, width="stretch")
        b3.button(t(f"{NS}.random"), key=f"{NS}.random_button", on_click=_randomise, width="stretch")
        notice = st.session_state.pop(f"{NS}.notice", None)
        if notice:
            st.warning(t(notice[0], **notice[1]))
        cells = st.session_state[GRID]
        columns = [str(i + 1) for i in range(len(cells[0]))]
        st.data_editor(pd.DataFrame(cells, columns=columns, dtype=str), key=f"{NS}.editor.{st.session_state[VERSION]}",
                       hide_index=True, num_rows="fixed", on_change=_edited,
                       column_config={c: st.column_config.TextColumn(c, width="small") for c in columns})
        st.caption(t(f"{NS}.cells_help"))
        st.text_area(t(f"{NS}.kernel_text"), key=TEXT, on_change=_from_text,
                     placeholder="-1 0 1\n-1 0 1\n-1 0 1", height=100)
    try:
        return kn.parse_kernel(st.session_state[GRID]), slot
    except kn.KernelError as err:
        bad = kn.check_cells(st.session_state[GRID])
        for problem in [e for _, _, e in bad[:4]] or [err]:
            st.error(f"{t('common.error_prefix')}: {t(problem.key, **problem.params)}")
    if bad:
        chart(st, kp.cells_figure(st.session_state[GRID], bad=[(r, c) for r, c, _ in bad],
                                  title=t(f"{NS}.bad_cells")), key=f"{NS}.bad_cells", width="content")
    st.info(t("common.kept_previous"))
    return None, slot


def _options() -> dict:
    """Colour mode and convolution options from the widgets (not validated here)."""
    colour = choice("radio", t(f"{NS}.colour"), kn.COLOUR_MODES, key=f"{NS}.colour", horizontal=True,
                    format=_text(f"{NS}.colour_"))
    c1, c2, c3, c4 = st.columns(4)
    stride = c1.number_input(t(f"{NS}.stride"), value=1, step=1, key=f"{NS}.stride")
    padding = c2.number_input(t(f"{NS}.padding"), value=0, step=1, key=f"{NS}.padding",
                              disabled=st.session_state.get(f"{NS}.same", False))
    dilation = c3.number_input(t(f"{NS}.dilation"), value=1, step=1, key=f"{NS}.dilation")
    bias = c4.number_input(t(f"{NS}.bias"), value=0.0, step=1.0, format="%g", key=f"{NS}.bias",
                           help=t(f"{NS}.bias_help"))
    c1, c2 = st.columns([2, 3], vertical_alignment="bottom")
    same = c1.checkbox(t(f"{NS}.same"), key=f"{NS}.same", help=t(f"{NS}.same_help"))
    with c2:
        mode = choice("segmented_control", t(f"{NS}.padding_mode"), kn.PADDING_MODES, key=f"{NS}.padding_mode",
                      format=_text(f"{NS}.mode_"))
    weights = (1 / 3, 1 / 3, 1 / 3)
    if colour == "depth":
        cols = st.columns(3)
        weights = tuple(cols[i].number_input(t(f"{NS}.depth_weight", channel="RGB"[i]), value=round(1 / 3, 4),
                                             step=0.1, format="%.4f", key=f"{NS}.depth_{i}") for i in range(3))
    return {"colour": colour, "stride": int(stride), "padding": "same" if same else int(padding),
            "dilation": int(dilation), "padding_mode": mode, "channel_weights": weights, "bias": float(bias)}


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
    for n, k, p, sym in [(shown.shape[0], kernel.shape[0], pads[:2], "H"),
                         (shown.shape[1], kernel.shape[1], pads[2:], "W")]:
        st.latex(kn.size_formula(n, k, stride=options["stride"], pads=p, dilation=options["dilation"], symbol=sym))
    mode = choice("radio", t(f"{NS}.display"), kn.DISPLAY_MODES, key=f"{NS}.display", horizontal=True,
                  format=_text(f"{NS}.display_"))
    display = kn.to_display(raw, mode=mode)
    scale = kp.true_scale(shown.shape[:2])  # the same screen pixels per image pixel for input, output, pooled
    st.caption(t(f"{NS}.true_scale", h=shown.shape[0], w=shown.shape[1], oh=raw.shape[0], ow=raw.shape[1]))
    left, right = st.columns(2)
    chart(left, kp.image_figure(shown, raw=shown, source=_input_source(shown, options["colour"]), scale=scale,
                                title=t(f"{NS}.input_title", h=shown.shape[0], w=shown.shape[1])),
          key=f"{NS}.input_fig", width="content")
    chart(right, kp.image_figure(display, raw=raw, scale=scale,
                                 title=t(f"{NS}.output_title", h=raw.shape[0], w=raw.shape[1])),
          key=f"{NS}.output_fig", width="content")
    chart(st, kp.histogram_figure(raw, title=t(f"{NS}.histogram"), x_title=t(f"{NS}.histogram_x"),
                                  y_title=t(f"{NS}.histogram_y")), key=f"{NS}.histogram_fig")
    # PNG bytes are made only when a download is clicked (deferred data)
    st.download_button(t("common.download_png"), lambda: images.to_png(display), file_name="kernel_output.png",
                       mime="image/png", key=f"{NS}.download", on_click="ignore")
    if image.shape[0] * image.shape[1] > images.PREVIEW_PIXELS:
        st.caption(t(f"{NS}.preview_note", h=image.shape[0], w=image.shape[1]))
        full = lambda: images.to_png(kn.to_display(kn.filter_image(image, kernel, **options), mode=mode))  # noqa: E731
        st.download_button(t(f"{NS}.download_full"), file_name="kernel_output_full.png", mime="image/png",
                           data=full, key=f"{NS}.download_full", on_click="ignore")
    pooling = _pooling(shown, raw, scale)
    with st.expander(t(f"{NS}.code")):
        st.code(kcode.image_code(kernel, pads=pads, pooling=pooling, **options), language="python")


def _pooling(shown: np.ndarray, raw: np.ndarray, scale: float) -> dict | None:
    """The pooling widgets and picture; returns the pooling settings in use (None when they are refused)."""
    st.subheader(t(f"{NS}.pooling"))
    c1, c2 = st.columns(2)
    with c1:
        target = choice("radio", t(f"{NS}.pool_target"), POOL_TARGETS, key=f"{NS}.pool_target", horizontal=True,
                        format=_text(f"{NS}.pool_"))
    with c2:
        kind = choice("radio", t(f"{NS}.pool_kind"), POOL_KINDS, key=f"{NS}.pool_kind", horizontal=True,
                      format=_text(f"{NS}.pool_"))
    c1, c2, c3 = st.columns(3)
    size = c1.number_input(t(f"{NS}.pool_size"), 1, 16, 2, key=f"{NS}.pool_size")
    stride = c2.number_input(t(f"{NS}.pool_stride"), 1, 16, 2, key=f"{NS}.pool_stride")
    padding = c3.number_input(t(f"{NS}.pool_padding"), 0, 8, 0, key=f"{NS}.pool_padding")
    source = raw if target == "output" else shown.astype(np.float64)
    try:
        pooled = kn.pool(source, kind=kind, size=int(size), stride=int(stride), padding=int(padding))
    except kn.KernelError as err:
        _show_error(err)
        return None
    mode = st.session_state[f"{NS}.display"] if target == "output" else "clip"
    st.caption(t(f"{NS}.pool_sizes", h=source.shape[0], w=source.shape[1], oh=pooled.shape[0], ow=pooled.shape[1],
                 ratio=f"{source.shape[0] * source.shape[1] / max(pooled.shape[0] * pooled.shape[1], 1):.1f}"))
    chart(st, kp.image_figure(kn.to_display(pooled, mode=mode), raw=pooled, scale=scale,
                              title=t(f"{NS}.pool_title", h=pooled.shape[0], w=pooled.shape[1])),
          key=f"{NS}.pool_fig", width="content")
    return {"target": target, "kind": kind, "size": int(size), "stride": int(stride), "padding": int(padding)}


def _numbers_editor(values: np.ndarray, key: str) -> np.ndarray:
    """An editable grid of numbers typed as text (fractions welcome); KernelError names a bad cell."""
    cells = editor.kernel_cells(values)
    columns = [str(i + 1) for i in range(len(cells[0]))]
    edited = st.data_editor(pd.DataFrame(cells, columns=columns, dtype=str), key=key, hide_index=True,
                            column_config={c: st.column_config.TextColumn(c, width="small") for c in columns})
    return kn.parse_kernel(edited.to_numpy().tolist())


def _step_through() -> None:
    name = choice("selectbox", t(f"{NS}.example"), list(stp.EXAMPLES), key=f"{NS}.example",
                  format=_text(f"{NS}.example."))
    ex = stp.EXAMPLES[name]
    st.caption(t(f"{NS}.example_note.{name}"))
    c1, c2, c3 = st.columns(3)
    stride = c1.number_input(t(f"{NS}.stride"), value=ex.stride, step=1, key=f"{NS}.st_stride.{name}")
    padding = c2.number_input(t(f"{NS}.padding"), value=ex.padding, step=1, key=f"{NS}.st_padding.{name}")
    bias = c3.number_input(t(f"{NS}.bias"), value=ex.bias, step=1.0, format="%g", key=f"{NS}.st_bias.{name}",
                           help=t(f"{NS}.bias_help"), disabled=ex.op != "conv")
    matrix, kernel = ex.matrix, ex.kernel
    with st.expander(t(f"{NS}.edit_numbers")):
        try:
            matrix = _numbers_editor(ex.matrix, f"{NS}.st_matrix.{name}")
            if ex.kernel is not None:
                kernel = _numbers_editor(ex.kernel, f"{NS}.st_kernel.{name}")
        except kn.KernelError as err:
            _show_error(err)
            matrix, kernel = ex.matrix, ex.kernel
    settings = {"op": ex.op, "kernel": kernel, "size": ex.size, "stride": int(stride), "padding": int(padding),
                "bias": float(bias) if ex.op == "conv" else 0.0}
    try:
        all_steps = stp.steps(matrix, **settings)
    except kn.KernelError as err:
        _show_error(err)
        matrix, settings = ex.matrix, {**settings, "kernel": ex.kernel, "stride": ex.stride, "padding": ex.padding,
                                       "bias": ex.bias}
        all_steps = stp.steps(matrix, **settings)
    playing = st.toggle(t(f"{NS}.play"), key=f"{NS}.play")
    _stepper(all_steps, matrix, ex, settings, playing)
    with st.expander(t(f"{NS}.code")):
        st.code(kcode.steps_code(matrix, **settings), language="python")


def _stepper(all_steps, matrix, ex, settings: dict, playing: bool) -> None:
    pos_key = f"{NS}.position.{ex.name}"
    if st.session_state.get(pos_key, 1) > len(all_steps):
        st.session_state[pos_key] = 1
    kernel, padding = settings["kernel"], settings["padding"]

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
        st.code(stp.step_formula(step, kernel=kernel, op=ex.op, bias=settings["bias"]), language=None)

    show()


def _slider(label: str, n: int, key: str) -> int:
    """A 1..n position slider (kept inside 1..n when n shrinks)."""
    if not 1 <= st.session_state.get(key, 1) <= n:
        st.session_state[key] = 1
    return st.slider(label, 1, max(n, 2), key=key, disabled=n < 2)


def _im2col() -> None:
    st.markdown(t(f"{NS}.im2col.intro"))
    c1, c2, c3 = st.columns([2, 1, 1])
    with c1:
        name = choice("selectbox", t(f"{NS}.im2col.example"), list(view.IM2COL_EXAMPLES), key=f"{NS}.im2col.example",
                      format=_text(f"{NS}.im2col.example."))
    options = {"stride": int(c2.number_input(t(f"{NS}.stride"), 1, 3, 1, key=f"{NS}.im2col.stride")),
               "padding": int(c3.number_input(t(f"{NS}.padding"), 0, 2, 0, key=f"{NS}.im2col.padding"))}
    window = _slider(t(f"{NS}.im2col.window"), view.im2col_windows(name, **options), f"{NS}.im2col.window")
    _kept(f"{NS}.im2col.last", lambda: view.im2col_view(name, **options, window=window - 1, lang=lang()))


def _transposed() -> None:
    st.markdown(t(f"{NS}.tr.intro"))
    d, valid = view.TRANSPOSED_DEFAULT, f"{NS}.tr.valid"
    c1, c2, c3 = st.columns([2, 2, 3])
    texts = [col.text_area(t(f"{NS}.tr.{name}_text"), value=d[name], key=f"{NS}.tr.{name}", height=100)
             for col, name in ((c1, "input"), (c2, "kernel"))]
    options = {"stride": c3.number_input(t(f"{NS}.stride"), 1, tr.MAX_STRIDE, d["stride"], key=f"{NS}.tr.stride"),
               "padding": c3.number_input(t(f"{NS}.padding"), 0, 4, d["padding"], key=f"{NS}.tr.padding"),
               "output_padding": c3.number_input(t(f"{NS}.tr.output_padding"), 0, tr.MAX_STRIDE - 1,
                                                 d["output_padding"], key=f"{NS}.tr.output_padding",
                                                 help=t(f"{NS}.tr.output_padding_help"))}
    try:
        x, k = (kn.parse_kernel(kn.parse_text_grid(text)) for text in texts)
        tr.check_sizes(x, k)
        st.session_state[valid] = (x, k)
    except kn.KernelError as err:
        _show_error(err)
    x, k = st.session_state.get(valid) or (kn.parse_kernel(kn.parse_text_grid(d[n])) for n in ("input", "kernel"))
    stamp = _slider(t(f"{NS}.tr.stamp_slider"), x.size, f"{NS}.tr.stamp")
    _kept(f"{NS}.tr.last", lambda: view.transposed_view(x, k, **{o: int(v) for o, v in options.items()},
                                                         stamp=stamp - 1, lang=lang()))


def _kept(key: str, build) -> None:
    """Show the view ``build()`` makes, or its error and the last view that worked (kept under ``key``)."""
    try:
        st.session_state[key] = build()
    except (kn.KernelError, ShapeError) as err:
        _show_error(err)
    if key in st.session_state:
        _show(st.session_state[key])


def link_fields() -> list[links.Field]:
    """The settings a teacher's link can set: /kernels?preset=sobel_x&sample=coffee&stride=2."""
    ids = {"tab": (f"{NS}.tab", TABS), "preset": (PRESET, list(kn.PRESETS)),
           "sample": (f"{NS}.sample", list(sample_images())), "colour": (f"{NS}.colour", kn.COLOUR_MODES),
           "mode": (f"{NS}.padding_mode", kn.PADDING_MODES), "display": (f"{NS}.display", kn.DISPLAY_MODES),
           "pool": (f"{NS}.pool_kind", POOL_KINDS), "pool_on": (f"{NS}.pool_target", POOL_TARGETS)}
    numbers = {"stride": (1, 16), "padding": (0, 64), "dilation": (1, 16), "pool_size": (1, 16),
               "pool_stride": (1, 16), "pool_padding": (0, 8)}
    return ([links.Field(name, key, links.one_of(options)) for name, (key, options) in ids.items()]
            + [links.Field(name, f"{NS}.{name}", links.whole(*limits)) for name, limits in numbers.items()]
            + [links.Field("same", f"{NS}.same", links.flag())])


def main() -> None:
    through_app()
    st.title(t(f"{NS}.title"))
    st.markdown(t(f"{NS}.intro"))
    if f"{NS}.valid" not in st.session_state:
        first = next(iter(sample_images().values()))
        st.session_state[PRESET] = st.session_state[BASE] = "lecture_vertical_edge"
        start = kn.PRESETS[st.session_state[BASE]]
        image = images.load_image(first.read_bytes())
        st.session_state[f"{NS}.valid"] = {"image": image, "preview": images.preview(image), "kernel": start,
                                           "options": {"colour": "rgb", "stride": 1, "padding": 0, "dilation": 1,
                                                       "padding_mode": "zeros"}}
        _set_grid(editor.kernel_cells(start), custom=False)
    linked = lesson_link(link_fields(), page=NS)
    if PRESET in linked:
        _preset_chosen()  # a linked preset loads its kernel, as choosing it does
    if f"{NS}.sample" in linked:
        st.session_state[f"{NS}.source"] = "sample"
    bodies = dict(zip(TABS, (_image_lab, _step_through, _im2col, _transposed)))
    for name, tab in tabs(TABS, key=f"{NS}.tab", format=lambda k: t(f"{NS}.tab_{k}")).items():
        if tab.open:
            with tab:
                bodies[name]()


main()
