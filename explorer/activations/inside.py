"""Looking inside a digit model: feature maps, per-layer statistics, the prediction, Grad-CAM and
saliency (which pixels drove it), learned filters vs the Kernel lab's presets, and the bundled model."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from explorer.core.models import SeedCNN, build_model, layer_kind, numbered

ASSETS = Path(__file__).parents[1] / "assets"
BUNDLED_WEIGHTS = ASSETS / "seed_cnn.pt"
BUNDLED_INFO = ASSETS / "seed_cnn.json"  # test accuracy and how the weights were made


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


def layer_labels(model: nn.Module) -> dict[str, str]:
    """Layer name -> short id numbered per kind: "conv1", "act1", "pool1", "conv2", ... (`numbered`)."""
    layers = feature_layers(model)
    return {name: f"{kind}{n}" for name, (kind, n) in zip(layers, numbered(layers.values()))}


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


def snapshot_model(run: object) -> nn.Module:
    """A CPU, eval-mode model with the latest weights of a training (an `explorer.training.Runner`, or
    anything with ``.config.model`` and ``.state_dict()``)."""
    model = build_model(run.config.model, generator=torch.Generator())  # type: ignore[attr-defined]
    model.load_state_dict(run.state_dict(), strict=True)  # type: ignore[attr-defined]
    return model.eval()


