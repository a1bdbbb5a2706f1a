"""AppTest of pages/kernels.py: both languages, and every bad input of issue 3 built in the test."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from explorer.core.i18n import translate
from explorer.core.session import widget_key
from explorer.kernels import ops as kn
from tests import bad_images as bi
from tests.conftest import run_page

NS = "kernel_lab"


def _errors(at) -> str:
    return "\n".join(e.value for e in at.error)


def _valid(at) -> dict:
    return at.session_state[f"{NS}.valid"]


def _upload(at, name: str, data: bytes, mime: str = "image/png"):
    at.radio(key=widget_key(f"{NS}.source", "en")).set_value("upload").run()
    at.file_uploader(key=f"{NS}.upload").set_value((name, data, mime))
    return at.run()


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_page_runs_in_both_languages(lang):
    at = run_page("kernels", lang=lang)
    assert not at.exception
    assert at.title[0].value == translate(f"{NS}.title", lang)
    assert not at.error
    # the step-through starts on the lecture's 4x4 example: first window gives 7
    assert any(c.value.endswith("= 7") for c in at.code)
    assert _valid(at)["kernel"].tolist() == kn.PRESETS["lecture_vertical_edge"].tolist()


@pytest.fixture(scope="module")
def uploaded():
    """A page with a good 24x32 upload in place (the 'previous image' of the bad-input tests).

    English: AppTest calls format_func outside the session, where `t` falls back to English.
    """
    at = run_page("kernels", lang="en")
    _upload(at, "good.png", bi.good_png(24, 32))
    assert not at.exception and not at.error
    assert _valid(at)["image"].shape == (24, 32, 3)
    return at


@pytest.mark.parametrize("name", sorted(bi.BAD_FILES))
def test_bad_uploads_show_a_message_and_keep_the_previous_image(uploaded, name):
    build, key = bi.BAD_FILES[name]
    before = _valid(uploaded)["image"].copy()
    at = _upload(uploaded, f"{name}.png", build())
    assert not at.exception
    assert translate(key, "en").split("{")[0][:12] in _errors(at)
    assert translate("common.kept_previous", "en") in "\n".join(i.value for i in at.info)
    np.testing.assert_array_equal(_valid(at)["image"], before)
    _upload(at, "good_again.png", bi.good_png(24, 32))  # the next file works again
    assert not at.error


def test_image_smaller_than_kernel_keeps_previous_image_and_kernel():
    at = run_page("kernels", lang="en")
    at.selectbox(key=widget_key(f"{NS}.preset", "en")).set_value("box5").run()
    before = _valid(at)["image"].copy()
    at = _upload(at, "tiny.png", bi.small_png(4))
    assert not at.exception
    assert "smaller than the kernel" in _errors(at)
    np.testing.assert_array_equal(_valid(at)["image"], before)
    assert _valid(at)["kernel"].tolist() == kn.PRESETS["box5"].tolist()
    at.checkbox(key=f"{NS}.same").check().run()  # with padding the tiny image works
    assert not at.error and _valid(at)["image"].shape == (4, 4, 3)


@pytest.mark.parametrize(("text", "needle"), [
    ("1 2 3\n4 5", "is blank"),
    ("1 nan 3\n4 5 6", "(NaN)"),
    ("1 2 3\n4 5 1e300", "1e+300"),
    ("1 2 3\n4 inf 6", "inf"),
    ("1 x 3", "not a number"),
])
def test_bad_kernel_cells_are_named_and_the_last_kernel_stays(text, needle):
    at = run_page("kernels", lang="en")
    before = _valid(at)["kernel"].copy()
    at.text_area(key=f"{NS}.kernel_text").set_value(text).run()
    assert not at.exception
    assert needle in _errors(at) and "row" in _errors(at)
    np.testing.assert_array_equal(_valid(at)["kernel"], before)


def test_good_kernel_text_is_used_and_korean_message_names_the_cell():
    at = run_page("kernels", lang="ko")
    at.text_area(key=f"{NS}.kernel_text").set_value("0 0 0\n0 2 0\n0 0 0").run()
    assert not at.error
    assert _valid(at)["kernel"][1, 1] == 2
    at.text_area(key=f"{NS}.kernel_text").set_value("0 0\n0 1e300").run()
    assert "(행 2, 열 2)" in _errors(at)
    assert _valid(at)["kernel"][1, 1] == 2


@pytest.mark.parametrize(("key", "value", "needle"), [
    ("stride", 0, "Stride 0"),
    ("stride", -1, "Stride -1"),
    ("padding", -1, "Padding -1"),
    ("dilation", 0, "Dilation 0"),
])
def test_bad_options_show_a_message_and_keep_previous_options(key, value, needle):
    at = run_page("kernels", lang="en")
    at.number_input(key=f"{NS}.stride").set_value(2).run()
    assert _valid(at)["options"]["stride"] == 2
    at.number_input(key=f"{NS}.{key}").set_value(value).run()
    assert not at.exception
    assert needle in _errors(at)
    assert _valid(at)["options"]["stride"] == 2 and _valid(at)["options"]["padding"] == 0


def test_presets_colour_modes_and_pooling():
    at = run_page("kernels", lang="en")
    at.selectbox(key=widget_key(f"{NS}.preset", "en")).set_value("sobel_x").run()
    assert _valid(at)["kernel"].tolist() == kn.PRESETS["sobel_x"].tolist()
    for colour in ("gray", "depth", "rgb"):
        at.radio(key=widget_key(f"{NS}.colour", "en")).set_value(colour).run()
        assert not at.exception and not at.error
    at.button(key=f"{NS}.normalise_button").click().run()  # sobel sums to 0: a warning, no crash
    assert not at.exception and at.warning
    at.number_input(key=f"{NS}.pool_size").set_value(4).run()
    at.number_input(key=f"{NS}.pool_padding").set_value(3).run()  # more than half the window
    assert "Pooling padding 3" in _errors(at)


def test_step_through_examples():
    at = run_page("kernels", lang="en")
    at.selectbox(key=widget_key(f"{NS}.example", "en")).set_value("max_pool_4x4").run()
    assert any(c.value == "max(1, 3, 2, 1) = 3" for c in at.code)
    at.slider(key=f"{NS}.position.max_pool_4x4").set_value(9).run()
    assert any(c.value.endswith("= 6") for c in at.code)
    at.selectbox(key=widget_key(f"{NS}.example", "en")).set_value("padded_4x4").run()
    at.number_input(key=f"{NS}.st_stride.padded_4x4").set_value(0).run()
    assert not at.exception and "Stride 0" in _errors(at)
    assert any(c.value.endswith("= 7") for c in at.code)  # falls back to the lecture's settings


def test_camera_photo_replaces_the_image_and_a_broken_one_does_not():
    at = run_page("kernels", lang="en")
    at.radio(key=widget_key(f"{NS}.source", "en")).set_value("camera").run()
    photo = bi.encode(Image.fromarray(bi.gradient_rgb(40, 60)), "JPEG")
    at.camera_input(key=f"{NS}.camera").set_value(("photo.jpg", photo, "image/jpeg")).run()
    assert not at.exception and not at.error
    assert _valid(at)["image"].shape == (40, 60, 3)
    at.camera_input(key=f"{NS}.camera").set_value(("photo.jpg", bi.truncated_jpeg(), "image/jpeg")).run()
    assert "damaged" in _errors(at)
    assert _valid(at)["image"].shape == (40, 60, 3)


def test_random_edit_says_custom_and_reset_goes_back_to_the_last_preset_and_its_text():
    at = run_page("kernels", lang="en")
    at.selectbox(key=widget_key(f"{NS}.preset", "en")).set_value("box5").run()
    assert at.session_state[f"{NS}.kernel_text"].count("\n") == 4 and "1/25" in at.session_state[f"{NS}.kernel_text"]
    at.button(key=f"{NS}.random_button").click().run()
    assert at.session_state[f"{NS}.preset"] == "custom"
    assert at.selectbox(key=widget_key(f"{NS}.preset", "en")).value == "custom"
    assert _valid(at)["kernel"].tolist() != kn.PRESETS["box5"].tolist()
    at.button(key=f"{NS}.reset_button").click().run()
    assert at.session_state[f"{NS}.preset"] == "box5"
    assert _valid(at)["kernel"].tolist() == kn.PRESETS["box5"].tolist()
    assert "1/25" in at.session_state[f"{NS}.kernel_text"]


def test_pasting_a_3x3_of_fractions_sets_rows_and_columns_and_is_used():
    at = run_page("kernels", lang="en")
    at.selectbox(key=widget_key(f"{NS}.preset", "en")).set_value("box5").run()
    assert (at.number_input(key=f"{NS}.rows").value, at.number_input(key=f"{NS}.cols").value) == (5, 5)
    at.text_area(key=f"{NS}.kernel_text").set_value("1/9 1/9 1/9\n1/9 1/9 1/9\n1/9 1/9 1/9").run()
    assert not at.exception and not at.error
    assert (at.number_input(key=f"{NS}.rows").value, at.number_input(key=f"{NS}.cols").value) == (3, 3)
    np.testing.assert_allclose(_valid(at)["kernel"], kn.PRESETS["box3"])
    assert at.session_state[f"{NS}.preset"] == "custom"


def test_a_bad_cell_keeps_the_last_kernel_and_is_drawn_red():
    at = run_page("kernels", lang="ko")
    at.text_area(key=f"{NS}.kernel_text").set_value("1 abc 1/0").run()
    assert not at.exception
    errors = _errors(at)
    assert "abc" in errors and "1/0" in errors
    assert _valid(at)["kernel"].tolist() == kn.PRESETS["lecture_vertical_edge"].tolist()
    assert translate("common.kept_previous", "ko") in "\n".join(i.value for i in at.info)


def test_bias_shifts_every_output_value():
    at = run_page("kernels", lang="en")
    at.number_input(key=f"{NS}.bias").set_value(10.0).run()
    assert not at.exception and _valid(at)["options"]["bias"] == 10.0
    at.number_input(key=f"{NS}.bias").set_value(1e9).run()
    assert "Bias 1e+09" in _errors(at) and _valid(at)["options"]["bias"] == 10.0


def test_choices_survive_a_language_switch():
    at = run_page("kernels", lang="en")
    at.selectbox(key=widget_key(f"{NS}.preset", "en")).set_value("sobel_x").run()
    at.radio(key=widget_key(f"{NS}.colour", "en")).set_value("gray").run()
    at.session_state["lang"] = "ko"
    at.run()
    assert not at.exception
    assert at.selectbox(key=widget_key(f"{NS}.preset", "ko")).value == "sobel_x"
    at.radio(key=widget_key(f"{NS}.colour", "ko")).set_value("rgb").run()  # touch a widget after the switch
    assert not at.exception
    assert _valid(at)["kernel"].tolist() == kn.PRESETS["sobel_x"].tolist()
    assert _valid(at)["options"]["colour"] == "rgb"


def _codes(at) -> list[str]:
    return [c.value for c in at.code]


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_im2col_and_transposed_tabs_in_both_languages(lang):
    at = run_page("kernels", lang=lang)
    assert [tab.label for tab in at.tabs][:4] == [translate(f"{NS}.tab_{n}", lang)
                                                  for n in ("lab", "steps", "im2col", "transposed")]
    assert any(c.endswith("+ 0 = 15") for c in _codes(at))  # im2col: the lecture's first window
    assert any("O = (2 - 1)\\cdot2 - 2\\cdot0 + 1\\cdot(3 - 1) + 0 + 1 = 5" in x.value for x in at.latex)
    assert any("nn.ConvTranspose2d" in c for c in _codes(at)) and any("F.unfold" in c for c in _codes(at))
    assert any("nn.Conv2d(3, 3" in c for c in _codes(at))  # the image lab's configuration


def test_im2col_block_example_stride_and_window():
    at = run_page("kernels", lang="en")
    at.selectbox(key=widget_key(f"{NS}.im2col.example", "en")).set_value("block_3x4x4").run()
    at.number_input(key=f"{NS}.im2col.padding").set_value(1).run()
    at.slider(key=f"{NS}.im2col.window").set_value(16).run()
    assert not at.exception and not at.error
    assert any("16 \\times 27" in x.value for x in at.latex)


@pytest.mark.parametrize(("key", "value", "needle"), [
    (f"{NS}.tr.input", "1 x\n3 4", "row 1, column 2"),
    (f"{NS}.tr.input", "\n".join(["1 2 3 4 5 6 7"] * 7), "up to 6×6"),
    (f"{NS}.tr.kernel", "1 1e300", "1e+300"),
    (f"{NS}.tr.padding", 4, "crops more"),
    (f"{NS}.tr.output_padding", 2, "output_padding 2"),
])
def test_transposed_bad_inputs_keep_the_last_view(key, value, needle):
    at = run_page("kernels", lang="en")
    if key.endswith("padding"):
        at.number_input(key=key).set_value(value).run()
    else:
        at.text_area(key=key).set_value(value).run()
    assert not at.exception
    assert needle in _errors(at)
    assert translate("common.kept_previous", "en") in [i.value for i in at.info]
    assert any(x.value.strip("$\n").endswith("= 5") for x in at.latex)  # the last good view (2×2 → 5×5) stays


def test_transposed_settings_change_the_output_and_stamps():
    at = run_page("kernels", lang="ko")
    at.text_area(key=f"{NS}.tr.input").set_value("1 2 3\n4 5 6").run()
    at.number_input(key=f"{NS}.tr.output_padding").set_value(1).run()
    at.slider(key=f"{NS}.tr.stamp").set_value(6).run()
    assert not at.exception and not at.error
    latex = [x.value.strip("$\n") for x in at.latex]
    assert any(x.endswith("= 6") for x in latex) and any(x.endswith("= 8") for x in latex)  # 2×3 → 6×8


def test_step_through_bias_pool_example_and_its_code_runs():
    at = run_page("kernels", lang="en")
    at.number_input(key=f"{NS}.st_bias.padded_4x4").set_value(-1.0).run()
    assert any(c.endswith("+ (-1) = 6") for c in _codes(at))
    shown = next(c for c in _codes(at) if "F.conv2d(x, w, b, stride=1, padding=1)" in c)
    namespace: dict = {}
    exec(shown, namespace)
    assert namespace["y"].tolist()[0] == [6, 11, 9, 1]  # the slide's 7 12 10 2, minus the bias 1
    at.selectbox(key=widget_key(f"{NS}.example", "en")).set_value("max_pool_stride2").run()
    assert "max(1, 1, 5, 6) = 6" in _codes(at)
    at.slider(key=f"{NS}.position.max_pool_stride2").set_value(4).run()
    assert "max(1, 0, 3, 4) = 4" in _codes(at)
    assert not at.exception


def test_image_code_follows_the_options():
    at = run_page("kernels", lang="en")
    at.number_input(key=f"{NS}.bias").set_value(2.5).run()
    at.radio(key=widget_key(f"{NS}.colour", "en")).set_value("gray").run()
    at.checkbox(key=f"{NS}.same").check().run()
    code = next(c for c in _codes(at) if "gray =" in c)
    assert "torch.full((1,), 2.5)" in code and "padding=(1, 1)" in code


def _linked(params: dict, lang: str = "en", at=None):
    """The page opened (or, with ``at``, rerun in the same session) from a lesson link with ``params``."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import APPTEST_TIMEOUT, ROOT

    if at is None:
        at = AppTest.from_file(str(ROOT / "pages" / "kernels.py"), default_timeout=APPTEST_TIMEOUT)
        at.session_state["lang"] = lang
    at.query_params.update(params)
    at.run()
    assert not at.exception
    return at


