"""AppTest runs of pages/train.py on small injected data: one state drives the buttons, start, pause,
reset, a diverging run, checkpoints (the view refreshed at once), the epoch-end view, both languages."""

from __future__ import annotations

import pytest

from explorer.core.i18n import translate
from explorer.training import CheckpointError, load_checkpoint
from tests.bad_checkpoints import bad_checkpoints, good
from tests.conftest import run_page, until
from tests.training.conftest import TEST, TRAIN

SMALL = {"train.data": (TRAIN, TEST)}


def _open(lang: str = "en"):
    at = run_page("train", lang=lang, state=dict(SMALL))
    assert not at.exception
    return at


def _runner(at):
    return at.session_state["train.runner"]


def _reaches(runner, predicate, timeout: float = 60.0) -> bool:
    """Poll the worker (as the page's live view does) until ``predicate(runner)``."""
    return until(lambda: (runner.poll(), predicate(runner))[1], timeout=timeout, interval=0.1)


def _buttons(at) -> dict[str, tuple[str, bool]]:
    return {k: (at.button(key=f"train.{k}").label, at.button(key=f"train.{k}").disabled)
            for k in ("start", "pause", "reset")}


def _texts(at, kind: str) -> list[str]:
    return [e.value for e in getattr(at, kind)]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_not_started_running_and_paused_each_show_their_own_buttons_and_status(lang):
    at = _open(lang)
    assert at.title[0].value == translate("train.title", lang)
    assert _buttons(at) == {"start": (translate("train.start", lang), False),
                            "pause": (translate("train.pause", lang), True),
                            "reset": (translate("train.reset", lang), True)}
    assert translate("train.status.not_started", lang) in _texts(at, "caption")
    at.number_input(key="train.epochs").set_value(100).run()
    at.button(key="train.start").click().run()
    runner = _runner(at)
    assert runner.config.epochs == 100  # settings changed before the first step apply at once
    assert _buttons(at)["start"] == (translate("train.running", lang), True)  # the run the click made
    assert not _buttons(at)["pause"][1]
    assert _reaches(runner, lambda r: r.snapshot.step >= 1)
    at.button(key="train.pause").click().run()
    assert not at.exception and runner.state == "paused"
    assert _buttons(at)["start"] == (translate("train.resume", lang), False)
    assert _buttons(at)["pause"][1] and not _buttons(at)["reset"][1]
    assert translate("train.status.paused", lang, step=runner.snapshot.step) in _texts(at, "info")
    at.button(key="train.start").click().run()
    assert _buttons(at)["start"] == (translate("train.running", lang), True)
    runner.pause()


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_finished_run_says_so_and_only_reset_goes_on(lang):
    at = _open(lang)
    at.number_input(key="train.epochs").set_value(1).run()
    at.button(key="train.start").click().run()
    runner = _runner(at)
    assert _reaches(runner, lambda r: r.state == "finished")
    at.run()
    assert _buttons(at) == {"start": (translate("train.done", lang), True),
                            "pause": (translate("train.pause", lang), True),
                            "reset": (translate("train.reset", lang), False)}
    accuracy = f"{runner.evaluation.accuracy:.2%}"
    assert translate("train.status.finished", lang, epochs=1, accuracy=accuracy) in _texts(at, "success")


def test_changed_hyperparameters_wait_for_reset_which_rewinds_to_the_same_weights():
    at = _open()
    first_weights = _runner(at).state_dict()
    at.button(key="train.start").click().run()
    runner = _runner(at)
    assert _reaches(runner, lambda r: r.snapshot.step >= 1)
    at.button(key="train.pause").click().run()
    at.number_input(key="train.lr").set_value(0.01).run()
    assert translate("train.pending_changes", "en") in _texts(at, "info")
    assert _runner(at).config.lr == 0.001
    at.button(key="train.reset").click().run()
    fresh = _runner(at)
    assert fresh is not runner and fresh.config.lr == 0.01 and fresh.snapshot.step == 0
    assert not runner.alive or until(lambda: not runner.alive)  # the old run's worker is ended
    assert all((fresh.state_dict()[k] == v).all() for k, v in first_weights.items())  # same seed, same start


