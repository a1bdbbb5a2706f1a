"""Grouped, depthwise and depthwise-separable convolutions: parameters and multiply-accumulates.

With ``groups = g`` the C_in input channels and C_out filters split into g independent convolutions: each
filter sees only C_in/g channels, so weights and MACs shrink g times. ``groups = C_in`` is the depthwise
convolution (one k×k filter per channel); followed by a 1×1 "pointwise" convolution that mixes the
channels it is the depthwise-separable convolution (MobileNet). PyTorch is the oracle: parameters counted
from ``nn.Conv2d`` modules, MACs by ``torch.utils.flop_counter``'s convolution rule (`torch_counts`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from explorer.shapes.sizes import MAX_SIZE, Pair, ShapeError, _int

MAX_CHANNELS = 4096  # channel counts the page accepts (a torch check builds the layers on the meta device)


def _pair(k: int | Pair) -> Pair:
    kh, kw = (k, k) if not isinstance(k, tuple) else k
    return _positive(kh, "K"), _positive(kw, "K")


def _positive(value: object, what: str, *, limit: int = MAX_SIZE) -> int:
    v = _int(value, what)
    if v < 1:
        raise ShapeError("shapes.err.positive", what=what, value=v)
    if v > limit:
        raise ShapeError("shapes.err.size_too_large", value=v, limit=limit)
    return v


def _channels(c_in: object, c_out: object, groups: object) -> tuple[int, int, int]:
    c_in, c_out = _positive(c_in, "C_in", limit=MAX_CHANNELS), _positive(c_out, "C_out", limit=MAX_CHANNELS)
    groups = _positive(groups, "groups", limit=MAX_CHANNELS)
    if c_in % groups or c_out % groups:
        raise ShapeError("shapes.err.groups", groups=groups, c_in=c_in, c_out=c_out)
    return c_in, c_out, groups


def conv_params(c_in: int, c_out: int, k: int | Pair, *, groups: int = 1, bias: bool = True) -> int:
    """Weights (C_out · C_in/g · kh · kw) plus one bias per filter, as ``nn.Conv2d`` has them."""
    c_in, c_out, groups = _channels(c_in, c_out, groups)
    kh, kw = _pair(k)
    return c_out * (c_in // groups) * kh * kw + (c_out if bias else 0)


def conv_macs(c_in: int, c_out: int, k: int | Pair, *, out_h: int, out_w: int, groups: int = 1) -> int:
    """Multiply-accumulates for one image: every output value (C_out · OH · OW) needs C_in/g · kh · kw."""
    c_in, c_out, groups = _channels(c_in, c_out, groups)
    kh, kw = _pair(k)
    return c_out * _positive(out_h, "OH") * _positive(out_w, "OW") * (c_in // groups) * kh * kw


def valid_groups(c_in: int, c_out: int) -> list[int]:
    """Every ``groups`` PyTorch accepts: the common divisors of C_in and C_out, 1 … (depthwise) C_in."""
    c_in, c_out = _positive(c_in, "C_in", limit=MAX_CHANNELS), _positive(c_out, "C_out", limit=MAX_CHANNELS)
    return [g for g in range(1, min(c_in, c_out) + 1) if c_in % g == 0 and c_out % g == 0]


@dataclass(frozen=True)
class Separable:
    """A standard k×k convolution against depthwise k×k + pointwise 1×1 (same input and output shapes)."""

    standard_params: int
    depthwise_params: int
    pointwise_params: int
    standard_macs: int
    depthwise_macs: int
    pointwise_macs: int

    @property
    def separable_params(self) -> int:
        return self.depthwise_params + self.pointwise_params

    @property
    def separable_macs(self) -> int:
        return self.depthwise_macs + self.pointwise_macs


def separable(c_in: int, c_out: int, k: int | Pair, *, out_h: int, out_w: int, bias: bool = True) -> Separable:
    """The comparison of the lesson (3×3, 64 → 128: 73,856 vs 640 + 8,320 parameters)."""
    return Separable(
        conv_params(c_in, c_out, k, bias=bias), conv_params(c_in, c_in, k, groups=c_in, bias=bias),
        conv_params(c_in, c_out, 1, bias=bias),
        conv_macs(c_in, c_out, k, out_h=out_h, out_w=out_w),
        conv_macs(c_in, c_in, k, out_h=out_h, out_w=out_w, groups=c_in),
        conv_macs(c_in, c_out, 1, out_h=out_h, out_w=out_w))


def connections(c_in: int, c_out: int, groups: int) -> list[list[int]]:
    """(C_out, C_in) grid: 1 where filter o sees input channel c (block diagonal for groups > 1)."""
    c_in, c_out, groups = _channels(c_in, c_out, groups)
    per_in, per_out = c_in // groups, c_out // groups
    return [[int(o // per_out == c // per_in) for c in range(c_in)] for o in range(c_out)]


def torch_counts(c_in: int, c_out: int, k: int | Pair, *, groups: int = 1, out_h: int,
                 out_w: int) -> tuple[int, int]:
    """(parameters, MACs) measured by PyTorch: the parameters of an ``nn.Conv2d`` built on the meta device
    (no memory, no random numbers), and PyTorch's own convolution FLOP rule (`torch.utils.flop_counter`,
    2 FLOPs per MAC) on the output shape a real ``F.conv2d`` gives."""
    from torch.utils.flop_counter import conv_flop_count

    c_in, c_out, groups = _channels(c_in, c_out, groups)
    kh, kw = _pair(k)
    conv = nn.Conv2d(c_in, c_out, (kh, kw), groups=groups, device="meta")
    x = torch.zeros(1, 1, out_h + kh - 1, out_w + kw - 1)  # one channel: the output's size is all we need
    oh, ow = F.conv2d(x, torch.zeros(1, 1, kh, kw)).shape[2:]
    flops = conv_flop_count([1, c_in, *x.shape[2:]], list(conv.weight.shape), [1, c_out, oh, ow])
    return sum(p.numel() for p in conv.parameters()), flops // 2
