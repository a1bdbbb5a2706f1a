"""explorer.shapes.view: the Shapes page's messages, tables and widget states, without Streamlit."""

from __future__ import annotations

import pytest
from torch import nn

from explorer.core.i18n import LANGUAGES, translate
from explorer.shapes import network, quiz, sizes, view
from explorer.shapes.network import Verification
from explorer.shapes.sizes import LayerError, ShapeError


@pytest.mark.parametrize("lang", LANGUAGES)
def test_error_messages_name_the_layer_inside_a_network(lang):
    plain = ShapeError("shapes.err.stride", value=0)
    assert view.error_message(plain, lang=lang) == translate("shapes.err.stride", lang, value=0)
    at_layer = LayerError(plain, index=2, name="conv3")
    expected = translate("shapes.err.at_layer", lang, number=3, name="conv3", reason=translate(
        "shapes.err.stride", lang, value=0))
    assert view.error_message(at_layer, lang=lang) == expected
    rows = network.summarize([network.conv(8, 5)] * 3, (1, 12, 12), strict=False)
    assert view.row_error_message(rows[0], lang=lang) is None
    with pytest.raises(LayerError) as info:
        network.summarize([network.conv(8, 5)] * 3, (1, 12, 12))
    assert view.row_error_message(rows[-1], lang=lang) == view.error_message(info.value, lang=lang)


def test_worked_example_buttons_and_the_state_they_load():
    ex = sizes.WORKED_EXAMPLES[0]
    assert view.example_label(ex) == "227×227 · 11×11 · S4 · P0"
    state = view.example_state(ex)
    assert state["shapes.calc.h"] == 227 and state["shapes.calc.padding"] == "0" and state["shapes.calc.pos"] == 0
    assert all(key.startswith("shapes.calc.") for key in state)


def _values(**changes):
    return {"h": 7, "w": 7, "kh": 3, "kw": 3, "stride": 1, "dilation": 1, "padding": "0", "op": "conv",
            "ceil": False, **changes}


@pytest.mark.parametrize("ex", sizes.WORKED_EXAMPLES, ids=view.example_label)
def test_calc_result_reproduces_the_worked_examples_and_torch(ex):
    values = _values(**{k.removeprefix("shapes.calc."): v for k, v in view.example_state(ex).items()})
    result = view.calc_result(values, lang="en")
    assert (result["h"][0], result["w"][0]) == ex.answer
    conv = nn.Conv2d(1, 1, (ex.kh, ex.kw), stride=ex.stride, padding=ex.padding, device="meta")
    assert tuple(conv(nn.init.zeros_(conv.weight.new_empty(1, 1, ex.h, ex.w))).shape[2:]) == ex.answer


def test_calc_result_rejects_bad_padding_with_a_translated_name():
    with pytest.raises(ShapeError) as info:
        view.calc_result(_values(padding="abc"), lang="ko")
    assert info.value.key == "shapes.err.not_integer"
    assert info.value.params["what"] == translate("shapes.calc.padding", "ko")
    assert view.calc_result(_values(padding="same"), lang="en")["h"][0] == 7


@pytest.mark.parametrize("lang", LANGUAGES)
def test_fit_messages_only_when_the_window_does_not_fit(lang):
    result = view.calc_result(_values(stride=3), lang=lang)          # 7/3/3: the lecture's "cannot"
    warning, suggest = view.fit_messages("h", result["h"][2], lang=lang)
    assert "2.33333" in warning and "{" not in warning + suggest
    assert "1 → 3" in suggest                                         # padding 1 fits: (7+2-3)/3+1 = 3
    assert view.fit_messages("h", view.calc_result(_values(), lang=lang)["h"][2], lang=lang) is None


def test_grid_args_and_labels():
    values = _values(padding="1", stride=2)
    args = view.grid_args(values, view.calc_result(values, lang="en"))
    assert args == {"h": 7, "w": 7, "kernel": (3, 3), "stride": (2, 2), "padding": (1, 1), "dilation": (1, 1)}
    for padding, drawn in (("0", True), ("1", False)):                  # 24 cells per side at most
        edge = _values(h=24, padding=padding)
        assert (view.grid_args(edge, view.calc_result(edge, lang="en")) is not None) == drawn
    same = _values(padding="same", kh=5)
    assert view.grid_args(same, view.calc_result(same, lang="en"))["padding"] == (2, 1)   # 5×3 kernel
    labels = view.grid_labels(lang="ko")
    assert set(labels) == set(view.GRID_LABELS) and labels["padding"] == translate("shapes.grid.padding", "ko")


