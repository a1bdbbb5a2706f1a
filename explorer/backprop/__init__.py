"""Backprop stepper: the lectures' 6×6 toy CNN forward and backward, step by step (`toy`), and its
figures (`plots`)."""

from explorer.backprop.toy import walkthrough

__all__ = ["walkthrough"]
