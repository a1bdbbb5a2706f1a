"""Image files built in memory for tests: good ones in every format and every listed bad input.

Nothing here is downloaded; each builder returns the bytes of one file.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **options)
    return buf.getvalue()


def gradient_rgb(height: int = 24, width: int = 32) -> np.ndarray:
    """A smooth RGB test pattern (H, W, 3) uint8."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1),
                     (x + y) * 255 // max(width + height - 2, 1)], axis=2).astype(np.uint8)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def raw_png(width: int, height: int, *, bit_depth: int, color_type: int, rows) -> bytes:
    """A PNG written by hand (16-bit RGB and huge sizes that Pillow would not write for us).

    ``rows`` yields the packed bytes of each row (without the filter byte).
    """
    comp = zlib.compressobj(9)
    body = bytearray()
    for row in rows:
        body += comp.compress(b"\x00" + row)
    body += comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", bytes(body)) + _chunk(b"IEND", b"")


def png_rgb16(values: np.ndarray) -> bytes:
    """A 16-bit-per-channel RGB PNG from a (H, W, 3) uint16 array."""
    h, w, _ = values.shape
    big = values.astype(">u2")
    return raw_png(w, h, bit_depth=16, color_type=2, rows=(big[i].tobytes() for i in range(h)))


def png_bomb(side: int = 20000) -> bytes:
    """A real ``side`` x ``side`` 1-bit PNG of zeros: ~50 KB on disk, 400 MP when decoded."""
    row = bytes((side + 7) // 8)
    return raw_png(side, side, bit_depth=1, color_type=0, rows=(row for _ in range(side)))


def text_named_png() -> bytes:
    return b"This is a plain text file that somebody renamed to picture.png\n" * 4


def pdf_named_png() -> bytes:
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


def truncated_jpeg() -> bytes:
    data = encode(Image.fromarray(gradient_rgb(64, 64)), "JPEG", quality=90)
    return data[: len(data) // 2]


def truncated_png() -> bytes:
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    data = encode(Image.fromarray(noise), "PNG")
    return data[: len(data) // 2]


def one_pixel_png() -> bytes:
    return encode(Image.new("RGB", (1, 1), (200, 10, 10)), "PNG")


def small_png(side: int = 4) -> bytes:
    """A valid but tiny image (smaller than a 5x5 kernel)."""
    return encode(Image.fromarray(gradient_rgb(side, side)), "PNG")


def good_png(height: int = 24, width: int = 32) -> bytes:
    return encode(Image.fromarray(gradient_rgb(height, width)), "PNG")


BAD_FILES = {  # name -> (builder, i18n key of the expected message)
    "text_named_png": (text_named_png, "images.error.not_image"),
    "pdf_named_png": (pdf_named_png, "images.error.not_image"),
    "empty": (lambda: b"", "images.error.empty"),
    "truncated_jpeg": (truncated_jpeg, "images.error.corrupt"),
    "truncated_png": (truncated_png, "images.error.corrupt"),
    "png_bomb": (png_bomb, "images.error.too_many_pixels"),
    "one_pixel": (one_pixel_png, "images.error.too_small"),
}
