"""explorer.shapes.lessons: the new tabs' blocks (texts translated, figures valid, numbers checked)."""

from __future__ import annotations

import pytest

from explorer.core.figures import check
from explorer.core.i18n import translate
from explorer.shapes import ShapeError, lessons, network


def _figures(blocks):
    out = []
    for kind, *body in blocks:
        if kind == "figures":
            out += [fig for fig, _, _ in body[0]]
        elif kind == "select":
            out += [body[0], body[2]]
    return out


def _valid(blocks):
    for fig in _figures(blocks):
        check(fig)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_blocks_view_names_every_block_with_its_shape(lang):
    blocks = lessons.blocks_view({**lessons.BLOCK_DEFAULTS, "n": 2}, lang=lang)
    _valid(blocks)
    assert blocks[0][1].endswith(r"\underbrace{(2, 10, 32, 32)}_{N,\,FN,\,OH,\,OW}")
    notes = [a.text for a in _figures(blocks)[0].layout.annotations]
    assert translate("shapes.blocks.filters", lang, shape="(10, 3, 5, 5)") in notes and "⊛" in notes
    metrics = dict(next(body for kind, *body in blocks if kind == "metrics")[0])
    assert metrics[translate("shapes.blocks.params", lang)] == "760"  # seed 001: (5·5·3 + 1)·10
    with pytest.raises(ShapeError):
        lessons.blocks_view({**lessons.BLOCK_DEFAULTS, "fh": 11, "h": 4, "padding": 0}, lang=lang)


def test_one_by_one_convolution_is_a_matrix_times_each_pixel():
    pixel, out = lessons.mixing(1, 2)
    assert out[:, 1, 2].tolist() == (lessons.MIX_WEIGHTS @ pixel + lessons.MIX_BIAS).tolist()
    blocks = lessons.mixing_view(1, 2, lang="ko")
    _valid(blocks)
    assert any(kind == "latex" and "pmatrix" in body[0] for kind, *body in blocks)


@pytest.mark.parametrize("preset", ["lenet5", "alexnet", "vgg16"])
def test_network_diagram_draws_every_shape_changing_layer(preset):
    rows = network.summarize(preset)
    p = network.PRESETS[preset]
    blocks = lessons.network_view(rows, p.layers, p.input_shape, lang="en")
    _valid(blocks)
    fig, key, config = blocks[0][1][0]
    drawn = [r for r in rows if r.kind not in ("relu", "sigmoid", "tanh", "dropout")]
    assert len(fig.layout.shapes) == 3 * (len(drawn) + 1)  # three faces per block, input included
    assert config["toImageButtonOptions"]["format"] == "png"
    assert blocks[-1][0] == "code"


def test_network_diagram_of_a_broken_table_has_no_code():
    layers = [network.conv(8, 5), network.pool(2), network.conv(8, 5), network.conv(8, 5)]
    rows = network.summarize(layers, (1, 16, 16), strict=False)
    blocks = lessons.network_view(rows, layers, (1, 16, 16), lang="en")
    assert [b[0] for b in blocks] == ["figures", "caption"]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_receptive_view_for_the_trained_cnn_shows_the_effective_field(lang):
    blocks = lessons.receptive_view("seed_mnist_cnn", 5, 3, 4, lang=lang)
    _valid(blocks)
    kinds = [b[0] for b in blocks]
    assert "select" in kinds and kinds[-1] == "code"
    assert ("caption", translate("shapes.rf.checked", lang)) in blocks
    assert "**10×10**" in blocks[0][1]


def test_receptive_view_of_a_large_layer_uses_sliders_only():
    blocks = lessons.receptive_view("vgg16_start", 0, 100, 100, lang="en")
    assert "select" not in [b[0] for b in blocks]
    with pytest.raises(ShapeError):
        lessons.receptive_view("lenet5", 5, 9, 9, lang="en")


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_grouped_view_table_and_checks(lang):
    checks = {"standard": (73_856, 231_211_008)}
    blocks = lessons.grouped_view(lessons.GROUP_DEFAULTS, 64, lang=lang, checks=checks)
    _valid(blocks)
    table = next(body[0] for kind, *body in blocks if kind == "table")
    torch_col = translate("shapes.grp.col.torch", lang)
    assert [r[torch_col] for r in table] == ["✓", "", "", "", ""]
    assert table[4][translate("shapes.grp.col.params", lang)] == "8,960"
    assert lessons.group_label(64, 64, 128, lang=lang) == translate("shapes.grp.depthwise_option", lang, g=64)
    assert lessons.group_label(8, 64, 128, lang=lang) == "8"


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_shared_view_counts_and_the_slide_note(lang):
    blocks = lessons.shared_view(5, 3, 1, 5, lang=lang)
    _valid(blocks)
    assert all(n in blocks[0][1] for n in ("81", "225", "234"))
    assert ("info", translate("shapes.shared.slide_16", lang)) in blocks
    assert ("caption", translate("shapes.shared.checked", lang)) in blocks
    assert "info" not in [b[0] for b in lessons.shared_view(6, 3, 1, 99, lang=lang)]


def test_alexnet_view_marks_pytorch_s_answers():
    blocks = lessons.alexnet_view(lang="en", measured={"slide": 54, "caffe": 55, "torchvision": 55, "cuda_convnet": 1})
    table = next(body[0] for kind, *body in blocks if kind == "table")
    assert [r["PyTorch"] for r in table] == ["✓", "✓", "✓", "✗"]
    assert [r["output"] for r in table] == ["54×54", "55×55", "55×55", "55×55"]
