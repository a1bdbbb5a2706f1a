"""Feature visualisation by optimisation: the input that a channel (or a class) likes most.

Start from seeded noise and climb the gradient of the objective (a channel's mean activation, a class's
logit) with respect to the input pixels, with Adam, keeping the pixels in [0, 1] (projected: clamped
after every step). Three regularisers keep the picture readable, as in Olah et al. (Distill 2017):
jitter (the input is rolled by a few random pixels each step, so the result cannot rely on exact pixel
positions), a total-variation penalty (neighbouring pixels alike) and an occasional 3x3 Gaussian blur.
Two more details make it work on small grayscale nets: the objective's gradient is normalised per image
(so one TV weight suits every layer, whatever its activation scale), and whenever an image's objective has
no gradient at all (its channel is silent everywhere), the ReLUs pass gradient even where they are off
("redirected ReLU", as in Lucid) until the channel wakes up. The last quarter of the steps drops the
regularisers and polishes the picture to a local optimum.

All channels of a layer (or all classes) are optimised together as one batch; every call has its own
``torch.Generator``. The functions are module-level with picklable arguments, for a worker process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from explorer.interpret.common import (
    MAX_PIXELS,
    InterpretError,
    check_count,
    check_images,
    check_number,
    find_layer,
    logits,
    private_copy,
)

Progress = Callable[[float], None]
Objective = Callable[[torch.Tensor], torch.Tensor]  # (N, C, H, W) -> (N,) scores to maximise
MNIST_SHAPE = (1, 28, 28)
PROGRESS_EVERY = 8  # steps between progress calls
MAX_STEPS = 5000
MAX_BATCH = 1024  # channels (or classes) optimised in one call
SINGLE_STARTS = 4  # starting images when only one channel is wanted (deep channels are seed-sensitive)


@dataclass(frozen=True)
class VisConfig:
    """How the input is optimised (defaults: tuned on the lectures' CNNs, 28x28 MNIST)."""

    steps: int = 256  # Adam steps on the pixels
    lr: float = 0.1  # Adam learning rate (pixels live in [0, 1])
    noise: float = 0.5  # the start: uniform noise in [0, noise], drawn from the call's seed
    starts: int = 1  # independent starting images per target; the best result is kept
    jitter: int = 2  # each step the input is rolled by up to this many pixels down/right or up/left
    tv: float = 0.1  # weight of the total-variation penalty against the normalised objective gradient
    blur_every: int = 8  # blur the pixels with a 3x3 Gaussian every this many steps (0: never)
    blur_sigma: float = 0.5  # that Gaussian's standard deviation, pixels
    redirect_steps: int = 0  # first steps in which ReLUs pass gradient where they are off (and later
    # for images whose objective had no gradient at the previous step; more than 0 tends to end in the
    # optimum of the linearised net: flat dark images for edge filters)
    polish: float = 0.25  # last share of the steps without jitter, TV or blur


@dataclass(frozen=True)
class Gallery:
    """One optimised image per target (channel or class), as a batch."""

    images: torch.Tensor  # (N, C, H, W) float32 in [0, 1]
    targets: tuple[int, ...]  # the channel or class of each image
    scores: np.ndarray  # (N,) float64: mean activation (channels) or softmax probability (classes)
    layer: str | None = None  # the layer of a channel grid, None for classes


# ---------------------------------------------------------------- building blocks

class _RedirectedReLUFunction(torch.autograd.Function):
    """ReLU forward; backward, for the images in ``mask``, also lets through gradient that would switch an
    off unit on."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x, mask)
        return x.clamp_min(0)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        x, mask = ctx.saved_tensors
        wide = mask.view(-1, *[1] * (x.ndim - 1))  # (N, 1, ...)
        return grad * ((x > 0) | ((grad > 0) & wide)), None  # grad of the objective > 0: raising x helps


class _SwitchableReLU(nn.Module):
    """nn.ReLU whose backward is redirected for the images flagged in ``redirect`` ((N,) bool, or None)."""

    def __init__(self) -> None:
        super().__init__()
        self.redirect: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.redirect is None or not bool(self.redirect.any()) or len(self.redirect) != len(x):
            return F.relu(x)
        return _RedirectedReLUFunction.apply(x, self.redirect)


def _switchable(model: nn.Module) -> list[_SwitchableReLU]:
    """Replace every nn.ReLU of ``model`` (a private copy) by a switchable one; return them."""
    made = []
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is nn.ReLU:
                made.append(_SwitchableReLU())
                setattr(parent, name, made[-1])
    return made


def gaussian_blur(x: torch.Tensor, *, sigma: float) -> torch.Tensor:
    """3x3 Gaussian blur of each channel of x (N, C, H, W), edges replicated."""
    r = torch.arange(-1, 2, dtype=x.dtype)
    k = torch.exp(-r ** 2 / (2 * sigma ** 2))
    k = k / k.sum()
    kernel = (k[:, None] * k[None, :]).expand(x.shape[1], 1, 3, 3)  # (C, 1, 3, 3)
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), kernel, groups=x.shape[1])


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Sum of |differences| between vertical and horizontal neighbours, per image: (N,)."""
    dy = (x[:, :, 1:, :] - x[:, :, :-1, :]).abs().sum(dim=(1, 2, 3))
    dx = (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().sum(dim=(1, 2, 3))
    return (dy + dx) / x.shape[1]


def _normalised(grad: torch.Tensor) -> torch.Tensor:
    """Each image's gradient divided by its mean |value| (zero stays zero)."""
    scale = grad.abs().flatten(1).mean(dim=1).clamp_min(1e-12)  # (N,)
    return grad / scale[:, None, None, None]


def ascend(objective: Objective, start: torch.Tensor, *, config: VisConfig, generator: torch.Generator,
           relus: list[_SwitchableReLU] = (), progress: Progress | None = None) -> torch.Tensor:
    """Maximise ``objective`` (a batch of scores) over the pixels of ``start`` (N, C, H, W) in [0, 1]."""
    x = start.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=config.lr)
    polish_from = round(config.steps * (1 - config.polish))
    silent = torch.zeros(len(x), dtype=torch.bool)  # images whose objective had no gradient at all
    for step in range(config.steps):
        regularise = step < polish_from
        for relu in relus:
            relu.redirect = silent | (step < config.redirect_steps)
        shift = torch.randint(-config.jitter, config.jitter + 1, (2,), generator=generator).tolist()
        moved = torch.roll(x, shifts=shift, dims=(2, 3)) if regularise and config.jitter else x
        (grad,) = torch.autograd.grad(objective(moved).sum(), x)
        silent = grad.flatten(1).abs().amax(dim=1) == 0  # (N,): a dead unit, redirect its ReLUs next step
        ascent = _normalised(grad)  # (N, C, H, W)
        if regularise and config.tv:
            (tv_grad,) = torch.autograd.grad(total_variation(x).sum(), x)
            ascent = ascent - config.tv * tv_grad
        x.grad = -ascent
        opt.step()
        with torch.no_grad():
            if regularise and config.blur_every and (step + 1) % config.blur_every == 0:
                x.copy_(gaussian_blur(x, sigma=config.blur_sigma))
            x.clamp_(0, 1)
        if progress is not None and (step + 1) % PROGRESS_EVERY == 0:
            progress((step + 1) / config.steps)
    for relu in relus:
        relu.redirect = None
    if progress is not None:
        progress(1.0)
    return x.detach()


def _start(n: int, shape: tuple[int, int, int], config: VisConfig, generator: torch.Generator) -> torch.Tensor:
    return torch.rand((n, *shape), generator=generator) * config.noise  # (N, C, H, W)


def _check_config(config: VisConfig | None) -> VisConfig:
    config = config or VisConfig()
    check_count(config.steps, name="steps", low=1, high=MAX_STEPS)
    check_count(config.jitter, name="jitter", low=0, high=8)
    check_count(config.starts, name="starts", low=1, high=64)
    check_count(config.blur_every, name="blur_every", low=0, high=MAX_STEPS)
    check_count(config.redirect_steps, name="redirect_steps", low=0, high=MAX_STEPS)
    for name, low, high in (("lr", 1e-6, 10.0), ("noise", 0.0, 1.0), ("tv", 0.0, 100.0), ("blur_sigma", 0.05, 10.0),
                            ("polish", 0.0, 1.0)):
        check_number(getattr(config, name), name=name, low=low, high=high)
    return config


def _check_shape(shape: object) -> tuple[int, int, int]:
    if not (isinstance(shape, (tuple, list)) and len(shape) == 3
            and all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape)):
        raise InterpretError("interpret.error.input_shape", shape=str(shape))
    size = int(np.prod(shape))
    if size > MAX_PIXELS:
        raise InterpretError("interpret.error.too_big", name="shape", size=size, limit=MAX_PIXELS)
    return tuple(shape)  # type: ignore[return-value]


