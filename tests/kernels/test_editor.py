"""explorer.kernels.editor: kernels written as the lectures write them, edits, pastes and resizes."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.kernels import PRESETS, editor, parse_kernel


@pytest.mark.parametrize(("value", "text"), [
    (1 / 9, "1/9"), (-1 / 8, "-1/8"), (1 / 16, "1/16"), (1 / 256, "1/256"), (0.5, "0.5"), (0.25, "0.25"),
    (-1.0, "-1"), (0.0, "0"), (12.0, "12"), (0.1234567, "0.123457"), (1 / 3, "1/3"),
])
def test_cell_text_writes_fractions_the_lectures_way(value, text):
    assert editor.cell_text(value) == text


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_survives_being_written_and_read_back(name):
    cells = editor.kernel_cells(PRESETS[name])
    np.testing.assert_allclose(parse_kernel(cells), PRESETS[name], rtol=1e-12, atol=0)


def test_apply_edits_changes_only_the_edited_cells():
    cells = [["1", "2"], ["3", "4"]]
    assert editor.apply_edits(cells, {0: {"2": "1/9"}, "1": {"1": None}}) == [["1", "1/9"], ["", "4"]]
    assert cells == [["1", "2"], ["3", "4"]]  # the input is not modified
    assert editor.apply_edits(cells, {5: {"1": "9"}, 0: {"7": "9"}}) == cells  # outside the grid: ignored


def test_resized_keeps_the_top_left_and_pads_with_zero():
    assert editor.resized([["1", "2"], ["3", "4"]], 3, 1) == [["1"], ["3"], ["0"]]
    assert editor.resized([["1"]], 2, 2) == [["1", "0"], ["0", "0"]]


def test_cells_text_round_trips_through_the_text_box_parser():
    from explorer.kernels import parse_text_grid

    cells = [["1/9", "-0.5"], ["", "2"]]
    assert editor.cells_text(cells) == "1/9 -0.5\n? 2"
    assert parse_text_grid(editor.cells_text([["1/9", "-0.5"], ["3", "2"]])) == [["1/9", "-0.5"], ["3", "2"]]
