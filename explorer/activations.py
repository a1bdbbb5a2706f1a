"""Your own digit through the network: MNIST-style preprocessing, feature maps, Grad-CAM, statistics.

`preprocess_digit` follows the recipe MNIST itself was made with: grayscale, white digit on black,
crop to the bounding box, scale the longer side to 20 px keeping the aspect ratio, then centre the
centre of mass in a 28x28 frame. `preprocess_steps` returns every intermediate image for display.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from explorer.models import SeedCNN
from explorer.i18n import UserError

ASSETS = Path(__file__).parent / "assets"
BUNDLED_WEIGHTS = ASSETS / "seed_cnn.pt"
BUNDLED_INFO = ASSETS / "seed_cnn.json"  # test accuracy and how the weights were made

FRAME = 28  # MNIST frame side
BOX = 20  # MNIST scales the digit's longer side to this
CENTRE = 14.0  # MNIST's mean centre of mass (row, col), measured on the test set
WORK_SIDE = 280  # large inputs are shrunk to this longer side before any other step
MIN_CONTRAST = 0.15  # ink darker/lighter than the background by less than this = nothing there
SPECK_FRACTION = 0.05  # components smaller than this share of the largest are noise
STEP_NAMES = ("gray", "inverted", "contrast", "cropped", "scaled", "centred")


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
    warnings = ("activations.warn.several_digits",) if several else ()
    steps = {"gray": gray, "inverted": ink.astype(np.float32), "contrast": contrast,
             "cropped": cropped, "scaled": scaled, "centred": centred}
    return Preprocessed(centred, steps, inverted, components, warnings)


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


# ---------------------------------------------------------------- looking inside a model

def to_input(digit: np.ndarray) -> torch.Tensor:
    """(28, 28) array -> (1, 1, 28, 28) float32 tensor."""
    return torch.as_tensor(np.asarray(digit, dtype=np.float32)).reshape(1, 1, *np.shape(digit))


def feature_layers(model: nn.Module) -> dict[str, nn.Module]:
    """Layers whose outputs are shown: every leaf of ``model.features`` (else every conv/pool/act)."""
    root = getattr(model, "features", model)
    prefix = "features." if root is not model else ""
    wanted = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.ReLU, nn.Tanh, nn.Sigmoid)
    return {f"{prefix}{name}": m for name, m in root.named_modules()
            if name and not list(m.children()) and (root is not model or isinstance(m, wanted))}


# Hooks live on the model itself: a model shared between sessions (threads) must not see two sets
# of hooks at once, or one session would read another's activations.
_HOOKS = threading.Lock()


def feature_maps(model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Layer name -> its activation for input ``x`` (B, C, H, W), collected with forward hooks."""
    out: dict[str, torch.Tensor] = {}
    with _HOOKS:
        handles = [m.register_forward_hook(lambda _m, _i, o, name=name: out.__setitem__(name, o.detach()))
                   for name, m in feature_layers(model).items()]
        try:
            with torch.no_grad():
                model(x)
        finally:
            for h in handles:
                h.remove()
    return out


def layer_kind(module: nn.Module) -> str:
    """"conv", "pool", "act" or "other" (for labels: conv1, pool1, ...)."""
    if isinstance(module, nn.Conv2d):
        return "conv"
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        return "pool"
    if isinstance(module, (nn.ReLU, nn.Tanh, nn.Sigmoid)):
        return "act"
    return "other"


def layer_labels(model: nn.Module) -> dict[str, str]:
    """Layer name -> short label numbered per kind: "conv1", "act1", "pool1", "conv2", ..."""
    counts: dict[str, int] = {}
    labels = {}
    for name, m in feature_layers(model).items():
        kind = layer_kind(m)
        counts[kind] = counts.get(kind, 0) + 1
        labels[name] = f"{kind}{counts[kind]}"
    return labels


