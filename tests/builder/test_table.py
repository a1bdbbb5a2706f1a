"""The layer table: the lectures' presets, every row's shapes/parameters/MACs against the real PyTorch module,
bad rows explained in place (never raising for the whole table), limits, row editing and the JSON file."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from explorer.builder import LIMITS, table
from explorer.builder.model import build_model
from explorer.builder.table import TableError
from explorer.core.i18n import catalog
from explorer.shapes import summarize

LECTURE_PARAMS = {"seed_cnn": 50_186, "deep_seed_cnn": 1_379_557, "lenet5": 61_706,
                  "fc_16x16": 25_600 + 2_600 + 100 + 26}
LECTURE_OUTPUTS = {
    "seed_cnn": {2: (32, 14, 14), 5: (64, 7, 7), 6: (3136,), 7: (10,)},
    "deep_seed_cnn": {8: (128, 4, 4), 9: (2048,), 10: (625,), 13: (10,)},  # pool3 pads 1: (7 + 2 - 2)/2 + 1 = 4
    "lenet5": {0: (6, 28, 28), 2: (6, 14, 14), 3: (16, 10, 10), 5: (16, 5, 5), 6: (400,), 11: (10,)},
    "fc_16x16": {0: (256,), 1: (100,), 3: (26,)},
}


@pytest.mark.parametrize("name", list(table.PRESETS))
def test_presets_reproduce_the_lecture_numbers(name):
    p = table.PRESETS[name]
    check = table.check_layers(table.preset(name), p.input_shape, classes=p.classes)
    assert check.ok and check.params == LECTURE_PARAMS[name]
    for row, shape in LECTURE_OUTPUTS[name].items():
        assert check.rows[row].output_shape == shape, (name, row)
    assert check.output_shape == (p.classes,)


def _row_outputs(model, layers, shape):
    """Per table row: (output shape, parameter count), measured on the real module with forward hooks."""
    modules = dict(model.named_modules())
    outs: dict[str, tuple[int, ...]] = {}
    for path, m in modules.items():
        if path.count(".") == 1:
            m.register_forward_hook(lambda _m, _i, o, path=path: outs.__setitem__(path, tuple(o.shape[1:])))
    with torch.no_grad():
        model.eval()(torch.zeros(2, *shape))
    return [(outs[paths[-1]], sum(p.numel() for path in paths for p in modules[path].parameters()))
            for paths in model.row_paths]


def _random_table(rng: random.Random) -> tuple[list[dict], tuple[int, int, int]]:
    rows: list[dict] = []
    for _ in range(rng.randint(1, 6)):
        pick = rng.random()
        if pick < 0.4:
            rows.append({"kind": "conv", "out_channels": rng.randint(1, 6), "kernel": rng.choice([1, 2, 3, [3, 1]]),
                         "stride": rng.randint(1, 2), "padding": rng.choice([0, 1, "same"] if rng.random() < 0.3
                                                                                  else [0, 1, 2])})
        elif pick < 0.6:
            k = rng.randint(1, 3)
            rows.append({"kind": rng.choice(["maxpool", "avgpool"]), "kernel": k, "stride": rng.choice([None, 1, 2]),
                         "padding": rng.randint(0, k // 2)})
        else:
            rows.append(table.default_row(rng.choice(["relu", "sigmoid", "tanh", "leaky_relu", "batchnorm",
                                                      "dropout"])))
    rows.append({"kind": rng.choice(["flatten", "gap"])})
    for _ in range(rng.randint(0, 2)):
        rows.append(table.default_row(rng.choice(["relu", "batchnorm", "dropout", "sigmoid"])))
    rows.append({"kind": "linear", "out_features": rng.randint(2, 7)})
    return rows, (rng.randint(1, 3), rng.randint(6, 20), rng.randint(6, 20))


def test_every_row_matches_the_real_module_on_random_tables():
    rng = random.Random(11)
    checked = 0
    for _ in range(50):
        rows, shape = _random_table(rng)
        check = table.check_layers(rows, shape)
        if not check.ok:
            assert check.problems[0].key.startswith("shapes.err."), check.problems
            continue
        model = build_model(rows, shape, generator=torch.Generator().manual_seed(0))
        assert _row_outputs(model, rows, shape) == [(r.output_shape, r.params) for r in check.rows]
        x = torch.zeros(1, *shape)
        with FlopCounterMode(display=False) as counter:
            model.eval()(x)
        assert counter.get_total_flops() == 2 * check.macs  # 1 MAC = 2 FLOPs (conv and linear)
        checked += 1
    assert checked > 25


def test_the_numbers_come_from_the_shapes_wing():
    rows = table.preset("deep_seed_cnn")
    check = table.check_layers(rows, (3, 64, 128))
    reference = summarize([table.to_shapes_layer(table.normalize_row(r)) for r in rows], (3, 64, 128))
    assert [(r.output_shape, r.params, r.macs, r.receptive_field) for r in check.rows] == [
        (r.output_shape, r.params, r.macs, r.receptive_field) for r in reference]


def test_rows_are_read_with_defaults_and_friendly_forms():
    assert table.normalize_row({"kind": " MaxPool ", "kernel": "3"}) == {
        "kind": "maxpool", "kernel": 3, "stride": 3, "padding": 0}  # PyTorch: stride defaults to the kernel
    assert table.normalize_row({"kind": "conv", "out_channels": 8.0, "kernel": "3x5", "padding": "same",
                                "stride": None}) == {
        "kind": "conv", "out_channels": 8, "kernel": [3, 5], "stride": 1, "padding": "same"}
    assert table.normalize_row({"kind": "conv", "out_channels": 4, "kernel": [3, 3], "init": "default"})["kernel"] == 3
    assert table.normalize_row({"kind": "relu", "kernel": 3, "out_channels": None}) == {"kind": "relu"}  # unused
    assert table.normalize_row({"kind": "dropout"}) == {"kind": "dropout", "p": 0.5}
    assert table.normalize_row({"kind": "linear", "out_features": 5, "init": "xavier"})["init"] == "xavier"


BAD_ROWS = [
    ({"kind": "conv", "out_channels": "many", "kernel": 3}, "builder.error.not_whole"),
    ({"kind": "conv", "out_channels": 2.5, "kernel": 3}, "builder.error.not_whole"),
    ({"kind": "conv", "out_channels": True, "kernel": 3}, "builder.error.not_whole"),
    ({"kind": "conv", "out_channels": float("nan"), "kernel": 3}, "builder.error.missing"),
    ({"kind": "conv", "out_channels": 8}, "builder.error.missing"),
    ({"kind": "conv", "out_channels": -4, "kernel": 3}, "builder.error.range"),
    ({"kind": "conv", "out_channels": 0, "kernel": 3}, "builder.error.range"),
    ({"kind": "conv", "out_channels": 10**9, "kernel": 3}, "builder.error.range"),
    ({"kind": "conv", "out_channels": 4, "kernel": 3, "stride": 0}, "builder.error.range"),
    ({"kind": "conv", "out_channels": 4, "kernel": 3, "padding": -1}, "builder.error.range"),
    ({"kind": "conv", "out_channels": 4, "kernel": [3, 3, 3]}, "builder.error.not_whole"),
    ({"kind": "conv", "out_channels": 4, "kernel": "1e9"}, "builder.error.not_whole"),
    ({"kind": "conv", "out_channels": 4, "kernel": 3, "init": "orthogonal"}, "builder.error.init"),
    ({"kind": "maxpool", "kernel": 2, "padding": "same"}, "builder.error.not_whole"),
    ({"kind": "dropout", "p": 1.0}, "shapes.err.dropout"),
    ({"kind": "dropout", "p": "half"}, "builder.error.not_number"),
    ({"kind": "softmax"}, "shapes.err.unknown_kind"),
    ({"kind": None}, "shapes.err.unknown_kind"),
    ({"kind": "relu", "weights": [1, 2]}, "builder.error.unknown_field"),
    (["conv", 3], "builder.error.row_not_table"),
]


@pytest.mark.parametrize(("row", "key"), BAD_ROWS)
def test_a_bad_row_is_explained_in_place(row, key, translated):
    rows = [{"kind": "conv", "out_channels": 4, "kernel": 3}, row, {"kind": "flatten"},
            {"kind": "linear", "out_features": 2}]
    check = table.check_layers(rows, (1, 12, 12))  # never raises
    assert [(p.row, p.key) for p in check.problems] == [(1, key)]
    assert check.rows[1].error_key == key and check.rows[0].output_shape == (4, 10, 10)
    assert check.rows[1].output_shape is None and not check.ok
    translated(key, check.problems[0].params)


@pytest.mark.parametrize(("rows", "row", "key"), [
    ([{"kind": "linear", "out_features": 10}], 0, "shapes.err.linear_needs_flatten"),
    ([{"kind": "flatten"}, {"kind": "conv", "out_channels": 4, "kernel": 3}], 1, "shapes.err.needs_feature_map"),
    ([{"kind": "flatten"}, {"kind": "gap"}], 1, "shapes.err.needs_feature_map"),
    ([{"kind": "conv", "out_channels": 4, "kernel": 3, "stride": 2, "padding": "same"}], 0, "shapes.err.same_stride"),
    ([{"kind": "maxpool", "kernel": 4, "padding": 3}], 0, "shapes.err.pool_padding"),
    # a table that shrinks the image to nothing: 12 -> 6 -> 3 -> 1, then a 2x2 window does not fit
    ([{"kind": "maxpool", "kernel": 2}] * 3 + [{"kind": "maxpool", "kernel": 2}], 3, "shapes.err.window"),
    ([{"kind": "conv", "out_channels": 4, "kernel": 13}], 0, "shapes.err.window"),
])
def test_a_row_that_cannot_run_stops_the_shapes_there(rows, row, key, translated):
    check = table.check_layers([*rows, {"kind": "relu"}], (1, 12, 12))
    assert check.problems[0].row == row and check.problems[0].key == key
    assert all(r.output_shape is None for r in check.rows[row:])
    translated(key, check.problems[0].params)


def test_every_unreadable_row_is_reported_at_once():
    rows = [{"kind": "conv", "out_channels": "x", "kernel": 3}, {"kind": "relu"},
            {"kind": "maxpool", "kernel": -2}, {"kind": "flatten"}, {"kind": "linear", "out_features": 0}]
    check = table.check_layers(rows, (1, 28, 28))
    assert [(p.row, p.key) for p in check.problems] == [
        (0, "builder.error.not_whole"), (2, "builder.error.range"), (4, "builder.error.range")]
    assert [r.kind for r in check.rows] == ["conv", "relu", "maxpool", "flatten", "linear"]


def _big_linear(width: int) -> list[dict]:
    return [{"kind": "flatten"}, {"kind": "linear", "out_features": width}, {"kind": "relu"},
            {"kind": "linear", "out_features": 10}]


@pytest.mark.parametrize(("rows", "shape", "key", "row"), [
    ([], (1, 28, 28), "builder.error.empty", None),
    ("conv", (1, 28, 28), "builder.error.not_a_table", None),
    ([{"kind": "relu"}] * (table.MAX_ROWS + 1), (1, 28, 28), "builder.error.too_many_rows", None),
    (_big_linear(10), (1, 0, 28), "builder.error.input_shape", None),
    (_big_linear(10), (1, 28), "builder.error.input_shape", None),
    (_big_linear(10), (1, 28, 9999), "builder.error.input_shape", None),
    (_big_linear(10), "1x28x28", "builder.error.input_shape", None),
    (_big_linear(10_000), (3, 64, 128), "builder.error.too_many_params", 1),       # 245M weights in fc1
    ([{"kind": "conv", "out_channels": 1024, "kernel": 3, "padding": 1}, {"kind": "conv", "out_channels": 1024,
      "kernel": 3, "padding": 1}, {"kind": "gap"}, {"kind": "linear", "out_features": 2}], (3, 64, 64),
     "builder.error.too_many_macs", 1),
    ([{"kind": "conv", "out_channels": 256, "kernel": 1}, {"kind": "relu"}, {"kind": "gap"},
      {"kind": "linear", "out_features": 2}], (3, 64, 128), "builder.error.too_much_memory", 0),
    ([{"kind": "conv", "out_channels": 4, "kernel": 3}], (1, 28, 28), "builder.error.output_not_flat", 0),
    (_big_linear(10), (1, 28, 28), "builder.error.classes", 3),
])
def test_whole_table_problems(rows, shape, key, row, translated):
    check = table.check_layers(rows, shape, classes=5)
    assert check.problems and check.problems[0].key == key and check.problems[0].row == row
    translated(key, check.problems[0].params)


def test_the_memory_estimate_is_stated_and_the_lecture_nets_fit_on_own_data():
    check = table.check_layers(table.preset("deep_seed_cnn"), (3, 64, 128))
    assert check.ok and check.train_mb < table.MAX_TRAIN_MB
    largest = max(r.output_shape[0] * r.output_shape[1] * r.output_shape[2] for r in check.rows[:9])
    assert check.train_mb == pytest.approx(4 * (4 * check.params + 100 * (check.activations + largest)) / 2**20)
    with_bn = table.add_row(table.preset("deep_seed_cnn"), "batchnorm", at=1)  # "with vs without batch norm"
    assert table.check_layers(with_bn, (3, 64, 128)).ok


def test_row_editing_is_pure():
    rows = table.preset("seed_cnn")
    before = json.dumps(rows)
    added = table.add_row(rows, "batchnorm", at=1)
    assert [r["kind"] for r in added[:3]] == ["conv", "batchnorm", "relu"] and json.dumps(rows) == before
    assert table.add_row(rows, "dropout")[-1] == {"kind": "dropout", "p": 0.5}
    assert [r["kind"] for r in table.remove_row(rows, 0)][:2] == ["relu", "maxpool"]
    moved = table.move_row(rows, 7, 0)
    assert moved[0]["kind"] == "linear" and len(moved) == len(rows) and json.dumps(rows) == before
    assert table.move_row(rows, 0, 7)[-1]["kind"] == "conv"
    for call, key in [(lambda: table.remove_row(rows, 8), "builder.error.range"),
                      (lambda: table.move_row(rows, 0, "last"), "builder.error.not_whole"),
                      (lambda: table.remove_row([], 0), "builder.error.empty"),
                      (lambda: table.add_row([{"kind": "relu"}] * table.MAX_ROWS, "relu"),
                       "builder.error.too_many_rows"),
                      (lambda: table.default_row("softmax"), "shapes.err.unknown_kind"),
                      (lambda: table.preset("vgg"), "builder.error.unknown_preset")]:
        with pytest.raises(TableError) as info:
            call()
        assert info.value.key == key


def test_fit_classes_sets_the_last_linear_layer():
    rows = table.preset("deep_seed_cnn", classes=3)
    assert rows[-1]["out_features"] == 3 and rows[10]["out_features"] == 625
    assert table.check_layers(rows, (3, 64, 128), classes=3).ok
    assert table.fit_classes([{"kind": "relu"}], 4) == [{"kind": "relu"}]


@pytest.mark.parametrize("name", list(table.PRESETS))
def test_json_round_trip(name):
    rows = table.preset(name)
    text = table.table_to_json(rows, input_shape=(3, 64, 128), init="he", classes=["고양이", "dog"])
    back = table.table_from_json(text.encode("utf-8-sig"))
    assert back.layers == [table.normalize_row(r) for r in rows] and back.input_shape == (3, 64, 128)
    assert back.init == "he" and back.classes == ("고양이", "dog")
    assert table.table_from_json(table.table_to_json(back.layers, input_shape=(1, 28, 28))).classes is None


def _doc(**changes) -> bytes:
    doc = json.loads(table.table_to_json(table.preset("seed_cnn"), input_shape=(1, 28, 28)))
    doc.update(changes)
    return json.dumps(doc).encode()


@pytest.mark.parametrize(("data", "key", "row"), [
    (b"x" * (table.MAX_JSON_BYTES + 1), "builder.error.json_too_large", None),
    (b"\xff\xfe{}", "builder.error.json_invalid", None),
    (b'{"format": ', "builder.error.json_invalid", None),
    (b"[" * 150_000 + b"]" * 150_000, "builder.error.json_too_large", None),
    (b"[" * 50_000 + b"]" * 50_000, "builder.error.json_invalid", None),   # nesting too deep to parse
    (_doc().replace(b'"input_shape"', b'"input_shape": NaN, "x"'), "builder.error.json_invalid", None),
    (_doc().replace(b'"init"', b'"init": "he", "init"'), "builder.error.json_invalid", None),  # duplicate key
    (b"[]", "builder.error.json_format", None),
    (_doc(format="cnn-explorer/builder-table/99"), "builder.error.json_format", None),
    (_doc(code="import os"), "builder.error.json_format", None),
    (_doc(layers={"kind": "relu"}), "builder.error.json_format", None),
    (_doc(layers=[{"kind": "relu"}] * (table.MAX_ROWS + 1)), "builder.error.too_many_rows", None),
    (_doc(input_shape="1x28x28"), "builder.error.json_format", None),
    (_doc(input_shape=[1, 28, 1e300]), "builder.error.input_shape", None),
    (_doc(classes=["a"] * 51), "builder.error.json_format", None),
    (_doc(classes=[{"a": 1}]), "builder.error.json_format", None),
    (_doc(init="zeros"), "builder.error.init", None),
    (_doc(layers=[{"kind": "relu"}, {"kind": "conv", "out_channels": True, "kernel": 3}]),
     "builder.error.not_whole", 1),
    (_doc(layers=[{"kind": "relu"}, {"kind": "linear", "out_features": "9" * 5000}]),
     "builder.error.not_whole", 1),
    (_doc(layers=[{"kind": "__import__('os')"}]), "shapes.err.unknown_kind", 0),
])
def test_hostile_or_broken_table_files_are_refused(data, key, row, translated):
    with pytest.raises(TableError) as info:
        table.table_from_json(data)
    assert (info.value.key, info.value.row) == (key, row)
    translated(key, info.value.params)


def test_a_table_with_an_unreadable_row_cannot_be_saved():
    with pytest.raises(TableError) as info:
        table.table_to_json([{"kind": "relu"}, {"kind": "conv"}], input_shape=(1, 28, 28))
    assert (info.value.key, info.value.row) == ("builder.error.missing", 1)


def test_every_key_the_wing_uses_is_translated():
    source = "".join(p.read_text(encoding="utf-8") for p in Path(table.__file__).parent.glob("*.py"))
    keys = set(re.findall(r"[\"'](builder\.(?:error|script|step)\.[a-z_0-9]*[a-z0-9])[\"']", source))
    keys |= {"builder.script.init_xavier", "builder.script.init_he"}  # made from the init's name
    assert len(keys) > 50
    for lang in ("en", "ko"):
        assert keys <= set(catalog(lang)), sorted(keys - set(catalog(lang)))
        for kind in table.KINDS:
            assert f"builder.kind.{kind}" in catalog(lang) and f"shapes.kind.{kind}" in catalog(lang)
        for name in table.PRESETS:
            assert f"builder.preset.{name}" in catalog(lang) and f"builder.preset.{name}.help" in catalog(lang)
        assert catalog(lang)["builder.limits"].format(**LIMITS)
        for n in range(1, 9):
            assert catalog(lang)[f"builder.step.{n}"].startswith(f"{n}. ")
