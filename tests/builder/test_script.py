"""The take-home script: it runs on its own (torch + torchvision) and prints ``Accuracy: <float>``; its model is
the builder's model (parameters, output shape, state_dict keys: its saved weights load into `build_model`);
its split is `split`; nothing typed by a user can become code."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.builder import data as bd
from explorer.builder import model as bm
from explorer.builder import script, table
from explorer.builder.table import TableError


def _namespace(source: str, names: set[str]) -> dict:
    """Execute only the script's imports and the top-level definitions called ``names`` (no training)."""
    tree = ast.parse(source)
    keep = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
            or (isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.name in names)]
    namespace: dict = {}
    exec(compile(ast.Module(body=keep, type_ignores=[]), "<script>", "exec"), namespace)  # noqa: S102 (a test)
    return namespace


def _fresh(cls):
    """An instance of the script's model class (its default init uses the global RNG: keep ours as it was)."""
    with torch.random.fork_rng():
        return cls()


def _tiny_folder(root, *, classes=("circle", "square"), per_class=6, size=(32, 16)) -> None:
    """2 classes x 6 pictures of 16x32: bright discs vs dark squares."""
    rng = np.random.default_rng(0)
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            base = np.full((size[1], size[0], 3), 40 if c else 200, dtype=np.uint8)
            noisy = np.clip(base + rng.integers(0, 30, base.shape), 0, 255).astype(np.uint8)
            Image.fromarray(noisy).save(root / name / f"{i}.png")


