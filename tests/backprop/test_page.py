"""AppTest of pages/backprop.py: both languages, navigation, every bad input, the last valid inputs stay."""

from __future__ import annotations

import pytest

from explorer.backprop import toy as bp
from explorer.core.i18n import translate
from explorer.core.session import widget_key
from tests.conftest import run_page

NS = "backprop"
LECTURE_SUMMARY = {"en": "E = 0.1233 → after the update 0.1226", "ko": "E = 0.1233 → 업데이트 후 0.1226"}


def _summary(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("E = "))


def _errors(at) -> list[str]:
    return [e.value for e in at.error]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_page_shows_the_lecture_in_both_languages(lang):
    at = run_page(NS, lang=lang)
    assert not at.exception and not _errors(at)
    assert at.title[0].value == translate("backprop.title", lang)
    assert _summary(at) == LECTURE_SUMMARY[lang]
    assert at.subheader[0].value == translate("backprop.step.conv.name", lang)
    assert [s.value for s in at.success] == [translate("backprop.verify_ok", lang)]
    assert not at.warning


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_next_previous_and_slider_walk_every_step(lang):
    at = run_page(NS, lang=lang)
    steps = bp.walkthrough(**{k: v for k, v in bp.toy_example().items()}).steps
    for n, step in enumerate(steps, start=1):
        if n > 1:
            at.button(key=f"{NS}.next").click().run()
        assert not at.exception, step.id
        assert at.slider(key=f"{NS}.step").value == n
        assert at.subheader[0].value == translate(step.name_key, lang)
    at.button(key=f"{NS}.next").click().run()  # past the end: stays on the last step
    assert at.slider(key=f"{NS}.step").value == len(steps)
    at.button(key=f"{NS}.prev").click().run()
    assert at.slider(key=f"{NS}.step").value == len(steps) - 1
    at.slider(key=f"{NS}.step").set_value(9).run()
    assert at.subheader[0].value == translate(steps[8].name_key, lang)
    at.select_slider(key=f"{NS}.weight").set_value(4).run()
    at.select_slider(key=f"{NS}.focus").set_value(15).run()
    assert not at.exception


def test_max_pool_steps_explain_ties():
    at = run_page(NS, lang="ko", state={f"{NS}.step": 3})
    assert translate("backprop.ties_note", "ko") in [i.value for i in at.info]


@pytest.mark.parametrize(("field", "text", "key"), [
    ("X", "", "backprop.error.empty"),
    ("X", "1 2 3 4 5 x\n" * 6, "backprop.error.not_number"),
    ("X", "1,2,,4,5,6\n" * 6, "backprop.error.empty_cell"),
    ("X", "1 2 3 4 5 nan\n" * 6, "backprop.error.not_finite_cell"),
    ("W1", "1 0 0\n0 inf 0\n0 0 1", "backprop.error.not_finite_cell"),
    ("X", "1 2 3 4 5 6\n" * 5, "backprop.error.shape"),
    ("W1", "1 0\n0 1", "backprop.error.shape"),
    ("W2", "0 0.01 0", "backprop.error.shape"),
    ("W2", "0 0.01\n0 0.01", "backprop.error.shape"),
])
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_bad_matrix_input_is_explained_and_the_last_valid_inputs_stay(field, text, key, lang):
    at = run_page(NS, lang=lang)
    at.text_area(key=f"{NS}.X_text").set_value("1 1 1 1 1 1\n" * 6).run()  # a valid change first
    valid_summary = _summary(at)
    assert valid_summary != LECTURE_SUMMARY[lang]
    at.text_area(key=f"{NS}.{field}_text").set_value(text).run()
    assert not at.exception
    errors = _errors(at)
    assert len(errors) == 1
    with pytest.raises(bp.BackpropInputError) as err:
        bp.parse_matrix(text, name=field, shape={"X": (6, 6), "W1": (3, 3), "W2": (1, 4)}[field])
    assert err.value.key == key
    assert errors == [f'{translate("common.error_prefix", lang)}: {translate(key, lang, **err.value.params)}']
    assert translate("common.kept_previous", lang) in [c.value for c in at.caption]
    assert _summary(at) == valid_summary  # the previous valid X is still in use


def test_exploding_learning_rate_is_explained_not_crashing():
    at = run_page(NS, lang="en")
    at.radio(key=widget_key(f"{NS}.activation", "en")).set_value("relu").run()
    at.radio(key=widget_key(f"{NS}.update", "en")).set_value("both").run()
    at.number_input(key=f"{NS}.lr").set_value(1e6).run()
    assert not at.exception and not _errors(at)
    warnings = [w.value for w in at.warning]
    assert any(w.startswith("The update made E larger") for w in warnings)
    assert "E went up at step 1 (0.4863 → 3.462e+28): with this learning rate the updates overshoot." \
        in warnings  # the K-step curve
    at.number_input(key=f"{NS}.lr").set_value(1e300).run()
    assert not at.exception and not _errors(at)
    warnings = [w.value for w in at.warning]
    assert any("diverged (E exploded)" in w for w in warnings)  # the update step
    assert "E became infinite or undefined at step 1; the curve stops there. Lower the learning rate." \
        in warnings  # the K-step curve


def test_saturated_sigmoid_is_explained():
    at = run_page(NS, lang="ko")
    at.text_area(key=f"{NS}.W1_text").set_value("1000 0 0\n0 1000 0\n0 0 1000").run()
    assert not at.exception and not _errors(at)
    assert any("시그모이드가 포화" in w.value for w in at.warning)


def test_options_recompute_and_reset_restores_the_lecture():
    at = run_page(NS, lang="en")
    at.radio(key=widget_key(f"{NS}.pooling", "en")).set_value("avg").run()
    at.radio(key=widget_key(f"{NS}.activation", "en")).set_value("relu").run()
    at.number_input(key=f"{NS}.y").set_value(0.0).run()
    assert not at.exception and _summary(at) != LECTURE_SUMMARY["en"]
    at.button(key=f"{NS}.reset").click().run()
    assert _summary(at) == LECTURE_SUMMARY["en"]
    assert at.radio(key=widget_key(f"{NS}.pooling", "en")).value == "max"


def test_random_and_mnist_sources_load_into_x():
    at = run_page(NS, lang="ko")
    at.selectbox(key=widget_key(f"{NS}.source", "ko")).set_value("random").run()
    at.number_input(key=f"{NS}.seed").set_value(7).run()
    at.button(key=f"{NS}.load").click().run()
    assert at.text_area(key=f"{NS}.X_text").value == bp.format_matrix(bp.random_input(7))
    assert not at.exception and _summary(at) != LECTURE_SUMMARY["ko"]
    at.selectbox(key=widget_key(f"{NS}.source", "ko")).set_value("mnist").run()
    at.slider(key=f"{NS}.crop_row").set_value(8).run()
    at.button(key=f"{NS}.load").click().run()
    assert not at.exception and not _errors(at)
    x = bp.parse_matrix(at.text_area(key=f"{NS}.X_text").value, name="X", shape=(6, 6))
    assert 0 <= x.min() and x.max() <= 1 and x.max() > 0


def test_play_advances_and_stops_at_the_end():
    at = run_page(NS, lang="en")
    at.toggle(key=f"{NS}.play").set_value(True).run()
    assert not at.exception and at.slider(key=f"{NS}.step").value == 2
    at.slider(key=f"{NS}.step").set_value(18).run()
    at.run()
    assert not at.exception
    assert at.toggle(key=f"{NS}.play").value is False  # reached the last step: play switched off
