"""explorer.builder.plots: runs compared, pictures for st.image."""

from __future__ import annotations

import torch

from explorer.builder import plots, view
from explorer.core.figures import check


def _runs():
    return [view.RunRecord("sigmoid", (), 10, 2, (0.3, 0.5), (2.0, 1.5), 3.0, (1e-6, 1e-3, 0.1)),
            view.RunRecord("relu", (), 10, 2, (0.8, 0.9), (0.9, 0.4), 3.0, (0.05, 0.08, 0.1))]


def test_accuracy_and_gradient_figures_have_one_line_per_run():
    acc = plots.accuracy_figure(_runs(), title="a", x_title="epoch", y_title="acc")
    grads = plots.gradient_figure(_runs(), title="g", x_title="layer", y_title="norm")
    for fig in (acc, grads):
        check(fig)
        assert [t.name for t in fig.data] == ["sigmoid", "relu"]
    assert grads.layout.yaxis.type == "log" and list(grads.data[0].y) == [1e-6, 1e-3, 0.1]


def test_pictures_are_height_width_channels():
    assert plots.picture(torch.zeros(3, 4, 5, dtype=torch.uint8)).shape == (4, 5, 3)
    assert plots.picture(torch.zeros(1, 4, 5, dtype=torch.uint8)).shape == (4, 5)
