"""The Shapes page's figures: the conv_arithmetic-style grid (where one window lands and its output cell),
3-D blocks of a layer and of a whole network, shared weights as edges, grouped channels, receptive fields."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import plotly.graph_objects as go

from explorer.core.figures import GRID_FONT, Figure, grid_cell_px, grid_meta, trace
from explorer.shapes.sizes import Pair, ShapeError, conv_output_size

# cell codes of the picture
PADDING, INPUT, IGNORED, WINDOW_INPUT, WINDOW_PADDING, OUTPUT, CURRENT = range(7)
COLORS = ["#eeeeee", "#9ecae1", "#f4a6a6", "#fd8d3c", "#fdd0a2", "#c7e9c0", "#31a354"]
DEFAULT_LABELS = {"padding": "padding", "input": "input", "ignored": "never covered", "window": "window",
                  "output": "output", "current": "this output", "input_title": "input", "output_title": "output"}
MAX_CELLS = 24  # largest padded side drawn; bigger configurations get a ShapeError


def _output_cell(h: int, w: int, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, position: Pair,
                 ) -> tuple[Pair, Pair]:
    """The output size (oh, ow) and ``position`` clamped into it."""
    oh = conv_output_size(h, kernel[0], stride=stride[0], padding=padding[0], dilation=dilation[0])
    ow = conv_output_size(w, kernel[1], stride=stride[1], padding=padding[1], dilation=dilation[1])
    return (oh, ow), (min(max(position[0], 0), oh - 1), min(max(position[1], 0), ow - 1))


def input_codes(h: int, w: int, kernel: Pair, *, stride: Pair = (1, 1), padding: Pair = (0, 0),
                dilation: Pair = (1, 1), position: Pair = (0, 0)) -> list[list[int]]:
    """Cell codes of the padded input (rows top to bottom) with the window at output ``position``."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    (oh, ow), (i, j) = _output_cell(h, w, kernel, stride, padding, dilation, position)
    last_row, last_col = (oh - 1) * sh + dh * (kh - 1), (ow - 1) * sw + dw * (kw - 1)
    window = {(i * sh + a * dh, j * sw + b * dw) for a in range(kh) for b in range(kw)}
    codes = []
    for r in range(h + 2 * ph):
        line = []
        for c in range(w + 2 * pw):
            pad = not (ph <= r < ph + h and pw <= c < pw + w)
            if (r, c) in window:
                line.append(WINDOW_PADDING if pad else WINDOW_INPUT)
            elif pad:
                line.append(PADDING)
            else:
                line.append(IGNORED if r > last_row or c > last_col else INPUT)
        codes.append(line)
    return codes


def grid_figure(h: int, w: int, kernel: Pair, *, stride: Pair = (1, 1), padding: Pair = (0, 0),
                dilation: Pair = (1, 1), position: Pair = (0, 0), labels: dict[str, str] | None = None,
                ) -> go.Figure:
    """Padded input (left) with the window at output cell ``position``, and the output grid (right)."""
    names = {**DEFAULT_LABELS, **(labels or {})}
    if max(h + 2 * padding[0], w + 2 * padding[1]) > MAX_CELLS:
        raise ShapeError("shapes.err.grid_too_large", limit=MAX_CELLS)
    codes = input_codes(h, w, kernel, stride=stride, padding=padding, dilation=dilation, position=position)
    (oh, ow), (i, j) = _output_cell(h, w, kernel, stride, padding, dilation, position)
    out = [[CURRENT if (r, c) == (i, j) else OUTPUT for c in range(ow)] for r in range(oh)]
    word = {PADDING: names["padding"], INPUT: names["input"], IGNORED: names["ignored"],
            WINDOW_INPUT: names["window"], WINDOW_PADDING: names["window"], OUTPUT: names["output"],
            CURRENT: names["current"]}
    colorscale = [[k / 6, color] for k, color in enumerate(COLORS)]
    offset = len(codes[0]) + 2
    grids = [trace("heatmap", z=grid, x=[x0 + c for c in range(len(grid[0]))], y=list(range(len(grid))),
                   zmin=0, zmax=6, colorscale=colorscale, showscale=False, xgap=2, ygap=2, name=title,
                   text=[[word[v] for v in line] for line in grid], hovertemplate="%{text}<extra></extra>")
             for grid, x0, title in ((codes, 0, names["input_title"]), (out, offset, names["output_title"]))]
    rows_total = max(len(codes), oh)
    titles = [dict(x=(len(codes[0]) - 1) / 2, y=-1.2, text=names["input_title"], showarrow=False),
              dict(x=offset + (ow - 1) / 2, y=-1.2, text=names["output_title"], showarrow=False)]
    return Figure(grids, layout=dict(annotations=titles, height=min(520, 60 + 26 * (rows_total + 2)),
                                     margin=dict(l=10, r=10, t=10, b=10), plot_bgcolor="white",
                                     xaxis=dict(visible=False),
                                     yaxis=dict(autorange="reversed", visible=False, scaleanchor="x",
                                                range=[rows_total, -2])))