def predict(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    """Class probabilities (softmax) for one input (1, C, H, W) -> (classes,) float64."""
    with torch.no_grad():
        return torch.softmax(model(x), dim=1)[0].double().numpy()


@dataclass(frozen=True)
class LayerStats:
    """Summary of one layer's activation (one input)."""

    name: str
    shape: tuple[int, ...]  # (C, H, W)
    mean: float
    std: float
    min: float
    max: float
    zero_fraction: float  # share of exactly-zero values (ReLU sparsity)
    dead_channels: int  # channels that are zero everywhere


def layer_stats(maps: Mapping[str, torch.Tensor]) -> list[LayerStats]:
    """Per-layer statistics of the first item of each activation batch."""
    rows = []
    for name, a in maps.items():
        v = a[0].double()
        rows.append(LayerStats(name, tuple(v.shape), float(v.mean()), float(v.std(unbiased=False)),
                               float(v.min()), float(v.max()), float((v == 0).double().mean()),
                               int((v.flatten(1).abs().amax(1) == 0).sum()) if v.ndim == 3 else 0))
    return rows


# ---------------------------------------------------------------- which pixels drove the prediction

def gradcam_layer(model: nn.Module) -> str:
    """Default Grad-CAM layer: the activation after the last conv (or the conv itself)."""
    layers = list(feature_layers(model).items())
    last = max(i for i, (_, m) in enumerate(layers) if isinstance(m, nn.Conv2d))
    if last + 1 < len(layers) and layer_kind(layers[last + 1][1]) == "act":
        return layers[last + 1][0]
    return layers[last][0]


def grad_cam(model: nn.Module, x: torch.Tensor, *, target: int | None = None,
             layer: str | None = None) -> np.ndarray:
    """Grad-CAM (Selvaraju et al. 2017) for one input (1, C, H, W) -> (H, W) float32 in [0, 1].

    Weights = gradient of the ``target`` class score (default: the predicted class) w.r.t. the
    layer's activation A, averaged over space; map = ReLU(sum_k w_k A_k), upsampled to the input.
    """
    module = dict(model.named_modules())[layer or gradcam_layer(model)]
    store: dict[str, torch.Tensor] = {}
    x = x.detach().clone().requires_grad_(True)  # a graph even when the weights are frozen
    with _HOOKS:
        handle = module.register_forward_hook(lambda _m, _i, o: store.__setitem__("a", o))
        try:
            with torch.enable_grad():
                logits = model(x)
                cls = int(logits[0].argmax()) if target is None else target
                (grad,) = torch.autograd.grad(logits[0, cls], store["a"])
        finally:
            handle.remove()
    a = store["a"].detach()  # (1, K, h, w)
    weights = grad.mean(dim=(2, 3), keepdim=True)  # (1, K, 1, 1)
    cam = F.relu((weights * a).sum(dim=1, keepdim=True))  # (1, 1, h, w)
    cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
    peak = float(cam.max())
    return (cam / peak if peak > 0 else cam).numpy().astype(np.float32)


def saliency(model: nn.Module, x: torch.Tensor, *, target: int | None = None) -> np.ndarray:
    """|d score / d input| (max over channels) for one input -> (H, W) float32 in [0, 1]."""
    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        logits = model(x)
        cls = int(logits[0].argmax()) if target is None else target
        (grad,) = torch.autograd.grad(logits[0, cls], x)
    s = grad[0].abs().amax(dim=0)
    peak = float(s.max())
    return (s / peak if peak > 0 else s).numpy().astype(np.float32)


# ---------------------------------------------------------------- learned vs hand-made filters

def first_conv(model: nn.Module) -> nn.Conv2d:
    """The first Conv2d layer of ``model``."""
    return next(m for m in model.modules() if isinstance(m, nn.Conv2d))


def _resize_kernel(k: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if k.shape == size:
        return k.astype(np.float64)
    t = torch.as_tensor(k, dtype=torch.float64)[None, None]
    return F.interpolate(t, size=size, mode="bilinear", align_corners=True)[0, 0].numpy()


def closest_presets(filters: np.ndarray, presets: Mapping[str, np.ndarray]) -> list[tuple[str, float]]:
    """For each filter (N, kh, kw): the preset with the largest |cosine similarity| and that cosine.

    Presets are resized (bilinear) to the filter's size; a negative cosine means "the preset, flipped
    in sign" (a learned -Sobel-x is still an edge detector).
    """
    size = tuple(filters.shape[1:])
    names = list(presets)
    bank = np.stack([_resize_kernel(np.asarray(presets[n], dtype=np.float64), size).ravel()
                     for n in names])  # (P, kh*kw)
    bank /= np.maximum(np.linalg.norm(bank, axis=1, keepdims=True), 1e-12)
    flat = filters.reshape(len(filters), -1).astype(np.float64)
    flat /= np.maximum(np.linalg.norm(flat, axis=1, keepdims=True), 1e-12)
    cos = flat @ bank.T  # (N, P)
    best = np.abs(cos).argmax(axis=1)
    return [(names[j], float(cos[i, j])) for i, j in enumerate(best)]


# ---------------------------------------------------------------- the bundled model

def bundled_info() -> dict:
    """What ``scripts/train_bundled_model.py`` recorded: test accuracy, seed, epochs, ..."""
    return json.loads(BUNDLED_INFO.read_text(encoding="utf-8"))


def load_state_dict_checked(model: nn.Module, path: Path) -> nn.Module:
    """Load a plain state_dict file into ``model`` safely (weights only, keys/shapes/dtypes checked)."""
    state = torch.load(path, weights_only=True, map_location="cpu")
    if not isinstance(state, dict):
        raise ValueError(f"{path}: expected a state_dict, got {type(state).__name__}")
    expected = model.state_dict()
    if set(state) != set(expected):
        raise ValueError(f"{path}: keys differ from {type(model).__name__}")
    for key, value in state.items():
        ref = expected[key]
        if (not isinstance(value, torch.Tensor) or value.shape != ref.shape or value.dtype != ref.dtype
                or value.layout != torch.strided):
            raise ValueError(f"{path}: {key} has the wrong shape, dtype or layout")
    model.load_state_dict(state, strict=True)
    return model.eval()


def load_bundled_model() -> nn.Module:
    """The pre-trained SeedCNN shipped in explorer/assets (eval mode, CPU)."""
    return load_state_dict_checked(SeedCNN(), BUNDLED_WEIGHTS)


def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, *, batch: int = 500) -> float:
    """Share of ``images`` (N, 1, 28, 28) the model classifies as ``labels``."""
    correct = 0
    with torch.no_grad():
        for i in range(0, len(images), batch):
            correct += int((model(images[i:i + batch]).argmax(1) == labels[i:i + batch]).sum())
    return correct / max(len(images), 1)


def snapshot_model(trainer: object) -> nn.Module:
    """A CPU, eval-mode copy of a `explorer.training.Trainer`'s weights after its last completed step."""
    from explorer.models import build_model

    model = build_model(trainer.config.model, generator=torch.Generator())  # type: ignore[attr-defined]
    model.load_state_dict(trainer.state_dict(), strict=True)  # type: ignore[attr-defined]
    return model.eval()


def digit_from_upload(data: bytes) -> Preprocessed:
    """Uploaded bytes -> preprocessed digit; `explorer.images.ImageError` or `DigitError` if unusable."""
    from explorer.images import load_image

    return preprocess_steps(load_image(data))
