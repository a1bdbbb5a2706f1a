"""Plot builders for the backprop stepper: annotated grids, the network diagram, the loss curve."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from explorer.core.figures import GRID_FONT, SIGNED_SCALE, Figure, grid_cell_px, grid_meta, signed_limits, trace

HIGHLIGHT = "#e4572e"  # outline of cells that feed the current result
FORWARD, BACKWARD, UPDATE, IDLE = "#2e86de", "#e4572e", "#27ae60", "#d5d8dc"

# node -> (x, y) in the diagram; the chain runs left to right, weights sit above it
NODES: dict[str, tuple[float, float]] = {
    "X": (0, 0), "W1": (0.5, 1), "L1": (1, 0), "L1_a": (2, 0), "L1_pool": (3, 0), "flat": (4, 0),
    "W2": (4.5, 1), "L2": (5, 0), "L2_a": (6, 0), "E": (7, 0),
}
LABELS = {"L1_a": "L1ₐ", "L1_pool": "pool", "L2_a": "L2ₐ"}  # short enough to fit in a node
EDGES = [("X", "L1"), ("W1", "L1"), ("L1", "L1_a"), ("L1_a", "L1_pool"), ("L1_pool", "flat"),
         ("flat", "L2"), ("W2", "L2"), ("L2", "L2_a"), ("L2_a", "E")]
# step id -> the nodes it lights
STEP_NODES: dict[str, tuple[str, ...]] = {
    "conv": ("X", "W1", "L1"), "act1": ("L1", "L1_a"), "pool": ("L1_a", "L1_pool"),
    "flatten": ("L1_pool", "flat"), "linear": ("flat", "W2", "L2"), "act2": ("L2", "L2_a"),
    "loss": ("L2_a", "E"), "dE_dL2a": ("E", "L2_a"), "dL2a_dL2": ("L2_a", "L2"), "delta2": ("L2",),
    "dW2": ("L2", "W2"), "dpool": ("L2", "flat", "L1_pool"), "unpool": ("L1_pool", "L1_a"),
    "dact1": ("L1_a", "L1"), "dL1": ("L1",), "dW1": ("L1", "W1"), "sharing": ("W1",),
    "update": ("W1", "W2"), "loss_after": ("E",),
}
PHASE_COLOR = {"forward": FORWARD, "backward": BACKWARD, "update": UPDATE}


def title_px(title: str, *, size: int = 17) -> int:
    """About how wide a figure title is drawn (Hangul and other wide characters count double)."""
    return int(sum(size if ord(ch) > 0x1100 else 0.55 * size for ch in title)) + 40


def grid_figure(arr: np.ndarray, *, title: str = "", highlight: np.ndarray | None = None,
                digits: int = 4) -> go.Figure:
    """A heatmap of ``arr`` with every value written in its cell; ``highlight`` cells outlined.

    Colours follow the app's signed scale (blue negative, white 0, red positive) over the array's own
    value range; cells are square and wide enough for their text (projector mode too: ``meta``).
    """
    a = np.atleast_2d(np.asarray(arr, dtype=np.float64))
    h, w = a.shape
    finite = np.where(np.isfinite(a), a, 0.0)
    text = [[_fmt(v, digits) for v in row] for row in a]
    chars = max(len(c) for row in text for c in row)
    cell = grid_cell_px(chars)
    extra_w, extra_h = 40, 70
    heatmap = trace("heatmap", z=finite, text=text, texttemplate="%{text}", textfont={"size": GRID_FONT},
                    colorscale=SIGNED_SCALE, showscale=False, xgap=1, ygap=1, **signed_limits(finite),
                    hovertemplate="[%{y}, %{x}] = %{text}<extra></extra>")
    layout = dict(title={"text": title, "x": 0.02}, margin={"l": 30, "r": 10, "t": 60, "b": 10},
                  height=extra_h + cell * h, width=max(160, extra_w + cell * w, title_px(title)),
                  meta=grid_meta(h, w, chars, extra_w=extra_w, extra_h=extra_h),
                  xaxis=dict(showgrid=False, zeroline=False, tickmode="linear", dtick=1, side="top",
                             constrain="domain"),
                  yaxis=dict(autorange="reversed", showgrid=False, zeroline=False, tickmode="linear", dtick=1,
                             scaleanchor="x", constrain="domain"))
    if highlight is not None:
        layout["shapes"] = [dict(type="rect", x0=j - 0.5, x1=j + 0.5, y0=i - 0.5, y1=i + 0.5,
                                 line={"color": HIGHLIGHT, "width": 3})
                            for i, j in zip(*np.nonzero(np.atleast_2d(highlight)))]
    return Figure(heatmap, layout=layout)


def _fmt(v: float, digits: int) -> str:
    if not np.isfinite(v):
        return str(v)
    if v == 0:
        return "0"  # also -0.0, which would read as "-0"
    if v != 0 and (abs(v) >= 10 ** 4 or abs(v) < 10 ** -digits):
        return f"{v:.{max(digits - 2, 1)}e}"
    return f"{v:.{digits}f}".rstrip("0").rstrip(".") if float(v).is_integer() else f"{v:.{digits}f}"


def lit_nodes(step_id: str) -> tuple[str, ...]:
    return STEP_NODES.get(step_id, ())


def network_figure(step_id: str, phase: str) -> go.Figure:
    """The toy CNN as a chain of nodes; the nodes of the current step lit in the phase colour."""
    lit = set(lit_nodes(step_id))
    color = PHASE_COLOR.get(phase, FORWARD)
    arrows = []
    for a, b in EDGES:
        (x0, y0), (x1, y1) = NODES[a], NODES[b]
        on = a in lit and b in lit
        arrows.append(dict(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y",
                           showarrow=True, arrowhead=2, arrowwidth=3 if on else 1.5,
                           arrowcolor=color if on else "#95a5a6", standoff=18, startstandoff=18, text=""))
    names = list(NODES)
    nodes = trace("scatter", x=[NODES[n][0] for n in names], y=[NODES[n][1] for n in names],
                  mode="markers+text", text=[LABELS.get(n, n) for n in names], textposition="middle center",
                  textfont={"size": 12, "color": "#1b2631"},
                  marker={"size": 50, "symbol": "square", "color": [color if n in lit else IDLE for n in names],
                          "opacity": [1.0 if n in lit else 0.6 for n in names],
                          "line": {"width": 1, "color": "#566573"}},
                  hoverinfo="skip", showlegend=False)
    return Figure(nodes, layout=dict(annotations=arrows, height=170, margin={"l": 5, "r": 5, "t": 5, "b": 5},
                                     plot_bgcolor="white", xaxis=dict(visible=False, range=[-0.5, 7.5]),
                                     yaxis=dict(visible=False, range=[-0.6, 1.6])))


def loss_figure(losses: list[float] | tuple[float, ...], *, x_title: str, y_title: str) -> go.Figure:
    """E before each gradient step (step 0 = the inputs as given)."""
    curve = trace("scatter", x=list(range(len(losses))), y=list(losses), mode="lines+markers",
                  hovertemplate="%{x}: E = %{y:.6f}<extra></extra>")
    return Figure(curve, layout=dict(xaxis=dict(title=x_title), yaxis=dict(title=y_title), height=300,
                                     margin={"l": 50, "r": 10, "t": 10, "b": 40}))


def symbol_figure(labels: list[list[str]], *, title: str = "", highlight: np.ndarray | None = None,
                  tint: str = "#dbe9f6") -> go.Figure:
    """A grid of symbols (``x11``, ``w12``, …) instead of numbers; ``highlight`` cells filled and outlined."""
    rows, cols = len(labels), len(labels[0])
    lit = np.zeros((rows, cols)) if highlight is None else np.asarray(highlight, dtype=float)
    chars = max(len(s) for row in labels for s in row)
    cell = grid_cell_px(chars)
    extra_w, extra_h = 20, 46
    layout = dict(title={"text": title, "x": 0.02}, margin={"l": 10, "r": 10, "t": 40, "b": 6},
                  height=extra_h + cell * rows, width=max(160, extra_w + cell * cols, title_px(title)),
                  meta=grid_meta(rows, cols, chars, extra_w=extra_w, extra_h=extra_h),
                  xaxis=dict(visible=False, range=[-0.5, cols - 0.5], fixedrange=True),
                  yaxis=dict(visible=False, range=[rows - 0.5, -0.5], fixedrange=True))
    if highlight is not None:
        layout["shapes"] = [dict(type="rect", x0=j - 0.5, x1=j + 0.5, y0=i - 0.5, y1=i + 0.5,
                                 line={"color": HIGHLIGHT, "width": 3}) for i, j in zip(*np.nonzero(lit))]
    return Figure(trace("heatmap", z=lit, text=labels, texttemplate="%{text}", textfont={"size": GRID_FONT},
                        zmin=0, zmax=1, colorscale=[[0, tint], [1, "#fdd0a2"]], showscale=False, xgap=2, ygap=2,
                        hovertemplate="%{text}<extra></extra>"), layout=layout)
