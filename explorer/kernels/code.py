"""Show me the code: the PyTorch lines that compute what a Kernel lab view shows.

Every function returns Python source that runs as it is (``exec`` with nothing but the names the
docstring lists); the tests run it and compare its result with the app's. Numbers are written with
``repr`` so the code computes with exactly the values in use.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

HEADER = "import torch\nimport torch.nn.functional as F\nfrom torch import nn\n"
_TORCH_MODES = {"reflect": "reflect", "replicate": "replicate", "circular": "circular"}


def number(value: float) -> str:
    """A float literal: ``2.0``, ``-0.5``, ``0.1111111111111111`` (repr: exact)."""
    return repr(float(value))


def tensor(values: np.ndarray, *, indent: int = 0, dtype: str = "") -> str:
    """``torch.tensor([[...], ...])`` of a 1-D to 4-D array, one innermost row per line."""
    a = np.asarray(values, dtype=np.float64)
    pad = " " * (indent + len("torch.tensor("))

    def nested(x: np.ndarray, depth: int) -> str:
        if x.ndim == 1:
            return "[" + ", ".join(number(v) for v in x) + "]"
        sep = ",\n" + pad + " " * (depth + 1)
        return "[" + sep.join(nested(row, depth + 1) for row in x) + "]"

    extra = f", dtype={dtype}" if dtype else ""
    return f"torch.tensor({nested(a, 0)}{extra})"


def _pads(pads: Sequence[int]) -> str:
    top, bottom, left, right = pads
    return f"({left}, {right}, {top}, {bottom})"


def image_code(kernel: np.ndarray, *, pads: Sequence[int], colour: str = "rgb", stride: int = 1,
               padding: int | str = 0, dilation: int = 1, padding_mode: str = "zeros", bias: float = 0.0,
               channel_weights: Sequence[float] = (1 / 3, 1 / 3, 1 / 3), pooling: dict | None = None) -> str:
    """The Kernel lab's image configuration: ``F.conv2d`` (result ``y``) and ``nn.Conv2d`` (``y_module``);
    with ``pooling`` (target "output" or "input", kind "max" or "avg", size, stride, padding) also ``pooled``.

    Runs with ``image``, the picture as a NumPy array (H, W, 3) of 0..255, in its namespace. ``pads`` is
    (top, bottom, left, right), as `explorer.kernels.ops.resolve_padding` gives it.
    """
    kh, kw = np.shape(kernel)
    lines = [HEADER, "# image: your picture as a NumPy array (H, W, 3) with values 0..255"]
    if colour == "gray":
        lines += ["gray = torch.from_numpy(image[..., :3]).float() @ torch.tensor([0.299, 0.587, 0.114])",
                  "x = gray[None, None]  # (1, 1, H, W): one channel"]
        c_in, c_out, groups = 1, 1, 1
        weight = f"kernel.view(1, 1, {kh}, {kw})  # (out, in, kh, kw)"
    else:
        lines.append("x = torch.from_numpy(image[..., :3]).float().permute(2, 0, 1)[None]  # (1, 3, H, W)")
        if colour == "rgb":
            c_in, c_out, groups = 3, 3, 3
            weight = f"kernel.expand(3, 1, {kh}, {kw})  # (3, 1, kh, kw): the same kernel for each colour"
        else:
            c_in, c_out, groups = 3, 1, 1
            scales = ", ".join(number(w) for w in channel_weights)
            weight = (f"(torch.tensor([{scales}]).view(3, 1, 1) * kernel)[None]"
                      "  # (1, 3, kh, kw): one filter through all 3 channels")
    lines += [f"kernel = {tensor(kernel, indent=len('kernel = '))}  # ({kh}, {kw})",
              f"weight = {weight}",
              f"bias = torch.full(({c_out},), {number(bias)})  # one bias per output map"]
    lines += _functional(padding_mode, pads, stride, dilation, groups)
    lines += ["", *_module(f"{c_in}, {c_out}, kernel_size=({kh}, {kw}), stride={stride}", pads=pads, padding=padding,
                           stride=stride, mode=padding_mode, rest=f"dilation={dilation}, groups={groups}")]
    if pooling:
        source = "y" if pooling["target"] == "output" else "x"
        name = "max_pool2d" if pooling["kind"] == "max" else "avg_pool2d"
        lines += ["", f"pooled = F.{name}({source}, kernel_size={pooling['size']}, stride={pooling['stride']}, "
                  f"padding={pooling['padding']})  # pooling the {'feature map' if source == 'y' else 'input'}"]
    return "\n".join(lines) + "\n"


_PAD_MODULES = {"zeros": "nn.ZeroPad2d", "reflect": "nn.ReflectionPad2d", "replicate": "nn.ReplicationPad2d",
                "circular": "nn.CircularPad2d"}


def _module(head: str, *, pads: Sequence[int], padding: int | str, stride: int, mode: str, rest: str) -> list[str]:
    """``nn.Conv2d`` lines (result ``y_module``); uneven "same" padding at stride > 1 needs a padding layer."""
    load = ["with torch.no_grad():", "    conv.weight.copy_(weight)", "    conv.bias.copy_(bias)"]
    if pads[0] == pads[1] and pads[2] == pads[3]:
        return [f"conv = nn.Conv2d({head}, padding=({pads[0]}, {pads[2]}), {rest}, padding_mode={mode!r})",
                *load, "    y_module = conv(x)  # the same numbers as y"]
    if padding == "same" and stride == 1:
        return [f"conv = nn.Conv2d({head}, padding='same', {rest}, padding_mode={mode!r})",
                *load, "    y_module = conv(x)  # the same numbers as y"]
    return [f"pad = {_PAD_MODULES[mode]}({_pads(pads)})  # (left, right, top, bottom)",
            f"conv = nn.Conv2d({head}, {rest})", *load, "    y_module = conv(pad(x))  # the same numbers as y"]


def _functional(mode: str, pads: Sequence[int], stride: int, dilation: int, groups: int) -> list[str]:
    if mode == "zeros" and pads[0] == pads[1] and pads[2] == pads[3]:
        return [f"y = F.conv2d(x, weight, bias, stride={stride}, padding=({pads[0]}, {pads[2]}), "
                f"dilation={dilation}, groups={groups})  # (1, out, OH, OW)"]
    how = f"mode={_TORCH_MODES[mode]!r}" if mode in _TORCH_MODES else "value=0.0"
    return [f"padded = F.pad(x, {_pads(pads)}, {how})  # (left, right, top, bottom)",
            f"y = F.conv2d(padded, weight, bias, stride={stride}, dilation={dilation}, groups={groups})"
            "  # (1, out, OH, OW)"]


def steps_code(matrix: np.ndarray, *, op: str, kernel: np.ndarray | None = None, size: int = 2, stride: int = 1,
               padding: int = 0, bias: float = 0.0) -> str:
    """A step-through example in PyTorch (float64): result ``y`` (OH, OW); conv also ``y_module``."""
    lines = [HEADER, f"x = {tensor(matrix, indent=4, dtype='torch.float64')}[None, None]  # (1, 1, H, W)"]
    if op == "conv":
        kh, kw = np.shape(kernel)
        lines += [f"w = {tensor(kernel, indent=4, dtype='torch.float64')}[None, None]  # (1, 1, {kh}, {kw})",
                  f"b = torch.tensor([{number(bias)}], dtype=torch.float64)",
                  f"y = F.conv2d(x, w, b, stride={stride}, padding={padding})[0, 0]",
                  "",
                  f"conv = nn.Conv2d(1, 1, kernel_size=({kh}, {kw}), stride={stride}, padding={padding}, "
                  "dtype=torch.float64)",
                  "with torch.no_grad():",
                  "    conv.weight.copy_(w)",
                  "    conv.bias.copy_(b)",
                  "    y_module = conv(x)[0, 0]  # the same numbers as y"]
    elif op == "max":
        lines.append(f"y = F.max_pool2d(x, kernel_size={size}, stride={stride}, padding={padding})[0, 0]")
    else:
        lines.append(f"y = F.avg_pool2d(x, kernel_size={size}, stride={stride}, padding={padding})[0, 0]")
    return "\n".join(lines) + "\n"


def im2col_code(x: np.ndarray, filters: np.ndarray, *, stride: int, padding: int, bias: np.ndarray) -> str:
    """im2col with ``F.unfold`` and one matrix product (``out``), checked against ``F.conv2d`` (``y``)."""
    block = np.asarray(x, dtype=np.float64)
    block = block[None] if block.ndim == 2 else block
    f = np.asarray(filters, dtype=np.float64)
    f = f.reshape((1,) * (4 - f.ndim) + f.shape)
    fn, c, kh, kw = f.shape
    return "\n".join([
        HEADER,
        f"x = {tensor(block, indent=4, dtype='torch.float64')}  # (C, H, W) = {block.shape}",
        f"w = {tensor(f, indent=4, dtype='torch.float64')}  # (FN, C, FH, FW) = {f.shape}",
        f"b = {tensor(bias, dtype='torch.float64')}  # (FN,)",
        "",
        f"cols = F.unfold(x[None], ({kh}, {kw}), stride={stride}, padding={padding})[0].T  # (OH*OW, C*FH*FW)",
        f"W = w.reshape({fn}, -1).T  # (C*FH*FW, FN): one filter per column",
        "out = cols @ W + b  # (OH*OW, FN): the whole convolution in one matrix product",
        f"OH = (x.shape[1] + 2 * {padding} - {kh}) // {stride} + 1",
        "out = out.T.reshape(len(w), OH, -1)  # (FN, OH, OW)",
        "",
        f"y = F.conv2d(x[None], w, b, stride={stride}, padding={padding})[0]  # the same numbers as out",
    ]) + "\n"


def transpose_code(image: np.ndarray, kernel: np.ndarray, *, stride: int, padding: int,
                   output_padding: int) -> str:
    """``F.conv_transpose2d`` (``y``) and ``nn.ConvTranspose2d`` (``y_module``) on one channel, float64."""
    kh, kw = np.shape(kernel)
    return "\n".join([
        HEADER,
        f"x = {tensor(image, indent=4, dtype='torch.float64')}[None, None]  # (1, 1, H, W): the input",
        f"w = {tensor(kernel, indent=4, dtype='torch.float64')}[None, None]  # (in, out, {kh}, {kw})",
        f"y = F.conv_transpose2d(x, w, stride={stride}, padding={padding}, "
        f"output_padding={output_padding})[0, 0]  # (OH, OW)",
        "",
        f"up = nn.ConvTranspose2d(1, 1, kernel_size=({kh}, {kw}), stride={stride}, padding={padding}, "
        f"output_padding={output_padding}, bias=False, dtype=torch.float64)",
        "with torch.no_grad():",
        "    up.weight.copy_(w)",
        "    y_module = up(x)[0, 0]  # the same numbers as y",
    ]) + "\n"
