"""Output sizes, parameter counts and receptive fields of CNN layers, with PyTorch as the oracle.

The formula everywhere is PyTorch's (``torch.nn.Conv2d`` / ``MaxPool2d`` docs)::

    O = floor((N + 2P - D*(K - 1) - 1) / S) + 1

Pooling may use ``ceil_mode`` (round up, but the last window must start inside the input or the
left padding). User-facing problems raise :class:`ShapeError`, which carries an i18n key
(``shapes.err.*``) and its format arguments so a page can translate it.
"""

from __future__ import annotations

import math
import numbers
import re
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Iterable, Sequence

import torch
from torch import nn

from explorer.i18n import translate

Pair = tuple[int, int]
Shape = tuple[int, ...]  # (C, H, W) for feature maps, (F,) after flatten

LAYER_KINDS: tuple[str, ...] = (
    "conv", "maxpool", "avgpool", "relu", "sigmoid", "tanh", "flatten", "linear", "dropout", "batchnorm",
)
POOL_KINDS = ("maxpool", "avgpool")
PARAMETRIC_KINDS = ("conv", "linear")   # layers whose `out` (filters / features) must be given
MAX_LAYERS = 200                         # longer lists are refused by summarize()
MAX_SIZE = 1_000_000                     # largest accepted spatial size or channel count
MAX_CPU_PARAMS = 20_000_000              # above: verify on the meta device (no weights allocated)
MAX_CPU_ACTIVATIONS = 50_000_000         # summed output elements for a real CPU forward pass
MAX_META_PARAMS = 10_000_000_000         # above: building/verifying is skipped with a notice


class ShapeError(ValueError):
    """A user-facing shape problem: ``key`` is an i18n key, ``params`` its format arguments."""

    def __init__(self, key: str, /, **params: object) -> None:
        super().__init__(translate(key, "en", **params) if params else translate(key, "en"))
        self.key = key
        self.params = params


class LayerError(ShapeError):
    """A :class:`ShapeError` raised at layer ``index`` (0-based) named ``name`` of a network."""

    def __init__(self, error: ShapeError, *, index: int, name: str) -> None:
        super().__init__(error.key, **error.params)
        self.index = index
        self.name = name


# ---------------------------------------------------------------------------------------------
# One axis: the output-size formula


def _int(value: object, what: str) -> int:
    """``value`` as an int, or a ShapeError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer():
            return int(value)
        raise ShapeError("shapes.err.not_integer", what=what, value=value)
    return int(value)


def _check(n: object, kernel: object, stride: object, padding: object, dilation: object,
           ) -> tuple[int, int, int, int | str, int]:
    n, kernel, stride, dilation = (_int(n, "N"), _int(kernel, "K"), _int(stride, "S"), _int(dilation, "D"))
    if n < 1:
        raise ShapeError("shapes.err.size", value=n)
    if n > MAX_SIZE:
        raise ShapeError("shapes.err.size_too_large", value=n, limit=MAX_SIZE)
    if kernel < 1:
        raise ShapeError("shapes.err.kernel", value=kernel)
    if stride < 1:
        raise ShapeError("shapes.err.stride", value=stride)
    if dilation < 1:
        raise ShapeError("shapes.err.dilation", value=dilation)
    for value in (kernel, stride, dilation, padding if isinstance(padding, numbers.Integral) else 0):
        if value > MAX_SIZE:
            raise ShapeError("shapes.err.size_too_large", value=value, limit=MAX_SIZE)
    if isinstance(padding, str):
        if padding.strip().lower() != "same":
            raise ShapeError("shapes.err.not_integer", what="P", value=padding)
        if stride != 1:
            raise ShapeError("shapes.err.same_stride", stride=stride)
        return n, kernel, stride, "same", dilation
    padding = _int(padding, "P")
    if padding < 0:
        raise ShapeError("shapes.err.padding", value=padding)
    return n, kernel, stride, padding, dilation


def _span(n: int, kernel: int, padding: int, dilation: int) -> int:
    """How far the window's first cell can travel: N + 2P - D(K-1) - 1 (must be >= 0)."""
    window = dilation * (kernel - 1) + 1
    span = n + 2 * padding - window
    if span < 0:
        raise ShapeError("shapes.err.window", window=window, padded=n + 2 * padding, n=n, padding=padding)
    return span


