"""Shapes & parameters: output sizes (`sizes`), whole-network tables checked by PyTorch (`network`),
comparisons (`compare`), the quiz (`quiz`), exports (`export`), the page's texts (`view`), figures (`plots`)."""

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

__all__ = ["LAYER_KINDS", "PRESETS", "Layer", "Row", "ShapeError", "build_module", "conv_output_size", "summarize",
           "totals", "verify"]
