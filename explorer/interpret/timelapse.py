"""The training time-lapse, data side: snapshots of a model while it trains, kept within a stated bound.

A `Frame` is one moment of a run: the conv filters, histograms of every layer's weights and of their
gradients (fixed bins for the whole run, so frames compare), the test confusion matrix, and one digit's
feature maps. `make_frame` takes it from a model (plus a batch's gradients and an evaluation);
`Timelapse` keeps at most ``max_frames`` frames and ``max_mb`` megabytes by thinning evenly: when it is
full it drops every second frame and from then on keeps only every second offer, so the frames always
sit at evenly spaced offers (the first one included), and the last frame of the run is kept too.

Arrays are stored as float16 (filters, feature maps; three significant digits, plenty to draw) or int64
(counts). Everything is plain numpy in dataclasses: picklable, safe to hand to a page while training goes on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from explorer.interpret.common import InterpretError, check_count, check_image, check_number, private_copy

MB = 1024 * 1024
BINS = 40  # histogram bins per layer
MARGIN = 2.0  # a layer's bins span +-MARGIN times its largest |value| when they are fixed


@dataclass(frozen=True)
class Histogram:
    """Counts of values in fixed bins; values beyond the edges are counted in the end bins."""

    edges: np.ndarray  # (B+1,) float64, increasing
    counts: np.ndarray  # (B,) int64
    outside: int  # how many values fell beyond the edges (already in the end bins)

    @property
    def nbytes(self) -> int:
        return self.edges.nbytes + self.counts.nbytes


def fixed_edges(values: torch.Tensor | np.ndarray, *, bins: int = BINS, margin: float = MARGIN) -> np.ndarray:
    """Symmetric edges (bins+1,) spanning +-margin * max|values| (+-1e-8 for all-zero values)."""
    v = np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values, dtype=np.float64)
    reach = float(np.abs(v).max()) * margin if v.size else 0.0
    reach = reach if reach > 0 and np.isfinite(reach) else 1e-8
    return np.linspace(-reach, reach, bins + 1)


def histogram(values: torch.Tensor | np.ndarray, edges: np.ndarray) -> Histogram:
    """``values`` counted in the bins ``edges``; values beyond them go to the end bins (NaN is dropped)."""
    v = np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values, dtype=np.float64).ravel()
    v = v[~np.isnan(v)]
    outside = int(((v < edges[0]) | (v > edges[-1])).sum())
    counts, _ = np.histogram(np.clip(v, edges[0], edges[-1]), bins=edges)
    return Histogram(np.asarray(edges, dtype=np.float64), counts.astype(np.int64), outside)


@dataclass
class Bins:
    """The fixed histogram edges of one run: layer name -> (B+1,) edges."""

    weights: dict[str, np.ndarray] = field(default_factory=dict)
    gradients: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Frame:
    """One moment of a training run."""

    step: int  # optimizer steps done
    epoch: float  # epochs done (may be fractional: step / steps per epoch)
    filters: dict[str, np.ndarray]  # conv layer name -> weights (C_out, C_in, k, k) float16
    weights: dict[str, Histogram]  # conv/linear layer name -> histogram of its weights
    gradients: dict[str, Histogram]  # the same layers -> histogram of their weights' gradients ({} if none)
    confusion: np.ndarray | None  # (K, K) int64 test confusion matrix (rows: true, columns: predicted)
    accuracy: float | None  # test accuracy with that matrix
    maps: dict[str, np.ndarray]  # layer of `features` -> the tracked digit's maps (C, h, w) float16

    def memory_bytes(self) -> int:
        """Bytes held by this frame's arrays."""
        total = sum(a.nbytes for a in self.filters.values()) + sum(a.nbytes for a in self.maps.values())
        total += sum(h.nbytes for h in (*self.weights.values(), *self.gradients.values()))
        return total + (self.confusion.nbytes if self.confusion is not None else 0)


