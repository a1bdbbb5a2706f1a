"""Parameter-count comparisons from the lectures (seeds 000, 001, 004), each with a PyTorch check."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Connectivity:
    """Weights of one layer from an image to hidden units, three ways (seed 004, biases left out)."""

    fully_connected: int     # every hidden unit sees every pixel: pixels × hidden
    locally_connected: int   # every hidden unit sees its own filter×filter patch: hidden × filter²
    convolutional: int       # the patch weights are shared: filters × filter²


def connectivity(*, image: int = 200, hidden: int = 40_000, filter_size: int = 10, filters: int = 100,
                 ) -> Connectivity:
    """200x200 image, 40K hidden units, 10x10 filters, 100 filters → 1.6B / 4M / 10K."""
    for value in (image, hidden, filter_size, filters):
        if value < 1:
            raise ValueError("all sizes must be at least 1")
    return Connectivity(image * image * hidden, hidden * filter_size ** 2, filters * filter_size ** 2)


def fc_net(sizes: tuple[int, ...] = (256, 100, 26)) -> list[tuple[int, int]]:
    """(weights, biases) per layer of a fully connected net: 16x16 → 100 → 26 is 25,600 + 2,600 + 100 + 26."""
    return [(a * b, b) for a, b in zip(sizes, sizes[1:])]


def fc_net_latex(sizes: tuple[int, ...] = (256, 100, 26)) -> str:
    """The count of :func:`fc_net` as LaTeX: ``256\\cdot100 + 100\\cdot26 + 100 + 26 = 25{,}600 + …``."""
    layers = fc_net(sizes)
    weights = [f"{a}\\cdot{b}" for a, b in zip(sizes, sizes[1:])] + [str(b) for _, b in layers]
    values = [f"{w:,}" for w, _ in layers] + [str(b) for _, b in layers]
    total = sum(w + b for w, b in layers)
    return f"{' + '.join(weights)} = {' + '.join(values)} = {total:,}".replace(",", "{,}")


def conv_layer_params(*, in_channels: int = 3, kernel: int = 5, filters: int = 10, bias: bool = True) -> int:
    """32x32x3 input, ten 5x5 filters: (5·5·3 + 1)·10 = 760."""
    return (kernel * kernel * in_channels + int(bias)) * filters


def conv_layer_latex(*, in_channels: int = 3, kernel: int = 5, filters: int = 10) -> str:
    """:func:`conv_layer_params` as LaTeX: ``(5\\cdot5\\cdot3 + 1)\\cdot10 = 760``."""
    params = conv_layer_params(in_channels=in_channels, kernel=kernel, filters=filters)
    return f"({kernel}\\cdot{kernel}\\cdot{in_channels} + 1)\\cdot{filters} = {params}"


@dataclass(frozen=True)
class Stack:
    """``layers`` stacked k×k convolutions (one channel, no bias) vs one big filter with the same view."""

    layers: int
    kernel: int
    stacked_params: int
    receptive_field: int     # (k-1)·layers + 1
    single_params: int       # receptive_field²


def stacked_vs_single(layers: int, *, kernel: int = 3) -> Stack:
    """Two 3x3 convs: 18 weights vs one 5x5: 25; three 3x3: 27 vs 7x7: 49 (seed 001)."""
    if layers < 1 or kernel < 1:
        raise ValueError("layers and kernel must be at least 1")
    rf = (kernel - 1) * layers + 1
    return Stack(layers, kernel, layers * kernel * kernel, rf, rf * rf)


def torch_stack_check(layers: int, *, kernel: int = 3) -> tuple[int, int]:
    """(parameters, receptive field) measured in PyTorch: count parameters, and backpropagate from the
    centre output cell of a stack of all-ones filters to count the input pixels that reach it."""
    rf = (kernel - 1) * layers + 1
    size = rf + 2 * (kernel - 1) + 2  # room around the window so it cannot be clipped
    stack = nn.Sequential(*[nn.Conv2d(1, 1, kernel, bias=False) for _ in range(layers)])
    with torch.no_grad():
        for conv in stack:
            conv.weight.fill_(1.0)
    x = torch.zeros(1, 1, size, size, requires_grad=True)
    y = stack(x)
    y[0, 0, y.shape[2] // 2, y.shape[3] // 2].backward()
    seen = (x.grad[0, 0] != 0).nonzero()
    width = int(seen[:, 1].max() - seen[:, 1].min() + 1)
    return sum(p.numel() for p in stack.parameters()), width
