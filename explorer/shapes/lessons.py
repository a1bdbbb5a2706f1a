"""What the Shapes page's lesson views show (blocks and depth, receptive fields, grouped convolutions,
shared weights, AlexNet's 224 or 227, the network diagram and the PyTorch code), as plain data.

A view is a list of *blocks* the page draws in order: ``("markdown" | "latex" | "caption" | "info", text)``,
``("code", python source)``, ``("table", records, key)``, ``("metrics", [(label, value), ...])``,
``("figures", [(figure, key, config), ...])`` (a row of figures) and ``("select", figure, key)`` (a figure
whose points can be clicked). Texts come translated into ``lang``; impossible settings raise ShapeError.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from explorer.core.i18n import translate
from explorer.shapes import alexnet, code, grouped, receptive, shared
from explorer.shapes import plots as sp
from explorer.shapes.network import Layer, Row
from explorer.shapes.sizes import conv_output_size, parse_padding, shape_text

Block = tuple[Any, ...]
MAX_CLICKABLE = 64 * 64  # a later layer is drawn as clickable points up to this many units
NO_BAR = {"displayModeBar": False}


def _t(key: str, lang: str, **params: Any) -> str:
    return translate(f"shapes.{key}", lang, **params)


# ---------------------------------------------------------------------------------------------
# Blocks and depth (seed 001, "블록으로 생각하기")

BLOCK_DEFAULTS = {"n": 1, "c": 3, "h": 32, "w": 32, "fn": 10, "fh": 5, "fw": 5, "stride": 1, "padding": 2}


def blocks_view(values: Mapping[str, int], *, lang: str) -> list[Block]:
    """One conv layer as blocks: input (N, C, H, W) ⊛ FN filters (C, FH, FW) + bias (FN, 1, 1) → (N, FN, OH, OW)."""
    v = dict(values)
    oh = conv_output_size(v["h"], v["fh"], stride=v["stride"], padding=v["padding"])
    ow = conv_output_size(v["w"], v["fw"], stride=v["stride"], padding=v["padding"])
    n, c, fn = v["n"], v["c"], v["fn"]
    side = 130.0 / max(v["h"], v["w"], v["fh"], v["fw"])
    shown = min(fn, 4)
    blocks = [
        sp.Block("input", v["w"] * side, v["h"] * side, sp.depth_px(c),
                 _t("blocks.input", lang, shape=f"({n}, {c}, {v['h']}, {v['w']})"), copies=min(n, 3)),
        sp.Block("filter", max(v["fw"] * side, 4), max(v["fh"] * side, 4), sp.depth_px(c),
                 _t("blocks.filters", lang, shape=f"({fn}, {c}, {v['fh']}, {v['fw']})"), copies=shown),
        sp.Block("bias", 4, 4, sp.depth_px(fn), _t("blocks.bias", lang, shape=f"({fn}, 1, 1)")),
        sp.Block("output", ow * side, oh * side, sp.depth_px(fn),
                 _t("blocks.output", lang, shape=f"({n}, {fn}, {oh}, {ow})"), copies=min(n, 3)),
    ]
    params = fn * c * v["fh"] * v["fw"] + fn
    latex = (rf"\underbrace{{({n}, {c}, {v['h']}, {v['w']})}}_{{N,\,C,\,H,\,W}} \circledast "
             rf"\underbrace{{({fn}, {c}, {v['fh']}, {v['fw']})}}_{{FN,\,C,\,FH,\,FW}} + "
             rf"\underbrace{{({fn}, 1, 1)}}_{{b}} \rightarrow "
             rf"\underbrace{{({n}, {fn}, {oh}, {ow})}}_{{N,\,FN,\,OH,\,OW}}")
    figure = sp.row_figure(blocks, between=("⊛", "+", "→"), width=900)
    return [("latex", latex),
            ("figures", [(figure, "shapes.blocks.figure", sp.png_config("conv_blocks"))]),
            ("caption", _t("blocks.caption", lang, shown=shown, fn=fn)),
            ("metrics", [(_t("blocks.weights", lang), f"{fn * c * v['fh'] * v['fw']:,}"),
                         (_t("blocks.params", lang), f"{params:,}"),
                         (_t("blocks.values", lang), f"{n * fn * oh * ow:,}")]),
            ("code", code.block_code(n=n, c=c, h=v["h"], w=v["w"], fn=fn, kernel=(v["fh"], v["fw"]),
                                     stride=v["stride"], padding=v["padding"]))]


# 1x1 convolution mixes channels: a 3-channel 4x4 input, two 1x1 filters (fixed numbers, easy to multiply)
MIX_INPUT = np.fromfunction(lambda c, i, j: (c + i + 2 * j) % 5, (3, 4, 4))  # (C, H, W)
MIX_WEIGHTS = np.array([[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]])  # (FN, C)
MIX_BIAS = np.array([0.0, 1.0])  # (FN,)


def mixing(row: int, col: int) -> tuple[np.ndarray, np.ndarray]:
    """(the pixel's channel vector (C,), the 1×1 convolution's output maps (FN, H, W)) by ``F.conv2d``."""
    x = torch.tensor(MIX_INPUT)[None]
    w = torch.tensor(MIX_WEIGHTS)[:, :, None, None]
    y = F.conv2d(x, w, torch.tensor(MIX_BIAS))[0].numpy()
    return MIX_INPUT[:, row, col], y


def mixing_view(row: int, col: int, *, lang: str) -> list[Block]:
    """The 1×1 convolution at pixel (row, col) as a matrix times the pixel's channels."""
    pixel, out = mixing(row, col)
    vec = r"\\".join(_num(v) for v in pixel)
    mat = r"\\".join(" & ".join(_num(v) for v in r) for r in MIX_WEIGHTS)
    res = r"\\".join(_num(v) for v in out[:, row, col])
    bias = r"\\".join(_num(v) for v in MIX_BIAS)
    latex = (rf"\begin{{pmatrix}}{mat}\end{{pmatrix}}\begin{{pmatrix}}{vec}\end{{pmatrix}} + "
             rf"\begin{{pmatrix}}{bias}\end{{pmatrix}} = \begin{{pmatrix}}{res}\end{{pmatrix}}")
    ins = [(sp.number_grid(MIX_INPUT[c], title=_t("blocks.channel", lang, c=c), window=(row, col, 1, 1)),
            f"shapes.mix.in.{c}", NO_BAR) for c in range(MIX_INPUT.shape[0])]
    outs = [(sp.number_grid(out[f], title=_t("blocks.map", lang, f=f + 1), window=(row, col, 1, 1),
                             colorscale="Oranges"),
             f"shapes.mix.out.{f}", NO_BAR) for f in range(out.shape[0])]
    return [("markdown", _t("blocks.mix", lang, c=MIX_INPUT.shape[0], fn=out.shape[0])), ("figures", ins),
            ("latex", latex), ("figures", outs), ("caption", _t("blocks.mix_note", lang)),
            ("code", code.mixing_code(weights=MIX_WEIGHTS.tolist(), bias=MIX_BIAS.tolist(), pixel=pixel.tolist()))]


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


