"""pages/activations.py in AppTest: both languages, every input source, every bad input of the issue."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from explorer.core import i18n
from explorer.core.session import widget_key
from tests.conftest import run_page

NS = "activations"


@pytest.fixture(autouse=True)
def _empty_hub(tmp_path, monkeypatch):
    """No ImageNet weights cached, and no network use: the photo tab takes its offline path."""
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))


def png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def digit_photo() -> bytes:
    im = Image.new("RGB", (200, 260), (230, 228, 220))
    ImageDraw.Draw(im).line((100, 30, 100, 230), fill=(30, 30, 30), width=22)
    return png(np.asarray(im))


def two_digits() -> bytes:
    im = Image.new("L", (400, 200), 255)
    d = ImageDraw.Draw(im)
    d.line((80, 30, 80, 170), fill=0, width=18)
    d.ellipse((200, 30, 300, 170), outline=0, width=18)
    return png(np.asarray(im))


def texts(at, kind: str) -> str:
    return "\n".join(str(e.value) for e in getattr(at, kind))


def text(key: str, lang: str, **kw) -> str:
    return i18n.translate(key, lang, **kw)


def show_test_digit(lang: str):
    at = run_page(NS, lang=lang)
    at.segmented_control(key=widget_key(f"{NS}.source", lang)).set_value("test").run()
    assert not at.exception
    return at


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_first_open_asks_for_a_drawing_and_says_photos_are_offline(lang):
    at = run_page(NS, lang=lang)
    assert not at.exception
    assert at.title[0].value == text(f"{NS}.title", lang)
    assert text(f"{NS}.draw_first", lang) in texts(at, "info")  # blank canvas
    assert text(f"{NS}.imagenet.offline_note", lang) in texts(at, "warning")
    assert not at.metric


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_test_digit_shows_steps_prediction_layers_and_stats(lang):
    at = show_test_digit(lang)
    assert at.metric[0].value == "7"  # the first embedded test digit is a 7
    assert len(at.image) >= 6  # the six preprocessing steps
    assert at.dataframe and not at.error
    assert text(f"{NS}.model.bundled_note", lang, accuracy="", n=1000).split("(")[0] in texts(at, "caption")
    at.toggle(key=f"{NS}.shared_scale").set_value(False).run()
    at.radio(key=widget_key(f"{NS}.explain", lang)).set_value("saliency").run()
    at.number_input(key=f"{NS}.test_index").set_value(3).run()
    assert not at.exception and at.metric[0].value == "0"


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_an_uploaded_digit_photo_is_classified(lang):
    at = run_page(NS, lang=lang)
    at.segmented_control(key=widget_key(f"{NS}.source", lang)).set_value("upload").run()
    assert text(f"{NS}.upload_first", lang) in texts(at, "info")
    at.file_uploader(key=f"{NS}.upload").upload("one.png", digit_photo(), "image/png").run()
    assert not at.exception and not at.error
    assert at.metric[0].value == "1"


BAD_UPLOADS = {
    "not_image": (b"this is not an image at all", "images.error.not_image"),
    "all_white": (png(np.full((64, 64, 3), 255, np.uint8)), f"{NS}.error.blank"),
    "all_black": (png(np.zeros((64, 64, 3), np.uint8)), f"{NS}.error.blank"),
    "huge": (png(np.zeros((7000, 7000), np.uint8)), "images.error.too_many_pixels"),
    "empty": (b"", "images.error.empty"),
}


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("case", sorted(BAD_UPLOADS))
def test_bad_uploads_say_why_and_keep_the_previous_digit(case, lang):
    data, key = BAD_UPLOADS[case]
    at = show_test_digit(lang)
    at.segmented_control(key=widget_key(f"{NS}.source", lang)).set_value("upload").run()
    at.file_uploader(key=f"{NS}.upload").upload(f"{case}.png", data, "image/png").run()
    assert not at.exception
    message = texts(at, "error")
    assert text("common.error_prefix", lang) in message
    prefix = i18n.catalog(lang)[key].split("{")[0][:12]
    assert prefix in message, (prefix, message)
    assert text("common.kept_previous", lang) in texts(at, "caption")
    assert at.metric[0].value == "7"  # the previous valid digit is still analysed


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_several_digits_are_flagged_as_unreliable(lang):
    at = run_page(NS, lang=lang)
    at.segmented_control(key=widget_key(f"{NS}.source", lang)).set_value("upload").run()
    at.file_uploader(key=f"{NS}.upload").upload("two.png", two_digits(), "image/png").run()
    assert not at.exception
    assert text(f"{NS}.warn.several_digits", lang, n=2) in texts(at, "warning")


@dataclass
class _Split:
    images: torch.Tensor
    labels: torch.Tensor


def test_a_model_trained_in_this_session_is_offered_first():
    from explorer.core.data import load_embedded
    from explorer.training import Runner, TrainConfig
    from explorer.training.worker import Data
    from tests.conftest import until

    train, test = load_embedded("train"), load_embedded("test")
    runner = Runner(TrainConfig(epochs=1, batch_size=50, train_size=200),
                    Data("arrays", train.images[:200], train.labels[:200], test.images[:50], test.labels[:50]))
    assert runner.start()
    assert until(lambda: (runner.poll(), runner.snapshot.step >= 2)[1], timeout=60)
    runner.pause()
    at = run_page(NS, lang="ko", state={"train.runner": runner})
    at.segmented_control(key=widget_key(f"{NS}.source", "ko")).set_value("test").run()
    assert not at.exception
    assert at.radio(key=widget_key(f"{NS}.model", "ko")).value == "session"
    model = text("train.model.seed_cnn", "ko")  # the model's name in the page's language, not its id
    steps = runner.snapshot.step
    assert text(f"{NS}.model.session_note", "ko", model=model, steps=steps) in texts(at, "caption")
    at.radio(key=widget_key(f"{NS}.model", "ko")).set_value("bundled").run()
    assert not at.exception and at.metric[0].value == "7"


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_photo_tab_with_cached_weights_shows_top5_and_bad_photos_are_refused(lang, tmp_path):
    from torchvision import models

    from explorer.activations import imagenet

    path = imagenet.weights_path("resnet18")  # inside this test's empty TORCH_HOME (fixture above)
    path.parent.mkdir(parents=True)
    torch.save(models.resnet18(weights=None).state_dict(), path)  # random stand-in for the real weights
    at = run_page(NS, lang=lang)
    assert not at.exception and not at.error
    assert at.selectbox(key=f"{NS}.arch").value == "resnet18"
    assert len(at.image) == 1  # the 224x224 crop (the digit tab shows no image before a drawing)
    assert text(f"{NS}.imagenet.offline_note", lang) not in texts(at, "warning")
    at.file_uploader(key=f"{NS}.photo_upload").upload("x.png", b"not an image", "image/png").run()
    assert not at.exception
    assert i18n.catalog(lang)["images.error.not_image"].split("{")[0][:12] in texts(at, "error")
