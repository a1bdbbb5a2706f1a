"""The conv_arithmetic-style grid picture."""

import numpy as np
import pytest

from explorer.shapes import plots as sp
from explorer.shapes.sizes import ShapeError


def _count(codes, *values):
    return sum(v in values for line in codes for v in line)


def test_window_padding_and_ignored_cells():
    codes = sp.input_codes(7, 7, (3, 3), stride=(3, 3))  # the lecture's "cannot": last column unused
    assert _count(codes, sp.WINDOW_INPUT) == 9
    assert _count(codes, sp.IGNORED) == 7 + 7 - 1  # last row and last column
    codes = sp.input_codes(4, 4, (3, 3), padding=(1, 1))
    assert len(codes) == 6 and _count(codes, sp.PADDING, sp.WINDOW_PADDING) == 36 - 16
    assert _count(codes, sp.WINDOW_PADDING) == 5  # window at (0, 0) covers the padded corner


def test_window_moves_with_stride_and_dilation():
    codes = sp.input_codes(9, 9, (3, 3), stride=(2, 2), dilation=(2, 2), position=(1, 1))
    cells = [(r, c) for r, line in enumerate(codes) for c, v in enumerate(line) if v == sp.WINDOW_INPUT]
    assert cells[0] == (2, 2) and cells[-1] == (6, 6) and len(cells) == 9


def test_figure_has_the_input_and_output_grids():
    fig = sp.grid_figure(5, 5, (3, 3), stride=(2, 2), padding=(1, 1), position=(2, 1),
                         labels={"input_title": "입력"})
    inp, out = fig.data
    assert len(inp.z) == 7 and len(out.z) == 3 and len(out.z[0]) == 3
    assert out.z[2][1] == sp.CURRENT and sum(v == sp.CURRENT for line in out.z for v in line) == 1
    assert fig.layout.annotations[0].text == "입력"


def test_too_large_or_impossible_grids_raise():
    with pytest.raises(ShapeError) as info:
        sp.grid_figure(40, 40, (3, 3))
    assert info.value.key == "shapes.err.grid_too_large"
    with pytest.raises(ShapeError):
        sp.grid_figure(3, 3, (5, 5))


def test_blocks_and_network_diagrams_are_valid_figures():
    from explorer.core.figures import check
    from explorer.shapes import network

    rows = network.summarize("seed_mnist_cnn")
    blocks = sp.network_blocks(rows, input_shape=(1, 28, 28), kind_name=str)
    assert [b.label.split("<br>")[1] for b in blocks] == ["1×28×28", "32×28×28", "32×14×14", "64×14×14", "64×7×7",
                                                          "3136", "10"]
    assert blocks[1].height == 2 * blocks[2].height  # height to scale: 28 vs 14
    assert blocks[3].width > blocks[2].width  # more channels: thicker (log scale)
    fig = sp.row_figure(blocks, stagger=True, between=("→",))
    check(fig)
    assert fig.layout.yaxis.scaleanchor == "x" and len(fig.layout.shapes) == 3 * len(blocks)
    assert sp.png_config("net")["toImageButtonOptions"] == {"format": "png", "scale": 2, "filename": "net"}


def test_edges_groups_units_and_receptive_figures():
    from explorer.core.figures import check

    edges = [(1, 1, 1), (2, 1, 2), (2, 2, 1)]
    fig = sp.edges_figure(edges, inputs=2, outputs=2, selected=1, title="c", weight_names=True)
    check(fig)
    assert {t.name for t in fig.data if t.showlegend} == {"W1", "W2"}  # legend from the selected output's edges
    check(sp.edges_figure(edges, inputs=2, outputs=2, selected=2, title="f", weight_names=False))
    check(sp.groups_figure([[1, 0], [0, 1]], title="g", x_title="in", y_title="out"))
    units = sp.units_figure(3, 4, (1, 2), title="u")
    check(units)
    assert units.data[0].marker.color[1 * 4 + 2] == "#d62728" and units.layout.clickmode == "event+select"
    rf = sp.receptive_figure(8, 8, (-1, 2, 4, 7), (0, 2, 4, 7), title="r", background=np.zeros((8, 8)))
    check(rf)
    assert rf.layout.yaxis.range[1] == -2.5  # room for the part of the box in the padding
    check(sp.number_grid(np.eye(2), title="n", window=(0, 0, 1, 1)))
