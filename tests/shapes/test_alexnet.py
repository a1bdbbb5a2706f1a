"""explorer.shapes.alexnet: the four readings of AlexNet's first layer, checked by PyTorch and torchvision."""

from __future__ import annotations

import torch
from torchvision.models import alexnet as torchvision_alexnet

from explorer.shapes import alexnet as ax


def test_every_reading_gives_pytorch_s_size():
    sizes = {v.id: (float(v.exact), v.output, ax.torch_output(v)) for v in ax.VARIANTS}
    assert sizes == {"slide": (54.25, 54, 54), "caffe": (55.0, 55, 55), "torchvision": (55.25, 55, 55),
                     "cuda_convnet": (54.25, 55, 55)}


def test_torchvision_s_first_layer_is_what_the_table_says():
    with torch.device("meta"):  # no weights drawn: only the layer's settings are read
        first = torchvision_alexnet(weights=None).features[0]
    variant = next(v for v in ax.VARIANTS if v.id == "torchvision")
    assert (first.in_channels, first.out_channels, first.kernel_size, first.stride, first.padding) == (
        3, variant.filters, (ax.KERNEL, ax.KERNEL), (ax.STRIDE, ax.STRIDE), (variant.before, variant.before))
    assert first(torch.zeros(1, 3, 224, 224, device="meta")).shape[-1] == variant.output


def test_formulas_round_down_or_up():
    slide, *_, cuda = ax.VARIANTS
    assert ax.formula_latex(slide).endswith("\\left\\lfloor 53.25\\right\\rfloor + 1 = 54")
    assert ax.formula_latex(cuda).endswith("\\left\\lceil 53.25\\right\\rceil + 1 = 55")
