"""AppTest of pages/builder.py: presets and checks, a zip of class folders read in a worker, hostile zips
refused, a short training kept for comparison, the script and the files to take home; both languages."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from explorer.core.i18n import translate
from explorer.core.session import widget_key
from tests.conftest import run_page, until

NS = "builder"


def _zip(classes=("cats", "dogs"), per_class=6, size=(24, 16)) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for c, name in enumerate(classes):
            for i in range(per_class):
                pixels = np.full((*size[::-1], 3), 40 + 150 * c, np.uint8) + np.uint8(i)
                png = io.BytesIO()
                Image.fromarray(pixels).save(png, format="PNG")
                zf.writestr(f"pets/{name}/{i}.png", png.getvalue())
    return buffer.getvalue()


def _metric(at, key: str, lang: str = "en") -> str:
    return next(m.value for m in at.metric if m.label == translate(key, lang))


def _texts(at, kind: str) -> list[str]:
    return [e.value for e in getattr(at, kind)]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_lecture_cnn_is_checked_in_both_languages(lang):
    at = run_page(NS, lang=lang)
    assert not at.exception and at.title[0].value == translate(f"{NS}.title", lang)
    assert _metric(at, f"{NS}.total_params", lang) == "50,186"
    at.selectbox(key=widget_key(f"{NS}.preset", lang)).set_value("lenet5").run()
    assert _metric(at, f"{NS}.total_params", lang) == "61,706" and not at.error


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_bad_row_is_named_in_the_users_language_and_training_waits(lang):
    bad = [{"kind": "conv", "out_channels": 4, "kernel": 40}, {"kind": "flatten"}, {"kind": "linear", "out_features": 10}]
    at = run_page(NS, lang=lang, state={f"{NS}.table": bad, f"{NS}.preset": "seed_cnn"})
    assert not at.exception
    assert any(e.startswith(translate("builder.error.at_row", lang, row=1, reason="")) for e in _texts(at, "error"))
    assert translate(f"{NS}.fix_table_first", lang) in _texts(at, "info")


def _read_zip(at, data: bytes, lang: str = "en"):
    at.segmented_control(key=widget_key(f"{NS}.source", lang)).set_value("zip").run()
    at.file_uploader(key=f"{NS}.zip").set_value(("pets.zip", data, "application/zip")).run()
    at.button(key=f"{NS}.load_zip").click().run()
    assert until(lambda: at.run() and f"{NS}.job" not in at.session_state, timeout=60, interval=0.2)
    return at


def test_a_zip_of_class_folders_becomes_the_data_and_the_network_scores_its_classes():
    at = _read_zip(run_page(NS), _zip())
    assert not at.exception
    data = at.session_state[f"{NS}.dataset"]
    assert data.classes == ("cats", "dogs") and data.input_shape == (3, 64, 128) and len(data) == 12
    assert translate(f"{NS}.loaded", "en", n=12, classes=2, shape="3×64×128") in _texts(at, "success")
    assert at.session_state[f"{NS}.table"][-1] == {"kind": "linear", "out_features": 2, "init": "xavier"}
    assert not at.error  # the lecture CNN, its last layer now scoring 2 classes, fits 3×64×128


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_hostile_zip_is_refused_and_the_previous_data_kept(lang):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("../../etc/evil.png", b"x")
    at = run_page(NS, lang=lang)
    at = _read_zip(at, buffer.getvalue(), lang)
    assert not at.exception and at.session_state.get(f"{NS}.dataset") is None
    assert translate("builder.error.zip_unsafe_path", lang, name="../../etc/evil.png") in _texts(at, "error")
    assert translate("common.kept_previous", lang) in _texts(at, "caption")


def test_a_short_training_is_kept_for_comparison_and_the_code_is_there():
    at = run_page(NS, lang="en")
    at.number_input(key=f"{NS}.epochs").set_value(1).run()
    at.number_input(key=f"{NS}.batch").set_value(1000).run()  # the embedded 5,000 digits: 5 steps
    at.button(key=f"{NS}.start").click().run()
    runner = at.session_state[f"{NS}.runner"]
    assert until(lambda: (runner.poll(), runner.state == "finished")[1], timeout=120, interval=0.2)
    at.run()
    at.button(key=f"{NS}.keep").click().run()
    runs = at.session_state[f"{NS}.runs"]
    assert len(runs) == 1 and runs[0].epochs == 1 and len(runs[0].grad_norms) == 3  # conv, conv, linear
    assert not at.exception
    assert any("class CNN" in c.value and "MNIST" in c.value for c in at.code)
    labels = {b.label for b in at.get("download_button")}
    assert translate(f"{NS}.download_script", "en") in labels and translate(f"{NS}.download_weights", "en") in labels
    runner.stop()