def _link_warning(lang: str, name: str, key: str, **params) -> str:
    return translate("common.link.bad", lang, name=name, reason=translate(key, lang, **params))


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_a_lesson_link_loads_the_preset_on_the_coffee_photo_at_stride_2(lang):
    from explorer.core import images
    from explorer.core.samples import sample_images
    from explorer.kernels import editor

    at = _linked({"preset": "sobel_x", "sample": "coffee", "stride": "2", "colour": "gray", "pool": "avg"}, lang)
    assert not at.warning and not at.error
    sobel = kn.PRESETS["sobel_x"]
    assert _valid(at)["kernel"].tolist() == sobel.tolist()  # loaded, as choosing it in the widget does
    assert at.session_state[f"{NS}.grid"] == editor.kernel_cells(sobel)  # the editor shows its cells
    assert at.selectbox(key=widget_key(f"{NS}.preset", lang)).value == "sobel_x"
    assert at.selectbox(key=widget_key(f"{NS}.sample", lang)).value == "coffee"
    coffee = images.load_image(sample_images()["coffee"].read_bytes())
    assert _valid(at)["image"].shape == coffee.shape and (_valid(at)["image"] == coffee).all()
    assert _valid(at)["options"]["stride"] == 2 and at.number_input(key=f"{NS}.stride").value == 2
    assert _valid(at)["options"]["colour"] == "gray"
    assert at.radio(key=widget_key(f"{NS}.pool_kind", lang)).value == "avg"
    link = next(c.value for c in at.code if "preset=" in c.value)  # "link to this view" has the settings
    assert all(part in link for part in ("preset=sobel_x", "sample=coffee", "stride=2", "colour=gray", "pool=avg"))


