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


def _latex(at) -> list[str]:
    return [x.value.strip("$\n") for x in at.latex]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_input_and_symbolic_tabs_in_both_languages(lang):
    at = run_page(NS, lang=lang)
    assert [tab.label for tab in at.tabs] == [translate(f"backprop.tab.{k}", lang)
                                              for k in ("stepper", "input", "symbolic")]
    captions = [c.value for c in at.caption]
    assert any(c.startswith("✓") and "autograd" in c for c in captions)
    assert translate("backprop.sym.checked", lang) in captions
    assert r"\frac{\partial P}{\partial w_{11}} = x_{11} + x_{12} + x_{21} + x_{22}" in _latex(at)
    assert any("conv2d_input" in c.value for c in at.code)


def test_input_gradient_examples_steps_and_own_delta():
    at = run_page(NS, lang="en")
    at.selectbox(key=widget_key(f"{NS}.ig.example", "en")).set_value("stride2_7x7").run()
    at.slider(key=f"{NS}.ig.step").set_value(25).run()
    assert not at.exception and not _errors(at)
    at.toggle(key=f"{NS}.ig.own.stride2_7x7").set_value(True).run()  # "1 2 / 3 4" is not Y's 3×3
    assert _errors(at) == [f'{translate("common.error_prefix", "en")}: '
                           f'{translate("backprop.error.delta_shape", "en", expected="3×3", got="2×2")}']
    at.text_area(key=f"{NS}.ig.delta.stride2_7x7").set_value("1 0 0\n0 0 0\n0 0 -1").run()
    assert not at.exception and not _errors(at)


@pytest.mark.parametrize(("key", "value", "error"), [
    ("x", "1 2\n3 4", "backprop.error.kernel_too_big"),
    ("x", "1 2 x 0\n0 1 2 3\n3 0 1 2\n2 3 0 1", "backprop.error.not_number"),
    ("w", "2 0 1\n0 1", "backprop.error.shape"),
    ("padding", 3, None),  # fine: a larger δ
])
def test_bad_input_gradient_settings_keep_the_last_view(key, value, error):
    at = run_page(NS, lang="ko")
    widget = at.number_input(key=f"{NS}.ig.{key}.lecture_4x4") if key == "padding" else at.text_area(
        key=f"{NS}.ig.{key}.lecture_4x4")
    widget.set_value(value).run()
    assert not at.exception
    if error is None:
        assert not _errors(at)
        return
    assert len(_errors(at)) == 1 and translate(error, "ko").split("{")[0][:6] in _errors(at)[0]
    assert translate("common.kept_previous", "ko") in [c.value for c in at.caption]
    assert any(c.value.startswith("✓") and "autograd" in c.value for c in at.caption)  # the last good view


def test_symbolic_sizes_weights_and_a_bad_layout():
    at = run_page(NS, lang="en")
    at.number_input(key=f"{NS}.sym.w").set_value(4).run()
    at.select_slider(key=f"{NS}.sym.weight.2x2").set_value(3).run()  # w22
    at.toggle(key=f"{NS}.sym.ones").set_value(False).run()
    assert any(x.startswith(r"\frac{\partial L}{\partial w_{22}} = \delta_{11}\,x_{22}") for x in _latex(at))
    at.number_input(key=f"{NS}.sym.kh").set_value(4).run()  # taller than the 3-row input
    assert _errors(at) and "does not fit" in _errors(at)[0]
    assert translate("backprop.sym.checked", "en") in [c.value for c in at.caption]


def _linked(params: dict, lang: str):
    """The page opened from a lesson link with ``params``."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import APPTEST_TIMEOUT, ROOT

    at = AppTest.from_file(str(ROOT / "pages" / f"{NS}.py"), default_timeout=APPTEST_TIMEOUT)
    at.session_state["lang"] = lang
    at.query_params.update(params)
    at.run()
    assert not at.exception
    return at


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_lesson_link_opens_step_12_with_its_options(lang):
    at = _linked({"step": "12", "pooling": "avg", "activation": "relu", "lr": "0.5"}, lang)
    assert not at.warning and not _errors(at)
    ex = bp.toy_example() | {"lr": 0.5}
    steps = bp.walkthrough(**ex, activation="relu", pooling="avg").steps
    assert at.slider(key=f"{NS}.step").value == 12
    assert translate("backprop.step_of", lang, n=12, total=len(steps),
                     phase=translate(f"backprop.phase.{steps[11].phase}", lang)) in [c.value for c in at.caption]
    assert at.subheader[0].value == translate(steps[11].name_key, lang)
    assert at.radio(key=widget_key(f"{NS}.pooling", lang)).value == "avg"
    assert at.radio(key=widget_key(f"{NS}.activation", lang)).value == "relu"
    assert at.number_input(key=f"{NS}.lr").value == 0.5
    at.button(key=f"{NS}.next").click().run()  # the stepper goes on from there
    assert at.slider(key=f"{NS}.step").value == 13


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_bad_link_values_are_named_and_the_lecture_defaults_kept(lang):
    at = _linked({"step": "999", "pooling": "../../etc", "lr": "nan", "weight": "-1"}, lang)
    reasons = {"step": translate("common.link.range", lang, low=1, high=19),
               "pooling": translate("common.link.choice", lang, choices=", ".join(bp.POOLINGS)),
               "lr": translate("common.link.not_number", lang, low="0", high="100"),
               "weight": translate("common.link.range", lang, low=0, high=8)}
    assert [w.value for w in at.warning] == [translate("common.link.bad", lang, name=n, reason=r)
                                             for n, r in reasons.items()]
    assert at.slider(key=f"{NS}.step").value == 1 and _summary(at) == LECTURE_SUMMARY[lang]
    assert at.radio(key=widget_key(f"{NS}.pooling", lang)).value == "max"
