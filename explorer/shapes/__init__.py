"""Shapes & parameters: output sizes (`sizes`, `transposed`), whole-network tables checked by PyTorch
(`network`), grouped and depthwise convolutions (`grouped`), receptive fields (`receptive`), shared weights
drawn (`shared`), AlexNet's 224 or 227 (`alexnet`), comparisons (`compare`), the quiz (`quiz`), exports
(`export`), the PyTorch code of a view (`code`), the page's texts (`view`, `lessons`), figures (`plots`)."""

from explorer.shapes.grouped import conv_macs, conv_params
from explorer.shapes.network import (
    LAYER_KINDS,
    PRESETS,
    Layer,
    Row,
    build_module,
    summarize,
    totals,
    verify,
)
from explorer.shapes.sizes import ShapeError, conv_output_size
from explorer.shapes.transposed import conv_transpose_output_size, inputs_with_output, transpose_formula_latex

__all__ = ["LAYER_KINDS", "PRESETS", "Layer", "Row", "ShapeError", "build_module", "conv_macs", "conv_output_size",
           "conv_params", "conv_transpose_output_size", "inputs_with_output", "summarize", "totals",
           "transpose_formula_latex", "verify"]
