"""explorer.core.figures: fast (unvalidated) figures equal plotly's validated ones; the suite checks them all."""

from __future__ import annotations

import numpy as np
import plotly.io as pio
import pytest
import torch

from explorer.activations import plots as activation_plots
from explorer.backprop import plots as backprop_plots
from explorer.core import figures
from explorer.kernels import plots as kernel_plots
from explorer.shapes import plots as shapes_plot
from explorer.training import plots as train_plots
from explorer.training.config import History


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


BUILDERS = {
    "kernel image": lambda: kernel_plots.image_figure(_rng().integers(0, 255, (20, 30, 3)).astype(np.uint8),
                                                      raw=_rng().normal(size=(20, 30, 3)), title="t"),
    "kernel matrix": lambda: kernel_plots.matrix_figure(_rng().normal(size=(6, 6)), window=(1, 1, 3, 3), padding=1),
    "histogram": lambda: kernel_plots.histogram_figure(_rng().normal(size=500)),
    "backprop grid": lambda: backprop_plots.grid_figure(_rng().normal(size=(4, 4)), title="g",
                                                        highlight=_rng().random((4, 4)) > 0.5),
    "network": lambda: backprop_plots.network_figure("conv", "forward"),
    "loss": lambda: backprop_plots.loss_figure([0.3, 0.2, 0.1], x_title="x", y_title="y"),
    "shapes grid": lambda: shapes_plot.grid_figure(6, 6, (3, 3), stride=(2, 2), padding=(1, 1), position=(1, 2)),
    "probabilities": lambda: activation_plots.probability_bars(np.full(10, 0.1), title="p"),
    "feature grid": lambda: activation_plots.feature_grid(torch.ones(6, 5, 5), title="m"),
    "gradcam": lambda: activation_plots.gradcam_figure(_rng().random((8, 8)), _rng().random((8, 8)), title="c"),
    "curves": lambda: train_plots.curves_figure(History(step=[1, 2], loss=[2.0, 1.5], accuracy=[0.1, 0.3]),
                                                loss_title="L", accuracy_title="A", step_title="S",
                                                train_name="t", train_epoch_name="e", test_name="v"),
    "filters": lambda: train_plots.filters_figure(torch.ones(8, 1, 3, 3), title="f"),
}


def test_the_suite_checks_every_figure(monkeypatch):
    assert figures.checking()
    with pytest.raises(ValueError):  # plotly's validation runs: a typo is caught
        figures.check(figures.Figure(figures.trace("heatmap", z=[[1]], colourscale="gray")))
    monkeypatch.setattr(figures, "_normalized", lambda props: props)  # forget to rewrite the name "gray"
    with pytest.raises(figures.FigureMismatch):
        figures.check(figures.Figure(figures.trace("heatmap", z=[[1]], colorscale="gray")))


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_fast_figures_are_plotlys_validated_figures(name):
    fig = BUILDERS[name]()
    figures.check(fig)
    assert not fig._validate and fig.to_plotly_json()["data"]


def test_at_run_time_nothing_is_validated():
    fig = figures.Figure(figures.trace("heatmap", z=[[1]], colourscale="gray"))  # passes unchecked
    assert fig.to_plotly_json()["data"][0]["colourscale"] == "gray"


def test_names_and_titles_are_rewritten_as_validation_would():
    fig = figures.Figure({"data": [figures.trace("heatmap", z=[[1]], colorscale="gray",
                                                 colorbar=dict(title="c"))],
                          "layout": dict(title="t", xaxis=dict(title="x"))})
    fig.update_layout(yaxis_title="y")
    figures.check(fig)
    spec = fig.to_plotly_json()
    assert spec["data"][0]["colorscale"][0] == [0.0, "rgb(0, 0, 0)"]
    assert spec["data"][0]["colorbar"]["title"] == {"text": "c"}
    assert spec["layout"]["title"] == {"text": "t"} and spec["layout"]["xaxis"]["title"] == {"text": "x"}
    assert spec["layout"]["yaxis"]["title"] == {"text": "y"}


def test_the_default_template_comes_trimmed_to_the_figures_trace_types():
    default = pio.templates[pio.templates.default].to_plotly_json()
    assert {"heatmap", "scatter"} < set(default["data"])  # there is something to trim
    fig = figures.Figure([figures.trace("heatmap", z=[[1]]), figures.trace("scatter", y=[1])])
    template = fig.to_plotly_json()["layout"]["template"]
    assert template["layout"] == default["layout"]  # all of the layout's styling
    assert template["data"] == {k: default["data"][k] for k in ("heatmap", "scatter")}
    assert "data" not in figures.Figure(figures.trace("image", z=[[[0, 0, 0]]])).to_plotly_json()["layout"]["template"]


def test_a_template_given_is_kept():
    fig = figures.Figure(figures.trace("heatmap", z=[[1]]), layout=dict(template=dict(layout=dict(font=dict(size=9)))))
    assert fig.to_plotly_json()["layout"]["template"] == {"layout": {"font": {"size": 9}}}


def test_clicked_point_reads_a_selection_event_as_a_dict_or_as_attributes():
    from types import SimpleNamespace

    from explorer.core.figures import clicked_point

    point = {"x": "3", "y": "5", "customdata": 12}
    assert clicked_point({"selection": {"points": [point, {"x": 0}]}}) == point
    assert clicked_point(SimpleNamespace(selection=SimpleNamespace(points=[point]))) == point
    for nothing in (None, {}, {"selection": {"points": []}}, SimpleNamespace(selection=None), {"selection": 3}):
        assert clicked_point(nothing) is None