def test_the_script_runs_on_its_own_and_its_weights_load_into_the_app(tmp_path):
    data_dir = tmp_path / "custom data"
    _tiny_folder(data_dir)
    rows = table.preset("seed_cnn", classes=2)
    text = script.to_script(rows, data_dir=str(data_dir), size=(16, 32), epochs=1, batch_size=4, lang="ko")
    path = tmp_path / "train_my_cnn.py"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run([sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert re.search(r"^Accuracy: [0-9.]+(e-?\d+)?$", done.stdout, re.MULTILINE), done.stdout
    assert "Classes: ['circle', 'square']" in done.stdout
    weights = torch.load(tmp_path / "my_cnn.pt", weights_only=True, map_location="cpu")
    model = bm.build_model(rows, (3, 16, 32))
    model.load_state_dict(weights, strict=True)  # the script's weights fit the app's model of the same table


PRESET_INPUTS = {"seed_cnn": (3, 64, 128), "deep_seed_cnn": (1, 64, 128), "lenet5": (3, 28, 28),
                 "fc_16x16": (1, 16, 16)}


@pytest.mark.parametrize("name", list(table.PRESETS))
@pytest.mark.parametrize("init", ["default", "he"])
def test_the_scripts_model_is_the_builders_model(name, init):
    c, h, w = PRESET_INPUTS[name]
    rows = table.add_row(table.preset(name), "batchnorm", at=len(table.preset(name)) - 1)
    rows.insert(2, {"kind": "leaky_relu"})
    text = script.to_script(rows, data_dir="data", size=(h, w), grayscale=c == 1, init=init)
    CNN = _namespace(text, {"CNN"})["CNN"]
    ours = bm.build_model(rows, (c, h, w))
    theirs = _fresh(CNN)
    assert sum(p.numel() for p in theirs.parameters()) == sum(p.numel() for p in ours.parameters())
    assert {k: v.shape for k, v in theirs.state_dict().items()} == {k: v.shape for k, v in ours.state_dict().items()}
    x = torch.rand(2, c, h, w)
    assert theirs.eval()(x).shape == ours.eval()(x).shape == (2, table.PRESETS[name].classes)
    if init == "he":
        assert not theirs.features[0].bias.any() if len(theirs.features) else not theirs.classifier[1].bias.any()


def test_gap_and_a_rows_own_init_are_written_out():
    rows = [{"kind": "conv", "out_channels": 8, "kernel": [3, 5], "stride": [1, 2], "padding": "same"},
            {"kind": "avgpool", "kernel": 3, "stride": 2, "padding": 1},
            {"kind": "conv", "out_channels": 8, "kernel": 3, "init": "xavier"}, {"kind": "tanh"},
            {"kind": "gap"}, {"kind": "dropout", "p": 0.25}, {"kind": "linear", "out_features": 3, "init": "he"}]
    with pytest.raises(TableError):  # padding="same" needs stride 1, as PyTorch says
        script.to_script(rows, data_dir="d")
    rows[0]["stride"] = 1
    text = script.to_script(rows, data_dir="d", size=(20, 24))
    assert "nn.AdaptiveAvgPool2d(1)," in text and "nn.Linear(8, 3, bias=True)," in text
    assert "nn.init.xavier_uniform_(self.features[2].weight)" in text
    assert "nn.init.kaiming_normal_(self.classifier[3].weight, nonlinearity='relu')" in text
    assert "padding='same'" in text and "kernel_size=(3, 5)" in text
    assert "nn.AvgPool2d(kernel_size=3, stride=2, padding=1)" in text
    CNN = _namespace(text, {"CNN"})["CNN"]
    assert _fresh(CNN)(torch.zeros(2, 3, 20, 24)).shape == (2, 3)
    assert list(_fresh(CNN).state_dict()) == list(bm.build_model(rows, (3, 20, 24)).state_dict())


def test_the_scripts_split_is_the_apps_split():
    text = script.to_script(table.preset("seed_cnn"), data_dir="d", test_fraction=0.25, seed=5)
    stratified_split = _namespace(text, {"stratified_split"})["stratified_split"]
    labels = torch.randint(0, 4, (103,), generator=torch.Generator().manual_seed(3))
    train, test = stratified_split(labels.tolist(), 0.25, 5)
    ours = bd.split(labels, test_fraction=0.25, seed=5)
    assert train == ours[0].tolist() and test == ours[1].tolist()
    assert "stratified_split(dataset.targets, 0.25, 5)" in text


def test_the_lecture_step_titles_and_variants():
    text = script.to_script(table.preset("seed_cnn"), data_dir=None, lang="ko")  # MNIST, as the lecture
    for n, title in enumerate(["라이브러리", "GPU", "parameter", "데이터셋", "학습 모델", "Loss function",
                               "모델 학습", "성능"], start=1):
        assert re.search(rf"^# ---- {n}\. .*{title}", text, re.MULTILINE), title
    assert "dsets.MNIST(root='MNIST_data/', train=True" in text and "nn.Linear(7 * 7 * 64, 10, bias=True)" in text
    ast.parse(text)
    folders = script.to_script(table.preset("seed_cnn"), data_dir="a/train_data", test_dir="a/test_data",
                               grayscale=True, lang="en")
    assert "test_set = torchvision.datasets.ImageFolder(root=test_dir, transform=trans)" in folders
    assert "transforms.Grayscale(1)" in folders and "stratified_split" not in folders
    ast.parse(folders)


@pytest.mark.parametrize("path", ["x'); import os; os.system('echo pwned') #", "a\nimport os",
                                  'C:\\Users\\학생\\"data"'])
def test_a_typed_path_cannot_become_code(path):
    text = script.to_script(table.preset("seed_cnn"), data_dir=path)
    tree = ast.parse(text)
    assigned = [node for node in tree.body if isinstance(node, ast.Assign)
                and getattr(node.targets[0], "id", "") == "data_dir"]
    assert len(assigned) == 1 and assigned[0].value.value == path
    assert "os.system" not in {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}


@pytest.mark.parametrize(("kwargs", "key"), [
    ({"epochs": 0}, "builder.error.option"), ({"epochs": 2.5}, "builder.error.option"),
    ({"lr": float("nan")}, "builder.error.option"), ({"lr": "0.1"}, "builder.error.option"),
    ({"batch_size": True}, "builder.error.option"), ({"seed": -1}, "builder.error.option"),
    ({"test_fraction": 0.9}, "builder.error.option"), ({"init": "zeros"}, "builder.error.init"),
    ({"lang": "fr"}, "builder.error.option"), ({"data_dir": ""}, "builder.error.script_path"),
    ({"data_dir": "x" * 501}, "builder.error.script_path"), ({"test_dir": "a\0b"}, "builder.error.script_path"),
    ({"size": (64, 1000)}, "builder.error.image_size"),
])
def test_bad_options_are_refused(kwargs, key, translated):
    args = {"data_dir": "data", **kwargs}
    with pytest.raises((script.ScriptError, bd.DataError)) as info:
        script.to_script(table.preset("seed_cnn"), **args)
    assert info.value.key == key
    translated(key, info.value.params)


def test_a_table_with_problems_gets_no_script():
    with pytest.raises(TableError) as info:
        script.to_script([{"kind": "conv", "out_channels": 4, "kernel": 3}], data_dir="d")
    assert info.value.key == "builder.error.output_not_flat"


def test_scripts_in_both_languages_end_with_the_accuracy():
    for lang in ("en", "ko"):
        text = script.to_script(table.preset("deep_seed_cnn"), data_dir="d", init="xavier", lang=lang)
        ast.parse(text)
        assert "nn.init.xavier_uniform_(m.weight)" in text and "nn.init.zeros_(m.bias)" in text
        assert text.splitlines()[-2] == "    print('Accuracy:', accuracy)"
