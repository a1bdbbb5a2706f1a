"""Figures of the Inside page: signed attribution maps, the clickable embedding map, fixed-bin histograms
and the FGSM sweep (the suite checks every figure against plotly's validation, tests/conftest.py)."""

from __future__ import annotations

import numpy as np

from explorer.interpret import histogram, plots


def test_an_attribution_map_is_signed_with_zero_white_and_square_pixels():
    attr = np.array([[0.5, -2.0], [1.0, 0.0]])
    fig = plots.attribution_figure(attr, title="Saliency", hover="%{z}")
    heat = fig.data[0]
    assert (heat.zmin, heat.zmax, heat.zmid) == (-2.0, 2.0, 0.0)
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.autorange == "reversed"
    assert fig.layout.title.text == "Saliency"


def test_the_embedding_map_has_one_trace_per_class_whose_points_say_which_image_they_are():
    coords = np.arange(20, dtype=float).reshape(10, 2)
    labels = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    fig = plots.embedding_figure(coords, labels, ("cat", "dog", "owl"), title="map", yours=np.array([1.0, 2.0]),
                                 yours_name="You")
    assert [t.name for t in fig.data] == ["cat", "dog", "owl", "You"]
    for k, points in enumerate(fig.data[:3]):
        idx = np.asarray(points.customdata)
        assert (labels[idx] == k).all() and np.array_equal(np.asarray(points.x), coords[idx, 0])
    assert sorted(np.concatenate([np.asarray(t.customdata) for t in fig.data[:3]])) == list(range(10))
    assert list(fig.data[3].x) == [1.0] and fig.data[3].marker.symbol == "star"
    assert len(plots.embedding_figure(coords, labels, ("a", "b", "c"), title="").data) == 3  # no digit: no star


def test_a_histogram_draws_its_fixed_bins_touching():
    hist = histogram(np.array([-1.0, 0.2, 0.3, 5.0]), np.linspace(-1, 1, 5))
    fig = plots.histogram_figure(hist, title="w", x_title="value", y_title="count")
    bars = fig.data[0]
    assert list(bars.x) == [-0.75, -0.25, 0.25, 0.75] and list(bars.y) == [1, 0, 2, 1]
    assert np.allclose(bars.width, 0.5) and fig.layout.bargap == 0


def test_the_eps_sweep_marks_the_chosen_and_the_flipping_strength():
    eps = np.linspace(0, 0.5, 6)
    probs = np.tile([0.9, 0.1], (6, 1))
    fig = plots.eps_figure(eps, probs, ("3", "8"), chosen=0.1, flip=0.3, title="", x_title="ε", y_title="p")
    assert [t.name for t in fig.data] == ["3", "8"]
    assert [s.x0 for s in fig.layout.shapes] == [0.1, 0.3]
    assert len(plots.eps_figure(eps, probs, ("3", "8"), chosen=0.1, flip=None, title="", x_title="",
                                y_title="").layout.shapes) == 1
