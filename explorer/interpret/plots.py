"""Plotly figures of the Inside page: attribution maps, the embedding map, weight and gradient histograms,
and the prediction's probabilities as FGSM's ε grows. Builders take arrays and translated text only."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from explorer.core.figures import SIGNED_SCALE, Figure, signed_limits, trace
from explorer.interpret.timelapse import Histogram

# plotly's qualitative "Plotly" palette, one colour per class (repeats after ten classes)
CLASS_COLOURS = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880",
                 "#ff97ff", "#fecb52")
MAP_HEIGHT = 240  # px of one attribution map


def attribution_figure(attr: np.ndarray, *, title: str, hover: str, height: int = MAP_HEIGHT) -> go.Figure:
    """A map (H, W) on the app's signed scale: red pixels raised the class score, blue lowered it, 0 white."""
    a = np.asarray(attr, dtype=np.float64)
    heat = trace("heatmap", z=a, colorscale=SIGNED_SCALE, showscale=False, **signed_limits(a),
                 hovertemplate=hover + "<extra></extra>")
    return Figure(heat, layout={"title": {"text": title, "font": {"size": 13}}, "height": height,
                                "margin": {"l": 5, "r": 5, "t": 40, "b": 5},
                                "xaxis": {"visible": False, "constrain": "domain"},
                                "yaxis": {"visible": False, "autorange": "reversed", "scaleanchor": "x"}})


def embedding_figure(coords: np.ndarray, labels: Sequence[int], classes: Sequence[str], *, title: str,
                     yours: np.ndarray | None = None, yours_name: str = "", hover: str = "") -> go.Figure:
    """Points (N, 2) coloured by class, one legend entry per class; each point's ``customdata`` is its
    index (a click tells which image it is). ``yours`` (2,) is drawn as a large black star."""
    c = np.asarray(coords, dtype=np.float64)
    y = np.asarray(labels)
    data = []
    for k, name in enumerate(classes):
        idx = np.flatnonzero(y == k)
        data.append(trace("scatter", x=c[idx, 0], y=c[idx, 1], mode="markers", name=str(name),
                          customdata=idx, marker={"size": 6, "color": CLASS_COLOURS[k % len(CLASS_COLOURS)],
                                                  "opacity": 0.75},
                          hovertemplate=f"{name} · {hover} %{{customdata}}<extra></extra>"))
    if yours is not None:
        p = np.asarray(yours, dtype=np.float64).reshape(2)
        data.append(trace("scatter", x=[p[0]], y=[p[1]], mode="markers", name=yours_name, hoverinfo="name",
                          marker={"symbol": "star", "size": 22, "color": "#000000",
                                  "line": {"width": 2, "color": "#ffffff"}}))
    return Figure(data, layout={"title": {"text": title}, "height": 520, "clickmode": "event+select",
                                "margin": {"l": 10, "r": 10, "t": 50, "b": 10}, "legend": {"itemsizing": "constant"},
                                "xaxis": {"showticklabels": False, "zeroline": False},
                                "yaxis": {"showticklabels": False, "zeroline": False}})


def histogram_figure(hist: Histogram, *, title: str, x_title: str, y_title: str) -> go.Figure:
    """Counts in a run's fixed bins (so frames of the time-lapse compare), bars touching."""
    centres = (hist.edges[:-1] + hist.edges[1:]) / 2
    bars = trace("bar", x=centres, y=hist.counts, width=np.diff(hist.edges), marker={"color": "#1f77b4"},
                 hovertemplate="%{x:.3g}: %{y}<extra></extra>")
    return Figure(bars, layout={"title": {"text": title, "font": {"size": 13}}, "height": 220, "bargap": 0,
                                "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
                                "xaxis": {"title": {"text": x_title}}, "yaxis": {"title": {"text": y_title}}})


def eps_figure(eps: np.ndarray, probs: np.ndarray, classes: Sequence[str], *, chosen: float, title: str,
               x_title: str, y_title: str, flip: float | None = None) -> go.Figure:
    """Each class's probability (E, K) as FGSM's ε grows; dashed lines at the chosen ε and at the
    smallest ε that changes the prediction."""
    p = np.asarray(probs, dtype=np.float64)
    lines = [trace("scatter", x=eps, y=p[:, k], mode="lines", name=str(name),
                   line={"color": CLASS_COLOURS[k % len(CLASS_COLOURS)], "width": 2},
                   hovertemplate=f"{name}: %{{y:.2f}} (ε = %{{x:.3f}})<extra></extra>")
             for k, name in enumerate(classes)]
    marks = [chosen] + ([flip] if flip is not None and flip > 0 else [])
    shapes = [{"type": "line", "x0": x, "x1": x, "y0": 0, "y1": 1, "yref": "paper",
               "line": {"dash": "dash", "color": "#444" if i == 0 else "#d62728", "width": 1}}
              for i, x in enumerate(marks)]
    return Figure(lines, layout={"title": {"text": title}, "height": 300, "shapes": shapes,
                                 "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
                                 "xaxis": {"title": {"text": x_title}},
                                 "yaxis": {"title": {"text": y_title}, "range": [0, 1.02]}})
