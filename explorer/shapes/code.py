"""Show me the code: the PyTorch lines behind each Shapes view.

Every function returns Python source that runs as it is (``exec`` with nothing but the names its
docstring lists) and leaves its result in named variables; the tests run it and compare with the page's
numbers. The input tensors are zeros: only shapes and counts are asked for.
"""

from __future__ import annotations

from typing import Sequence

from explorer.shapes.network import LEAKY_SLOPE, Layer
from explorer.shapes.sizes import POOL_KINDS, Pair

HEADER = "import torch\nfrom torch import nn\n"


def _pair(v: Pair | str | None) -> str:
    if v is None or isinstance(v, str):
        return repr(v)
    return str(v[0]) if v[0] == v[1] else f"({v[0]}, {v[1]})"


def layer_code(layer: Layer, in_channels: int | None, in_features: int | None) -> str:
    """The ``nn`` module of one layer (its input's channels or features given)."""
    kind = layer.kind
    if kind == "conv":
        extra = "".join(f", {name}={_pair(value)}" for name, value, default in (
            ("stride", layer.strides(), (1, 1)), ("padding", layer.padding, (0, 0)),
            ("dilation", layer.dilation, (1, 1))) if value != default)
        groups = f", groups={layer.groups}" if layer.groups != 1 else ""
        return f"nn.Conv2d({in_channels}, {layer.out}, kernel_size={_pair(layer.kernel)}{extra}{groups})"
    if kind in POOL_KINDS:
        name = "nn.MaxPool2d" if kind == "maxpool" else "nn.AvgPool2d"
        extra = f", stride={_pair(layer.strides())}" if layer.strides() != layer.kernel else ""
        extra += f", padding={_pair(layer.padding)}" if layer.padding != (0, 0) else ""
        extra += f", dilation={_pair(layer.dilation)}" if kind == "maxpool" and layer.dilation != (1, 1) else ""
        extra += ", ceil_mode=True" if layer.ceil_mode else ""
        return f"{name}(kernel_size={_pair(layer.kernel)}{extra})"
    if kind == "linear":
        return f"nn.Linear({in_features}, {layer.out})"
    if kind == "batchnorm":
        return f"nn.BatchNorm2d({in_channels})" if in_features is None else f"nn.BatchNorm1d({in_features})"
    if kind == "dropout":
        return f"nn.Dropout({layer.p})"
    if kind == "gap":
        return "nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())"
    if kind == "leaky_relu":
        return f"nn.LeakyReLU({LEAKY_SLOPE})"
    return {"relu": "nn.ReLU()", "sigmoid": "nn.Sigmoid()", "tanh": "nn.Tanh()", "flatten": "nn.Flatten()"}[kind]


def network_code(layers: Sequence[Layer], shapes: Sequence[Sequence[int]]) -> str:
    """``model = nn.Sequential(...)`` and a zero batch through it (``y``); ``shapes`` are the layers' input shapes."""
    lines = [HEADER, "model = nn.Sequential("]
    for layer, shape in zip(layers, shapes):
        channels, features = (shape[0], None) if len(shape) == 3 else (None, shape[0])
        name = f"  # {layer.name}" if layer.name else ""
        lines.append(f"    {layer_code(layer, channels, features)},{name}")
    first = ", ".join(str(v) for v in shapes[0])
    lines += [")", f"x = torch.zeros(1, {first})  # (N, C, H, W): a batch of one",
              "y = model(x)",
              "print(y.shape)",
              "print(sum(p.numel() for p in model.parameters()), 'parameters')"]
    return "\n".join(lines) + "\n"


def calc_code(op: str, *, h: int, w: int, kernel: Pair, stride: int, padding: int | str, dilation: int,
              ceil: bool) -> str:
    """One conv or pooling layer on a zero H×W input (``y``): its output shape is the calculator's answer."""
    pad = repr(padding) if isinstance(padding, str) else str(padding)
    if op == "conv":
        layer = (f"nn.Conv2d(1, 1, kernel_size={_pair(kernel)}, stride={stride}, padding={pad}, "
                 f"dilation={dilation})")
    elif op == "maxpool":
        layer = (f"nn.MaxPool2d(kernel_size={_pair(kernel)}, stride={stride}, padding={pad}, dilation={dilation}, "
                 f"ceil_mode={ceil})")
    else:
        layer = f"nn.AvgPool2d(kernel_size={_pair(kernel)}, stride={stride}, padding={pad}, ceil_mode={ceil})"
    return "\n".join([HEADER, f"layer = {layer}",
                      f"x = torch.zeros(1, 1, {h}, {w})  # (N, C, H, W)",
                      "y = layer(x)",
                      "print(y.shape)  # (N, C, OH, OW)"]) + "\n"


def block_code(*, n: int, c: int, h: int, w: int, fn: int, kernel: Pair, stride: int, padding: int) -> str:
    """The blocks of one conv layer: weight (FN, C, FH, FW), bias (FN,), input and output (``y``)."""
    return "\n".join([
        HEADER,
        f"conv = nn.Conv2d({c}, {fn}, kernel_size={_pair(kernel)}, stride={stride}, padding={padding})",
        "print(conv.weight.shape)  # (FN, C, FH, FW): FN filters, each C × FH × FW",
        "print(conv.bias.shape)    # (FN,): one bias per filter",
        f"x = torch.zeros({n}, {c}, {h}, {w})  # (N, C, H, W)",
        "y = conv(x)",
        "print(y.shape)  # (N, FN, OH, OW)",
    ]) + "\n"


