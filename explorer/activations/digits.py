"""Your own digit, made to look like MNIST: the preprocessing steps, each kept for display.

`preprocess_digit` follows the recipe MNIST itself was made with: grayscale, white digit on black,
crop to the bounding box, scale the longer side to 20 px keeping the aspect ratio, then centre the
centre of mass in a 28x28 frame. `preprocess_steps` returns every intermediate image for display.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from explorer.core.i18n import UserError
from explorer.core.images import load_image

FRAME = 28  # MNIST frame side
BOX = 20  # MNIST scales the digit's longer side to this
CENTRE = 14.0  # MNIST's mean centre of mass (row, col), measured on the test set
WORK_SIDE = 280  # large inputs are shrunk to this longer side before any other step
MIN_CONTRAST = 0.15  # ink darker/lighter than the background by less than this = nothing there
SPECK_FRACTION = 0.05  # components smaller than this share of the largest are noise
STEP_NAMES = ("gray", "inverted", "contrast", "cropped", "scaled", "centred")
MAX_STROKES = 2  # a handwritten digit is one or two strokes; more separate shapes: maybe not a digit
MIN_INK_AREA = 0.002  # ink on less than this share of the picture: a speck, not a digit
MNIST_MEAN_INK = (0.03, 0.30)  # mean of a 28x28 MNIST digit: 0.034..0.283 over the 1,000 embedded test digits


class DigitError(UserError):
    """A user-facing problem with a digit image: ``key`` is an i18n key, ``params`` its arguments."""


@dataclass(frozen=True)
class Preprocessed:
    """A digit made MNIST-like, with every intermediate image (float32 in [0, 1])."""

    digit: np.ndarray  # (28, 28) the model's input
    steps: dict[str, np.ndarray]  # step name (see STEP_NAMES) -> image after that step
    inverted: bool  # True if the background was light and the image was inverted
    components: int  # digit-sized connected components found (1 for one digit)
    warnings: tuple[str, ...] = field(default=())  # i18n keys: reasons the result may be unreliable


# ---------------------------------------------------------------- preprocessing

def preprocess_digit(image: np.ndarray) -> np.ndarray:
    """``image`` (H, W) or (H, W, 3|4), uint8 or float in [0, 1] -> (28, 28) float32 in [0, 1]."""
    return preprocess_steps(image).digit


def preprocess_steps(image: np.ndarray, *, threshold: float = 0.1) -> Preprocessed:
    """Run the MNIST recipe on ``image`` and keep each step; raise `DigitError` if there is no digit.

    ``threshold``: after the contrast stretch, values below ``max(threshold, Otsu / 2)`` become 0.
    """
    gray = to_gray01(image)
    inverted = bool(np.median(_border(gray)) > 0.5)  # light paper, dark ink: MNIST is the opposite
    ink = 1.0 - gray if inverted else gray
    contrast = _stretch(ink, threshold=threshold)
    mask, components, several = _digit_mask(contrast > 0)
    contrast = np.where(mask, contrast, 0.0).astype(np.float32)
    rows, cols = np.nonzero(contrast)
    cropped = contrast[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    scaled = _scale_longer_side(cropped, BOX)
    centred = _centre_of_mass_frame(scaled, FRAME)
    warnings = _warnings(contrast, centred, components=components, several=several)
    steps = {"gray": gray, "inverted": ink.astype(np.float32), "contrast": contrast,
             "cropped": cropped, "scaled": scaled, "centred": centred}
    return Preprocessed(centred, steps, inverted, components, warnings)


def _warnings(contrast: np.ndarray, digit: np.ndarray, *, components: int, several: bool) -> tuple[str, ...]:
    """Why a result may be unreliable (i18n keys): the input does not look like one MNIST digit."""
    found = []
    if several:
        found.append("activations.warn.several_digits")
    elif components > MAX_STROKES:
        found.append("activations.warn.many_shapes")
    if float((contrast > 0).mean()) < MIN_INK_AREA:
        found.append("activations.warn.little_ink")
    if not MNIST_MEAN_INK[0] <= float(digit.mean()) <= MNIST_MEAN_INK[1]:
        found.append("activations.warn.unlike_mnist")
    return tuple(found)


def to_gray01(image: np.ndarray) -> np.ndarray:
    """Any (H, W[, 1|3|4]) uint8/float image -> (H, W) float32 luma in [0, 1], shrunk to WORK_SIDE.

    Transparency is composited on white (a drawing on a transparent canvas is ink on paper).
    """
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)) or min(a.shape[:2]) < 1:
        raise DigitError("activations.error.shape", shape="x".join(map(str, a.shape)))
    if not np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_:
        a = a.astype(np.float32)
    step = max(1, max(a.shape[:2]) // (4 * WORK_SIDE))  # huge photos: subsample before float copies
    a = a[::step, ::step]
    v = a.astype(np.float32) / 255.0 if np.issubdtype(a.dtype, np.integer) else a.astype(np.float32)
    v = np.nan_to_num(np.clip(v, 0.0, 1.0))
    if v.ndim == 3:
        rgb, alpha = v[:, :, :3], (v[:, :, 3:4] if v.shape[2] == 4 else 1.0)
        v = (rgb * alpha + (1.0 - alpha)) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return _shrink(v.astype(np.float32), WORK_SIDE)


def _border(gray: np.ndarray) -> np.ndarray:
    return np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])


def _stretch(ink: np.ndarray, *, threshold: float) -> np.ndarray:
    """Background to 0, strongest ink to 1; faint values (paper texture, shadows) to 0."""
    background = float(np.median(_border(ink)))
    ink_values = ink[ink > background + MIN_CONTRAST]
    if ink_values.size == 0:
        raise DigitError("activations.error.blank")
    top = float(np.percentile(ink_values, 90))  # typical strong ink, robust to a few hot pixels
    v = np.clip((ink - background) / (top - background), 0.0, 1.0)
    cut = max(threshold, _otsu(v) / 2)
    return np.where(v >= cut, v, 0.0).astype(np.float32)


def _otsu(v: np.ndarray, *, bins: int = 64) -> float:
    """Otsu's threshold of values in [0, 1] (the cut that best separates two classes)."""
    hist, edges = np.histogram(v, bins=bins, range=(0.0, 1.0))
    p = hist / max(hist.sum(), 1)
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(p)
    m0 = np.cumsum(p * centres)
    total = m0[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total * w0 - m0) ** 2 / (w0 * (1 - w0))
    between = np.nan_to_num(between)
    return float(edges[int(np.argmax(between)) + 1])


