"""explorer.interpret.adversarial: FGSM against torch autograd in float64 and a closed-form softmax-regression
gradient; the smallest flipping eps on a model where the prediction is monotone in eps."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from explorer.interpret import adversarial, eps_sweep, fgsm, smallest_flipping_eps
from explorer.interpret.common import InterpretError
from tests.interpret.conftest import builder_model


def _softmax_regression(weight: np.ndarray, bias: np.ndarray) -> nn.Module:
    model = nn.Sequential(nn.Flatten(), nn.Linear(weight.shape[1], weight.shape[0]))
    with torch.no_grad():
        model[1].weight.copy_(torch.from_numpy(weight))
        model[1].bias.copy_(torch.from_numpy(bias))
    return model.eval()


def test_fgsm_of_softmax_regression_matches_the_closed_form_gradient():
    """grad_x CE = W^T (softmax(Wx + b) - onehot(label)), computed in numpy float64."""
    rng = np.random.default_rng(0)
    for _ in range(10):
        weight = rng.normal(size=(5, 36)).astype(np.float32)
        bias = rng.normal(size=5).astype(np.float32)
        x = rng.random((1, 1, 6, 6)).astype(np.float32)
        label, eps = int(rng.integers(5)), float(rng.uniform(0.01, 0.3))
        z = weight.astype(np.float64) @ x.ravel() + bias
        p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        grad = weight.astype(np.float64).T @ (p - np.eye(5)[label])
        expected = np.clip(x.ravel() + eps * np.sign(grad), 0, 1).reshape(x.shape)
        got = fgsm(_softmax_regression(weight, bias), x, label, eps)
        np.testing.assert_allclose(got.numpy(), expected, atol=1e-6)


@pytest.mark.parametrize("kind", ["bundled", "deep", "lenet"])
def test_fgsm_matches_autograd_in_float64(models, test_set, kind):
    model = models[kind]
    x, y = test_set.images[4:5], int(test_set.labels[4])
    x64 = x.double().requires_grad_(True)
    loss = F.cross_entropy(copy.deepcopy(model).double()(x64), torch.tensor([y]))
    (grad,) = torch.autograd.grad(loss, x64)
    got = fgsm(model, x, y, 0.1)
    sure = grad.abs() > 1e-6  # where float32 and float64 cannot disagree on the sign
    expected = (x.double() + 0.1 * grad.sign()).clamp(0, 1)
    np.testing.assert_allclose(got.double()[sure].numpy(), expected[sure].numpy(), atol=1e-6)
    assert float(sure.double().mean()) > 0.5
    assert torch.equal(fgsm(model, x, y, 0.0), x)


def test_adversarial_reports_the_attack_and_both_predictions(bundled, test_set):
    x, y = test_set.images[0:1], int(test_set.labels[0])
    result = adversarial(bundled, x, y, 0.2)
    torch.testing.assert_close(result.image, fgsm(bundled, x, y, 0.2))
    torch.testing.assert_close(result.perturbation, result.image - x)
    assert float(result.perturbation.abs().max()) <= 0.2 + 1e-6
    with torch.no_grad():
        probs = torch.softmax(bundled(torch.cat([x, result.image])), dim=1).double().numpy()
    np.testing.assert_allclose(result.clean_probabilities, probs[0], rtol=1e-6)
    np.testing.assert_allclose(result.probabilities, probs[1], rtol=1e-6)
    assert result.clean_prediction == y and result.prediction == int(probs[1].argmax())


def test_eps_sweep_rows_are_the_attacked_images_probabilities(bundled, test_set):
    x, y = test_set.images[1:2], int(test_set.labels[1])
    values = [0.0, 0.05, 0.2, 0.5]
    sweep = eps_sweep(bundled, x, y, values)
    assert sweep.shape == (4, 10)
    for row, eps in zip(sweep, values):
        with torch.no_grad():
            expected = torch.softmax(bundled(fgsm(bundled, x, y, eps)), dim=1)[0].double().numpy()
        np.testing.assert_allclose(row, expected, rtol=1e-5, atol=1e-7)


def _monotone_case() -> tuple[nn.Module, torch.Tensor]:
    """Two classes, logit gap linear in the pixels: FGSM lowers the gap at every pixel it moves."""
    rng = np.random.default_rng(3)
    v = rng.normal(size=64).astype(np.float32)
    weight = np.stack([v, -v])
    x = rng.random((1, 1, 8, 8)).astype(np.float32)
    gap = 2 * float(v @ x.ravel())
    bias = np.array([1.5 - gap / 2, gap / 2], dtype=np.float32)  # clean gap = 1.5: class 0, not by much
    return _softmax_regression(weight, bias), torch.from_numpy(x)


def test_smallest_flipping_eps_in_a_monotone_case():
    model, x = _monotone_case()
    tol = 1e-4
    eps = smallest_flipping_eps(model, x, 0, eps_max=0.5, tol=tol)
    assert eps is not None and 0 < eps <= 0.5

    def predicted(e: float) -> int:
        with torch.no_grad():
            return int(model(fgsm(model, x, 0, e)).argmax())

    assert predicted(eps) != 0 and predicted(max(0.0, eps - tol)) == 0
    grid = np.linspace(0, 0.5, 20001)  # a fine scan, 1,000 eps values per batch
    flipped = np.concatenate([eps_sweep(model, x, 0, grid[i:i + 1000]).argmax(1) != 0 for i in range(0, 20001, 1000)])
    brute = grid[int(np.argmax(flipped))]
    assert flipped.any() and abs(brute - eps) <= tol + 0.5 / 20000


def test_smallest_flipping_eps_on_real_digits(bundled, test_set):
    for i in range(3):
        x, y = test_set.images[i:i + 1], int(test_set.labels[i])
        eps = smallest_flipping_eps(bundled, x, y)
        assert eps is not None
        with torch.no_grad():
            assert int(bundled(fgsm(bundled, x, y, eps)).argmax()) != y


def test_already_wrong_is_zero_and_unbreakable_is_none(bundled, test_set):
    model, x = _monotone_case()
    assert smallest_flipping_eps(model, x, 1) == 0.0  # the model already says 0, not 1
    assert smallest_flipping_eps(model, x, 0, eps_max=1e-3, tol=1e-4) is None


def test_a_builder_model_with_colour_input(colour_image):
    model = builder_model()
    result = adversarial(model, colour_image, 2, 0.1)
    assert result.image.shape == (1, 3, 16, 20) and result.probabilities.shape == (4,)


@pytest.mark.parametrize(("call", "key"), [
    (lambda m, x: fgsm(m, x, 0, 1.5), "interpret.error.number"),
    (lambda m, x: fgsm(m, x, 0, float("nan")), "interpret.error.number"),
    (lambda m, x: fgsm(m, x, 10, 0.1), "interpret.error.integer"),
    (lambda m, x: adversarial(m, x, -1, 0.1), "interpret.error.integer"),
    (lambda m, x: eps_sweep(m, x, 0, [0.1, 2.0]), "interpret.error.number"),
    (lambda m, x: eps_sweep(m, x, 0, []), "interpret.error.integer"),
    (lambda m, x: smallest_flipping_eps(m, x, 0, eps_max=0), "interpret.error.number"),
    (lambda m, x: smallest_flipping_eps(m, x, 0, tol=1.0), "interpret.error.number"),
    (lambda m, x: fgsm(m, x + 2, 0, 0.1), "interpret.error.range"),
])
def test_adversarial_refusals(bundled, test_set, call, key):
    with pytest.raises(InterpretError) as info:
        call(bundled, test_set.images[:1])
    assert info.value.key == key
