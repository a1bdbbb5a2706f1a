"""How figures look in a classroom: projector mode (big text, high-contrast colour maps).

Pure plotly, no Streamlit: the page (or `explorer.core.session`) decides which `Style` a session uses and
calls `apply(fig, style)` just before drawing; plot builders need not change. Projector mode also
enlarges the whole page through `PROJECTOR_CSS` (injected once per run by app.py). Light and dark
come from Streamlit's own themes (.streamlit/config.toml), which st.plotly_chart follows by itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import plotly.colors
import plotly.graph_objects as go

from explorer.core.figures import colorscale, grid_cell_px

PROJECTOR_KEY = "display.projector"  # session-state key of the sidebar toggle

# Colour maps with a wide range of lightness: they survive a washed-out projector image.
SEQUENTIAL_HIGH_CONTRAST = "Inferno"  # black -> purple -> orange -> yellow
DIVERGING_HIGH_CONTRAST = [[0.0, "#053061"], [0.25, "#2166ac"], [0.5, "#f7f7f7"], [0.75, "#b2182b"],
                           [1.0, "#67001f"]]  # dark blue -> white -> dark red, darker ends than RdBu
_DIVERGING = ("RdBu", "Picnic", "Balance", "PuOr", "PiYG", "PRGn", "BrBG", "RdYlBu", "Spectral", "Portland", "Tealrose")
_SEQUENTIAL = ("Viridis", "Cividis", "Plasma", "Magma", "Inferno", "Blues", "Greens", "Reds", "Oranges", "Purples",
               "YlOrRd", "YlGnBu", "Hot", "Jet", "Electric", "Bluered", "Turbo")
_GRAY = ("gray", "Greys")


def _key(scale: object) -> tuple[str, ...]:
    """A colour scale as comparable colours (plotly expands names into (stop, colour) pairs)."""
    if isinstance(scale, str):
        scale = plotly.colors.get_colorscale(scale)
    return tuple(str(colour).replace(" ", "").lower() for _, colour in scale or ())


def _kinds() -> dict[tuple[str, ...], str]:
    kinds = {}
    for kind, names in (("diverging", _DIVERGING), ("sequential", _SEQUENTIAL), ("gray", _GRAY)):
        for name in names:
            for variant in (name, f"{name}_r"):
                kinds[_key(variant)] = kind
    return kinds


_KINDS = _kinds()


@dataclass(frozen=True)
class Style:
    """Figure settings of one session."""

    font_size: int = 14  # axis labels, ticks, legends, annotations
    title_size: int = 17
    line_width: float = 2.0
    sequential: str | None = None  # None: keep each figure's own colour maps
    diverging: str | list | None = None

    @property
    def projector(self) -> bool:
        return self.sequential is not None


NORMAL = Style()
PROJECTOR = Style(font_size=22, title_size=28, line_width=4.0, sequential=SEQUENTIAL_HIGH_CONTRAST,
                  diverging=DIVERGING_HIGH_CONTRAST)

# Whole-page enlargement for projector mode (Streamlit sizes everything in rem).
PROJECTOR_CSS = "<style>html { font-size: 22px; } .stMainBlockContainer { max-width: 100%; }</style>"


def style(*, projector: bool = False) -> Style:
    """The `Style` for a session's choice."""
    return PROJECTOR if projector else NORMAL


def scale_kind(trace: go.BaseTraceType) -> str | None:
    """"diverging", "sequential", "gray" or None (a custom scale, e.g. categories: left alone)."""
    scale = getattr(trace, "colorscale", None)
    if scale is None:
        return None
    kind = _KINDS.get(_key(scale))
    if kind != "gray" and (getattr(trace, "zmid", None) is not None or getattr(trace, "cmid", None) is not None):
        return "diverging"
    return kind


def _recolour(trace: go.BaseTraceType, s: Style) -> None:
    kind = scale_kind(trace)
    if kind in ("diverging", "sequential"):  # gray images show pixels, not values: they stay gray
        scale = s.diverging if kind == "diverging" else s.sequential
        # as colours, not a name: plotly.js knows only a few scale names ("Inferno" is not one of them)
        trace.colorscale = [list(stop) for stop in colorscale(scale)] if isinstance(scale, str) else scale


def apply(fig: go.Figure, s: Style) -> go.Figure:
    """``fig`` restyled in place for ``s`` (and returned): font sizes, line widths, colour maps."""
    if not s.projector:
        return fig
    fig.update_layout(font_size=s.font_size, title_font_size=s.title_size, legend_font_size=s.font_size,
                      hoverlabel_font_size=s.font_size)
    fig.update_annotations(font_size=s.font_size)
    fig.update_xaxes(title_font_size=s.font_size, tickfont_size=s.font_size)
    fig.update_yaxes(title_font_size=s.font_size, tickfont_size=s.font_size)
    for trace in fig.data:
        _recolour(trace, s)
        if trace.type in ("scatter", "scattergl") and getattr(trace, "line", None) is not None:
            trace.line.width = max(trace.line.width or 0, s.line_width)
        if trace.type == "heatmap" and trace.texttemplate:
            trace.textfont.size = s.font_size
    _resize_grid(fig, s)
    if fig.layout.title.text and fig.layout.margin.t is not None:  # room for the larger title
        fig.layout.margin.t = max(fig.layout.margin.t, _title_room(s))
    return fig


def _title_room(s: Style) -> int:
    """Top margin in pixels that holds a title at ``s`` (plotly centres it in the margin)."""
    return 2 * s.title_size + 8


def _resize_grid(fig: go.Figure, s: Style) -> None:
    """A number grid (`explorer.core.figures.grid_meta`) gets cells large enough for its text at ``s``."""
    meta = fig.layout.meta
    grid = meta.get("grid") if isinstance(meta, dict) else None
    if not grid:
        return
    cell = grid_cell_px(grid["chars"], s.font_size)
    title_extra = _title_room(s) - (fig.layout.margin.t or 0) if fig.layout.title.text else 0
    fig.layout.width = grid["extra_w"] + cell * grid["cols"]
    fig.layout.height = grid["extra_h"] + max(0, title_extra) + cell * grid["rows"]
