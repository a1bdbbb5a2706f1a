"""The app in Debian Chromium: browser language, the selector, and the choice surviving navigation."""

from __future__ import annotations

import pytest

from explorer.core.i18n import translate
from tests.conftest import new_page, rerun, screenshot, wait_idle

pytestmark = pytest.mark.browser


def _title(page) -> str:
    return page.locator("h1").first.inner_text(timeout=60_000).strip()


@pytest.mark.parametrize(("locale", "lang"), [("ko-KR", "ko"), ("en-US", "en"), ("fr-FR", "en")])
def test_home_speaks_the_browser_language(browser, app_url, locale, lang):
    page = new_page(browser, locale=locale)
    page.goto(app_url)
    wait_idle(page)
    assert _title(page) == translate("home.title", lang)
    if locale != "fr-FR":
        screenshot(page, f"home_{lang}")
    page.context.close()


def test_selector_switches_language_and_it_survives_page_switches(browser, app_url):
    page = new_page(browser, locale="en-US")
    page.goto(app_url)
    wait_idle(page)
    assert _title(page) == translate("home.title", "en")
    page.get_by_text("한국어", exact=True).click()
    page.wait_for_function("() => document.querySelector('h1')?.innerText.includes('탐험기')")
    wait_idle(page)
    nav = page.locator("[data-testid='stSidebarNav'] a")
    assert nav.count() == 6
    for i in range(1, nav.count()):  # visit every other page through the sidebar, then come home
        rerun(page, nav.nth(i).click)
        expected = nav.nth(i).inner_text().strip().split("\n")[-1]  # after the icon ligature
        assert expected in {translate(f"common.nav.{k}", "ko") for k in
                            ("home", "kernel_lab", "shapes", "backprop", "train", "activations")}
    rerun(page, nav.first.click)
    assert _title(page) == translate("home.title", "ko")
    page.context.close()
