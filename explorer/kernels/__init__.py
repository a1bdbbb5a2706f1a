"""Kernel lab: kernels and pooling on images (`ops`), the lectures' worked examples one window at a
time (`stepthrough`), and their figures (`plots`)."""

from explorer.kernels.ops import (
                                  PRESETS,
                                  KernelError,
                                  apply_kernel,
                                  parse_kernel,
                                  parse_text_grid,
                                  pool,
                                  preset_label_key,
)

__all__ = ["PRESETS", "KernelError", "apply_kernel", "parse_kernel", "parse_text_grid", "pool", "preset_label_key"]
