"""The fully connected lesson in real Chromium: the matrix stepper steps, every tab draws, the homework's MLP
starts training live; a screenshot of each tab in each language."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from explorer.core.i18n import translate
from explorer.fc import view
from tests.browser.test_projector import CLIPPED_TITLES, TRUNCATED
from tests.conftest import new_page, rerun, screenshot, wait_idle

pytestmark = pytest.mark.browser


def _chart(key: str) -> str:
    return f".st-key-{key.replace('.', '-')} .js-plotly-plot"


def _drawn(page, key: str, timeout_ms: int = 60_000) -> bool:
    """Whether the chart under ``key`` appears with data within the time."""
    try:
        page.wait_for_function(f"""() => {{ const el = document.querySelector({json.dumps(_chart(key))});
                                          return !!(el && el.data && el.data.length); }}""", timeout=timeout_ms)
        return True
    except PlaywrightTimeout:
        return False


def _tab(page, lang: str, name: str) -> None:
    rerun(page, page.get_by_role("tab", name=translate(f"fc.tab.{name}", lang)).click)  # only an open tab runs
    wait_idle(page)


@pytest.mark.parametrize(("locale", "lang"), [("en-US", "en"), ("ko-KR", "ko")])
def test_every_tab_draws_and_the_stepper_steps(app_url, browser, locale, lang):
    page = new_page(browser, locale=locale, width=1500, height=1800)
    try:
        page.goto(f"{app_url}/fc")
        page.get_by_text(translate("fc.title", lang), exact=True).first.wait_for(timeout=90_000)
        wait_idle(page, timeout_ms=90_000)
        for _ in range(2):  # forward: affine 1, sigmoid, affine 2 (one click per rerun)
            rerun(page, page.get_by_role("button", name=translate("fc.stepper.next", lang)).click)
        page.get_by_text(translate("fc.step.affine.name", lang, l=2)).first.wait_for()
        page.get_by_text(translate("fc.stepper.step_of", lang, n=3, total=13,
                                   phase=translate("fc.phase.forward", lang))).wait_for()
        assert _drawn(page, "fc.grid.3") and _drawn(page, "fc.chain")  # z1, W2, b2, a2 and the diagram
        assert page.get_by_text(translate("fc.verify.ok", lang, diff="")[:12]).count() >= 1  # checked by autograd
        screenshot(page, f"fc_stepper_{lang}")

        _tab(page, lang, "activations")
        assert _drawn(page, "fc.act.curves") and _drawn(page, "fc.act.norms", timeout_ms=120_000)
        screenshot(page, f"fc_activations_{lang}")
        for name, chart in (("nonlinear", "fc.toy.chart"), ("losses", "fc.loss.chart"), ("shift", "fc.shift.digits")):
            _tab(page, lang, name)
            assert _drawn(page, chart), name
            screenshot(page, f"fc_{name}_{lang}")
        assert page.get_by_text(view.expected_text(lang=lang)).count() == 1  # the measured expectation, until run

        _tab(page, lang, "train")
        for key, value in (("fc-hw-size", "1000"), ("fc-hw-epochs", "3")):  # a short run
            box = page.locator(f".st-key-{key} input")
            box.fill(value)
            rerun(page, lambda: box.press("Enter"))
        page.get_by_role("button", name=translate("train.start", lang)).click()
        assert _drawn(page, "fc.hw.curves", timeout_ms=120_000), "no live curves"
        this_run = translate("fc.homework.figures", lang, train="", test="", cost="").split("**")[1]
        page.get_by_text(re.compile("^" + re.escape(this_run))).first.wait_for(timeout=180_000)  # an epoch ended
        screenshot(page, f"fc_train_{lang}")
        rerun(page, page.get_by_role("button", name=translate("train.reset", lang), exact=True).click)  # ends the worker

        # projector mode on a projector's 1280×800: nothing cut short or clipped on any tab
        page.set_viewport_size({"width": 1280, "height": 800})
        rerun(page, page.get_by_text(translate("common.projector", lang), exact=True).click)
        for name in view.TABS:
            _tab(page, lang, name)
            assert page.evaluate(TRUNCATED) == [], name
            assert page.evaluate(CLIPPED_TITLES) == [], name
        _tab(page, lang, "stepper")
        screenshot(page, f"fc_projector_1280x800_{lang}")
    finally:
        page.context.close()
