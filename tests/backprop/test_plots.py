"""Figure builders of the backprop stepper: values written in cells, highlights, the lit diagram."""

from __future__ import annotations

import numpy as np

from explorer.backprop import plots
from explorer.backprop import toy as bp


def test_grid_writes_every_value_and_outlines_the_highlight():
    arr = np.array([[0.24, -0.0], [1e-9, np.inf]])
    mask = np.array([[True, False], [False, True]])
    fig = plots.grid_figure(arr, title="L1", highlight=mask)
    assert [list(r) for r in fig.data[0].text] == [["0.2400", "0"], ["1.00e-09", "inf"]]
    assert np.isfinite(np.array(fig.data[0].z, dtype=float)).all()  # inf is drawn as 0, written as inf
    rects = [(s.x0, s.y0) for s in fig.layout.shapes]
    assert rects == [(-0.5, -0.5), (0.5, 0.5)]
    assert fig.layout.title.text == "L1"


def test_grid_without_highlight_and_for_a_vector():
    fig = plots.grid_figure(np.array([0.0, 0.01, 0.0, 0.01]))
    assert len(fig.layout.shapes) == 0
    assert [list(r) for r in fig.data[0].text] == [["0", "0.0100", "0", "0.0100"]]


def test_every_step_lights_nodes_of_the_diagram():
    wt = bp.walkthrough(**bp.toy_example())
    for step in wt.steps:
        lit = plots.lit_nodes(step.id)
        assert lit and set(lit) <= set(plots.NODES), step.id
        fig = plots.network_figure(step.id, step.phase)
        colors = fig.data[0].marker.color
        lit_colors = {c for n, c in zip(plots.NODES, colors) if n in lit}
        assert lit_colors == {plots.PHASE_COLOR[step.phase]}
        assert colors.count(plots.IDLE) == len(plots.NODES) - len(lit)


def test_loss_curve_plots_the_history():
    hist = bp.train_steps(**{k: v for k, v in bp.toy_example().items()}, k=3)
    fig = plots.loss_figure(hist.losses, x_title="step", y_title="E")
    assert list(fig.data[0].x) == [0, 1, 2, 3]
    assert fig.data[0].y[0] == hist.losses[0]
    assert fig.layout.xaxis.title.text == "step"


def test_symbol_grid_writes_symbols_and_outlines_the_highlight():
    from explorer.core.figures import check

    fig = plots.symbol_figure([["x11", "x12"], ["x21", "x22"]], title="x", highlight=np.array([[1, 0], [0, 1]]))
    check(fig)
    assert [list(r) for r in fig.data[0].text] == [["x11", "x12"], ["x21", "x22"]]
    assert [(s.x0, s.y0) for s in fig.layout.shapes] == [(-0.5, -0.5), (0.5, 0.5)]
