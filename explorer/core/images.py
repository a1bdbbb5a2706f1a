"""Turn uploaded bytes into a safe RGB array, shrink it for preview, encode results as PNG.

`load_image` accepts PNG, JPEG, BMP, GIF, WEBP and TIFF. It composites transparency on white,
expands palettes, converts CMYK / 1-bit / 16-bit (scaled, not clipped), applies the EXIF
orientation, keeps only the first frame of animations, and refuses empty, broken, tiny,
oversized and decompression-bomb files with an `ImageError` carrying an i18n key.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from explorer.core.i18n import UserError

FORMATS: tuple[str, ...] = ("PNG", "JPEG", "BMP", "GIF", "WEBP", "TIFF")
EXTENSIONS: tuple[str, ...] = ("png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff")
MAX_BYTES = 10 * 1024 * 1024  # refuse image files larger than this, with our own (translated) message
UPLOAD_WIDGET_MB = 50  # an image uploader accepts this much, so files just over MAX_BYTES get our message
MAX_PIXELS = 40_000_000  # 40 megapixels: a modern phone photo fits, a bomb does not
MIN_SIDE = 3  # the smallest useful image: one 3x3 window
PREVIEW_PIXELS = 1_500_000  # interactive preview size (about 1.5 MP)

_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError,
                  TypeError, struct.error, zlib.error, Image.DecompressionBombError)


class ImageError(UserError):
    """A user-facing image problem: ``key`` is an i18n key, ``params`` its format arguments."""


def load_image(data: bytes) -> np.ndarray:
    """Decode ``data`` into an RGB uint8 array of shape (H, W, 3), or raise `ImageError`."""
    if not data:
        raise ImageError("images.error.empty")
    if len(data) > MAX_BYTES:
        raise ImageError("images.error.file_too_big", mb=len(data) // 2**20, max_mb=MAX_BYTES // 2**20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # odd metadata warnings are not the user's problem
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data), formats=list(FORMATS))
        except UnidentifiedImageError:
            raise ImageError("images.error.not_image", formats=", ".join(FORMATS)) from None
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise ImageError("images.error.too_many_pixels", max_mp=MAX_PIXELS // 1_000_000) from None
        except _DECODE_ERRORS:
            raise ImageError("images.error.corrupt") from None
        with im:
            _check_size(*im.size)
            try:
                im.seek(0)  # animated GIF/WEBP/TIFF: first frame
                im.load()  # truncation and bad data only show up here
                rgb = _to_rgb(ImageOps.exif_transpose(im))
            except (Image.DecompressionBombWarning, Image.DecompressionBombError):
                raise ImageError("images.error.too_many_pixels", max_mp=MAX_PIXELS // 1_000_000) from None
            except _DECODE_ERRORS:
                raise ImageError("images.error.corrupt") from None
    _check_size(rgb.shape[1], rgb.shape[0])
    return rgb


def _check_size(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise ImageError("images.error.too_many_pixels", max_mp=MAX_PIXELS // 1_000_000)
    if min(width, height) < MIN_SIDE:
        raise ImageError("images.error.too_small", width=width, height=height, min_side=MIN_SIDE)


def _to_rgb(im: Image.Image) -> np.ndarray:
    """Any Pillow mode -> (H, W, 3) uint8, alpha composited on white, high bit depths scaled."""
    if im.mode.startswith("I;16") or im.mode in ("I", "F"):
        gray = _scale_to_uint8(np.asarray(im), im.mode)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif im.mode == "L" and "transparency" in im.info:
        im = im.convert("LA")
    elif im.mode == "RGB" and "transparency" in im.info:
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba)
    return np.array(im.convert("RGB"), dtype=np.uint8)  # a writable copy


def _scale_to_uint8(values: np.ndarray, mode: str) -> np.ndarray:
    """16-bit / 32-bit grayscale to 0..255 by scaling the full range (never by clipping)."""
    v = values.astype(np.float64)
    if mode == "F":  # float images: [0, 1] as is, anything else min-max
        lo, hi = (0.0, 1.0) if v.size and v.min() >= 0 and v.max() <= 1 else (float(v.min()), float(v.max()))
    elif mode == "I" and v.size and v.min() >= 0 and v.max() <= 255:
        lo, hi = 0.0, 255.0
    elif mode == "I" and v.size and (v.min() < 0 or v.max() > 65535):
        lo, hi = float(v.min()), float(v.max())
    else:  # I;16, I;16B, I;16L, or I holding 16-bit data
        lo, hi = 0.0, 65535.0
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    return np.clip(np.rint((v - lo) * scale), 0, 255).astype(np.uint8)


def preview(image: np.ndarray, *, max_pixels: int = PREVIEW_PIXELS) -> np.ndarray:
    """``image`` shrunk (aspect kept, area filter) to at most ``max_pixels``; unchanged if small."""
    h, w = image.shape[:2]
    if h * w <= max_pixels:
        return image
    factor = (max_pixels / (h * w)) ** 0.5
    size = (max(1, int(w * factor)), max(1, int(h * factor)))
    return np.array(Image.fromarray(image).resize(size, Image.Resampling.BOX, reducing_gap=2.0))


def to_gray(image: np.ndarray) -> np.ndarray:
    """RGB (H, W, 3) -> float64 luma (H, W) in 0..255 (ITU-R BT.601 weights); 2-D passes through."""
    if image.ndim == 2:
        return image.astype(np.float64)
    return image[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def to_png(array: np.ndarray) -> bytes:
    """Encode a uint8 (H, W) or (H, W, 3) array as PNG bytes."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array, dtype=np.uint8)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()
