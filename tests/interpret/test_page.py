"""pages/interpret.py in AppTest: every view for the three kinds of model (the bundled CNN, a Train-page run,
a builder run on colour images with named classes), both languages, bad input explained."""

from __future__ import annotations

import json

import pytest
import torch

from explorer import builder as bd
from explorer import interpret as ip
from explorer.core.i18n import translate
from explorer.core.session import widget_key
from explorer.training import Runner, TrainConfig
from explorer.training.worker import Data
from tests.conftest import run_page, until
from tests.training.conftest import TEST, TRAIN

NS = "interpret"
QUICK = {f"{NS}.steps": 64}  # feature visualisation: few optimisation steps
COLOUR = (3, 16, 20)
PETS = ("cats", "dogs")


def _trained(config: TrainConfig, data: Data, steps: int = 3) -> Runner:
    runner = Runner(config, data)
    assert runner.start()
    assert until(lambda: (runner.poll(), runner.snapshot is not None and runner.snapshot.step >= steps)[1],
                 timeout=120, interval=0.05)
    runner.pause()
    return runner


@pytest.fixture(scope="module")
def session_run():
    runner = _trained(TrainConfig(batch_size=50, epochs=50), Data("arrays", TRAIN.images, TRAIN.labels,
                                                                   TEST.images[:60], TEST.labels[:60]))
    yield runner
    runner.stop()


@pytest.fixture(scope="module")
def builder_run():
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(40) % 2
    pixels = (torch.rand(40, *COLOUR, generator=g) * 100 + 120 * labels[:, None, None, None]).to(torch.uint8)
    config = TrainConfig(model="custom", layers=tuple(bd.preset("seed_cnn", classes=2)), input_shape=COLOUR,
                         classes=2, batch_size=10, epochs=50)
    runner = _trained(config, Data("pixels", pixels[:30], labels[:30], pixels[30:], labels[30:], classes=PETS))
    yield runner
    runner.stop()


def _open(tab: str, *, lang: str = "en", state: dict | None = None):
    at = run_page(NS, lang=lang, state={f"{NS}.tab": tab, **QUICK, **(state or {})})
    assert not at.exception, at.exception
    return at


def _wait(at, until_ok, timeout: float = 180):
    """Rerun the page until ``until_ok(at)`` (jobs run in worker processes meanwhile)."""
    assert until(lambda: (at.run(), until_ok(at))[1], timeout=timeout, interval=0.5)
    assert not at.exception, at.exception
    return at


def _text(key: str, lang: str, **kw) -> str:
    return translate(key, lang, **kw)


def _all(at, kind: str) -> str:
    return "\n".join(str(e.value) for e in getattr(at, kind))


def _captions(at) -> list[str]:
    """Captions of every picture on the page (``st.image`` lists), in order."""
    return [i.caption for element in at.get("image") for i in element.proto.imgs]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_bundled_models_filters_and_classes_are_shown_with_the_digits_that_excite_a_channel(lang):
    at = _wait(_open("features", lang=lang), lambda a: len(a.get("image")) >= 3)
    grid, top, classes = (element.proto.imgs for element in at.get("image"))
    assert len(grid) == 32 and len(classes) == 10  # conv 1's channels; the digits
    assert top[0].caption == _text(f"{NS}.features.optimised", lang)
    assert sum(i.caption.startswith("#") for i in top) == 9  # the 9 test digits of the chosen channel
    assert [i.caption.split(":")[0] for i in classes] == [str(d) for d in range(10)]
    assert _text(f"{NS}.features.grid", lang, layer=_text("common.layer.conv", lang, n=1)) in _all(at, "subheader")


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_attribution_shows_four_methods_grad_cam_per_layer_and_the_sanity_check(lang):
    at = _open("attribution", lang=lang)
    assert len(at.get("plotly_chart")) == 4 + 2 + 2  # four methods, Grad-CAM at both convs, the sanity check
    assert _text(f"{NS}.sanity.similarity_label", lang) in [m.label for m in at.metric]
    verdicts = {_text(f"{NS}.sanity.passed", lang), _text(f"{NS}.sanity.failed", lang)}
    assert len({m.value for m in [*at.success, *at.warning]} & verdicts) == 1
    at.selectbox(key=widget_key(f"{NS}.target", lang)).set_value(3).run()
    assert not at.exception and at.session_state[f"{NS}.target"] == 3


def test_the_adversarial_view_finds_the_smallest_flipping_strength(bundled, test_set):
    at = _open("adversarial", state={f"{NS}.index": 3, f"{NS}.eps": 0.2})
    flip = ip.smallest_flipping_eps(bundled, test_set.images[3:4], int(test_set.labels[3]), eps_max=0.5)
    expected = (_text(f"{NS}.adversarial.never", "en", eps=0.5) if flip is None else
                _text(f"{NS}.adversarial.smallest", "en", eps=f"{flip:.3f}"))
    assert expected in _all(at, "info")
    assert len(at.get("plotly_chart")) == 2


