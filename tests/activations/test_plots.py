"""explorer.activations.plots: figure builders (AppTest cannot see plotly content)."""

from __future__ import annotations

import numpy as np
import torch

from explorer.activations import plots


def test_probability_bars_highlight_the_best_class():
    probs = np.array([0.1, 0.7, 0.2])
    fig = plots.probability_bars(probs, title="p")
    bar = fig.data[0]
    assert list(bar.x) == ["0", "1", "2"] and np.allclose(bar.y, probs)
    assert bar.marker.color[1] != bar.marker.color[0] == bar.marker.color[2]


def test_mosaic_tiles_maps_with_gaps_and_channel_index():
    maps = np.arange(5 * 2 * 3, dtype=float).reshape(5, 2, 3)
    z, index = plots.mosaic(maps, cols=2)
    assert z.shape == (3 * 2 + 2, 2 * 3 + 1)
    np.testing.assert_array_equal(z[0:2, 0:3], maps[0])
    np.testing.assert_array_equal(z[3:5, 4:7], maps[3])
    assert np.isnan(z[2]).all() and np.isnan(z[:, 3]).all() and index[0, 3] == -1 and index[6, 0] == 4
    assert np.isnan(z[6:8, 4:7]).all()  # the unused sixth tile


def test_mosaic_per_map_scaling_puts_each_map_in_0_1():
    maps = np.stack([np.array([[0.0, 10.0]]), np.array([[-1.0, -0.5]]), np.zeros((1, 2))])
    z, _ = plots.mosaic(maps, cols=3, shared_scale=False)
    np.testing.assert_allclose(z[0, [0, 1, 3, 4, 6, 7]], [0, 1, 0, 1, 0, 0])


def test_feature_grid_shared_range_and_hover():
    a = torch.rand(12, 7, 7, generator=torch.Generator().manual_seed(0))
    fig = plots.feature_grid(a, shared_scale=True, zrange=(-1.0, 2.0), cols=4, hover="map %{customdata}")
    h = fig.data[0]
    assert (h.zmin, h.zmax) == (-1.0, 2.0) and h.showscale
    assert np.asarray(h.z).shape == (3 * 8 - 1, 4 * 8 - 1) and "map" in h.hovertemplate
    own = plots.feature_grid(a, shared_scale=False, zrange=(-1.0, 2.0))
    assert (own.data[0].zmin, own.data[0].zmax) == (0.0, 1.0) and not own.data[0].showscale


def test_filter_grid_averages_input_channels_on_a_symmetric_scale():
    w = torch.zeros(2, 3, 3, 3)
    w[0, :, 1, 1] = torch.tensor([1.0, 2.0, 3.0])
    w[1, 0, 0, 0] = -6.0
    fig = plots.filter_grid(w)
    z = np.asarray(fig.data[0].z, dtype=float)
    assert z[1, 1] == 2.0 and z[0, 4] == -2.0 and fig.data[0].zmid == 0
    assert fig.data[0].zmin == -fig.data[0].zmax == -2.0


def test_gradcam_figure_overlays_the_map_on_the_image():
    img, cam = np.zeros((28, 28)), np.linspace(0, 1, 28 * 28).reshape(28, 28)
    fig = plots.gradcam_figure(img, cam, opacity=0.4)
    assert len(fig.data) == 2 and fig.data[1].opacity == 0.4
    np.testing.assert_array_equal(np.asarray(fig.data[1].z), cam)


def test_rgb_filter_grid_makes_an_rgb_image():
    fig = plots.rgb_filter_grid(torch.randn(10, 3, 11, 11, generator=torch.Generator().manual_seed(0)), cols=5)
    z = np.asarray(fig.data[0].z)
    assert z.shape == (2 * 12 - 1, 5 * 12 - 1, 3) and z.dtype == np.uint8 and z.max() == 255


def test_enlarge_repeats_pixels_without_blur():
    img = np.array([[0.0, 1.0], [0.5, 0.0]])
    big = plots.enlarge(img, side=10)
    assert big.shape == (10, 10) and set(np.unique(big)) == {0, 128, 255}


def test_png_config_names_the_file():
    cfg = plots.png_config("x")
    assert cfg["toImageButtonOptions"] == {"format": "png", "filename": "x", "scale": 2}


def test_step_image_is_square_and_keeps_the_aspect_ratio():
    tall = np.ones((20, 4))
    out = plots.step_image(tall, side=100)
    assert out.shape == (100, 100) and out.dtype == np.uint8
    assert out[50, 50] == 255 and out[50, 5] == 64  # the digit in the middle, gray padding beside it
    big = plots.step_image(np.zeros((280, 200)), side=112)
    assert big.shape == (112, 112)