def connected_components(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """8-connected labelling of a boolean mask: (labels with 0 = background, number of components).

    Works on horizontal runs of pixels (union-find over runs touching in neighbouring rows), so the
    Python loop is per run, not per pixel.
    """
    h, w = mask.shape
    edges = np.diff(np.pad(mask.astype(np.int8), ((0, 0), (1, 1))), axis=1)
    rows, c0 = np.nonzero(edges == 1)  # run starts, row-major order
    _, c1 = np.nonzero(edges == -1)  # run ends (exclusive), same order
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first = np.searchsorted(rows, np.arange(h + 1))  # runs of row r: first[r]:first[r + 1]
    for r in range(1, h):
        a, a_end, b, b_end = first[r - 1], first[r], first[r], first[r + 1]
        while a < a_end and b < b_end:  # two pointers over the runs of rows r-1 and r
            if c0[a] <= c1[b] and c0[b] <= c1[a]:  # overlap or touch diagonally (8-connectivity)
                parent[find(a)] = find(b)
            if c1[a] < c1[b]:
                a += 1
            else:
                b += 1
    roots = [find(i) for i in range(len(rows))]
    ids = {root: k + 1 for k, root in enumerate(dict.fromkeys(roots))}
    labels = np.zeros((h, w), dtype=np.int32)
    for i, root in enumerate(roots):
        labels[rows[i], c0[i]:c1[i]] = ids[root]
    return labels, len(ids)


def _digit_mask(mask: np.ndarray) -> tuple[np.ndarray, int, bool]:
    """Drop specks; count digit-sized components; say whether several digits stand side by side."""
    labels, n = connected_components(mask)
    if n == 0:
        raise DigitError("activations.error.blank")
    sizes = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    keep = np.flatnonzero(sizes >= SPECK_FRACTION * sizes.max()) + 1
    boxes = []
    for lab in keep:
        rows, cols = np.nonzero(labels == lab)
        boxes.append((rows.min(), rows.max(), cols.min(), cols.max()))
    tallest = max(b[1] - b[0] + 1 for b in boxes)
    big = [b for lab, b in zip(keep, boxes)  # digit-sized: at least half as tall as the tallest part
           if b[1] - b[0] + 1 >= 0.5 * tallest and sizes[lab - 1] >= 0.15 * sizes.max()]
    several = any(_side_by_side(a, b) for i, a in enumerate(big) for b in big[i + 1:])
    return np.isin(labels, keep), len(big), several


def _side_by_side(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """Two boxes (r0, r1, c0, c1) whose column ranges overlap by less than a third of the narrower."""
    overlap = min(a[3], b[3]) - max(a[2], b[2]) + 1
    narrower = min(a[3] - a[2], b[3] - b[2]) + 1
    return overlap < narrower / 3


def _resize(v: np.ndarray, size: tuple[int, int], resample: Image.Resampling) -> np.ndarray:
    """Resize a float image to (width, height) with Pillow's float mode."""
    out = Image.fromarray(np.ascontiguousarray(v, dtype=np.float32), mode="F").resize(size, resample)
    return np.asarray(out, dtype=np.float32)


def _shrink(v: np.ndarray, side: int) -> np.ndarray:
    """Area-average ``v`` so its longer side is at most ``side`` (huge photos stay fast)."""
    h, w = v.shape
    if max(h, w) <= side:
        return v
    f = side / max(h, w)
    return _resize(v, (max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.BOX)


def _scale_longer_side(v: np.ndarray, side: int) -> np.ndarray:
    """Scale so the longer side is ``side`` px, aspect kept (anti-aliased); peak back to 1."""
    h, w = v.shape
    f = side / max(h, w)
    size = (max(1, round(w * f)), max(1, round(h * f)))
    resample = Image.Resampling.BOX if f < 1 else Image.Resampling.BILINEAR
    out = np.clip(_resize(v, size, resample), 0.0, 1.0)
    peak = float(out.max())
    return (out / peak if peak > 0 else out).astype(np.float32)


def _centre_of_mass_frame(v: np.ndarray, frame: int) -> np.ndarray:
    """Paste ``v`` into a ``frame`` x ``frame`` black field so its centre of mass sits at CENTRE."""
    h, w = v.shape
    total = float(v.sum())
    rows, cols = np.mgrid[:h, :w]
    com_r, com_c = (float((v * rows).sum()) / total, float((v * cols).sum()) / total)
    top = int(np.clip(round(CENTRE - com_r), 0, frame - h))
    left = int(np.clip(round(CENTRE - com_c), 0, frame - w))
    out = np.zeros((frame, frame), dtype=np.float32)
    out[top:top + h, left:left + w] = v
    return out


def digit_from_upload(data: bytes) -> Preprocessed:
    """Uploaded bytes -> preprocessed digit; `explorer.core.images.ImageError` or `DigitError` if unusable."""
    return preprocess_steps(load_image(data))


def render_strokes(strokes: list[list[list[int]]], *, size: int = 280, width: int = 20) -> np.ndarray:
    """Strokes drawn on a pad ([[x, y], ...] each) as a (size, size) uint8 image: black ink on white,
    round ends and joins, as the pad shows them."""
    image = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(image)
    r = width / 2
    for stroke in strokes:
        points = [(float(x), float(y)) for x, y in stroke]
        if len(points) > 1:
            draw.line(points, fill=0, width=width, joint="curve")
        for x, y in (points[0], points[-1]) if points else ():
            draw.ellipse((x - r, y - r, x + r, y + r), fill=0)
    return np.asarray(image)
