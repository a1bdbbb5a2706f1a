"""Shared helpers of the fully connected lesson's tests: the locale catalogs and an error-key check."""

from __future__ import annotations

import json

import pytest

from explorer.core.i18n import LOCALES_DIR, placeholders


def catalog(lang: str) -> dict[str, str]:
    return json.loads((LOCALES_DIR / lang / "fc.json").read_text(encoding="utf-8"))


def assert_translated(err) -> None:
    """The refusal's key exists in both languages and both texts format with its params."""
    for lang in ("en", "ko"):
        text = catalog(lang)[err.key]
        assert placeholders(text) <= set(err.params), (lang, err.key, err.params)
        assert text.format(**err.params)


@pytest.fixture
def translated():
    return assert_translated
