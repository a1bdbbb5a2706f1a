"""The page's texts and tables without Streamlit: typed matrices read back, every refusal translated, the
handout and CSV, the homework's settings for the Train machinery, LaTeX with the lecture's numbers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.core.i18n import translate
from explorer.fc import losses, matrix, nonlinear, view
from explorer.fc.checks import FCError
from explorer.training import TrainConfig, TrainingError


@pytest.fixture(scope="module")
def example():
    return matrix.default_batch()


@pytest.mark.parametrize("layers", view.LAYERS)
def test_example_texts_read_back_to_the_same_batch(layers):
    ex = matrix.default_batch(layers=layers, n=3, size=5, seed=2)
    texts = view.example_texts(ex)
    assert set(texts) == set(view.matrix_names(layers))
    X, T, params = view.parse_inputs(texts, layers=layers)
    np.testing.assert_array_equal(X, ex.X)
    np.testing.assert_array_equal(T, ex.t)
    assert params.keys() == ex.params.keys()
    for k in params:
        np.testing.assert_allclose(params[k], ex.params[k])


def _texts(example, **changes):
    return view.example_texts(example) | changes


@pytest.mark.parametrize(("changes", "key"), [
    ({"X": "0.1 0.2\nabc 0.3"}, "fc.error.not_number"),
    ({"X": ""}, "fc.error.empty"),
    ({"X": "1 2 3\n4 5"}, "fc.error.ragged"),
    ({"X": "1 nan 3"}, "fc.error.not_finite_cell"),
    ({"X": "1e300 1"}, "fc.error.too_large_cell"),
    ({"X": "0 " * 800}, "fc.error.too_many_cols"),
    ({"X": "1\n" * 65}, "fc.error.too_many_rows"),
    ({"W1": "1 2\n3 4"}, "fc.error.shape"),
    ({"b1": "0 0"}, "fc.error.bias"),
    ({"b1": "0 0\n0 0"}, "fc.error.not_vector"),
    ({"t": "1 2 3"}, "fc.error.typed_shape"),
    ({"t": "1 2 3 12"}, "fc.error.labels"),
    ({"t": "1 2 3 0.5"}, "fc.error.labels"),
    ({"W2": "1\n" * 4, "b2": "0"}, "fc.error.classes"),
    ({"W1": ("0 " * 785 + "\n") * 16}, "fc.error.too_many_cols"),
    ({"X": "1 " * 100_001}, "fc.error.text_too_long"),
])
def test_bad_typed_inputs_are_refused_with_a_translated_key(example, changes, key, translated):
    with pytest.raises(FCError) as err:
        X, T, params = view.parse_inputs(_texts(example, **changes), layers=2)
        matrix.mlp_step(X, T, params, activations=example.activations)
    assert err.value.key == key
    translated(err.value)
    for lang in ("en", "ko"):
        text = view.error_text(err.value, lang=lang)
        assert text.startswith(translate("common.error_prefix", lang)) and "{" not in text


def test_step_texts_and_grid_titles(example):
    result = matrix.mlp_step(example.X, example.t, example.params, activations=example.activations)
    step = result.step("affine2")
    assert view.step_title(step, lang="en") == "Forward · Affine layer 2: a2 = input · W2 + b2"
    assert view.step_caption(3, 13, step, lang="ko") == "13단계 중 3단계 · 순전파"
    assert view.grid_title(step, "b2") == "b2  (10)" and view.grid_title(step, "W2") == "W2  (4×10)"
    assert [s.id for s in result.steps if view.shows_b1_note(s, result)] == ["db1"]
    assert view.summary_text(result, lang="en") == \
        f"2 layers (Sigmoid), batch X = 4×16, softmax + cross-entropy: **L = {result.loss:.4f}**"


def test_verify_line_reports_the_autograd_check(example):
    result = matrix.mlp_step(example.X, example.t, example.params, activations=example.activations)
    ok, line = view.verify_line(matrix.verify_summary(result), lang="en")
    assert ok and line.startswith("Checked against PyTorch autograd (float64): the largest difference is ")
    ok, line = view.verify_line((False, 0.5, "dW1"), lang="ko")
    assert not ok and line == "autograd와 다릅니다: 가장 큰 차이는 5.0e-01입니다 (dW1)."


def test_warnings_are_translated():
    ex = matrix.default_batch()
    params = dict(ex.params, W1=ex.params["W1"] * 1000)
    result = matrix.mlp_step(ex.X, ex.t, params, activations=("sigmoid",))
    texts = view.warning_texts(result, lang="ko")
    assert texts and all("시그모이드" in w for w in texts)


def test_handout_and_csv(example):
    result = matrix.mlp_step(example.X, example.t, example.params, activations=example.activations)
    md = view.handout(result, lang="ko")
    assert md.startswith("# 행렬로 보는 역전파") and "## 1. 순전파 · Affine 계층 1" in md
    assert "dy = (y - t) / batch_num" in md
    data = view.csv_bytes(result)
    assert data.startswith(b"\xef\xbb\xbf") and data.decode("utf-8-sig").startswith("step,phase,array,shape")


@pytest.mark.parametrize("layers", view.LAYERS)
def test_homework_config_is_the_lectures_network_for_the_train_machinery(layers):
    config = view.homework_config(layers=layers, activation="lecture", hidden=(100, 50), init="he", epochs=20,
                                  lr=0.001, seed=777, train_size=5000)
    assert isinstance(config, TrainConfig) and config.model == "custom" and config.init == "he"
    assert config.train_size == 5000 and config.epochs == 20
    kinds = [row["kind"] for row in config.layers]
    assert kinds == (["flatten", "linear", "sigmoid", "linear"] if layers == 2 else
                     ["flatten", "linear", "sigmoid", "linear", "relu", "linear"])
    assert view.architecture(config, lang="en") == ("784 → 100 (Sigmoid) → 10" if layers == 2 else
                                                    "784 → 100 (Sigmoid) → 50 (ReLU) → 10")
    everywhere = view.homework_config(layers=layers, activation="relu", hidden=(8, 8), init="default", epochs=1,
                                      lr=0.1, seed=0, train_size=0)
    assert everywhere.train_size is None
    assert {row["kind"] for row in everywhere.layers} == {"flatten", "linear", "relu"}


@pytest.mark.parametrize(("settings", "error", "key"), [
    ({"lr": 0.0}, TrainingError, "train.error.lr"),
    ({"hidden": (0,)}, FCError, "fc.error.range"),
    ({"activation": "softplus"}, FCError, "fc.error.option"),
    ({"init": "zeros"}, FCError, "fc.error.option"),
    ({"layers": 4}, FCError, "fc.error.range"),
])
def test_bad_homework_settings_are_refused(settings, error, key):
    base = dict(layers=2, activation="lecture", hidden=(100,), init="default", epochs=2, lr=0.001, seed=1,
                train_size=100)
    with pytest.raises(error) as err:
        view.homework_config(**(base | settings))
    assert err.value.key == key
    assert "{" not in view.message(err.value, lang="ko")


def test_homework_figures_in_the_lectures_format():
    from explorer.training.config import History

    h = History()
    assert view.homework_line(h, lang="en") is None
    h.epoch, h.train_accuracy, h.test_accuracy, h.train_loss = [1, 2], [0.9, 0.995], [0.95, 0.973], [0.5, 0.0066]
    assert view.homework_line(h, lang="en") == \
        "**This run**, last epoch: train acc, test acc | 99.500, 97.3000 · cost: 0.0066"
    rows = view.homework_rows(h, lang="en")
    assert list(rows) == ["epoch", "train acc (mean over the epoch)", "test acc", "cost"]
    assert rows["test acc"] == ["95.00%", "97.30%"] and rows["cost"] == ["0.5000", "0.0066"]
    assert translate("fc.homework.lecture", "en").endswith("train acc, test acc | 99.500, 97.3000 · cost: 0.0066")


def test_data_caption_names_the_data():
    class Split:
        def __init__(self, n, kind="embedded"):
            self.labels, self.kind, self.path = torch.zeros(n), kind, "/data/mnist"

    assert view.data_caption(Split(5000), Split(1000), lang="en") == \
        "Embedded sample: 5000 training and 1000 test images shipped with the app"
    assert view.data_caption(Split(60000, "full"), Split(10000, "full"), lang="en") == "Full MNIST from /data/mnist"


def test_activation_texts():
    assert view.chain_text(10, lang="en").startswith("Best case through 10 sigmoid layers: at most 0.25^10 = 9.5e-07")
    profile = type("P", (), {"activation": "relu", "norms": np.array([[1e-3, 1e-1], [2e-3, 2e-1]]),
                             "ratio": 1e-2, "losses": np.array([2.3, 2.2])})()
    rows = view.profile_rows([profile], step=1, lang="en")
    assert rows == {"activation": ["ReLU"], "‖∂L/∂W‖, first layer": ["1.00e-03"],
                    "‖∂L/∂W‖, output layer": ["1.00e-01"], "first / output": ["1.00e-02"],
                    "loss at initialisation": ["2.300"], "loss after 1 steps": ["2.200"]}


def test_collapse_latex_writes_the_slides_identity_with_numbers():
    texts = view.collapse_texts(nonlinear.collapse_example())
    c = nonlinear.collapse(**view.parse_collapse(texts))
    lines = view.collapse_latex(c)
    assert len(lines) == 3 and lines[0].startswith("W_2(W_1x) = ") and r"\max(0, W_1x)" in lines[2]
    out = view.bmatrix(c.two_layers, column=True)
    assert lines[0].endswith(out) and lines[1].endswith(out)  # W2(W1x) and Wx end in the same column
    assert view.bmatrix(np.array([[1, -2.5]])) == r"\begin{bmatrix} 1 & -2.5 \end{bmatrix}"
    verdict = view.collapse_verdict(c, lang="en")
    assert verdict.startswith(translate("fc.collapse.same", "en")) and translate("fc.collapse.relu_changes", "en") \
        in verdict
    positive = nonlinear.collapse([[1.0, 0.0], [0.0, 1.0]], [[1.0, 1.0]], [1.0, 2.0])
    assert translate("fc.collapse.relu_same", "ko") in view.collapse_verdict(positive, lang="ko")


@pytest.mark.parametrize(("texts", "key"), [
    ({"W1": "1 2\n3", "W2": "1", "x": "1 2"}, "fc.error.ragged"),
    ({"W1": "1 2", "W2": "1 1", "x": "1 2"}, "fc.error.collapse_shape"),
    ({"W1": "1 2", "W2": "1", "x": "1 2 3"}, "fc.error.collapse_shape"),
    ({"W1": "1 " * 17, "W2": "1", "x": "1"}, "fc.error.too_many_cols"),
    ({"W1": "1 2", "W2": "1", "x": "1 x"}, "fc.error.not_number"),
    ({"W1": "1 2", "W2": "1", "x": "1 2\n3 4"}, "fc.error.not_vector"),
])
def test_bad_collapse_inputs_are_refused(texts, key, translated):
    with pytest.raises(FCError) as err:
        nonlinear.collapse(**view.parse_collapse(texts))
    assert err.value.key == key
    translated(err.value)


def test_a_column_x_is_a_vector_too():
    c = nonlinear.collapse(**view.parse_collapse({"W1": "1 2", "W2": "3", "x": "1\n2"}))
    assert c.same and c.two_layers.tolist() == [15.0]


def test_toy_titles():
    cmp = nonlinear.compare_toy("xor", n=40, steps=30, grid=10)
    titles = view.toy_titles(cmp, lang="en")
    assert titles[0].startswith("Without activation: ") and titles[1].startswith("With ReLU: ")


def test_loss_texts_write_the_lectures_formula_with_numbers():
    cmp = losses.compare_losses([3.2, 5.1, -1.7], 0)
    denominator, loss = view.loss_latex(cmp)
    assert denominator == r"\sum_j e^{f_j} = e^{3.2} + e^{5.1} + e^{-1.7} = 188.7"
    assert loss.endswith(r"{188.7} = -\log 0.13 = 2.04")  # cs231n's cat: L = 2.04
    many = view.loss_latex(losses.compare_losses(np.arange(12.0), 3))[0]
    assert r"\cdots" in many and many.count("e^") == 1 + 4
    rows = view.loss_rows(cmp, lang="en")
    assert rows["class"] == ["0 ✓", "1", "2"] and rows["t"] == ["1", "0", "0"]
    assert rows["∂L/∂f, cross-entropy (= p − t)"][0] == f"{cmp.p[0] - 1:+.4f}"
    assert view.loss_summary(cmp, lang="en").startswith("Cross-entropy Lᵢ = **2.0404**")


def test_logistic_regression_texts():
    ex = view.LOGISTIC_EXAMPLE
    step = view.logistic(ex["x"], ex["w"], y=ex["y"], b=ex["b"])
    assert step.z == pytest.approx(-0.2)
    lines = view.logistic_latex(step, lr=ex["lr"])
    assert len(lines) == 4 and "= -0.2" in lines[0] and r"(a - y)\,x" in lines[2]
    assert view.bmatrix(step.dw) in lines[2]
    with pytest.raises(FCError) as err:
        view.logistic("1 2", "1", y=1, b=0)
    assert err.value.key == "fc.error.logistic_shape"
    saturated = view.logistic("1000", "1", y=0, b=0)
    assert r"\infty" in view.logistic_latex(saturated, lr=0.1)[2]


def test_shift_texts():
    result = type("R", (), {"shifts": (0, 2), "mlp_accuracy": [0.9, 0.69], "cnn_accuracy": [0.97, 0.88],
                            "train_size": 5000, "epochs": 15, "mlp_parameters": 79510, "cnn_parameters": 50186,
                            "mlp_seconds": 1.6, "cnn_seconds": 39.8})()
    assert view.shift_rows(result, lang="en") == {"shift": ["0 px", "2 px"], "MLP": ["90.0%", "69.0%"],
                                                 "CNN": ["97.0%", "88.0%"]}
    assert "MLP 79,510, CNN 50,186" in view.shift_summary(result, lang="en")
    assert "69%" in view.expected_text(lang="ko") and "88%" in view.expected_text(lang="ko")
