"""AppTest runs of pages/train.py on small injected data: start, pause, reset, checkpoints, languages."""

from __future__ import annotations

import pytest

from explorer.core.i18n import translate
from tests.bad_checkpoints import bad_checkpoints, good
from tests.conftest import run_page, until
from tests.training.conftest import TEST, TRAIN

SMALL = {"train.data": (TRAIN, TEST)}


def _open(lang: str = "en"):
    at = run_page("train", lang=lang, state=dict(SMALL))
    assert not at.exception
    return at



def _set_small_batches(at):
    at.number_input(key="train.batch_size").set_value(20).run()
    return at


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_page_renders_in_both_languages(lang):
    at = _open(lang)
    assert at.title[0].value == translate("train.title", lang)
    assert at.button(key="train.start").label == translate("train.start", lang)
    runner = at.session_state["train.runner"]
    assert not runner.running and at.session_state["train.trainer"] is runner.trainer
    assert translate("train.not_started", lang) in [c.value for c in at.caption]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_start_then_pause_training(lang):
    at = _set_small_batches(_open(lang))
    at.button(key="train.start").click().run()
    assert not at.exception
    runner = at.session_state["train.runner"]
    assert runner.trainer.config.batch_size == 20  # settings changed before the first step apply at once
    assert until(lambda: runner.trainer.step_count >= 2)
    at.button(key="train.start").click().run()  # clicking start twice
    assert translate("train.already_running", lang) in [i.value for i in at.info]
    at.button(key="train.pause").click().run()
    assert not at.exception and not runner.running  # the worker has ended: no step can follow
    steps = runner.trainer.step_count
    assert at.button(key="train.start").label == translate("train.resume", lang)
    assert translate("train.paused", lang, step=steps) in [c.value for c in at.caption]


def test_changed_hyperparameters_wait_for_reset_which_rewinds():
    at = _set_small_batches(_open())
    first_weights = at.session_state["train.trainer"].state_dict()
    at.button(key="train.start").click().run()
    runner = at.session_state["train.runner"]
    assert until(lambda: runner.trainer.step_count >= 1)
    at.button(key="train.pause").click().run()
    at.number_input(key="train.lr").set_value(0.01).run()
    assert translate("train.pending_changes", "en") in [i.value for i in at.info]
    assert at.session_state["train.trainer"].config.lr == 0.001
    at.button(key="train.reset").click().run()
    trainer = at.session_state["train.trainer"]
    assert trainer.config.lr == 0.01 and trainer.step_count == 0
    assert all((trainer.state_dict()[k] == v).all() for k, v in first_weights.items())  # same seed, same start


def test_invalid_learning_rate_is_refused_with_a_message():
    at = _open()
    at.number_input(key="train.lr").set_value(0.0).run()
    assert not at.exception
    assert [e.value for e in at.error] == [translate("train.error.lr", "en", lr=0.0)]


def test_a_diverging_run_stops_with_a_message():
    at = _open("ko")
    at.number_input(key="train.lr").set_value(1e6).run()
    at.button(key="train.start").click().run()
    runner = at.session_state["train.runner"]
    assert until(lambda: not runner.running)
    at.run()
    assert runner.trainer.error.key == "train.error.nan"
    assert any(translate("train.error.nan", "ko", **runner.trainer.error.params) == e.value for e in at.error)


def test_a_good_checkpoint_loads():
    at = _open()
    at.file_uploader(key="train.upload").upload("good.pt", good()).run()
    assert not at.exception
    assert [s.value for s in at.success] == [translate("train.loaded", "en", name="good.pt")]


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("name", ["corrupt", "truncated", "wrong_architecture", "wrong_shape", "sparse",
                                  "pickled_code"])
def test_bad_checkpoints_are_refused_on_the_page(name, lang):
    data, key = bad_checkpoints()[name]
    at = _open(lang)
    trainer = at.session_state["train.trainer"]
    before = trainer.state_dict()
    at.file_uploader(key="train.upload").upload(f"{name}.pt", data).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith(translate(key, lang, **_params(data))[:12])
    assert all((trainer.state_dict()[k] == v).all() for k, v in before.items())


def _params(data: bytes) -> dict:
    from explorer.training import CheckpointError, load_checkpoint

    try:
        load_checkpoint(data, model="seed_cnn")
    except CheckpointError as err:
        return err.params
    return {}


def test_after_an_epoch_the_page_shows_test_accuracy_confusion_and_mistakes():
    at = _open("ko")
    at.button(key="train.start").click().run()
    runner = at.session_state["train.runner"]
    assert until(lambda: runner.trainer.epoch >= 1)  # 200 images, batch 100: two steps per epoch
    at.button(key="train.pause").click().run()
    assert not at.exception
    ev = runner.trainer.evaluation
    snap_epoch = runner.trainer.epoch
    assert at.metric[0].label == translate("train.test_accuracy", "ko", epoch=snap_epoch, accuracy=f"{ev.accuracy:.2%}")
    assert translate("train.no_epoch_yet", "ko") not in [c.value for c in at.caption]
