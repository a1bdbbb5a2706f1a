"""AppTest of pages/shapes.py: both languages, worked examples, and every bad input of issue 4."""

from __future__ import annotations

import re

import pytest

from explorer.core.i18n import translate
from explorer.core.session import widget_key
from explorer.shapes import quiz
from tests.conftest import run_page


def _texts(elements) -> list[str]:
    return [e.value for e in elements]


def _metric(at, label_key: str, lang: str = "en") -> str:
    label = translate(label_key, lang)
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_page_runs_in_both_languages_and_is_verified_by_pytorch(lang):
    at = run_page("shapes", lang=lang)
    assert not at.exception
    assert at.title[0].value == translate("shapes.title", lang)
    assert _metric(at, "shapes.calc.output", lang) == "5 × 5"              # default 7x7, 3x3
    assert _metric(at, "shapes.net.total_params", lang) == "1,379,557"     # lecture deep CNN
    assert any(s.startswith("✓") for s in _texts(at.success))
    floored = translate("shapes.net.floored", lang, name="pool3")
    assert floored in _texts(at.info)                                      # where the 4 comes from
    assert _metric(at, "shapes.cmp.fc", lang) == "1,600,000,000"


@pytest.mark.parametrize(("index", "expected", "uneven"), [
    (0, "55 × 55", False), (1, "29 × 29", True), (3, "28 × 60", False), (7, "2 × 2", True), (8, "10 × 11", False),
])
def test_worked_examples_load_in_one_click(index, expected, uneven):
    at = run_page("shapes")
    at.button(key=f"shapes.example.{index}").click().run()
    assert not at.exception
    assert _metric(at, "shapes.calc.output") == expected
    assert any("PyTorch" in w for w in _texts(at.warning)) == uneven


BAD_CALCULATOR_INPUTS = [
    ({"shapes.calc.h": 0}, "shapes.err.size"),
    ({"shapes.calc.w": -4}, "shapes.err.size"),
    ({"shapes.calc.stride": 0}, "shapes.err.stride"),
    ({"shapes.calc.kh": 0}, "shapes.err.kernel"),
    ({"shapes.calc.dilation": 0}, "shapes.err.dilation"),
    ({"shapes.calc.kh": 9}, "shapes.err.window"),                  # kernel larger than the padded input
    ({"shapes.calc.padding": "abc"}, "shapes.err.not_integer"),    # non-numeric
    ({"shapes.calc.padding": "-1"}, "shapes.err.padding"),
    ({"shapes.calc.padding": "same", "shapes.calc.stride": 2}, "shapes.err.same_stride"),
    ({"shapes.calc.h": 10**8}, "shapes.err.size_too_large"),
]


@pytest.mark.parametrize(("changes", "key"), BAD_CALCULATOR_INPUTS, ids=[k for _, k in BAD_CALCULATOR_INPUTS])
def test_bad_calculator_inputs_show_a_message_and_keep_the_previous_result(changes, key):
    at = run_page("shapes")
    for name, value in changes.items():
        widget = at.text_input(key=name) if name.endswith("padding") else at.number_input(key=name)
        widget.set_value(value)
    at.run()
    assert not at.exception
    assert _fixed_part(key) in " ".join(_texts(at.error))
    assert translate("common.kept_previous", "en") in _texts(at.caption)
    assert _metric(at, "shapes.calc.output") == "5 × 5"                   # the previous valid result


def _fixed_part(key: str, lang: str = "en") -> str:
    """The longest literal piece of a message template (the part that does not depend on numbers)."""
    return max(re.split(r"\{[^}]*\}", translate(key, lang)), key=len).strip()


def test_pooling_with_ceil_mode_and_a_bad_pool_padding():
    at = run_page("shapes")
    at.segmented_control(key=widget_key("shapes.calc.op", "en")).set_value("maxpool")
    at.number_input(key="shapes.calc.kh").set_value(2)
    at.number_input(key="shapes.calc.kw").set_value(2)
    at.number_input(key="shapes.calc.stride").set_value(2)
    at.toggle(key="shapes.calc.ceil").set_value(True).run()
    assert not at.exception and _metric(at, "shapes.calc.output") == "4 × 4"   # ⌈5/2⌉ + 1
    at.toggle(key="shapes.calc.ceil").set_value(False).run()
    assert _metric(at, "shapes.calc.output") == "3 × 3"
    at.text_input(key="shapes.calc.padding").set_value("2").run()
    assert translate("shapes.err.pool_padding", "en", padding=2, kernel=2, limit=1) in _texts(at.error)


