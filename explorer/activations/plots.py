"""Plotly figures for the "your own image" page: probabilities, feature-map grids, filters, Grad-CAM.

Texts (titles, axis labels) are passed in already translated. Every figure can be saved as PNG from
its toolbar (camera icon); `png_config` names the file.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import torch

from explorer.core.figures import SIGNED_SCALE, Figure, trace

GAP = 1  # pixels of empty (NaN) space between tiles of a grid


def png_config(filename: str) -> dict:
    """Plotly ``config`` whose camera button saves ``filename``.png at 2x scale."""
    return {"displaylogo": False,
            "toImageButtonOptions": {"format": "png", "filename": filename, "scale": 2}}


def _square(data: dict | list[dict], *, title: str, height: int) -> go.Figure:
    """``data`` (traces) drawn with square pixels, row 0 on top, no axes."""
    return Figure(data, layout=dict(title=title, height=height, margin=dict(l=10, r=10, t=40, b=10),
                                    xaxis=dict(visible=False, constrain="domain"),
                                    yaxis=dict(visible=False, autorange="reversed", scaleanchor="x")))


def probability_bars(probs: np.ndarray, *, labels: list[str] | None = None, title: str = "",
                     xaxis: str = "", yaxis: str = "") -> go.Figure:
    """Bar chart of class probabilities; the most likely class is highlighted."""
    probs = np.asarray(probs, dtype=float)
    labels = labels or [str(i) for i in range(len(probs))]
    best = int(np.argmax(probs))
    colors = ["#d62728" if i == best else "#1f77b4" for i in range(len(probs))]
    bars = trace("bar", x=labels, y=probs, marker=dict(color=colors),
                 text=[f"{p:.0%}" if p >= 0.01 else "" for p in probs], textposition="outside",
                 hovertemplate="%{x}: %{y:.3f}<extra></extra>")
    return Figure(bars, layout=dict(title=title, height=300, margin=dict(l=10, r=10, t=40, b=10),
                                    xaxis=dict(title=xaxis, type="category"),
                                    yaxis=dict(title=yaxis, range=[0, 1.15])))


def image_figure(image: np.ndarray, *, title: str = "", height: int = 260) -> go.Figure:
    """A grayscale image in [0, 1] as a heatmap (white = 1), pixel values on hover."""
    return _square(trace("heatmap", z=np.asarray(image, dtype=float), colorscale="gray", zmin=0, zmax=1,
                         showscale=False, hovertemplate="(%{y}, %{x}): %{z:.2f}<extra></extra>"),
                   title=title, height=height)


def mosaic(maps: np.ndarray, *, cols: int, shared_scale: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Tile (C, H, W) maps into one image with NaN gaps; also each pixel's channel index (-1 in gaps).

    Without ``shared_scale`` each map is min-max scaled to [0, 1] on its own.
    """
    maps = np.asarray(maps, dtype=float)
    c, h, w = maps.shape
    if not shared_scale:
        lo = maps.reshape(c, -1).min(1)[:, None, None]
        span = maps.reshape(c, -1).max(1)[:, None, None] - lo
        maps = np.where(span > 0, (maps - lo) / np.where(span > 0, span, 1), 0.0)
    rows = math.ceil(c / cols)
    out = np.full((rows * (h + GAP) - GAP, cols * (w + GAP) - GAP), np.nan)
    index = np.full(out.shape, -1, dtype=int)
    for i in range(c):
        r, q = divmod(i, cols)
        out[r * (h + GAP):r * (h + GAP) + h, q * (w + GAP):q * (w + GAP) + w] = maps[i]
        index[r * (h + GAP):r * (h + GAP) + h, q * (w + GAP):q * (w + GAP) + w] = i
    return out, index


def feature_grid(maps: torch.Tensor | np.ndarray, *, title: str = "", shared_scale: bool = True,
                 max_maps: int = 64, cols: int = 8, zrange: tuple[float, float] | None = None,
                 hover: str = "#%{customdata}: %{z:.3f}") -> go.Figure:
    """Feature maps (C, H, W) as one grid; a shared colour scale (optionally ``zrange``) or per map."""
    a = maps.detach().cpu().numpy() if isinstance(maps, torch.Tensor) else np.asarray(maps)
    a = a[:max_maps]
    cols = min(cols, len(a))
    z, index = mosaic(a, cols=cols, shared_scale=shared_scale)
    lo, hi = zrange if (zrange and shared_scale) else (np.nanmin(z), np.nanmax(z))
    rows = math.ceil(len(a) / cols)
    return _square(trace("heatmap", z=z, customdata=index, colorscale="Viridis", zmin=lo, zmax=hi,
                         showscale=shared_scale, hoverongaps=False, hovertemplate=hover + "<extra></extra>"),
                   title=title, height=max(220, min(900, 60 + 90 * rows)))


