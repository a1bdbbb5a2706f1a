"""AppTest of pages/fc.py: every tab in both languages, the matrix stepper steps, bad typed input refused with a
translated message and the previous values kept, a short live training starts and pauses, the long jobs
(vanishing gradient, FC vs CNN) with tiny settings, a failed job explained, lesson links."""

from __future__ import annotations

import pytest

from explorer.core.i18n import translate
from explorer.core.session import widget_key
from explorer.fc import FCError, matrix, nonlinear, view
from explorer.training import TrainingError
from tests.conftest import run_page, until
from tests.fc.conftest import tiny_digits

NS = "fc"
SMALL = {f"{NS}.data": (tiny_digits(200, seed=0), tiny_digits(100, seed=1)),
         f"{NS}.shift_data": (tiny_digits(200, seed=2), tiny_digits(50, seed=3))}


def _close(at) -> None:
    """End what the page started: the training worker (jobs end by themselves; the session is over)."""
    if f"{NS}.runner" in at.session_state:
        at.session_state[f"{NS}.runner"].stop()


@pytest.fixture
def page():
    opened = []

    def open_(lang: str = "en", state: dict | None = None):
        at = run_page(NS, lang=lang, state={**SMALL, **(state or {})})
        opened.append(at)
        assert not at.exception
        return at

    yield open_
    for at in opened:
        _close(at)


def _texts(at, kind: str) -> list[str]:
    return [e.value for e in getattr(at, kind)]


def _summary(at) -> str:
    return next(m for m in _texts(at, "markdown") if "batch X = " in m or "배치 X = " in m)


def _finish(at, found) -> None:
    """Rerun (as the page's progress fragment does) until ``found(at)``: the job's result is drawn."""
    assert until(lambda: (at.run(), not at.exception and found(at))[1], timeout=180, interval=0.5)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_tab_renders_in_both_languages(page, lang):
    at = page(lang)
    assert at.title[0].value == translate("fc.title", lang)
    assert [tab.label for tab in at.tabs] == [translate(f"fc.tab.{k}", lang) for k in view.TABS]
    assert not _texts(at, "error") and not _texts(at, "warning")
    ex = matrix.default_batch()
    first = matrix.mlp_step(ex.X, ex.t, ex.params, activations=ex.activations).steps[0]
    assert at.subheader[0].value == view.step_title(first, lang=lang)
    assert any(s.startswith(translate("fc.verify.ok", lang, diff="")[:10]) for s in _texts(at, "success"))
    assert translate("fc.example", lang, **ex.text_params) in _texts(at, "caption")
    assert view.expected_text(lang=lang) in _texts(at, "info")  # FC vs CNN: the expectation until run
    assert translate("fc.train.not_started", lang) in _texts(at, "caption")
    assert any(m.startswith(translate("fc.collapse.same", lang)) for m in _texts(at, "markdown"))
    losses = next(d for d in at.dataframe if translate("fc.loss.col.p", lang) in d.value.columns)
    assert len(losses.value) == 10 and losses.value.iloc[:, 0].str.endswith("✓").sum() == 1
    ratio = translate("fc.act.col.ratio", lang)
    _finish(at, lambda at: any(ratio in d.value.columns for d in at.dataframe))  # measured in a worker
    norms = next(d for d in at.dataframe if ratio in d.value.columns)
    assert list(norms.value.iloc[:, 0]) == [translate("fc.activation.sigmoid", lang),
                                           translate("fc.activation.relu", lang)]


def test_stepper_walks_every_step_and_back():
    at = run_page(NS, lang="ko", state=SMALL)
    try:
        ex = matrix.default_batch()
        steps = matrix.mlp_step(ex.X, ex.t, ex.params, activations=ex.activations).steps
        for n, step in enumerate(steps, start=1):
            if n > 1:
                at.button(key=f"{NS}.next").click().run()
            assert not at.exception, step.id
            assert at.slider(key=f"{NS}.step").value == n
            assert at.subheader[0].value == view.step_title(step, lang="ko")
            assert view.step_caption(n, len(steps), step, lang="ko") in _texts(at, "caption")
            assert (translate("fc.note.b1_typo", "ko") in _texts(at, "info")) == (step.id == "db1")
        at.button(key=f"{NS}.next").click().run()  # past the end: stays on the last step
        assert at.slider(key=f"{NS}.step").value == len(steps)
        at.button(key=f"{NS}.prev").click().run()
        assert at.slider(key=f"{NS}.step").value == len(steps) - 1
        at.slider(key=f"{NS}.step").set_value(7).run()
        at.number_input(key=f"{NS}.focus_row").set_value(63).run()  # clipped to the last example
        at.number_input(key=f"{NS}.focus_col").set_value(783).run()
        assert not at.exception and at.subheader[0].value == view.step_title(steps[6], lang="ko")
        assert any(r"\frac{\partial L}{\partial W_{2}}[3," in latex.value for latex in at.latex)
    finally:
        _close(at)


