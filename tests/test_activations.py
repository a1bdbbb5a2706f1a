"""explorer.activations: MNIST-style preprocessing, hooks, Grad-CAM (torch autograd as the oracle)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from torch import nn

from explorer import activations as act
from explorer.data import load_embedded
from explorer.kernels import PRESETS
from explorer.models import DeepSeedCNN, LeNet5, SeedCNN


@pytest.fixture(scope="module")
def model() -> nn.Module:
    return act.load_bundled_model()


@pytest.fixture(scope="module")
def test_set():
    return load_embedded("test")


def thick_digit(kind: str, *, size=(240, 320), ink=40, paper=225, noise=8, seed=0) -> np.ndarray:
    """A photo-like RGB digit: dark thick strokes on light, slightly noisy paper, off centre."""
    im = Image.new("RGB", size, (paper, paper, paper - 10))
    d = ImageDraw.Draw(im)
    if kind == "0":
        d.ellipse((60, 40, 150, 250), outline=(ink,) * 3, width=22)
    elif kind == "1":
        d.line((110, 40, 110, 260), fill=(ink,) * 3, width=24)
    elif kind == "7":
        d.line((50, 50, 170, 50), fill=(ink,) * 3, width=22)
        d.line((170, 50, 90, 270), fill=(ink,) * 3, width=22)
    rng = np.random.default_rng(seed)
    a = np.asarray(im, dtype=np.int16) + rng.integers(-noise, noise + 1, (size[1], size[0], 1))
    return np.clip(a, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- preprocessing

def test_clean_mnist_digits_pass_through_and_keep_the_prediction(model, test_set):
    images, labels = test_set.images[:200], test_set.labels[:200]
    processed = torch.stack([torch.from_numpy(act.preprocess_digit(im[0].numpy()))[None] for im in images])
    assert processed.shape == images.shape and processed.dtype == torch.float32
    before = model(images).argmax(1)
    after = model(processed).argmax(1)
    assert (before == after).float().mean() >= 0.97
    assert (after == labels).float().mean() >= (before == labels).float().mean() - 0.02
    corr = [np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(processed.numpy(), images.numpy())]
    assert np.median(corr) > 0.97


@pytest.mark.parametrize("kind", ["0", "1", "7"])
def test_thick_dark_digit_on_light_paper_becomes_mnist_like(kind, model):
    result = act.preprocess_steps(thick_digit(kind))
    d = result.digit
    assert d.shape == (28, 28) and d.dtype == np.float32
    assert result.inverted and result.components == 1 and not result.warnings
    assert d.min() == 0 and d.max() == pytest.approx(1.0)
    rows, cols = np.nonzero(d > 0)
    assert max(rows.max() - rows.min(), cols.max() - cols.min()) + 1 == 20  # longer side 20 px
    assert not d[0].any() and not d[-1].any() and not d[:, 0].any() and not d[:, -1].any()
    ys, xs = np.mgrid[:28, :28]
    com = ((d * ys).sum() / d.sum(), (d * xs).sum() / d.sum())
    assert com == pytest.approx((14, 14), abs=0.6)
    assert 0.04 < (d > 0.5).mean() < 0.35  # stroke coverage in MNIST's range
    assert int(act.predict(model, act.to_input(d)).argmax()) == int(kind)


def test_steps_are_all_returned_in_order():
    result = act.preprocess_steps(thick_digit("7"))
    assert tuple(result.steps) == act.STEP_NAMES
    assert result.steps["centred"] is result.digit
    assert result.steps["scaled"].shape[0] == 20  # the 7 is taller than wide
    for img in result.steps.values():
        assert img.dtype == np.float32 and 0 <= img.min() and img.max() <= 1


def test_input_formats_agree():
    rgb = thick_digit("1")
    gray = rgb.mean(axis=2).astype(np.uint8)
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    a, b, c = act.preprocess_digit(rgb), act.preprocess_digit(gray), act.preprocess_digit(rgba)
    assert np.abs(a - b).max() < 0.1 and np.abs(a - c).max() < 1e-6
    assert np.array_equal(act.preprocess_digit(gray / 255.0), act.preprocess_digit(gray / 255.0))


def test_transparent_canvas_drawing_is_ink_on_white():
    rgba = np.zeros((280, 280, 4), np.uint8)  # transparent everywhere
    rgba[40:240, 130:150] = (0, 0, 0, 255)  # one black stroke
    d = act.preprocess_digit(rgba)
    assert d.max() == pytest.approx(1.0) and d[:, :5].max() == 0


@pytest.mark.parametrize("image", [
    np.zeros((280, 280, 4), np.uint8),  # blank transparent canvas
    np.full((100, 100, 3), 255, np.uint8),  # all white
    np.zeros((100, 100, 3), np.uint8),  # all black
    np.full((50, 60), 128, np.uint8),  # flat gray
    np.random.default_rng(0).integers(120, 130, (64, 64)).astype(np.uint8),  # faint noise only
])
def test_blank_images_are_refused_with_a_key(image):
    with pytest.raises(act.DigitError) as err:
        act.preprocess_digit(image)
    assert err.value.key == "activations.error.blank"


@pytest.mark.parametrize("image", [np.zeros((3, 4, 2)), np.zeros((5,)), np.zeros((0, 4))])
def test_wrong_shapes_are_refused(image):
    with pytest.raises(act.DigitError) as err:
        act.preprocess_digit(image)
    assert err.value.key == "activations.error.shape"


def test_several_digits_side_by_side_are_flagged():
    im = Image.new("L", (400, 200), 255)
    d = ImageDraw.Draw(im)
    d.line((80, 30, 80, 170), fill=0, width=18)
    d.ellipse((200, 30, 300, 170), outline=0, width=18)
    result = act.preprocess_steps(np.asarray(im))
    assert result.components == 2 and result.warnings == ("activations.warn.several_digits",)


def test_a_digit_in_two_strokes_and_specks_is_not_several_digits():
    im = Image.new("L", (200, 200), 255)
    d = ImageDraw.Draw(im)
    d.line((60, 40, 140, 40), fill=0, width=14)  # the 5's top bar, not touching the rest
    d.line((60, 60, 60, 100), fill=0, width=14)
    d.arc((55, 90, 145, 170), start=-90, end=150, fill=0, width=14)
    d.point([(5, 190), (190, 5)], fill=0)  # specks
    result = act.preprocess_steps(np.asarray(im))
    assert not result.warnings


def test_huge_image_is_fast_enough_and_works():
    big = np.full((4000, 3000, 3), 235, np.uint8)
    big[800:3200, 1300:1700] = 20
    d = act.preprocess_digit(big)
    assert d.shape == (28, 28) and d.max() == pytest.approx(1.0)


def test_connected_components_matches_a_hand_count():
    mask = np.zeros((6, 6), bool)
    mask[0, 0] = mask[1, 1] = True  # diagonal neighbours: one component (8-connectivity)
    mask[4:6, 4:6] = True
    mask[0, 5] = True
    labels, n = act.connected_components(mask)
    assert n == 3 and labels[0, 0] == labels[1, 1] != labels[4, 4]


def test_otsu_splits_two_levels():
    v = np.concatenate([np.full(100, 0.1), np.full(100, 0.8)])
    assert 0.1 < act._otsu(v) <= 0.8


# ---------------------------------------------------------------- hooks, statistics

@pytest.mark.parametrize(("cls", "shapes"), [
    (SeedCNN, [(32, 28, 28), (32, 28, 28), (32, 14, 14), (64, 14, 14), (64, 14, 14), (64, 7, 7)]),
    (DeepSeedCNN, [(32, 28, 28)] * 2 + [(32, 14, 14)] + [(64, 14, 14)] * 2 + [(64, 7, 7)]
     + [(128, 7, 7)] * 2 + [(128, 4, 4)]),
    (LeNet5, [(6, 28, 28), (6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 10, 10), (16, 5, 5)]),
])
def test_feature_map_shapes_match_the_model(cls, shapes):
    model = cls(generator=torch.Generator().manual_seed(0)).eval()
    x = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    maps = act.feature_maps(model, x)
    assert [tuple(m.shape[1:]) for m in maps.values()] == shapes
    assert all(m.shape[0] == 2 and not m.requires_grad for m in maps.values())
    # the hooks are gone afterwards, and the last map is what the classifier reads
    assert all(not m._forward_hooks for m in model.modules())
    torch.testing.assert_close(model.classifier(maps[list(maps)[-1]]), model(x))


def test_layer_labels_number_each_kind():
    labels = act.layer_labels(SeedCNN())
    assert list(labels.values()) == ["conv1", "act1", "pool1", "conv2", "act2", "pool2"]
    assert list(labels) == [f"features.{i}" for i in range(6)]


def test_layer_stats_agree_with_numpy():
    a = torch.tensor([[[[0.0, 1.0], [2.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]]])  # (1, 2, 2, 2)
    (s,) = act.layer_stats({"x": a})
    v = a[0].numpy()
    assert s.shape == (2, 2, 2) and s.dead_channels == 1
    assert (s.mean, s.std, s.min, s.max) == pytest.approx((v.mean(), v.std(), 0.0, 2.0))
    assert s.zero_fraction == pytest.approx(6 / 8)


# ---------------------------------------------------------------- Grad-CAM and saliency

def test_grad_cam_matches_a_hand_split_autograd_oracle(model, test_set):
    x = test_set.images[:1]
    cam = act.grad_cam(model, x, target=3)
    assert act.gradcam_layer(model) == "features.4"
    a = model.features[:5](x).detach().requires_grad_(True)  # oracle: no hooks, split by hand
    score = model.classifier(model.features[5:](a))[0, 3]
    (grad,) = torch.autograd.grad(score, a)
    ref = torch.relu((grad.mean(dim=(2, 3), keepdim=True) * a).sum(1, keepdim=True))
    ref = torch.nn.functional.interpolate(ref, size=(28, 28), mode="bilinear", align_corners=False)[0, 0]
    ref = (ref / ref.max()).detach().numpy()
    np.testing.assert_allclose(cam, ref, atol=1e-5)


def test_grad_cam_has_the_input_size_and_is_not_constant(model, test_set):
    for i in range(5):
        cam = act.grad_cam(model, test_set.images[i:i + 1])
        assert cam.shape == (28, 28) and cam.dtype == np.float32
        assert cam.max() == pytest.approx(1.0) and cam.min() >= 0 and cam.std() > 0.05
    assert not any(p.grad is not None for p in model.parameters())  # the shared model is untouched


def test_saliency_matches_autograd(model, test_set):
    x = test_set.images[:1].clone().requires_grad_(True)
    s = act.saliency(model, test_set.images[:1])
    (grad,) = torch.autograd.grad(model(x)[0].max(), x)
    ref = grad[0, 0].abs()
    np.testing.assert_allclose(s, (ref / ref.max()).numpy(), atol=1e-6)
    assert s.shape == (28, 28)


# ---------------------------------------------------------------- presets

def test_closest_presets_finds_exact_and_sign_flipped_kernels():
    filters = np.stack([PRESETS["sobel_x"], -PRESETS["sobel_y"], 3 * PRESETS["identity"]])
    found = act.closest_presets(filters, PRESETS)
    assert found[0] == ("sobel_x", pytest.approx(1.0))
    assert found[1] == ("sobel_y", pytest.approx(-1.0))
    assert found[2] == ("identity", pytest.approx(1.0))


def test_closest_presets_resizes_presets_to_the_filter_size():
    five = np.zeros((1, 5, 5))
    five[0, 2, 2] = 1.0
    name, cos = act.closest_presets(five, {"identity": PRESETS["identity"], "box": PRESETS["box3"]})[0]
    assert name == "identity" and 0.5 < cos <= 1.0


def test_closest_presets_cosine_matches_torch(model):
    w = act.first_conv(model).weight.detach()[:, 0]  # (32, 3, 3)
    found = act.closest_presets(w.numpy(), PRESETS)
    for (name, cos), f in zip(found, w):
        ref = torch.nn.functional.cosine_similarity(f.flatten().double(),
                                                    torch.as_tensor(PRESETS[name]).flatten().double(), dim=0)
        assert cos == pytest.approx(float(ref), abs=1e-9)


# ---------------------------------------------------------------- the bundled model

def test_bundled_model_reaches_its_stated_accuracy(model, test_set):
    info = act.bundled_info()
    assert info["test_images"] == len(test_set.labels) == 1000
    acc = act.accuracy(model, test_set.images, test_set.labels)
    assert acc >= info["test_accuracy"] - 0.002
    assert info["test_accuracy"] >= 0.95
    assert act.BUNDLED_WEIGHTS.stat().st_size <= 1024 * 1024


def test_checked_loading_refuses_other_architectures(tmp_path):
    path = tmp_path / "lenet.pt"
    torch.save(LeNet5().state_dict(), path)
    with pytest.raises(ValueError):
        act.load_state_dict_checked(SeedCNN(), path)
    torch.save({"not": "tensors"}, path)
    with pytest.raises(ValueError):
        act.load_state_dict_checked(SeedCNN(), path)


def test_connected_components_agree_with_scipy():
    from scipy import ndimage

    rng = np.random.default_rng(0)
    for _ in range(200):
        mask = rng.random((rng.integers(1, 30), rng.integers(1, 30))) < rng.random()
        labels, n = act.connected_components(mask)
        ref, ref_n = ndimage.label(mask, structure=np.ones((3, 3)))
        assert n == ref_n and np.array_equal(labels > 0, mask)
        assert len(set(zip(labels[mask].tolist(), ref[mask].tolist()))) == n  # the same partition
