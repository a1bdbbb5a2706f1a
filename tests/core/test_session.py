"""explorer.core.session: the session's language (selector, then browser locale) and per-session objects."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from explorer.core.i18n import translate
from tests.conftest import APPTEST_TIMEOUT


def _script():
    import streamlit as st

    from explorer.core import session

    st.write(session.t("common.language"))
    st.write(str(session.get("counter", lambda: [0])))
    session.get("counter", lambda: [99])[0] += 1
    st.write(str(session.projector()))


def test_the_chosen_language_translates_and_objects_are_made_once_per_session():
    at = AppTest.from_function(_script, default_timeout=APPTEST_TIMEOUT)
    at.session_state["lang"] = "ko"
    at.run()
    assert at.markdown[0].value == translate("common.language", "ko")
    assert at.markdown[1].value == "[0]" and at.markdown[2].value == "False"
    at.run()
    assert at.markdown[1].value == "[1]"  # the factory ran once: the same list, incremented


def test_an_unknown_language_in_the_state_falls_back_to_the_browser_default():
    at = AppTest.from_function(_script, default_timeout=APPTEST_TIMEOUT)
    at.session_state["lang"] = "xx"
    at.run()
    assert at.markdown[0].value == translate("common.language", "en")
