"""Lesson links: a page's settings in its URL (``/kernels?preset=sobel_x&stride=2``), checked like any input.

A page declares its linkable fields: the session-state key of a widget, the name it has in the URL and a
parser. `parse` turns the URL's query parameters into values and, for each bad or hostile one, a problem
(the page keeps its default and says why, in the user's language); `query` writes the current values
back as a query string for "copy link to this view". Pure Python: `explorer.core.session` applies them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import urlencode

from explorer.core.i18n import UserError

MAX_VALUE_CHARS = 64  # longer query values are refused before they are looked at
Parser = Callable[[str], Any]


class LinkError(UserError):
    """A query parameter that cannot be used: ``common.link.*`` with the parameter's name and value."""


@dataclass(frozen=True)
class Field:
    """One linkable setting: ``name`` in the URL, ``key`` of its widget's value in the session."""

    name: str
    key: str
    parse: Parser


def whole(low: int, high: int) -> Parser:
    """A whole number from ``low`` to ``high``."""
    def parse(text: str) -> int:
        if not re.fullmatch(r"[+-]?\d{1,9}", text.strip()):
            raise LinkError("common.link.not_whole", low=low, high=high)
        value = int(text)
        if not low <= value <= high:
            raise LinkError("common.link.range", low=low, high=high)
        return value
    return parse


def number(low: float, high: float) -> Parser:
    """A finite decimal number from ``low`` to ``high``."""
    def parse(text: str) -> float:
        if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?", text.strip()):
            raise LinkError("common.link.not_number", low=f"{low:g}", high=f"{high:g}")
        value = float(text)
        if not (math.isfinite(value) and low <= value <= high):
            raise LinkError("common.link.range", low=f"{low:g}", high=f"{high:g}")
        return value
    return parse


def one_of(options: Sequence[str]) -> Parser:
    """One of ``options`` (ids, never translated labels)."""
    choices = tuple(options)

    def parse(text: str) -> str:
        if text not in choices:
            raise LinkError("common.link.choice", choices=", ".join(choices[:12]) + (" …" if len(choices) > 12 else ""))
        return text
    return parse


def flag() -> Parser:
    """A yes/no setting: 1/0, true/false."""
    def parse(text: str) -> bool:
        value = text.strip().lower()
        if value not in ("1", "0", "true", "false"):
            raise LinkError("common.link.flag")
        return value in ("1", "true")
    return parse


def parse(fields: Sequence[Field], params: Mapping[str, str]) -> tuple[dict[str, Any], list[tuple[str, LinkError]]]:
    """The values the URL sets (session key -> value) and the refused parameters (name, why).
    Parameters the page does not know are refused too: a mistyped link should not be silently ignored."""
    known = {f.name: f for f in fields}
    values, problems = {}, []
    for name, raw in params.items():
        text = raw if isinstance(raw, str) else str(raw)
        field = known.get(name)
        try:
            if field is None:
                raise LinkError("common.link.unknown", choices=", ".join(known))
            if len(text) > MAX_VALUE_CHARS:
                raise LinkError("common.link.too_long", limit=MAX_VALUE_CHARS)
            values[field.key] = field.parse(text)
        except LinkError as err:
            problems.append((name[:MAX_VALUE_CHARS], err))
    return values, problems


def query(fields: Sequence[Field], state: Mapping[str, Any]) -> str:
    """The query string of the fields' current values (those set in ``state``), in the fields' order."""
    pairs = []
    for f in fields:
        if f.key in state and state[f.key] is not None:
            value = state[f.key]
            text = ("1" if value else "0") if isinstance(value, bool) else (f"{value:g}" if isinstance(value, float)
                                                                            else str(value))
            pairs.append((f.name, text))
    return urlencode(pairs)
