"""Projector mode on every page at a projector's 1280×800 and a 1920×1080 screen, in both languages:
nothing truncated or clipped, no exception; the screenshots (tests/screenshots/projector_*) are for
looking at."""

from __future__ import annotations

import pytest

from explorer.core.i18n import translate
from tests.conftest import new_page, rerun, screenshot, wait_idle

pytestmark = pytest.mark.browser

PAGES = ["home", "kernels", "shapes", "backprop", "train", "activations"]
SIZES = [(1280, 800), (1920, 1080)]

# Text cut short by the browser ("Previ…"): an element that ellipsises and whose text is wider than it.
TRUNCATED = """() => Array.from(document.querySelectorAll("[data-testid='stMain'] *"))
    .filter(e => getComputedStyle(e).textOverflow === "ellipsis" && e.scrollWidth > e.clientWidth + 1
                 && e.offsetParent !== null && e.innerText.trim())
    .map(e => `${e.tagName}.${e.className}[${e.scrollWidth}>${e.clientWidth}]: ${e.innerText.trim()}`)"""
# A chart title drawn above its figure (cut off at the top).
CLIPPED_TITLES = """() => Array.from(document.querySelectorAll(".js-plotly-plot .gtitle"))
    .filter(t => t.getBBox().y < 0).map(t => t.textContent)"""


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize(("width", "height"), SIZES, ids=lambda v: str(v))
@pytest.mark.parametrize("url", PAGES)
def test_projector_mode_fits(browser, app_url, url, width, height, lang):
    page = new_page(browser, locale={"en": "en-US", "ko": "ko-KR"}[lang], width=width, height=height)
    page.goto(f"{app_url}/{'' if url == 'home' else url}")
    wait_idle(page)
    rerun(page, page.get_by_text(translate("common.projector", lang), exact=True).click)
    page.locator("[data-testid='stMain'] h1").first.wait_for()
    wait_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.evaluate(TRUNCATED) == []
    assert page.evaluate(CLIPPED_TITLES) == []
    screenshot(page, f"projector_{url}_{width}x{height}_{lang}")  # the whole page at this width
    page.context.close()
