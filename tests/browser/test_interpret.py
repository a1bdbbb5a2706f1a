"""Inside the trained network in real Chromium: the feature gallery computed in a worker, attribution side by
side, a clicked confusion cell and a clicked point of the embedding map showing their images."""

from __future__ import annotations

import pytest

from explorer.core.i18n import translate
from tests.conftest import new_page, screenshot, wait_idle

pytestmark = pytest.mark.browser
NS = "interpret"


def _no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0


def _top_point(page, key: str) -> tuple[float, float, int, str]:
    """Page position, index (customdata) and trace name of the point drawn last, so on top of all others: the
    last point of the last class trace (the trace after it marks the chosen image)."""
    chart = page.locator(f".st-key-{key.replace('.', '-')} .js-plotly-plot").first
    x, y, index, name = chart.evaluate("""el => { const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
        const d = el._fullData[el._fullData.length - 2], i = d.x.length - 1;  // decoded arrays (typed)
        return [xa._offset + xa.l2p(d.x[i]), ya._offset + ya.l2p(d.y[i]), d.customdata[i], d.name]; }""")
    box = chart.bounding_box()
    return box["x"] + x, box["y"] + y, int(index), name


@pytest.mark.parametrize(("locale", "lang"), [("en-US", "en"), ("ko-KR", "ko")])
def test_the_filters_classes_and_attribution_of_the_bundled_model(app_url, browser, locale, lang):
    page = new_page(browser, locale=locale, width=1400, height=1200)
    try:
        page.goto(f"{app_url}/{NS}")
        wait_idle(page, timeout_ms=90_000)
        page.get_by_text(translate(f"{NS}.features.class_help", lang)).wait_for(timeout=120_000)  # both worker jobs
        page.get_by_text(translate(f"{NS}.features.optimised", lang), exact=True).wait_for(timeout=120_000)  # done
        wait_idle(page)
        _no_exception(page)
        screenshot(page, f"interpret_{lang}_features")
        page.get_by_role("tab", name=translate(f"{NS}.tab.attribution", lang)).click()
        page.get_by_text(translate(f"{NS}.sanity.title", lang)).wait_for(timeout=60_000)
        wait_idle(page)
        _no_exception(page)
        screenshot(page, f"interpret_{lang}_attribution")
    finally:
        page.context.close()


def test_a_clicked_confusion_cell_and_a_clicked_map_point_show_their_images(app_url, browser):
    page = new_page(browser, locale="ko-KR", width=1400, height=1400)
    try:
        page.goto(f"{app_url}/{NS}?view=confusion")  # a lesson link opens the tab
        page.get_by_text(translate(f"{NS}.confusion.top", "ko")).wait_for(timeout=90_000)
        wait_idle(page)
        plot = page.locator(f".st-key-{NS}-confusion-chart .nsewdrag").first.bounding_box()
        page.mouse.click(plot["x"] + plot["width"] * 0.35, plot["y"] + plot["height"] * 0.75)  # true 7, predicted 3
        page.get_by_text(translate(f"{NS}.confusion.cell", "ko", true=7, predicted=3, count=3)).wait_for(timeout=30_000)
        _no_exception(page)
        screenshot(page, "interpret_ko_confusion_cell")
        page.get_by_role("tab", name=translate(f"{NS}.tab.embedding", "ko")).click()
        page.get_by_text(translate(f"{NS}.embedding.click", "ko")).wait_for(timeout=60_000)
        wait_idle(page)
        x, y, index, label = _top_point(page, f"{NS}.embedding.map.pca")
        page.mouse.click(x, y)
        shown = translate(f"{NS}.embedding.clicked", "ko", index=index, label=label, predicted="#").split("#")[0]
        page.get_by_text(shown).first.wait_for(timeout=30_000)  # "테스트 이미지 812: 정답 9, 예측 "
        _no_exception(page)
        screenshot(page, "interpret_ko_embedding_point")
    finally:
        page.context.close()
