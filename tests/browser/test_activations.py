"""The "your own image" page in Chromium: draw a digit on the canvas or pick a test digit, see the prediction."""

from __future__ import annotations

import pytest

from tests.conftest import new_page, rerun, screenshot, wait_idle

pytestmark = pytest.mark.browser


def _draw_one(page) -> None:
    """Draw a vertical stroke (a "1") on the drawing pad (a canvas inside the component's shadow root)."""
    canvas = page.locator("canvas").first
    canvas.wait_for(timeout=30_000)
    box = canvas.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.12
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 31):
        page.mouse.move(x, y + i * box["height"] * 0.025, steps=2)
    page.mouse.up()


def test_draw_a_digit_and_see_the_prediction(app_url, browser):
    page = new_page(browser, locale="en-US", height=2600)
    page.goto(f"{app_url}/activations")
    wait_idle(page)
    assert page.get_by_text("Draw a digit first").is_visible()
    _draw_one(page)
    metric = page.locator("[data-testid='stMetricValue']").first
    metric.wait_for(timeout=60_000)
    wait_idle(page)
    assert metric.inner_text().strip() == "1"
    assert page.get_by_text("6. centre of mass in 28×28").is_visible()
    page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
    screenshot(page, "activations_en")
    page.context.close()


def test_pick_a_test_digit_in_korean(app_url, browser):
    page = new_page(browser, locale="ko-KR", height=2600)
    page.goto(f"{app_url}/activations")
    wait_idle(page)
    rerun(page, page.locator("button", has_text="테스트 숫자").first.click)
    metric = page.locator("[data-testid='stMetricValue']").first
    assert metric.inner_text().strip() == "7"
    assert page.get_by_text("정답 레이블: 7").is_visible()
    page.locator(".js-plotly-plot").nth(2).wait_for(timeout=30_000)
    screenshot(page, "activations_ko")
    page.context.close()
