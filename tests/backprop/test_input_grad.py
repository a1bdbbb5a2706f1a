"""explorer.backprop.input_grad: δx as the full convolution with the rotated kernel, against torch autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from explorer.backprop import input_grad as ig
from explorer.backprop import input_gradient
from explorer.backprop.toy import BackpropInputError


def _autograd(x, w, delta, stride, padding):
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    F.conv2d(xt[None, None], wt[None, None], stride=stride, padding=padding).backward(torch.tensor(delta)[None, None])
    return xt.grad.numpy(), wt.grad.numpy()


@pytest.mark.parametrize("seed", range(40))
def test_input_and_weight_gradients_equal_autograd(seed):
    rng = np.random.default_rng(seed)
    kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
    stride, padding = int(rng.integers(1, 4)), int(rng.integers(0, 3))
    h, w = int(rng.integers(max(kh - 2 * padding, 1), 9)), int(rng.integers(max(kw - 2 * padding, 1), 9))
    x, k = rng.normal(size=(h, w)), rng.normal(size=(kh, kw))
    oh, ow = ig.forward_shape((h, w), (kh, kw), stride=stride, padding=padding)
    delta = rng.normal(size=(oh, ow))
    gx, gw = _autograd(x, k, delta, stride, padding)
    np.testing.assert_allclose(input_gradient(delta, k, stride=stride, padding=padding, input_shape=(h, w)), gx,
                               atol=1e-12)
    np.testing.assert_allclose(ig.weight_gradient(x, delta, stride=stride, padding=padding, kernel_shape=(kh, kw)),
                               gw, atol=1e-12)
    tx, tw = ig.torch_gradients(x, k, delta, stride=stride, padding=padding)
    np.testing.assert_allclose(tx, gx) and np.testing.assert_allclose(tw, gw)


def test_the_steps_are_the_lecture_s_pictures():
    r = ig.input_gradient_steps(np.array([[1.0, 2], [3, 4]]), ig.LECTURE_W, input_shape=(4, 4))
    assert r.full.shape == (6, 6) and r.full[2:4, 2:4].tolist() == [[1, 2], [3, 4]]  # a K − 1 = 2 border
    np.testing.assert_array_equal(r.flipped, ig.LECTURE_W[::-1, ::-1])
    cells = ig.windows(r)
    assert len(cells) == 16 and not any(c.cropped for c in cells)
    assert cells[0].value == 1 * 2 and cells[0].products.sum() == r.grad[0, 0]


def test_stride_dilates_delta_and_padding_is_cropped():
    r = ig.input_gradient_steps(np.ones((3, 3)), ig.LECTURE_W, stride=2, input_shape=(7, 7))
    assert r.dilated.tolist()[1] == [0, 0, 0, 0, 0] and r.dilated[::2, ::2].tolist() == np.ones((3, 3)).tolist()
    uneven = ig.input_gradient_steps(np.ones((2, 2)), ig.LECTURE_W, stride=2, input_shape=(6, 6))
    assert uneven.reached.shape == (5, 5) and uneven.grad[5].tolist() == [0] * 6  # never under a window
    padded = ig.input_gradient_steps(np.ones((4, 4)), ig.LECTURE_W, padding=1, input_shape=(4, 4))
    assert padded.padded.shape == (6, 6) and sum(c.cropped for c in ig.windows(padded)) == 36 - 16


def test_the_seed_examples_and_the_default_delta():
    for x, w, stride, padding in ig.EXAMPLES.values():
        s = ig.setting(ig_text(x), ig_text(w), None, stride=stride, padding=padding)
        assert s.delta.ravel().tolist() == list(range(1, s.delta.size + 1))
        gx, _ = _autograd(x, w, s.delta, stride, padding)
        np.testing.assert_allclose(input_gradient(s.delta, w, stride=stride, padding=padding, input_shape=x.shape), gx)
        assert s.cells == ig.input_gradient_steps(s.delta, w, stride=stride, padding=padding,
                                                  input_shape=x.shape).reached.size


def ig_text(a: np.ndarray) -> str:
    return "\n".join(" ".join(f"{v:g}" for v in row) for row in a)


@pytest.mark.parametrize(("args", "key"), [
    (("1 2\n3 4", "1 0 0\n0 1 0\n0 0 1", None, 1, 0), "backprop.error.kernel_too_big"),
    (("1 2 3\n4 5 6\n7 8 9", "1 0\n0 1", "1 2\n3 4\n5 6", 1, 0), "backprop.error.delta_shape"),
    (("1 2 3\n4 x 6\n7 8 9", "1 0\n0 1", None, 1, 0), "backprop.error.not_number"),
    (("1 2 3\n4 5\n7 8 9", "1 0\n0 1", None, 1, 0), "backprop.error.shape"),
    (("", "1 0\n0 1", None, 1, 0), "backprop.error.empty"),
    (("1 2 3\n4 5 6\n7 8 9", "1 0\n0 1", None, 0, 0), "backprop.error.setting"),
    (("1 2 3\n4 5 6\n7 8 9", "1 0\n0 1", None, 1, 9), "backprop.error.setting"),
    (("\n".join(["1 " * 10] * 10), "1", None, 1, 0), "backprop.error.too_large"),
    (("1 2\n3 4", "1 inf\n0 1", None, 1, 0), "backprop.error.not_finite_cell"),
])
def test_bad_settings_are_refused_with_a_message(args, key):
    x, w, d, stride, padding = args
    with pytest.raises(BackpropInputError) as info:
        ig.setting(x, w, d, stride=stride, padding=padding)
    assert info.value.key == key


def test_lp_pooling_gradient_equals_autograd():
    window = torch.tensor([[1.0, 1.0], [5.0, 6.0]], dtype=torch.float64, requires_grad=True)
    for p in (1.0, 2.0, 3.0):
        window.grad = None
        F.lp_pool2d(window[None, None], p, 2).sum().backward()
        np.testing.assert_allclose(ig.lp_pool_gradient(window.detach().numpy(), p), window.grad.numpy())
