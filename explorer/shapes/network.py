"""Whole networks: layers, the lectures' presets, per-layer tables (shape, parameters, MACs, receptive
field) and their check against the real PyTorch module (`verify`)."""

from __future__ import annotations

import math
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Iterable, Sequence

import torch
from torch import nn

from explorer.shapes.sizes import (
    MAX_SIZE,
    POOL_KINDS,
    LayerError,
    Pair,
    Shape,
    ShapeError,
    _int,
    conv_output_exact,
    conv_output_size,
    formula_latex,
    parse_int,
    parse_pair,
    pool_output_size,
    shape_text,
)

LAYER_KINDS: tuple[str, ...] = (
    "conv", "maxpool", "avgpool", "relu", "sigmoid", "tanh", "flatten", "linear", "dropout", "batchnorm",
    "gap", "leaky_relu",
)
ELEMENTWISE_KINDS = ("relu", "sigmoid", "tanh", "leaky_relu", "dropout")  # output shape = input shape
LEAKY_SLOPE = 0.01                       # leaky ReLU's slope for negative inputs (PyTorch's default)
PARAMETRIC_KINDS = ("conv", "linear")   # layers whose `out` (filters / features) must be given
MAX_LAYERS = 200                         # longer lists are refused by summarize()
MAX_CPU_PARAMS = 20_000_000              # above: verify on the meta device (no weights allocated)
MAX_CPU_ACTIVATIONS = 50_000_000         # summed output elements for a real CPU forward pass
MAX_META_PARAMS = 10_000_000_000         # above: building/verifying is skipped with a notice

@dataclass(frozen=True)
class Layer:
    """One layer of a plain sequential CNN (in PyTorch's terms)."""

    kind: str                        # one of LAYER_KINDS
    out: int | None = None           # conv: number of filters; linear: output features
    kernel: Pair = (1, 1)            # (kh, kw) for conv and pooling
    stride: Pair | None = None       # None: 1 for conv, the kernel for pooling (PyTorch's default)
    padding: Pair | str = (0, 0)     # (ph, pw), or "same" (conv at stride 1)
    dilation: Pair = (1, 1)
    groups: int = 1                  # conv only: AlexNet's two-GPU halves use 2
    ceil_mode: bool = False          # pooling only
    p: float = 0.5                   # dropout probability
    name: str = ""                   # shown in tables; default kind + running number

    def strides(self) -> Pair:
        if self.stride is not None:
            return self.stride
        return self.kernel if self.kind in POOL_KINDS else (1, 1)


def _pair(v: int | Pair) -> Pair:
    return (v, v) if isinstance(v, int) else tuple(v)  # type: ignore[return-value]


def conv(out: int, kernel: int | Pair, *, stride: int | Pair = 1, padding: int | Pair | str = 0,
         dilation: int | Pair = 1, groups: int = 1, name: str = "") -> Layer:
    pad = padding if isinstance(padding, str) else _pair(padding)
    return Layer("conv", out=out, kernel=_pair(kernel), stride=_pair(stride), padding=pad,
                 dilation=_pair(dilation), groups=groups, name=name)


def pool(kernel: int | Pair, *, kind: str = "maxpool", stride: int | Pair | None = None,
         padding: int | Pair = 0, dilation: int | Pair = 1, ceil_mode: bool = False, name: str = "") -> Layer:
    return Layer(kind, kernel=_pair(kernel), stride=None if stride is None else _pair(stride),
                 padding=_pair(padding), dilation=_pair(dilation), ceil_mode=ceil_mode, name=name)


def linear(out: int, *, name: str = "") -> Layer:
    return Layer("linear", out=out, name=name)


def act(kind: str = "relu", *, name: str = "") -> Layer:
    return Layer(kind, name=name)


@dataclass(frozen=True)
class Preset:
    """A named network from the lectures: its input shape (C, H, W) and layers."""

    name: str
    input_shape: Shape
    layers: tuple[Layer, ...]


