"""explorer.kernels.stepthrough: the lectures' worked examples, and steps that agree with apply_kernel/pool."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.core.i18n import catalog
from explorer.kernels import KernelError, apply_kernel, pool
from explorer.kernels import stepthrough as stp


@pytest.mark.parametrize("name", sorted(stp.EXAMPLES))
def test_lecture_examples_give_the_lecture_numbers(name):
    example = stp.EXAMPLES[name]
    out = stp.result(stp.run_example(example))
    np.testing.assert_array_equal(out, example.expected)
    for lang in ("ko", "en"):
        assert catalog(lang).get(f"kernel_lab.example.{name}"), (lang, name)


def test_seed_001_numbers_written_on_the_slides():
    four = stp.result(stp.run_example(stp.EXAMPLES["padded_4x4"]))
    assert four.tolist() == [[7, 12, 10, 2], [4, 15, 16, 10], [10, 6, 15, 6], [8, 10, 4, 3]]
    seven = stp.result(stp.run_example(stp.EXAMPLES["stride2_7x7"]))
    assert seven.shape == (3, 3) and seven[0, :2].tolist() == [15, 17]
    edge = stp.result(stp.run_example(stp.EXAMPLES["edge_step"]))
    assert edge[0].tolist() == [0, 300, 300, 0]


def test_seed_004_padded_example_contains_the_3x3_answer():
    example = stp.EXAMPLES["padded_3x3"]
    out = stp.result(stp.run_example(example))
    assert out.shape == (5, 5)  # the slide: (5 + 2*1 - 3) / 1 + 1 = 5
    inner = apply_kernel(example.matrix[1:-1, 1:-1], example.kernel, padding=1)
    np.testing.assert_array_equal(out[1:-1, 1:-1], inner)


@pytest.mark.parametrize("seed", range(15))
def test_steps_agree_with_apply_kernel_and_pool(seed):
    rng = np.random.default_rng(seed)
    m = rng.integers(-9, 10, size=tuple(rng.integers(3, 10, size=2))).astype(float)
    k = rng.integers(-3, 4, size=tuple(rng.integers(1, 4, size=2))).astype(float)
    stride, padding = int(rng.integers(1, 4)), int(rng.integers(0, 3))
    all_steps = stp.steps(m, kernel=k, stride=stride, padding=padding)
    np.testing.assert_allclose(stp.result(all_steps), apply_kernel(m, k, stride=stride, padding=padding))
    first = all_steps[0]
    assert first.window.shape == k.shape and first.value == pytest.approx(first.products.sum())
    for kind in ("max", "avg"):
        got = stp.result(stp.steps(m, op=kind, size=2, stride=stride))
        np.testing.assert_allclose(got, pool(m, kind=kind, size=2, stride=stride))


def test_partial_result_and_formulas():
    ex = stp.EXAMPLES["padded_4x4"]
    all_steps = stp.run_example(ex)
    partial = stp.result(all_steps, upto=2)
    assert partial[0, :2].tolist() == [7, 12] and np.isnan(partial[0, 2])
    assert stp.step_formula(all_steps[0], kernel=ex.kernel).endswith("= 7")
    assert all_steps[0].top == 0 and all_steps[1].left == 1
    avg = stp.run_example(stp.EXAMPLES["avg_pool_4x4"])
    assert stp.step_formula(avg[0], op="avg") == "(1 + 3 + 2 + 1) / 4 = 1.75"
    mx = stp.run_example(stp.EXAMPLES["max_pool_4x4"])
    assert stp.step_formula(mx[0], op="max") == "max(1, 3, 2, 1) = 3"


@pytest.mark.parametrize(("options", "key"), [
    ({"stride": 0}, "kernels.error.stride"),
    ({"padding": -1}, "kernels.error.padding"),
    ({"kernel": np.ones((5, 5))}, "kernels.error.image_smaller_than_kernel"),
])
def test_bad_step_options(options, key):
    kwargs = {"kernel": np.ones((3, 3)), **options}
    with pytest.raises(KernelError) as info:
        stp.steps(np.ones((4, 4)), **kwargs)
    assert info.value.key == key


def test_seed_002_pooling_example_gives_the_slide_output():
    ex = stp.EXAMPLES["max_pool_stride2"]
    all_steps = stp.run_example(ex)
    assert stp.result(all_steps).tolist() == [[6, 8], [3, 4]]
    assert stp.step_formula(all_steps[0], op="max") == "max(1, 1, 5, 6) = 6"
    assert (all_steps[1].top, all_steps[1].left) == (0, 2)  # stride 2: windows do not overlap


def test_bias_is_added_to_every_sum_and_written_last():
    ex = stp.EXAMPLES["padded_4x4"]
    plain = stp.result(stp.run_example(ex))
    shifted = stp.steps(ex.matrix, kernel=ex.kernel, padding=1, bias=-1.0)
    np.testing.assert_array_equal(stp.result(shifted), plain - 1)
    np.testing.assert_allclose(stp.result(shifted), apply_kernel(ex.matrix, ex.kernel, padding=1, bias=-1.0))
    assert stp.step_formula(shifted[0], kernel=ex.kernel, bias=-1.0).endswith("+ (-1) = 6")
    assert stp.step_formula(shifted[0], kernel=ex.kernel, bias=2.0).count("+ 2 =") == 1
    with pytest.raises(KernelError) as info:
        stp.steps(ex.matrix, kernel=ex.kernel, bias=float("nan"))
    assert info.value.key == "kernels.error.bias"
