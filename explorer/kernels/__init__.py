"""Kernel lab: kernels and pooling on images (`ops`), the lectures' worked examples one window at a
time (`stepthrough`), im2col (`columns`), transposed convolution (`transposed`), the PyTorch code of a
configuration (`code`), the page's texts (`view`) and its figures (`plots`)."""

from explorer.kernels.columns import im2col
from explorer.kernels.ops import (
                                  PRESETS,
                                  KernelError,
                                  apply_kernel,
                                  parse_kernel,
                                  parse_text_grid,
                                  pool,
                                  preset_label_key,
)
from explorer.kernels.transposed import conv_transpose

__all__ = ["PRESETS", "KernelError", "apply_kernel", "conv_transpose", "im2col", "parse_kernel", "parse_text_grid",
           "pool", "preset_label_key"]
