"""explorer.core.images: every accepted format and mode, every refused file."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from explorer.core import images
from explorer.core.i18n import catalog
from explorer.core.images import ImageError, load_image
from tests import bad_images as bi

RGB = bi.gradient_rgb(24, 32)


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "TIFF", "WEBP"])
def test_lossless_formats_round_trip(fmt):
    options = {"lossless": True} if fmt == "WEBP" else {}
    out = load_image(bi.encode(Image.fromarray(RGB), fmt, **options))
    assert out.dtype == np.uint8 and out.shape == (24, 32, 3)
    np.testing.assert_array_equal(out, RGB)


def test_jpeg_is_close():
    out = load_image(bi.encode(Image.fromarray(RGB), "JPEG", quality=95))
    assert out.shape == (24, 32, 3) and out.dtype == np.uint8
    assert np.abs(out.astype(int) - RGB).mean() < 4


def test_gif_palette_is_expanded():
    out = load_image(bi.encode(Image.fromarray(RGB).quantize(16), "GIF"))
    assert out.shape == (24, 32, 3)
    assert np.abs(out.astype(int) - RGB).mean() < 30


def test_palette_png_is_expanded_exactly():
    pal = Image.new("P", (4, 3))
    pal.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    pal.putdata([0, 1] * 6)
    out = load_image(bi.encode(pal, "PNG"))
    assert out[0, 0].tolist() == [255, 0, 0] and out[0, 1].tolist() == [0, 255, 0]


def test_transparency_is_composited_on_white():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 255  # red
    rgba[0, 0, 3] = 0  # fully transparent -> white
    rgba[0, 1, 3] = 255  # opaque -> red
    rgba[0, 2, 3] = 128  # half -> pink
    out = load_image(bi.encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert out[0, 0].tolist() == [255, 255, 255]
    assert out[0, 1].tolist() == [255, 0, 0]
    assert out[0, 2, 0] == 255 and 120 <= out[0, 2, 1] <= 135


def test_gray_alpha_and_transparent_gif():
    la = Image.new("LA", (3, 3), (0, 0))
    assert load_image(bi.encode(la, "PNG"))[1, 1].tolist() == [255, 255, 255]
    gif = Image.new("P", (3, 3), 1)
    gif.putpalette([0, 0, 0, 10, 20, 30] + [0] * 762)
    out = load_image(bi.encode(gif, "GIF", transparency=1))
    assert out[1, 1].tolist() == [255, 255, 255]


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
def test_cmyk_becomes_rgb(fmt):
    cmyk = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # no cyan, full magenta+yellow = red
    out = load_image(bi.encode(cmyk, fmt))
    assert out.shape == (8, 8, 3)
    r, g, b = out[4, 4].astype(int)
    assert r > 200 and g < 60 and b < 60


def test_16bit_gray_is_scaled_not_clipped():
    values = np.array([[0, 257, 1000, 32768, 65535]] * 3, dtype=np.uint16)
    out = load_image(bi.encode(Image.fromarray(values), "PNG"))
    assert out[0, :, 0].tolist() == [0, 1, 4, 128, 255]  # clipping would give 0 255 255 255 255
    out_tiff = load_image(bi.encode(Image.fromarray(values), "TIFF"))
    np.testing.assert_array_equal(out_tiff, out)


def test_16bit_rgb_is_scaled():
    values = np.zeros((3, 3, 3), np.uint16)
    values[0, 0] = [65535, 32896, 1000]
    out = load_image(bi.png_rgb16(values))
    assert out[0, 0].tolist() == [255, 128, 3]  # high byte: 1000 >> 8 = 3, not clipped to 255


def test_1bit_image():
    bits = Image.new("1", (5, 4), 0)
    bits.putpixel((2, 1), 1)
    out = load_image(bi.encode(bits, "PNG"))
    assert out[1, 2].tolist() == [255, 255, 255] and out[0, 0].tolist() == [0, 0, 0]


def test_exif_orientation_is_applied():
    im = Image.fromarray(RGB[:6, :10])  # 6 tall, 10 wide
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view"
    out = load_image(bi.encode(im, "PNG", exif=exif))
    assert out.shape == (10, 6, 3)
    np.testing.assert_array_equal(out, np.rot90(RGB[:6, :10], k=-1))


def test_animated_gif_gives_first_frame():
    red = Image.new("RGB", (6, 6), (255, 0, 0))
    blue = Image.new("RGB", (6, 6), (0, 0, 255))
    data = bi.encode(red, "GIF", save_all=True, append_images=[blue], duration=100, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 2
    out = load_image(data)
    assert out[3, 3].tolist() == [255, 0, 0]


@pytest.mark.parametrize("name", sorted(bi.BAD_FILES))
def test_bad_files_raise_image_error_with_a_known_key(name):
    build, key = bi.BAD_FILES[name]
    with pytest.raises(ImageError) as info:
        load_image(build())
    assert info.value.key == key
    assert isinstance(info.value, ValueError)
    for lang in ("ko", "en"):
        assert key in catalog(lang)
        catalog(lang)[key].format(**info.value.params)  # every placeholder is provided


def test_pixel_and_byte_limits(monkeypatch):
    data = bi.good_png(24, 32)
    monkeypatch.setattr(images, "MAX_PIXELS", 24 * 32 - 1)
    with pytest.raises(ImageError, match="too_many_pixels"):
        load_image(data)
    monkeypatch.setattr(images, "MAX_PIXELS", 24 * 32)
    assert load_image(data).shape == (24, 32, 3)
    monkeypatch.setattr(images, "MAX_BYTES", len(data) - 1)
    with pytest.raises(ImageError, match="file_too_big"):
        load_image(data)


def test_preview_shrinks_large_images_only():
    big = np.zeros((300, 400, 3), np.uint8)
    small = images.preview(big, max_pixels=400 * 300)
    assert small is big
    shrunk = images.preview(big, max_pixels=30_000)
    assert shrunk.shape[0] * shrunk.shape[1] <= 30_000 and shrunk.shape[2] == 3
    assert abs(shrunk.shape[1] / shrunk.shape[0] - 4 / 3) < 0.05


def test_png_and_gray_helpers():
    assert load_image(images.to_png(RGB)).tolist() == RGB.tolist()
    gray = images.to_gray(np.array([[[255, 255, 255], [255, 0, 0]]], np.uint8))
    np.testing.assert_allclose(gray, [[255.0, 0.299 * 255]])
