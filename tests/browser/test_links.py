"""Lesson links in real Chromium: a teacher's link opens each lesson page with its settings in view (one page
load per page, the languages taking turns), with no exception and no refused setting."""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from explorer.core.i18n import translate
from tests.conftest import new_page, screenshot, wait_idle

pytestmark = pytest.mark.browser


def _text(page, text: str, *, exact: bool = False) -> None:
    """Wait until ``text`` is on screen (visible, not merely in a closed tab or expander)."""
    page.get_by_text(text, exact=exact).first.wait_for(timeout=60_000)


def _value(page, key: str, expected: str) -> str:
    """The typed value of the number input whose widget key is ``key``, once it shows ``expected`` (a page
    still rerunning may show the old one for a moment), or what it shows after 30 s."""
    box = page.locator(f".st-key-{key.replace('.', '-')} input").first
    try:
        page.wait_for_function("([el, want]) => el.value === want", arg=[box.element_handle(timeout=30_000), expected],
                               timeout=30_000)
    except PlaywrightTimeout:
        pass
    return box.input_value(timeout=30_000)


def _chosen(page) -> list[str]:
    """The options the page's select boxes show (a select box shows its choice as its input's value)."""
    return [box.input_value(timeout=30_000) for box in page.locator("[data-testid='stSelectbox'] input").all()]


def _open_tab(page, label: str) -> None:
    page.get_by_role("tab", name=label, selected=True).wait_for(timeout=30_000)


def _kernels(page, lang: str) -> None:
    from explorer.core import images
    from explorer.core.samples import sample_images
    from explorer.kernels import ops as kn

    chosen = _chosen(page)
    assert translate(kn.preset_label_key("sobel_x"), lang) in chosen and translate("samples.coffee", lang) in chosen
    h, w = images.preview(images.load_image(sample_images()["coffee"].read_bytes())).shape[:2]
    oh, ow = kn.output_shape((h, w), (3, 3), stride=2)
    _text(page, translate("kernel_lab.true_scale", lang, h=h, w=w, oh=oh, ow=ow))  # the coffee photo at stride 2
    assert _value(page, "kernel_lab.stride", "2") == "2"


def _shapes(page, lang: str) -> None:
    _open_tab(page, translate("shapes.tab.network", lang))  # the link opens the table's tab
    assert translate("shapes.preset.alexnet", lang) in _chosen(page)
    _text(page, "60,965,224", exact=True)  # AlexNet's parameter count under its table


def _backprop(page, lang: str) -> None:
    from explorer.backprop import toy as bp

    steps = bp.walkthrough(**bp.toy_example()).steps
    _text(page, translate("backprop.step_of", lang, n=12, total=len(steps),
                          phase=translate(f"backprop.phase.{steps[11].phase}", lang)))
    _text(page, translate(steps[11].name_key, lang), exact=True)


def _fc(page, lang: str) -> None:
    from explorer.fc import matrix

    ex = matrix.default_batch(layers=3, n=6, size=5, seed=3)
    _text(page, translate("fc.example", lang, **ex.text_params))  # the linked batch is loaded


def _train(page, lang: str) -> None:
    page.get_by_text(translate("train.settings", lang), exact=True).first.click()  # the settings' expander
    _text(page, translate("train.lr", lang), exact=True)
    assert _value(page, "train.lr", "0.01000") == "0.01000" and _value(page, "train.epochs", "2") == "2"


def _builder(page, lang: str) -> None:
    _text(page, translate("builder.preset.lenet5.help", lang))
    assert _value(page, "builder.epochs", "3") == "3"


def _interpret(page, lang: str) -> None:
    _open_tab(page, translate("interpret.tab.adversarial", lang))
    _text(page, translate("interpret.adversarial.eps", lang))
    _text(page, "0.200", exact=True)  # the strength slider at the linked ε


def _activations(page, lang: str) -> None:
    assert _value(page, "activations.test_index", "7") == "7"


CASES = [  # page, a teacher's link, the browser's language, what the view must show
    ("kernels", "preset=sobel_x&sample=coffee&stride=2", "en", _kernels),
    ("shapes", "preset=alexnet", "ko", _shapes),
    ("backprop", "step=12", "en", _backprop),
    ("fc", "layers=3&n=6&size=5&seed=3", "ko", _fc),
    ("train", "lr=0.01&epochs=2", "en", _train),
    ("builder", "preset=lenet5&epochs=3", "ko", _builder),
    ("interpret", "view=adversarial&eps=0.2", "en", _interpret),
    ("activations", "source=test&digit=7", "ko", _activations),
]


@pytest.mark.parametrize(("name", "query", "lang", "check"), CASES, ids=[c[0] for c in CASES])
def test_a_lesson_link_opens_the_page_with_its_settings(app_url, browser, name, query, lang, check):
    page = new_page(browser, locale={"en": "en-US", "ko": "ko-KR"}[lang], width=1400, height=1600)
    try:
        page.goto(f"{app_url}/{name}?{query}")
        wait_idle(page, timeout_ms=90_000)
        check(page, lang)
        refused = translate("common.link.bad", lang, name="|", reason="").split("“")[0]
        assert page.get_by_text(refused).count() == 0, "a linked setting was refused"
        assert page.locator("[data-testid='stException']").count() == 0
        screenshot(page, f"link_{name}_{lang}", full_page=False)
    finally:
        page.context.close()