# ---------------------------------------------------------------------------------------------
# The whole network as blocks, and its code

def network_view(rows: Sequence[Row], layers: Sequence[Layer], input_shape: Sequence[int], *,
                 lang: str) -> list[Block]:
    """The LeNet/AlexNet-style diagram of the table (PNG from the camera button) and its nn.Sequential."""
    good = [r for r in rows if r.error_key is None]
    names = {"input": _t("blocks.input_word", lang)}
    blocks = sp.network_blocks(good, input_shape=input_shape, kind_name=lambda k: names.get(k, k))
    figure = sp.row_figure(blocks, stagger=len(blocks) > 8, width=1100)
    out = [("figures", [(figure, "shapes.net.blocks", sp.png_config("network"))]),
           ("caption", _t("net.blocks_caption", lang))]
    if len(good) == len(rows):
        out.append(("code", code.network_code(layers, [r.input_shape for r in rows])))
    return out


# ---------------------------------------------------------------------------------------------
# Receptive field you can click

def units_key(name: str, index: int) -> str:
    """The widget key of a layer's clickable units (one per layer: a click is read on the next run)."""
    return f"shapes.rf.units.{name}.{index}"


def receptive_view(name: str, index: int, row: int, col: int, *, lang: str) -> list[Block]:
    """The chosen unit's box on the input (PyTorch-checked), and for the trained seed CNN its effective
    receptive field. Impossible units raise ShapeError."""
    shape, layers = receptive.NETWORKS[name]
    spatial = {i: (n, s) for i, n, s in receptive.spatial_layers(name)}
    layer_name, (_, oh, ow) = spatial[index]
    box = receptive.receptive_box(layers, shape, index, row, col)
    clipped = box.clipped(shape[1], shape[2])
    checked = receptive.checked(name, index, row, col)
    b = (box.top, box.left, box.bottom, box.right)
    c = (clipped.top, clipped.left, clipped.bottom, clipped.right)
    units_title = _t("rf.units", lang, name=layer_name, shape=f"{oh}×{ow}")
    out: list[Block] = [("markdown", _t("rf.summary", lang, name=layer_name, row=row, col=col, h=box.size[0],
                                        w=box.size[1], top=box.top, left=box.left, bottom=box.bottom,
                                        right=box.right, ch=clipped.size[0], cw=clipped.size[1]))]
    input_fig = sp.receptive_figure(shape[1], shape[2], b, c, title=_t("rf.input", lang, shape=shape_text(shape)))
    if oh * ow <= MAX_CLICKABLE:
        out.append(("select", sp.units_figure(oh, ow, (row, col), title=units_title), units_key(name, index),
                    input_fig))
    else:
        out += [("caption", _t("rf.too_many", lang, n=f"{oh * ow:,}")),
                ("figures", [(input_fig, "shapes.rf.input", NO_BAR)])]
    out.append(("caption", _t("rf.checked" if checked else "rf.unchecked", lang)))
    if name == receptive.TRAINED:
        erf = receptive.bundled_erf(index, row, col)
        out += [("markdown", _t("rf.erf", lang, images=receptive.ERF_IMAGES)),
                ("figures", [(sp.receptive_figure(shape[1], shape[2], b, c, background=erf,
                                                  title=_t("rf.erf_title", lang)), "shapes.rf.erf", NO_BAR)]),
                ("caption", _t("rf.erf_note", lang)),
                ("code", code.erf_code(index=index, row=row, col=col))]
    return out