@pytest.mark.parametrize("preset", ["seed_mnist_cnn", "lenet5", "alexnet", "vgg16"])
def test_presets_load_and_are_verified(preset):
    at = run_page("shapes", lang="ko")
    at.selectbox(key=widget_key("shapes.net.preset", "ko")).set_value(preset).run()
    assert not at.exception
    expected = {"seed_mnist_cnn": "50,186", "lenet5": "61,706", "alexnet": "60,965,224", "vgg16": "138,357,544"}
    assert _metric(at, "shapes.net.total_params", "ko") == expected[preset]
    device = "meta" if preset in ("alexnet", "vgg16") else "cpu"
    prefix = translate(f"shapes.net.verified_{device}", "ko", params="", ms="").split("(")[0]
    assert any(s.startswith(prefix) for s in _texts(at.success))


def _network_state(records, input_shape="1×16×16"):
    return {"shapes.net.records": records, "shapes.net.version": 0, "shapes.net.input": input_shape,
            "shapes.net.preset": "seed_mnist_cnn"}


CONV = {"kind": "conv", "out": 8, "kernel": "5"}


@pytest.mark.parametrize(("records", "input_shape", "key"), [
    ([CONV, {"kind": "maxpool", "kernel": "2"}, CONV, CONV], "1×16×16", "shapes.err.window"),  # breaks mid-way
    ([{**CONV, "kernel": "five"}], "1×16×16", "shapes.err.not_integer"),
    ([{"kind": "linear", "out": 10}], "1×16×16", "shapes.err.linear_needs_flatten"),
    ([CONV], "1×0×16", "shapes.err.input_shape"),
    ([CONV], "one×16×16", "shapes.err.not_integer"),
    ([CONV], "1×16", "shapes.err.input_shape"),
    ([{**CONV, "stride": "0"}], "1×16×16", "shapes.err.stride"),
    ([{"kind": "relu"}] * 201, "1×16×16", "shapes.err.too_many_layers"),
])
def test_bad_networks_are_flagged_without_a_traceback(records, input_shape, key):
    at = run_page("shapes", state=_network_state(records, input_shape))
    assert not at.exception
    assert _fixed_part(key) in " ".join(_texts(at.error))


def test_a_network_that_breaks_mid_way_shows_the_good_layers_and_names_the_bad_one():
    records = [CONV, {"kind": "maxpool", "kernel": "2"}, CONV, CONV]
    at = run_page("shapes", state=_network_state(records))
    assert at.error[0].value.startswith(translate("shapes.err.at_layer", "en", number=4, name="conv3", reason=""))
    table = next(d.value for d in at.dataframe if "⚠" in d.value.to_string())
    assert table.shape[0] == 4   # three good rows + the flagged one


def test_an_absurdly_large_network_is_not_built():
    records = [{"kind": "flatten"}, {"kind": "linear", "out": 1_000_000}, {"kind": "linear", "out": 1_000_000}]
    at = run_page("shapes", state=_network_state(records, "1×1000×1000"))
    assert not at.exception
    assert any("PyTorch" in w for w in _texts(at.warning))
    assert _metric(at, "shapes.net.total_params") == "2,000,002,000,000"


def test_quiz_checks_answers_and_refuses_bad_input():
    at = run_page("shapes", lang="ko")
    questions = quiz.make_quiz(2024)
    for i, q in enumerate(questions):
        at.text_input(key=f"shapes.quiz.answer.2024.{i}").set_value(str(q.answer if i else "열"))
    at.button(key="shapes.quiz.check").click().run()
    assert not at.exception
    assert _metric(at, "shapes.quiz.score", "ko") == f"{len(questions) - 1} / {len(questions)}"
    assert any("열" in e for e in _texts(at.error))                     # the non-numeric answer
    at.text_input(key="shapes.quiz.seed").set_value("abc").run()
    assert _fixed_part("shapes.err.not_integer", "ko") in " ".join(_texts(at.error)) and not at.exception
    at.text_input(key="shapes.quiz.seed").set_value("-1").run()
    assert translate("shapes.err.seed", "ko", limit=quiz.MAX_SEED) in _texts(at.error)
