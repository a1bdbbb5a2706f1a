"""explorer.kernels.code: the shown PyTorch code runs as it is and gives the app's numbers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from explorer.kernels import code
from explorer.kernels import columns as cols
from explorer.kernels import ops as kn
from explorer.kernels import stepthrough as stp
from explorer.kernels import transposed as tr


def run(source: str, **names) -> dict:
    namespace = dict(names)
    with warnings.catch_warnings():  # "same" with an even kernel: torch warns about a padded copy
        warnings.simplefilter("ignore", UserWarning)
        exec(compile(source, "<shown code>", "exec"), namespace)
    return namespace


def _nhwc(y, two_d: bool) -> np.ndarray:
    a = y.detach()[0].permute(1, 2, 0).numpy()
    return a[:, :, 0] if two_d else a


@pytest.mark.parametrize("colour", ["gray", "rgb", "depth"])
@pytest.mark.parametrize(("padding", "mode", "stride", "shape"), [
    (0, "zeros", 1, (3, 3)), (2, "reflect", 2, (3, 3)), ("same", "zeros", 2, (2, 4)), ("same", "circular", 1, (4, 2)),
    (1, "replicate", 1, (5, 5)),
])
def test_image_code_gives_the_lab_s_output(colour, padding, mode, stride, shape):
    rng = np.random.default_rng(len(colour) + stride)
    image = rng.integers(0, 256, (13, 17, 3)).astype(np.uint8)
    kernel = rng.normal(size=shape)
    options = {"colour": colour, "stride": stride, "padding": padding, "dilation": 1, "padding_mode": mode,
               "bias": -2.5, "channel_weights": (0.2, 0.3, 0.5)}
    expected = kn.filter_image(image, kernel, **options)
    pads = kn.resolve_padding(padding, kernel.shape)
    ns = run(code.image_code(kernel, pads=pads, **options), image=image)
    for name in ("y", "y_module"):
        np.testing.assert_allclose(_nhwc(ns[name], expected.ndim == 2), expected, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("name", sorted(stp.EXAMPLES))
def test_step_through_code_gives_the_step_through_result(name):
    ex = stp.EXAMPLES[name]
    bias = 1.5 if ex.op == "conv" else 0.0
    settings = {"op": ex.op, "kernel": ex.kernel, "size": ex.size, "stride": ex.stride, "padding": ex.padding,
                "bias": bias}
    ns = run(code.steps_code(ex.matrix, **settings))
    expected = stp.result(stp.steps(ex.matrix, **settings))
    np.testing.assert_allclose(ns["y"].numpy(), expected)
    if ex.op == "conv":
        np.testing.assert_allclose(ns["y_module"].detach().numpy(), expected)


def test_im2col_code_gives_the_product_and_conv2d():
    x = np.fromfunction(lambda c, i, j: (c + 2 * i + j) % 4, (3, 4, 4))
    filters, bias = np.fromfunction(lambda f, c, i, j: (f + c + i * j) % 3 - 1, (2, 3, 3, 3)), np.array([1.0, -1.0])
    expected = cols.conv_as_product(x, filters, stride=2, padding=1, bias=bias).output
    ns = run(code.im2col_code(x, filters, stride=2, padding=1, bias=bias))
    np.testing.assert_allclose(ns["out"].numpy(), expected)
    np.testing.assert_allclose(ns["y"].numpy(), expected)


@pytest.mark.parametrize(("stride", "padding", "output_padding"), [(2, 0, 0), (2, 1, 1), (3, 2, 2), (1, 0, 0)])
def test_transpose_code_gives_the_app_s_output(stride, padding, output_padding):
    x, k = np.array([[1.0, 2], [3, 4]]), np.array([[2.0, 0, 1], [0, 1, 2], [1, 0, 2]])
    expected = tr.conv_transpose(x, k, stride=stride, padding=padding, output_padding=output_padding)
    ns = run(code.transpose_code(x, k, stride=stride, padding=padding, output_padding=output_padding))
    np.testing.assert_allclose(ns["y"].numpy(), expected)
    np.testing.assert_allclose(ns["y_module"].detach().numpy(), expected)


def test_numbers_are_written_exactly():
    assert code.number(1 / 9) == "0.1111111111111111" and code.number(2) == "2.0"
    assert code.tensor(np.eye(2)) == "torch.tensor([[1.0, 0.0],\n              [0.0, 1.0]])"


@pytest.mark.parametrize(("colour", "target", "kind"), [("rgb", "output", "max"), ("gray", "output", "avg"),
                                                        ("depth", "input", "max"), ("rgb", "input", "avg")])
def test_image_code_pools_like_the_lab(colour, target, kind):
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (12, 15, 3)).astype(np.uint8)
    kernel = kn.PRESETS["sobel_x"]
    raw = kn.filter_image(image, kernel, colour=colour, padding=1)
    pooling = {"target": target, "kind": kind, "size": 3, "stride": 2, "padding": 1}
    source = raw if target == "output" else image.astype(np.float64)
    expected = kn.pool(source, kind=kind, size=3, stride=2, padding=1)
    ns = run(code.image_code(kernel, pads=(1, 1, 1, 1), colour=colour, padding=1, pooling=pooling), image=image)
    np.testing.assert_allclose(_nhwc(ns["pooled"], expected.ndim == 2), expected, rtol=1e-4, atol=1e-3)
