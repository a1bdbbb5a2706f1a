"""explorer.shapes.quiz: seeded questions whose answers torch.nn agrees with."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from explorer.shapes import network, quiz, sizes


def test_the_same_seed_gives_the_same_quiz_and_another_seed_another():
    a, b = quiz.make_quiz(2024, count=8), quiz.make_quiz(2024, count=8)
    assert a == b
    assert quiz.make_quiz(2025, count=8) != a
    assert {q.kind for seed in range(10) for q in quiz.make_quiz(seed)} == set(quiz.KINDS)


def _torch_answer(q: quiz.Question) -> int:
    c = q.config
    if q.kind == "conv_output":
        layer = nn.Conv2d(1, 1, c["kernel"], stride=c["stride"], padding=c["padding"], dilation=c["dilation"])
        return layer(torch.zeros(1, 1, c["n"], c["n"])).shape[-1]
    if q.kind == "pool_output":
        layer = nn.MaxPool2d(c["kernel"], stride=c["stride"], padding=c["padding"], ceil_mode=c["ceil_mode"])
        return layer(torch.zeros(1, 1, c["n"], c["n"])).shape[-1]
    if q.kind == "conv_params":
        layer = nn.Conv2d(c["in_channels"], c["out_channels"], c["kernel"], device="meta")
        return sum(p.numel() for p in layer.parameters())
    model = network.build_module(c["preset"], device="meta")
    layer = model[c["index"]]
    if q.kind == "preset_params":
        return sum(p.numel() for p in layer.parameters())
    x = torch.zeros(1, *network.PRESETS[c["preset"]].input_shape, device="meta")
    return model[: c["index"] + 1](x).shape[2]


@pytest.mark.parametrize("seed", [0, 1, 2, 42, 2024])
def test_answers_agree_with_torch(seed):
    for q in quiz.make_quiz(seed, count=12):
        assert q.answer == _torch_answer(q), q
        assert q.formula.endswith(f"= {q.answer}")


def test_check_accepts_the_answer_and_rejects_others():
    q = quiz.make_quiz(3, count=1)[0]
    assert quiz.check(q, str(q.answer)) and quiz.check(q, f"  {q.answer} ")
    assert not quiz.check(q, str(q.answer + 1))
    for bad in ["", "abc", "12.5", "1e3"]:
        with pytest.raises(sizes.ShapeError) as info:
            quiz.check(q, bad)
        assert info.value.key == "shapes.err.not_integer"


@pytest.mark.parametrize(("seed", "key"), [(-1, "shapes.err.seed"), (10**12, "shapes.err.seed"),
                                           ("class", "shapes.err.not_integer")])
def test_bad_seeds_are_refused(seed, key):
    with pytest.raises(sizes.ShapeError) as info:
        quiz.make_quiz(seed)
    assert info.value.key == key


def test_kinds_can_be_restricted():
    assert {q.kind for q in quiz.make_quiz(1, count=10, kinds=("pool_output",))} == {"pool_output"}
    with pytest.raises(sizes.ShapeError):
        quiz.make_quiz(1, kinds=())


def test_every_prompt_exists_and_formats_in_both_languages():
    from explorer.core import i18n

    for seed in range(12):
        for q in quiz.make_quiz(seed, count=6):
            for lang in i18n.LANGUAGES:
                assert q.prompt_key in i18n.catalog(lang)
                text = i18n.translate(q.prompt_key, lang, **q.params)
                assert "{" not in text
            assert i18n.placeholders(i18n.catalog("en")[q.prompt_key]) == set(q.params)


def test_prompt_text_translates_the_preset_name():
    from explorer.core import i18n

    q = next(q for q in quiz.make_quiz(3, count=20) if "preset" in q.params)
    for lang in i18n.LANGUAGES:
        text = quiz.prompt_text(q, lang=lang)
        assert i18n.translate(f"shapes.preset.{q.params['preset']}", lang) in text and "{" not in text
    plain = next(q for q in quiz.make_quiz(3, count=20) if "preset" not in q.params)
    assert quiz.prompt_text(plain, lang="ko") == i18n.translate(plain.prompt_key, "ko", **plain.params)


def test_preset_output_formula_ends_with_the_answer():
    for q in quiz.make_quiz(5, count=12, kinds=("preset_output", "preset_params", "conv_params")):
        assert q.formula.endswith(f"= {q.answer}")
