"""Plotly figures built without per-property validation at run time; the test suite checks every one.

Plotly checks every property of every trace and layout as a figure is built: 30-60 ms for one of our
small figures, most of a page rerun, and on a classroom server every other student waits for it
(the GIL). `Figure` skips that check and does itself the two rewrites validation would make for our
figures (colorscale names into colours, plotly.js knows few names; ``title="x"`` into
``title={"text": "x"}``). With ``$CNN_EXPLORER_CHECK_FIGURES=1``, which the test suite sets
(``tests/conftest.py``), every figure is built both ways and must give the same JSON, so every figure
the tests build, in the library, in `AppTest` pages and in the browser tests' servers, is checked.

Builders pass the whole figure (traces and layout as plain dicts) to one `Figure(...)` call: plotly's
``update_xaxes``/``add_shape``/``update_layout`` go through its property machinery even unvalidated,
10x the cost of the constructor for a small annotated grid (17.5 vs 1.8 ms). The default template
comes trimmed to the figure's trace types (`template_for`), which halves what is left (1.4 vs 2.6 ms,
with Streamlit's own conversion; 3.3 vs 5.0 KB).
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

CHECK_ENV = "CNN_EXPLORER_CHECK_FIGURES"
# Signed values (weights, gradients, kernels) on every page: negative blue, zero white, positive red.
SIGNED_SCALE = "RdBu_r"
SIGNED_LEGEND_KEY = "common.signed_legend"  # the one legend wording for SIGNED_SCALE
GRID_FONT = 14  # text size of numbers written in grid cells (projector mode enlarges it)


def checking() -> bool:
    """True when every figure a page shows goes through `check` (the test suite)."""
    return os.environ.get(CHECK_ENV) == "1"


class FigureMismatch(AssertionError):
    """The fast figure differs from plotly's validated one (only raised while `checking()`)."""


class Figure(go.Figure):
    """`go.Figure` without validation; a single trace dict may be passed as ``data``."""

    def __init__(self, data: Any = None, layout: Any = None, **kwargs: Any) -> None:
        if isinstance(data, dict) and "type" in data:  # one trace
            data = [data]
        elif isinstance(data, dict):  # a whole figure: {"data": [...], "layout": {...}}
            data, layout = data.get("data"), data.get("layout", layout)
        data, layout = [_normalized(t) for t in data or ()], _normalized(layout or {})
        if "template" not in layout and pio.templates.default:
            layout["template"] = template_for(pio.templates.default, frozenset(t.get("type") for t in data))
        super().__init__(data, layout, _validate=False, **kwargs)

    def update_layout(self, dict1: Any = None, overwrite: bool = False, **kwargs: Any) -> Figure:
        return super().update_layout(_normalized(dict1), overwrite, **_normalized(kwargs))


def check(fig: go.Figure) -> None:
    """Raise `FigureMismatch` unless plotly's validation would leave ``fig`` exactly as it is."""
    fast = json.loads(fig.to_json())
    validated = json.loads(go.Figure(fig.to_dict()).to_json())
    if validated != fast:  # compared as data: key order aside
        raise FigureMismatch(f"plotly's validation would change this figure at {_difference(fast, validated)}")


def _difference(a: Any, b: Any, path: str = "") -> str:
    """Where two JSON values first differ, and how: ``layout.title: 'x' -> {'text': 'x'}``."""
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        return next(_difference(a[k], b[k], f"{path}.{k}".lstrip(".")) for k in a if a[k] != b[k])
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return next(_difference(x, y, f"{path}[{i}]") for i, (x, y) in enumerate(zip(a, b)) if x != y)
    return f"{path}: {str(a)[:80]} -> {str(b)[:80]}"


def trace(kind: str, **props: Any) -> dict[str, Any]:
    """A trace as a plain dict (``kind``: "heatmap", "scatter", "image", "bar", …); nested dicts, no
    ``marker_color``-style shortcuts."""
    return {"type": kind, **props}


def _normalized(props: Any) -> Any:
    """``props`` (a trace or layout dict) with the rewrites validation would make."""
    if not isinstance(props, dict):
        return props
    out = {}
    for key, value in props.items():
        if key == "title" and isinstance(value, str):
            value = {"text": value}
        elif key.endswith("_title") and isinstance(value, str):  # xaxis_title="x" -> xaxis.title.text
            key = f"{key}_text"
        elif key == "colorscale" and isinstance(value, str):
            value = [list(stop) for stop in colorscale(value)]
        elif isinstance(value, dict):
            value = _normalized(value)
        out[key] = value
    return out


@cache
def template_for(name: str, kinds: frozenset[str]) -> dict[str, Any]:
    """Template ``name`` (the default one: Streamlit's, under Streamlit) with trace styles for ``kinds`` only.

    Template styles for other trace types never apply to the figure, yet are about half of a small
    figure's JSON, built, copied and sent again on every rerun.
    """
    full = pio.templates[name].to_plotly_json()
    data = {kind: styles for kind, styles in full.get("data", {}).items() if kind in kinds}
    return {**full, "data": data} if data else {k: v for k, v in full.items() if k != "data"}


@cache
def colorscale(name: str) -> tuple[tuple[float, str], ...]:
    """The colours of a plotly colorscale name, as validation writes them."""
    return tuple(tuple(stop) for stop in go.Heatmap(colorscale=name).colorscale)


def signed_limits(values: Any) -> dict[str, float]:
    """``zmin``/``zmax``/``zmid`` putting 0 at white and the largest |value| at full colour."""
    v = np.asarray(values, dtype=np.float64)
    bound = float(np.nanmax(np.abs(v[np.isfinite(v)]))) if np.isfinite(v).any() else 0.0
    bound = bound or 1.0
    return {"zmin": -bound, "zmax": bound, "zmid": 0.0}


def clicked_point(event: Any) -> dict[str, Any] | None:
    """The first point of a chart's selection event (``st.plotly_chart(on_select=...)``: a dict-like with
    ``selection.points``), or None when nothing is selected."""
    selection = event.get("selection") if hasattr(event, "get") else getattr(event, "selection", None)
    points = selection.get("points") if hasattr(selection, "get") else getattr(selection, "points", None)
    if not points:
        return None
    point = points[0]
    return dict(point) if hasattr(point, "keys") else None


def grid_cell_px(chars: int, font_size: float = GRID_FONT) -> int:
    """Side in pixels of a square grid cell that holds ``chars`` characters at ``font_size``."""
    return int(round(max(1.9 * font_size, 0.62 * font_size * chars + 14)))


def grid_meta(rows: int, cols: int, chars: int, *, extra_w: int, extra_h: int) -> dict[str, Any]:
    """What `explorer.core.display.apply` needs to resize a number grid for a larger font:
    its cells, its longest text, and the pixels around the cells (margins, title)."""
    return {"grid": {"rows": rows, "cols": cols, "chars": chars, "extra_w": extra_w, "extra_h": extra_h}}