def test_three_layers_load_the_homework_with_its_relu_mask(page):
    at = page("en")
    at.segmented_control(key=widget_key(f"{NS}.layers", "en")).set_value(3).run()
    assert not at.exception and not _texts(at, "error")
    assert at.selectbox(key=widget_key(f"{NS}.act2", "en")).value == "relu"
    assert at.text_area(key=f"{NS}.text.W3").value  # the third layer's weights were loaded
    ex = matrix.default_batch(layers=3)
    steps = matrix.mlp_step(ex.X, ex.t, ex.params, activations=ex.activations).steps
    at.slider(key=f"{NS}.step").set_value([s.id for s in steps].index("da2") + 1).run()
    assert at.subheader[0].value == translate("fc.step.da_relu.name", "en", l=2)
    assert "da2 = dz2; da2[a2 <= 0] = 0" in [c.value for c in at.code]
    assert "3 layers (Sigmoid, ReLU)" in _summary(at)


def test_loading_other_digits_fills_the_text_boxes(page):
    at = page("en")
    at.number_input(key=f"{NS}.n").set_value(2).run()
    at.select_slider(key=f"{NS}.size").set_value(7).run()
    at.number_input(key=f"{NS}.seed").set_value(3).run()
    at.button(key=f"{NS}.load").click().run()
    ex = matrix.default_batch(n=2, size=7, seed=3)
    assert at.text_area(key=f"{NS}.text.X").value == view.example_texts(ex)["X"]
    assert at.text_input(key=f"{NS}.text.t").value == " ".join(str(d) for d in ex.labels)
    assert "batch X = 2×49" in _summary(at) and not _texts(at, "error")


@pytest.mark.parametrize(("field", "text", "lang"), [  # every refusal once, the languages taking turns
    ("X", "0.1 0.2 abc", "en"),
    ("X", "", "ko"),
    ("X", "1 2\n3", "en"),
    ("X", "nan " * 16, "ko"),
    ("X", "1e300 " * 16, "en"),
    ("X", "0 " * 800, "ko"),
    ("X", "0 " * 16 + "\n" + ("0 " * 16 + "\n") * 64, "en"),
    ("X", "1 " * 100_001, "ko"),
    ("W1", "1 2\n3 4", "en"),
    ("b1", "0 0", "ko"),
    ("t", "1 2 3", "en"),
    ("t", "1 2 3 12", "ko"),
    ("W2", "1\n1\n1\n1", "en"),
])
def test_bad_typed_matrices_are_refused_and_the_previous_values_kept(page, field, text, lang):
    at = page(lang)
    at.text_input(key=f"{NS}.text.t").set_value("0 1 2 3").run()  # a valid change first
    valid = _summary(at)
    assert not _texts(at, "error")
    widget = at.text_input if field in ("t",) or field.startswith("b") else at.text_area
    widget(key=f"{NS}.text.{field}").set_value(text).run()
    assert not at.exception
    texts = {n: at.session_state[f"{NS}.text.{n}"] for n in view.matrix_names(2)}
    with pytest.raises(FCError) as err:
        matrix.mlp_step(*view.parse_inputs(texts, layers=2), activations=("sigmoid",))
    assert _texts(at, "error") == [view.error_text(err.value, lang=lang)]
    assert translate("common.kept_previous", lang) in _texts(at, "caption")
    assert _summary(at) == valid  # the previous valid inputs are still in use
    at.button(key=f"{NS}.next").click().run()  # the stepper goes on with them
    assert not at.exception and at.slider(key=f"{NS}.step").value == 2


@pytest.mark.parametrize(("key", "text", "error"), [
    (f"{NS}.col.W1", "1 2\n3", "fc.error.ragged"),
    (f"{NS}.col.x", "1 2 3", "fc.error.collapse_shape"),
    (f"{NS}.col.W2", "inf 1 1\n1 1 1", "fc.error.not_finite_cell"),
])
def test_bad_collapse_matrices_keep_the_previous_ones(page, key, text, error):
    at = page("ko")
    before = [latex.value for latex in at.latex if latex.value.startswith("W_2(W_1x)")]
    at.text_area(key=key).set_value(text).run()
    assert not at.exception
    texts = {n: at.session_state[f"{NS}.col.{n}"] for n in ("W1", "W2", "x")}
    with pytest.raises(FCError) as err:
        nonlinear.collapse(**view.parse_collapse(texts))
    assert err.value.key == error and _texts(at, "error") == [view.error_text(err.value, lang="ko")]
    assert translate("common.kept_previous", "ko") in _texts(at, "caption")
    assert [latex.value for latex in at.latex if latex.value.startswith("W_2(W_1x)")] == before


