"""Korean/English strings for every user-visible text of the project.

Strings live in ``explorer/locales/<lang>/<namespace>.json`` (flat ``key -> text`` maps).
Every key starts with its file's namespace (``kernel_lab.title`` lives in ``kernel_lab.json``),
so each page owns one file per language. Placeholders use ``str.format`` syntax: ``{n}``.
"""

from __future__ import annotations

import json
import string
from functools import cache
from pathlib import Path

LANGUAGES: tuple[str, ...] = ("ko", "en")
DEFAULT_LANGUAGE = "en"
LOCALES_DIR = Path(__file__).parents[1] / "locales"


class UserError(ValueError):
    """A problem to show the user: ``key`` is an i18n key, ``params`` its format arguments.

    Each module subclasses it (``ImageError``, ``KernelError``, …) so callers can catch what they expect.
    """

    def __init__(self, key: str, /, **params: object) -> None:
        super().__init__(f"{key} {params}" if params else key)
        self.key = key
        self.params = params

    def __reduce__(self) -> tuple:
        """Pickle as key + params (a worker process reports errors to the page this way)."""
        return _rebuild, (type(self), self.key, self.params)


def _rebuild(cls: type[UserError], key: str, params: dict) -> UserError:
    return cls(key, **params)


@cache
def catalog(lang: str) -> dict[str, str]:
    """All strings of one language, merged from its namespace files."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {LANGUAGES}")
    merged: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / lang).glob("*.json")):
        merged.update(json.loads(path.read_text(encoding="utf-8")))
    return merged


def translate(key: str, lang: str, /, **kwargs: object) -> str:
    """The text for ``key`` in ``lang``, formatted with ``kwargs``.

    A missing key falls back to English, then to the key itself, so a gap shows up
    on screen (and in the locale tests) instead of crashing a page.
    """
    text = catalog(lang).get(key) or catalog(DEFAULT_LANGUAGE).get(key) or key
    return text.format(**kwargs) if kwargs else text


def default_language(locale: str | None) -> str:
    """Korean for a ``ko``/``ko-KR`` browser locale, English for anything else."""
    if locale and locale.strip().lower().replace("_", "-").split("-")[0] == "ko":
        return "ko"
    return DEFAULT_LANGUAGE


def placeholders(text: str) -> set[str]:
    """The ``{names}`` a string expects, for checking that translations agree."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