# ---------------------------------------------------------------- channels

class _Stop(Exception):
    """Raised by a hook to end the forward pass once the wanted layer has run."""


class LayerProbe:
    """Forward hook on a layer of a private model copy: ``run(x)`` returns that layer's output for x,
    without running the rest of the network."""

    def __init__(self, model: nn.Module, layer: str) -> None:
        self.model, self.out = model, None
        find_layer(model, layer).register_forward_hook(self._keep)

    def _keep(self, _module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
        self.out = output
        raise _Stop

    def run(self, x: torch.Tensor) -> torch.Tensor:
        try:
            logits(self.model, x)
        except _Stop:
            pass
        if not isinstance(self.out, torch.Tensor) or self.out.ndim not in (2, 4):
            raise InterpretError("interpret.error.layer_output")
        out, self.out = self.out, None
        return out


def channel_means(out: torch.Tensor) -> torch.Tensor:
    """Mean of each channel over space: (N, K, h, w) -> (N, K); a Linear layer's (N, K) is kept."""
    return out.mean(dim=(2, 3)) if out.ndim == 4 else out


def _channels(probe: LayerProbe, shape: tuple[int, int, int], channels: object) -> list[int]:
    count = channel_means(probe.run(torch.zeros((1, *shape)))).shape[1]
    return _pick(channels, count, name="channel")


def _pick(wanted: object, count: int, *, name: str) -> list[int]:
    """All of range(count) for None, else the listed indices (checked)."""
    if wanted is None:
        return list(range(count))
    if isinstance(wanted, (int, np.integer)):
        wanted = [wanted]
    picked = [check_count(c, name=name, low=0, high=count - 1) for c in wanted]
    if not picked or len(picked) > MAX_BATCH:
        raise InterpretError("interpret.error.targets", count=len(picked), limit=MAX_BATCH)
    return picked


def _best_of_starts(scores_of: Callable[[torch.Tensor], torch.Tensor], targets: list[int],
                    shape: tuple[int, int, int], *, config: VisConfig, seed: int, relus: list[_SwitchableReLU],
                    progress: Progress | None) -> torch.Tensor:
    """Optimise ``config.starts`` images per target at once; keep each target's best. (T, C, H, W)."""
    starts = config.starts
    index = torch.tensor(targets).repeat_interleave(starts)  # (T*S,): target of each image
    rows = torch.arange(len(index))

    def objective(x: torch.Tensor) -> torch.Tensor:
        return scores_of(x)[rows, index]  # (T*S,)

    generator = torch.Generator().manual_seed(int(seed))
    images = ascend(objective, _start(len(index), shape, config, generator), config=config,
                    generator=generator, relus=relus, progress=progress)
    with torch.no_grad():
        best = objective(images).view(len(targets), starts).argmax(dim=1)  # (T,)
    return images.view(len(targets), starts, *shape)[torch.arange(len(targets)), best]


def visualize_layer(model: nn.Module, layer: str, *, channels: object = None, seed: int = 0,
                    shape: tuple[int, int, int] = MNIST_SHAPE, config: VisConfig | None = None,
                    progress: Progress | None = None) -> Gallery:
    """For each channel of ``layer`` (all, or those listed): the input that maximises its mean activation.

    All channels are optimised at once, as one batch, from seeded noise. Scores are the mean activations
    the final (unjittered) images reach.
    """
    config = _check_config(config)
    shape = _check_shape(shape)
    net = private_copy(model)
    relus = _switchable(net)
    probe = LayerProbe(net, layer)
    picked = _channels(probe, shape, channels)

    def scores_of(x: torch.Tensor) -> torch.Tensor:
        return channel_means(probe.run(x))  # (N, K)

    images = _best_of_starts(scores_of, picked, shape, config=config, seed=seed, relus=relus, progress=progress)
    with torch.no_grad():
        scores = scores_of(images)[torch.arange(len(picked)), torch.tensor(picked)].double().numpy()
    return Gallery(images, tuple(picked), scores, layer)


def visualize_channel(model: nn.Module, layer: str, channel: int, *, seed: int = 0,
                      shape: tuple[int, int, int] = MNIST_SHAPE, config: VisConfig | None = None,
                      progress: Progress | None = None) -> torch.Tensor:
    """The input (1, C, H, W) in [0, 1] that maximises the mean activation of ``channel`` of ``layer``.

    One channel is cheap, so by default it is optimised from ``SINGLE_STARTS`` starting images at once.
    """
    config = config or VisConfig(starts=SINGLE_STARTS)
    return visualize_layer(model, layer, channels=[channel], seed=seed, shape=shape, config=config,
                           progress=progress).images


# ---------------------------------------------------------------- classes

def class_gallery(model: nn.Module, *, classes: object = None, seed: int = 0,
                  shape: tuple[int, int, int] = MNIST_SHAPE, config: VisConfig | None = None,
                  progress: Progress | None = None) -> Gallery:
    """For each class (all, or those listed): the input that maximises its logit, all at once.

    Scores are the softmax probabilities of the class on the final images.
    """
    config = _check_config(config)
    shape = _check_shape(shape)
    net = private_copy(model)
    relus = _switchable(net)
    with torch.no_grad():
        picked = _pick(classes, logits(net, torch.zeros((1, *shape))).shape[1], name="class")

    def scores_of(x: torch.Tensor) -> torch.Tensor:
        return logits(net, x)  # (N, K)

    images = _best_of_starts(scores_of, picked, shape, config=config, seed=seed, relus=relus, progress=progress)
    with torch.no_grad():
        probs = torch.softmax(scores_of(images), dim=1)[torch.arange(len(picked)), torch.tensor(picked)]
    return Gallery(images, tuple(picked), probs.double().numpy())


def visualize_class(model: nn.Module, cls: int, *, seed: int = 0, shape: tuple[int, int, int] = MNIST_SHAPE,
                    config: VisConfig | None = None, progress: Progress | None = None) -> torch.Tensor:
    """The input (1, C, H, W) in [0, 1] that maximises the logit of class ``cls`` (one start is enough:
    on the bundled model every class reaches softmax 1.00 from every seed tried)."""
    config = config or VisConfig()
    return class_gallery(model, classes=[cls], seed=seed, shape=shape, config=config, progress=progress).images


# ---------------------------------------------------------------- the digits that excite a channel most

def top_activating(model: nn.Module, layer: str, channel: int, images: object, *, k: int = 9,
                   batch: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """Indices (k,) of the ``images`` (N, C, H, W) whose mean activation of ``channel`` is largest, and
    those activations (k,), largest first (ties: the lower index first)."""
    x = check_images(images)
    net = private_copy(model)
    probe = LayerProbe(net, layer)
    k = check_count(k, name="k", low=1, high=len(x))
    means = []
    with torch.no_grad():
        for start in range(0, len(x), batch):
            out = channel_means(probe.run(x[start:start + batch]))
            check_count(channel, name="channel", low=0, high=out.shape[1] - 1)
            means.append(out[:, channel].double())
    values = torch.cat(means).numpy()  # (N,)
    order = np.argsort(-values, kind="stable")[:k]
    return order, values[order]