def test_invalid_learning_rate_is_refused_with_a_message():
    at = _open()
    at.number_input(key="train.lr").set_value(0.0).run()
    assert not at.exception
    assert _texts(at, "error") == [translate("train.error.lr", "en", lr=0.0)]


def test_a_diverging_run_stops_with_a_message_in_the_users_language():
    at = _open("ko")
    at.number_input(key="train.lr").set_value(1e6).run()
    at.button(key="train.start").click().run()
    runner = _runner(at)
    assert _reaches(runner, lambda r: r.state == "failed")
    at.run()
    assert runner.error.key == "train.error.nan"
    expected = translate("train.status.failed", "ko", error=translate("train.error.nan", "ko", **runner.error.params))
    assert expected in _texts(at, "error")
    assert _buttons(at)["start"][1] and not _buttons(at)["reset"][1]  # only Reset goes on


def test_a_good_checkpoint_loads_and_the_view_shows_it_at_once():
    at = _open()
    before = _runner(at).snapshot.filters[0].clone()
    at.file_uploader(key="train.upload").upload("good.pt", good()).run()
    assert not at.exception
    assert _texts(at, "success") == [translate("train.loaded", "en", name="good.pt")]
    shown = _runner(at).snapshot.filters[0]
    assert not (shown == before).all()  # the filters drawn in this very run are the loaded ones
    assert (shown == load_checkpoint(good(), model="seed_cnn")["features.0.weight"]).all()


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("name", ["corrupt", "truncated", "wrong_architecture", "wrong_shape", "sparse",
                                  "pickled_code"])
def test_bad_checkpoints_are_refused_on_the_page(name, lang):
    data, key = bad_checkpoints()[name]
    at = _open(lang)
    before = _runner(at).state_dict()
    at.file_uploader(key="train.upload").upload(f"{name}.pt", data).run()
    assert not at.exception
    errors = _texts(at, "error")
    assert len(errors) == 1 and errors[0].startswith(translate(key, lang, **_params(data))[:12])
    assert all((_runner(at).state_dict()[k] == v).all() for k, v in before.items())


def _params(data: bytes) -> dict:
    try:
        load_checkpoint(data, model="seed_cnn")
    except CheckpointError as err:
        return err.params
    return {}


def test_after_an_epoch_the_page_shows_test_accuracy_confusion_and_mistakes():
    at = _open("ko")
    at.button(key="train.start").click().run()
    runner = _runner(at)
    assert _reaches(runner, lambda r: r.evaluation is not None)  # 200 images, batch 100: two steps per epoch
    at.button(key="train.pause").click().run()
    assert not at.exception
    ev = runner.evaluation
    assert at.metric[0].label == translate("train.test_accuracy", "ko", epoch=runner.evaluation_epoch,
                                           accuracy=f"{ev.accuracy:.2%}")
    assert translate("train.no_epoch_yet", "ko") not in _texts(at, "caption")
    assert [label for label, _ in runner.maps][:3] == [("conv", 1), ("act", 1), ("pool", 1)]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_lesson_link_sets_the_network_and_learning_rate_and_a_bad_value_is_named(lang):
    from streamlit.testing.v1 import AppTest

    from explorer.core.session import widget_key
    from tests.conftest import APPTEST_TIMEOUT, ROOT

    at = AppTest.from_file(str(ROOT / "pages" / "train.py"), default_timeout=APPTEST_TIMEOUT)
    at.session_state["lang"] = lang
    at.session_state["train.data"] = (TRAIN, TEST)
    at.query_params.update({"model": "deep_seed_cnn", "lr": "0.01", "batch": "abc"})
    at.run()
    assert not at.exception
    assert at.selectbox(key=widget_key("train.model", lang)).value == "deep_seed_cnn"
    assert _runner(at).config.model == "deep_seed_cnn" and _runner(at).config.lr == 0.01
    reason = translate("common.link.not_whole", lang, low=1, high=1000)
    assert translate("common.link.bad", lang, name="batch", reason=reason) in _texts(at, "warning")
    assert _runner(at).config.batch_size == 100  # the default, not the bad value
