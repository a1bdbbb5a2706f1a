"""explorer.backprop.view: the "to the input" and "symbolic" tabs' blocks, and their code, in both languages."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from explorer.backprop import input_grad as ig
from explorer.backprop import symbolic as sy
from explorer.backprop import view
from explorer.core.figures import check
from explorer.core.i18n import translate


def _figures(blocks):
    return [fig for kind, body in blocks if kind == "figures" for fig, _ in body]


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("name", sorted(ig.EXAMPLES))
def test_input_gradient_view_for_every_example(name, lang):
    x, w, stride, padding = ig.EXAMPLES[name]
    s = ig.setting(view_text(x), view_text(w), None, stride=stride, padding=padding)
    blocks = view.input_grad_view(s, step=0, lang=lang)
    for fig in _figures(blocks):
        check(fig)
    titles = [f.layout.title.text for f in _figures(blocks)]
    assert (translate("backprop.ig.dilated", lang, shape="5×5") in titles) == (name == "stride2_7x7")
    assert any(kind == "caption" and body.startswith("✓") for kind, body in blocks)
    unreached = ("caption", translate("backprop.ig.unreached", lang)) in blocks
    assert unreached == (name == "stride2_6x6_uneven")


def view_text(a):
    return "\n".join(" ".join(f"{v:g}" for v in row) for row in a)


def test_a_step_writes_its_products_and_says_whether_it_is_cropped():
    x, w, _, _ = ig.EXAMPLES["lecture_4x4_padded"]
    s = ig.setting(view_text(x), view_text(w), None, stride=1, padding=1)
    first = view.input_grad_view(s, step=0, lang="en")
    assert ("caption", translate("backprop.ig.cropped", "en", r=-1, c=-1)) in first
    inner = view.input_grad_view(s, step=7, lang="en")  # padded row 1, column 1 = input pixel (0, 0)
    assert ("caption", translate("backprop.ig.kept", "en", r=0, c=0)) in inner
    arithmetic = next(body for kind, body in inner if kind == "code" and "×" in body)
    assert arithmetic.endswith(f"= {ig.input_gradient(s.delta, w, padding=1, input_shape=(4, 4))[0, 0]:g}")


def test_input_gradient_code_runs_and_gives_the_same_gradients():
    x, w, stride, padding = ig.EXAMPLES["stride2_7x7"]
    d = ig.default_delta(ig.forward_shape(x.shape, w.shape, stride=stride))
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(view.input_grad_code(x, w, d, stride=stride, padding=padding), namespace)
    gx = ig.input_gradient(d, w, stride=stride, input_shape=x.shape)
    np.testing.assert_allclose(namespace["x"].grad[0, 0].numpy(), gx)
    np.testing.assert_allclose(namespace["dx"][0, 0].numpy(), gx)
    np.testing.assert_allclose(namespace["w"].grad[0, 0].numpy(), ig.weight_gradient(x, d, stride=2,
                                                                                    kernel_shape=w.shape))


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_pooling_words_and_the_lp_example(lang):
    blocks = view.pooling_view(lang=lang)
    assert blocks[0] == ("markdown", translate("backprop.pool.words", lang))
    assert "0.126, 0.126, 0.630, 0.756" in blocks[2][1]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_symbolic_view_shows_the_slide_and_checks_it(lang):
    blocks = view.symbolic_view(sy.layout(3, 3, 2, 2), weight=(1, 1), cell=(2, 2), ones=True, lang=lang)
    for fig in _figures(blocks):
        check(fig)
    assert ("latex", r"\frac{\partial P}{\partial w_{11}} = x_{11} + x_{12} + x_{21} + x_{22}") in blocks
    assert ("caption", translate("backprop.sym.checked", lang)) in blocks
    x_fig = _figures(blocks)[0]
    assert np.asarray(x_fig.data[0].z).tolist() == [[1, 1, 0], [1, 1, 0], [0, 0, 0]]  # cells w11 multiplies
    big = view.symbolic_view(sy.layout(6, 6, 2, 2), weight=(2, 2), cell=(1, 1), ones=False, lang=lang)
    assert any(kind == "latex" and r"\vdots" in body for kind, body in big)  # 25 windows: the first 6 shown
    assert view.check_symbolic(sy.layout(5, 4, 3, 2))