def conv_output_exact(n: int, kernel: int, *, stride: int = 1, padding: int | str = 0,
                      dilation: int = 1) -> Fraction:
    """(N + 2P - D(K-1) - 1) / S + 1 before flooring: ``Fraction(59, 2)`` for 64/7/2/0."""
    n, kernel, stride, padding, dilation = _check(n, kernel, stride, padding, dilation)
    if padding == "same":
        return Fraction(n)
    return Fraction(_span(n, kernel, padding, dilation), stride) + 1


def conv_output_size(n: int, kernel: int, *, stride: int = 1, padding: int | str = 0,
                     dilation: int = 1) -> int:
    """Output size of ``nn.Conv2d`` along one axis (PyTorch floors); ShapeError if impossible."""
    return math.floor(conv_output_exact(n, kernel, stride=stride, padding=padding, dilation=dilation))


def pool_output_size(n: int, kernel: int, *, stride: int | None = None, padding: int = 0,
                     dilation: int = 1, ceil_mode: bool = False) -> int:
    """Output size of ``nn.MaxPool2d``/``AvgPool2d`` along one axis (stride defaults to kernel)."""
    stride = kernel if stride is None else stride
    if isinstance(padding, str) and padding.strip().lower() == "same":
        raise ShapeError("shapes.err.pool_same")
    n, kernel, stride, padding, dilation = _check(n, kernel, stride, padding, dilation)
    if padding > kernel // 2:
        raise ShapeError("shapes.err.pool_padding", padding=padding, kernel=kernel, limit=kernel // 2)
    window = dilation * (kernel - 1) + 1
    # PyTorch's pooling_output_shape: floor division (also of a negative numerator), optionally rounded up
    out = (n + 2 * padding - window + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= n + padding:  # the last window would start in the right padding
        out -= 1
    if out < 1:
        raise ShapeError("shapes.err.window", window=window, padded=n + 2 * padding, n=n, padding=padding)
    return out


@dataclass(frozen=True)
class Fit:
    """How one axis of a conv/pool window fits, and what would make it fit evenly."""

    n: int
    kernel: int
    stride: int
    padding: int
    dilation: int
    exact: Fraction                     # unfloored (N + 2P - D(K-1) - 1)/S + 1
    output: int                         # what PyTorch gives (floor)
    remainder: int                      # trailing cells of the padded input no window reaches
    ignored_input: int                  # of those, real input pixels (not padding)
    paddings: tuple[tuple[int, int], ...]   # (padding, output) that fit evenly, nearest first
    strides: tuple[tuple[int, int], ...]    # (stride, output)
    kernels: tuple[tuple[int, int], ...]    # (kernel, output)
    sizes: tuple[tuple[int, int], ...]      # (input size, output)

    @property
    def fits(self) -> bool:
        return self.remainder == 0


def _nearest(candidates: Iterable[int], current: int, out: Any, how_many: int = 2) -> tuple[tuple[int, int], ...]:
    found = sorted((abs(c - current), c) for c in candidates if c != current)
    return tuple((c, out(c)) for _, c in found[:how_many])


def explain_fit(n: int, kernel: int, *, stride: int = 1, padding: int = 0, dilation: int = 1) -> Fit:
    """Why (N + 2P - D(K-1) - 1)/S is or is not whole, and the nearest settings that fit."""
    n, kernel, stride, padding, dilation = _check(n, kernel, stride, padding, dilation)
    if padding == "same":
        padding = (dilation * (kernel - 1)) // 2
    span = _span(n, kernel, padding, dilation)
    remainder = span % stride

    def span_of(*, m: int = n, p: int = padding, k: int = kernel) -> int:
        return m + 2 * p - dilation * (k - 1) - 1

    def even(s: int = stride, **changed: int) -> bool:
        return span_of(**changed) >= 0 and span_of(**changed) % s == 0

    def out(s: int = stride, **changed: int) -> int:
        return span_of(**changed) // s + 1

    suggestions = {} if not remainder else {
        "paddings": _nearest((p for p in range(0, padding + stride + 1) if even(p=p)), padding,
                             lambda p: out(p=p)),
        "strides": _nearest((s for s in range(1, min(max(span, 1), 2 * stride + 16) + 1) if even(s)), stride, out),
        "kernels": _nearest((k for k in range(max(1, kernel - stride), kernel + stride + 1) if even(k=k)), kernel,
                            lambda k: out(k=k)),
        "sizes": _nearest((m for m in range(max(1, n - stride), n + stride + 1) if even(m=m)), n,
                          lambda m: out(m=m)),
    }
    return Fit(n=n, kernel=kernel, stride=stride, padding=padding, dilation=dilation,
               exact=Fraction(span, stride) + 1, output=span // stride + 1, remainder=remainder,
               ignored_input=max(0, remainder - padding),
               **{k: suggestions.get(k, ()) for k in ("paddings", "strides", "kernels", "sizes")})


def formula_latex(n: int, kernel: int, *, stride: int = 1, padding: int | str = 0, dilation: int = 1,
                  ceil_mode: bool = False) -> str:
    """The output-size formula with the numbers filled in, as LaTeX (no words)."""
    n_, k, s, p, d = _check(n, kernel, stride, padding, dilation)
    if p == "same":
        p = (d * (k - 1)) // 2
        extra = d * (k - 1) - 2 * p   # PyTorch pads one more on the bottom/right when odd
        top = f"{n_} + {2 * p + extra} - {d}\\cdot({k}-1) - 1"
    else:
        top = f"{n_} + 2\\cdot{p} - {d}\\cdot({k}-1) - 1"
        _span(n_, k, p, d)
    exact = conv_output_exact(n, kernel, stride=stride, padding=padding, dilation=dilation) - 1
    lo, hi = (r"\left\lceil ", r"\right\rceil") if ceil_mode else (r"\left\lfloor ", r"\right\rfloor")
    value = _fraction_latex(exact)
    result = (pool_output_size(n, kernel, stride=stride, padding=p, dilation=dilation, ceil_mode=True)
              if ceil_mode else math.floor(exact) + 1)
    return (f"O = {lo}\\frac{{{top}}}{{{s}}}{hi} + 1 = {lo}{value}{hi} + 1 = {result}")


def _fraction_latex(x: Fraction) -> str:
    if x.denominator == 1:
        return str(x.numerator)
    decimal = f"{float(x):.4f}".rstrip("0").rstrip(".")
    return f"\\tfrac{{{x.numerator}}}{{{x.denominator}}} \\approx {decimal}" if x.denominator > 2 else decimal


def parse_int(text: object, what: str) -> int:
    """A whole number typed by a user (``" 3 "``), or ShapeError ``shapes.err.not_integer``."""
    if isinstance(text, str):
        s = text.strip()
        if not re.fullmatch(r"[+-]?\d{1,12}", s):
            raise ShapeError("shapes.err.not_integer", what=what, value=text)
        return int(s)
    if text is None or (isinstance(text, float) and math.isnan(text)):
        raise ShapeError("shapes.err.missing", what=what)
    return _int(text, what)


def parse_shape(text: str, what: str) -> Shape:
    """A typed shape such as ``"1×28×28"`` or ``"1x28x28"``; ShapeError for a non-numeric part."""
    return tuple(parse_int(x, what) for x in text.replace("x", "×").split("×"))


def shape_text(shape: Sequence[int] | None) -> str:
    """``(1, 28, 28)`` → ``"1×28×28"`` (empty for None)."""
    return "×".join(map(str, shape or ()))


def parse_pair(text: object, what: str, *, allow_same: bool = False) -> Pair | str:
    """``"3"`` → (3, 3); ``"3x5"``/``"3,5"`` → (3, 5); ``"same"`` if allowed; else ShapeError."""
    if isinstance(text, str):
        s = text.strip().lower()
        if allow_same and s == "same":
            return "same"
        parts = [x for x in re.split(r"\s*[x×,*]\s*|\s+", s) if x]
        if len(parts) in (1, 2):
            h, w = (parse_int(x, what) for x in (parts * 2)[:2])
            return (h, w)
        raise ShapeError("shapes.err.not_integer", what=what, value=text)
    if isinstance(text, tuple) and len(text) == 2:
        return (_int(text[0], what), _int(text[1], what))
    v = parse_int(text, what)
    return (v, v)


# ---------------------------------------------------------------------------------------------
# Layers and networks


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
    if kind in ("relu", "sigmoid", "tanh", "dropout"):
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


@dataclass(frozen=True)
class Example:
    """A worked example of the lectures: input (h, w), kernel (kh, kw), stride, padding and the answer."""

    h: int
    w: int
    kh: int
    kw: int
    stride: int
    padding: int
    answer: Pair    # what PyTorch gives (the lecture says "cannot" for 7/3/3: it does not fit evenly)


WORKED_EXAMPLES: tuple[Example, ...] = (
    Example(227, 227, 11, 11, 4, 0, (55, 55)),
    Example(64, 64, 7, 7, 2, 0, (29, 29)),      # 29.5, floored
    Example(32, 32, 5, 5, 1, 2, (32, 32)),
    Example(32, 64, 5, 5, 1, 0, (28, 60)),
    Example(64, 32, 3, 3, 1, 1, (64, 32)),
    Example(7, 7, 3, 3, 1, 0, (5, 5)),
    Example(7, 7, 3, 3, 2, 0, (3, 3)),
    Example(7, 7, 3, 3, 3, 0, (2, 2)),          # "cannot": 4/3 + 1
    Example(28, 31, 5, 5, 3, 2, (10, 11)),
    Example(4, 4, 3, 3, 1, 1, (4, 4)),
)


def parse_padding(text: object, what: str = "P") -> int | str:
    """A typed padding: a whole number or ``"same"`` (any case, spaces ignored)."""
    if isinstance(text, str) and text.strip().lower() == "same":
        return "same"
    return parse_int(text, what)


def calculate(size: Pair, kernel: Pair, *, stride: int = 1, padding: int | str = 0, dilation: int = 1,
              op: str = "conv", ceil_mode: bool = False) -> dict[str, tuple[int, str, Fit]]:
    """The calculator: per axis ("h", "w") the output size, the filled-in formula and the fit explanation.

    ``op`` is "conv", "maxpool" or "avgpool"; ``ceil_mode`` applies to pooling only.
    """
    if op not in ("conv", *POOL_KINDS):
        raise ShapeError("shapes.err.unknown_kind", kind=op)
    if op == "avgpool" and dilation != 1:
        raise ShapeError("shapes.err.avgpool_dilation")
    pool, ceil = op != "conv", ceil_mode and op != "conv"
    result = {}
    for axis, n, k in (("h", size[0], kernel[0]), ("w", size[1], kernel[1])):
        args = {"stride": stride, "padding": padding, "dilation": dilation}
        out = pool_output_size(n, k, ceil_mode=ceil, **args) if pool else conv_output_size(n, k, **args)
        result[axis] = (out, formula_latex(n, k, ceil_mode=ceil, **args), explain_fit(n, k, **args))
    return result