def _vgg16() -> tuple[Layer, ...]:
    layers: list[Layer] = []
    for block, (channels, repeat) in enumerate([(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)], start=1):
        for i in range(1, repeat + 1):
            layers += [conv(channels, 3, padding=1, name=f"conv{block}_{i}"), act()]
        layers.append(pool(2, stride=2, name=f"pool{block}"))
    return (*layers, Layer("flatten"), linear(4096, name="fc6"), act(), Layer("dropout"),
            linear(4096, name="fc7"), act(), Layer("dropout"), linear(1000, name="fc8"))


PRESETS: dict[str, Preset] = {p.name: p for p in [
    # Seed 000 "우리가 만들 CNN 구조": 1x28x28 → 32x14x14 → 64x7x7 → 3136 → 10
    Preset("seed_mnist_cnn", (1, 28, 28), (
        conv(32, 3, padding=1, name="conv1"), act(), pool(2, stride=2, name="pool1"),
        conv(64, 3, padding=1, name="conv2"), act(), pool(2, stride=2, name="pool2"),
        Layer("flatten"), linear(10, name="fc"))),
    # Seed 000 "오늘 만들 CNN 구조": 3 conv blocks, FC 4*4*128 → 625 → 10; pool3 pads 1: ⌊(7+2-2)/2⌋+1 = 4
    Preset("seed_deep_cnn", (1, 28, 28), (
        conv(32, 3, padding=1, name="conv1"), act(), pool(2, stride=2, name="pool1"),
        conv(64, 3, padding=1, name="conv2"), act(), pool(2, stride=2, name="pool2"),
        conv(128, 3, padding=1, name="conv3"), act(), pool(2, stride=2, padding=1, name="pool3"),
        Layer("flatten"), linear(625, name="fc1"), act(), Layer("dropout"), linear(10, name="fc2"))),
    # Seed 000 LeNet: 32x32, C1 6@28x28, S2 average 2x2, C3 16@10x10, S4, C5 120, F6 84, output 10;
    # sigmoid after the convolution layers only, C3 fully connected to S2 (no connection table).
    Preset("lenet5", (1, 32, 32), (
        conv(6, 5, name="C1"), act("sigmoid"), pool(2, kind="avgpool", name="S2"),
        conv(16, 5, name="C3"), act("sigmoid"), pool(2, kind="avgpool", name="S4"),
        conv(120, 5, name="C5"), act("sigmoid"), Layer("flatten"), linear(84, name="F6"),
        linear(10, name="OUTPUT"))),
    # Seeds 000/001: 227x227x3, 96 kernels 11x11 stride 4 → 55x55x96; conv2/4/5 split over two GPUs
    # (groups=2: "256 kernels of size 5x5x48", "3x3x192"); response normalisation left out (no parameters).
    Preset("alexnet", (3, 227, 227), (
        conv(96, 11, stride=4, name="conv1"), act(), pool(3, stride=2, name="pool1"),
        conv(256, 5, padding=2, groups=2, name="conv2"), act(), pool(3, stride=2, name="pool2"),
        conv(384, 3, padding=1, name="conv3"), act(),
        conv(384, 3, padding=1, groups=2, name="conv4"), act(),
        conv(256, 3, padding=1, groups=2, name="conv5"), act(), pool(3, stride=2, name="pool5"),
        Layer("flatten"), Layer("dropout"), linear(4096, name="fc6"), act(),
        Layer("dropout"), linear(4096, name="fc7"), act(), linear(1000, name="fc8"))),
    Preset("vgg16", (3, 224, 224), _vgg16()),
]}


@dataclass(frozen=True)
class Row:
    """One layer of a summary. ``error_key`` is set (and shapes are None) on the layer that breaks."""

    index: int
    name: str
    kind: str
    input_shape: Shape
    output_shape: Shape | None
    params: int = 0
    macs: int = 0                                  # multiply-accumulates of conv/linear layers
    receptive_field: int | None = None             # input pixels seen by one output cell (max of h, w)
    receptive_field_hw: Pair | None = None
    exact: tuple[Fraction, Fraction] | None = None  # unfloored output (h, w) of conv/pool layers
    kernel_shape: Shape | None = None              # weight shape (out, in/groups, kh, kw) or (out, in)
    error_key: str | None = None
    error_params: dict = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)


