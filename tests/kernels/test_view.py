"""explorer.kernels.view: the im2col and transposed-convolution tabs' blocks, in both languages."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.core.figures import check
from explorer.core.i18n import translate
from explorer.kernels import KernelError, view

X, K = np.array([[1.0, 2], [3, 4]]), np.array([[2.0, 0, 1], [0, 1, 2], [1, 0, 2]])


def _kinds(blocks):
    return [b[0] for b in blocks]


def _figures(blocks):
    return [fig for kind, body in blocks if kind == "figures" for fig, _ in body]


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("name", sorted(view.IM2COL_EXAMPLES))
def test_im2col_view_writes_the_matrix_shapes(name, lang):
    blocks = view.im2col_view(name, stride=1, padding=0, window=0, lang=lang)
    assert _kinds(blocks)[:2] == ["caption", "latex"] and _kinds(blocks)[-1] == "code"
    latex = blocks[1][1]
    if name == "lecture_4x4":
        assert "4 \\times 9" in latex and "9 \\times 1" in latex  # (OH·OW × C·FH·FW)(C·FH·FW × FN)
        assert any(b == ("code", "1×2 + 2×0 + 3×1 + 0×0 + 1×1 + 2×2 + 3×1 + 0×0 + 1×2 + 0 = 15") for b in blocks)
    else:
        assert "4 \\times 27" in latex and "27 \\times 2" in latex
    titles = [f.layout.title.text for f in _figures(blocks)]
    assert translate("kernel_lab.im2col.cols", lang, shape="4×9" if name == "lecture_4x4" else "4×27") in titles
    for fig in _figures(blocks):
        check(fig)


def test_im2col_windows_and_the_chosen_row():
    assert view.im2col_windows("lecture_4x4", stride=1, padding=1) == 16
    blocks = view.im2col_view("lecture_4x4", stride=1, padding=1, window=99, lang="en")  # clamped to the last
    assert any(kind == "code" and body.endswith("= 3") for kind, body in blocks)  # the slide's last value


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_transposed_view_shows_input_output_zeros_and_undo(lang):
    blocks = view.transposed_view(X, K, stride=2, padding=0, output_padding=0, stamp=3, lang=lang)
    assert blocks[0] == ("latex", "O = (2 - 1)\\cdot2 - 2\\cdot0 + 1\\cdot(3 - 1) + 0 + 1 = 5")
    titles = [f.layout.title.text for f in _figures(blocks)]
    assert translate("kernel_lab.tr.input", lang, shape="2×2") in titles
    assert translate("kernel_lab.tr.output", lang, shape="5×5") in titles
    assert translate("kernel_lab.tr.canvas", lang, shape="7×7") in titles
    undo = next(body for kind, body in blocks if kind == "markdown" and "5, 6" in body)
    assert "5×5" in undo and "2×2" in undo  # conv takes 5×5 back to 2×2; inputs 5 and 6 both give 2
    canvas = next(f for f in _figures(blocks) if "7×7" in f.layout.title.text)
    kinds = {translate(f"kernel_lab.tr.cell.{k}", lang) for k in ("input", "inserted", "border")}
    assert set(np.asarray(canvas.data[0].customdata).ravel()) == kinds
    for fig in _figures(blocks):
        check(fig)


def test_non_square_input_gets_one_formula_per_axis():
    blocks = view.transposed_view(np.ones((2, 3)), K, stride=2, padding=0, output_padding=1, stamp=0, lang="en")
    assert [b for b in blocks if b[0] == "latex"][1][1].endswith("= 8")


@pytest.mark.parametrize(("x", "options", "key"), [
    (X, {"stride": 2, "output_padding": 2}, "kernels.error.output_padding"),
    (X, {"stride": 1, "padding": 5}, "kernels.error.transpose_empty"),
    (np.ones((7, 7)), {"stride": 1}, "kernels.error.input_too_large"),
])
def test_bad_transposed_settings_raise_user_errors(x, options, key):
    with pytest.raises(KernelError) as info:
        view.transposed_view(x, K, **{"padding": 0, "output_padding": 0, **options}, stamp=0, lang="en")
    assert info.value.key == key