# ---------------------------------------------------------------------------------------------
# 3-D blocks (seed 001, "블록으로 생각하기"): an oblique projection drawn with filled paths, crisp in PNG

DEPTH_ANGLE = (0.6, 0.45)  # screen offset per unit of depth: right and up (about 37°, half length)
BLOCK_COLORS = {"input": "#c7c7c7", "conv": "#6baed6", "maxpool": "#fd8d3c", "avgpool": "#fdae6b",
                "linear": "#74c476", "filter": "#9e9ac8", "bias": "#fdd0a2", "output": "#6baed6", "gap": "#fdae6b",
                "flatten": "#a1d99b"}
PNG_FILE = {"toImageButtonOptions": {"format": "png", "scale": 2}, "displaylogo": False}


def png_config(filename: str) -> dict:
    """Plotly ``config`` whose camera button saves ``filename``.png at twice the size (for handouts)."""
    return {**PNG_FILE, "toImageButtonOptions": {**PNG_FILE["toImageButtonOptions"], "filename": filename}}


def _shade(color: str, factor: float) -> str:
    """``color`` (#rrggbb) lighter (factor > 1) or darker (< 1)."""
    rgb = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
    mixed = [min(255, int(c * factor)) if factor <= 1 else int(c + (255 - c) * (factor - 1)) for c in rgb]
    return "#" + "".join(f"{c:02x}" for c in mixed)


def cuboid(x: float, y: float, width: float, height: float, depth: float, color: str) -> list[dict]:
    """Layout shapes of a box: front face (x, y)–(x + width, y + height), receding ``depth`` up-right."""
    dx, dy = depth * DEPTH_ANGLE[0], depth * DEPTH_ANGLE[1]
    line = dict(color="#444", width=1)

    def path(points: list[tuple[float, float]], fill: str) -> dict:
        d = "M " + " L ".join(f"{px:.2f},{py:.2f}" for px, py in points) + " Z"
        return dict(type="path", path=d, fillcolor=fill, line=line, layer="above")

    front = [(x, y), (x + width, y), (x + width, y + height), (x, y + height)]
    top = [(x, y + height), (x + width, y + height), (x + width + dx, y + height + dy), (x + dx, y + height + dy)]
    side = [(x + width, y), (x + width + dx, y + dy), (x + width + dx, y + height + dy), (x + width, y + height)]
    return [path(front, color), path(top, _shade(color, 1.35)), path(side, _shade(color, 0.8))]


def _note(x: float, y: float, text: str, *, size: int = 12, anchor: str = "center", vanchor: str = "top") -> dict:
    return dict(x=x, y=y, text=text, showarrow=False, xanchor=anchor, yanchor=vanchor, font=dict(size=size))


def _blocks_layout(shapes: list[dict], notes: list[dict], hover: dict, *, x_range: tuple[float, float],
                   y_range: tuple[float, float], width: int) -> go.Figure:
    """A drawing in screen-like units: equal scales, no axes; the height follows from the width."""
    span_x, span_y = x_range[1] - x_range[0], y_range[1] - y_range[0]
    height = int(width * span_y / span_x) + 20
    return Figure(hover, layout=dict(
        shapes=shapes, annotations=notes, width=width, height=max(height, 160), plot_bgcolor="white",
        margin=dict(l=10, r=10, t=10, b=10), showlegend=False,
        xaxis=dict(visible=False, range=list(x_range), fixedrange=True),
        yaxis=dict(visible=False, range=list(y_range), scaleanchor="x", fixedrange=True)))


@dataclass(frozen=True)
class Block:
    """One block of a drawing: its label lines and size in drawing units (width, height, depth)."""

    kind: str  # colour: a key of BLOCK_COLORS
    width: float
    height: float
    depth: float
    label: str  # "conv1<br>32×28×28"
    hover: str = ""
    copies: int = 1  # drawn as a stack (filters, a batch)