def _resolve(layers_or_preset: str | Preset | Sequence[Layer], input_shape: Sequence[int] | None,
             ) -> tuple[tuple[Layer, ...], Shape]:
    if isinstance(layers_or_preset, str):
        if layers_or_preset not in PRESETS:
            raise ShapeError("shapes.err.unknown_preset", name=layers_or_preset)
        layers_or_preset = PRESETS[layers_or_preset]
    if isinstance(layers_or_preset, Preset):
        layers, default = layers_or_preset.layers, layers_or_preset.input_shape
    else:
        layers, default = tuple(layers_or_preset), None
    shape = default if input_shape is None else input_shape
    if shape is None:
        raise ShapeError("shapes.err.no_input")
    shape = tuple(_int(v, "C×H×W") for v in shape)
    if len(shape) not in (1, 3) or min(shape) < 1:
        raise ShapeError("shapes.err.input_shape", shape=shape_text(shape))
    if max(shape) > MAX_SIZE:
        raise ShapeError("shapes.err.size_too_large", value=max(shape), limit=MAX_SIZE)
    if not layers:
        raise ShapeError("shapes.err.empty")
    if len(layers) > MAX_LAYERS:
        raise ShapeError("shapes.err.too_many_layers", count=len(layers), limit=MAX_LAYERS)
    return layers, shape


def _default_names(layers: Sequence[Layer]) -> list[str]:
    counts: dict[str, int] = {}
    names = []
    for layer in layers:
        counts[layer.kind] = counts.get(layer.kind, 0) + 1
        names.append(layer.name or f"{layer.kind}{counts[layer.kind]}")
    return names


