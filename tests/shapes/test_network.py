"""explorer.shapes.network against torch.nn as the oracle: presets, tables, receptive fields, records."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from explorer.shapes import network, sizes
from explorer.shapes.network import Layer
from explorer.shapes.sizes import ShapeError, conv_output_size

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


@pytest.mark.parametrize("name", list(network.PRESETS))
def test_presets_reproduce_the_lecture_shapes(name):
    rows = {r.name: r for r in network.summarize(name)}
    for layer, shape in LECTURE_SHAPES[name].items():
        assert rows[layer].output_shape == shape, layer
    assert network.totals(list(rows.values()))["params"] == LECTURE_TOTALS[name]


def test_where_the_4_of_the_deep_cnn_comes_from():
    pool3 = {r.name: r for r in network.summarize("seed_deep_cnn")}["pool3"]
    assert pool3.exact == (Fraction(9, 2), Fraction(9, 2))  # (7 + 2·1 - 2)/2 + 1 = 4.5 → 4
    assert pool3.output_shape == (128, 4, 4)
    fc1 = {r.name: r for r in network.summarize("seed_deep_cnn")}["fc1"]
    assert fc1.kernel_shape == (625, 4 * 4 * 128)


def test_alexnet_kernels_are_the_lectures_two_gpu_halves():
    rows = {r.name: r for r in network.summarize("alexnet")}
    assert rows["conv1"].kernel_shape == (96, 3, 11, 11) and rows["conv1"].params == 34_944
    assert rows["conv2"].kernel_shape == (256, 48, 5, 5)   # "256 kernels of size 5 x 5 x 48"
    assert rows["conv3"].kernel_shape == (384, 256, 3, 3)  # "384 kernels of size 3 x 3 x 256"
    assert rows["conv4"].kernel_shape == (384, 192, 3, 3)  # "384 kernels of size 3 x 3 x 192"
    assert rows["conv5"].kernel_shape == (256, 192, 3, 3)


@pytest.mark.parametrize("name", list(network.PRESETS))
def test_each_preset_matches_its_built_module(name):
    rows = network.summarize(name)
    check = network.verify(name)
    assert check.matches and check.device in ("cpu", "meta")
    assert check.output_shapes == tuple(r.output_shape for r in rows)
    model = network.build_module(name, device="meta")
    assert sum(p.numel() for p in model.parameters()) == network.totals(rows)["params"]
    x = torch.zeros(1, *network.PRESETS[name].input_shape, device="meta")
    with FlopCounterMode(display=False) as counter:
        assert tuple(model(x).shape[1:]) == rows[-1].output_shape
    assert counter.get_total_flops() == 2 * network.totals(rows)["macs"]  # 1 MAC = 2 FLOPs


def test_small_presets_run_a_real_zero_tensor_on_the_cpu():
    check = network.verify("seed_mnist_cnn")
    assert check.device == "cpu" and check.total_params == 50_186
    model = network.build_module("lenet5")
    assert all(p.device.type == "cpu" and not p.any() for p in model.parameters())  # zeros, no RNG used
    assert model(torch.zeros(2, 1, 32, 32)).shape == (2, 10)


def _random_network(rng: random.Random) -> tuple[list[Layer], tuple[int, int, int]]:
    layers: list[Layer] = []
    for _ in range(rng.randint(1, 5)):
        choice = rng.random()
        if choice < 0.5:
            layers.append(network.conv(rng.randint(1, 6), (rng.randint(1, 4), rng.randint(1, 4)),
                                      stride=rng.randint(1, 3), padding=rng.randint(0, 2),
                                      dilation=rng.randint(1, 2)))
        elif choice < 0.8:
            k = rng.randint(1, 3)
            layers.append(network.pool(k, kind=rng.choice(["maxpool", "avgpool"]), stride=rng.randint(1, 3),
                                      padding=rng.randint(0, k // 2), ceil_mode=rng.random() < 0.5))
        else:
            layers.append(Layer(rng.choice(["relu", "sigmoid", "tanh", "batchnorm", "dropout", "leaky_relu"])))
    layers += [Layer(rng.choice(["flatten", "gap"])), network.linear(rng.randint(1, 7))]
    return layers, (rng.randint(1, 3), rng.randint(8, 30), rng.randint(8, 30))


def test_summarize_matches_torch_on_random_networks():
    rng = random.Random(7)
    checked = 0
    for _ in range(60):
        layers, shape = _random_network(rng)
        try:
            rows = network.summarize(layers, shape)
        except sizes.LayerError:
            continue
        model = network.build_module(layers, shape)
        outs = []
        for m in model:
            m.register_forward_hook(lambda _m, _i, o: outs.append(tuple(o.shape[1:])))
        model(torch.zeros(1, *shape))
        assert outs == [r.output_shape for r in rows]
        assert [sum(p.numel() for p in m.parameters()) for m in model] == [r.params for r in rows]
        checked += 1
    assert checked > 30


def test_global_average_pooling_and_leaky_relu_match_torch():
    layers = [network.conv(6, 3, padding=1), Layer("leaky_relu"), Layer("gap"), Layer("batchnorm"),
              network.linear(4)]
    rows = network.summarize(layers, (2, 9, 7))
    assert [r.output_shape for r in rows] == [(6, 9, 7), (6, 9, 7), (6,), (6,), (4,)]
    assert [r.params for r in rows] == [6 * 2 * 9 + 6, 0, 0, 12, 6 * 4 + 4]
    assert rows[2].receptive_field is None and rows[2].macs == 0
    assert network.verify(layers, (2, 9, 7)).matches
    model = network.build_module(layers, (2, 9, 7))
    gap, leaky = model[2], model[1]
    x = torch.randn(3, 6, 9, 7, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(gap(x), x.mean(dim=(2, 3)))  # each channel's map -> its mean
    assert torch.equal(leaky(-x), nn.functional.leaky_relu(-x, 0.01))
    with pytest.raises(sizes.LayerError) as info:
        network.summarize([Layer("flatten"), Layer("gap")], (2, 9, 7))
    assert (info.value.key, info.value.index) == ("shapes.err.needs_feature_map", 1)


def _torch_receptive_field(layers, shape) -> int:
    """Width of the input region that reaches the centre output cell (all-ones weights, max → avg pool)."""
    model = nn.Sequential(*[
        nn.AvgPool2d(m.kernel_size, m.stride, m.padding, m.ceil_mode) if isinstance(m, nn.MaxPool2d) else m
        for m in network.build_module(layers, shape)])
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(1.0)
    x = torch.ones(1, *shape, requires_grad=True)
    y = model(x)
    y[0, 0, y.shape[2] // 2, y.shape[3] // 2].backward()
    cols = (x.grad[0].abs().sum(0) != 0).nonzero()[:, 1]
    return int(cols.max() - cols.min() + 1)


@pytest.mark.parametrize("layers", [
    [network.conv(1, 3), network.conv(1, 3)],                                       # 5: two 3x3 = one 5x5
    [network.conv(1, 3), network.conv(1, 3), network.conv(1, 3)],                    # 7
    [network.conv(1, 3), network.pool(2, kind="avgpool"), network.conv(1, 3)],       # 3 + 1 + 2·2 = 8
    [network.conv(1, 3, dilation=2), network.conv(1, 3, stride=2), network.conv(1, 5)],
    [network.conv(1, 11, stride=4), network.pool(3, stride=2), network.conv(1, 5, padding=2)],
])
def test_receptive_field_matches_the_input_pixels_torch_backpropagates_to(layers):
    shape = (1, 81, 81)
    rows = network.summarize(layers, shape)
    assert rows[-1].receptive_field == _torch_receptive_field(layers, shape)


def test_a_network_that_breaks_midway_is_flagged_at_that_layer():
    layers = [network.conv(8, 5), network.pool(2), network.conv(8, 5), network.conv(8, 5), Layer("flatten")]
    with pytest.raises(sizes.LayerError) as info:
        network.summarize(layers, (1, 16, 16))
    assert (info.value.index, info.value.name, info.value.key) == (3, "conv3", "shapes.err.window")
    rows = network.summarize(layers, (1, 16, 16), strict=False)
    assert [r.output_shape for r in rows[:3]] == [(8, 12, 12), (8, 6, 6), (8, 2, 2)]
    assert rows[-1].error_key == "shapes.err.window" and rows[-1].output_shape is None and len(rows) == 4


@pytest.mark.parametrize(("layers", "shape", "key"), [
    ([Layer("linear", out=10)], (1, 28, 28), "shapes.err.linear_needs_flatten"),
    ([Layer("flatten"), network.conv(4, 3)], (1, 8, 8), "shapes.err.needs_feature_map"),
    ([network.conv(0, 3)], (1, 8, 8), "shapes.err.positive"),
    ([network.conv(4, 3, groups=3)], (4, 8, 8), "shapes.err.groups"),
    ([Layer("softmax")], (1, 8, 8), "shapes.err.unknown_kind"),
    ([Layer("dropout", p=1.5)], (1, 8, 8), "shapes.err.dropout"),
    ([network.pool(3, kind="avgpool", dilation=2)], (1, 8, 8), "shapes.err.avgpool_dilation"),
])
def test_bad_layers_raise_layer_errors(layers, shape, key):
    with pytest.raises(sizes.LayerError) as info:
        network.summarize(layers, shape)
    assert info.value.key == key and info.value.index == len(layers) - 1


@pytest.mark.parametrize(("args", "key"), [
    (("no_such_net",), "shapes.err.unknown_preset"),
    (([network.conv(1, 3)],), "shapes.err.no_input"),
    (([network.conv(1, 3)], (1, 0, 8)), "shapes.err.input_shape"),
    (([network.conv(1, 3)], (1, 8)), "shapes.err.input_shape"),
    (([], (1, 8, 8)), "shapes.err.empty"),
    (([Layer("relu")] * (network.MAX_LAYERS + 1), (1, 8, 8)), "shapes.err.too_many_layers"),
])
def test_bad_networks_raise_shape_errors(args, key):
    with pytest.raises(ShapeError) as info:
        network.summarize(*args)
    assert info.value.key == key


def test_absurdly_large_networks_are_not_built():
    huge = [Layer("flatten"), network.linear(1_000_000), network.linear(1_000_000)]
    rows = network.summarize(huge, (1, 1000, 1000))
    assert network.totals(rows)["params"] > network.MAX_META_PARAMS
    check = network.verify(huge, (1, 1000, 1000))
    assert check.device is None and check.skipped_key == "shapes.err.too_large" and not check.matches
    with pytest.raises(ShapeError, match="parameters"):
        network.build_module("vgg16")  # 138M parameters: too many for a real CPU build
    # huge activations but few parameters: verified on the meta device, no memory used
    check = network.verify([network.conv(1, 3)], (3, 20_000, 20_000))
    assert check.device == "meta" and check.matches


def test_records_round_trip_and_report_bad_cells():
    for name in ("seed_deep_cnn", "lenet5", "alexnet"):
        records = network.layers_to_records(network.PRESETS[name].layers)
        assert network.layers_from_records(records) == list(network.PRESETS[name].layers)
    layers = network.layers_from_records([
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
        with pytest.raises(sizes.LayerError) as info:
            network.layers_from_records(bad)
        assert (info.value.key, info.value.index) == (key, index)


def test_layer_formula_shows_where_the_4_comes_from():
    layer = network.PRESETS["seed_deep_cnn"].layers[8]
    assert layer.name == "pool3"
    assert network.layer_formula(layer, 7) == sizes.formula_latex(7, 2, stride=2, padding=1)
    assert "3.5" in network.layer_formula(layer, 7) and network.layer_formula(Layer("relu"), 7) is None


def test_a_network_pytorch_cannot_even_describe_is_reported_not_raised():
    # 1M channels of 3M×3M: more elements than int64 counts; PyTorch refuses, verify() says so
    layers = [network.conv(1_000_000, 1, padding=1_000_000)]
    check = network.verify(layers, (1, 1_000_000, 1_000_000))
    assert check.skipped_key == "shapes.err.torch_refused" and "overflow" in check.skipped_params["reason"]
    with pytest.raises(ShapeError) as info:
        conv_output_size(10, 3, stride=10**7)
    assert info.value.key == "shapes.err.size_too_large"

