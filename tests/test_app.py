"""The app shell: router, language selector, home page, in both languages."""

from __future__ import annotations

import pytest

from explorer.core.i18n import translate
from tests.conftest import ROOT, run_page


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_home_renders_in_each_language(lang):
    at = run_page("app", lang=lang)
    assert not at.exception
    assert at.title[0].value == translate("home.title", lang)
    assert translate("home.intro", lang) in [m.value for m in at.markdown]


def test_without_a_browser_locale_the_app_speaks_english():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert at.session_state["lang"] == "en"
    assert at.title[0].value == translate("home.title", "en")


def test_the_selector_offers_both_languages_and_switches():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    selector = at.sidebar.radio(key="lang")
    assert selector.options == ["한국어", "English"] and selector.value == "en"
    selector.set_value("ko").run()
    assert not at.exception
    assert at.title[0].value == translate("home.title", "ko")
    # That the choice survives reruns and page switches is checked in the real browser
    # (tests/browser/test_shell.py): AppTest loses sidebar widgets after an st.navigation rerun.


def test_home_links_every_page_that_exists():
    at = run_page("app", lang="en")
    cards = [s.value for s in at.subheader]
    for page, ns in [("kernels.py", "kernel_lab"), ("shapes.py", "shapes"), ("backprop.py", "backprop"),
                     ("train.py", "train"), ("activations.py", "activations")]:
        exists = (ROOT / "pages" / page).exists()
        assert (translate(f"common.nav.{ns}", "en") in cards) == exists, page