def row_figure(blocks: Sequence[Block], *, gap: float = 40.0, width: int = 1100, between: Sequence[str] = (),
               stagger: bool = False) -> go.Figure:
    """Blocks left to right on a common base line, labels under them (alternating above with ``stagger``),
    ``between[i]`` written between block i and i + 1 (⊛, →, +)."""
    shapes, notes, hx, hy, htext = [], [], [], [], []
    x = 0.0
    top = max(b.height + b.depth * DEPTH_ANGLE[1] + 6 * (b.copies - 1) for b in blocks)
    for i, b in enumerate(blocks):
        for copy in reversed(range(b.copies)):  # the back copies first
            shapes += cuboid(x + 6 * copy, 6 * copy, b.width, b.height, b.depth, BLOCK_COLORS.get(b.kind, "#ccc"))
        right = x + b.width + b.depth * DEPTH_ANGLE[0] + 6 * (b.copies - 1)
        centre = (x + right) / 2
        below = not (stagger and i % 2)
        notes.append(_note(centre, -8 if below else top + 8, b.label, vanchor="top" if below else "bottom"))
        hx.append(x + b.width / 2)
        hy.append(b.height / 2)
        htext.append(b.hover or b.label)
        if i < len(between) and between[i]:
            notes.append(_note(right + gap / 2, top / 2, between[i], size=22, vanchor="middle"))
        x = right + gap
    hover = trace("scatter", x=hx, y=hy, mode="markers", marker=dict(size=18, opacity=0), text=htext,
                  hovertemplate="%{text}<extra></extra>")
    margin_y = 60 if stagger else 10
    return _blocks_layout(shapes, notes, hover, x_range=(-10, x - gap + 10), y_range=(-70, top + margin_y),
                          width=width)


def depth_px(channels: int) -> float:
    """Drawn thickness of ``channels`` feature maps: a log scale (1 → 4, 64 → 46, 512 → 67)."""
    return 4.0 + 7.0 * math.log2(max(channels, 1))


def network_blocks(rows: Sequence[Any], *, input_shape: Sequence[int], kind_name: Callable[[str], str],
                   max_px: float = 150.0) -> list[Block]:
    """The AlexNet-style picture of a network summary: the input and every layer that changes the shape
    (activations, dropout and batch norm do not). Height and width to scale (the largest side = ``max_px``),
    channels as thickness on a log scale, flat vectors as thin bars."""
    spatial = [s for s in [tuple(input_shape), *(r.output_shape for r in rows)] if s and len(s) == 3]
    scale = max_px / max([max(s[1], s[2]) for s in spatial] or [1])
    blocks = [_block("input", kind_name("input"), tuple(input_shape), scale)]
    for r in rows:
        if r.output_shape is None or r.kind in ("relu", "sigmoid", "tanh", "leaky_relu", "dropout", "batchnorm"):
            continue
        blocks.append(_block(r.kind, r.name, r.output_shape, scale))
    return blocks


def _block(kind: str, name: str, shape: tuple[int, ...], scale: float) -> Block:
    text = "×".join(map(str, shape))
    if len(shape) == 3:
        c, h, w = shape
        return Block(kind, depth_px(c), max(h * scale, 3.0), max(w * scale, 3.0), f"{name}<br>{text}")
    height = min(12.0 * math.log2(shape[0] + 1), 150.0)
    return Block(kind, 4.0, height, 4.0, f"{name}<br>{text}")


# ---------------------------------------------------------------------------------------------
# Shared weights drawn (seed 000, "Weight 그려 보기")

WEIGHT_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd",
                 "#e6550d", "#31a354", "#756bb1", "#636363", "#6baed6", "#fd8d3c", "#74c476", "#9e9ac8",
                 "#969696"]


def _column(count: int, x: float, height: float) -> tuple[list[float], list[float]]:
    step = height / max(count - 1, 1)
    offset = (height - step * (count - 1)) / 2
    return [x] * count, [height - offset - i * step for i in range(count)]


