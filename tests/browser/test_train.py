"""Train MNIST in real Chromium: start, watch the curves and filters change, pause."""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from explorer.core.i18n import translate
from tests.conftest import new_page, screenshot, wait_idle

pytestmark = pytest.mark.browser
CURVE_POINTS = "el => el.data[0].x.length"  # training-loss points drawn
FILTER_PIXELS = "el => JSON.stringify(el.data[0].z)"  # the layer-1 filter grid


def _selector(key: str) -> str:
    return f".st-key-{key.replace('.', '-')} .js-plotly-plot"


def _chart(page, key: str):
    return page.locator(_selector(key)).first


def _read(page, key: str, script: str):
    try:
        return _chart(page, key).evaluate(script, timeout=5_000)
    except Exception:  # the chart is being replaced by the next live update
        return None


def _until(page, key: str, script: str, timeout_ms: int = 40_000) -> bool:
    """Whether ``script(chart)`` turns true within the time; the browser polls it on every frame."""
    try:
        page.wait_for_function(f"""() => {{ const el = document.querySelector({json.dumps(_selector(key))});
                                          return !!(el && el.data && ({script})(el)); }}""", timeout=timeout_ms)
        return True
    except PlaywrightTimeout:
        return False


@pytest.mark.parametrize(("locale", "lang"), [("en-US", "en"), ("ko-KR", "ko")])
def test_training_starts_updates_live_and_pauses(app_url, browser, locale, lang):
    page = new_page(browser, locale=locale, width=1500, height=2600)
    try:
        page.goto(f"{app_url}/train")
        page.get_by_text(translate("train.title", lang), exact=True).first.wait_for(timeout=90_000)
        wait_idle(page, timeout_ms=90_000)
        _chart(page, "train.filters_chart0").wait_for()
        filters_before = _read(page, "train.filters_chart0", FILTER_PIXELS)
        assert filters_before and _read(page, "train.curves_chart", CURVE_POINTS) == 0
        page.get_by_role("button", name=translate("train.start", lang)).click()
        assert _until(page, "train.curves_chart", f"el => ({CURVE_POINTS})(el) >= 2"), "no live loss curve"
        assert _until(page, "train.filters_chart0", f"el => ({FILTER_PIXELS})(el) !== {json.dumps(filters_before)}"), \
            "first-layer filters did not change"
        screenshot(page, f"train_{lang}_running")
        page.get_by_role("button", name=translate("train.pause", lang)).click()
        page.get_by_role("button", name=translate("train.resume", lang)).wait_for(timeout=30_000)
        wait_idle(page)
        points = _read(page, "train.curves_chart", CURVE_POINTS)
        time.sleep(2)
        assert _read(page, "train.curves_chart", CURVE_POINTS) == points, "curves still moving after pause"
        screenshot(page, f"train_{lang}_paused")
    finally:
        page.context.close()


def test_a_lesson_link_sets_the_run_and_a_clicked_confusion_cell_shows_its_digits(app_url, browser):
    page = new_page(browser, locale="ko-KR", width=1400, height=2600)
    try:
        page.goto(f"{app_url}/train?epochs=1&batch=500&model=seed_cnn")  # a teacher's link: one short epoch
        wait_idle(page, timeout_ms=90_000)
        page.get_by_role("button", name=translate("train.start", "ko")).click()
        page.get_by_text(translate("train.confusion_click", "ko")).wait_for(timeout=120_000)
        wait_idle(page)
        plot = page.locator(".st-key-train-confusion_chart .nsewdrag").first.bounding_box()
        page.mouse.click(plot["x"] + plot["width"] * 0.75, plot["y"] + plot["height"] * 0.25)  # true 2, predicted 7
        page.get_by_text(translate("train.cell", "ko", true=2, pred=7, n=0)[:12]).first.wait_for(timeout=30_000)
        assert page.locator("[data-testid='stException']").count() == 0
        screenshot(page, "train_ko_confusion_cell")
    finally:
        page.context.close()
