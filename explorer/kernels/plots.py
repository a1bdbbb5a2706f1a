"""Plotly figures for the kernel lab: images with hover values, histograms, annotated matrices."""

from __future__ import annotations

import base64
import io
from typing import Callable, Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from explorer.core.figures import GRID_FONT, SIGNED_SCALE, Figure, grid_cell_px, grid_meta, signed_limits, trace
from explorer.kernels.editor import cell_text
from explorer.kernels.stepthrough import fmt

HOVER_PIXELS = 40_000  # up to this many pixels, hover shows the raw value of every pixel
_MARGIN = dict(l=0, r=0, t=30, b=0)


def image_source(display: np.ndarray, *, quality: int = 90) -> str:
    """A data URI for a large uint8 image: JPEG (about 5x faster to encode than PNG; display only)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(display, dtype=np.uint8)).save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


TRUE_SCALE_BOX = (400, 420)  # (height, width) in screen pixels that the input image is fitted into
TITLE_PX = 30  # the figure's top margin, where its title sits
MIN_WIDTH = 240  # a true-scale figure is at least this wide, so its title fits


def true_scale(shape: tuple[int, int], *, box: tuple[int, int] = TRUE_SCALE_BOX) -> float:
    """Screen pixels per image pixel that fit an image of ``shape`` (H, W) into ``box``: use the same
    scale for a feature map so that stride and pooling visibly shrink it."""
    return min(box[0] / shape[0], box[1] / shape[1])


def image_figure(display: np.ndarray, *, raw: np.ndarray | None = None, title: str = "",
                 height: int = 420, source: str | None = None, scale: float | None = None) -> go.Figure:
    """Show a uint8 (H, W) or (H, W, 3) image; small images hover their ``raw`` values.

    Images over HOVER_PIXELS are sent as one compressed picture (``source``, made by
    `image_source` when not given): hover then shows the position only. With ``scale`` (screen pixels
    per image pixel, `true_scale`) the figure is drawn at that size instead of ``height``.
    """
    h, w = display.shape[:2]
    rgb = display if display.ndim == 3 else np.repeat(display[:, :, None], 3, axis=2)
    if h * w <= HOVER_PIXELS and raw is not None:
        image = trace("image", z=rgb, text=value_text(raw), hovertemplate="x=%{x}, y=%{y}<br>%{text}<extra></extra>")
    elif h * w <= HOVER_PIXELS:
        image = trace("image", z=rgb, hovertemplate="x=%{x}, y=%{y}<br>%{z}<extra></extra>")
    else:
        image = trace("image", source=source or image_source(display), hovertemplate="x=%{x}, y=%{y}<extra></extra>")
    layout = dict(title=dict(text=title), height=height, margin=_MARGIN,
                  xaxis=dict(visible=False), yaxis=dict(visible=False, scaleanchor="x"))
    if scale is not None:
        # at least wide enough for the title; the height fixes the scale, square pixels do the rest
        layout.update(height=max(int(round(h * scale)), 8) + TITLE_PX, width=max(int(round(w * scale)), MIN_WIDTH))
        layout["xaxis"]["constrain"] = layout["yaxis"]["constrain"] = "domain"
    return Figure(data=[image], layout=layout)


def value_text(raw: np.ndarray) -> np.ndarray:
    """(H, W[, C]) values -> (H, W) strings like ``12.5`` or ``12.5 / 3 / -4`` for hover (-0 shows as 0)."""
    values = np.asarray(raw, dtype=np.float64)
    distinct, where = np.unique(values, return_inverse=True)  # images repeat values: format each once
    text = np.array(["%.4g" % v for v in distinct.tolist()])[where.reshape(values.shape)]
    if values.ndim == 3:
        joined = text[:, :, 0]
        for c in range(1, values.shape[2]):
            joined = np.strings.add(np.strings.add(joined, " / "), text[:, :, c])
        text = joined
    return text


def histogram_figure(raw: np.ndarray, *, bins: int = 80, title: str = "", max_values: int = 250_000,
                     x_title: str = "", y_title: str = "") -> go.Figure:
    """Histogram of raw output values (an even subsample above ``max_values``), 0 and 255 marked."""
    values = np.ravel(raw, order="K")  # memory order: no copy for channel-plane views
    if values.size > max_values:
        values = values[:: -(-values.size // max_values)]
    counts, edges = np.histogram(values, bins=bins) if values.size else (np.zeros(1), np.array([0.0, 1.0]))
    centers = (edges[:-1] + edges[1:]) / 2
    marks = [dict(type="line", x0=x, x1=x, y0=0, y1=1, yref="paper", line=dict(color="#e45756", dash="dash"))
             for x in (0, 255)]
    bar = dict(type="bar", x=centers, y=counts, width=np.diff(edges), marker=dict(color="#4c78a8"),
               hovertemplate="%{x:.3g}: %{y}<extra></extra>")
    return Figure(data=[bar], layout=dict(title=dict(text=title), height=260, margin=dict(l=50, r=0, t=30, b=40),
                                             bargap=0, shapes=marks, xaxis=dict(title=dict(text=x_title)),
                                             yaxis=dict(title=dict(text=y_title))))


MIN_FIGURE_PX = 160  # narrower plotly charts are drawn wider than their frame (and clipped) in Streamlit


def title_px(title: str, *, size: int = 14) -> int:
    """About how wide ``title`` is drawn at ``size`` (Hangul and other wide characters count double)."""
    return int(sum(size if ord(ch) > 0x1100 else 0.55 * size for ch in title)) + 24


def fitted(plot_w: int, title: str) -> tuple[int, int]:
    """(figure width, left = right margin) for a grid ``plot_w`` pixels wide: at least MIN_FIGURE_PX and
    wide enough for the title, the grid centred."""
    width = max(plot_w + 20, title_px(title), MIN_FIGURE_PX)
    return width, (width - plot_w) // 2


def matrix_figure(matrix: np.ndarray, *, title: str = "", window: tuple[int, int, int, int] | None = None,
                  padding: int = 0, colorscale: str = "Blues", height: int | None = None,
                  zlimits: dict[str, float] | None = None, number: Callable[[float], str] = fmt) -> go.Figure:
    """An annotated grid of numbers (NaN cells left blank); ``window`` = (top, left, rows, cols).

    The outer ``padding`` rings are drawn grey and their zeros shown in grey, as on the slides;
    ``zlimits`` (zmin, zmax, zmid) fixes the colour scale. Cells are square and wide enough for their
    text (also in projector mode: `explorer.core.display` resizes through the figure's ``meta``).
    """
    m = np.asarray(matrix, dtype=np.float64)
    rows, cols = m.shape
    text = [["" if np.isnan(v) else number(v) for v in row] for row in m]
    shapes = []
    if padding:
        shapes.append(dict(type="rect", x0=padding - 0.5, x1=cols - padding - 0.5, y0=padding - 0.5,
                           y1=rows - padding - 0.5, line=dict(color="#888", dash="dot", width=2)))
    if window is not None:  # clipped to the grid (a transposed convolution's stamp may hang over it)
        shapes.append(_frame(window, rows, cols))
    chars = max((len(c) for row in text for c in row), default=1)
    cell = grid_cell_px(chars)
    width, side = fitted(cell * cols, title)
    extra_w, extra_h = width - cell * cols, 40
    layout = dict(title=dict(text=title, font=dict(size=14)), height=height or extra_h + cell * rows,
                  margin=dict(l=side, r=extra_w - side, t=34, b=6) if not height else dict(l=10, r=10, t=34, b=6),
                  plot_bgcolor="#e8e8e8",
                  xaxis=dict(visible=False, range=[-0.5, cols - 0.5], fixedrange=True),
                  yaxis=dict(visible=False, range=[rows - 0.5, -0.5], fixedrange=True))
    if shapes:
        layout["shapes"] = shapes
    if not height:  # a given height fills the column's width; otherwise square cells sized to their text
        layout["width"] = extra_w + cell * cols
        layout["meta"] = grid_meta(rows, cols, chars, extra_w=extra_w, extra_h=extra_h)
    return Figure(trace("heatmap", z=m, text=text, texttemplate="%{text}", colorscale=colorscale, showscale=False,
                        hovertemplate="(%{y}, %{x}) = %{text}<extra></extra>", xgap=2, ygap=2,
                        textfont={"size": GRID_FONT}, **(zlimits or {})), layout=layout)


def kernel_figure(kernel: np.ndarray, *, title: str = "", height: int | None = None) -> go.Figure:
    """The kernel's weights (written as the lectures do: ``1/9``) on the app's signed colour scale."""
    return matrix_figure(kernel, title=title, colorscale=SIGNED_SCALE, height=height, zlimits=signed_limits(kernel),
                         number=cell_text)


def cells_figure(cells: list[list[str]], *, bad: list[tuple[int, int]], title: str = "") -> go.Figure:
    """The typed cells as they are, the ``bad`` ones (row, col; 0-based) on red."""
    rows, cols = len(cells), max(len(r) for r in cells)
    text = [[str(r[j]) if j < len(r) else "" for j in range(cols)] for r in cells]
    z = np.zeros((rows, cols))
    for r, c in bad:
        z[r, c] = 1.0
    chars = max(3, *(len(c) for row in text for c in row))
    cell = grid_cell_px(chars)
    width, side = fitted(cell * cols, title)
    layout = dict(title=dict(text=title, font=dict(size=14)), width=width, height=40 + cell * rows,
                  margin=dict(l=side, r=width - cell * cols - side, t=34, b=6),
                  meta=grid_meta(rows, cols, chars, extra_w=width - cell * cols, extra_h=40),
                  xaxis=dict(visible=False, fixedrange=True), yaxis=dict(visible=False, autorange="reversed",
                                                                         fixedrange=True))
    return Figure(trace("heatmap", z=z, text=text, texttemplate="%{text}", zmin=0, zmax=1, showscale=False,
                        colorscale=[[0, "#f1f5f9"], [1, "#fca5a5"]], xgap=2, ygap=2, textfont={"size": GRID_FONT},
                        hovertemplate="(%{y}, %{x}) %{text}<extra></extra>"), layout=layout)


def coded_figure(values: np.ndarray, codes: np.ndarray, *, colors: Sequence[str], names: Sequence[str],
                 title: str = "", window: tuple[int, int, int, int] | None = None) -> go.Figure:
    """Numbers on cells coloured by kind (``codes`` index ``colors``/``names``): input cells, inserted
    zeros, padding... so one can see which is which; ``window`` = (top, left, rows, cols) framed red."""
    v = np.asarray(values, dtype=np.float64)
    rows, cols = v.shape
    text = [[fmt(x) for x in row] for row in v]
    chars = max((len(c) for row in text for c in row), default=1)
    cell = grid_cell_px(chars)
    n = len(colors)
    scale = [[i / max(n - 1, 1), c] for i, c in enumerate(colors)]
    width, side = fitted(cell * cols, title)
    layout = dict(title=dict(text=title, font=dict(size=14)), height=40 + cell * rows, width=width,
                  margin=dict(l=side, r=width - cell * cols - side, t=34, b=6), plot_bgcolor="#ffffff",
                  meta=grid_meta(rows, cols, chars, extra_w=width - cell * cols, extra_h=40),
                  xaxis=dict(visible=False, range=[-0.5, cols - 0.5], fixedrange=True),
                  yaxis=dict(visible=False, range=[rows - 0.5, -0.5], fixedrange=True))
    if window is not None:
        layout["shapes"] = [_frame(window, rows, cols)]
    kinds = np.asarray(names, dtype=object)[np.asarray(codes, dtype=int)]
    return Figure(trace("heatmap", z=np.asarray(codes, dtype=float), zmin=0, zmax=max(n - 1, 1), colorscale=scale,
                        showscale=False, text=text, customdata=kinds, texttemplate="%{text}", xgap=2, ygap=2,
                        textfont={"size": GRID_FONT},
                        hovertemplate="(%{y}, %{x}) %{text}: %{customdata}<extra></extra>"),
                  layout=layout)


def _frame(window: tuple[int, int, int, int], rows: int, cols: int) -> dict:
    """A red frame around ``window`` (top, left, rows, cols), clipped to the grid."""
    top, left, wr, wc = window
    return dict(type="rect", x0=max(left, 0) - 0.5, x1=min(left + wc, cols) - 0.5, y0=max(top, 0) - 0.5,
                y1=min(top + wr, rows) - 0.5, line=dict(color="#e45756", width=4))


def labelled_figure(matrix: np.ndarray, *, title: str = "", row_labels: Sequence[str] = (),
                    col_labels: Sequence[str] = (), highlight_row: int | None = None, colorscale: str = "Blues",
                    number: Callable[[float], str] = fmt) -> go.Figure:
    """A number grid with its rows and columns named on the axes (im2col's windows and x[c,i,j] columns);
    ``highlight_row`` framed red."""
    m = np.asarray(matrix, dtype=np.float64)
    rows, cols = m.shape
    text = [[number(v) for v in row] for row in m]
    chars = max((len(c) for row in text for c in row), default=1)
    cell = grid_cell_px(chars)
    left = 12 + 7 * max((len(s) for s in row_labels), default=0)
    bottom = 12 + 7 * max((len(s) for s in col_labels), default=0)
    width = max(left + 10 + cell * cols, title_px(title), MIN_FIGURE_PX)
    layout = dict(title=dict(text=title, font=dict(size=14)), width=width,
                  height=34 + bottom + cell * rows, margin=dict(l=left, r=width - left - cell * cols, t=34, b=bottom),
                  meta=grid_meta(rows, cols, chars, extra_w=width - cell * cols, extra_h=34 + bottom),
                  xaxis=dict(tickmode="array", tickvals=list(range(cols)), ticktext=list(col_labels),
                             tickangle=-90, showticklabels=bool(col_labels), range=[-0.5, cols - 0.5],
                             fixedrange=True, showgrid=False, zeroline=False, tickfont=dict(size=11)),
                  yaxis=dict(tickmode="array", tickvals=list(range(rows)), ticktext=list(row_labels),
                             showticklabels=bool(row_labels), range=[rows - 0.5, -0.5], fixedrange=True,
                             showgrid=False, zeroline=False, tickfont=dict(size=11)))
    if highlight_row is not None:
        layout["shapes"] = [_frame((highlight_row, 0, 1, cols), rows, cols)]
    return Figure(trace("heatmap", z=m, text=text, texttemplate="%{text}", colorscale=colorscale, showscale=False,
                        xgap=2, ygap=2, textfont={"size": GRID_FONT},
                        hovertemplate="(%{y}, %{x}) = %{text}<extra></extra>"), layout=layout)