def filter_grid(weights: torch.Tensor | np.ndarray, *, title: str = "", max_maps: int = 64,
                cols: int = 8, hover: str = "#%{customdata}: %{z:.3f}", width: int = 330) -> go.Figure:
    """Conv filters (C_out, C_in, k, k), averaged over input channels, on the app's signed colour scale.

    No colour bar (the page writes the one signed-colour legend under it); the figure is as tall as the
    grid needs at about ``width`` pixels wide, so it is neither tiny nor letterboxed.
    """
    w = weights.detach().cpu().numpy() if isinstance(weights, torch.Tensor) else np.asarray(weights)
    k = w.mean(axis=1)[:max_maps]  # (C, k, k)
    cols = min(cols, len(k))
    z, index = mosaic(k, cols=cols)
    bound = float(np.nanmax(np.abs(z))) or 1.0
    height = 50 + int(round((width - 20) * z.shape[0] / z.shape[1]))
    return _square(trace("heatmap", z=z, customdata=index, colorscale=SIGNED_SCALE, zmid=0, zmin=-bound, zmax=bound,
                         showscale=False, hoverongaps=False, hovertemplate=hover + "<extra></extra>"),
                   title=title, height=max(160, min(700, height)))


def gradcam_figure(image: np.ndarray, cam: np.ndarray, *, title: str = "", opacity: float = 0.5,
                   height: int = 320) -> go.Figure:
    """The input in gray with the Grad-CAM (or saliency) map laid over it in a heat colour scale."""
    return _square([
        trace("heatmap", z=np.asarray(image, dtype=float), colorscale="gray", zmin=0, zmax=1, showscale=False,
              hoverinfo="skip"),
        trace("heatmap", z=np.asarray(cam, dtype=float), colorscale="Jet", zmin=0, zmax=1, opacity=opacity,
              hovertemplate="(%{y}, %{x}): %{z:.2f}<extra></extra>"),
    ], title=title, height=height)


def rgb_filter_grid(weights: torch.Tensor, *, title: str = "", max_maps: int = 64,
                    cols: int = 8) -> go.Figure:
    """First-layer colour filters (C, 3, k, k) shown as small RGB images (each scaled to 0..255)."""
    w = weights.detach().cpu().numpy()[:max_maps].astype(float)  # (C, 3, k, k)
    lo = w.reshape(len(w), -1).min(1)[:, None, None, None]
    hi = w.reshape(len(w), -1).max(1)[:, None, None, None]
    w = (w - lo) / np.where(hi > lo, hi - lo, 1)
    c, _, k, _ = w.shape
    cols = min(cols, c)
    rows = math.ceil(c / cols)
    out = np.full((rows * (k + GAP) - GAP, cols * (k + GAP) - GAP, 3), 255, dtype=np.uint8)
    for i in range(c):
        r, q = divmod(i, cols)
        out[r * (k + GAP):r * (k + GAP) + k, q * (k + GAP):q * (k + GAP) + k] = \
            np.rint(w[i].transpose(1, 2, 0) * 255).astype(np.uint8)
    return _square(trace("image", z=out, hoverinfo="skip"), title=title, height=max(220, min(700, 60 + 60 * rows)))


def enlarge(image: np.ndarray, *, side: int = 112) -> np.ndarray:
    """A [0, 1] grayscale image as uint8, scaled up by whole pixels (no blur) to about ``side`` px."""
    a = np.clip(np.asarray(image, dtype=float), 0, 1)
    factor = max(1, side // max(a.shape))
    return np.rint(np.kron(a, np.ones((factor, factor))) * 255).astype(np.uint8)


def step_image(image: np.ndarray, *, side: int = 112, pad: float = 0.25) -> np.ndarray:
    """A [0, 1] grayscale step for display: padded to a square with gray ``pad`` (so a crop's box
    shows), then resized to ``side`` x ``side`` uint8 (whole-pixel blocks when enlarging)."""
    from PIL import Image

    a = np.clip(np.asarray(image, dtype=float), 0, 1)
    h, w = a.shape
    n = max(h, w)
    square = np.full((n, n), pad)
    top, left = (n - h) // 2, (n - w) // 2
    square[top:top + h, left:left + w] = a
    im = Image.fromarray(np.rint(square * 255).astype(np.uint8))
    resample = Image.Resampling.NEAREST if n <= side else Image.Resampling.BOX
    return np.asarray(im.resize((side, side), resample))
