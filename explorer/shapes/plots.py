"""The conv_arithmetic-style picture: where one window lands on the padded input, and its output cell."""

from __future__ import annotations

import plotly.graph_objects as go

from explorer.core.figures import Figure, trace
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
