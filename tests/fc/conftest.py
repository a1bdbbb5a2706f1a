"""Shared helpers of the fully connected lesson's tests: the locale catalogs, an error-key check, tiny digits."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
import torch

from explorer.core.i18n import LOCALES_DIR, placeholders


def catalog(lang: str) -> dict[str, str]:
    return json.loads((LOCALES_DIR / lang / "fc.json").read_text(encoding="utf-8"))


def assert_translated(err) -> None:
    """The refusal's key exists in both languages and both texts format with its params."""
    for lang in ("en", "ko"):
        text = catalog(lang)[err.key]
        assert placeholders(text) <= set(err.params), (lang, err.key, err.params)
        assert text.format(**err.params)


@pytest.fixture(autouse=True)
def _every_tab(every_tab):
    """The page's AppTests read every tab in one run (see `tests.conftest.every_tab`)."""


@pytest.fixture
def translated():
    return assert_translated


@dataclass(frozen=True)
class Digits:
    images: torch.Tensor  # (N, 1, 28, 28)
    labels: torch.Tensor  # (N,)


def tiny_digits(n: int, *, seed: int) -> Digits:
    """Easy synthetic digits: class k lights a k-dependent band (so a small network learns them fast)."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 10
    images = 0.1 * torch.rand(n, 1, 28, 28, generator=g)
    for k in range(10):
        images[labels == k, 0, 2 * k + 4:2 * k + 7, 4:24] += 0.9
    return Digits(images.clamp(0, 1), labels)
