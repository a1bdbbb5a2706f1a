"""Photos, not only digits: a torchvision ImageNet model's first-layer responses and top-5 classes.

Weights are used only if they are already in the torch hub cache (``torch.hub.get_dir()/checkpoints``,
where torchvision keeps them) or if `download_weights` fetches them; offline the page says so and
points to the kernel lab. Loading is weights-only with strict key/shape checks.
"""

from __future__ import annotations

import hashlib
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision import models
from torchvision.transforms import functional as TF

from explorer.activations.inside import load_state_dict_checked
from explorer.core.i18n import UserError

ARCHS: dict[str, str] = {"alexnet": "AlexNet", "resnet18": "ResNet-18"}  # name -> display name
DOWNLOAD_TIMEOUT_S = 10.0


class WeightsError(UserError):
    """A user-facing problem with ImageNet weights: ``key`` is an i18n key, ``params`` its arguments."""


def _weights(arch: str) -> models.WeightsEnum:
    if arch not in ARCHS:
        raise ValueError(f"unknown architecture {arch!r}; expected one of {sorted(ARCHS)}")
    return models.get_model_weights(arch).DEFAULT


def weights_path(arch: str) -> Path:
    """Where torchvision keeps ``arch``'s ImageNet weights: <hub dir>/checkpoints/<file of its URL>."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(_weights(arch).url).name


def cached_archs() -> list[str]:
    """Architectures whose weights are already in the hub cache (no network needed)."""
    return [arch for arch in ARCHS if weights_path(arch).is_file()]


def download_size_mb(arch: str) -> float:
    """Size of ``arch``'s weight file in MB (from torchvision's metadata)."""
    return float(_weights(arch).meta.get("_file_size", 0.0))


def categories(arch: str) -> list[str]:
    """The 1,000 ImageNet class names, in the model's output order."""
    return list(_weights(arch).meta["categories"])


def load_imagenet_model(arch: str) -> nn.Module:
    """``arch`` with its cached ImageNet weights (eval, CPU), or `WeightsError` if not cached/damaged."""
    path = weights_path(arch)
    if not path.is_file():
        raise WeightsError("activations.imagenet.not_cached", arch=ARCHS[arch], path=str(path))
    model = models.get_model(arch, weights=None)
    try:
        return load_state_dict_checked(model, path)
    except Exception:  # unpickling refusals, zip errors, wrong keys: all mean "not these weights"
        raise WeightsError("activations.imagenet.damaged", path=str(path)) from None


def download_weights(arch: str, *, timeout: float = DOWNLOAD_TIMEOUT_S) -> Path:
    """Fetch ``arch``'s weights into the hub cache (hash prefix checked); `WeightsError` if offline."""
    url, path = _weights(arch).url, weights_path(arch)
    part = path.with_suffix(".part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with urllib.request.urlopen(url, timeout=timeout) as response, open(part, "wb") as out:
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
    except OSError:
        part.unlink(missing_ok=True)
        raise WeightsError("activations.imagenet.offline", arch=ARCHS[arch]) from None
    expected = path.stem.rsplit("-", 1)[-1]  # torchvision names files <name>-<sha256 prefix>.pth
    if not digest.hexdigest().startswith(expected):
        part.unlink(missing_ok=True)
        raise WeightsError("activations.imagenet.damaged", path=str(path))
    part.replace(path)
    return path


@dataclass(frozen=True)
class PhotoResult:
    """What an ImageNet model makes of one photo."""

    top5: list[tuple[str, float]]  # (class name, probability), best first
    responses: torch.Tensor  # (C, h, w) first conv layer's output (before ReLU)
    filters: torch.Tensor  # (C, 3, k, k) first conv layer's weights
    input_image: np.ndarray  # (224, 224, 3) uint8: the centre crop the model saw


def to_model_input(rgb: np.ndarray) -> tuple[torch.Tensor, np.ndarray]:
    """(H, W, 3) uint8 -> ImageNet input (1, 3, 224, 224) normalised, and the crop as uint8."""
    x = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)  # (3, H, W) uint8
    x = TF.center_crop(TF.resize(x, [256], antialias=True), [224, 224])
    crop = x.permute(1, 2, 0).numpy().copy()
    x = TF.normalize(x.float() / 255, mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
    return x.unsqueeze(0), crop


def classify_photo(model: nn.Module, rgb: np.ndarray, labels: list[str]) -> PhotoResult:
    """Top-5 classes and the first conv layer's responses for an RGB photo."""
    conv = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    x, crop = to_model_input(rgb)
    with torch.no_grad():  # no hooks: the cached model may be shared by several sessions at once
        probs = F.softmax(model(x), dim=1)[0]
        responses = conv(x)[0]
    p, idx = probs.topk(5)
    top5 = [(labels[int(i)], float(v)) for v, i in zip(p, idx)]
    return PhotoResult(top5, responses, conv.weight.detach().clone(), crop)
