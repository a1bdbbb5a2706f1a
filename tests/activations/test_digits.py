"""explorer.activations.digits: MNIST-style preprocessing of drawn, photographed and uploaded digits."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from explorer.activations import digits, inside


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


def test_clean_mnist_digits_pass_through_and_keep_the_prediction(model, test_set):
    images, labels = test_set.images[:200], test_set.labels[:200]
    processed = torch.stack([torch.from_numpy(digits.preprocess_digit(im[0].numpy()))[None] for im in images])
    assert processed.shape == images.shape and processed.dtype == torch.float32
    before = model(images).argmax(1)
    after = model(processed).argmax(1)
    assert (before == after).float().mean() >= 0.97
    assert (after == labels).float().mean() >= (before == labels).float().mean() - 0.02
    corr = [np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(processed.numpy(), images.numpy())]
    assert np.median(corr) > 0.97


@pytest.mark.parametrize("kind", ["0", "1", "7"])
def test_thick_dark_digit_on_light_paper_becomes_mnist_like(kind, model):
    result = digits.preprocess_steps(thick_digit(kind))
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
    assert int(inside.predict(model, inside.to_input(d)).argmax()) == int(kind)


def test_steps_are_all_returned_in_order():
    result = digits.preprocess_steps(thick_digit("7"))
    assert tuple(result.steps) == digits.STEP_NAMES
    assert result.steps["centred"] is result.digit
    assert result.steps["scaled"].shape[0] == 20  # the 7 is taller than wide
    for img in result.steps.values():
        assert img.dtype == np.float32 and 0 <= img.min() and img.max() <= 1


def test_input_formats_agree():
    rgb = thick_digit("1")
    gray = rgb.mean(axis=2).astype(np.uint8)
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    a, b, c = digits.preprocess_digit(rgb), digits.preprocess_digit(gray), digits.preprocess_digit(rgba)
    assert np.abs(a - b).max() < 0.1 and np.abs(a - c).max() < 1e-6
    assert np.array_equal(digits.preprocess_digit(gray / 255.0), digits.preprocess_digit(gray / 255.0))


def test_transparent_canvas_drawing_is_ink_on_white():
    rgba = np.zeros((280, 280, 4), np.uint8)  # transparent everywhere
    rgba[40:240, 130:150] = (0, 0, 0, 255)  # one black stroke
    d = digits.preprocess_digit(rgba)
    assert d.max() == pytest.approx(1.0) and d[:, :5].max() == 0


@pytest.mark.parametrize("image", [
    np.zeros((280, 280, 4), np.uint8),  # blank transparent canvas
    np.full((100, 100, 3), 255, np.uint8),  # all white
    np.zeros((100, 100, 3), np.uint8),  # all black
    np.full((50, 60), 128, np.uint8),  # flat gray
    np.random.default_rng(0).integers(120, 130, (64, 64)).astype(np.uint8),  # faint noise only
])
def test_blank_images_are_refused_with_a_key(image):
    with pytest.raises(digits.DigitError) as err:
        digits.preprocess_digit(image)
    assert err.value.key == "activations.error.blank"


@pytest.mark.parametrize("image", [np.zeros((3, 4, 2)), np.zeros((5,)), np.zeros((0, 4))])
def test_wrong_shapes_are_refused(image):
    with pytest.raises(digits.DigitError) as err:
        digits.preprocess_digit(image)
    assert err.value.key == "activations.error.shape"


def test_several_digits_side_by_side_are_flagged():
    im = Image.new("L", (400, 200), 255)
    d = ImageDraw.Draw(im)
    d.line((80, 30, 80, 170), fill=0, width=18)
    d.ellipse((200, 30, 300, 170), outline=0, width=18)
    result = digits.preprocess_steps(np.asarray(im))
    assert result.components == 2 and result.warnings == ("activations.warn.several_digits",)


def test_a_digit_in_two_strokes_and_specks_is_not_several_digits():
    im = Image.new("L", (200, 200), 255)
    d = ImageDraw.Draw(im)
    d.line((60, 40, 140, 40), fill=0, width=14)  # the 5's top bar, not touching the rest
    d.line((60, 60, 60, 100), fill=0, width=14)
    d.arc((55, 90, 145, 170), start=-90, end=150, fill=0, width=14)
    d.point([(5, 190), (190, 5)], fill=0)  # specks
    result = digits.preprocess_steps(np.asarray(im))
    assert not result.warnings


def test_huge_image_is_fast_enough_and_works():
    big = np.full((4000, 3000, 3), 235, np.uint8)
    big[800:3200, 1300:1700] = 20
    d = digits.preprocess_digit(big)
    assert d.shape == (28, 28) and d.max() == pytest.approx(1.0)


def test_connected_components_matches_a_hand_count():
    mask = np.zeros((6, 6), bool)
    mask[0, 0] = mask[1, 1] = True  # diagonal neighbours: one component (8-connectivity)
    mask[4:6, 4:6] = True
    mask[0, 5] = True
    labels, n = digits.connected_components(mask)
    assert n == 3 and labels[0, 0] == labels[1, 1] != labels[4, 4]


def test_otsu_splits_two_levels():
    v = np.concatenate([np.full(100, 0.1), np.full(100, 0.8)])
    assert 0.1 < digits._otsu(v) <= 0.8


def test_connected_components_agree_with_scipy():
    from scipy import ndimage

    rng = np.random.default_rng(0)
    for _ in range(200):
        mask = rng.random((rng.integers(1, 30), rng.integers(1, 30))) < rng.random()
        labels, n = digits.connected_components(mask)
        ref, ref_n = ndimage.label(mask, structure=np.ones((3, 3)))
        assert n == ref_n and np.array_equal(labels > 0, mask)
        assert len(set(zip(labels[mask].tolist(), ref[mask].tolist()))) == n  # the same partition



def test_rendered_strokes_are_ink_on_white_along_the_path():
    image = digits.render_strokes([[[140, 40], [140, 240]], [[60, 60]]], size=280, width=20)
    assert image.shape == (280, 280) and image.dtype == np.uint8
    assert image[140, 140] == 0 and image[40, 140] == 0 and image[240, 140] == 0  # along the line, both ends
    assert image[60, 60] == 0  # a dot (one-point stroke) is a round blob
    assert image[140, 160] == 255 and image[10, 10] == 255  # paper elsewhere
    assert (image[140, 120:161] == 0).sum() in range(19, 23)  # the pen is 20 px wide


def test_a_drawn_one_is_read_as_a_one(model):
    strokes = [[[140, 35 + 7 * i] for i in range(31)]]
    result = digits.preprocess_steps(digits.render_strokes(strokes))
    assert not result.warnings
    assert int(model(inside.to_input(result.digit)).argmax()) == 1


@pytest.mark.parametrize(("make", "warning"), [
    (lambda: digits.render_strokes([[[100, 100]]], width=4), "activations.warn.little_ink"),
    (lambda: digits.render_strokes([[[140, 30]], [[140, 100]], [[140, 170]], [[140, 240]]]),
     "activations.warn.many_shapes"),
    (lambda: np.pad(np.zeros((200, 160), np.uint8), ((40, 40), (60, 60)), constant_values=255),
     "activations.warn.unlike_mnist"),  # a filled black block: far more ink than any digit
])
def test_inputs_unlike_a_digit_are_flagged(make, warning):
    assert warning in digits.preprocess_steps(make()).warnings


def test_real_mnist_digits_raise_no_warning(test_set):
    flagged = [i for i in range(200) if digits.preprocess_steps(test_set.images[i, 0].numpy()).warnings]
    assert len(flagged) <= 4, flagged  # a few real digits are in two pieces side by side; no more
