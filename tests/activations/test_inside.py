"""explorer.activations.inside: hooks, statistics, Grad-CAM and saliency (torch autograd as the oracle), presets, the bundled model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.activations import inside
from explorer.core.models import DeepSeedCNN, LeNet5, SeedCNN
from explorer.kernels import PRESETS


@pytest.mark.parametrize(("cls", "shapes"), [
    (SeedCNN, [(32, 28, 28), (32, 28, 28), (32, 14, 14), (64, 14, 14), (64, 14, 14), (64, 7, 7)]),
    (DeepSeedCNN, [(32, 28, 28)] * 2 + [(32, 14, 14)] + [(64, 14, 14)] * 2 + [(64, 7, 7)]
     + [(128, 7, 7)] * 2 + [(128, 4, 4)]),
    (LeNet5, [(6, 28, 28), (6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 10, 10), (16, 5, 5)]),
])
def test_feature_map_shapes_match_the_model(cls, shapes):
    model = cls(generator=torch.Generator().manual_seed(0)).eval()
    x = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    maps = inside.feature_maps(model, x)
    assert [tuple(m.shape[1:]) for m in maps.values()] == shapes
    assert all(m.shape[0] == 2 and not m.requires_grad for m in maps.values())
    # the hooks are gone afterwards, and the last map is what the classifier reads
    assert all(not m._forward_hooks for m in model.modules())
    torch.testing.assert_close(model.classifier(maps[list(maps)[-1]]), model(x))


def test_layer_labels_number_each_kind():
    labels = inside.layer_labels(SeedCNN())
    assert list(labels.values()) == ["conv1", "act1", "pool1", "conv2", "act2", "pool2"]
    assert list(labels) == [f"features.{i}" for i in range(6)]


def test_layer_stats_agree_with_numpy():
    a = torch.tensor([[[[0.0, 1.0], [2.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]]])  # (1, 2, 2, 2)
    (s,) = inside.layer_stats({"x": a})
    v = a[0].numpy()
    assert s.shape == (2, 2, 2) and s.dead_channels == 1
    assert (s.mean, s.std, s.min, s.max) == pytest.approx((v.mean(), v.std(), 0.0, 2.0))
    assert s.zero_fraction == pytest.approx(6 / 8)


def test_grad_cam_matches_a_hand_split_autograd_oracle(model, test_set):
    x = test_set.images[:1]
    cam = inside.grad_cam(model, x, target=3)
    assert inside.gradcam_layer(model) == "features.4"
    a = model.features[:5](x).detach().requires_grad_(True)  # oracle: no hooks, split by hand
    score = model.classifier(model.features[5:](a))[0, 3]
    (grad,) = torch.autograd.grad(score, a)
    ref = torch.relu((grad.mean(dim=(2, 3), keepdim=True) * a).sum(1, keepdim=True))
    ref = torch.nn.functional.interpolate(ref, size=(28, 28), mode="bilinear", align_corners=False)[0, 0]
    ref = (ref / ref.max()).detach().numpy()
    np.testing.assert_allclose(cam, ref, atol=1e-5)


def test_grad_cam_has_the_input_size_and_is_not_constant(model, test_set):
    for i in range(5):
        cam = inside.grad_cam(model, test_set.images[i:i + 1])
        assert cam.shape == (28, 28) and cam.dtype == np.float32
        assert cam.max() == pytest.approx(1.0) and cam.min() >= 0 and cam.std() > 0.05
    assert not any(p.grad is not None for p in model.parameters())  # the shared model is untouched


def test_saliency_matches_autograd(model, test_set):
    x = test_set.images[:1].clone().requires_grad_(True)
    s = inside.saliency(model, test_set.images[:1])
    (grad,) = torch.autograd.grad(model(x)[0].max(), x)
    ref = grad[0, 0].abs()
    np.testing.assert_allclose(s, (ref / ref.max()).numpy(), atol=1e-6)
    assert s.shape == (28, 28)


def test_closest_presets_finds_exact_and_sign_flipped_kernels():
    filters = np.stack([PRESETS["sobel_x"], -PRESETS["sobel_y"], 3 * PRESETS["identity"]])
    found = inside.closest_presets(filters, PRESETS)
    assert found[0] == ("sobel_x", pytest.approx(1.0))
    assert found[1] == ("sobel_y", pytest.approx(-1.0))
    assert found[2] == ("identity", pytest.approx(1.0))


def test_closest_presets_resizes_presets_to_the_filter_size():
    five = np.zeros((1, 5, 5))
    five[0, 2, 2] = 1.0
    name, cos = inside.closest_presets(five, {"identity": PRESETS["identity"], "box": PRESETS["box3"]})[0]
    assert name == "identity" and 0.5 < cos <= 1.0


def test_closest_presets_cosine_matches_torch(model):
    w = inside.first_conv(model).weight.detach()[:, 0]  # (32, 3, 3)
    found = inside.closest_presets(w.numpy(), PRESETS)
    for (name, cos), f in zip(found, w):
        ref = torch.nn.functional.cosine_similarity(f.flatten().double(),
                                                    torch.as_tensor(PRESETS[name]).flatten().double(), dim=0)
        assert cos == pytest.approx(float(ref), abs=1e-9)


def test_bundled_model_reaches_its_stated_accuracy(model, test_set):
    info = inside.bundled_info()
    assert info["test_images"] == len(test_set.labels) == 1000
    acc = inside.accuracy(model, test_set.images, test_set.labels)
    assert acc >= info["test_accuracy"] - 0.002
    assert info["test_accuracy"] >= 0.95
    assert inside.BUNDLED_WEIGHTS.stat().st_size <= 1024 * 1024


def test_checked_loading_refuses_other_architectures(tmp_path):
    path = tmp_path / "lenet.pt"
    torch.save(LeNet5().state_dict(), path)
    with pytest.raises(ValueError):
        inside.load_state_dict_checked(SeedCNN(), path)
    torch.save({"not": "tensors"}, path)
    with pytest.raises(ValueError):
        inside.load_state_dict_checked(SeedCNN(), path)