def test_typed_scores_and_logistic_inputs(page):
    at = page("en")
    at.segmented_control(key=widget_key(f"{NS}.loss.source", "en")).set_value("typed").run()
    assert not at.exception and not _texts(at, "error")
    assert any("= 2.04\n" in latex.value for latex in at.latex)  # 3.2 5.1 -1.7, true class 0
    for text in ("3.2 five -1.7", "3.2", "nan 1"):
        at.text_input(key=f"{NS}.loss.scores").set_value(text).run()
        assert not at.exception and len(_texts(at, "error")) == 1
        assert any("= 2.04\n" in latex.value for latex in at.latex)  # the previous scores are kept
    at.text_input(key=f"{NS}.loss.scores").set_value("1 2").run()
    at.number_input(key=f"{NS}.loss.label").set_value(5).run()  # no class 5 among two scores
    assert _texts(at, "error") == [view.error_text(FCError("fc.error.range", name="label", value=5, low=0, high=1),
                                                   lang="en")]
    at.text_input(key=f"{NS}.log.w").set_value("0.5").run()
    assert view.error_text(FCError("fc.error.logistic_shape", x=2, w=1), lang="en") in _texts(at, "error")


def test_the_activation_lab_measures_tiny_stacks(page):
    at = page("en")
    at.slider(key=f"{NS}.act.depth").set_value(2).run()
    at.slider(key=f"{NS}.act.steps").set_value(0).run()
    at.toggle(key=f"{NS}.act.batchnorm").set_value(True).run()
    _finish(at, lambda at: _norms(at) is not None)
    norms = _norms(at)
    assert list(norms["loss after 0 steps"]) == list(norms["loss at initialisation"])
    at.slider(key=f"{NS}.act.depth").set_value(3).run()
    assert _norms(at) is None and at.get("progress")  # a new measurement, in a worker
    _finish(at, lambda at: _norms(at) is not None)
    at.slider(key=f"{NS}.act.depth").set_value(2).run()  # measured before (by any session): drawn at once
    assert _norms(at) is not None and not at.get("progress")


def _norms(at):
    """The activation lab's table of gradient norms, if drawn."""
    return next((d.value for d in at.dataframe if "first / output" in d.value.columns), None)


def test_fc_vs_cnn_that_breaks_in_its_worker_says_why_and_can_be_retried(page):
    small = tiny_digits(100, seed=0)
    odd = type(small)(small.images, small.labels + 10)  # labels 10..19: not digits, refused in the worker
    at = page("ko", state={f"{NS}.shift_data": (odd, small)})
    at.number_input(key=f"{NS}.shift.epochs").set_value(1).run()
    at.button(key=f"{NS}.shift.run").click().run()
    _finish(at, lambda at: len(at.warning) > 0)
    assert _texts(at, "warning") == [translate("fc.error.mnist_labels", "ko", name="train")]
    retry = next(b for b in at.button if b.label == translate("common.job.retry", "ko"))
    retry.click().run()
    assert not at.exception and not at.warning  # asked again: a new job runs


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_short_live_training_starts_pauses_and_resets(page, lang):
    at = page(lang)
    assert at.button(key=f"{NS}.hw.start").label == translate("train.start", lang)
    assert at.button(key=f"{NS}.hw.pause").disabled and at.button(key=f"{NS}.hw.reset").disabled
    at.number_input(key=f"{NS}.hw.size").set_value(0).run()  # all 200 tiny digits
    at.number_input(key=f"{NS}.hw.epochs").set_value(100).run()
    at.button(key=f"{NS}.hw.start").click().run()
    runner = at.session_state[f"{NS}.runner"]
    assert runner.config.epochs == 100 and runner.config.train_size is None and runner.config.model == "custom"
    assert at.button(key=f"{NS}.hw.start").label == translate("train.running", lang)
    assert until(lambda: (runner.poll(), runner.snapshot.epoch >= 1)[1], timeout=120, interval=0.1)
    at.button(key=f"{NS}.hw.pause").click().run()
    assert not at.exception and runner.state == "paused"
    assert at.button(key=f"{NS}.hw.start").label == translate("train.resume", lang)
    assert view.homework_line(runner.history, lang=lang) in _texts(at, "markdown")
    assert any(translate("fc.train.col.test", lang) in d.value.columns for d in at.dataframe)
    at.button(key=f"{NS}.hw.reset").click().run()
    assert f"{NS}.runner" not in at.session_state and until(lambda: not runner.alive)
    assert translate("fc.train.not_started", lang) in _texts(at, "caption")


