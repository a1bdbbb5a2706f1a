"""explorer.shapes against torch.nn as the oracle, and the lectures' worked examples."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from explorer import shapes
from explorer.shapes import Layer, ShapeError, conv_output_exact, conv_output_size, pool_output_size


def torch_conv_size(n, k, s, p, d):
    """Output height of nn.Conv2d on a zero (1, 1, n, 1) input, or None if PyTorch refuses."""
    conv = nn.Conv2d(1, 1, (k, 1), stride=(s, 1), padding=(p, 0), dilation=(d, 1), bias=False)
    try:
        with torch.no_grad():
            return conv(torch.zeros(1, 1, n, 1)).shape[2]
    except RuntimeError:
        return None


def torch_pool_size(kind, n, k, s, p, d, ceil):
    layer = (nn.MaxPool2d((k, 1), stride=(s, 1), padding=(p, 0), dilation=(d, 1), ceil_mode=ceil) if kind == "max"
             else nn.AvgPool2d((k, 1), stride=(s, 1), padding=(p, 0), ceil_mode=ceil))
    try:
        return layer(torch.zeros(1, 1, n, 1)).shape[2]
    except RuntimeError:
        return None


def ours_or_none(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ShapeError:
        return None


@pytest.mark.parametrize("seed", range(4))
def test_conv_output_size_matches_torch_on_random_configurations(seed):
    rng = random.Random(seed)
    for _ in range(150):
        n, k, s = rng.randint(1, 40), rng.randint(1, 9), rng.randint(1, 5)
        p, d = rng.randint(0, 4), rng.randint(1, 3)
        expected = torch_conv_size(n, k, s, p, d)
        assert ours_or_none(conv_output_size, n, k, stride=s, padding=p, dilation=d) == expected, (n, k, s, p, d)
        if expected is not None:
            exact = conv_output_exact(n, k, stride=s, padding=p, dilation=d)
            assert math.floor(exact) == expected
            assert exact == Fraction(n + 2 * p - d * (k - 1) - 1, s) + 1


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("seed", range(3))
def test_pool_output_size_matches_torch_including_ceil_mode_and_dilation(kind, seed):
    rng = random.Random(100 + seed)
    checked_ceil_difference = False
    for _ in range(150):
        n, k, s = rng.randint(1, 30), rng.randint(1, 6), rng.randint(1, 4)
        p, d, ceil = rng.randint(0, 3), (rng.randint(1, 3) if kind == "max" else 1), rng.random() < 0.6
        expected = torch_pool_size(kind, n, k, s, p, d, ceil)
        ours = ours_or_none(pool_output_size, n, k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
        assert ours == expected, (kind, n, k, s, p, d, ceil)
        if ceil and expected is not None:
            floor = ours_or_none(pool_output_size, n, k, stride=s, padding=p, dilation=d)
            checked_ceil_difference |= floor is not None and floor != expected
    assert checked_ceil_difference  # ceil mode really differed somewhere


def test_ceil_mode_drops_a_window_that_would_start_in_the_padding():
    # 5 + 2 - 2 = 5 → ceil(5/2) + 1 = 4, but window 4 would start at 6 ≥ 5 + 1: PyTorch gives 3
    assert pool_output_size(5, 2, stride=2, padding=1, ceil_mode=True) == 3
    assert nn.MaxPool2d(2, 2, padding=1, ceil_mode=True)(torch.zeros(1, 1, 5, 5)).shape[-1] == 3


@pytest.mark.parametrize(("args", "expected"), [
    ((227, 11, 4, 0), 55),   # 예제 1
    ((64, 7, 2, 0), 29),     # 예제 2 (29.5)
    ((32, 5, 1, 2), 32),     # 예제 3
    ((32, 5, 1, 0), 28), ((64, 5, 1, 0), 60),   # 예제 4: 32x64, 5x5 → 28x60
    ((64, 3, 1, 1), 64), ((32, 3, 1, 1), 32),   # 예제 5: 64x32, pad 1 → 64x32
    ((7, 3, 1, 0), 5), ((7, 3, 2, 0), 3),
    ((28, 5, 3, 2), 10), ((31, 5, 3, 2), 11),   # (28, 31), P=2, S=3, F=5 → (10, 11)
    ((4, 3, 1, 1), 4),                           # 4x4, P=1, S=1, 3x3 → 4x4
    ((7, 3, 1, 1), 7),                           # 7x7 with 1-pixel border → 7x7
])
def test_lecture_worked_examples(args, expected):
    n, k, s, p = args
    assert conv_output_size(n, k, stride=s, padding=p) == expected
    assert torch_conv_size(n, k, s, p, 1) == expected


def test_non_integer_cases_are_explained():
    assert conv_output_exact(64, 7, stride=2) == Fraction(59, 2)  # 29.5
    fit = shapes.explain_fit(7, 3, stride=3)  # the lecture's "cannot"
    assert (fit.fits, fit.exact, fit.output, fit.remainder, fit.ignored_input) == (False, Fraction(7, 3), 2, 1, 1)
    assert fit.paddings[0] == (1, 3) and (2, 3) in fit.strides and (4, 2) in fit.strides
    fit = shapes.explain_fit(64, 7, stride=2)
    assert fit.paddings == ()  # 57 + 2P is always odd: no padding fits stride 2
    assert fit.ignored_input == 1 and (6, 30) in fit.kernels and (63, 29) in fit.sizes
    assert shapes.explain_fit(227, 11, stride=4).fits
    # padding absorbs the remainder first: nothing real is dropped
    fit = shapes.explain_fit(8, 3, stride=2, padding=1)
    assert fit.remainder == 1 and fit.ignored_input == 0


@pytest.mark.parametrize("seed", range(3))
def test_suggestions_really_fit_in_torch(seed):
    rng = random.Random(seed)
    for _ in range(40):
        n, k, s, p = rng.randint(3, 30), rng.randint(1, 5), rng.randint(2, 4), rng.randint(0, 2)
        try:
            fit = shapes.explain_fit(n, k, stride=s, padding=p)
        except ShapeError:
            continue
        for pad, out in fit.paddings:
            assert torch_conv_size(n, k, s, pad, 1) == out and shapes.explain_fit(n, k, stride=s, padding=pad).fits
        for stride, out in fit.strides:
            assert torch_conv_size(n, k, stride, p, 1) == out
        for kernel, out in fit.kernels:
            assert torch_conv_size(n, kernel, s, p, 1) == out
        for size, out in fit.sizes:
            assert torch_conv_size(size, k, s, p, 1) == out


@pytest.mark.parametrize(("call", "key"), [
    (lambda: conv_output_size(0, 3), "shapes.err.size"),
    (lambda: conv_output_size(-5, 3), "shapes.err.size"),
    (lambda: conv_output_size(7, 3, stride=0), "shapes.err.stride"),
    (lambda: conv_output_size(7, 0), "shapes.err.kernel"),
    (lambda: conv_output_size(7, 3, padding=-1), "shapes.err.padding"),
    (lambda: conv_output_size(7, 3, dilation=0), "shapes.err.dilation"),
    (lambda: conv_output_size(3, 5), "shapes.err.window"),
    (lambda: conv_output_size(3, 3, dilation=2), "shapes.err.window"),
    (lambda: conv_output_size("7", 3), "shapes.err.not_integer"),
    (lambda: conv_output_size(7.5, 3), "shapes.err.not_integer"),
    (lambda: conv_output_size(7, 3, stride=2, padding="same"), "shapes.err.same_stride"),
    (lambda: conv_output_size(7, 3, padding="half"), "shapes.err.not_integer"),
    (lambda: conv_output_size(10**7, 3), "shapes.err.size_too_large"),
    (lambda: pool_output_size(7, 2, padding=2), "shapes.err.pool_padding"),
    (lambda: pool_output_size(7, 3, padding="same"), "shapes.err.pool_same"),
])
def test_impossible_configurations_raise_a_translatable_value_error(call, key):
    with pytest.raises(ValueError) as info:
        call()
    assert isinstance(info.value, ShapeError) and info.value.key == key
    assert "shapes.err" not in str(info.value)  # the message is a sentence, not a key


def test_same_padding_keeps_the_size_like_torch():
    for k, d in [(3, 1), (5, 1), (3, 2), (1, 1)]:
        assert conv_output_size(9, k, padding="same", dilation=d) == 9
        assert nn.Conv2d(1, 1, k, padding="same", dilation=d)(torch.zeros(1, 1, 9, 9)).shape[-1] == 9


def test_formula_latex_fills_in_the_numbers():
    text = shapes.formula_latex(64, 7, stride=2)
    assert "64 + 2\\cdot0 - 1\\cdot(7-1) - 1" in text and "28.5" in text and text.endswith("= 29")
    assert shapes.formula_latex(7, 2, stride=2, ceil_mode=True).endswith("= 4")
    assert "\\lceil" in shapes.formula_latex(7, 2, stride=2, ceil_mode=True)


# --- networks --------------------------------------------------------------------------------

LECTURE_SHAPES = {
    "seed_mnist_cnn": {"pool1": (32, 14, 14), "pool2": (64, 7, 7), "flatten1": (3136,), "fc": (10,)},
    "seed_deep_cnn": {"pool2": (64, 7, 7), "pool3": (128, 4, 4), "flatten1": (2048,), "fc1": (625,), "fc2": (10,)},
    "lenet5": {"C1": (6, 28, 28), "S2": (6, 14, 14), "C3": (16, 10, 10), "S4": (16, 5, 5), "C5": (120, 1, 1),
               "F6": (84,), "OUTPUT": (10,)},
    "alexnet": {"conv1": (96, 55, 55), "pool1": (96, 27, 27), "conv2": (256, 27, 27), "pool2": (256, 13, 13),
                "conv5": (256, 13, 13), "pool5": (256, 6, 6), "fc6": (4096,), "fc8": (1000,)},
    "vgg16": {"conv1_1": (64, 224, 224), "pool5": (512, 7, 7), "flatten1": (25088,), "fc8": (1000,)},
}
LECTURE_TOTALS = {"seed_mnist_cnn": 50_186, "seed_deep_cnn": 1_379_557, "lenet5": 61_706,
                  "alexnet": 60_965_224, "vgg16": 138_357_544}


@pytest.mark.parametrize("name", list(shapes.PRESETS))
def test_presets_reproduce_the_lecture_shapes(name):
    rows = {r.name: r for r in shapes.summarize(name)}
    for layer, shape in LECTURE_SHAPES[name].items():
        assert rows[layer].output_shape == shape, layer
    assert shapes.totals(list(rows.values()))["params"] == LECTURE_TOTALS[name]


def test_where_the_4_of_the_deep_cnn_comes_from():
    pool3 = {r.name: r for r in shapes.summarize("seed_deep_cnn")}["pool3"]
    assert pool3.exact == (Fraction(9, 2), Fraction(9, 2))  # (7 + 2·1 - 2)/2 + 1 = 4.5 → 4
    assert pool3.output_shape == (128, 4, 4)
    fc1 = {r.name: r for r in shapes.summarize("seed_deep_cnn")}["fc1"]
    assert fc1.kernel_shape == (625, 4 * 4 * 128)


def test_alexnet_kernels_are_the_lectures_two_gpu_halves():
    rows = {r.name: r for r in shapes.summarize("alexnet")}
    assert rows["conv1"].kernel_shape == (96, 3, 11, 11) and rows["conv1"].params == 34_944
    assert rows["conv2"].kernel_shape == (256, 48, 5, 5)   # "256 kernels of size 5 x 5 x 48"
    assert rows["conv3"].kernel_shape == (384, 256, 3, 3)  # "384 kernels of size 3 x 3 x 256"
    assert rows["conv4"].kernel_shape == (384, 192, 3, 3)  # "384 kernels of size 3 x 3 x 192"
    assert rows["conv5"].kernel_shape == (256, 192, 3, 3)


@pytest.mark.parametrize("name", list(shapes.PRESETS))
def test_each_preset_matches_its_built_module(name):
    rows = shapes.summarize(name)
    check = shapes.verify(name)
    assert check.matches and check.device in ("cpu", "meta")
    assert check.output_shapes == tuple(r.output_shape for r in rows)
    model = shapes.build_module(name, device="meta")
    assert sum(p.numel() for p in model.parameters()) == shapes.totals(rows)["params"]
    x = torch.zeros(1, *shapes.PRESETS[name].input_shape, device="meta")
    with FlopCounterMode(display=False) as counter:
        assert tuple(model(x).shape[1:]) == rows[-1].output_shape
    assert counter.get_total_flops() == 2 * shapes.totals(rows)["macs"]  # 1 MAC = 2 FLOPs


def test_small_presets_run_a_real_zero_tensor_on_the_cpu():
    check = shapes.verify("seed_mnist_cnn")
    assert check.device == "cpu" and check.total_params == 50_186
    model = shapes.build_module("lenet5")
    assert all(p.device.type == "cpu" and not p.any() for p in model.parameters())  # zeros, no RNG used
    assert model(torch.zeros(2, 1, 32, 32)).shape == (2, 10)


def _random_network(rng: random.Random) -> tuple[list[Layer], tuple[int, int, int]]:
    layers: list[Layer] = []
    for _ in range(rng.randint(1, 5)):
        choice = rng.random()
        if choice < 0.5:
            layers.append(shapes.conv(rng.randint(1, 6), (rng.randint(1, 4), rng.randint(1, 4)),
                                      stride=rng.randint(1, 3), padding=rng.randint(0, 2),
                                      dilation=rng.randint(1, 2)))
        elif choice < 0.8:
            k = rng.randint(1, 3)
            layers.append(shapes.pool(k, kind=rng.choice(["maxpool", "avgpool"]), stride=rng.randint(1, 3),
                                      padding=rng.randint(0, k // 2), ceil_mode=rng.random() < 0.5))
        else:
            layers.append(Layer(rng.choice(["relu", "sigmoid", "tanh", "batchnorm", "dropout"])))
    layers += [Layer("flatten"), shapes.linear(rng.randint(1, 7))]
    return layers, (rng.randint(1, 3), rng.randint(8, 30), rng.randint(8, 30))


def test_summarize_matches_torch_on_random_networks():
    rng = random.Random(7)
    checked = 0
    for _ in range(60):
        layers, shape = _random_network(rng)
        try:
            rows = shapes.summarize(layers, shape)
        except shapes.LayerError:
            continue
        model = shapes.build_module(layers, shape)
        outs = []
        for m in model:
            m.register_forward_hook(lambda _m, _i, o: outs.append(tuple(o.shape[1:])))
        model(torch.zeros(1, *shape))
        assert outs == [r.output_shape for r in rows]
        assert [sum(p.numel() for p in m.parameters()) for m in model] == [r.params for r in rows]
        checked += 1
    assert checked > 30


def _torch_receptive_field(layers, shape) -> int:
    """Width of the input region that reaches the centre output cell (all-ones weights, max → avg pool)."""
    model = nn.Sequential(*[
        nn.AvgPool2d(m.kernel_size, m.stride, m.padding, m.ceil_mode) if isinstance(m, nn.MaxPool2d) else m
        for m in shapes.build_module(layers, shape)])
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(1.0)
    x = torch.ones(1, *shape, requires_grad=True)
    y = model(x)
    y[0, 0, y.shape[2] // 2, y.shape[3] // 2].backward()
    cols = (x.grad[0].abs().sum(0) != 0).nonzero()[:, 1]
    return int(cols.max() - cols.min() + 1)


@pytest.mark.parametrize("layers", [
    [shapes.conv(1, 3), shapes.conv(1, 3)],                                       # 5: two 3x3 = one 5x5
    [shapes.conv(1, 3), shapes.conv(1, 3), shapes.conv(1, 3)],                    # 7
    [shapes.conv(1, 3), shapes.pool(2, kind="avgpool"), shapes.conv(1, 3)],       # 3 + 1 + 2·2 = 8
    [shapes.conv(1, 3, dilation=2), shapes.conv(1, 3, stride=2), shapes.conv(1, 5)],
    [shapes.conv(1, 11, stride=4), shapes.pool(3, stride=2), shapes.conv(1, 5, padding=2)],
])
def test_receptive_field_matches_the_input_pixels_torch_backpropagates_to(layers):
    shape = (1, 81, 81)
    rows = shapes.summarize(layers, shape)
    assert rows[-1].receptive_field == _torch_receptive_field(layers, shape)


def test_a_network_that_breaks_midway_is_flagged_at_that_layer():
    layers = [shapes.conv(8, 5), shapes.pool(2), shapes.conv(8, 5), shapes.conv(8, 5), Layer("flatten")]
    with pytest.raises(shapes.LayerError) as info:
        shapes.summarize(layers, (1, 16, 16))
    assert (info.value.index, info.value.name, info.value.key) == (3, "conv3", "shapes.err.window")
    rows = shapes.summarize(layers, (1, 16, 16), strict=False)
    assert [r.output_shape for r in rows[:3]] == [(8, 12, 12), (8, 6, 6), (8, 2, 2)]
    assert rows[-1].error_key == "shapes.err.window" and rows[-1].output_shape is None and len(rows) == 4


@pytest.mark.parametrize(("layers", "shape", "key"), [
    ([Layer("linear", out=10)], (1, 28, 28), "shapes.err.linear_needs_flatten"),
    ([Layer("flatten"), shapes.conv(4, 3)], (1, 8, 8), "shapes.err.needs_feature_map"),
    ([shapes.conv(0, 3)], (1, 8, 8), "shapes.err.positive"),
    ([shapes.conv(4, 3, groups=3)], (4, 8, 8), "shapes.err.groups"),
    ([Layer("softmax")], (1, 8, 8), "shapes.err.unknown_kind"),
    ([Layer("dropout", p=1.5)], (1, 8, 8), "shapes.err.dropout"),
    ([shapes.pool(3, kind="avgpool", dilation=2)], (1, 8, 8), "shapes.err.avgpool_dilation"),
])
def test_bad_layers_raise_layer_errors(layers, shape, key):
    with pytest.raises(shapes.LayerError) as info:
        shapes.summarize(layers, shape)
    assert info.value.key == key and info.value.index == len(layers) - 1


@pytest.mark.parametrize(("args", "key"), [
    (("no_such_net",), "shapes.err.unknown_preset"),
    (([shapes.conv(1, 3)],), "shapes.err.no_input"),
    (([shapes.conv(1, 3)], (1, 0, 8)), "shapes.err.input_shape"),
    (([shapes.conv(1, 3)], (1, 8)), "shapes.err.input_shape"),
    (([], (1, 8, 8)), "shapes.err.empty"),
    (([Layer("relu")] * (shapes.MAX_LAYERS + 1), (1, 8, 8)), "shapes.err.too_many_layers"),
])
def test_bad_networks_raise_shape_errors(args, key):
    with pytest.raises(ShapeError) as info:
        shapes.summarize(*args)
    assert info.value.key == key


def test_absurdly_large_networks_are_not_built():
    huge = [Layer("flatten"), shapes.linear(1_000_000), shapes.linear(1_000_000)]
    rows = shapes.summarize(huge, (1, 1000, 1000))
    assert shapes.totals(rows)["params"] > shapes.MAX_META_PARAMS
    check = shapes.verify(huge, (1, 1000, 1000))
    assert check.device is None and check.skipped_key == "shapes.err.too_large" and not check.matches
    with pytest.raises(ShapeError, match="parameters"):
        shapes.build_module("vgg16")  # 138M parameters: too many for a real CPU build
    # huge activations but few parameters: verified on the meta device, no memory used
    check = shapes.verify([shapes.conv(1, 3)], (3, 20_000, 20_000))
    assert check.device == "meta" and check.matches


def test_records_round_trip_and_report_bad_cells():
    for name in ("seed_deep_cnn", "lenet5", "alexnet"):
        records = shapes.layers_to_records(shapes.PRESETS[name].layers)
        assert shapes.layers_from_records(records) == list(shapes.PRESETS[name].layers)
    layers = shapes.layers_from_records([
        {"kind": "conv", "out": 8, "kernel": "3x5", "stride": "", "padding": "same", "dilation": None},
        {"kind": "maxpool", "kernel": " 2 ", "stride": float("nan"), "ceil_mode": True},
    ])
    assert layers[0].kernel == (3, 5) and layers[0].padding == "same" and layers[1].strides() == (2, 2)
    for bad, key, index in [
        ([{"kind": "conv", "out": 8, "kernel": "three"}], "shapes.err.not_integer", 0),
        ([{"kind": "relu"}, {"kind": "linear", "out": None}], "shapes.err.missing", 1),
        ([{"kind": "linear", "out": "ten"}], "shapes.err.not_integer", 0),
        ([{"kind": "maxpool", "kernel": "2", "padding": "same"}], "shapes.err.not_integer", 0),
        ([{"kind": ""}], "shapes.err.unknown_kind", 0),
    ]:
        with pytest.raises(shapes.LayerError) as info:
            shapes.layers_from_records(bad)
        assert (info.value.key, info.value.index) == (key, index)


@pytest.mark.parametrize("ex", shapes.WORKED_EXAMPLES, ids=lambda e: f"{e.h}x{e.w}-k{e.kh}-s{e.stride}-p{e.padding}")
def test_worked_examples_table_agrees_with_torch(ex):
    conv = nn.Conv2d(1, 1, (ex.kh, ex.kw), stride=ex.stride, padding=ex.padding)
    assert tuple(conv(torch.zeros(1, 1, ex.h, ex.w)).shape[2:]) == ex.answer
    assert (conv_output_size(ex.h, ex.kh, stride=ex.stride, padding=ex.padding),
            conv_output_size(ex.w, ex.kw, stride=ex.stride, padding=ex.padding)) == ex.answer


def test_layer_formula_shows_where_the_4_comes_from():
    layer = shapes.PRESETS["seed_deep_cnn"].layers[8]
    assert layer.name == "pool3"
    assert shapes.layer_formula(layer, 7) == shapes.formula_latex(7, 2, stride=2, padding=1)
    assert "3.5" in shapes.layer_formula(layer, 7) and shapes.layer_formula(Layer("relu"), 7) is None


def test_a_network_pytorch_cannot_even_describe_is_reported_not_raised():
    # 1M channels of 3M×3M: more elements than int64 counts; PyTorch refuses, verify() says so
    layers = [shapes.conv(1_000_000, 1, padding=1_000_000)]
    check = shapes.verify(layers, (1, 1_000_000, 1_000_000))
    assert check.skipped_key == "shapes.err.torch_refused" and "overflow" in check.skipped_params["reason"]
    with pytest.raises(ShapeError) as info:
        conv_output_size(10, 3, stride=10**7)
    assert info.value.key == "shapes.err.size_too_large"


def test_calculator_gives_both_axes_like_torch():
    result = shapes.calculate((32, 64), (5, 5))  # 예제 4
    assert (result["h"][0], result["w"][0]) == (28, 60)
    result = shapes.calculate((7, 9), (2, 2), stride=2, op="maxpool", ceil_mode=True)
    pool = nn.MaxPool2d(2, 2, ceil_mode=True)(torch.zeros(1, 1, 7, 9))
    assert (result["h"][0], result["w"][0]) == tuple(pool.shape[2:]) == (4, 5)
    assert "\\lceil" in result["h"][1] and not result["h"][2].fits
    assert shapes.calculate((9, 9), (4, 4), padding="same")["w"][0] == 9
    assert shapes.parse_padding(" Same ") == "same" and shapes.parse_padding("2") == 2
    for kwargs, key in [({"op": "avgpool", "dilation": 2}, "shapes.err.avgpool_dilation"),
                        ({"op": "softmax"}, "shapes.err.unknown_kind"),
                        ({"op": "maxpool", "padding": "same"}, "shapes.err.pool_same")]:
        with pytest.raises(ShapeError) as info:
            shapes.calculate((8, 8), (3, 3), **kwargs)
        assert info.value.key == key


def test_typed_shapes_parse_and_print():
    assert shapes.parse_shape("1×28×28", "C×H×W") == (1, 28, 28)
    assert shapes.parse_shape(" 3 x 32 x 32 ", "C×H×W") == (3, 32, 32)
    assert shapes.parse_shape("3136", "C×H×W") == (3136,)
    with pytest.raises(ShapeError) as info:
        shapes.parse_shape("one×28×28", "C×H×W")
    assert info.value.key == "shapes.err.not_integer" and info.value.params["what"] == "C×H×W"
    assert shapes.shape_text((64, 7, 7)) == "64×7×7" and shapes.shape_text((10,)) == "10"
    assert shapes.shape_text(None) == "" and shapes.shape_text(()) == ""
    assert shapes.parse_shape(shapes.shape_text((1, 28, 28)), "C×H×W") == (1, 28, 28)
