"""The conv_arithmetic-style grid picture."""

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
