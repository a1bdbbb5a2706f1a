"""Plotly figures of a training run: curves, filters, feature maps, confusion matrix, mistakes.

Builders take plain tensors/lists and already-translated text (keyword-only), so they need no
Streamlit and can be tested directly. Grids of small images are tiled into ONE heatmap (NaN gaps
between tiles): one trace redraws fast enough for a live view at a few frames per second.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import torch

from explorer.core.figures import SIGNED_SCALE, Figure
from explorer.training.config import History

IMAGE_SCALE = "gray"  # MNIST: white digit on black
WEIGHT_SCALE = SIGNED_SCALE  # the app's one signed scale: negative blue, zero white, positive red


def tile(maps: torch.Tensor | np.ndarray, *, cols: int, pad: int = 1, scale: str = "each") -> np.ndarray:
    """Tiles (N, H, W) into one (rows*(H+pad)-pad, cols*(W+pad)-pad) array, NaN between tiles.

    ``scale``: "each" maps every tile to [-1, 1] by its own max |value| (filters), "none" keeps values.
    """
    maps = np.asarray(maps, dtype=np.float64)
    n, h, w = maps.shape
    cols = max(1, min(cols, n))
    rows = max(1, math.ceil(n / cols))
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), np.nan)
    for i in range(n):
        r, c = divmod(i, cols)
        tile_ = maps[i]
        if scale == "each":
            peak = np.abs(tile_).max()
            tile_ = tile_ / peak if peak > 0 else tile_
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = tile_
    return out


GAP = 255  # uint8 code of the gaps between tiles (drawn in the page's background grey)


def to_codes(z: np.ndarray, *, low: float, high: float) -> np.ndarray:
    """Values in [low, high] to uint8 codes 0..254 (NaN gaps to `GAP`): 10× cheaper to send than floats."""
    scaled = np.clip((np.nan_to_num(z, nan=low) - low) / (high - low), 0, 1)
    codes = np.rint(scaled * (GAP - 1)).astype(np.uint8)
    codes[np.isnan(z)] = GAP
    return codes


def _colorscale(name: str) -> list:
    """A plotly colorscale over codes 0..254, with code 255 (gaps) in light grey."""
    from plotly.colors import get_colorscale

    edge = (GAP - 1) / GAP
    return [[pos * edge, color] for pos, color in get_colorscale(name)] + [[edge + 1e-9, "#f0f2f6"], [1, "#f0f2f6"]]


def _image_layout(height: int, **extra) -> dict:
    """Square pixels, row 0 at the top, no ticks."""
    return {"height": height, "margin": {"l": 5, "r": 5, "t": 40, "b": 5},
            "xaxis": {"visible": False, "constrain": "domain"},
            "yaxis": {"visible": False, "autorange": "reversed", "scaleanchor": "x"}, **extra}


def _heatmap(codes: np.ndarray, *, colorscale: str, **extra) -> dict:
    return {"type": "heatmap", "z": codes, "zmin": 0, "zmax": GAP, "colorscale": _colorscale(colorscale),
            "showscale": False, "hoverinfo": "skip", **extra}


def smooth(values: Sequence[float], *, window: int = 20) -> list[float]:
    """Moving average over the last ``window`` values (same length as ``values``)."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def curves_figure(history: History, *, loss_title: str, accuracy_title: str, step_title: str,
                  train_name: str, train_epoch_name: str, test_name: str, height: int = 360) -> go.Figure:
    """Loss and accuracy: training batches (smoothed) per step, training mean and test set per epoch."""
    colors = {"train": "#1f77b4", "epoch": "#7f7f7f", "test": "#d62728"}
    data = []
    for col, (per_step, train_epoch, test) in enumerate(
            [(history.loss, history.train_loss, history.test_loss),
             (history.accuracy, history.train_accuracy, history.test_accuracy)], start=1):
        axes = {"xaxis": f"x{col if col > 1 else ''}", "yaxis": f"y{col if col > 1 else ''}"}
        first = col == 1
        data += [
            {"type": "scatter", "x": list(history.step), "y": smooth(per_step), "mode": "lines", "name": train_name,
             "line": {"color": colors["train"]}, "legendgroup": "train", "showlegend": first, **axes},
            {"type": "scatter", "x": list(history.epoch_step), "y": list(train_epoch), "mode": "lines+markers",
             "name": train_epoch_name, "line": {"color": colors["epoch"], "dash": "dot"}, "legendgroup": "epoch",
             "showlegend": first, **axes},
            {"type": "scatter", "x": list(history.epoch_step), "y": list(test), "mode": "lines+markers",
             "name": test_name, "line": {"color": colors["test"]}, "legendgroup": "test", "showlegend": first, **axes},
        ]
    title = {"xref": "paper", "yref": "paper", "y": 1.0, "yanchor": "bottom", "showarrow": False, "font": {"size": 14}}
    layout = {
        "height": height, "margin": {"l": 10, "r": 10, "t": 40, "b": 90}, "uirevision": "curves",
        # below the axis titles, room for two rows of long (Korean) names
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0, "xanchor": "left"},
        "xaxis": {"domain": [0, 0.46], "title": {"text": step_title}, "anchor": "y"},
        "xaxis2": {"domain": [0.54, 1], "title": {"text": step_title}, "anchor": "y2"},
        "yaxis": {"rangemode": "tozero", "anchor": "x"},
        "yaxis2": {"range": [0, 1.02], "anchor": "x2"},
        "annotations": [{**title, "x": 0.23, "xanchor": "center", "text": loss_title},
                        {**title, "x": 0.77, "xanchor": "center", "text": accuracy_title}],
    }
    return Figure({"data": data, "layout": layout})


