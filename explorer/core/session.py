"""The one module of `explorer` that touches Streamlit: per-session state and the current language."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

import streamlit as st

from explorer.core.i18n import LANGUAGES, default_language, translate

T = TypeVar("T")
LANG_KEY = "lang"


def lang() -> str:
    """The session's language: the selector's choice, else the browser's locale."""
    chosen = st.session_state.get(LANG_KEY)
    if chosen in LANGUAGES:
        return chosen
    try:
        locale = st.context.locale
    except Exception:  # no browser context (bare script, some test harnesses)
        locale = None
    return default_language(locale)


def t(key: str, /, **kwargs: Any) -> str:
    """Translate ``key`` into the session's language."""
    return translate(key, lang(), **kwargs)


def projector() -> bool:
    """Whether this session has projector mode on (sidebar toggle in app.py)."""
    from explorer.core import display

    return bool(st.session_state.get(display.PROJECTOR_KEY))


def chart(container: Any, fig: Any, **kwargs: Any) -> None:
    """Draw a plotly ``fig`` in ``container`` (``st`` or a column) in this session's display style."""
    from explorer.core import display, figures

    fig = display.apply(fig, display.style(projector=projector()))
    if figures.checking():  # the test suite: the unvalidated figure must be what validation would make
        figures.check(fig)
    container.plotly_chart(fig, **kwargs)


def get(key: str, factory: Callable[[], T]) -> T:
    """This session's object under ``key``, created by ``factory`` on first use."""
    if key not in st.session_state:
        st.session_state[key] = factory()
    return st.session_state[key]
