"""The bad-input corpus: hostile and odd inputs a classroom will produce, all BUILT here (never downloaded).

Each `Case` names where the input goes (``target``) and what the app must answer:
``key`` is the i18n key of the refusal (a tuple lists acceptable keys), or ``None`` when the odd
input is valid and must be accepted (16-bit, CMYK, EXIF-rotated, animated, ...).
Targets: "image" (uploaded picture bytes), "kernel" (kernel grid text), "shape" (shape calculator /
network inputs), "backprop" (6x6 stepper matrices), "checkpoint" (uploaded .pt/.safetensors bytes),
"digit" (a drawn canvas or array given to the digit preprocessor).
"""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PIL import Image

from tests.bad_images import truncated_jpeg, truncated_png

MARKER = Path(os.environ.get("TMPDIR", "/tmp")) / "cnn-explorer-corpus-pwned"  # the payload would create it


@dataclass(frozen=True)
class Case:
    name: str
    target: str
    build: Callable[[], Any]
    key: str | tuple[str, ...] | None  # expected refusal key(s); None = must be accepted

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.key,) if isinstance(self.key, str) else tuple(self.key or ())


# ---------------------------------------------------------------- images

def _encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **options)
    return buf.getvalue()


def pattern(h: int = 32, w: int = 48) -> np.ndarray:
    """A smooth RGB gradient (H, W, 3) uint8."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // (w - 1), y * 255 // (h - 1), (x + y) * 255 // (w + h - 2)], 2).astype(np.uint8)


def good_png() -> bytes:
    return _encode(Image.fromarray(pattern()), "PNG")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, height: int, *, depth: int, colour: int, row: bytes) -> bytes:
    """A PNG written by hand with every row equal to ``row`` (compressed row by row: cheap for huge sizes)."""
    comp, body = zlib.compressobj(9), bytearray()
    per_block = max(1, 2_000_000 // (len(row) + 1))  # compress ~2 MB of rows per call
    block = (b"\x00" + row) * per_block
    for start in range(0, height, per_block):
        body += comp.compress(block if height - start >= per_block else block[: (height - start) * (len(row) + 1)])
    body += comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", bytes(body)) + _chunk(b"IEND", b"")


@cache
def png_bomb() -> bytes:
    """20000 x 20000 1-bit PNG: ~50 KB of file, 400 megapixels once decoded."""
    return _png(20000, 20000, depth=1, colour=0, row=bytes(2500))


def jpeg_header_bomb() -> bytes:
    """A real small JPEG whose frame header claims 60000 x 60000 pixels."""
    data = bytearray(_encode(Image.fromarray(pattern(16, 16)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", 60000, 60000)
    return bytes(data)


def gif_screen_bomb() -> bytes:
    """A GIF whose logical screen claims 65535 x 65535 pixels."""
    data = bytearray(_encode(Image.fromarray(pattern(8, 8)).convert("P"), "GIF"))
    data[6:10] = struct.pack("<HH", 65535, 65535)
    return bytes(data)


def png_bad_idat() -> bytes:
    """A PNG whose compressed pixel data is garbage (right sizes, CRCs recomputed)."""
    ihdr = struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"\x78\x9c" + b"\xff" * 64)
            + _chunk(b"IEND", b""))


def png_16bit_gray() -> bytes:
    """16-bit grayscale ramp; full white is 65535 and must become 255 (scaled, not clipped)."""
    values = np.linspace(0, 65535, 32).astype(">u2")
    return _png(32, 8, depth=16, colour=0, row=values.tobytes())


def png_16bit_rgb() -> bytes:
    values = np.repeat(np.linspace(0, 65535, 24).astype(">u2")[:, None], 3, axis=1)
    return _png(24, 6, depth=16, colour=2, row=values.tobytes())


def cmyk_jpeg() -> bytes:
    return _encode(Image.fromarray(pattern()).convert("CMYK"), "JPEG")


def palette_transparent_png() -> bytes:
    """A palette PNG whose index 0 is fully transparent (must become white, not black)."""
    im = Image.new("P", (16, 16), 0)
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * (254 * 3))
    im.paste(1, (4, 4, 12, 12))
    return _encode(im, "PNG", transparency=0)


def la_png() -> bytes:
    alpha = np.zeros((12, 12), np.uint8)
    alpha[3:9, 3:9] = 255
    return _encode(Image.merge("LA", [Image.new("L", (12, 12), 0), Image.fromarray(alpha)]), "PNG")


def exif_rotated_jpeg() -> bytes:
    """A 40 (wide) x 20 (high) JPEG tagged orientation 6: shown 20 wide x 40 high."""
    im = Image.fromarray(pattern(20, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    return _encode(im, "JPEG", exif=exif.tobytes())


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (10, 10), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    return _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)


def float_tiff() -> bytes:
    return _encode(Image.fromarray(np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8), mode="F"), "TIFF")


def one_pixel() -> bytes:
    return _encode(Image.new("RGB", (1, 1), (200, 10, 10)), "PNG")


def line_1x20000() -> bytes:
    return _png(20000, 1, depth=8, colour=0, row=bytes(range(256)) * 78 + bytes(32))


def column_20000x1() -> bytes:
    return _png(1, 20000, depth=8, colour=0, row=b"\x80")


IMAGES = [
    Case("text_named_png", "image", lambda: b"This is a plain text file renamed to picture.png\n" * 4,
         "images.error.not_image"),
    Case("pdf_named_jpg", "image", lambda: b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n",
         "images.error.not_image"),
    Case("svg_named_png", "image", lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>',
         "images.error.not_image"),
    Case("zip_named_png", "image", lambda: b"PK\x03\x04" + bytes(60), "images.error.not_image"),
    Case("empty", "image", lambda: b"", "images.error.empty"),
    Case("png_signature_only", "image", lambda: b"\x89PNG\r\n\x1a\n", ("images.error.corrupt", "images.error.not_image")),
    Case("truncated_jpeg", "image", truncated_jpeg, "images.error.corrupt"),
    Case("truncated_png", "image", truncated_png, "images.error.corrupt"),
    Case("png_garbage_pixels", "image", png_bad_idat, "images.error.corrupt"),
    Case("png_bomb_20000x20000", "image", png_bomb, "images.error.too_many_pixels"),
    Case("jpeg_header_bomb", "image", jpeg_header_bomb, "images.error.too_many_pixels"),
    Case("gif_screen_bomb", "image", gif_screen_bomb, ("images.error.too_many_pixels", "images.error.corrupt")),
    Case("one_pixel", "image", one_pixel, "images.error.too_small"),
    Case("line_1x20000", "image", line_1x20000, "images.error.too_small"),
    Case("column_20000x1", "image", column_20000x1, "images.error.too_small"),
    # odd but valid: must be accepted and decoded correctly
    Case("png_16bit_gray", "image", png_16bit_gray, None),
    Case("png_16bit_rgb", "image", png_16bit_rgb, None),
    Case("cmyk_jpeg", "image", cmyk_jpeg, None),
    Case("palette_transparency", "image", palette_transparent_png, None),
    Case("gray_alpha", "image", la_png, None),
    Case("exif_rotated", "image", exif_rotated_jpeg, None),
    Case("animated_gif", "image", animated_gif, None),
    Case("float_tiff", "image", float_tiff, None),
]

# ---------------------------------------------------------------- kernels (text typed into the kernel lab)

KERNELS = [
    Case("kernel_blank_cell", "kernel", lambda: "1 0 1\n1  1\n1 0 1", "kernels.error.cell_blank"),
    Case("kernel_nan_cell", "kernel", lambda: "1 0 1\n1 nan 1\n1 0 1", "kernels.error.cell_nan"),
    Case("kernel_inf_cell", "kernel", lambda: "1 0 inf\n1 0 1\n1 0 1", "kernels.error.cell_too_large"),
    Case("kernel_huge_cell", "kernel", lambda: "1 0 1e300\n1 0 1\n1 0 1", "kernels.error.cell_too_large"),
    Case("kernel_word_cell", "kernel", lambda: "1 0 1\n1 zero 1\n1 0 1", "kernels.error.cell_not_number"),
    Case("kernel_12x12", "kernel", lambda: "\n".join(" ".join(["1"] * 12) for _ in range(12)),
         "kernels.error.kernel_size"),
    Case("kernel_ragged", "kernel", lambda: "1 2 3\n4\n5 6", "kernels.error.cell_blank"),
]

# ---------------------------------------------------------------- shapes (impossible layer configurations)

SHAPES = [
    Case("shape_kernel_bigger_than_input", "shape", lambda: {"n": 3, "kernel": 7}, "shapes.err.window"),
    Case("shape_stride_zero", "shape", lambda: {"n": 28, "kernel": 3, "stride": 0}, "shapes.err.stride"),
    Case("shape_negative_padding", "shape", lambda: {"n": 28, "kernel": 3, "padding": -2}, "shapes.err.padding"),
    Case("shape_zero_input", "shape", lambda: {"n": 0, "kernel": 3}, "shapes.err.size"),
    Case("shape_absurd_input", "shape", lambda: {"n": 10**9, "kernel": 3}, "shapes.err.size_too_large"),
    Case("shape_padding_text", "shape", lambda: {"text": "two"}, "shapes.err.not_integer"),
    Case("shape_linear_before_flatten", "shape",
         lambda: {"records": [{"kind": "conv", "out": 4, "kernel": "3"}, {"kind": "linear", "out": 10}],
                  "input": (1, 28, 28)}, "shapes.err.linear_needs_flatten"),
    Case("shape_unknown_layer", "shape", lambda: {"records": [{"kind": "transformer", "out": 4}],
                                                  "input": (1, 28, 28)}, "shapes.err.unknown_kind"),
    Case("shape_network_shrinks_to_nothing", "shape",
         lambda: {"records": [{"kind": "conv", "out": 4, "kernel": "5"}] * 8, "input": (1, 28, 28)},
         "shapes.err.window"),
]

# ---------------------------------------------------------------- backprop (6x6 X, 3x3 W1, 1x4 W2 texts)

BACKPROP = [
    Case("bp_empty_x", "backprop", lambda: ("X", (6, 6), "   \n  "), "backprop.error.empty"),
    Case("bp_nan_x", "backprop", lambda: ("X", (6, 6), "\n".join(["1 2 3 4 5 nan"] * 6)),
         "backprop.error.not_finite_cell"),
    Case("bp_overflow_w1", "backprop", lambda: ("W1", (3, 3), "1e999 0 0\n0 0 0\n0 0 0"),
         "backprop.error.not_finite_cell"),
    Case("bp_word_w2", "backprop", lambda: ("W2", (1, 4), "1 two 3 4"), "backprop.error.not_number"),
    Case("bp_wrong_shape_x", "backprop", lambda: ("X", (6, 6), "\n".join(["1 2 3 4 5 6"] * 5)),
         "backprop.error.shape"),
    Case("bp_ragged_w1", "backprop", lambda: ("W1", (3, 3), "1 0 0\n0 1\n0 0 1"), "backprop.error.shape"),
]

# ---------------------------------------------------------------- digits (drawn canvas / arrays)

DIGITS = [
    Case("canvas_blank_white", "digit", lambda: np.full((280, 280, 4), 255, np.uint8), "activations.error.blank"),
    Case("canvas_blank_transparent", "digit", lambda: np.zeros((280, 280, 4), np.uint8), "activations.error.blank"),
    Case("canvas_all_black", "digit", lambda: np.zeros((280, 280, 3), np.uint8), "activations.error.blank"),
    Case("canvas_faint_noise", "digit",
         lambda: (250 + np.random.default_rng(0).integers(0, 5, (280, 280))).astype(np.uint8),
         "activations.error.blank"),
    Case("canvas_nan", "digit", lambda: np.full((28, 28), np.nan, np.float32), "activations.error.blank"),
    Case("canvas_empty_array", "digit", lambda: np.zeros((0, 0), np.uint8), "activations.error.shape"),
    Case("canvas_two_channels", "digit", lambda: np.zeros((28, 28, 2), np.uint8), "activations.error.shape"),
]

# ---------------------------------------------------------------- checkpoints


class Payload:
    """Unpickling this runs ``touch MARKER``: a loader that executes pickled code would create the file."""

    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


def _torch_save(obj: Any) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _state(model: str = "seed_cnn") -> dict:
    import torch

    from explorer.core.models import build_model

    return build_model(model, generator=torch.Generator().manual_seed(1)).state_dict()


@cache
def good_checkpoint() -> bytes:
    from explorer.training import save_checkpoint

    return save_checkpoint(_state(), model="seed_cnn")


def _changed(change: Callable[[dict], None]) -> bytes:
    state = _state()
    change(state)
    return _torch_save(state)


def _safetensors_lying_header() -> bytes:
    header = json.dumps({"w": {"dtype": "F32", "shape": [100000, 100000], "data_offsets": [0, 40_000_000_000]}})
    raw = header.encode()
    return struct.pack("<Q", len(raw)) + raw + bytes(16)


def _sparse(state: dict) -> None:
    state["classifier.1.weight"] = state["classifier.1.weight"].to_sparse()


def _nan(state: dict) -> None:
    state["features.0.weight"][0, 0, 0, 0] = float("nan")


CHECKPOINTS = [
    Case("ckpt_pickled_os_system", "checkpoint", lambda: _torch_save({"state_dict": Payload()}), "train.ckpt.code"),
    Case("ckpt_plain_pickle_os_system", "checkpoint", lambda: pickle.dumps(Payload(), protocol=2), "train.ckpt.code"),
    Case("ckpt_empty", "checkpoint", lambda: b"", "train.ckpt.corrupt"),
    Case("ckpt_garbage", "checkpoint", lambda: b"\x00not a checkpoint" * 64, "train.ckpt.corrupt"),
    Case("ckpt_truncated", "checkpoint", lambda: good_checkpoint()[:2000], "train.ckpt.corrupt"),
    Case("ckpt_image_renamed", "checkpoint", good_png, "train.ckpt.corrupt"),
    Case("ckpt_safetensors_lying_header", "checkpoint", _safetensors_lying_header, "train.ckpt.corrupt"),
    Case("ckpt_other_architecture", "checkpoint", lambda: _torch_save(_state("lenet5")), "train.ckpt.other_model"),
    Case("ckpt_wrong_shape", "checkpoint",
         lambda: _changed(lambda s: s.__setitem__("classifier.1.weight", s["classifier.1.weight"][:, :7].clone())),
         "train.ckpt.shape"),
    Case("ckpt_missing_key", "checkpoint", lambda: _changed(lambda s: s.pop("features.0.bias")), "train.ckpt.keys"),
    Case("ckpt_float64", "checkpoint", lambda: _torch_save({k: v.double() for k, v in _state().items()}),
         "train.ckpt.dtype"),
    Case("ckpt_sparse", "checkpoint", lambda: _changed(_sparse), "train.ckpt.sparse"),
    Case("ckpt_nan_weights", "checkpoint", lambda: _changed(_nan), "train.ckpt.nonfinite"),
    Case("ckpt_list_not_dict", "checkpoint", lambda: _torch_save([1, 2, 3]), "train.ckpt.not_weights"),
]

ALL: list[Case] = IMAGES + KERNELS + SHAPES + BACKPROP + DIGITS + CHECKPOINTS


def by_target(target: str) -> list[Case]:
    return [c for c in ALL if c.target == target]
