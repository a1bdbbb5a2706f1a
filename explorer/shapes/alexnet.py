"""AlexNet's first layer: 224 or 227? (seed 000, "AlexNet 구조": input 224×224×3, 96 kernels 11×11, stride 4.)

(224 − 11)/4 + 1 = 54.25 is not whole, yet the paper's next layer is 55×55. What the implementations do:
Caffe's reference AlexNet (and CS231n) crops 227×227, where (227 − 11)/4 + 1 = 55 exactly; torchvision
keeps 224 and pads 2 (with 64 filters, after "One weird trick"): ⌊(224 + 4 − 11)/4⌋ + 1 = 55;
Krizhevsky's own cuda-convnet crops 224 without padding but counts positions as 1 + ⌈(N + 2P − K)/S⌉,
rounding *up*: the last window hangs 3 pixels over the bottom/right edge, where the code reads zeros.
PyTorch checks every row (`torch_output`): the rounded-up one as 3 zero rows/columns padded after.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import torch
import torch.nn.functional as F

KERNEL, STRIDE = 11, 4


@dataclass(frozen=True)
class Variant:
    """One reading of the first layer (texts: ``shapes.alex.<id>``)."""

    id: str
    n: int  # input side
    before: int  # zero padding on the top/left
    after: int  # zero padding on the bottom/right (what rounding up amounts to, for cuda-convnet)
    filters: int
    rounding: str  # "floor" (PyTorch, Caffe) or "ceil" (cuda-convnet)

    @property
    def exact(self) -> Fraction:
        """(N + 2P − K)/S + 1 with the symmetric padding, before rounding."""
        return Fraction(self.n + 2 * self.before - KERNEL, STRIDE) + 1

    @property
    def output(self) -> int:
        value = self.exact - 1
        return (math.ceil(value) if self.rounding == "ceil" else math.floor(value)) + 1


VARIANTS: tuple[Variant, ...] = (
    Variant("slide", 224, 0, 0, 96, "floor"),  # the slide (and the paper's text) run through PyTorch
    Variant("caffe", 227, 0, 0, 96, "floor"),  # BVLC Caffe bvlc_alexnet: crop_size 227
    Variant("torchvision", 224, 2, 2, 64, "floor"),  # torchvision.models.alexnet: Conv2d(3, 64, 11, 4, 2)
    Variant("cuda_convnet", 224, 0, 3, 96, "ceil"),  # cuda-convnet layer.py: 1 + ceil((2P + N − K)/S)
)


def torch_output(variant: Variant) -> int:
    """The output side PyTorch gives: the layer on a zero image, rounding up written as padding after."""
    x = F.pad(torch.zeros(1, 3, variant.n, variant.n), (variant.before, variant.after) * 2)
    weight = torch.zeros(1, 3, KERNEL, KERNEL)  # one filter: the size does not depend on how many
    return int(F.conv2d(x, weight, stride=STRIDE).shape[-1])


def formula_latex(variant: Variant) -> str:
    """``\\lfloor (224 + 2·0 − 11)/4 \\rfloor + 1 = \\lfloor 53.25 \\rfloor + 1 = 54`` (ceil for cuda-convnet)."""
    lo, hi = (r"\left\lceil ", r"\right\rceil") if variant.rounding == "ceil" else (r"\left\lfloor ", r"\right\rfloor")
    value = float(variant.exact - 1)
    text = f"{value:g}"
    return (f"{lo}\\frac{{{variant.n} + 2\\cdot{variant.before} - {KERNEL}}}{{{STRIDE}}}{hi} + 1"
            f" = {lo}{text}{hi} + 1 = {variant.output}")
