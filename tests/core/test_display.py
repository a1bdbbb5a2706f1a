"""explorer.core.display: projector mode restyles figures (fonts, lines, colour maps) without changing data."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from explorer.core import display


def _figure() -> go.Figure:
    z = np.arange(9.0).reshape(3, 3) - 4
    fig = go.Figure([go.Heatmap(z=z, colorscale="RdBu", zmid=0, texttemplate="%{z}"),
                     go.Heatmap(z=z, colorscale="Viridis"),
                     go.Heatmap(z=z, colorscale="gray"),
                     go.Heatmap(z=z, colorscale=[[0, "#ff0000"], [1, "#00ff00"]]),  # categories
                     go.Scatter(y=[1, 2, 3], line={"width": 1})])
    fig.update_layout(title="t", xaxis_title="x")
    fig.add_annotation(text="a", x=0, y=0)
    return fig


def test_normal_style_changes_nothing():
    fig = _figure()
    before = fig.to_plotly_json()
    assert display.apply(fig, display.style()).to_plotly_json() == before


def test_projector_style_enlarges_text_and_uses_high_contrast_maps():
    fig = display.apply(_figure(), display.style(projector=True))
    diverging, sequential, gray, categories, line = fig.data
    assert fig.layout.font.size == display.PROJECTOR.font_size
    assert fig.layout.title.font.size == display.PROJECTOR.title_size
    assert fig.layout.xaxis.title.font.size == display.PROJECTOR.font_size
    assert fig.layout.annotations[0].font.size == display.PROJECTOR.font_size
    assert display.scale_kind(diverging) == "diverging"
    assert [c for _, c in diverging.colorscale] == [c for _, c in display.DIVERGING_HIGH_CONTRAST]
    assert display.scale_kind(sequential) == "sequential"
    assert sequential.colorscale == go.Heatmap(colorscale=display.SEQUENTIAL_HIGH_CONTRAST).colorscale
    assert display.scale_kind(gray) == "gray" and gray.colorscale == go.Heatmap(colorscale="gray").colorscale
    assert display.scale_kind(categories) is None and categories.colorscale[0][1] == "#ff0000"
    assert line.line.width == display.PROJECTOR.line_width
    assert diverging.textfont.size == display.PROJECTOR.font_size
    np.testing.assert_array_equal(np.asarray(diverging.z), np.arange(9.0).reshape(3, 3) - 4)  # data untouched


def test_every_builder_of_the_app_survives_projector_mode():
    """The real plot builders' figures go through apply() without error and keep their traces."""
    import torch

    from explorer.activations import plots as activation_plots
    from explorer.backprop import plots as backprop_plots
    from explorer.kernels import plots as kernel_plots
    from explorer.training import plots as train_plots

    rng = np.random.default_rng(0)
    figs = [kernel_plots.kernel_figure(np.array([[-1.0, 0, 1]] * 3), title="k"),
            kernel_plots.matrix_figure(np.arange(16.0).reshape(4, 4), title="m"),
            backprop_plots.grid_figure(np.eye(3) - 0.5, title="g"),
            activation_plots.feature_grid(rng.random((4, 6, 6)), title="f"),
            activation_plots.gradcam_figure(rng.random((28, 28)), rng.random((28, 28)), title="c"),
            train_plots.filters_figure(torch.randn(8, 1, 5, 5), title="w"),
            train_plots.confusion_figure(torch.eye(10, dtype=torch.int64), title="c", true_title="t",
                                         predicted_title="p")]
    for fig in figs:
        n = len(fig.data)
        assert len(display.apply(fig, display.PROJECTOR).data) == n
