"""What every view of "Inside the trained network" shares: the wing's error type, input checks, a private
copy of a model (no shared hooks, no shared gradients), layers found by name, and a model fingerprint.

A model here is anything with ``features``/``classifier`` ``nn.Sequential``s (the lectures' CNNs, the
Train page's model, a builder model) taking (B, C, H, W) images in [0, 1] and returning (B, K) logits;
MNIST (1, 28, 28) and 10 classes are the default case, but nothing here assumes them.
"""

from __future__ import annotations

import copy
import hashlib
import math

import numpy as np
import torch
from torch import nn

from explorer.core.i18n import UserError

MAX_PIXELS = 3 * 512 * 512  # largest C*H*W accepted for one image (a builder's own colour images fit)
MAX_IMAGES = 20_000  # largest batch of images one call takes (the full MNIST test set is 10,000)
ACTIVATIONS = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid)
_HOOK_DICTS = ("_forward_hooks", "_forward_hooks_with_kwargs", "_forward_hooks_always_called",
               "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_backward_hooks", "_backward_pre_hooks")


class InterpretError(UserError):
    """A user-facing problem in the interpret wing: an i18n key ``interpret.error.*`` and its arguments."""


# ---------------------------------------------------------------- inputs

def _as_tensor(value: object, name: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        t = value.detach()
    else:
        try:
            t = torch.as_tensor(np.asarray(value, dtype=np.float64))
        except (TypeError, ValueError):
            raise InterpretError("interpret.error.not_numbers", name=name) from None
    if t.dtype == torch.bool or t.is_complex() or not (t.is_floating_point() or t.dtype in (
            torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)):
        raise InterpretError("interpret.error.not_numbers", name=name)
    return t.to(torch.float32)


def _check_values(t: torch.Tensor, name: str) -> torch.Tensor:
    if t.numel() == 0:
        raise InterpretError("interpret.error.empty", name=name)
    if not bool(torch.isfinite(t).all()):
        raise InterpretError("interpret.error.not_finite", name=name)
    low, high = float(t.min()), float(t.max())
    if low < 0 or high > 1:
        raise InterpretError("interpret.error.range", name=name, low=f"{low:.3g}", high=f"{high:.3g}")
    return t.contiguous()


def check_image(image: object, *, name: str = "image") -> torch.Tensor:
    """One image as (1, C, H, W) float32 in [0, 1]; (H, W), (C, H, W) and (1, C, H, W) are accepted."""
    t = _as_tensor(image, name)
    if t.ndim == 2:
        t = t[None, None]
    elif t.ndim == 3:
        t = t[None]
    if t.ndim != 4 or t.shape[0] != 1:
        raise InterpretError("interpret.error.image_shape", name=name, shape=str(tuple(image_shape(image))))
    if t[0].numel() > MAX_PIXELS:
        raise InterpretError("interpret.error.too_big", name=name, size=t[0].numel(), limit=MAX_PIXELS)
    return _check_values(t, name)


def check_images(images: object, *, name: str = "images") -> torch.Tensor:
    """A batch of images as (N, C, H, W) float32 in [0, 1]; (N, H, W) is read as N one-channel images."""
    t = _as_tensor(images, name)
    if t.ndim == 3:
        t = t[:, None]
    if t.ndim != 4:
        raise InterpretError("interpret.error.images_shape", name=name, shape=str(tuple(t.shape)))
    if len(t) > MAX_IMAGES:
        raise InterpretError("interpret.error.too_many", name=name, count=len(t), limit=MAX_IMAGES)
    if len(t) and t[0].numel() > MAX_PIXELS:
        raise InterpretError("interpret.error.too_big", name=name, size=t[0].numel(), limit=MAX_PIXELS)
    return _check_values(t, name)


def image_shape(value: object) -> tuple[int, ...]:
    """The shape of an array-like, for messages."""
    return tuple(value.shape) if hasattr(value, "shape") else tuple(np.shape(value))


def check_count(value: object, *, name: str, low: int, high: int) -> int:
    """An integer in [low, high], else InterpretError ``interpret.error.integer``."""
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool) and low <= int(value) <= high
    if not ok:
        raise InterpretError("interpret.error.integer", name=name, value=str(value), low=low, high=high)
    return int(value)


def check_number(value: object, *, name: str, low: float, high: float) -> float:
    """A finite real number in [low, high], else InterpretError ``interpret.error.number``."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not math.isfinite(float(value)) or not low <= float(value) <= high:
        raise InterpretError("interpret.error.number", name=name, value=str(value), low=low, high=high)
    return float(value)


# ---------------------------------------------------------------- the model

def private_copy(model: nn.Module) -> nn.Module:
    """A CPU copy in eval mode with frozen weights and none of the original's hooks.

    Another session may hold hooks on a shared model at this very moment: the copy starts with empty
    hook tables (so it never writes into someone else's dictionary, and it pickles for a worker).
    """
    memo: dict[int, object] = {}
    for m in model.modules():
        for attr in _HOOK_DICTS:
            table = getattr(m, attr, None)
            if table is not None:
                memo[id(table)] = type(table)()
    clone = copy.deepcopy(model, memo)
    return clone.cpu().eval().requires_grad_(False)


def logits(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``model(x)`` as (B, K), or InterpretError when the model cannot take this input's shape."""
    try:
        out = model(x)
    except RuntimeError as err:
        raise InterpretError("interpret.error.model_input", shape=str(tuple(x.shape[1:]))) from err
    if out.ndim != 2 or out.shape[0] != x.shape[0]:
        raise InterpretError("interpret.error.model_output", shape=str(tuple(out.shape)))
    return out


def check_target(target: object, classes: int, *, name: str = "target") -> int:
    """A class index in [0, classes)."""
    return check_count(target, name=name, low=0, high=classes - 1)


def find_layer(model: nn.Module, name: str) -> nn.Module:
    """The module called ``name`` in ``model.named_modules()`` (e.g. "features.0")."""
    modules = dict(model.named_modules())
    if not isinstance(name, str) or not name or name not in modules:
        raise InterpretError("interpret.error.layer", layer=str(name), known=", ".join(conv_layers(model)))
    return modules[name]


def conv_layers(model: nn.Module) -> list[str]:
    """Names of every Conv2d, in forward order."""
    return [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def cam_layers(model: nn.Module) -> list[str]:
    """One Grad-CAM layer per conv: the activation right after it in its Sequential, else the conv itself
    (the feature map a student sees is the one after the activation)."""
    found = []
    for parent_name, parent in model.named_modules():
        children = list(parent.named_children())
        for i, (name, child) in enumerate(children):
            if not isinstance(child, nn.Conv2d):
                continue
            after = children[i + 1] if i + 1 < len(children) else None
            pick = after[0] if after is not None and isinstance(after[1], ACTIVATIONS) else name
            found.append(f"{parent_name}.{pick}" if parent_name else pick)
    return found


def last_linear(model: nn.Module) -> tuple[str, nn.Linear]:
    """The classifier's last Linear layer (the one that scores the classes)."""
    root = getattr(model, "classifier", model)
    prefix = "classifier." if root is not model else ""
    linears = [(prefix + name, m) for name, m in root.named_modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise InterpretError("interpret.error.no_linear")
    return linears[-1]


def fingerprint(model: nn.Module) -> str:
    """A short hash of the architecture and every weight: the key to cache results per model."""
    h = hashlib.sha256(repr(model).encode())
    for name, value in model.state_dict().items():
        h.update(name.encode())
        h.update(str(tuple(value.shape)).encode())
        h.update(value.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]
