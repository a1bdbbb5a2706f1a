"""explorer.kernels.ops against torch.nn.functional as the oracle (micrograd style), plus validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from explorer.core.i18n import catalog
from explorer.kernels import KernelError, apply_kernel, parse_kernel, pool
from explorer.kernels import ops as kernels

MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


def torch_reference(image: np.ndarray, kernel: np.ndarray, *, stride, padding, dilation, mode):
    """Plain NCHW depthwise conv2d in float64 after F.pad: the textbook way."""
    img = image[:, :, None] if image.ndim == 2 else image
    x = torch.from_numpy(img.astype(np.float64)).permute(2, 0, 1)[None]  # (1, C, H, W)
    c = x.shape[1]
    if padding == "same":
        kh, kw = kernel.shape
        th, tw = dilation * (kh - 1), dilation * (kw - 1)
        pads = (tw // 2, tw - tw // 2, th // 2, th - th // 2)
    else:
        pads = (padding,) * 4
    if any(pads):
        x = F.pad(x, pads, mode=MODES[mode])
    w = torch.from_numpy(kernel.astype(np.float64))[None, None].repeat(c, 1, 1, 1)  # (C, 1, kh, kw)
    y = F.conv2d(x, w, stride=stride, dilation=dilation, groups=c)[0].permute(1, 2, 0).numpy()
    return y[:, :, 0] if image.ndim == 2 else y


def _random_case(rng: np.random.Generator):
    kh, kw = rng.integers(1, 6, size=2)
    dilation = int(rng.integers(1, 4))
    reach_h, reach_w = dilation * (kh - 1) + 1, dilation * (kw - 1) + 1
    h, w = int(rng.integers(reach_h, reach_h + 12)), int(rng.integers(reach_w, reach_w + 12))
    channels = [None, 1, 3][int(rng.integers(0, 3))]
    shape = (h, w) if channels is None else (h, w, channels)
    image = rng.uniform(0, 255, size=shape)
    kernel = rng.normal(size=(kh, kw))
    mode = list(MODES)[int(rng.integers(0, 4))]
    padding = "same" if rng.random() < 0.2 else int(rng.integers(0, min(h, w)))
    if padding != "same" and mode == "reflect":
        padding = min(padding, min(h, w) - 1)
    return image, kernel, int(rng.integers(1, 4)), padding, dilation, mode


@pytest.mark.parametrize("seed", range(60))
def test_apply_kernel_matches_torch_on_random_inputs(seed):
    rng = np.random.default_rng(seed)
    image, kernel, stride, padding, dilation, mode = _random_case(rng)
    got = apply_kernel(image, kernel, stride=stride, padding=padding, dilation=dilation, padding_mode=mode)
    want = torch_reference(image, kernel, stride=stride, padding=padding, dilation=dilation, mode=mode)
    assert got.shape == want.shape
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-3)


@pytest.mark.parametrize("seed", range(40))
def test_banded_fast_path_matches_torch(seed, monkeypatch):
    """Row bands folded into channels (normally only for large images), forced onto small random cases."""
    rng = np.random.default_rng(1000 + seed)
    image, kernel, stride, padding, dilation, mode = _random_case(rng)
    bands = int(rng.choice([2, 3, 5, 8, 16]))
    monkeypatch.setattr(kernels, "_band_count", lambda oh, **_: bands)
    got = apply_kernel(image, kernel, stride=stride, padding=padding, dilation=dilation, padding_mode=mode)
    want = torch_reference(image, kernel, stride=stride, padding=padding, dilation=dilation, mode=mode)
    assert got.shape == want.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-3)


@pytest.mark.parametrize("bands", [1, 2, 4, 7])
def test_banded_full_depth_matches_torch(bands, monkeypatch):
    rng = np.random.default_rng(3)
    image = rng.uniform(0, 255, (23, 17, 3))
    kernel = rng.normal(size=(3, 4, 3))
    monkeypatch.setattr(kernels, "_band_count", lambda oh, **_: bands)
    x = torch.from_numpy(image).permute(2, 0, 1)[None]
    w = torch.from_numpy(kernel).permute(2, 0, 1)[None]
    for stride, padding in [(1, 0), (2, 1), (1, "same")]:
        pad = padding if padding != "same" else (1, 2, 1, 1)  # (left, right, top, bottom) for kw=4, kh=3
        xp = F.pad(x, pad if isinstance(pad, tuple) else (pad,) * 4)
        want = F.conv2d(xp, w, stride=stride)[0, 0].numpy()
        got = apply_kernel(image, kernel, stride=stride, padding=padding)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-3)


def test_large_images_take_the_banded_path_and_agree_with_torch():
    assert kernels._band_count(1050, reach=11, stride=1, channels=3, taps=121) == 8
    assert kernels._band_count(1050, reach=11, stride=1, channels=1, taps=121) == 16
    assert kernels._band_count(1050, reach=5, stride=1, channels=3, taps=25) == 1  # 5x5 RGB: not worth it
    assert kernels._band_count(1050, reach=3, stride=1, channels=1, taps=9) == 16
    assert kernels._band_count(40, reach=11, stride=1, channels=3, taps=121) == 1  # too few rows
    rng = np.random.default_rng(4)
    image = rng.integers(0, 256, (301, 37, 3), dtype=np.uint8)
    kernel = rng.normal(size=(7, 6))
    for options in ({}, {"stride": 2, "padding": "same"}, {"dilation": 2, "padding": 3, "padding_mode": "reflect"}):
        got = apply_kernel(image, kernel, **options)
        want = torch_reference(image, kernel, stride=options.get("stride", 1), padding=options.get("padding", 0),
                               dilation=options.get("dilation", 1), mode=options.get("padding_mode", "zeros"))
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-3)
        np.testing.assert_allclose(apply_kernel(image[:, :, 1], kernel, **options), want[:, :, 1], rtol=1e-5, atol=2e-3)


@pytest.mark.parametrize("seed", range(16))
def test_rank1_kernels_take_the_separable_path_and_match_torch(seed, monkeypatch):
    rng = np.random.default_rng(2000 + seed)
    image, _, stride, padding, dilation, mode = _random_case(rng)
    if image.ndim == 2 or image.shape[2] != 3:
        image = rng.uniform(0, 255, (*image.shape[:2], 3))
    kh, kw = (int(v) for v in rng.integers(1, 8, size=2))
    kh, kw = max(kh, 25 // kw + 1, 2), max(kw, 2)  # at least MIN_SEPARABLE_TAPS weights
    kernel = np.outer(rng.normal(size=kh), rng.normal(size=kw))
    h, w = (dilation * (k - 1) + 1 + int(rng.integers(0, 9)) for k in (kh, kw))
    image = image[:1, :1].repeat(h, 0).repeat(w, 1) + rng.uniform(0, 50, (h, w, 3))  # fits the kernel
    padding = padding if padding == "same" else min(padding, min(h, w) - 1)
    calls = []
    real = kernels._separable
    monkeypatch.setattr(kernels, "_separable", lambda *a, **k: calls.append(1) or real(*a, **k))
    got = apply_kernel(image, kernel, stride=stride, padding=padding, dilation=dilation, padding_mode=mode)
    want = torch_reference(image, kernel, stride=stride, padding=padding, dilation=dilation, mode=mode)
    assert calls == [1]
    assert got.shape == want.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-3)


def test_rank1_factors_of_presets():
    for name in ("box5", "gaussian5", "box3", "sobel_x", "prewitt_y", "lecture_vertical_edge"):
        column, row = kernels._rank1_factors(kernels.PRESETS[name])
        np.testing.assert_allclose(np.outer(column, row), kernels.PRESETS[name], rtol=1e-6, atol=1e-9)
    column, row = kernels._rank1_factors(kernels.PRESETS["sobel_x"])
    assert column.tolist() == [-1, -2, -1] and row.tolist() == [1, 0, -1]  # integers stay exact
    for name in ("laplacian8", "sharpen", "identity", "emboss"):
        assert kernels._rank1_factors(kernels.PRESETS[name]) is None or name == "identity"
    assert kernels._rank1_factors(np.random.default_rng(0).normal(size=(5, 5))) is None
    assert kernels._rank1_factors(np.zeros((5, 5))) is None
    assert kernels._rank1_factors(np.ones((1, 30))) is None  # one row: a plain conv already


def test_separable_box_on_uint8_is_exact():
    rng = np.random.default_rng(6)
    image = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    kernel = np.ones((5, 5))
    want = torch_reference(image, kernel, stride=1, padding=0, dilation=1, mode="zeros")
    np.testing.assert_array_equal(apply_kernel(image, kernel), want)  # integer sums are exact in float32


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
@pytest.mark.parametrize("kernel_shape", [(3, 3), (4, 4), (2, 5), (5, 2)])
def test_same_padding_agrees_with_torch_same(kernel_shape):
    rng = np.random.default_rng(1)
    image = rng.uniform(0, 1, (9, 11))
    kernel = rng.normal(size=kernel_shape)
    want = F.conv2d(torch.from_numpy(image)[None, None], torch.from_numpy(kernel)[None, None],
                    padding="same")[0, 0].numpy()
    got = apply_kernel(image, kernel, padding="same")
    assert got.shape == image.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), (3, 2)])
def test_full_depth_filter_sums_over_channels(stride, padding):
    rng = np.random.default_rng(2)
    image = rng.uniform(0, 255, (10, 13, 3))
    kernel = rng.normal(size=(3, 4, 3))  # (kh, kw, C)
    x = torch.from_numpy(image).permute(2, 0, 1)[None]
    w = torch.from_numpy(kernel).permute(2, 0, 1)[None]  # (1, C, kh, kw)
    want = F.conv2d(x, w, stride=stride, padding=padding)[0, 0].numpy()
    got = apply_kernel(image, kernel, stride=stride, padding=padding)
    assert got.ndim == 2
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-3)


def test_uint8_rgb_image_and_lecture_edge_filter():
    step = np.tile(np.array([0, 0, 0, 100, 100, 100], np.uint8), (5, 1))
    rgb = np.repeat(step[:, :, None], 3, axis=2)
    out = apply_kernel(rgb, kernels.PRESETS["lecture_vertical_edge"])
    assert out.shape == (3, 4, 3)
    np.testing.assert_array_equal(out[:, :, 1], np.tile([0, 300, 300, 0], (3, 1)))


@pytest.mark.parametrize(("options", "key"), [
    ({"stride": 0}, "kernels.error.stride"),
    ({"stride": -2}, "kernels.error.stride"),
    ({"padding": -1}, "kernels.error.padding"),
    ({"dilation": 0}, "kernels.error.dilation"),
    ({"padding_mode": "mirror"}, "kernels.error.padding_mode"),
    ({"padding": 5, "padding_mode": "reflect"}, "kernels.error.reflect_too_wide"),
    ({"padding": 7, "padding_mode": "circular"}, "kernels.error.circular_too_wide"),
])
def test_bad_options_raise_kernel_error(options, key):
    with pytest.raises(KernelError) as info:
        apply_kernel(np.zeros((5, 6)), np.ones((3, 3)), **options)
    assert info.value.key == key
    _assert_translatable(info.value)


def test_image_smaller_than_kernel_without_padding():
    with pytest.raises(KernelError) as info:
        apply_kernel(np.zeros((4, 4, 3)), np.ones((5, 5)))
    assert info.value.key == "kernels.error.image_smaller_than_kernel"
    assert info.value.params == {"h": 4, "w": 4, "kh": 5, "kw": 5}
    _assert_translatable(info.value)
    assert apply_kernel(np.zeros((4, 4, 3)), np.ones((5, 5)), padding=1).shape == (2, 2, 3)


def test_output_shape_matches_lecture_formula():
    assert kernels.output_shape((227, 227), (11, 11), stride=4) == (55, 55)  # seed 000 example 1
    assert kernels.output_shape((64, 64), (7, 7), stride=2) == (29, 29)  # example 2 (floor)
    assert kernels.output_shape((32, 32), (5, 5), padding=2) == (32, 32)  # example 3
    assert kernels.output_shape((28, 31), (5, 5), stride=3, padding=2) == (10, 11)  # seed 001


# ---------------------------------------------------------------- pooling

@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_matches_torch(seed, kind):
    rng = np.random.default_rng(100 + seed)
    size = int(rng.integers(1, 5))
    stride = None if rng.random() < 0.3 else int(rng.integers(1, 4))
    padding = int(rng.integers(0, size // 2 + 1))
    h, w = (int(v) for v in rng.integers(size, size + 10, size=2))
    array = rng.normal(size=(h, w, 3)) if rng.random() < 0.5 else rng.normal(size=(h, w))
    x = torch.from_numpy(array if array.ndim == 2 else np.moveaxis(array, 2, 0))
    x = x[None, None] if array.ndim == 2 else x[None]
    fn = F.max_pool2d if kind == "max" else F.avg_pool2d
    want = fn(x, size, stride=stride if stride is not None else size, padding=padding)[0]
    want = want[0].numpy() if array.ndim == 2 else want.permute(1, 2, 0).numpy()
    got = pool(array, kind=kind, size=size, stride=stride, padding=padding)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_pool_of_float32_planes_view_matches_float64():
    rng = np.random.default_rng(5)
    planes = rng.normal(size=(3, 9, 11)).astype(np.float32)
    view = planes.transpose(1, 2, 0)  # the channel-plane layout `apply_kernel` may return
    for kind in ("max", "avg"):
        got = pool(view, kind=kind, size=3, stride=2, padding=1)
        want = pool(view.astype(np.float64), kind=kind, size=3, stride=2, padding=1)
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_pool_lecture_example_seed_004():
    a = np.array([[1, 3, 3, 2], [2, 1, 3, 5], [7, 2, 6, 2], [2, 2, 4, 1]])
    np.testing.assert_array_equal(pool(a, size=2, stride=1), [[3, 3, 5], [7, 6, 6], [7, 6, 6]])
    np.testing.assert_array_equal(pool(a, kind="avg", size=2, stride=1),
                                  [[1.75, 2.5, 3.25], [3, 3, 4], [3.25, 3.5, 3.25]])


@pytest.mark.parametrize(("options", "key"), [
    ({"size": 0}, "kernels.error.pool_size"),
    ({"stride": 0}, "kernels.error.stride"),
    ({"padding": -1}, "kernels.error.padding"),
    ({"size": 2, "padding": 2}, "kernels.error.pool_padding"),
    ({"kind": "median"}, "kernels.error.pool_kind"),
    ({"size": 9}, "kernels.error.image_smaller_than_kernel"),
])
def test_bad_pool_options(options, key):
    with pytest.raises(KernelError) as info:
        pool(np.zeros((6, 6)), **options)
    assert info.value.key == key
    _assert_translatable(info.value)


# ---------------------------------------------------------------- presets and custom kernels

def test_presets_are_many_finite_2d_and_explained_in_both_languages():
    assert len(kernels.PRESETS) >= 14
    required = {"identity", "box3", "box5", "gaussian3", "gaussian5", "low_pass", "high_pass", "sharpen",
                "laplacian4", "laplacian8", "sobel_x", "sobel_y", "prewitt_x", "prewitt_y", "emboss",
                "outline", "lecture_vertical_edge"}
    assert required <= kernels.PRESETS.keys()
    for name, k in kernels.PRESETS.items():
        assert k.ndim == 2 and np.isfinite(k).all() and 1 <= min(k.shape) and max(k.shape) <= 11
        for lang in ("ko", "en"):
            assert catalog(lang).get(kernels.preset_label_key(name)), (lang, name)
            assert catalog(lang).get(kernels.preset_why_key(name)), (lang, name)
    for name in ("identity", "box3", "box5", "gaussian3", "gaussian5", "low_pass", "sharpen"):
        assert math.isclose(kernels.PRESETS[name].sum(), 1.0), name  # keep brightness
    for name in ("high_pass", "laplacian4", "laplacian8", "sobel_x", "sobel_y", "outline"):
        assert math.isclose(kernels.PRESETS[name].sum(), 0.0, abs_tol=1e-12), name  # flat -> 0


def test_identity_preset_returns_the_image():
    img = np.random.default_rng(3).integers(0, 256, (8, 9, 3)).astype(np.uint8)
    np.testing.assert_array_equal(apply_kernel(img, kernels.PRESETS["identity"], padding=1), img)


def test_parse_kernel_accepts_numbers_and_numeric_text():
    k = parse_kernel([[1, "2.5", " -3 "], [0.25, "1,5", 0]])
    np.testing.assert_array_equal(k, [[1, 2.5, -3], [0.25, 1.5, 0]])
    assert parse_kernel([[7]]).shape == (1, 1)
    assert parse_kernel(np.ones((11, 11))).shape == (11, 11)


@pytest.mark.parametrize(("cell", "key"), [
    (None, "kernels.error.cell_blank"),
    ("", "kernels.error.cell_blank"),
    ("   ", "kernels.error.cell_blank"),
    (float("nan"), "kernels.error.cell_blank"),
    ("nan", "kernels.error.cell_nan"),
    ("abc", "kernels.error.cell_not_number"),
    (True, "kernels.error.cell_not_number"),
    (float("inf"), "kernels.error.cell_too_large"),
    ("-inf", "kernels.error.cell_too_large"),
    (1e300, "kernels.error.cell_too_large"),
    ("1e300", "kernels.error.cell_too_large"),
    ("1e999", "kernels.error.cell_too_large"),
    ("1/0", "kernels.error.cell_divide_by_zero"),
    ("1/2/3", "kernels.error.cell_not_number"),
    ("1/x", "kernels.error.cell_not_number"),
    ("inf", "kernels.error.cell_too_large"),
    ("0x10", "kernels.error.cell_not_number"),
])
def test_parse_kernel_names_the_bad_cell(cell, key):
    grid = [[1, 2, 3], [4, 5, 6]]
    grid[1][2] = cell
    with pytest.raises(KernelError) as info:
        parse_kernel(grid)
    assert info.value.key == key
    assert (info.value.params["row"], info.value.params["col"]) == (2, 3)
    text = _assert_translatable(info.value)
    assert "2" in text and "3" in text


@pytest.mark.parametrize(("text", "value"), [
    ("1/9", 1 / 9), ("-1/8", -1 / 8), (".25", 0.25), ("-0.5", -0.5), ("+2", 2.0), ("3/.5", 6.0), ("1e-3", 1e-3),
    ("\u22121/4", -0.25), ("2.", 2.0),
])
def test_fractions_and_decimals_are_read_as_typed(text, value):
    assert parse_kernel([[text]])[0, 0] == pytest.approx(value, rel=1e-15)


def test_a_pasted_box_filter_of_fractions_is_the_box_preset():
    cells = kernels.parse_text_grid("1/9 1/9 1/9\n1/9 1/9 1/9\n1/9 1/9 1/9")
    np.testing.assert_allclose(parse_kernel(cells), kernels.PRESETS["box3"], rtol=1e-15)


def test_check_cells_lists_every_bad_cell():
    bad = kernels.check_cells([["1", "abc", "1/0"], ["", "2", "nan"]])
    assert [(r, c, e.key) for r, c, e in bad] == [
        (0, 1, "kernels.error.cell_not_number"), (0, 2, "kernels.error.cell_divide_by_zero"),
        (1, 0, "kernels.error.cell_blank"), (1, 2, "kernels.error.cell_nan")]
    assert kernels.check_cells([["1/9", ".5"]]) == []


@pytest.mark.parametrize("bias", [0.0, 2.5, -100.0])
@pytest.mark.parametrize("stride", [1, 2])
def test_bias_is_added_like_conv2d(bias, stride):
    rng = np.random.default_rng(11)
    img, k = rng.normal(size=(9, 10)).astype(np.float32), rng.normal(size=(3, 3))
    ours = apply_kernel(img, k, stride=stride, padding=1, bias=bias)
    ref = F.conv2d(torch.from_numpy(img)[None, None], torch.tensor(k, dtype=torch.float32)[None, None],
                   bias=torch.tensor([bias], dtype=torch.float32), stride=stride, padding=1)[0, 0].numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("bias", [float("nan"), float("inf"), 1e7])
def test_absurd_bias_is_refused(bias):
    with pytest.raises(KernelError) as info:
        apply_kernel(np.ones((4, 4)), np.ones((3, 3)), bias=bias)
    assert info.value.key == "kernels.error.bias"
    _assert_translatable(info.value)


@pytest.mark.parametrize("shape", [(0, 3), (12, 3), (3, 12)])
def test_parse_kernel_refuses_bad_sizes(shape):
    with pytest.raises(KernelError, match="kernel_size"):
        parse_kernel(np.ones(shape).tolist())


def test_normalize_and_random_kernel():
    np.testing.assert_allclose(kernels.normalize(np.array([[1.0, 3.0]])), [[0.25, 0.75]])
    with pytest.raises(KernelError, match="sum_zero"):
        kernels.normalize(kernels.PRESETS["sobel_x"])
    a = kernels.random_kernel(3, 4, rng=np.random.default_rng(5))
    b = kernels.random_kernel(3, 4, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (3, 4) and np.abs(a).max() <= 1


def test_to_display_modes():
    raw = np.array([[-100.0, 0.0, 100.0, 300.0]])
    assert kernels.to_display(raw, mode="clip").tolist() == [[0, 0, 100, 255]]
    assert kernels.to_display(raw, mode="abs").tolist() == [[100, 0, 100, 255]]
    assert kernels.to_display(raw, mode="minmax").tolist() == [[0, 64, 128, 255]]
    assert kernels.to_display(np.full((2, 2), 7.0), mode="minmax").tolist() == [[0, 0], [0, 0]]
    with pytest.raises(KernelError):
        kernels.to_display(raw, mode="gamma")


def _assert_translatable(error: KernelError) -> str:
    texts = [catalog(lang)[error.key].format(**error.params) for lang in ("ko", "en")]
    return texts[1]


def test_read_only_inputs_are_fine():
    image = np.zeros((6, 6, 3), np.uint8)
    image.flags.writeable = False
    kernel = np.ones((3, 3))
    kernel.flags.writeable = False
    assert apply_kernel(image, kernel).shape == (4, 4, 3)
    assert kernels.filter_image(image, kernel, colour="depth").shape == (4, 4)
