"""Figures of the builder page: runs compared (test accuracy per epoch, gradient norm per layer) and a
picture grid for one class's images."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
import torch

from explorer.builder.view import RunRecord
from explorer.core.figures import Figure, trace

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")  # one per compared run


def accuracy_figure(runs: Sequence[RunRecord], *, title: str, x_title: str, y_title: str) -> go.Figure:
    """Test accuracy after each epoch, one line per run."""
    data = [trace("scatter", x=list(range(1, len(r.test_accuracy) + 1)), y=list(r.test_accuracy),
                  mode="lines+markers", name=r.label, line={"color": COLOURS[i % len(COLOURS)]})
            for i, r in enumerate(runs)]
    return Figure(data, layout={"title": {"text": title}, "height": 340, "margin": {"l": 10, "r": 10, "t": 50,
                                                                                    "b": 90},
                                "xaxis": {"title": {"text": x_title}, "dtick": 1},
                                "yaxis": {"title": {"text": y_title}, "range": [0, 1.02]},
                                "legend": {"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0}})


def gradient_figure(runs: Sequence[RunRecord], *, title: str, x_title: str, y_title: str) -> go.Figure:
    """Each weighted layer's mean weight-gradient norm (log scale), input side first: a run whose first
    layers get far smaller gradients than its last ones shows the vanishing gradient ("더 깊게?")."""
    data = [trace("scatter", x=list(range(1, len(r.grad_norms) + 1)), y=list(r.grad_norms), mode="lines+markers",
                  name=r.label, line={"color": COLOURS[i % len(COLOURS)]})
            for i, r in enumerate(runs) if r.grad_norms]
    return Figure(data, layout={"title": {"text": title}, "height": 340, "margin": {"l": 10, "r": 10, "t": 50,
                                                                                    "b": 90},
                                "xaxis": {"title": {"text": x_title}, "dtick": 1},
                                "yaxis": {"title": {"text": y_title}, "type": "log"},
                                "legend": {"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0}})


def picture(pixels: torch.Tensor) -> np.ndarray:
    """One image (C, H, W) uint8 as (H, W[, 3]) for ``st.image``."""
    a = pixels.detach().cpu().numpy()
    return a[0] if a.shape[0] == 1 else np.moveaxis(a, 0, -1)
