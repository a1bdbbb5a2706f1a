"""Shared helpers of the builder's tests: a refusal's key must be translated in both languages."""

from __future__ import annotations

import pytest

from explorer.core.i18n import catalog, placeholders


def assert_translated(key: str, params: dict) -> None:
    """``key`` exists in both languages (builder.* or the Shapes wing's shapes.err.*) and formats with
    ``params``."""
    assert key.startswith(("builder.", "shapes.err.")), key
    for lang in ("en", "ko"):
        text = catalog(lang)[key]
        assert placeholders(text) <= set(params), (lang, key, params)
        assert text.format(**params)


@pytest.fixture
def translated():
    return assert_translated
