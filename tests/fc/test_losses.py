"""Losses and their gradients against torch autograd (float64); the lectures' formulas (seeds 000, 003)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from explorer.fc import losses as L
from explorer.fc.checks import FCError


@pytest.mark.parametrize("seed", range(6))
def test_both_losses_and_gradients_match_autograd(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 11))
    scores, label = rng.normal(0, 3, size=k), int(rng.integers(0, k))
    c = L.compare_losses(scores, label)
    f = torch.tensor(scores, requires_grad=True)
    ce = F.cross_entropy(f[None], torch.tensor([label]))
    (g_ce,) = torch.autograd.grad(ce, f)
    p = torch.softmax(f, 0)
    se = 0.5 * ((p - F.one_hot(torch.tensor(label), k).double()) ** 2).sum()
    (g_se,) = torch.autograd.grad(se, f)
    assert c.cross_entropy == pytest.approx(float(ce.detach()), abs=1e-12)
    assert c.squared_error == pytest.approx(float(se.detach()), abs=1e-12)
    np.testing.assert_allclose(c.grad_cross_entropy, g_ce.numpy(), atol=1e-12)
    np.testing.assert_allclose(c.grad_squared_error, g_se.numpy(), atol=1e-12)


def test_cross_entropy_is_minus_log_of_the_true_class_probability():
    """Seed 000 ~L428: L_i = −log(e^{f_yi} / Σ_j e^{f_j}); its gradient is y − t."""
    c = L.compare_losses([3.2, 5.1, -1.7], 0)
    e = np.exp([3.2, 5.1, -1.7])
    assert c.cross_entropy == pytest.approx(-np.log(e[0] / e.sum()))
    np.testing.assert_allclose(c.grad_cross_entropy, c.p - c.t)
    assert c.p.sum() == pytest.approx(1.0)


def test_confidently_wrong_scores_starve_squared_error_but_not_cross_entropy():
    c = L.compare_losses([0.0, 12.0, 0.0], 0)  # sure it is class 1, truly class 0
    assert np.abs(c.grad_cross_entropy).max() > 0.99
    assert np.abs(c.grad_squared_error).max() < 1e-4
    assert c.ratio > 1e4


def test_huge_scores_do_not_overflow():
    c = L.compare_losses([1e6, -1e6], 1)
    assert np.isfinite(c.cross_entropy) and c.cross_entropy == pytest.approx(2e6)
    np.testing.assert_array_equal(c.p, [1.0, 0.0])


def test_saturation_curves_match_autograd():
    s = L.saturation(y=1.0)
    z = torch.tensor(s.z, requires_grad=True)
    a = torch.sigmoid(z)
    se = 0.5 * (a - 1) ** 2
    ce = F.binary_cross_entropy_with_logits(z, torch.ones_like(z), reduction="none")
    (g_se,) = torch.autograd.grad(se.sum(), z, retain_graph=True)
    (g_ce,) = torch.autograd.grad(ce.sum(), z)
    np.testing.assert_allclose(s.squared_error, se.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(s.cross_entropy, ce.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(s.grad_squared_error, g_se.numpy(), atol=1e-12)
    np.testing.assert_allclose(s.grad_cross_entropy, g_ce.numpy(), atol=1e-12)
    # at z = −10 with y = 1 (confidently wrong): 4.5e-5 against −1
    assert s.grad_squared_error[0] == pytest.approx(-4.5396e-5, rel=1e-4)
    assert s.grad_cross_entropy[0] == pytest.approx(-1.0, abs=1e-4)


def test_squared_error_learns_slowly_from_a_confidently_wrong_start():
    lc = L.learning_curves(steps=60)
    assert lc.a_squared_error[0] == lc.a_cross_entropy[0] == pytest.approx(1 / (1 + np.exp(6)))
    assert lc.a_cross_entropy[10] > 0.9 and lc.a_squared_error[60] < 0.01
    assert (np.diff(lc.loss_cross_entropy) < 0).all()
    # each step is plain gradient descent with the autograd gradient
    w = torch.tensor(-4.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(-2.0, dtype=torch.float64, requires_grad=True)
    loss = 0.5 * (torch.sigmoid(w * 1.0 + b) - 1) ** 2
    loss.backward()
    assert float(torch.sigmoid((w - w.grad) + (b - b.grad)).detach()) == pytest.approx(lc.a_squared_error[1])


def test_logistic_regression_gradient_is_a_minus_y_times_x():
    """Seed 003 §1.2: ∂L/∂w = (−y/a + (1−y)/(1−a))·a(1−a)·x = (a − y)x, ∂L/∂b = a − y."""
    rng = np.random.default_rng(0)
    for _ in range(10):
        x, w, b, y = rng.normal(size=4), rng.normal(size=4), float(rng.normal()), float(rng.integers(0, 2))
        s = L.logistic_step(x, y, w=w, b=b)
        np.testing.assert_allclose(s.dw, s.dL_da * s.da_dz * x, atol=1e-12)
        np.testing.assert_allclose(s.dw, (s.a - y) * x)
        wt = torch.tensor(w, requires_grad=True)
        bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
        loss = F.binary_cross_entropy_with_logits(wt @ torch.tensor(x) + bt, torch.tensor(y, dtype=torch.float64))
        loss.backward()
        assert s.loss == pytest.approx(float(loss.detach()), abs=1e-12)
        np.testing.assert_allclose(s.dw, wt.grad.numpy(), atol=1e-12)
        assert s.db == pytest.approx(float(bt.grad), abs=1e-12)
        new_w, new_b = s.updated(0.1)
        np.testing.assert_allclose(new_w, w - 0.1 * (s.a - y) * x)
        assert new_b == pytest.approx(b - 0.1 * (s.a - y))


def test_logistic_step_with_a_saturated_output_stays_warning_free():
    s = L.logistic_step([1000.0], 0.0, w=[1.0])
    assert s.a == 1.0 and np.isinf(s.dL_da) and s.dw[0] == pytest.approx(1000.0) and np.isfinite(s.loss)


def test_real_scores_come_from_the_bundled_cnn():
    r = L.real_scores(0)
    assert r.image.shape == (28, 28) and r.scores.shape == (10,) and 0 <= r.label <= 9
    assert int(r.scores.argmax()) == r.label  # the bundled model (97.3 %) gets this one right
    r.scores[:] = 0
    assert L.real_scores(0).scores.any()  # a copy


def test_misclassified_digits_are_the_bundled_cnns_mistakes():
    wrong = L.misclassified()
    assert len(wrong) == 27  # 97.3 % of the 1,000 embedded test digits are right
    for i in wrong[:5]:
        r = L.real_scores(int(i))
        assert int(r.scores.argmax()) != r.label
    assert int(L.real_scores(0).scores.argmax()) == L.real_scores(0).label and 0 not in wrong


def test_parse_scores():
    np.testing.assert_array_equal(L.parse_scores("3.2, 5.1, -1.7"), [3.2, 5.1, -1.7])


@pytest.mark.parametrize(("call", "key"), [
    (lambda: L.compare_losses([1.0], 0), "fc.error.classes"),
    (lambda: L.compare_losses([1.0, 2.0], 2), "fc.error.range"),
    (lambda: L.compare_losses([1.0, np.nan], 0), "fc.error.not_finite"),
    (lambda: L.compare_losses(np.zeros(101), 0), "fc.error.too_big"),
    (lambda: L.compare_losses([[1.0, 2.0]], 0), "fc.error.ndim"),
    (lambda: L.parse_scores("1 two 3"), "fc.error.not_number"),
    (lambda: L.parse_scores("1"), "fc.error.classes"),
    (lambda: L.saturation(y=2.0), "fc.error.range"),
    (lambda: L.saturation(lo=3, hi=-3), "fc.error.interval"),
    (lambda: L.learning_curves(lr=0), "fc.error.range"),
    (lambda: L.learning_curves(steps=10**6), "fc.error.range"),
    (lambda: L.logistic_step([1, 2], 1, w=[1]), "fc.error.logistic_shape"),
    (lambda: L.logistic_step([1, 2], 1.5, w=[1, 2]), "fc.error.range"),
    (lambda: L.logistic_step([1, "a"], 1, w=[1, 2]), "fc.error.not_numbers"),
    (lambda: L.real_scores(1000), "fc.error.range"),
])
def test_refusals(call, key, translated):
    with pytest.raises(FCError) as err:
        call()
    assert err.value.key == key
    translated(err.value)
