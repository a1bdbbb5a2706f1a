"""explorer.kernels.plots: figure builders (AppTest cannot see Plotly content, so they are tested here)."""

from __future__ import annotations

import numpy as np

from explorer.kernels import plots as kp


def test_small_image_hovers_raw_values():
    display = np.array([[0, 255], [128, 3]], np.uint8)
    raw = np.array([[-12.5, 300.0], [128.0, 3.0]])
    fig = kp.image_figure(display, raw=raw, title="t")
    trace = fig.data[0]
    assert trace.type == "image" and np.asarray(trace.z).shape == (2, 2, 3)
    assert np.asarray(trace.text).tolist() == [["-12.5", "300"], ["128", "3"]]
    assert "%{text}" in trace.hovertemplate


def test_rgb_raw_values_are_joined_per_pixel():
    raw = np.zeros((1, 2, 3))
    raw[0, 1] = [1, -2, 3.25]
    assert kp.value_text(raw).tolist() == [["0 / 0 / 0", "1 / -2 / 3.25"]]


def test_hover_text_matches_python_formatting_of_every_value():
    rng = np.random.default_rng(0)
    raw = np.concatenate([rng.normal(0, 300, (20, 30, 3)), rng.integers(-9, 9, (20, 30, 3))]).astype(np.float32)
    raw[0, 0, 0], raw[1, 1, 1], raw[2, 2, 2], raw[3, 3, 0] = np.nan, np.inf, -np.inf, -0.0
    expected = [[" / ".join("%.4g" % (v + 0.0) for v in px) for px in row]  # + 0.0: -0 shows as 0
                for row in raw.astype(np.float64).tolist()]
    assert kp.value_text(raw).tolist() == expected
    assert kp.value_text(raw[:, :, 1]).tolist() == [["%.4g" % v for v in row] for row in raw[:, :, 1].tolist()]


def test_large_image_is_sent_as_one_png():
    display = np.zeros((300, 400, 3), np.uint8)
    fig = kp.image_figure(display, raw=display.astype(float))
    assert fig.data[0].source.startswith("data:image/jpeg;base64,")
    assert kp.image_figure(display, source="data:x").data[0].source == "data:x"
    assert fig.data[0].z is None


def test_histogram_marks_the_display_range():
    fig = kp.histogram_figure(np.array([-50.0, 0, 10, 10, 400]), bins=5)
    assert sum(fig.data[0].y) == 5
    assert sum(kp.histogram_figure(np.arange(1000.0), max_values=100).data[0].y) == 100
    assert [s.x0 for s in fig.layout.shapes] == [0, 255]


def test_matrix_figure_window_padding_and_blank_cells():
    m = np.array([[1.0, np.nan], [2.5, 4.0]])
    fig = kp.matrix_figure(m, window=(0, 1, 1, 1), padding=0)
    assert fig.data[0].text == (("1", ""), ("2.5", "4")) or [list(r) for r in fig.data[0].text] == [["1", ""], ["2.5", "4"]]
    rect = fig.layout.shapes[-1]
    assert (rect.x0, rect.x1, rect.y0, rect.y1) == (0.5, 1.5, -0.5, 0.5)
    padded = kp.matrix_figure(np.zeros((4, 4)), padding=1)
    assert padded.layout.shapes[0].x0 == 0.5 and padded.layout.shapes[0].x1 == 2.5


def test_kernel_figure_is_centred_on_zero():
    fig = kp.kernel_figure(np.array([[-1.0, 0.0, 3.0]]))
    assert fig.data[0].zmid == 0 and fig.data[0].zmin == -3 and fig.data[0].zmax == 3


def test_coded_figure_colours_cells_by_kind_and_writes_values():
    from explorer.core.figures import check

    values = np.array([[1.0, 0.0], [0.0, 4.0]])
    codes = np.array([[0, 1], [2, 0]])
    fig = kp.coded_figure(values, codes, colors=("#111111", "#222222", "#333333"), names=("in", "zero", "pad"),
                          title="t", window=(0, 0, 2, 5))
    check(fig)
    assert np.asarray(fig.data[0].customdata).tolist() == [["in", "zero"], ["pad", "in"]]
    assert [list(r) for r in fig.data[0].text] == [["1", "0"], ["0", "4"]]
    frame = fig.layout.shapes[0]
    assert (frame.x0, frame.x1) == (-0.5, 1.5)  # a window hanging over the edge is clipped to the grid


def test_labelled_figure_names_rows_and_columns():
    from explorer.core.figures import check

    fig = kp.labelled_figure(np.arange(6.0).reshape(2, 3), title="cols", row_labels=["(0, 0)", "(0, 1)"],
                             col_labels=["x[0,0]", "x[0,1]", "x[1,0]"], highlight_row=1)
    check(fig)
    assert list(fig.layout.xaxis.ticktext) == ["x[0,0]", "x[0,1]", "x[1,0]"]
    assert list(fig.layout.yaxis.ticktext) == ["(0, 0)", "(0, 1)"]
    assert (fig.layout.shapes[0].y0, fig.layout.shapes[0].y1) == (0.5, 1.5)
