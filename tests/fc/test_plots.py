"""Figure builders of the fully connected lesson: what each draws, and that plotly's validation would leave
every one unchanged (the app builds them unvalidated)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.core import figures
from explorer.fc import functions, losses, matrix, nonlinear, plots, vanishing
from explorer.fc.shift import shift_right


def _checked(fig):
    figures.check(fig)
    return fig


def test_grid_writes_every_value_sized_for_its_text_and_outlines_the_highlight():
    arr = np.array([[0.24, -0.0], [-1e-5, -0.987]])
    mask = np.array([[True, False], [False, True]])
    fig = _checked(plots.grid_figure(arr, title="a1  (2×2)", highlight=mask))
    assert [list(r) for r in fig.data[0].text] == [["0.240", "0"], ["0.000", "-0.987"]]  # no "-0.000"
    assert fig.data[0].texttemplate == "%{text}"
    assert [(s.x0, s.y0) for s in fig.layout.shapes] == [(-0.5, -0.5), (0.5, 0.5)]
    grid = fig.layout.meta["grid"]
    assert (grid["rows"], grid["cols"], grid["chars"]) == (2, 2, 6)
    assert fig.layout.width == 40 + 2 * figures.grid_cell_px(6)
    assert fig.data[0].zmid == 0 and fig.data[0].zmax == 0.987  # the signed scale, 0 at white


@pytest.mark.parametrize(("arr", "decimals", "texts"), [
    ([0.54, 0.01, 0.98], 2, ["0.54", "0.01", "0.98"]),  # X as typed: 2 decimals, not "0.540"
    ([0.5, 0.0123], 3, ["0.500", "0.012"]),
    ([0.0215, -0.0004], 4, ["0.0215", "-0.0004"]),
    ([1.0, 0.0, 1.0], 0, ["1", "0", "1"]),  # one-hot t
    ([12345.0, 0.5], None, ["1.23e+04", "5.00e-01"]),
    ([3e-6, -1e-5], None, ["3.00e-06", "-1.00e-05"]),
    ([123.4, np.nan], 0, ["123", "nan"]),
])
def test_every_cell_of_a_matrix_gets_the_same_decimals(arr, decimals, texts):
    assert plots.grid_decimals(np.array(arr)) == decimals
    assert [plots.cell_text(v, decimals) for v in arr] == texts


def test_a_vector_is_one_row_and_a_huge_matrix_has_no_numbers():
    row = _checked(plots.grid_figure(np.zeros(4)))
    assert [list(r) for r in row.data[0].text] == [["0"] * 4] and len(row.layout.shapes) == 0
    big = _checked(plots.grid_figure(np.ones((16, 49))))
    assert big.data[0].texttemplate is None and big.layout.meta is None
    assert big.layout.width == 40 + 49 * plots.SMALL_CELL


@pytest.mark.parametrize("layers", [2, 3])
def test_every_step_lights_its_nodes_of_the_chain(layers):
    ex = matrix.default_batch(layers=layers)
    result = matrix.mlp_step(ex.X, ex.t, ex.params, activations=ex.activations)
    nodes = plots.chain_nodes(layers)
    assert [n for n, (_, y) in nodes.items() if y == 0][-2:] == ["y", "L"]
    for step in result.steps:
        lit = plots.lit_nodes(list(step.arrays), layers)
        assert lit and set(lit) <= set(nodes), step.id
        fig = _checked(plots.chain_figure(layers, lit, step.phase))
        colors = fig.data[0].marker.color
        assert {c for n, c in zip(nodes, colors) if n in lit} == {plots.PHASE_COLOR[step.phase]}
    assert plots.lit_nodes(["dy", "dW2", "db2"], 2) == ("a2", "W2")
    assert plots.lit_nodes(["y", "t", "loss"], 2) == ("y", "L")


def test_digits_figure_shows_each_digit_above_its_thumbnail():
    ex = matrix.default_batch(n=3, size=7)
    fig = _checked(plots.digits_figure(ex.images, ex.thumbnails, ex.labels, caption="digit {label}"))
    z = np.array(fig.data[0].z, dtype=float)
    assert z.shape == (10 + 28 + 4 + 28, 3 * 32 - 4)
    np.testing.assert_array_equal(z[10:38, :28], ex.images[0])
    np.testing.assert_array_equal(z[42:, :4], np.full((28, 4), ex.thumbnails[0, 0, 0]))  # 4× repeated pixels
    assert [a.text for a in fig.layout.annotations] == [f"digit {d}" for d in ex.labels]


def test_activation_and_gradient_figures():
    names = {n: n.upper() for n in functions.FUNCTIONS}
    fig = _checked(plots.activation_figure(functions.curves(points=11), names=names, f_title="f", df_title="f'",
                                           z_title="z"))
    assert len(fig.data) == 8 and [t.yaxis for t in fig.data] == [None, "y2"] * 4
    assert [t.name for t in fig.data if t.showlegend] == ["SIGMOID", "TANH", "RELU", "LEAKY_RELU"]
    profiles = vanishing.compare_profiles(2, steps=1)
    fig = _checked(plots.gradient_figure(profiles, names=names, step=1, layer_title="layer", norm_title="norm",
                                         at_init="init", after="after {steps}"))
    assert [t.name for t in fig.data] == ["SIGMOID · init", "SIGMOID · after 1", "RELU · init", "RELU · after 1"]
    assert fig.layout.yaxis.type == "log" and list(fig.data[0].x) == [1, 2, 3]
    np.testing.assert_allclose(fig.data[1].y, profiles[0].norms[1])
    assert len(plots.gradient_figure(profiles, names=names, step=0, layer_title="", norm_title="", at_init="i",
                                     after="a").data) == 2


def test_toy_figure_draws_both_networks_regions_and_points():
    cmp = nonlinear.compare_toy("circles", n=40, steps=20, grid=12)
    fig = _checked(plots.toy_figure(cmp, titles=["lin", "relu"], class_names=["a", "b"]))
    kinds = [t.type for t in fig.data]
    assert kinds == ["heatmap", "contour", "scatter", "scatter"] * 2
    assert [t.name for t in fig.data if t.showlegend] == ["a", "b"]
    assert sum(len(t.x) for t in fig.data if t.type == "scatter") == 2 * 40
    assert [a.text for a in fig.layout.annotations] == ["lin", "relu"]


def test_loss_figures():
    names = {"cross_entropy": "CE", "squared_error": "SE"}
    cmp = losses.compare_losses([3.2, 5.1, -1.7], 0)
    fig = _checked(plots.scores_figure(cmp, class_title="k", p_title="p", grad_title="g", names=names))
    np.testing.assert_allclose(fig.data[0].y, cmp.p)
    np.testing.assert_allclose(fig.data[1].y, cmp.p - cmp.t)  # cross-entropy's gradient: y − t
    assert fig.data[0].marker.color[0] == plots.COLORS["cross_entropy"]  # the true class
    sat = losses.saturation(points=21)
    fig = _checked(plots.saturation_figure(sat, names=names, loss_title="L", grad_title="dL/dz", z_title="z"))
    assert [t.name for t in fig.data] == ["SE", "SE", "CE", "CE"]
    curves = losses.learning_curves(steps=5)
    fig = _checked(plots.learning_figure(curves, names=names, step_title="step", output_title="a"))
    np.testing.assert_allclose(fig.data[1].y, curves.a_cross_entropy)
    _checked(plots.digit_figure(np.zeros((28, 28)), title="7"))
    _checked(plots.loss_figure([2.3, 2.0, 1.5], x_title="step", y_title="L"))


def test_shift_figures():
    digit = torch.zeros(1, 1, 28, 28)
    digit[..., 10:20, 5:8] = 1.0
    moved = [shift_right(digit, s)[0, 0].numpy() for s in (0, 2)]
    fig = _checked(plots.shifted_digits_figure(moved, (0, 2), caption="{shift} px"))
    z = np.array(fig.data[0].z, dtype=float)
    np.testing.assert_array_equal(z[10:, 32:60], moved[1])
    assert [a.text for a in fig.layout.annotations] == ["0 px", "2 px"] and len(fig.layout.shapes) == 1
    fig = _checked(plots.shift_figure((0, 1, 2), {"mlp": [0.9, 0.8, 0.69], "cnn": [0.97, 0.96, 0.88]},
                                      names={"mlp": "MLP", "cnn": "CNN"}, shift_title="px", accuracy_title="acc",
                                      expected={"mlp": (2, 0.69), "cnn": (2, 0.88)}))
    assert list(fig.data[0].y) == pytest.approx([90, 80, 69]) and fig.data[2].marker.symbol == "diamond-open"
    assert [t.showlegend for t in fig.data] == [None, None, False, False]
