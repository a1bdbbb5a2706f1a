"""Backprop stepper: the lectures' 6×6 toy CNN forward and backward, step by step (`toy`); backprop to a
convolution's input, the lecture's way (`input_grad`); the symbolic view of a shared weight (`symbolic`);
the page's texts (`view`) and figures (`plots`)."""

from explorer.backprop.input_grad import input_gradient
from explorer.backprop.toy import walkthrough

__all__ = ["input_gradient", "walkthrough"]
