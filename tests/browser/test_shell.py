"""The app in Debian Chromium: browser language, the selector, and the choice surviving navigation."""

from __future__ import annotations

import pytest

from explorer.core.i18n import translate
from tests.conftest import new_page, rerun, screenshot, serve, wait_idle

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
    assert nav.count() == 9
    for i in range(1, nav.count()):  # visit every other page through the sidebar, then come home
        rerun(page, nav.nth(i).click)
        expected = nav.nth(i).inner_text().strip().split("\n")[-1]  # after the icon ligature
        assert expected in {translate(f"common.nav.{k}", "ko") for k in
                            ("home", "kernel_lab", "shapes", "backprop", "fc", "train", "builder", "activations",
                             "interpret")}
    rerun(page, nav.first.click)
    assert _title(page) == translate("home.title", "ko")
    page.context.close()


# page URL -> (two option labels (i18n keys) of one of its choice widgets, clicked in turn)
TOUCH = {
    "kernels": ("kernel_lab.colour_gray", "kernel_lab.colour_rgb"),
    "shapes": ("shapes.kind.maxpool", "shapes.kind.conv"),
    "backprop": ("backprop.activation.relu", "backprop.activation.sigmoid"),
    "activations": ("activations.source.test", "activations.source.draw"),
    "builder": ("builder.init.he", "builder.init.xavier"),
    "interpret": ("interpret.tab.attribution", "interpret.tab.confusion"),  # tabs: the open one is kept
}


def _no_exception(page, where: str) -> None:
    assert page.locator("[data-testid='stException']").count() == 0, where
    assert page.locator("[data-testid='stSidebar'] [data-testid='stRadio']").count() == 1, where  # selector kept


def _switch(page, lang: str) -> None:
    rerun(page, page.get_by_text(translate(f"common.lang_name.{lang}", lang), exact=True).click)


@pytest.mark.parametrize("url", list(TOUCH))
def test_every_page_survives_language_switches_then_a_touched_widget(browser, app_url, url):
    """The crash of issue 14: a choice made, the language switched, then any widget touched."""
    page = new_page(browser, locale="en-US", width=1280, height=900)
    page.goto(f"{app_url}/{url}")
    wait_idle(page)
    first, second = TOUCH[url]
    rerun(page, page.get_by_text(translate(first, "en"), exact=True).first.click)
    if url == "kernels":  # the reported case: a preset chosen before the switch
        page.get_by_role("combobox").nth(1).click()  # the kernel preset list opens (no rerun)
        rerun(page, page.get_by_role("option", name=translate("kernels.preset.sobel_x", "en")).click)
    for lang, label in (("ko", second), ("en", first), ("ko", second)):
        _switch(page, lang)
        _no_exception(page, f"{url} after switching to {lang}")
        rerun(page, page.get_by_text(translate(label, lang), exact=True).first.click)
        _no_exception(page, f"{url}: {label} touched in {lang}")
    page.context.close()


def test_a_teachers_deep_link_works_on_a_freshly_started_server(browser, tmp_path):
    """The first visit of a new server goes straight to /kernels (a link handed out in class)."""
    with serve(tmp_path) as (url, _):
        page = new_page(browser, locale="ko-KR", width=1280, height=900)
        page.goto(f"{url}/kernels")
        wait_idle(page, timeout_ms=90_000)
        page.get_by_role("heading", name=translate("kernel_lab.title", "ko")).first.wait_for(timeout=60_000)
        assert page.get_by_text("Page not found").count() == 0
        _no_exception(page, "deep link")
        assert page.title() == f"{translate('common.nav.kernel_lab', 'ko')} · {translate('common.app_title', 'ko')}"
        icons = page.locator("link[rel~='icon']")
        assert icons.count() >= 1 and all("gstatic" not in (icons.nth(i).get_attribute("href") or "")
                                          for i in range(icons.count()))  # the tab icon ships with the app
        page.context.close()