def test_a_training_that_breaks_in_its_worker_says_why(page):
    small = tiny_digits(100, seed=0)
    odd = type(small)(small.images[..., :20, :20], small.labels)  # 20×20 digits: the network wants 28×28
    at = page("ko", state={f"{NS}.data": (odd, odd)})
    at.number_input(key=f"{NS}.hw.size").set_value(0).run()
    at.button(key=f"{NS}.hw.start").click().run()
    runner = at.session_state[f"{NS}.runner"]
    assert until(lambda: (runner.poll(), runner.state == "failed")[1], timeout=120, interval=0.1)
    at.run()
    assert not at.exception
    error = translate(runner.error.key, "ko", **runner.error.params)
    assert translate("train.status.failed", "ko", error=error) in _texts(at, "error")
    assert at.button(key=f"{NS}.hw.start").disabled and not at.button(key=f"{NS}.hw.reset").disabled


def test_a_bad_training_setting_is_refused_and_start_disabled(page):
    at = page("ko")
    at.number_input(key=f"{NS}.hw.lr").set_value(0.0).run()
    assert _texts(at, "error") == [view.error_text(TrainingError("train.error.lr", lr=0.0), lang="ko")]
    assert at.button(key=f"{NS}.hw.start").disabled


def test_fc_vs_cnn_runs_on_tiny_data_and_replaces_the_expectation(page):
    at = page("en")
    at.number_input(key=f"{NS}.shift.epochs").set_value(1).run()
    at.button(key=f"{NS}.shift.run").click().run()
    assert not at.exception and view.expected_text(lang="en") not in _texts(at, "info")
    _finish(at, lambda at: any("CNN" in d.value.columns for d in at.dataframe))
    table = next(d.value for d in at.dataframe if "CNN" in d.value.columns)
    assert list(table["shift"]) == [f"{s} px" for s in view.SHIFTS]
    trained = translate("fc.shift.summary", "en", n="200", epochs=1, mlp="#", cnn="#", mlp_s="#", cnn_s="#")
    assert any(c.startswith(trained.split("#")[0]) for c in _texts(at, "caption"))  # the 200 tiny digits, 1 epoch


def _linked(params: dict, lang: str):
    """The page opened from a lesson link with ``params`` (small data injected; close it with `_close`)."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import APPTEST_TIMEOUT, ROOT

    at = AppTest.from_file(str(ROOT / "pages" / f"{NS}.py"), default_timeout=APPTEST_TIMEOUT)
    at.session_state["lang"] = lang
    for key, value in SMALL.items():
        at.session_state[key] = value
    at.query_params.update(params)
    at.run()
    return at


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_lesson_link_loads_its_batch_into_the_stepper_and_sets_the_activation_lab(lang):
    at = _linked({"layers": "3", "n": "6", "size": "5", "seed": "3", "depth": "4", "init": "he"}, lang)
    try:
        assert not at.exception and not _texts(at, "warning") and not _texts(at, "error")
        ex = matrix.default_batch(layers=3, n=6, size=5, seed=3)
        assert at.segmented_control(key=widget_key(f"{NS}.layers", lang)).value == 3
        assert translate("fc.example", lang, **ex.text_params) in _texts(at, "caption")  # loaded, as after "Load"
        assert at.session_state[f"{NS}.valid"].tensors["X"].shape == (6, 25)
        assert (at.slider(key=f"{NS}.act.depth").value, at.session_state[f"{NS}.act.init"]) == (4, "he")
    finally:
        _close(at)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_bad_link_values_are_named_and_the_defaults_kept(lang):
    at = _linked({"layers": "4", "size": "3", "n": "abc", "depth": "999", "tab": "../../etc"}, lang)
    try:
        assert not at.exception
        reasons = {"layers": translate("common.link.choice", lang, choices="2, 3"),
                   "size": translate("common.link.choice", lang, choices="2, 4, 5, 7"),
                   "n": translate("common.link.not_whole", lang, low=1, high=10),
                   "depth": translate("common.link.range", lang, low=1, high=20),
                   "tab": translate("common.link.choice", lang, choices=", ".join(view.TABS))}
        assert _texts(at, "warning") == [translate("common.link.bad", lang, name=n, reason=r)
                                         for n, r in reasons.items()]
        ex = matrix.default_batch()
        assert translate("fc.example", lang, **ex.text_params) in _texts(at, "caption")
        assert (at.slider(key=f"{NS}.act.depth").value, at.session_state[f"{NS}.act.init"]) == (10, "default")
    finally:
        _close(at)