def test_preset_state_and_parse_network_round_trip():
    state = view.preset_state("seed_mnist_cnn")
    assert state["shapes.net.input"] == "1×28×28"
    layers, shape = view.parse_network(state["shapes.net.records"], state["shapes.net.input"], lang="en")
    assert layers == list(network.PRESETS["seed_mnist_cnn"].layers) and shape == (1, 28, 28)
    with pytest.raises(ShapeError) as info:
        view.parse_network(state["shapes.net.records"], "one×28×28", lang="ko")
    assert info.value.params["what"] == translate("shapes.net.input", "ko")
    with pytest.raises(LayerError) as info:
        view.parse_network([{"kind": "conv", "out": 8, "kernel": "five"}], "1×8×8", lang="en")
    assert info.value.index == 0


@pytest.mark.parametrize("lang", LANGUAGES)
def test_summary_records_metrics_and_exports(lang):
    rows = network.summarize("seed_mnist_cnn")
    records = view.summary_records(rows, lang=lang)
    assert len(records) == len(rows) and list(records[0]) == view.headers(lang=lang)
    first = list(records[0].values())
    assert first == ["conv1", translate("shapes.kind.conv", lang), "32×28×28", 320, 32 * 28 * 28 * 9, 3]
    metrics = view.network_metrics(rows, lang=lang)
    assert metrics[0] == (translate("shapes.net.total_params", lang), "50,186") and metrics[2][1] == "10"
    files = view.export_files(rows, lang=lang)
    assert [f[2] for f in files] == ["network.csv", "network.md", "network.tex"]
    csv_lines = files[0][1].decode("utf-8-sig").splitlines()
    assert csv_lines[0] == ",".join(view.headers(lang=lang))
    assert csv_lines[1].split(",")[1] == translate("shapes.kind.conv", lang)
    assert csv_lines[-1].startswith(translate("shapes.net.total", lang) + ",,,50186,")


def test_a_broken_network_is_marked_and_left_out_of_totals():
    rows = network.summarize([network.conv(8, 5)] * 3, (1, 12, 12), strict=False)
    records = view.summary_records(rows, lang="en")
    assert list(records[-1].values())[2] == "⚠"
    good_params = sum(r.params for r in rows[:-1])
    assert view.network_metrics(rows, lang="en")[0][1] == f"{good_params:,}"
    assert len(view.export_files(rows, lang="en")[0][1].splitlines()) == 1 + 2 + 1  # headers, 2 good, total
    assert view.network_metrics(rows[-1:], lang="en")[2][1] == "—"


def test_floored_formulas_point_at_the_layers_that_were_floored():
    rows = network.summarize("seed_deep_cnn")
    floored = view.floored_formulas(rows, network.PRESETS["seed_deep_cnn"].layers)
    assert [name for name, _ in floored] == ["pool3"]                  # ⌊(7+2-2)/2⌋+1 = 4: where the 4 comes from
    assert floored[0][1].endswith("= 4")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_verification_message_levels(lang):
    level, text = view.verification_message(network.verify("lenet5"), lang=lang)
    assert level == "success" and "61,706" in text
    skipped = Verification(None, skipped_key="shapes.err.too_large", skipped_params={"params": 5, "limit": 1})
    assert view.verification_message(skipped, lang=lang) == (
        "warning", translate("shapes.err.too_large", lang, params=5, limit=1))
    assert view.verification_message(Verification("cpu"), lang=lang) == (
        "error", translate("shapes.net.mismatch", lang))


def test_comparison_tables():
    metrics = view.connectivity_metrics(view.CONNECTIVITY_SIZES, lang="en")
    assert [value for _, value in metrics] == ["1,600,000,000", "4,000,000", "10,000"]
    records = view.stack_records({2: (18, 5), 3: (27, 6)}, lang="ko")
    torch_col = translate("shapes.cmp.torch", "ko")
    assert [r[torch_col] for r in records] == ["✓", "✗"]                # a wrong measurement shows ✗
    assert records[0][translate("shapes.cmp.single", "ko")] == "5×5: 25"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_quiz_feedback_scores_and_flags_non_numbers(lang):
    questions = quiz.make_quiz(2024)
    answers = ["열", *(str(q.answer) for q in questions[1:-1]), str(questions[-1].answer + 1)]
    feedback, score = view.quiz_feedback(questions, answers, lang=lang)
    assert score == len(questions) - 2
    assert [level for level, _, _ in feedback] == ["error", *["success"] * (len(questions) - 2), "warning"]
    assert feedback[0][1].startswith("1. ") and "열" in feedback[0][1] and feedback[0][2] is None
    assert feedback[-1][2] == questions[-1].formula


@pytest.mark.parametrize("lang", LANGUAGES)
def test_quiz_blank_answers_are_unanswered_and_messages_name_the_field_in_the_language(lang):
    questions = quiz.make_quiz(7)
    answers = ["", "   ", "x", *(str(q.answer) for q in questions[3:])]
    feedback, score = view.quiz_feedback(questions, answers, lang=lang)
    assert [level for level, _, _ in feedback[:3]] == ["info", "info", "error"]
    assert score == len(questions) - 3
    assert translate("shapes.quiz.answer", lang) in feedback[2][1]
    if lang == "ko":
        assert "answer" not in " ".join(message for _, message, _ in feedback)
