"""Which pixels drove the prediction: Grad-CAM at every conv layer, saliency, occlusion and integrated
gradients side by side, all computed by captum (PyTorch's interpretability library), and a sanity check.

The sanity check is Adebayo et al.'s model-randomisation test (NeurIPS 2018): re-initialise the last
layer's weights and explain again. A map that shows what the model learned must change (low rank
similarity); a map that stays the same was only showing the input (edges of the digit) and cannot be
trusted to explain this model. The verdict uses the signed maps; the similarity of |map| is reported
too: for integrated gradients and occlusion on MNIST it stays high (~0.95 on the bundled model) because
every black background pixel gets exactly 0 in both maps, so |map| mostly outlines the digit's ink,
while the signed maps (which pixels speak for the class, which against) change completely.

captum is imported on first use (it costs ~0.5 s), so importing the wing stays cheap.
Every function works on a private copy of the model (captum registers hooks; the shared bundled
model must never see them) and takes one image (1, C, H, W) in [0, 1]; maps come back as (H, W)
float32 numpy arrays at the input's resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from explorer.core.models import init_weights
from explorer.interpret.common import (
    InterpretError,
    cam_layers,
    check_count,
    check_image,
    check_target,
    find_layer,
    last_linear,
    logits,
    private_copy,
)

METHODS: tuple[str, ...] = ("gradcam", "saliency", "occlusion", "integrated_gradients")
MAX_IG_STEPS = 1000
IG_BATCH = 64  # images per forward pass inside integrated gradients (bounds memory for big inputs)
OCCLUSION_BATCH = 256  # occluded copies per forward pass


def _prepared(model: nn.Module, image: object, target: object) -> tuple[nn.Module, torch.Tensor, int]:
    """A private copy, the checked image (requiring grad, as captum expects) and the checked target."""
    net = private_copy(model)
    x = check_image(image)
    with torch.no_grad():
        classes = logits(net, x).shape[1]
    return net, x.clone().requires_grad_(True), check_target(target, classes)


def _to_map(attr: torch.Tensor, reduce: str = "sum") -> np.ndarray:
    """(1, C, H, W) -> (H, W): channels summed (or their max), as a float32 numpy array."""
    a = attr.detach()[0]
    a = a.amax(dim=0) if reduce == "max" else a.sum(dim=0)
    return a.numpy().astype(np.float32)


# ---------------------------------------------------------------- the four methods

def saliency(model: nn.Module, image: object, target: int) -> np.ndarray:
    """|d logit_target / d pixel|, the largest over channels (Simonyan et al. 2013): (H, W), not normalised."""
    from captum.attr import Saliency

    net, x, target = _prepared(model, image, target)
    return _to_map(Saliency(net).attribute(x, target=target, abs=True), reduce="max")


def occlusion(model: nn.Module, image: object, target: int, *, window: int = 4, stride: int = 2) -> np.ndarray:
    """How much the target logit drops when a ``window`` x ``window`` patch is set to 0, averaged over the
    patches covering each pixel (captum ``Occlusion``, patches every ``stride`` pixels): (H, W).

    A colour image is occluded in all channels at once (the window spans every channel).
    """
    from captum.attr import Occlusion

    net, x, target = _prepared(model, image, target)
    c, h, w = x.shape[1:]
    window = check_count(window, name="window", low=1, high=min(h, w))
    stride = check_count(stride, name="stride", low=1, high=min(h, w))
    attr = Occlusion(net).attribute(x, sliding_window_shapes=(c, window, window), strides=(c, stride, stride),
                                    baselines=0, target=target, perturbations_per_eval=OCCLUSION_BATCH)
    return _to_map(attr) / c  # every channel holds the same value: keep one


def integrated_gradients(model: nn.Module, image: object, target: int, *, steps: int = 50) -> np.ndarray:
    """Integrated gradients from a black image to ``image`` (Sundararajan et al. 2017), ``steps``-point
    Gauss-Legendre rule (captum): (H, W), channels summed. The map sums to about f(x) - f(black)."""
    from captum.attr import IntegratedGradients

    net, x, target = _prepared(model, image, target)
    steps = check_count(steps, name="steps", low=1, high=MAX_IG_STEPS)
    attr = IntegratedGradients(net).attribute(x, baselines=torch.zeros_like(x), target=target, n_steps=steps,
                                              internal_batch_size=IG_BATCH)
    return _to_map(attr)


def completeness(model: nn.Module, image: object, target: int, attributions: np.ndarray) -> tuple[float, float]:
    """(sum of the attributions, f(x) - f(black) on the target logit): integrated gradients' promise is that
    the two agree; the page shows both."""
    net, x, target = _prepared(model, image, target)
    with torch.no_grad():
        gap = logits(net, x.detach())[0, target] - logits(net, torch.zeros_like(x))[0, target]
    return float(np.asarray(attributions, dtype=np.float64).sum()), float(gap)


def layer_grad_cam(model: nn.Module, image: object, target: int, layer: str, *,
                   upsample: bool = True) -> np.ndarray:
    """Grad-CAM at ``layer`` (captum ``LayerGradCam``, ReLU of the weighted sum of its channels): (h, w) at
    the layer's resolution, or (H, W) bilinearly upsampled to the input's (as the app's own Grad-CAM)."""
    from captum.attr import LayerAttribution, LayerGradCam

    net, x, target = _prepared(model, image, target)
    module = find_layer(net, layer)
    attr = LayerGradCam(net, module).attribute(x, target=target, relu_attributions=True)  # (1, 1, h, w)
    if attr.ndim != 4:
        raise InterpretError("interpret.error.layer_output")
    if upsample:
        attr = LayerAttribution.interpolate(attr, tuple(x.shape[-2:]), interpolate_mode="bilinear")
    return _to_map(attr)


def grad_cam_layers(model: nn.Module, image: object, target: int, *, upsample: bool = True) -> dict[str, np.ndarray]:
    """Grad-CAM at every conv layer (after its activation): layer name -> map. Answers "which layer?":
    early layers see edges at full resolution, the last one sees parts of the digit, coarsely."""
    return {layer: layer_grad_cam(model, image, target, layer, upsample=upsample) for layer in cam_layers(model)}


def attribution_maps(model: nn.Module, image: object, target: int, *, methods: tuple[str, ...] = METHODS,
                     window: int = 4, stride: int = 2, steps: int = 50) -> dict[str, np.ndarray]:
    """The side-by-side view: method -> (H, W) map (Grad-CAM at the last conv layer)."""
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise InterpretError("interpret.error.method", method=", ".join(map(str, unknown)),
                             known=", ".join(METHODS))
    return {m: explain(model, image, target, method=m, window=window, stride=stride, steps=steps) for m in methods}


def explain(model: nn.Module, image: object, target: int, *, method: str, window: int = 4, stride: int = 2,
            steps: int = 50) -> np.ndarray:
    """One method's (H, W) map by name (one of METHODS)."""
    if method == "gradcam":
        layers = cam_layers(model)
        if not layers:
            raise InterpretError("interpret.error.no_conv")
        return layer_grad_cam(model, image, target, layers[-1])
    if method == "saliency":
        return saliency(model, image, target)
    if method == "occlusion":
        return occlusion(model, image, target, window=window, stride=stride)
    if method == "integrated_gradients":
        return integrated_gradients(model, image, target, steps=steps)
    raise InterpretError("interpret.error.method", method=str(method), known=", ".join(METHODS))


def normalise(attr: np.ndarray) -> np.ndarray:
    """A map divided by its largest |value| (so it lies in [-1, 1]); an all-zero map stays zero."""
    a = np.asarray(attr, dtype=np.float64)
    peak = float(np.abs(a).max()) if a.size else 0.0
    return a / peak if peak > 0 else a


# ---------------------------------------------------------------- the sanity check

def randomized_copy(model: nn.Module, *, seed: int) -> nn.Module:
    """A private copy whose classifier's last Linear layer is re-initialised (PyTorch's default init, drawn
    from a generator seeded with ``seed``); every other weight is kept."""
    net = private_copy(model)
    _, layer = last_linear(net)
    init_weights(layer, torch.Generator().manual_seed(int(seed)))
    return net


def _ranks(values: np.ndarray) -> np.ndarray:
    """0-based ranks of a 1-D array, ties sharing their average rank (as scipy.stats.rankdata)."""
    order = np.argsort(values, kind="mergesort")
    _, first, counts = np.unique(values[order], return_index=True, return_counts=True)
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.repeat(first + (counts - 1) / 2.0, counts)
    return ranks


def rank_similarity(a: np.ndarray, b: np.ndarray, *, absolute: bool = True) -> float:
    """Spearman rank correlation of two maps of the same shape (of |a| and |b| when ``absolute``), flattened:
    1 = the same order of importance, 0 = unrelated.

    A constant map has no order: two constant maps count as alike (1.0), one constant map against a
    varying one as unrelated (0.0).
    """
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    if np.shape(a) != np.shape(b) or not x.size:
        raise InterpretError("interpret.error.map_shapes", a=str(np.shape(a)), b=str(np.shape(b)))
    if absolute:
        x, y = np.abs(x), np.abs(y)
    rx, ry = _ranks(x) - (len(x) - 1) / 2, _ranks(y) - (len(y) - 1) / 2  # centred ranks
    nx, ny = np.sqrt((rx * rx).sum()), np.sqrt((ry * ry).sum())
    if nx == 0 or ny == 0:
        return 1.0 if nx == ny else 0.0
    return float(np.clip((rx * ry).sum() / (nx * ny), -1.0, 1.0))


@dataclass(frozen=True)
class SanityCheck:
    """One method explained before and after re-initialising the last layer."""

    method: str  # one of METHODS
    original: np.ndarray  # (H, W) map of the trained model
    randomized: np.ndarray  # (H, W) map of the same model with a random last layer
    similarity: float  # signed rank similarity of the two: near 1 = the map ignores the learned weights
    similarity_abs: float  # the same on |map|: stays high when the map mostly outlines the digit's ink
    threshold: float  # a similarity below this passes ("it changed")

    @property
    def passed(self) -> bool:
        return self.similarity < self.threshold


PASS_BELOW = 0.5  # a rank correlation below this counts as "the map changed"


def sanity_check(model: nn.Module, image: object, target: int, *, method: str = "gradcam", seed: int = 0,
                 window: int = 4, stride: int = 2, steps: int = 50) -> SanityCheck:
    """Explain ``target`` with ``method`` on the model and on `randomized_copy` of it; compare the maps."""
    before = explain(model, image, target, method=method, window=window, stride=stride, steps=steps)
    after = explain(randomized_copy(model, seed=seed), image, target, method=method, window=window, stride=stride,
                    steps=steps)
    return SanityCheck(method, before, after, rank_similarity(before, after, absolute=False),
                       rank_similarity(before, after), PASS_BELOW)
