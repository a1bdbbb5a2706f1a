"""Kernel lab in Debian Chromium: plots render, a bad upload shows a message, the step-through works."""

from __future__ import annotations

import pytest

from explorer.core.i18n import translate
from tests import bad_images as bi
from tests.conftest import new_page, rerun, screenshot, wait_idle


@pytest.mark.browser
@pytest.mark.parametrize(("locale", "lang"), [("en-US", "en"), ("ko-KR", "ko")])
def test_kernel_lab_in_the_browser(app_url, browser, locale, lang):
    page = new_page(browser, locale=locale, height=2400)
    page.goto(f"{app_url}/kernels")
    wait_idle(page, timeout_ms=180_000)  # first run imports torch; the machine is shared
    page.get_by_role("heading", name=translate("kernel_lab.title", lang)).wait_for()
    page.wait_for_selector(".js-plotly-plot", timeout=120_000)  # plotly.js loads lazily; slow when loaded
    assert page.locator(".js-plotly-plot").count() >= 4  # kernel, input, output, histogram (+ pooled)
    assert page.locator("[data-testid='stException']").count() == 0

    rerun(page, page.get_by_text(translate("kernel_lab.source_upload", lang), exact=True).click)
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(
        files=[{"name": "notes.png", "mimeType": "image/png", "buffer": bi.text_named_png()}])
    page.get_by_text(translate("images.error.not_image", lang, formats="PNG")[:10]).first.wait_for(timeout=30_000)
    page.get_by_text(translate("common.kept_previous", lang)).first.wait_for()
    screenshot(page, f"kernel_lab_{lang}")

    page.get_by_role("tab", name=translate("kernel_lab.tab_steps", lang)).click()  # tabs do not rerun
    page.get_by_text("= 7", exact=False).first.wait_for(timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, f"kernel_lab_steps_{lang}")
    page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize(("locale", "lang"), [("en-US", "en"), ("ko-KR", "ko")])
def test_im2col_and_transposed_tabs_in_the_browser(app_url, browser, locale, lang):
    page = new_page(browser, locale=locale, height=1600)
    page.goto(f"{app_url}/kernels")
    wait_idle(page, timeout_ms=180_000)
    page.get_by_role("tab", name=translate("kernel_lab.tab_im2col", lang)).click()  # tabs do not rerun
    page.get_by_text(translate("kernel_lab.im2col.cols", lang, shape="4×9")).first.wait_for(timeout=60_000)
    page.get_by_text("+ 0 = 15").first.wait_for()
    screenshot(page, f"kernel_lab_im2col_{lang}")
    page.get_by_role("tab", name=translate("kernel_lab.tab_transposed", lang)).click()
    page.get_by_text(translate("kernel_lab.tr.canvas", lang, shape="7×7")).first.wait_for(timeout=60_000)
    page.get_by_text(translate("kernel_lab.tr.output", lang, shape="5×5")).first.wait_for()
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, f"kernel_lab_transposed_{lang}")
    box = page.get_by_label(translate("kernel_lab.tr.input_text", lang))  # the transposed convolution's input
    box.fill("1 2\n3 x")
    rerun(page, lambda: box.press("Control+Enter"))
    page.get_by_text(translate("common.kept_previous", lang)).first.wait_for()
    assert page.locator("[data-testid='stException']").count() == 0
    page.context.close()