def test_a_drawn_digit_is_attacked_away_from_the_models_own_answer():
    strokes = [[[140, 30], [140, 250]]]  # one vertical stroke: a 1
    at = _open("adversarial", state={f"{NS}.source": "draw", f"{NS}.strokes": strokes})
    assert any(translate(f"{NS}.adversarial.own_label", "en", digit="1")[:30] in c.value for c in at.caption)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_bad_uploads_are_explained_in_the_users_language(lang):
    at = _open("attribution", lang=lang, state={f"{NS}.source": "upload"})
    assert _text("activations.upload_first", lang) in _all(at, "info")
    at.file_uploader(key=f"{NS}.upload").upload("x.png", b"not an image at all", "image/png").run()
    assert not at.exception and at.error and _text("common.error_prefix", lang) in at.error[0].value
    assert not at.get("plotly_chart")  # nothing explained without a digit


def test_an_empty_pad_asks_for_a_drawing():
    at = _open("embedding", state={f"{NS}.source": "draw"})
    assert _text("activations.draw_first", "en") in _all(at, "info")
    assert len(at.get("plotly_chart")) == 1  # the map is there, without a star


def test_the_pca_map_places_the_chosen_digit(bundled, test_set):
    at = _open("embedding", state={f"{NS}.index": 5})
    fig = at.get("plotly_chart")[0].proto.spec
    assert '"star"' in fig and _text(f"{NS}.embedding.yours", "en") in fig
    share = ip.pca(ip.penultimate_features(bundled, test_set.images)).variance_ratio.sum()
    assert _text(f"{NS}.embedding.variance", "en", share=f"{share:.0%}") in _all(at, "caption")


def test_the_confusion_matrix_lists_the_most_common_mistakes(bundled, test_set):
    at = _open("confusion", lang="ko")
    with torch.no_grad():
        predicted = bundled(test_set.images).argmax(1).numpy()
    (true, pred, count), *_ = ip.top_confusions(ip.confusion_matrix(predicted, test_set.labels.numpy()))
    assert _text(f"{NS}.confusion.mistake", "ko", true=true, predicted=pred, count=count) in _all(at, "markdown")


def test_a_train_page_run_is_studied_on_a_frozen_copy_and_replayed(session_run):
    state = {"train.runner": session_run}
    at = _open("attribution", state=state)
    assert at.radio(key=widget_key(f"{NS}.model", "en")).options == [
        _text(f"{NS}.model.bundled", "en"), _text(f"{NS}.model.session", "en")]
    at.radio(key=widget_key(f"{NS}.model", "en")).set_value("session").run()
    assert not at.exception
    step = session_run.snapshot.step
    assert _text(f"{NS}.model.weights", "en", step=step, n=60) in _all(at, "caption")
    assert at.number_input(key=f"{NS}.index").max == 59  # its own 60 test images
    session_run.start()
    assert until(lambda: (session_run.poll(), session_run.snapshot.step > step + 1)[1], timeout=60)
    session_run.pause()
    at.run()
    assert at.button(key=f"{NS}.update").label.startswith(_text(f"{NS}.model.update", "en", step="")[:10])
    at.button(key=f"{NS}.update").click().run()
    assert _text(f"{NS}.model.weights", "en", step=session_run.snapshot.step, n=60) in _all(at, "caption")
    at.session_state[f"{NS}.tab"] = "timelapse"
    at.run()
    assert not at.exception and at.get("select_slider")
    frames = session_run.frames()
    assert at.get("select_slider")[0].options == [str(f.step) for f in frames]
    assert len(at.get("plotly_chart")) >= 1 + 2 * 3  # filters, then weights and gradients of 3 layers


def test_the_bundled_model_has_no_time_lapse():
    at = _open("timelapse", lang="ko")
    assert _text(f"{NS}.timelapse.none", "ko") in _all(at, "info")


def test_a_builder_run_on_named_colour_classes_works_in_every_view(builder_run):
    state = {"builder.runner": builder_run, f"{NS}.model": "builder"}
    at = _open("attribution", state=state)
    assert at.radio(key=widget_key(f"{NS}.source", "en")).options == [_text("activations.source.test", "en")]
    assert _captions(at)[0] == _text(f"{NS}.label", "en", label=PETS[int(builder_run.data.test_labels[0])])
    assert len(at.get("plotly_chart")) == 4 + 2 + 2
    for tab in ("adversarial", "embedding", "confusion"):
        at.session_state[f"{NS}.tab"] = tab
        at.run()
        assert not at.exception, (tab, at.exception)
    assert _text(f"{NS}.confusion.title", "en", n=10) in at.get("plotly_chart")[0].proto.spec
    at.session_state[f"{NS}.tab"] = "features"
    _wait(at, lambda a: len(a.get("image")) >= 3)
    assert [c.split(":")[0] for c in _captions(at)[-2:]] == list(PETS)  # the class gallery, named
    at.session_state[f"{NS}.tab"] = "embedding"
    at.session_state[f"{NS}.embed"] = "tsne"
    _wait(at, lambda a: len(a.get("plotly_chart")) == 1)
    assert _text(f"{NS}.embedding.tsne_note", "en") in _all(at, "caption")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [trace["name"] for trace in spec["data"]] == [*PETS, _text(f"{NS}.embedding.yours", "en")]
