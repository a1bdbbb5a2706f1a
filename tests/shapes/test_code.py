"""explorer.shapes.code: every shown piece of PyTorch code runs and gives the page's numbers."""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pytest
import torch

from explorer.shapes import code, grouped, lessons, network, receptive, sizes


def run(source: str, **names) -> dict:
    namespace = dict(names)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore", UserWarning)
        exec(compile(source, "<shown code>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize(("op", "values"), [
    ("conv", {"h": 227, "w": 227, "kh": 11, "kw": 11, "stride": 4, "padding": "0", "dilation": 1, "ceil": False}),
    ("conv", {"h": 28, "w": 31, "kh": 5, "kw": 5, "stride": 3, "padding": "2", "dilation": 1, "ceil": False}),
    ("conv", {"h": 9, "w": 7, "kh": 3, "kw": 2, "stride": 1, "padding": "same", "dilation": 2, "ceil": False}),
    ("maxpool", {"h": 7, "w": 7, "kh": 2, "kw": 2, "stride": 2, "padding": "1", "dilation": 1, "ceil": True}),
    ("avgpool", {"h": 7, "w": 6, "kh": 3, "kw": 3, "stride": 2, "padding": "1", "dilation": 1, "ceil": False}),
])
def test_calculator_code_gives_the_calculator_s_answer(op, values):
    values = {**values, "op": op}
    result = sizes.calculate((values["h"], values["w"]), (values["kh"], values["kw"]), stride=values["stride"],
                             padding=sizes.parse_padding(values["padding"]), dilation=values["dilation"], op=op,
                             ceil_mode=values["ceil"])
    ns = run(lessons.calc_code(values))
    assert tuple(ns["y"].shape[-2:]) == (result["h"][0], result["w"][0])


@pytest.mark.parametrize("preset", sorted(network.PRESETS))
def test_network_code_builds_the_table_s_network(preset):
    p = network.PRESETS[preset]
    rows = network.summarize(preset)
    source = code.network_code(p.layers, [r.input_shape for r in rows])
    with torch.device("meta"):  # AlexNet and VGG-16 without allocating their weights
        ns = run(source)
    assert tuple(ns["y"].shape[1:]) == rows[-1].output_shape
    assert sum(q.numel() for q in ns["model"].parameters()) == network.totals(rows)["params"]


def test_network_code_writes_groups_dilation_and_ceil_mode():
    layers = [network.conv(8, 3, dilation=2, groups=2, padding=(1, 2)), network.pool(3, stride=2, ceil_mode=True),
              network.Layer("batchnorm"), network.Layer("gap"), network.Layer("leaky_relu"), network.linear(4)]
    rows = network.summarize(layers, (4, 12, 12))
    ns = run(code.network_code(layers, [r.input_shape for r in rows]))
    assert tuple(ns["y"].shape[1:]) == rows[-1].output_shape


def test_block_and_grouped_code():
    ns = run(code.block_code(n=2, c=3, h=32, w=32, fn=10, kernel=(5, 5), stride=1, padding=2))
    assert tuple(ns["conv"].weight.shape) == (10, 3, 5, 5) and tuple(ns["y"].shape) == (2, 10, 32, 32)
    ns = run(code.grouped_code(c_in=64, c_out=128, k=3, groups=4, out_h=6, out_w=6))
    s = grouped.separable(64, 128, 3, out_h=6, out_w=6)
    assert ns["counts"] == {"standard": s.standard_params, "grouped": grouped.conv_params(64, 128, 3, groups=4),
                            "depthwise": s.depthwise_params, "pointwise": s.pointwise_params,
                            "separable": s.separable_params}


@pytest.mark.parametrize(("row", "col"), [(0, 0), (2, 3)])
def test_mixing_code_is_the_matrix_times_the_pixel(row, col):
    pixel, out = lessons.mixing(row, col)
    ns = run(code.mixing_code(weights=lessons.MIX_WEIGHTS.tolist(), bias=lessons.MIX_BIAS.tolist(),
                              pixel=pixel.tolist()))
    np.testing.assert_allclose(ns["y"].numpy(), out[:, row, col])
    np.testing.assert_allclose(ns["mixed"].numpy(), out[:, row, col])


def test_erf_code_gives_the_page_s_effective_field():
    model, images = receptive._bundled()
    ns = run(code.erf_code(index=5, row=3, col=4), model=model, images=images[:8])
    np.testing.assert_allclose(ns["erf"].numpy(), receptive.effective_rf(5, 3, 4, images=images[:8]), rtol=1e-6)


@pytest.mark.parametrize(("n", "k", "stride"), [(5, 3, 1), (7, 3, 2)])
def test_shared_weights_code_counts_and_finds_the_drawn_edges(n, k, stride):
    from explorer.shapes import shared

    g = shared.conv_layer(n, k, stride=stride)
    ns = run(code.shared_code(n=n, k=k, stride=stride))
    assert ns["counts"] == {"conv": k * k + 1, "fc": g.fc_edges + g.outputs}
    assert sorted(ns["edges"]) == sorted((e.source, e.target, e.weight) for e in g.edges)