def weighted_layers(model: nn.Module) -> dict[str, nn.Module]:
    """Conv and Linear layers by name: the layers whose weights get histograms."""
    return {name: m for name, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))}


def _gradients(model: nn.Module, grads: Mapping[str, torch.Tensor] | None) -> dict[str, torch.Tensor]:
    """Layer name -> gradient of its weight, from ``grads`` (parameter name -> gradient) or ``.grad``."""
    found = {}
    for name, layer in weighted_layers(model).items():
        key = f"{name}.weight"
        g = grads.get(key) if grads is not None else layer.weight.grad
        if g is not None:
            found[name] = g.detach()
    return found


def feature_maps(model: nn.Module, digit: torch.Tensor) -> dict[str, np.ndarray]:
    """Output (C, h, w) of every leaf layer of ``model.features`` for one digit (1, C, H, W), float16."""
    net = private_copy(model)
    root = getattr(net, "features", net)
    prefix = "features." if root is not net else ""
    maps: dict[str, np.ndarray] = {}

    def keep(name: str):
        def hook(_module: nn.Module, _inputs: object, out: torch.Tensor) -> None:
            if isinstance(out, torch.Tensor) and out.ndim == 4:
                maps[name] = out.detach()[0].numpy().astype(np.float16)  # (C, h, w)
        return hook

    for name, layer in root.named_modules():
        if name and not list(layer.children()):
            layer.register_forward_hook(keep(prefix + name))
    with torch.no_grad():
        net(digit)
    return maps


def bins_for(model: nn.Module, grads: Mapping[str, torch.Tensor] | None = None, *, bins: int = BINS,
             margin: float = MARGIN, known: Bins | None = None) -> Bins:
    """Fixed edges for every weighted layer (weights, and gradients where there are any), from the current
    values; layers already in ``known`` keep their edges."""
    out = Bins(dict(known.weights), dict(known.gradients)) if known is not None else Bins()
    for name, layer in weighted_layers(model).items():
        out.weights.setdefault(name, fixed_edges(layer.weight, bins=bins, margin=margin))
    for name, g in _gradients(model, grads).items():
        out.gradients.setdefault(name, fixed_edges(g, bins=bins, margin=margin))
    return out


def make_frame(model: nn.Module, *, step: int, epoch: float, digit: object = None,
               grads: Mapping[str, torch.Tensor] | None = None, confusion: object = None,
               accuracy: float | None = None, bins: Bins | None = None) -> Frame:
    """A `Frame` of ``model`` now.

    ``grads`` maps parameter names ("features.0.weight") to a batch's gradients; without it the
    parameters' ``.grad`` is read (call after ``loss.backward()``). ``confusion`` is a (K, K) matrix
    (an evaluation's); ``digit`` (1, C, H, W) the digit whose feature maps are kept. ``bins`` are the run's
    fixed edges (default: made from this model, see `bins_for`).
    """
    step = check_count(step, name="step", low=0, high=10**9)
    epoch = check_number(epoch, name="epoch", low=0, high=10**6)
    bins = bins_for(model, grads, known=bins)
    layers = weighted_layers(model)
    filters = {name: m.weight.detach().cpu().numpy().astype(np.float16)
               for name, m in layers.items() if isinstance(m, nn.Conv2d)}
    weights = {name: histogram(m.weight, bins.weights[name]) for name, m in layers.items()}
    gradients = {name: histogram(g, bins.gradients[name]) for name, g in _gradients(model, grads).items()}
    matrix = None
    if confusion is not None:
        matrix = np.asarray(confusion, dtype=np.int64)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise InterpretError("interpret.error.confusion_shape", shape=str(matrix.shape))
    maps = feature_maps(model, check_image(digit, name="digit")) if digit is not None else {}
    return Frame(step, epoch, filters, weights, gradients, matrix, accuracy, maps)