def _step(layer: Layer, shape: Shape, rf: tuple[Pair, Pair] | None) -> dict[str, Any]:
    """Output shape, params, MACs, receptive field of one layer on input ``shape``."""
    kind = layer.kind
    if kind not in LAYER_KINDS:
        raise ShapeError("shapes.err.unknown_kind", kind=kind)
    if kind in ELEMENTWISE_KINDS:
        if kind == "dropout" and not 0 <= layer.p < 1:
            raise ShapeError("shapes.err.dropout", value=layer.p)
        return {"output_shape": shape, "rf": rf}
    if kind == "batchnorm":
        return {"output_shape": shape, "params": 2 * shape[0], "rf": rf}
    if kind == "flatten":
        return {"output_shape": (math.prod(shape),), "rf": None}
    if kind == "linear":
        if len(shape) != 1:
            raise ShapeError("shapes.err.linear_needs_flatten", shape=shape_text(shape))
        out = _positive(layer.out, "out")
        return {"output_shape": (out,), "params": shape[0] * out + out, "macs": shape[0] * out,
                "kernel_shape": (out, shape[0]), "rf": None}
    if len(shape) != 3:
        raise ShapeError("shapes.err.needs_feature_map", kind=kind)
    if kind == "gap":  # global average pooling: each channel's H×W map -> its mean
        return {"output_shape": (shape[0],), "rf": None}
    c, h, w = shape
    (kh, kw), (sh, sw), (dh, dw) = layer.kernel, layer.strides(), layer.dilation
    pad = layer.padding if isinstance(layer.padding, str) else tuple(layer.padding)
    ph, pw = (pad, pad) if isinstance(pad, str) else pad
    if kind == "conv":
        out = _positive(layer.out, "out")
        groups = _positive(layer.groups, "groups")
        if c % groups or out % groups:
            raise ShapeError("shapes.err.groups", groups=groups, c_in=c, c_out=out)
        oh = conv_output_size(h, kh, stride=sh, padding=ph, dilation=dh)
        ow = conv_output_size(w, kw, stride=sw, padding=pw, dilation=dw)
        per_cell = (c // groups) * kh * kw
        result = {"output_shape": (out, oh, ow), "params": out * per_cell + out, "macs": out * oh * ow * per_cell,
                  "kernel_shape": (out, c // groups, kh, kw)}
    else:
        if kind == "avgpool" and (dh, dw) != (1, 1):
            raise ShapeError("shapes.err.avgpool_dilation")
        if isinstance(pad, str):
            raise ShapeError("shapes.err.pool_same")
        oh = pool_output_size(h, kh, stride=sh, padding=ph, dilation=dh, ceil_mode=layer.ceil_mode)
        ow = pool_output_size(w, kw, stride=sw, padding=pw, dilation=dw, ceil_mode=layer.ceil_mode)
        result = {"output_shape": (c, oh, ow)}
    result["exact"] = (conv_output_exact(h, kh, stride=sh, padding=ph, dilation=dh),
                       conv_output_exact(w, kw, stride=sw, padding=pw, dilation=dw))
    if rf is not None:  # r_out = r_in + (D(K-1)) * jump_in; jump_out = jump_in * S
        (rh, rw), (jh, jw) = rf
        rf = ((rh + dh * (kh - 1) * jh, rw + dw * (kw - 1) * jw), (jh * sh, jw * sw))
    result["rf"] = rf
    return result


def _positive(value: object, what: str) -> int:
    v = parse_int(value, what)
    if v < 1:
        raise ShapeError("shapes.err.positive", what=what, value=v)
    if v > MAX_SIZE:
        raise ShapeError("shapes.err.size_too_large", value=v, limit=MAX_SIZE)
    return v


def summarize(layers_or_preset_name: str | Preset | Sequence[Layer], input_shape: Sequence[int] | None = None,
              *, strict: bool = True) -> list[Row]:
    """One :class:`Row` per layer. A layer that cannot run raises :class:`LayerError` (``strict``)
    or, with ``strict=False``, ends the list with a row carrying ``error_key``/``error_params``."""
    layers, shape = _resolve(layers_or_preset_name, input_shape)
    rf: tuple[Pair, Pair] | None = ((1, 1), (1, 1)) if len(shape) == 3 else None
    rows: list[Row] = []
    for index, (layer, name) in enumerate(zip(layers, _default_names(layers))):
        try:
            step = _step(layer, shape, rf)
        except ShapeError as error:
            if strict:
                raise LayerError(error, index=index, name=name) from None
            rows.append(Row(index, name, layer.kind, shape, None, error_key=error.key,
                            error_params=dict(error.params)))
            break
        rf = step.pop("rf")
        rf_hw = rf[0] if rf is not None else None
        rows.append(Row(index, name, layer.kind, shape, receptive_field=max(rf_hw) if rf_hw else None,
                        receptive_field_hw=rf_hw, **step))
        shape = step["output_shape"]
    return rows


def totals(rows: Sequence[Row]) -> dict[str, int]:
    """Summed parameters and MACs of a summary."""
    return {"params": sum(r.params for r in rows), "macs": sum(r.macs for r in rows)}


# ---------------------------------------------------------------------------------------------
# PyTorch: build the equivalent module and verify the summary against it


def _module(layer: Layer, shape: Shape, device: str) -> nn.Module:
    kind, kw = layer.kind, {"device": device}
    if kind == "conv":
        return nn.Conv2d(shape[0], layer.out, layer.kernel, stride=layer.strides(), padding=layer.padding,
                         dilation=layer.dilation, groups=layer.groups, **kw)
    if kind == "maxpool":
        return nn.MaxPool2d(layer.kernel, stride=layer.strides(), padding=layer.padding,
                            dilation=layer.dilation, ceil_mode=layer.ceil_mode)
    if kind == "avgpool":
        return nn.AvgPool2d(layer.kernel, stride=layer.strides(), padding=layer.padding, ceil_mode=layer.ceil_mode)
    if kind == "linear":
        return nn.Linear(shape[0], layer.out, **kw)
    if kind == "batchnorm":
        return (nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d)(shape[0], **kw)
    if kind == "dropout":
        return nn.Dropout(layer.p)
    if kind == "gap":
        return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())  # (B, C, H, W) -> (B, C)
    if kind == "leaky_relu":
        return nn.LeakyReLU(LEAKY_SLOPE)
    return {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "flatten": nn.Flatten}[kind]()


def build_module(layers_or_preset_name: str | Preset | Sequence[Layer], input_shape: Sequence[int] | None = None,
                 *, device: str = "cpu") -> nn.Sequential:
    """The equivalent ``nn.Sequential`` with zero weights (no RNG used), named like the summary rows.

    Refused with ShapeError beyond :data:`MAX_CPU_PARAMS` on the CPU or :data:`MAX_META_PARAMS` on ``meta``.
    """
    rows = summarize(layers_or_preset_name, input_shape)
    layers, _ = _resolve(layers_or_preset_name, input_shape)
    limit = MAX_META_PARAMS if device == "meta" else MAX_CPU_PARAMS
    if totals(rows)["params"] > limit:
        raise ShapeError("shapes.err.too_large", params=totals(rows)["params"], limit=limit)
    names = [r.name if r.name.isidentifier() and not hasattr(nn.Sequential, r.name) else f"layer{r.index}"
             for r in rows]
    names = [n if names.count(n) == 1 else f"{n}_{i}" for i, n in enumerate(names)]
    modules = [_module(layer, row.input_shape, "meta") for layer, row in zip(layers, rows)]
    model = nn.Sequential(OrderedDict(zip(names, modules))).eval()
    if device != "meta":
        model = model.to_empty(device=device)
        with torch.no_grad():
            for tensor in [*model.parameters(), *model.buffers()]:
                tensor.zero_()
            for m in model.modules():  # BatchNorm's running variance: 1 (as after reset)
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.running_var.fill_(1)
    return model


@dataclass(frozen=True)
class Verification:
    """What PyTorch itself says about a network (``skipped_key`` set when it was too large to build)."""

    device: str | None                        # "cpu" (real zero tensor), "meta" (shapes only) or None
    output_shapes: tuple[Shape, ...] = ()     # per layer, from forward hooks, batch dimension dropped
    params: tuple[int, ...] = ()              # per layer, counted from module.parameters()
    total_params: int = 0
    seconds: float = 0.0
    matches: bool = False                     # shapes and parameter counts equal the summary's
    skipped_key: str | None = None
    skipped_params: dict = field(default_factory=dict)


def verify(layers_or_preset_name: str | Preset | Sequence[Layer], input_shape: Sequence[int] | None = None,
           ) -> Verification:
    """Run a zero tensor (batch 1) through :func:`build_module` and count its parameters.

    Small networks run on the CPU; larger ones on PyTorch's ``meta`` device (shapes from PyTorch's own
    shape functions, no memory); beyond :data:`MAX_META_PARAMS` nothing is built (``skipped_key``).
    """
    rows = summarize(layers_or_preset_name, input_shape)
    total = totals(rows)["params"]
    activations = sum(math.prod(r.output_shape) for r in rows)
    if total > MAX_META_PARAMS:
        return Verification(None, skipped_key="shapes.err.too_large",
                            skipped_params={"params": total, "limit": MAX_META_PARAMS})
    device = "cpu" if total <= MAX_CPU_PARAMS and activations <= MAX_CPU_ACTIVATIONS else "meta"
    start = time.perf_counter()
    model = build_module(layers_or_preset_name, input_shape, device=device)
    shapes: list[Shape] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape[1:]))) for m in model]
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Using padding='same'")  # even kernels: a padded copy
            model(torch.zeros((1, *rows[0].input_shape), device=device))
    except (RuntimeError, ValueError, OverflowError) as error:  # e.g. more elements than int64 can count
        return Verification(device, skipped_key="shapes.err.torch_refused",
                            skipped_params={"reason": str(error).splitlines()[0][:300]})
    for h in hooks:
        h.remove()
    params = tuple(sum(p.numel() for p in m.parameters()) for m in model)
    matches = (tuple(shapes) == tuple(r.output_shape for r in rows)
               and params == tuple(r.params for r in rows))
    return Verification(device, tuple(shapes), params, sum(params), time.perf_counter() - start, matches)


