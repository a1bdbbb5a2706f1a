"""What the Kernel lab's im2col and transposed-convolution tabs show, as plain data (no Streamlit).

A view is a list of *blocks* the page draws in order: ``("markdown" | "latex" | "caption" | "info", text)``,
``("code", python source)`` or ``("figures", [(figure, widget key), ...])`` (one row of figures). Texts
come translated into ``lang``; bad settings raise `explorer.kernels.ops.KernelError` (or the Shapes
wing's ShapeError for a size formula), which the page shows while keeping the last good view.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from explorer.core.i18n import translate
from explorer.kernels import code
from explorer.kernels import columns as cols
from explorer.kernels import plots as kp
from explorer.kernels import transposed as tr
from explorer.kernels.stepthrough import EXAMPLES, fmt
from explorer.shapes import ShapeError, conv_output_size, inputs_with_output, transpose_formula_latex

Block = tuple[Any, ...]
NS = "kernel_lab"

# im2col examples: name -> (input (C, H, W), filters (FN, C, FH, FW), bias (FN,))
_LECTURE = EXAMPLES["padded_4x4"]  # seed 001: the 4x4 input and the 3x3 filter
IM2COL_EXAMPLES: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {
    "lecture_4x4": (_LECTURE.matrix[None], _LECTURE.kernel[None, None], np.zeros(1)),
    "block_3x4x4": (np.fromfunction(lambda c, i, j: (c + 2 * i + j) % 4, (3, 4, 4)),
                    np.fromfunction(lambda f, c, i, j: (f + c + i * j) % 3 - 1, (2, 3, 3, 3)),
                    np.array([1.0, -1.0])),
}
TRANSPOSED_DEFAULT = {"input": "1 2\n3 4", "kernel": "2 0 1\n0 1 2\n1 0 2", "stride": 2, "padding": 0,
                      "output_padding": 0}  # a 2x2 input, the lecture's 3x3 filter
# the stretched input's cells ("as a convolution"): input value, inserted zero, border zero
CANVAS_COLORS = ("#9ecae1", "#fff7bc", "#e0e0e0")


def _t(key: str, lang: str, **params: Any) -> str:
    return translate(f"{NS}.{key}", lang, **params)


def _shape(a: np.ndarray | tuple[int, ...]) -> str:
    return "×".join(str(s) for s in (a.shape if isinstance(a, np.ndarray) else a))


# ---------------------------------------------------------------- im2col

def im2col_windows(name: str, *, stride: int, padding: int) -> int:
    """How many windows (rows of im2col) example ``name`` has at these settings."""
    x, filters, _ = IM2COL_EXAMPLES[name]
    oh, ow = cols.output_size(x.shape[1], x.shape[2], filters.shape[2], filters.shape[3], stride=stride,
                              padding=padding)
    return oh * ow


def im2col_view(name: str, *, stride: int, padding: int, window: int, lang: str) -> list[Block]:
    """im2col of example ``name``: the input with window ``window`` (0-based) framed, the window matrix,
    the filter matrix, their product and the output maps, with the matrix shapes written on them."""
    x, filters, bias = IM2COL_EXAMPLES[name]
    p = cols.conv_as_product(x, filters, stride=stride, padding=padding, bias=bias)
    c, (kh, kw), fn = p.in_shape[0], p.kernel, p.weights.shape[1]
    oh, ow = p.output.shape[1:]
    window = min(max(window, 0), oh * ow - 1)
    r, q = divmod(window, ow)
    padded = np.pad(x, ((0, 0), (padding, padding), (padding, padding)))
    inputs = [(kp.matrix_figure(padded[ch], padding=padding, window=(r * stride, q * stride, kh, kw),
                                title=_t("im2col.channel", lang, c=ch) if c > 1 else _t("im2col.input", lang)),
               f"{NS}.im2col.in.{ch}") for ch in range(c)]
    names = [f"({i}, {j})" for i in range(oh) for j in range(ow)]
    labels = cols.column_labels(c, kh, kw)
    matrices = [
        (kp.labelled_figure(p.cols, title=_t("im2col.cols", lang, shape=_shape(p.cols)), row_labels=names,
                            col_labels=labels, highlight_row=window), f"{NS}.im2col.cols"),
        (kp.labelled_figure(p.weights, title=_t("im2col.weights", lang, shape=_shape(p.weights)), row_labels=labels,
                            col_labels=[f"F{f + 1}" for f in range(fn)], colorscale="Purples"), f"{NS}.im2col.w"),
        (kp.labelled_figure(p.product, title=_t("im2col.product", lang, shape=_shape(p.product)), row_labels=names,
                            col_labels=[f"F{f + 1}" for f in range(fn)], highlight_row=window, colorscale="Oranges"),
         f"{NS}.im2col.product")]
    outputs = [(kp.matrix_figure(p.output[f], title=_t("im2col.output", lang, f=f + 1, shape=_shape((oh, ow))),
                                 window=(r, q, 1, 1), colorscale="Oranges"), f"{NS}.im2col.out.{f}")
               for f in range(fn)]
    terms = " + ".join(f"{fmt(a)}×{fmt(b)}" for a, b in zip(p.cols[window], p.weights[:, 0]))
    return [
        ("caption", _t(f"im2col.note.{name}", lang)),
        ("latex", _shapes_latex(c, kh, kw, oh, ow, fn)),
        ("figures", inputs),
        ("markdown", _t("im2col.row", lang, window=window + 1, r=r, c=q, n=oh * ow)),
        ("figures", matrices),
        ("code", f"{terms} + {fmt(p.bias[0])} = {fmt(p.product[window, 0])}"),
        ("figures", outputs),
        ("caption", _t("im2col.reshape", lang, rows=oh * ow, fn=fn, oh=oh, ow=ow)),
        ("code", code.im2col_code(x, filters, stride=stride, padding=padding, bias=bias)),
    ]


def _shapes_latex(c: int, kh: int, kw: int, oh: int, ow: int, fn: int) -> str:
    """``cols (OH·OW × C·FH·FW) · W (C·FH·FW × FN) + b = (OH·OW × FN) → (FN, OH, OW)`` with the numbers."""
    k = c * kh * kw
    return (rf"\underbrace{{\mathrm{{cols}}}}_{{{oh * ow} \times {k}}}\;"
            rf"\underbrace{{W}}_{{{k} \times {fn}}} + \underbrace{{b}}_{{{fn}}} = "
            rf"\underbrace{{Y}}_{{{oh * ow} \times {fn}}} \;\rightarrow\; ({fn}, {oh}, {ow})"
            rf"\qquad (OH\cdot OW) \times (C\cdot FH\cdot FW) = ({oh}\cdot{ow}) \times ({c}\cdot{kh}\cdot{kw})")


# ---------------------------------------------------------------- transposed convolution

def transposed_view(x: np.ndarray, kernel: np.ndarray, *, stride: int, padding: int, output_padding: int,
                    stamp: int, lang: str) -> list[Block]:
    """The transposed convolution of ``x`` one stamp at a time, the same as a convolution of the stretched
    input, its size formula, and how it undoes a convolution's shape (not its values)."""
    tr.check_sizes(x, kernel)
    stamps = tr.stamps(x, kernel, stride=stride, padding=padding, output_padding=output_padding)
    s = stamps[min(max(stamp, 0), len(stamps) - 1)]
    out = stamps[-1].partial
    conv = tr.as_convolution(x, kernel, stride=stride, padding=padding, output_padding=output_padding)
    canvas_names = [_t(f"tr.cell.{k}", lang) for k in ("input", "inserted", "border")]
    formulas = {transpose_formula_latex(n, k, stride=stride, padding=padding, output_padding=output_padding)
                for n, k in zip(x.shape, kernel.shape)}  # one line when height and width agree
    return [
        *(("latex", f) for f in sorted(formulas)),
        ("markdown", _t("tr.scatter", lang)),
        ("figures", [
            (kp.matrix_figure(x, title=_t("tr.input", lang, shape=_shape(x)), window=(s.row, s.col, 1, 1)),
             f"{NS}.tr.in"),
            (kp.kernel_figure(kernel, title=_t("st_kernel", lang)), f"{NS}.tr.k"),
            (kp.matrix_figure(s.partial, title=_t("tr.output", lang, shape=_shape(out)), colorscale="Oranges",
                              window=(s.top, s.left, *kernel.shape)), f"{NS}.tr.out")]),
        ("code", _t("tr.stamp", lang, r=s.row, c=s.col, v=fmt(s.value), top=s.top, left=s.left)),
        ("markdown", _t("tr.as_conv", lang, zeros=stride - 1, border=conv.border, op=output_padding)),
        ("figures", [
            (kp.coded_figure(conv.canvas, conv.codes, colors=CANVAS_COLORS, names=canvas_names,
                             title=_t("tr.canvas", lang, shape=_shape(conv.canvas))), f"{NS}.tr.canvas"),
            (kp.kernel_figure(conv.flipped, title=_t("tr.flipped", lang)), f"{NS}.tr.flipped"),
            (kp.matrix_figure(conv.output, title=_t("tr.output", lang, shape=_shape(conv.output)),
                              colorscale="Oranges"), f"{NS}.tr.out2")]),
        ("caption", _t("tr.legend", lang)),
        *_undo(x, kernel, out, stride=stride, padding=padding, output_padding=output_padding, lang=lang),
        ("code", code.transpose_code(x, kernel, stride=stride, padding=padding, output_padding=output_padding)),
    ]


def _undo(x: np.ndarray, kernel: np.ndarray, out: np.ndarray, *, stride: int, padding: int, output_padding: int,
          lang: str) -> list[Block]:
    """A convolution with the same kernel, stride and padding takes the output's shape back to the input's;
    which other input sizes would have given the same shape; the numbers do not come back."""
    h, (oh, ow), (kh, kw) = x.shape[0], out.shape, kernel.shape
    try:
        back = (conv_output_size(oh, kh, stride=stride, padding=padding),
                conv_output_size(ow, kw, stride=stride, padding=padding))
        sizes = inputs_with_output(h, kh, stride=stride, padding=padding)
    except ShapeError:
        return [("info", _t("tr.undo_none", lang))]
    again = cols.conv_as_product(out, kernel, stride=stride, padding=padding).output[0]
    return [
        ("markdown", _t("tr.undo", lang, big=_shape(out), small=_shape(back), k=kh, s=stride, p=padding,
                        sizes=", ".join(str(n) for n in sizes), op=output_padding)),
        ("figures", [(kp.matrix_figure(again, title=_t("tr.conv_again", lang, shape=_shape(again)),
                                       colorscale="Blues"), f"{NS}.tr.again")]),
        ("caption", _t("tr.not_inverse", lang)),
    ]