def edges_figure(edges: Sequence[tuple[int, int, int]], *, inputs: int, outputs: int, selected: int,
                 title: str, weight_names: bool, height: int = 560, width: int = 420) -> go.Figure:
    """Input nodes (left) joined to output nodes (right). ``edges`` are (source, target, weight) 1-based;
    with ``weight_names`` each weight number gets its own colour and legend entry (W1…), otherwise
    every edge is its own weight (grey). The edges of output ``selected`` are drawn bold."""
    ix, iy = _column(inputs, 0.0, 1.0)
    ox, oy = _column(outputs, 1.0, 1.0)
    groups: dict[int, list[tuple[int, int]]] = {}
    for s, t, w in edges:
        groups.setdefault(w if weight_names else 0, []).append((s, t))
    data = []
    for w, pairs in sorted(groups.items()):
        for bold in (False, True):
            chosen = [(s, t) for s, t in pairs if (t == selected) == bold]
            if not chosen:
                continue
            xs: list[float | None] = []
            ys: list[float | None] = []
            for s, t in chosen:
                xs += [ix[s - 1], ox[t - 1], None]
                ys += [iy[s - 1], oy[t - 1], None]
            color = WEIGHT_COLORS[(w - 1) % len(WEIGHT_COLORS)] if weight_names else "#555"
            data.append(trace("scatter", x=xs, y=ys, mode="lines", hoverinfo="skip", legendgroup=f"w{w}",
                              name=f"W{w}" if weight_names else "", showlegend=weight_names and bold,
                              line=dict(color=color, width=(3.5 if weight_names else 2.0) if bold else 0.7),
                              opacity=1.0 if bold else (0.45 if weight_names else 0.25)))
    data.append(trace("scatter", x=ix, y=iy, mode="markers+text", text=[str(i + 1) for i in range(inputs)],
                      textposition="middle left",
                      marker=dict(size=9, color="#9ecae1", line=dict(color="#333", width=1)),
                      hoverinfo="skip", showlegend=False))
    data.append(trace("scatter", x=ox, y=oy, mode="markers+text", text=[str(i + 1) for i in range(outputs)],
                      textposition="middle right", hoverinfo="skip", showlegend=False,
                      marker=dict(size=[16 if i + 1 == selected else 11 for i in range(outputs)],
                                  color=["#31a354" if i + 1 == selected else "#c7e9c0" for i in range(outputs)],
                                  line=dict(color="#333", width=1))))
    return Figure(data, layout=dict(title=dict(text=title), height=height, width=width, plot_bgcolor="white",
                                    margin=dict(l=30, r=30, t=40, b=10),
                                    legend=dict(orientation="h", y=-0.02, font=dict(size=11)),
                                    xaxis=dict(visible=False, range=[-0.12, 1.12], fixedrange=True),
                                    yaxis=dict(visible=False, range=[-0.05, 1.05], fixedrange=True)))


# ---------------------------------------------------------------------------------------------
# Grouped convolution: which input channels each filter sees