def filters_figure(weights: torch.Tensor, *, title: str = "", cols: int = 8, height: int | None = None,
                   width: int = 400) -> go.Figure:
    """Conv weights (C_out, C_in, k, k) as a grid of k×k images, each scaled by its own max |w|.

    With several input channels (second layer) each tile is the filter averaged over its input
    channels: a summary of what pattern that output channel responds to. The figure is as tall as
    the grid is at about ``width`` pixels wide (no empty band around it).
    """
    kernels = weights.detach().float().mean(dim=1)  # (C_out, k, k)
    z = tile(kernels, cols=cols, pad=1, scale="each")
    top = 40 if title else 5
    layout = _image_layout(height or int(top + 5 + width * z.shape[0] / z.shape[1]), uirevision="filters",
                           **({"title": {"text": title, "font": {"size": 13}}} if title else {}))
    layout["margin"]["t"] = top
    return Figure({"data": [_heatmap(to_codes(z, low=-1, high=1), colorscale=WEIGHT_SCALE)], "layout": layout})


def _upsample(fmap: torch.Tensor, size: int) -> np.ndarray:
    """(c, h, w) maps enlarged by pixel repetition to (c, size, size) (a pooled map shows its blocks)."""
    factor = max(1, size // fmap.shape[-1])
    big = fmap.repeat_interleave(factor, dim=-1).repeat_interleave(factor, dim=-2)
    out = torch.full((fmap.shape[0], size, size), float("nan"))
    out[:, :big.shape[-2], :big.shape[-1]] = big[:, :size, :size]
    return out.numpy()


def feature_maps_figure(maps: Sequence[tuple[str, torch.Tensor]], *, channels: int = 8) -> go.Figure:
    """One row per layer: its first ``channels`` output channels, each scaled to [0, 1], in one heatmap.

    Smaller (pooled) maps are enlarged by pixel repetition to the first map's size, so their
    coarser grid shows; the row label gives the real size.
    """
    size = max(int(fmap.shape[-1]) for _, fmap in maps)
    pad, label_h = 2, 8
    band = size + pad + label_h
    z = np.full((band * len(maps), channels * (size + pad) - pad), np.nan)
    annotations = []
    for row, (name, fmap) in enumerate(maps):
        shown = fmap[:channels].detach().float().reshape(-1, *fmap.shape[-2:])  # (c, H, W)
        low = shown.amin(dim=(1, 2), keepdim=True)
        span = (shown.amax(dim=(1, 2), keepdim=True) - low).clamp_min(1e-8)
        tiles = tile(_upsample((shown - low) / span, size), cols=channels, pad=pad, scale="none")
        top = row * band + label_h
        z[top:top + tiles.shape[0], :tiles.shape[1]] = tiles
        annotations.append({"x": 0, "y": top - 1, "xanchor": "left", "yanchor": "bottom", "showarrow": False,
                            "text": f"{name}  ({' × '.join(str(d) for d in fmap.shape)})", "font": {"size": 12}})
    layout = _image_layout(int(60 + 95 * len(maps) * max(1.0, 8 / channels) ** 0.5), annotations=annotations,
                           uirevision="maps")
    layout["margin"]["t"] = 10
    return Figure({"data": [_heatmap(to_codes(z, low=0, high=1), colorscale="Viridis")], "layout": layout})


def confusion_figure(confusion: torch.Tensor, *, title: str, true_title: str, predicted_title: str,
                     classes: Sequence[str] | None = None) -> go.Figure:
    """K×K counts, rows = true class, columns = predicted class, numbers in the cells. Click a cell
    (``on_select``) to see its images: the selected point's x/y are the class names."""
    counts = confusion.detach().cpu().numpy()
    digits = list(classes) if classes is not None else [str(d) for d in range(counts.shape[0])]
    trace = {"type": "heatmap", "z": counts, "x": digits, "y": digits, "colorscale": "Blues", "showscale": False,
             "text": counts, "texttemplate": "%{text}", "hoverinfo": "skip"}
    # Heatmaps cannot be selected: an invisible square marker on each cell takes the click (and the hover).
    k = len(digits)
    cells = {"type": "scatter", "mode": "markers", "x": [c for _ in digits for c in digits],
             "y": [r for r in digits for _ in digits], "customdata": counts.reshape(-1),
             "marker": {"symbol": "square", "size": max(12, 300 // max(k, 1)), "opacity": 0.01, "color": "#000"},
             "hovertemplate": "%{y} → %{x}: %{customdata}<extra></extra>", "showlegend": False}
    layout = {"title": {"text": title}, "height": 420, "margin": {"l": 10, "r": 10, "t": 80, "b": 10},
              "xaxis": {"title": {"text": predicted_title}, "side": "top", "type": "category"},
              "yaxis": {"title": {"text": true_title}, "autorange": "reversed", "type": "category"},
              "clickmode": "event+select"}
    return Figure({"data": [trace, cells], "layout": layout})


def misclassified_figure(images: torch.Tensor, predictions: Sequence[int], labels: Sequence[int], *,
                         caption: str, cols: int = 8) -> go.Figure:
    """A gallery of digits (K, 1, 28, 28) with ``caption`` ("{pred}/{true}" placeholders) above each."""
    pictures = images.detach().float().reshape(len(images), 28, 28)
    pad = 12  # room for the caption above each digit
    z = tile(pictures, cols=cols, pad=pad, scale="none") if len(pictures) else np.full((28, 28), np.nan)
    z = np.pad(z, ((pad, 0), (0, 0)), constant_values=np.nan)
    annotations = [{"x": c * (28 + pad) + 13.5, "y": r * (28 + pad) + pad - 2, "yanchor": "bottom",
                    "text": caption.format(pred=int(pred), true=int(true)), "showarrow": False, "font": {"size": 12}}
                   for i, (pred, true) in enumerate(zip(predictions, labels)) for r, c in [divmod(i, cols)]]
    rows = max(1, math.ceil(len(pictures) / cols))
    layout = _image_layout(60 + 95 * rows, annotations=annotations)
    layout["margin"]["t"] = 10
    return Figure({"data": [_heatmap(to_codes(z, low=0, high=1), colorscale=IMAGE_SCALE)], "layout": layout})


def eta_text(seconds: float) -> str | None:
    """``m:ss`` of a remaining time, or None when it is not known (yet)."""
    if not math.isfinite(seconds):
        return None
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"