def layers_from_records(records: Iterable[dict[str, Any]]) -> list[Layer]:
    """Layers from table rows (a data editor): kind, out, kernel, stride, padding, dilation, groups, ceil_mode.

    Text cells accept ``3``, ``3x5`` or ``same`` (padding); a bad cell raises :class:`LayerError`.
    """
    layers = []
    for index, rec in enumerate(records):
        name = str(rec.get("name") or "").strip()
        try:
            layers.append(_layer_from_record(rec, name))
        except ShapeError as error:
            raise LayerError(error, index=index, name=name or str(index + 1)) from None
    return layers


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def _layer_from_record(rec: dict[str, Any], name: str) -> Layer:
    kind = str(rec.get("kind") or "").strip().lower()
    if kind not in LAYER_KINDS:
        raise ShapeError("shapes.err.unknown_kind", kind=kind or "—")
    out = None if kind not in PARAMETRIC_KINDS else _positive(rec.get("out"), "out")
    if kind not in ("conv", *POOL_KINDS):
        return Layer(kind, out=out, name=name)
    kernel = parse_pair(rec.get("kernel"), "kernel")
    stride = None if _blank(rec.get("stride")) else parse_pair(rec.get("stride"), "stride")
    padding = (0, 0) if _blank(rec.get("padding")) else parse_pair(rec.get("padding"), "padding",
                                                                    allow_same=kind == "conv")
    dilation = (1, 1) if _blank(rec.get("dilation")) else parse_pair(rec.get("dilation"), "dilation")
    ceil_mode = bool(rec.get("ceil_mode")) if not _blank(rec.get("ceil_mode")) else False
    groups = 1 if kind != "conv" or _blank(rec.get("groups")) else _positive(rec.get("groups"), "groups")
    return Layer(kind, out=out, kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                 groups=groups, ceil_mode=ceil_mode, name=name)


