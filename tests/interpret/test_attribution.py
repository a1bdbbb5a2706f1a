"""explorer.interpret.attribution against its oracles: captum called independently, torch autograd and
numpy on models whose answer is known in closed form, scipy's Spearman; and the app's own hand-written
Grad-CAM and saliency (explorer.activations) checked against captum."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from captum.attr import IntegratedGradients, LayerAttribution, LayerGradCam, Occlusion, Saliency
from scipy.stats import spearmanr
from torch import nn

from explorer.activations import grad_cam as app_grad_cam
from explorer.activations import saliency as app_saliency
from explorer.interpret import (
    METHODS,
    attribution_maps,
    cam_layers,
    completeness,
    grad_cam_layers,
    integrated_gradients,
    layer_grad_cam,
    normalise,
    occlusion,
    randomized_copy,
    rank_similarity,
    saliency,
    sanity_check,
)
from explorer.interpret.common import InterpretError
from tests.interpret.conftest import builder_model

MODEL_KINDS = ["bundled", "deep", "lenet"]


def _digit(test_set, i: int) -> tuple[torch.Tensor, int]:
    return test_set.images[i:i + 1], int(test_set.labels[i])


def _needs_grad(x: torch.Tensor) -> torch.Tensor:
    return x.clone().requires_grad_(True)  # captum warns about inputs that do not require grad


def _linear_model(weight: torch.Tensor) -> nn.Module:
    """f(x) = W flatten(x): K logits, the simplest model whose attributions are known exactly."""
    k = weight.shape[0]
    model = nn.Sequential(nn.Flatten(), nn.Linear(weight.shape[1], k, bias=False))
    with torch.no_grad():
        model[1].weight.copy_(weight)
    return model.eval()


# ---------------------------------------------------------------- occlusion

@pytest.mark.parametrize("kind", MODEL_KINDS)
@pytest.mark.parametrize(("window", "stride"), [(4, 2), (3, 1), (5, 3)])
def test_occlusion_equals_captum(models, test_set, kind, window, stride):
    model = models[kind]
    x, y = _digit(test_set, 3)
    ours = occlusion(model, x, y, window=window, stride=stride)
    ref = Occlusion(model).attribute(_needs_grad(x), sliding_window_shapes=(1, window, window),
                                     strides=(1, stride, stride), baselines=0, target=y,
                                     perturbations_per_eval=50)[0, 0]  # batched unlike ours: same maths
    assert ours.shape == (28, 28)
    np.testing.assert_allclose(ours, ref.detach().numpy(), atol=2e-5, rtol=1e-4)


def test_occlusion_of_a_linear_model_is_the_mean_patch_contribution():
    """numpy oracle: a patch's drop is sum(w * x) over it; a pixel's value averages the patches covering it."""
    gen = torch.Generator().manual_seed(0)
    weight = torch.randn(3, 10 * 10, generator=gen, dtype=torch.float64).float()
    x = torch.rand(1, 1, 10, 10, generator=gen)
    w, s = 4, 2
    contrib = (weight[1].view(10, 10) * x[0, 0]).double().numpy()
    total, count = np.zeros((10, 10)), np.zeros((10, 10))
    for r in range(0, 10 - w + 1, s):
        for c in range(0, 10 - w + 1, s):
            total[r:r + w, c:c + w] += contrib[r:r + w, c:c + w].sum()
            count[r:r + w, c:c + w] += 1
    expected = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    np.testing.assert_allclose(occlusion(_linear_model(weight), x, 1, window=w, stride=s), expected, atol=1e-5)


def test_occlusion_of_a_colour_image_covers_every_channel(colour_image):
    model = builder_model()
    ours = occlusion(model, colour_image, 2, window=4, stride=2)
    ref = Occlusion(model).attribute(_needs_grad(colour_image), sliding_window_shapes=(3, 4, 4),
                                     strides=(3, 2, 2), baselines=0, target=2)[0]
    assert ours.shape == (16, 20)
    for channel in range(3):
        np.testing.assert_allclose(ours, ref[channel].detach().numpy(), atol=1e-5)


# ---------------------------------------------------------------- integrated gradients

@pytest.mark.parametrize("i", range(6))
def test_integrated_gradients_add_up_to_the_score_gain_at_200_steps(bundled, test_set, i):
    x, y = _digit(test_set, i)
    attr = integrated_gradients(bundled, x, y, steps=200)
    with torch.no_grad():
        gain = float(bundled(x)[0, y] - bundled(torch.zeros_like(x))[0, y])
    assert attr.shape == (28, 28)
    assert abs(float(attr.sum()) - gain) <= 0.02 * abs(gain)
    total, gap = completeness(bundled, x, y, attr)
    assert total == pytest.approx(float(attr.astype(np.float64).sum())) and gap == pytest.approx(gain, rel=1e-5)


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_integrated_gradients_equal_captum(models, test_set, kind):
    x, y = _digit(test_set, 7)
    ours = integrated_gradients(models[kind], x, y, steps=50)
    ref = IntegratedGradients(models[kind]).attribute(_needs_grad(x), baselines=torch.zeros_like(x), target=y,
                                                      n_steps=50)[0, 0]
    np.testing.assert_allclose(ours, ref.detach().numpy(), atol=1e-5, rtol=1e-4)


def test_integrated_gradients_of_a_linear_model_are_weight_times_input():
    gen = torch.Generator().manual_seed(1)
    weight = torch.randn(4, 2 * 6 * 6, generator=gen)
    x = torch.rand(1, 2, 6, 6, generator=gen)
    expected = (weight[3].view(2, 6, 6) * x[0]).sum(0).numpy()  # channels summed
    for steps in (1, 7):
        np.testing.assert_allclose(integrated_gradients(_linear_model(weight), x, 3, steps=steps), expected,
                                   atol=1e-5)


# ---------------------------------------------------------------- saliency and Grad-CAM

@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_saliency_is_the_absolute_input_gradient(models, test_set, kind):
    model = models[kind]
    x, y = _digit(test_set, 2)
    xg = _needs_grad(x)
    (grad,) = torch.autograd.grad(model(xg)[0, y], xg)
    np.testing.assert_allclose(saliency(model, x, y), grad[0].abs().amax(0).numpy(), atol=1e-7)


def _hand_grad_cam(model: nn.Module, x: torch.Tensor, target: int, layer: str) -> np.ndarray:
    """Oracle: split the model by hand at ``layer`` (features.k), no hooks, torch autograd."""
    k = int(layer.split(".")[1])
    a = model.features[:k + 1](x).detach().requires_grad_(True)  # (1, K, h, w)
    score = model.classifier(model.features[k + 1:](a))[0, target]
    (grad,) = torch.autograd.grad(score, a)
    return F.relu((grad.mean(dim=(2, 3), keepdim=True) * a).sum(1))[0].detach().numpy()


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_grad_cam_at_every_conv_layer_matches_autograd(models, test_set, kind):
    model = models[kind]
    x, y = _digit(test_set, 5)
    coarse = grad_cam_layers(model, x, y, upsample=False)
    fine = grad_cam_layers(model, x, y)
    assert list(coarse) == cam_layers(model) and len(coarse) == {"bundled": 2, "deep": 3, "lenet": 2}[kind]
    for layer, cam in coarse.items():
        np.testing.assert_allclose(cam, _hand_grad_cam(model, x, y, layer), atol=1e-5, rtol=1e-4)
        up = F.interpolate(torch.from_numpy(cam)[None, None], size=(28, 28), mode="bilinear", align_corners=False)
        np.testing.assert_allclose(fine[layer], up[0, 0].numpy(), atol=1e-6)


# ---------------------------------------------------------------- the app's own Grad-CAM and saliency vs captum

@pytest.mark.parametrize("kind", MODEL_KINDS)
@pytest.mark.parametrize("i", [0, 1, 4])
def test_the_apps_hand_written_grad_cam_agrees_with_captum_at_every_layer(models, test_set, kind, i):
    model = models[kind]
    x, y = _digit(test_set, i)
    for layer in cam_layers(model):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ref = LayerGradCam(model, dict(model.named_modules())[layer]).attribute(
                _needs_grad(x), target=y, relu_attributions=True)
        ref = LayerAttribution.interpolate(ref, (28, 28), interpolate_mode="bilinear")[0, 0].detach().numpy()
        # the app's map is upsampled then divided by its peak: compare the same normalisation
        np.testing.assert_allclose(app_grad_cam(model, x, target=y, layer=layer), normalise(ref), atol=1e-6)


@pytest.mark.parametrize("kind", MODEL_KINDS)
@pytest.mark.parametrize("i", [0, 1, 4])
def test_the_apps_hand_written_saliency_agrees_with_captum(models, test_set, kind, i):
    model = models[kind]
    x, y = _digit(test_set, i)
    ref = Saliency(model).attribute(_needs_grad(x), target=y, abs=True)[0].amax(0).numpy()
    np.testing.assert_allclose(app_saliency(model, x, target=y), normalise(ref), atol=1e-6)


def test_side_by_side_maps_for_each_kind_of_model(models, test_set, colour_image):
    x, y = _digit(test_set, 0)
    for model in models.values():
        maps = attribution_maps(model, x, y)
        assert list(maps) == list(METHODS) and all(m.shape == (28, 28) and np.isfinite(m).all()
                                                   for m in maps.values())
    maps = attribution_maps(builder_model(), colour_image, 1, steps=8)
    assert all(m.shape == (16, 20) for m in maps.values())


# ---------------------------------------------------------------- the sanity check

def test_randomized_copy_changes_only_the_last_linear_layer(bundled):
    a = randomized_copy(bundled, seed=1)
    b = randomized_copy(bundled, seed=1)
    c = randomized_copy(bundled, seed=2)
    original = bundled.state_dict()
    for key, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[key])
        changed = not torch.equal(value, original[key])
        assert changed == key.startswith("classifier.1"), key
    assert not torch.equal(a.classifier[1].weight, c.classifier[1].weight)
    assert all(p.requires_grad for p in bundled.parameters())  # the shared model is untouched


def test_rank_similarity_is_spearman(bundled):
    gen = np.random.default_rng(0)
    for _ in range(20):
        a = gen.normal(size=(7, 9))
        b = a + gen.normal(scale=gen.uniform(0.1, 3), size=a.shape)
        a[gen.random(a.shape) < 0.3] = 0.0  # ties, as on an MNIST background
        b[gen.random(b.shape) < 0.3] = 0.0
        assert rank_similarity(a, b) == pytest.approx(spearmanr(np.abs(a).ravel(), np.abs(b).ravel())[0], abs=1e-12)
        assert rank_similarity(a, b, absolute=False) == pytest.approx(spearmanr(a.ravel(), b.ravel())[0], abs=1e-12)


def test_rank_similarity_of_constant_maps_and_its_refusal():
    flat, varied = np.zeros((4, 4)), np.arange(16.0).reshape(4, 4)
    assert rank_similarity(flat, flat) == 1.0 and rank_similarity(flat, varied) == 0.0
    assert rank_similarity(varied, varied) == pytest.approx(1.0)
    with pytest.raises(InterpretError) as info:
        rank_similarity(flat, np.zeros((4, 5)))
    assert info.value.key == "interpret.error.map_shapes"


@pytest.mark.parametrize("method", ["saliency", "occlusion", "integrated_gradients"])
def test_these_maps_of_the_trained_model_change_when_its_last_layer_is_random(bundled, test_set, method):
    for i in range(3):
        x, y = _digit(test_set, i)
        check = sanity_check(bundled, x, y, method=method, seed=0)
        assert check.method == method and check.original.shape == check.randomized.shape == (28, 28)
        assert check.similarity == pytest.approx(rank_similarity(check.original, check.randomized, absolute=False))
        assert check.passed, (i, check.similarity)


def test_grad_cam_changes_on_average_but_not_on_every_digit(bundled, test_set):
    """Grad-CAM at the last conv layer of this two-block net is a positive mix of stroke-shaped maps: with a
    random last layer it often still outlines the digit (similarity up to ~0.8 over 40 digits, mean ~0.25)."""
    checks = [sanity_check(bundled, *_digit(test_set, i), method="gradcam") for i in range(8)]
    assert all(c.passed == (c.similarity < c.threshold) for c in checks)
    assert np.mean([c.similarity for c in checks]) < 0.5


def test_a_map_that_ignores_the_model_fails_the_check(bundled, test_set, monkeypatch):
    from explorer.interpret import attribution

    def edges_of_the_input(model, image, target, **_):  # a "method" that only looks at the digit
        a = np.asarray(image, dtype=np.float64)[0, 0]
        return np.abs(np.diff(a, axis=0, prepend=0)) + np.abs(np.diff(a, axis=1, prepend=0))

    monkeypatch.setattr(attribution, "explain", edges_of_the_input)
    check = attribution.sanity_check(bundled, *_digit(test_set, 0), method="saliency")
    assert check.similarity == pytest.approx(1.0) and not check.passed


def test_integrated_gradients_magnitudes_still_outline_the_digit_after_randomisation(bundled, test_set):
    """Why the verdict uses signed maps: |IG| is 0 on every black pixel of both maps."""
    x, y = _digit(test_set, 1)
    check = sanity_check(bundled, x, y, method="integrated_gradients")
    assert check.similarity_abs > 0.9 > check.similarity


# ---------------------------------------------------------------- refusals

@pytest.mark.parametrize(("call", "key"), [
    (lambda m, x: occlusion(m, x, 10), "interpret.error.integer"),
    (lambda m, x: occlusion(m, x, 1, window=29), "interpret.error.integer"),
    (lambda m, x: occlusion(m, x, 1, stride=0), "interpret.error.integer"),
    (lambda m, x: integrated_gradients(m, x, 1, steps=0), "interpret.error.integer"),
    (lambda m, x: attribution_maps(m, x, 1, methods=("lime",)), "interpret.error.method"),
    (lambda m, x: sanity_check(m, x, 1, method="lime"), "interpret.error.method"),
    (lambda m, x: layer_grad_cam(m, x, 1, "features.42"), "interpret.error.layer"),
    (lambda m, x: saliency(m, x[:, :, :20, :20], 1), "interpret.error.model_input"),
    (lambda m, x: saliency(m, x * 3, 1), "interpret.error.range"),
])
def test_attribution_refusals(bundled, test_set, call, key):
    x, _ = _digit(test_set, 0)
    with pytest.raises(InterpretError) as info:
        call(bundled, x)
    assert info.value.key == key


def test_grad_cam_needs_a_conv_layer():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    with pytest.raises(InterpretError) as info:
        attribution_maps(model, torch.zeros(1, 1, 28, 28), 0, methods=("gradcam",))
    assert info.value.key == "interpret.error.no_conv"


def test_two_sessions_explaining_on_the_shared_model_at_once_get_their_own_maps(bundled, test_set):
    """captum hooks the layer it explains: on a private copy, so parallel pages never see each other's."""
    from concurrent.futures import ThreadPoolExecutor

    jobs = [_digit(test_set, i) for i in range(6)]
    alone = [grad_cam_layers(bundled, x, y) for x, y in jobs]
    with ThreadPoolExecutor(max_workers=3) as pool:
        together = list(pool.map(lambda job: grad_cam_layers(bundled, *job), jobs))
    for a, b in zip(alone, together):
        for layer in a:
            np.testing.assert_allclose(a[layer], b[layer], atol=1e-6)
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in bundled.modules())