def test_a_link_opened_in_a_running_session_loads_its_preset_too():
    at = run_page("kernels", lang="en")
    at.selectbox(key=widget_key(f"{NS}.preset", "en")).set_value("box3").run()
    _linked({"preset": "laplacian4", "same": "1"}, at=at)
    assert _valid(at)["kernel"].tolist() == kn.PRESETS["laplacian4"].tolist()
    assert _valid(at)["options"]["padding"] == "same"
    at.button(key=f"{NS}.reset_button").click().run()  # "reset" goes back to the linked preset
    assert _valid(at)["kernel"].tolist() == kn.PRESETS["laplacian4"].tolist()


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_bad_and_hostile_link_values_are_named_and_the_defaults_kept(lang):
    at = _linked({"stride": "abc", "preset": "../../etc", "sample": "<script>", "padding": "-3", "zoom": "9"}, lang)
    warnings = [w.value for w in at.warning]
    assert _link_warning(lang, "stride", "common.link.not_whole", low=1, high=16) in warnings
    assert _link_warning(lang, "padding", "common.link.range", low=0, high=64) in warnings
    presets = ", ".join(list(kn.PRESETS)[:12]) + " …"
    assert _link_warning(lang, "preset", "common.link.choice", choices=presets) in warnings
    starts = [translate("common.link.bad", lang, name=n, reason="|").split("|")[0]
              for n in ("stride", "padding", "preset", "sample", "zoom")]
    named = [s for s in starts if any(w.startswith(s) for w in warnings)]
    assert len(warnings) == len(named) == 5 and not at.error
    assert _valid(at)["kernel"].tolist() == kn.PRESETS["lecture_vertical_edge"].tolist()
    assert _valid(at)["options"]["stride"] == 1 and _valid(at)["options"]["padding"] == 0
    assert at.selectbox(key=widget_key(f"{NS}.sample", lang)).value == "cat"