def grouped_code(*, c_in: int, c_out: int, k: int, groups: int, out_h: int, out_w: int) -> str:
    """Standard, grouped and depthwise + pointwise layers with their parameter counts (``counts``)."""
    return "\n".join([
        HEADER,
        f"standard = nn.Conv2d({c_in}, {c_out}, kernel_size={k})",
        f"grouped = nn.Conv2d({c_in}, {c_out}, kernel_size={k}, groups={groups})",
        f"depthwise = nn.Conv2d({c_in}, {c_in}, kernel_size={k}, groups={c_in})  # one {k}×{k} filter per channel",
        f"pointwise = nn.Conv2d({c_in}, {c_out}, kernel_size=1)  # 1×1: mixes the channels",
        "separable = nn.Sequential(depthwise, pointwise)",
        "",
        "def count(m):",
        "    return sum(p.numel() for p in m.parameters())",
        "",
        "counts = {name: count(m) for name, m in [('standard', standard), ('grouped', grouped),",
        "                                         ('depthwise', depthwise), ('pointwise', pointwise),",
        "                                         ('separable', separable)]}",
        "print(counts)",
        f"x = torch.zeros(1, {c_in}, {out_h + k - 1}, {out_w + k - 1})  # gives {out_h}×{out_w} outputs",
        "print(standard(x).shape == separable(x).shape)  # same output shape, far fewer weights",
    ]) + "\n"


def mixing_code(*, weights: Sequence[Sequence[float]], bias: Sequence[float], pixel: Sequence[float]) -> str:
    """A 1×1 convolution is a matrix times each pixel's channel vector: ``y`` (conv) and ``mixed`` (matrix)."""
    w = "[" + ", ".join("[" + ", ".join(repr(float(v)) for v in row) + "]" for row in weights) + "]"
    b = "[" + ", ".join(repr(float(v)) for v in bias) + "]"
    p = "[" + ", ".join(repr(float(v)) for v in pixel) + "]"
    fn, c = len(weights), len(weights[0])
    return "\n".join([
        HEADER,
        f"W = torch.tensor({w}, dtype=torch.float64)  # (FN, C) = ({fn}, {c})",
        f"b = torch.tensor({b}, dtype=torch.float64)  # (FN,)",
        f"conv = nn.Conv2d({c}, {fn}, kernel_size=1, dtype=torch.float64)",
        "with torch.no_grad():",
        f"    conv.weight.copy_(W.view({fn}, {c}, 1, 1))",
        "    conv.bias.copy_(b)",
        f"    pixel = torch.tensor({p}, dtype=torch.float64)  # one pixel's C channel values",
        f"    y = conv(pixel.view(1, {c}, 1, 1)).view(-1)  # (FN,)",
        "    mixed = W @ pixel + b  # the same numbers: a 1×1 convolution mixes channels",
    ]) + "\n"


def erf_code(*, index: int, row: int, col: int) -> str:
    """The effective receptive field (``erf``); runs with ``model`` (the seed CNN) and ``images`` (N, 1, 28, 28)."""
    return "\n".join([
        HEADER,
        "# model: the trained seed CNN; images: test digits (N, 1, 28, 28) with values 0..1",
        "x = images.clone().requires_grad_(True)",
        f"out = model.features[:{index + 1}](x)  # (N, C, h, w): up to this layer",
        f"unit = out[:, :, {row}, {col}].sum()  # all channels at (row {row}, column {col})",
        "(grad,) = torch.autograd.grad(unit, x)",
        "erf = grad.abs().mean(dim=0)[0]  # (28, 28): zero outside the receptive field",
    ]) + "\n"


def shared_code(*, n: int, k: int, stride: int) -> str:
    """The convolution and the fully connected layer between the same nodes (``conv``, ``fc``), their
    parameter counts (``counts``) and the convolution's edges found with one-hot inputs (``edges``)."""
    return "\n".join([
        HEADER,
        f"conv = nn.Conv2d(1, 1, kernel_size={k}, stride={stride})  # {k}×{k} shared weights + 1 bias",
        f"O = ({n} - {k}) // {stride} + 1  # outputs per side",
        f"fc = nn.Linear({n * n}, O * O)  # one weight per (input, output) pair + one bias per output",
        "counts = {'conv': sum(p.numel() for p in conv.parameters()), 'fc': sum(p.numel() for p in fc.parameters())}",
        "print(counts)",
        "",
        "# which input node reaches which output node through which weight: weights 1..K², one-hot inputs",
        "with torch.no_grad():",
        f"    conv.weight.copy_(torch.arange(1.0, {k * k + 1}).view(1, 1, {k}, {k}))",
        f"    one_hot = torch.eye({n * n}).view({n * n}, 1, {n}, {n})",
        f"    y = torch.nn.functional.conv2d(one_hot, conv.weight, stride={stride}).view({n * n}, -1)",
        "edges = [(s + 1, t + 1, int(y[s, t])) for s, t in torch.nonzero(y).tolist()]  # (input, output, W number)",
    ]) + "\n"
