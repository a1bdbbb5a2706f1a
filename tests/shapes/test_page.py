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


def _latex(at) -> list[str]:
    return [x.value.strip("$\n") for x in at.latex]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_new_tabs_run_in_both_languages(lang):
    at = run_page("shapes", lang=lang)
    assert not at.exception and not at.error
    assert [tab.label for tab in at.tabs] == [translate(f"shapes.tab.{k}", lang) for k in
                                              ("calc", "network", "blocks", "rf", "grouped", "compare", "quiz")]
    assert _metric(at, "shapes.blocks.params", lang) == "760"                 # seed 001: (5·5·3 + 1)·10
    assert any("**10×10**" in m.value for m in at.markdown)                 # seed CNN pool2 unit (3, 3)
    assert translate("shapes.rf.checked", lang) in _texts(at.caption)
    assert translate("shapes.shared.slide_16", lang) in _texts(at.info)
    tables = [d.value for d in at.dataframe]
    assert any("8,960" in t.to_string() for t in tables)                    # depthwise + pointwise, 64 → 128
    assert any("nn.Sequential(" in c.value for c in at.code) and any("nn.Conv2d(1, 1, kernel_size=3" in c.value
                                                                        for c in at.code)


def test_alexnet_224_loads_into_the_calculator_and_is_explained():
    at = run_page("shapes")
    at.button(key="shapes.alex.load").click().run()
    assert not at.exception
    assert _metric(at, "shapes.calc.output") == "54 × 54"
    assert any("PyTorch" in w for w in _texts(at.warning))                  # (224 − 11)/4 does not fit evenly
    table = next(d.value for d in at.dataframe if "cuda-convnet" in d.value.to_string())
    assert table["PyTorch"].tolist() == ["✓"] * 4


@pytest.mark.parametrize(("changes", "key"), [
    ({"shapes.blocks.h": 4, "shapes.blocks.fh": 11, "shapes.blocks.padding": 0}, "shapes.err.window"),
    ({"shapes.shared.n": 3, "shapes.shared.k": 4}, "shapes.err.window"),
])
def test_bad_block_and_shared_settings_keep_the_last_view(changes, key):
    at = run_page("shapes", lang="ko")
    for name, value in changes.items():
        at.number_input(key=name).set_value(value)
    at.run()
    assert not at.exception
    assert _fixed_part(key, "ko") in " ".join(_texts(at.error))
    assert translate("common.kept_previous", "ko") in _texts(at.caption)
    assert _metric(at, "shapes.blocks.params", "ko") == "760"               # the last good blocks view stays


def test_receptive_field_network_layer_and_unit():
    at = run_page("shapes")
    at.selectbox(key=widget_key("shapes.rf.network", "en")).set_value("lenet5").run()
    at.selectbox(key=widget_key("shapes.rf.layer.lenet5", "en")).set_value(3).run()  # C3: 10×10 units
    at.slider(key="shapes.rf.row.lenet5.3").set_value(0).run()
    at.slider(key="shapes.rf.col.lenet5.3").set_value(9).run()
    assert not at.exception and not at.error
    assert any("**14×14**" in m.value and "18…31" in m.value for m in at.markdown)
    at.selectbox(key=widget_key("shapes.rf.network", "en")).set_value("vgg16_start").run()
    assert not at.exception and translate("shapes.rf.checked", "en") in _texts(at.caption)


def test_grouped_slider_from_standard_to_depthwise_survives_a_language_switch():
    at = run_page("shapes")
    at.select_slider(key=widget_key("shapes.grp.groups", "en")).set_value(64).run()
    assert not at.exception
    assert any("C_{out}\\cdot\\frac{C_{in}}{g}" in x and "{,}" in x and "= 1{,}280" in x for x in _latex(at))
    at.session_state["lang"] = "ko"
    at.run()
    assert at.select_slider(key=widget_key("shapes.grp.groups", "ko")).value == 64
    at.number_input(key="shapes.grp.c_out").set_value(100).run()  # 64 no longer divides 100: back to 1
    assert not at.exception and at.session_state["shapes.grp.groups"] == 1
    at.number_input(key="shapes.grp.c_in").set_value(1).run()      # one channel: groups can only be 1
    assert not at.exception and not at.error


def _linked(params: dict, lang: str):
    """The page opened from a lesson link with ``params``."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import APPTEST_TIMEOUT, ROOT

    at = AppTest.from_file(str(ROOT / "pages" / "shapes.py"), default_timeout=APPTEST_TIMEOUT)
    at.session_state["lang"] = lang
    at.query_params.update(params)
    at.run()
    assert not at.exception
    return at


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_lesson_link_loads_alexnet_and_the_calculator_settings(lang):
    at = _linked({"preset": "alexnet", "h": "227", "w": "227", "kh": "11", "kw": "11", "stride": "4"}, lang)
    assert not at.warning and not at.error
    assert at.selectbox(key=widget_key("shapes.net.preset", lang)).value == "alexnet"
    assert _metric(at, "shapes.net.total_params", lang) == "60,965,224"  # the table is AlexNet's
    table = next(d.value for d in at.dataframe if translate("shapes.col.params", lang) in d.value.columns)
    assert len(table) > 10 and "conv5" in table.iloc[:, 0].tolist()
    assert at.session_state["shapes.tab"] == "network"  # the link opens the table's tab
    assert _metric(at, "shapes.calc.output", lang) == "55 × 55"  # (227 - 11) / 4 + 1
    at = _linked({"h": "32", "w": "32", "kh": "5", "kw": "5", "padding": "same"}, lang)
    assert _metric(at, "shapes.calc.output", lang) == "32 × 32" and not at.warning
    assert at.text_input(key="shapes.calc.padding").value == "same"
    at = _linked({"op": "maxpool", "kh": "2", "kw": "2", "stride": "2", "ceil": "1"}, lang)  # on the default 7x7
    assert _metric(at, "shapes.calc.output", lang) == "4 × 4" and at.toggle(key="shapes.calc.ceil").value


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_bad_link_values_are_named_and_the_defaults_kept(lang):
    at = _linked({"stride": "abc", "preset": "../../etc", "padding": "1; drop", "h": "1e9"}, lang)
    reasons = {"stride": translate("common.link.not_whole", lang, low=1, high=64),
               "preset": translate("common.link.choice", lang, choices="seed_mnist_cnn, seed_deep_cnn, lenet5, "
                                                                        "alexnet, vgg16"),
               "padding": translate("shapes.link.padding", lang, low=0, high=64),
               "h": translate("common.link.not_whole", lang, low=1, high=4096)}
    assert [w.value for w in at.warning] == [translate("common.link.bad", lang, name=n, reason=r)
                                             for n, r in reasons.items()]
    assert _metric(at, "shapes.calc.output", lang) == "5 × 5"  # default 7x7, 3x3
    assert _metric(at, "shapes.net.total_params", lang) == "1,379,557"  # lecture deep CNN
