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


def _tabs_script():
    import streamlit as st

    from explorer.core import session

    shown = session.tabs(["a", "b", "c"], key="tab", format=lambda i: f"{i}-{session.lang()}")
    for name, tab in shown.items():
        if tab.open:
            with tab:
                st.write(f"open {name}")


def test_tabs_run_only_the_open_one_and_keep_it_open_across_a_language_switch():
    from explorer.core.session import widget_key

    at = AppTest.from_function(_tabs_script, default_timeout=APPTEST_TIMEOUT)
    at.session_state["lang"] = "en"
    at.run()
    assert [m.value for m in at.markdown] == ["open a"] and [t.label for t in at.tabs] == ["a-en", "b-en", "c-en"]
    at.session_state["tab"] = "c"  # code (a lesson link) opens a tab by its id
    at.run()
    assert [m.value for m in at.markdown] == ["open c"]
    at.session_state["lang"] = "ko"
    at.run()
    assert [m.value for m in at.markdown] == ["open c"] and at.session_state[widget_key("tab", "ko")] == "c-ko"


def _triple(x: int, *, progress) -> int:
    progress(0.5)
    return 3 * x


def _refuse(*, progress) -> None:
    from explorer.core.i18n import UserError

    raise UserError("common.error_prefix")


def _job_script():
    import streamlit as st

    from explorer.core import session
    from tests.core.test_session import _refuse, _triple

    st.write(f"result {session.run_job(('triple', 5), _triple, 5)}")
    st.write(f"failed {session.run_job('refuse', _refuse)}")


def test_run_job_shows_progress_then_the_result_and_a_failure_with_a_retry_button():
    from explorer.core.session import JOBS_KEY
    from tests.conftest import until

    at = AppTest.from_function(_job_script, default_timeout=APPTEST_TIMEOUT)
    at.session_state["lang"] = "ko"
    at.run()
    assert at.markdown[0].value == "result None"
    results = at.session_state[JOBS_KEY]
    assert until(lambda: all(getattr(results.get(k), "poll", lambda: results.get(k))().done
                             for k in (("triple", 5), "refuse")), timeout=60)
    at.run()
    assert at.markdown[0].value == "result 15" and at.markdown[1].value == "failed None"
    assert [w.value for w in at.warning] == [translate("common.error_prefix", "ko")]
    retry = at.button[0]
    assert retry.label == translate("common.job.retry", "ko")
    retry.click().run()
    assert "refuse" in results and not at.exception  # asked again: a new job runs
