"""The backprop stepper in a real browser: it renders, steps, shows plots, and explains bad input."""

from __future__ import annotations

import pytest

from explorer.core.i18n import translate
from tests.conftest import new_page, rerun, screenshot, wait_idle


def _open(browser, app_url, locale):
    page = new_page(browser, locale=locale, width=1500, height=2400)
    page.goto(f"{app_url}/backprop")
    wait_idle(page)
    page.get_by_text(translate("backprop.title", locale[:2]), exact=True).first.wait_for(timeout=60_000)
    wait_idle(page)
    return page


@pytest.mark.browser
@pytest.mark.parametrize("locale", ["en-US", "ko-KR"])
def test_stepper_renders_steps_and_explains_bad_input(browser, app_url, locale):
    lang = locale[:2]
    page = _open(browser, app_url, locale)
    summary = {"en": "E = 0.1233 → after the update 0.1226", "ko": "E = 0.1233 → 업데이트 후 0.1226"}[lang]
    assert page.get_by_text(summary).count() == 1
    assert page.locator("textarea").first.input_value().startswith("1 2 3 4 5 6\n7 8 9")  # X is shown, not blank
    for _ in range(2):  # to the max-pool step: the winners are outlined
        # one click per rerun: a click during the previous rerun could be merged into it and lost
        rerun(page, page.get_by_role("button", name=translate("backprop.next", lang)).click)
    page.get_by_text(translate("backprop.step.pool.name", lang)).first.wait_for()
    page.locator(".js-plotly-plot").nth(2).wait_for()
    assert page.locator(".js-plotly-plot").count() >= 3  # network + two grids
    assert page.get_by_text(translate("backprop.ties_note", lang)).count() == 1
    screenshot(page, f"backprop_{lang}")

    box = page.locator("textarea").first  # X
    box.fill("1 2 3 4 5 x\n" * 6)
    rerun(page, lambda: box.press("Control+Enter"))
    page.get_by_text(translate("common.kept_previous", lang)).wait_for()
    assert page.get_by_text(summary).count() == 1  # the last valid inputs are still in use
    screenshot(page, f"backprop_{lang}_bad_input")
    page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("locale", ["en-US", "ko-KR"])
def test_backprop_to_the_input_and_the_symbolic_view(browser, app_url, locale):
    lang = locale[:2]
    page = _open(browser, app_url, locale)
    page.get_by_role("tab", name=translate("backprop.tab.input", lang)).click()  # tabs do not rerun
    page.get_by_text(translate("backprop.ig.flipped", lang)).first.wait_for(timeout=60_000)
    assert page.get_by_text("autograd", exact=False).count() >= 1
    screenshot(page, f"backprop_input_{lang}")
    page.get_by_role("tab", name=translate("backprop.tab.symbolic", lang)).click()
    page.get_by_text(translate("backprop.sym.checked", lang)).first.wait_for(timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, f"backprop_symbolic_{lang}")
    page.context.close()