# ---------------------------------------------------------------------------------------------
# Grouped and depthwise-separable convolutions

GROUP_DEFAULTS = {"c_in": 64, "c_out": 128, "k": 3, "size": 56}


def grouped_view(values: Mapping[str, int], groups: int, *, lang: str,
                 checks: Mapping[str, tuple[int, int]]) -> list[Block]:
    """Parameters and MACs of the chosen ``groups`` against standard and depthwise + pointwise, each with
    PyTorch's own count (``checks``: name -> (params, MACs) from `grouped.torch_counts`)."""
    c_in, c_out, k, size = values["c_in"], values["c_out"], values["k"], values["size"]
    sep = grouped.separable(c_in, c_out, k, out_h=size, out_w=size)
    rows = {
        "standard": (sep.standard_params, sep.standard_macs),
        "grouped": (grouped.conv_params(c_in, c_out, k, groups=groups),
                    grouped.conv_macs(c_in, c_out, k, out_h=size, out_w=size, groups=groups)),
        "depthwise": (sep.depthwise_params, sep.depthwise_macs),
        "pointwise": (sep.pointwise_params, sep.pointwise_macs),
        "separable": (sep.separable_params, sep.separable_macs),
    }
    cols = [_t(f"grp.col.{c}", lang) for c in ("layer", "shape", "params", "macs", "ratio", "torch")]
    shapes = {"standard": f"{c_in}→{c_out}, {k}×{k}", "grouped": f"{c_in}→{c_out}, {k}×{k}, g={groups}",
              "depthwise": f"{c_in}→{c_in}, {k}×{k}, g={c_in}", "pointwise": f"{c_in}→{c_out}, 1×1",
              "separable": f"{c_in}→{c_in}→{c_out}"}
    records = [dict(zip(cols, (_t(f"grp.row.{name}", lang), shapes[name], f"{p:,}", f"{m:,}",
                               f"{p / sep.standard_params:.3f}",
                               "✓" if checks.get(name) == (p, m) else ("" if name not in checks else "✗"))))
               for name, (p, m) in rows.items()]
    grid = grouped.connections(c_in, c_out, groups)
    return [
        ("latex", _params_latex(c_in, c_out, k, groups)),
        ("table", records, "shapes.grp.table"),
        ("caption", _t("grp.ratio", lang, ratio=f"{sep.separable_macs / sep.standard_macs:.3f}",
                       formula=f"1/{c_out} + 1/{k * k}", value=f"{1 / c_out + 1 / (k * k):.3f}")),
        ("figures", [(sp.groups_figure(grid, title=_t("grp.grid", lang, g=groups), x_title=_t("grp.in", lang),
                                       y_title=_t("grp.out", lang)), "shapes.grp.grid", NO_BAR)]),
        ("caption", _t("grp.grid_note", lang, per_in=c_in // groups, per_out=c_out // groups)),
        ("code", code.grouped_code(c_in=c_in, c_out=c_out, k=k, groups=groups, out_h=size, out_w=size)),
    ]


def _params_latex(c_in: int, c_out: int, k: int, groups: int) -> str:
    params = grouped.conv_params(c_in, c_out, k, groups=groups)
    return (rf"C_{{out}}\cdot\frac{{C_{{in}}}}{{g}}\cdot K^2 + C_{{out}} = {c_out}\cdot\frac{{{c_in}}}{{{groups}}}"
            rf"\cdot{k}^2 + {c_out} = {params:,}").replace(",", "{,}")


def group_label(groups: int, c_in: int, c_out: int, *, lang: str) -> str:
    """A groups slider's option: ``1 (standard)``, ``64 (depthwise)``."""
    if groups == 1:
        return _t("grp.standard_option", lang, g=groups)
    if groups == c_in and c_out % c_in == 0:
        return _t("grp.depthwise_option", lang, g=groups)
    return str(groups)


# ---------------------------------------------------------------------------------------------
# Shared weights drawn (seed 000)

def shared_view(n: int, k: int, stride: int, selected: int, *, lang: str) -> list[Block]:
    """The convolution's edges coloured by their shared weight beside the fully connected layer's."""
    g = shared.conv_layer(n, k, stride=stride)
    selected = min(max(selected, 1), g.outputs)
    checked = set(g.edges) == shared.torch_edges(n, k, stride=stride)
    height = max(360, min(700, 18 * g.inputs + 80))
    conv_fig = sp.edges_figure([(e.source, e.target, e.weight) for e in g.edges], inputs=g.inputs,
                               outputs=g.outputs, selected=selected, weight_names=True, height=height,
                               title=_t("shared.conv_title", lang, edges=len(g.edges), weights=k * k))
    fc_fig = sp.edges_figure([(s, t, 0) for s in range(1, g.inputs + 1) for t in range(1, g.outputs + 1)],
                             inputs=g.inputs, outputs=g.outputs, selected=selected, weight_names=False,
                             height=height, title=_t("shared.fc_title", lang, edges=g.fc_edges))
    out = [("markdown", _t("shared.counts", lang, n=n, k=k, s=stride, o=g.out, outputs=g.outputs,
                           edges=len(g.edges), weights=k * k, fc=g.fc_edges, fc_params=g.fc_edges + g.outputs,
                           conv_params=k * k + 1)),
           ("figures", [(conv_fig, "shared.conv", NO_BAR), (fc_fig, "shared.fc", NO_BAR)]),
           ("caption", _t("shared.checked" if checked else "shared.unchecked", lang))]
    if (n, k, stride) == (5, 3, 1):
        out.append(("info", _t("shared.slide_16", lang)))
    return [*out, ("code", code.shared_code(n=n, k=k, stride=stride))]


# ---------------------------------------------------------------------------------------------
# AlexNet: 224 or 227?

def alexnet_view(*, lang: str, measured: Mapping[str, int]) -> list[Block]:
    """The four readings of AlexNet's first layer, each with PyTorch's answer (``measured``: id -> side)."""
    cols = [_t(f"alex.col.{c}", lang) for c in ("source", "input", "padding", "rounding", "exact", "output", "torch")]
    records = [dict(zip(cols, (_t(f"alex.{v.id}", lang), f"{v.n}×{v.n}×3",
                               f"{v.before}" if v.before == v.after else f"{v.before} / {v.after}",
                               _t(f"alex.{v.rounding}", lang), f"{float(v.exact):g}", f"{v.output}×{v.output}",
                               "✓" if measured.get(v.id) == v.output else "✗")))
               for v in alexnet.VARIANTS]
    slide, *_, cuda = alexnet.VARIANTS
    return [("markdown", _t("alex.why", lang)), ("latex", alexnet.formula_latex(slide)),
            ("table", records, "shapes.alex.table"), ("markdown", _t("alex.cuda", lang)),
            ("latex", alexnet.formula_latex(cuda)), ("caption", _t("alex.checked", lang))]


def calc_code(values: Mapping[str, Any]) -> str:
    """The calculator's layer in PyTorch (its output shape is the calculator's answer)."""
    return code.calc_code(values["op"], h=values["h"], w=values["w"], kernel=(values["kh"], values["kw"]),
                          stride=values["stride"], padding=parse_padding(values["padding"]),
                          dilation=values["dilation"], ceil=bool(values["ceil"]))