def groups_figure(grid: Sequence[Sequence[int]], *, title: str, x_title: str, y_title: str) -> go.Figure:
    """The (C_out, C_in) connection grid: a filled cell = the filter reads that channel (block diagonal)."""
    rows, cols = len(grid), len(grid[0])
    cell = max(2, min(22, 320 // max(rows, cols)))
    gap = 1 if cell >= 5 else 0
    return Figure(trace("heatmap", z=[list(r) for r in grid], zmin=0, zmax=1, showscale=False, xgap=gap, ygap=gap,
                        colorscale=[[0, "#f0f0f0"], [1, "#3182bd"]],
                        hovertemplate=f"{y_title} %{{y}} · {x_title} %{{x}}<extra></extra>"),
                  layout=dict(title=dict(text=title), width=max(90 + cell * cols, _title_px(title, size=17)),
                              height=90 + cell * rows,
                              margin=dict(l=60, r=10, t=40, b=40), plot_bgcolor="white",
                              xaxis=dict(title=dict(text=x_title), side="bottom", fixedrange=True, constrain="domain"),
                              yaxis=dict(title=dict(text=y_title), autorange="reversed", fixedrange=True,
                                         scaleanchor="x")))


# ---------------------------------------------------------------------------------------------
# Receptive field: a later layer's units (click one) and the input box they see

def units_figure(rows: int, cols: int, selected: tuple[int, int], *, title: str) -> go.Figure:
    """A later layer's units as squares (one scatter point each, so a click selects it); ``selected`` lit."""
    r, c = np.divmod(np.arange(rows * cols), cols)
    chosen = (r == selected[0]) & (c == selected[1])
    size = max(4, min(22, 380 // max(rows, cols)))
    return Figure(trace("scatter", x=c.tolist(), y=r.tolist(), mode="markers",
                        marker=dict(symbol="square", size=size, color=np.where(chosen, "#d62728", "#9ecae1").tolist(),
                                    line=dict(color="#555", width=0.5 if size > 6 else 0)),
                        hovertemplate="(%{y}, %{x})<extra></extra>"),
                  layout=dict(title=dict(text=title), width=60 + (size + 2) * cols, height=80 + (size + 2) * rows,
                              margin=dict(l=30, r=10, t=40, b=20), plot_bgcolor="white", clickmode="event+select",
                              dragmode=False,
                              xaxis=dict(range=[-0.5, cols - 0.5], showgrid=False, zeroline=False, fixedrange=True),
                              yaxis=dict(range=[rows - 0.5, -0.5], showgrid=False, zeroline=False, fixedrange=True,
                                         scaleanchor="x")))


def receptive_figure(h: int, w: int, box: tuple[int, int, int, int], clipped: tuple[int, int, int, int], *,
                     title: str, background: np.ndarray | None = None, px: int = 380) -> go.Figure:
    """The input (H × W) with the theoretical receptive field: the full box dashed (it may reach into the
    padding), the part on the input filled; ``background`` (H, W) is drawn under it (a digit, or an ERF)."""
    top, left, bottom, right = box
    ctop, cleft, cbottom, cright = clipped
    shapes = [dict(type="rect", x0=-0.5, x1=w - 0.5, y0=-0.5, y1=h - 0.5, line=dict(color="#333", width=1)),
              dict(type="rect", x0=cleft - 0.5, x1=cright + 0.5, y0=ctop - 0.5, y1=cbottom + 0.5,
                   line=dict(color="#d62728", width=2),
                   fillcolor="rgba(214,39,40,0.15)" if background is None else "rgba(0,0,0,0)"),
              dict(type="rect", x0=left - 0.5, x1=right + 0.5, y0=top - 0.5, y1=bottom + 0.5,
                   line=dict(color="#d62728", width=1, dash="dot"))]
    data = []
    if background is not None:
        data.append(trace("heatmap", z=np.asarray(background, dtype=float), colorscale="Greys", showscale=False,
                          hovertemplate="(%{y}, %{x}) %{z:.3g}<extra></extra>"))
    lo_x, hi_x = min(left, 0) - 1, max(right, w - 1) + 1
    lo_y, hi_y = min(top, 0) - 1, max(bottom, h - 1) + 1
    scale = px / max(hi_x - lo_x, hi_y - lo_y)
    return Figure(data or [trace("scatter", x=[], y=[])], layout=dict(
        title=dict(text=title), shapes=shapes, plot_bgcolor="white", margin=dict(l=30, r=10, t=40, b=20),
        width=int(40 + scale * (hi_x - lo_x)), height=int(60 + scale * (hi_y - lo_y)),
        xaxis=dict(range=[lo_x - 0.5, hi_x + 0.5], showgrid=False, zeroline=False, fixedrange=True),
        yaxis=dict(range=[hi_y + 0.5, lo_y - 0.5], showgrid=False, zeroline=False, fixedrange=True,
                   scaleanchor="x")))


def _title_px(title: str, *, size: int = 14) -> int:
    """About how wide a figure title is drawn (Hangul and other wide characters count double)."""
    return int(sum(size if ord(ch) > 0x1100 else 0.55 * size for ch in title)) + 24


def number_grid(matrix: np.ndarray, *, title: str, window: tuple[int, int, int, int] | None = None,
                colorscale: str = "Blues") -> go.Figure:
    """A small matrix with its numbers written in the cells; ``window`` (top, left, rows, cols) framed red."""
    m = np.asarray(matrix, dtype=float)
    rows, cols = m.shape
    text = [[f"{v:g}" for v in row] for row in m]
    chars = max(len(c) for row in text for c in row)
    cell = grid_cell_px(chars)
    width = max(20 + cell * cols, _title_px(title), 160)
    side = (width - cell * cols) // 2
    layout = dict(title=dict(text=title, font=dict(size=14)), width=width, height=40 + cell * rows,
                  margin=dict(l=side, r=width - cell * cols - side, t=34, b=6),
                  meta=grid_meta(rows, cols, chars, extra_w=width - cell * cols, extra_h=40),
                  xaxis=dict(visible=False, range=[-0.5, cols - 0.5], fixedrange=True),
                  yaxis=dict(visible=False, range=[rows - 0.5, -0.5], fixedrange=True))
    if window is not None:
        top, left, wr, wc = window
        layout["shapes"] = [dict(type="rect", x0=left - 0.5, x1=left + wc - 0.5, y0=top - 0.5, y1=top + wr - 0.5,
                                 line=dict(color="#e45756", width=4))]
    return Figure(trace("heatmap", z=m, text=text, texttemplate="%{text}", colorscale=colorscale, showscale=False,
                        xgap=2, ygap=2, textfont={"size": GRID_FONT},
                        hovertemplate="(%{y}, %{x}) = %{text}<extra></extra>"),
                  layout=layout)