def _pair_text(v: Pair | str | None) -> str:
    if v is None or isinstance(v, str):
        return v or ""
    return str(v[0]) if v[0] == v[1] else f"{v[0]}x{v[1]}"


def layers_to_records(layers: Sequence[Layer]) -> list[dict[str, Any]]:
    """The editable table form of ``layers`` (inverse of :func:`layers_from_records` for groups=1)."""
    records = []
    for layer in layers:
        spatial = layer.kind in ("conv", *POOL_KINDS)
        records.append({
            "name": layer.name, "kind": layer.kind, "out": layer.out,
            "kernel": _pair_text(layer.kernel) if spatial else "",
            "stride": _pair_text(layer.stride) if spatial else "",
            "padding": _pair_text(layer.padding) if spatial else "",
            "dilation": _pair_text(layer.dilation) if spatial else "",
            "groups": layer.groups if layer.kind == "conv" else None,
            "ceil_mode": layer.ceil_mode,
        })
    return records


def layer_formula(layer: Layer, n: int, *, axis: int = 0) -> str | None:
    """LaTeX of the output-size formula of a conv/pool ``layer`` on input size ``n`` along ``axis``."""
    if layer.kind not in ("conv", *POOL_KINDS):
        return None
    pad = layer.padding if isinstance(layer.padding, str) else layer.padding[axis]
    return formula_latex(n, layer.kernel[axis], stride=layer.strides()[axis], padding=pad,
                         dilation=layer.dilation[axis], ceil_mode=layer.ceil_mode and layer.kind in POOL_KINDS)


