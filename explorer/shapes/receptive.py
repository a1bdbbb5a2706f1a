"""Receptive fields you can click: which input pixels one unit of a later layer sees.

The theoretical receptive field of output cell i of a conv/pool layer is input rows
[i·S − P, i·S − P + D(K−1)]; going back layer by layer gives the box on the network's input (partly
outside it, in the padding, near the borders). PyTorch is the oracle (`torch_box`): a one-channel copy of
the network with all-ones filters, average instead of max pooling and no activations, whose input
gradient is non-zero exactly on that box. For the trained seed CNN, the *effective* receptive field is
the gradient itself: mean |∂unit/∂input| over test digits (`effective_rf`), concentrated in the middle
of the box and zero outside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from explorer.shapes.network import PRESETS, Layer, summarize
from explorer.shapes.sizes import POOL_KINDS, Shape, ShapeError

SPATIAL_KINDS = ("conv", *POOL_KINDS)
NETWORKS: dict[str, tuple[Shape, tuple[Layer, ...]]] = {  # name -> (input C×H×W, layers)
    "seed_mnist_cnn": (PRESETS["seed_mnist_cnn"].input_shape, PRESETS["seed_mnist_cnn"].layers[:6]),
    "lenet5": (PRESETS["lenet5"].input_shape, PRESETS["lenet5"].layers[:8]),
    "vgg16_start": (PRESETS["vgg16"].input_shape, PRESETS["vgg16"].layers[:17]),  # blocks 1-3, up to pool3
}
TRAINED = "seed_mnist_cnn"  # the network the bundled trained model is (its `features`, layer by layer)
ERF_IMAGES = 32  # test digits the effective receptive field is averaged over


@dataclass(frozen=True)
class Box:
    """Input rows top..bottom and columns left..right (inclusive); may reach outside the input."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def size(self) -> tuple[int, int]:
        return self.bottom - self.top + 1, self.right - self.left + 1

    def clipped(self, h: int, w: int) -> Box:
        return Box(max(self.top, 0), max(self.left, 0), min(self.bottom, h - 1), min(self.right, w - 1))


def spatial_layers(name: str) -> list[tuple[int, str, Shape]]:
    """(layer index, name, output C×H×W) of the conv and pooling layers of network ``name``."""
    shape, layers = NETWORKS[name]
    return [(r.index, r.name, r.output_shape) for r in summarize(list(layers), shape) if r.kind in SPATIAL_KINDS]


def receptive_box(layers: Sequence[Layer], input_shape: Shape, index: int, row: int, col: int) -> Box:
    """The input box seen by output cell (row, col) of layer ``index``; ShapeError if the cell is outside."""
    rows = summarize(list(layers), input_shape)
    out = rows[index].output_shape
    if len(out) != 3 or not (0 <= row < out[1] and 0 <= col < out[2]):
        raise ShapeError("shapes.err.unit", row=row, col=col, shape="×".join(map(str, out)))
    (top, bottom), (left, right) = (row, row), (col, col)
    for layer, r in zip(reversed(layers[:index + 1]), reversed(rows[:index + 1])):
        if layer.kind not in SPATIAL_KINDS:
            continue
        (kh, kw), (sh, sw), (dh, dw) = layer.kernel, layer.strides(), layer.dilation
        ph, pw = _padding(layer, r.input_shape)
        top, bottom = top * sh - ph, bottom * sh - ph + dh * (kh - 1)
        left, right = left * sw - pw, right * sw - pw + dw * (kw - 1)
    return Box(top, left, bottom, right)


def _padding(layer: Layer, shape: Shape) -> tuple[int, int]:
    """(top, left) padding; "same" pads ⌊D(K−1)/2⌋ before (PyTorch puts an odd extra one after)."""
    if isinstance(layer.padding, str):
        return tuple(d * (k - 1) // 2 for d, k in zip(layer.dilation, layer.kernel))  # type: ignore[return-value]
    return layer.padding


def torch_box(layers: Sequence[Layer], input_shape: Shape, index: int, row: int, col: int) -> Box:
    """The clipped box measured in PyTorch: where the input gradient of the unit is non-zero."""
    x = torch.ones(1, 1, *input_shape[1:], requires_grad=True)  # one channel: the box does not depend on depth
    y = x
    for layer in layers[:index + 1]:
        if layer.kind == "conv":  # all-ones weights: positive, so no contributions cancel
            y = F.conv2d(y, torch.ones(1, 1, *layer.kernel), stride=layer.strides(), padding=layer.padding,
                         dilation=layer.dilation)
        elif layer.kind in POOL_KINDS:  # the same windows; an average passes gradient to all of them
            y = F.avg_pool2d(y, layer.kernel, stride=layer.strides(), padding=layer.padding,
                             ceil_mode=layer.ceil_mode)
    (grad,) = torch.autograd.grad(y[0, 0, row, col], x)
    seen = (grad[0, 0] != 0).nonzero()
    return Box(int(seen[:, 0].min()), int(seen[:, 1].min()), int(seen[:, 0].max()), int(seen[:, 1].max()))


@lru_cache(maxsize=1024)
def checked(name: str, index: int, row: int, col: int) -> bool:
    """Whether PyTorch's box (`torch_box`) equals the formula's (`receptive_box`) for this unit of a
    network in `NETWORKS` (remembered: the same unit is asked again on every rerun)."""
    shape, layers = NETWORKS[name]
    return torch_box(layers, shape, index, row, col) == receptive_box(layers, shape, index, row, col).clipped(
        shape[1], shape[2])


@cache
def _bundled() -> tuple[torch.nn.Module, torch.Tensor]:
    """The trained seed CNN and the first ERF_IMAGES test digits (N, 1, 28, 28), loaded once (read only)."""
    from explorer.activations import load_bundled_model
    from explorer.core.data import load_embedded

    return load_bundled_model(), load_embedded("test").images[:ERF_IMAGES]


@lru_cache(maxsize=256)
def bundled_erf(index: int, row: int, col: int) -> np.ndarray:
    """`effective_rf` of the bundled model over the first ERF_IMAGES test digits (remembered, read only)."""
    erf = effective_rf(index, row, col)
    erf.flags.writeable = False
    return erf


def effective_rf(index: int, row: int, col: int, *, images: torch.Tensor | None = None) -> np.ndarray:
    """Mean |∂(sum over channels of unit (row, col) of layer ``index``)/∂input| over test digits -> (28, 28).

    ``index`` counts the layers of the seed CNN as in `NETWORKS` (conv1, relu, pool1, conv2, relu, pool2).
    """
    model, digits = _bundled()
    x = (digits if images is None else images).clone().requires_grad_(True)  # (N, 1, 28, 28)
    out = model.features[:index + 1](x)  # (N, C, h, w)
    if not (0 <= row < out.shape[2] and 0 <= col < out.shape[3]):
        raise ShapeError("shapes.err.unit", row=row, col=col, shape="×".join(map(str, out.shape[1:])))
    (grad,) = torch.autograd.grad(out[:, :, row, col].sum(), x)
    return grad.abs().mean(dim=0)[0].numpy()
