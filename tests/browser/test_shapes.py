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


@pytest.mark.parametrize(("locale", "lang"), [("en-US", "en"), ("ko-KR", "ko")])
def test_blocks_receptive_field_grouped_and_shared_weights(app_url, browser, locale, lang):
    page = new_page(browser, locale=locale, height=1400)
    try:
        page.goto(f"{app_url}/shapes")
        wait_idle(page)
        page.get_by_role("tab", name=translate("shapes.tab.network", lang)).click()
        page.get_by_text(translate("shapes.net.blocks_caption", lang)).first.wait_for(timeout=60_000)
        screenshot(page, f"shapes_network_blocks_{lang}")
        page.get_by_role("tab", name=translate("shapes.tab.blocks", lang)).click()
        page.get_by_text(translate("shapes.blocks.mix_title", lang)).first.wait_for(timeout=30_000)
        screenshot(page, f"shapes_blocks_{lang}")
        page.get_by_role("tab", name=translate("shapes.tab.rf", lang)).click()
        units = page.locator("[data-testid='stPlotlyChart']").filter(
            has_text=translate("shapes.rf.units", lang, name="pool2", shape="7×7"))
        units.locator("path.point").first.wait_for(timeout=30_000)
        # a click on unit (0, 6) of pool2 selects it: rows −3…6 (the top 3 in the padding), columns 21…30
        point = units.locator("path.point").nth(6).bounding_box()  # plotly's drag layer takes the real click
        x, y = point["x"] + point["width"] / 2, point["y"] + point["height"] / 2
        page.mouse.move(x, y)
        rerun(page, lambda: page.mouse.click(x, y))
        page.get_by_text("21…30", exact=False).first.wait_for(timeout=30_000)
        assert page.get_by_text(translate("shapes.rf.checked", lang)).count() >= 1
        screenshot(page, f"shapes_rf_{lang}")
        page.get_by_role("tab", name=translate("shapes.tab.grouped", lang)).click()
        note = translate("shapes.grp.grid_note", lang, per_in=64, per_out=128)
        page.get_by_text(note).first.wait_for(timeout=30_000)
        screenshot(page, f"shapes_grouped_{lang}")
        page.get_by_role("tab", name=translate("shapes.tab.compare", lang)).click()
        page.get_by_text(translate("shapes.shared.slide_16", lang)).first.wait_for(timeout=30_000)
        assert page.locator("[data-testid='stException']").count() == 0
        screenshot(page, f"shapes_shared_{lang}")
    finally:
        page.context.close()
