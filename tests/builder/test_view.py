"""explorer.builder.view: the table as editor rows and back, the checked table in both languages, runs."""

from __future__ import annotations

import math

import pytest

from explorer.builder import check_layers, preset, view
from explorer.core.i18n import LANGUAGES, translate


@pytest.mark.parametrize("name", ["seed_cnn", "deep_seed_cnn", "lenet5", "fc_16x16"])
def test_every_preset_survives_the_editor_round_trip(name):
    table = preset(name)
    back = view.table_from_records(view.editor_records(table))
    assert check_layers(back, (1, 28, 28) if name != "fc_16x16" else (1, 16, 16)).layers == \
        check_layers(table, (1, 28, 28) if name != "fc_16x16" else (1, 16, 16)).layers


def test_edited_cells_are_typed_and_blank_rows_dropped():
    records = [{"kind": "conv", "size": 8.0, "kernel": "3×5", "stride": "", "padding": "same", "p": math.nan},
               {"kind": None, "size": math.nan, "kernel": "", "stride": "", "padding": "", "p": math.nan},
               {"kind": "dropout", "size": math.nan, "kernel": "", "stride": "", "padding": "", "p": 0.25},
               {"kind": "linear", "size": math.nan, "kernel": "", "stride": "", "padding": "", "p": math.nan}]
    table = view.table_from_records(records)
    assert table == [{"kind": "conv", "out_channels": 8, "kernel": [3, 5], "padding": "same"},
                     {"kind": "dropout", "p": 0.25}, {"kind": "linear", "out_features": None}]
    check = check_layers(table, (1, 28, 28))
    assert [p.row for p in check.problems] == [2]  # the linear row without a size is named


@pytest.mark.parametrize("lang", LANGUAGES)
def test_summary_and_problems_speak_the_language(lang):
    check = check_layers([{"kind": "conv", "out_channels": 4, "kernel": 31}], (1, 28, 28), classes=10)
    messages = view.problem_messages(check, lang=lang)
    assert messages and messages[0].startswith(translate("builder.error.at_row", lang, row=1, reason="")[:3])
    records = view.summary_records(check, lang=lang)
    assert list(records[0])[1] == translate("builder.col.kind", lang)
    assert records[0][translate("builder.col.kind", lang)] == translate("builder.kind.conv", lang)


def test_gradient_norm_means_are_geometric_and_runs_are_bounded():
    assert view.mean_grad_norms([[1.0, 100.0], [100.0, 1.0]]) == pytest.approx((10.0, 10.0))
    assert view.mean_grad_norms([]) == ()
    runs = []
    for n in range(6):
        runs = view.keep(runs, view.RunRecord(f"r{n}", (), 1, 1, (0.5,), (1.0,), 1.0, ()))
    assert [r.label for r in runs] == ["r2", "r3", "r4", "r5"]
    table = view.runs_table(runs, lang="ko")
    assert table[0][translate("builder.run.accuracy", "ko")] == "50.0%"
    assert view.weighted_rows(preset("seed_cnn")) == [0, 3, 7]
