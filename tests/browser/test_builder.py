"""The builder in Chromium: upload a zip of class folders, train a few steps on it, download the script."""

from __future__ import annotations

import pytest

from explorer.core.i18n import translate
from tests.builder.test_page import _zip
from tests.conftest import new_page, rerun, screenshot, wait_idle

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("locale", "lang"), [("en-US", "en"), ("ko-KR", "ko")])
def test_upload_a_zip_train_it_and_take_the_script_home(app_url, browser, tmp_path, locale, lang):
    zip_path = tmp_path / "pets.zip"
    zip_path.write_bytes(_zip(per_class=8))
    page = new_page(browser, locale=locale, width=1400, height=1600)
    try:
        page.goto(f"{app_url}/builder")
        wait_idle(page)
        page.get_by_role("tab", name=translate("builder.tab.data", lang)).click()
        rerun(page, page.get_by_text(translate("builder.source.zip", lang), exact=True).click)
        wait_idle(page)  # the uploader is drawn by that rerun: a file given to the old one would be lost
        uploader = page.locator("[data-testid='stFileUploader'] input[type='file']").first
        uploader.wait_for(state="attached", timeout=30_000)
        uploader.set_input_files(str(zip_path))
        page.get_by_role("button", name=translate("builder.load", lang)).wait_for(timeout=60_000)
        page.get_by_role("button", name=translate("builder.load", lang)).click()
        loaded = translate("builder.loaded", lang, n=16, classes=2, shape="3×64×128")
        page.get_by_text(loaded).wait_for(timeout=90_000)
        wait_idle(page)
        screenshot(page, f"builder_data_{lang}")
        page.get_by_role("tab", name=translate("builder.tab.network", lang)).click()
        assert page.locator("[data-testid='stException']").count() == 0
        screenshot(page, f"builder_network_{lang}")
        page.get_by_role("tab", name=translate("builder.tab.train", lang)).click()
        rerun(page, page.get_by_role("button", name=translate("train.start", lang)).click)
        page.locator(".st-key-builder-curves .js-plotly-plot").first.wait_for(timeout=90_000)
        page.wait_for_function("""() => { const el = document.querySelector('.st-key-builder-curves .js-plotly-plot');
                                          return el && el.data && el.data[0].x.length >= 2; }""", timeout=120_000)
        screenshot(page, f"builder_train_{lang}")
        page.get_by_role("button", name=translate("train.done", lang)).wait_for(timeout=180_000)  # the run ended:
        page.locator(".st-key-builder-confusion .nsewdrag").first.wait_for(timeout=30_000)  # the matrix holds still
        wait_idle(page)
        plot = page.locator(".st-key-builder-confusion .nsewdrag").first.bounding_box()
        page.mouse.click(plot["x"] + plot["width"] * 0.25, plot["y"] + plot["height"] * 0.25)  # cats as cats
        cell = translate("builder.cell", lang, true="cats", pred="cats", n="#").split("#")[0]
        page.get_by_text(cell).first.wait_for(timeout=30_000)  # the clicked cell's test images
        assert page.locator("[data-testid='stException']").count() == 0
        screenshot(page, f"builder_confusion_cell_{lang}")
        page.get_by_role("tab", name=translate("builder.tab.code", lang)).click()
        with page.expect_download(timeout=30_000) as download:
            page.get_by_role("button", name=translate("builder.download_script", lang)).click()
        script = (tmp_path / "script.py")
        download.value.save_as(script)
        text = script.read_text(encoding="utf-8")
        assert "ImageFolder" in text and "class CNN" in text and "Accuracy" in text
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        page.context.close()
