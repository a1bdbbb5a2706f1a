"""The bad-input corpus (tests/corpus.py) pushed through every place the app accepts input.

Library level: every case through the real public function of its target. Page level (AppTest):
every case through each page that accepts it, half of the cases in Korean and half in English, each
asserting a translated message, no exception, and that what the user had (image, kernel, digit,
model weights, matrices, last result) is unchanged. The drawing canvas is a custom component that
AppTest cannot drive: blank canvases are covered at library level (`preprocess_digit`).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from explorer import training
from explorer.activations import digits
from explorer.backprop import toy as bp
from explorer.core import images
from explorer.core.i18n import LANGUAGES, catalog, placeholders
from explorer.core.session import widget_key
from explorer.kernels import ops as kn
from explorer.shapes import network, sizes
from explorer.training import trainer as trainer_module
from tests import corpus
from tests.conftest import run_page

LIB_ERRORS = (images.ImageError, kn.KernelError, sizes.ShapeError, bp.BackpropInputError, digits.DigitError,
              training.CheckpointError)

pytestmark = pytest.mark.usefixtures("every_tab")  # pages draw every tab: one run reads them all


def feed(case: corpus.Case):
    """Push one case through the real public function(s) of its target; return the result."""
    value = case.build()
    if case.target == "image":
        return images.load_image(value)
    if case.target == "kernel":
        return kn.parse_kernel(kn.parse_text_grid(value))
    if case.target == "shape":
        if "records" in value:
            return network.summarize(network.layers_from_records(value["records"]), value["input"])
        if "text" in value:
            return sizes.parse_int(value["text"], "P")
        args = dict(value)
        return sizes.conv_output_size(args.pop("n"), args.pop("kernel"), **args)
    if case.target == "backprop":
        name, shape, text = value
        return bp.parse_matrix(text, name=name, shape=shape)
    if case.target == "digit":
        return digits.preprocess_digit(value)
    if case.target == "checkpoint":
        return training.load_checkpoint(value, model="seed_cnn")
    raise AssertionError(case.target)


def literal(key: str, lang: str) -> str:
    """The longest fixed piece of a translated template (placeholders vary)."""
    return max(re.split(r"\{[^}]*\}", catalog(lang)[key]), key=len).strip()


def shown(at) -> str:
    return "\n".join(str(e.value) for kind in ("error", "warning") for e in getattr(at, kind))


def halves(cases: list[corpus.Case]):
    """(lang, cases): every case once, alternating languages so both are tested."""
    return [pytest.param(lang, cases[i::2], id=lang) for i, lang in enumerate(LANGUAGES)]


# ---------------------------------------------------------------- the corpus itself


def test_corpus_is_big_varied_and_every_refusal_is_translated_in_both_languages():
    names = [c.name for c in corpus.ALL]
    assert len(names) >= 25 and len(set(names)) == len(names)
    assert {c.target for c in corpus.ALL} == {"image", "kernel", "shape", "backprop", "digit", "checkpoint"}
    for key in {k for c in corpus.ALL for k in c.keys}:
        assert all(key in catalog(lang) for lang in LANGUAGES), key
        assert placeholders(catalog("en")[key]) == placeholders(catalog("ko")[key]), key


def test_the_bomb_is_cheap_to_build_but_huge_when_decoded():
    data = corpus.png_bomb()
    assert len(data) < 200_000
    assert data[16:24] == (20000).to_bytes(4, "big") * 2  # IHDR width, height


# ---------------------------------------------------------------- library level


@pytest.mark.parametrize("case", corpus.ALL, ids=lambda c: c.name)
def test_library_refuses_with_a_translated_key_or_accepts(case):
    if case.key is None:
        feed(case)
        return
    with pytest.raises(LIB_ERRORS) as info:
        feed(case)
    assert info.value.key in case.keys
    assert all(key in catalog(lang) for lang in LANGUAGES for key in [info.value.key])


def test_odd_but_valid_images_decode_correctly():
    load = {c.name: images.load_image(c.build()) for c in corpus.IMAGES if c.key is None}
    assert load["png_16bit_gray"][0, -1].tolist() == [255, 255, 255]  # 65535 scaled, not clipped
    assert load["png_16bit_gray"][0, 0].tolist() == [0, 0, 0]
    assert load["palette_transparency"][0, 0].tolist() == [255, 255, 255]  # transparent -> white
    assert load["palette_transparency"][8, 8].tolist() == [255, 0, 0]
    assert load["gray_alpha"][0, 0].tolist() == [255, 255, 255]
    assert load["exif_rotated"].shape == (40, 20, 3)  # orientation 6 applied
    assert load["animated_gif"][5, 5].tolist() == [255, 0, 0]  # first frame
    assert load["cmyk_jpeg"].shape == (32, 48, 3)
    assert load["float_tiff"].dtype == np.uint8


@pytest.mark.parametrize("case", corpus.IMAGES, ids=lambda c: c.name)
def test_every_image_case_through_the_digit_upload(case):
    """The same bytes uploaded on the your-own-image page: same refusal, or a digit / a 'no digit' message."""
    try:
        result = digits.digit_from_upload(case.build())
    except images.ImageError as err:
        assert err.key in case.keys
    except digits.DigitError as err:
        assert case.key is None and all(err.key in catalog(lang) for lang in LANGUAGES)
    else:
        assert case.key is None and result.digit.shape == (28, 28)


def test_a_refused_checkpoint_leaves_the_trained_weights_untouched():
    from tests.training.conftest import TEST, TRAIN

    trainer = training.Trainer(training.TrainConfig(batch_size=50, epochs=1), TRAIN, TEST,
                               device=torch.device("cpu"))
    trainer.step(2)
    before = {k: v.clone() for k, v in trainer.state_dict().items()}
    for case in corpus.CHECKPOINTS:
        with pytest.raises(training.CheckpointError):
            trainer_module.apply_checkpoint(trainer, case.build())
    after = trainer.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


# ---------------------------------------------------------------- page level (AppTest)


def _expect(at, case: corpus.Case, lang: str, error: Exception | None) -> None:
    assert not at.exception, (case.name, at.exception)
    if error is not None:
        assert literal(error.key, lang) in shown(at), (case.name, error.key, shown(at))


def _library_error(fn, *args) -> Exception | None:
    try:
        fn(*args)
    except LIB_ERRORS as err:
        return err
    return None


@pytest.mark.parametrize(("lang", "cases"), halves(corpus.IMAGES))
def test_kernel_lab_uploads(lang, cases):
    at = run_page("kernels", lang=lang)
    at.radio(key=widget_key("kernel_lab.source", lang)).set_value("upload").run()
    for case in cases:
        before = at.session_state["kernel_lab.valid"]
        image, kernel = before["image"].copy(), before["kernel"].copy()
        at.file_uploader(key="kernel_lab.upload").set_value((f"{case.name}.png", case.build(), "image/png")).run()
        _expect(at, case, lang, _library_error(images.load_image, case.build()))
        valid = at.session_state["kernel_lab.valid"]
        if case.key is not None:
            assert np.array_equal(valid["image"], image) and np.array_equal(valid["kernel"], kernel), case.name
        else:
            assert np.array_equal(valid["image"], images.load_image(case.build())), case.name


@pytest.mark.parametrize(("lang", "cases"), halves(corpus.KERNELS))
def test_kernel_lab_kernel_text(lang, cases):
    at = run_page("kernels", lang=lang)
    kernel = at.session_state["kernel_lab.valid"]["kernel"].copy()
    for case in cases:
        at.text_area(key="kernel_lab.kernel_text").set_value(case.build()).run()
        _expect(at, case, lang, _library_error(feed, case))
        assert np.array_equal(at.session_state["kernel_lab.valid"]["kernel"], kernel), case.name


@pytest.fixture
def _no_imagenet(tmp_path, monkeypatch):
    """No ImageNet weights cached and no network: the photo tab stays on its offline path."""
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))


@pytest.mark.usefixtures("_no_imagenet")
@pytest.mark.parametrize(("lang", "cases"), halves(corpus.IMAGES))
def test_your_own_image_uploads(lang, cases):
    at = run_page("activations", lang=lang)
    at.segmented_control(key=widget_key("activations.source", lang)).set_value("test").run()
    assert not at.exception and "activations.last" in at.session_state, at.exception
    at.segmented_control(key=widget_key("activations.source", lang)).set_value("upload").run()
    for case in cases:
        last = at.session_state["activations.last"]
        at.file_uploader(key="activations.upload").set_value((f"{case.name}.png", case.build(), "image/png")).run()
        error = _library_error(digits.digit_from_upload, case.build())
        _expect(at, case, lang, error)
        if error is not None:
            assert np.array_equal(at.session_state["activations.last"].digit, last.digit), case.name


@pytest.mark.parametrize(("lang", "cases"), halves(corpus.CHECKPOINTS))
def test_train_checkpoint_uploads(lang, cases):
    from tests.training.conftest import TEST, TRAIN

    at = run_page("train", lang=lang, state={"train.data": (TRAIN, TEST)})
    good = corpus.good_checkpoint()
    at.file_uploader(key="train.upload").set_value(("good.pt", good, "application/octet-stream")).run()
    assert not at.exception and not at.error
    weights = training.load_checkpoint(good, model="seed_cnn")
    for case in cases:
        at.file_uploader(key="train.upload").set_value((f"{case.name}.pt", case.build(),
                                                        "application/octet-stream")).run()
        _expect(at, case, lang, _library_error(feed, case))
        state = at.session_state["train.runner"].state_dict()
        assert all(torch.equal(state[k], weights[k]) for k in weights), case.name
    assert not corpus.MARKER.exists()


@pytest.mark.parametrize(("lang", "cases"), halves(corpus.BACKPROP))
def test_backprop_matrices(lang, cases):
    at = run_page("backprop", lang=lang)
    valid = {k: np.array(v) for k, v in at.session_state["backprop.valid"].items() if k in ("X", "W1", "W2")}
    for case in cases:
        name, _, text = case.build()
        at.text_area(key=f"backprop.{name}_text").set_value(text).run()
        _expect(at, case, lang, _library_error(feed, case))
        now = at.session_state["backprop.valid"]
        assert all(np.array_equal(now[k], valid[k]) for k in valid), case.name
        at.text_area(key=f"backprop.{name}_text").set_value(bp.format_matrix(valid[name].reshape(
            {"X": (6, 6), "W1": (3, 3), "W2": (1, 4)}[name]))).run()


CALC = {"n": ("shapes.calc.h", "shapes.calc.w"), "kernel": ("shapes.calc.kh", "shapes.calc.kw"),
        "stride": ("shapes.calc.stride",)}


@pytest.mark.parametrize(("lang", "cases"), halves([c for c in corpus.SHAPES if "records" not in c.build()]))
def test_shapes_calculator(lang, cases):
    at = run_page("shapes", lang=lang)
    last = at.session_state["shapes.calc.last"][1]
    for case in cases:
        values = case.build()
        changed = []
        for field, value in values.items():
            if field in ("padding", "text"):
                widget = at.text_input(key="shapes.calc.padding")
                changed.append((widget, widget.value))
                widget.set_value(str(value))
            else:
                for key in CALC[field]:
                    widget = at.number_input(key=key)
                    changed.append((widget, widget.value))
                    widget.set_value(value)
        at.run()
        _expect(at, case, lang, _library_error(feed, case))
        assert at.session_state["shapes.calc.last"][1] == last, case.name
        for key, value in [(w.key, v) for w, v in changed]:
            (at.text_input if key == "shapes.calc.padding" else at.number_input)(key=key).set_value(value)
        at.run()


@pytest.mark.parametrize(("lang", "text", "key"), [("en", "0×28×28", "shapes.err.input_shape"),
                                                   ("ko", "1×2×2", "shapes.err.window"),
                                                   ("en", "28×abc", "shapes.err.not_integer")])
def test_shapes_network_input_shape(lang, text, key):
    """An impossible input shape for the network table: a message; the last valid table stays."""
    at = run_page("shapes", lang=lang)
    layers, shape, _ = at.session_state["shapes.net.last"]
    at.text_input(key="shapes.net.input").set_value(text).run()
    assert not at.exception
    assert literal(key, lang) in shown(at), shown(at)
    now = at.session_state["shapes.net.last"]
    assert now[1] == shape or now[2][-1].error_key == key  # kept, or the table says where it fails


@pytest.mark.parametrize(("lang", "cases"), halves([c for c in corpus.IMAGES if c.key is not None][:8]))
def test_kernel_lab_camera(lang, cases):
    """A camera 'photo' is just uploaded JPEG bytes: broken ones are refused the same way."""
    at = run_page("kernels", lang=lang)
    at.radio(key=widget_key("kernel_lab.source", lang)).set_value("camera").run()
    image = at.session_state["kernel_lab.valid"]["image"].copy()
    for case in cases:
        at.camera_input(key="kernel_lab.camera").set_value(("photo.jpg", case.build(), "image/jpeg")).run()
        _expect(at, case, lang, _library_error(images.load_image, case.build()))
        assert np.array_equal(at.session_state["kernel_lab.valid"]["image"], image), case.name
