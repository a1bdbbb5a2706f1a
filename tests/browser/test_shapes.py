"""The Shapes & parameters page in real Chromium: a worked example, the grid picture, a preset checked by PyTorch."""

from __future__ import annotations

import pytest

from explorer.core.i18n import translate
from tests.conftest import new_page, rerun, screenshot, wait_idle

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("locale", "lang"), [("en-US", "en"), ("ko-KR", "ko")])
def test_shapes_page_in_the_browser(app_url, browser, locale, lang):
    page = new_page(browser, locale=locale)
    try:
        page.goto(f"{app_url}/shapes")
        wait_idle(page)
        page.get_by_role("heading", name=translate("shapes.title", lang)).first.wait_for(timeout=30_000)
        # one click loads the lecture's example 1: 227x227, 11x11, stride 4 → 55x55
        rerun(page, page.get_by_role("button", name="227×227 · 11×11 · S4 · P0").click)
        page.get_by_text("55 × 55").first.wait_for(timeout=20_000)
        # a small configuration draws the conv_arithmetic-style grid
        rerun(page, page.get_by_role("button", name="7×7 · 3×3 · S3 · P0").click)
        page.get_by_text("2 × 2").first.wait_for(timeout=20_000)
        page.locator(".js-plotly-plot").first.wait_for(timeout=20_000)
        assert page.get_by_text("PyTorch").count() > 0
        screenshot(page, f"shapes_calc_{lang}")
        # network table: pick AlexNet in the selectbox; PyTorch verifies it on the meta device
        page.get_by_role("tab", name=translate("shapes.tab.network", lang)).click()  # tabs do not rerun
        page.locator("[data-testid='stSelectbox'] >> visible=true").first.click()
        rerun(page, page.get_by_role("option", name=translate("shapes.preset.alexnet", lang)).click)
        page.get_by_text("60,965,224").first.wait_for(timeout=30_000)
        page.get_by_text("✓").first.wait_for(timeout=30_000)
        screenshot(page, f"shapes_network_{lang}")
    finally:
        page.context.close()