@dataclass(frozen=True)
class TimelapseConfig:
    """How much of a run the time-lapse keeps."""

    max_frames: int = 60  # frames kept at most (the run's last frame included)
    max_mb: float = 32.0  # megabytes of frame arrays kept at most
    bins: int = BINS  # histogram bins per layer
    margin: float = MARGIN  # bins span +-margin * the largest |value| when a layer first appears

    def __post_init__(self) -> None:
        check_count(self.max_frames, name="max_frames", low=2, high=10_000)
        check_number(self.max_mb, name="max_mb", low=0.01, high=4096)
        check_count(self.bins, name="bins", low=2, high=1000)
        check_number(self.margin, name="margin", low=1.0, high=1000)


class Timelapse:
    """Frames of one run, evenly thinned to stay within `TimelapseConfig`'s bounds.

    The trainer offers a frame at each moment it could record (each epoch, or every N steps):
    ``if tl.wants(): tl.add(make_frame(..., bins=tl.bins))`` — or simply ``tl.record(model, ...)``.
    Offers are numbered 0, 1, 2, ...; only every ``stride``-th is kept, and when the keeper is full,
    every second kept frame is dropped and ``stride`` doubles. ``add(frame, final=True)`` keeps the
    run's last frame whatever its number.
    """

    def __init__(self, config: TimelapseConfig | None = None) -> None:
        self.config = config or TimelapseConfig()
        self.bins = Bins()
        self.stride = 1  # keep every stride-th offer
        self.offers = 0  # offers made so far
        self._frames: list[Frame] = []  # kept frames of offers 0, stride, 2*stride, ...
        self._final: Frame | None = None

    @property
    def max_bytes(self) -> int:
        return int(self.config.max_mb * MB)

    @property
    def frames(self) -> list[Frame]:
        """Kept frames, oldest first (the run's final frame last, if one was added)."""
        return self._frames + ([self._final] if self._final is not None else [])

    def __len__(self) -> int:
        return len(self.frames)

    def steps(self) -> list[int]:
        """The step of each kept frame (the slider's values)."""
        return [f.step for f in self.frames]

    def memory_bytes(self) -> int:
        return sum(f.memory_bytes() for f in self.frames)

    def wants(self) -> bool:
        """Would the next offer be kept? (Skip making a frame that would be dropped.)"""
        return self.offers % self.stride == 0

    def add(self, frame: Frame, *, final: bool = False) -> bool:
        """Offer ``frame``; returns whether it was kept. A ``final`` frame is always kept, last."""
        if 2 * frame.memory_bytes() > self.max_bytes:
            raise InterpretError("interpret.error.frame_too_big", mb=f"{frame.memory_bytes() / MB:.1f}",
                                 limit=f"{self.config.max_mb:g}")
        if final:
            self._final = frame
        else:
            kept = self.wants()
            self.offers += 1
            if not kept:
                return False
            self._frames.append(frame)
        while len(self._frames) > 1 and (len(self) > self.config.max_frames or self.memory_bytes() > self.max_bytes):
            self._frames = self._frames[::2]
            self.stride *= 2
        return True

    def record(self, model: nn.Module, *, step: int, epoch: float, digit: object = None,
               grads: Mapping[str, torch.Tensor] | None = None, confusion: object = None,
               accuracy: float | None = None, final: bool = False) -> bool:
        """Make a frame (with the run's fixed bins) and `add` it, unless it would be dropped anyway."""
        if not final and not self.wants():
            self.offers += 1
            return False
        self.bins = bins_for(model, grads, bins=self.config.bins, margin=self.config.margin, known=self.bins)
        frame = make_frame(model, step=step, epoch=epoch, digit=digit, grads=grads, confusion=confusion,
                           accuracy=accuracy, bins=self.bins)
        return self.add(frame, final=final)

    def bound_mb(self) -> float:
        """The stated memory bound, MB."""
        return self.config.max_mb

