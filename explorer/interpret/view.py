"""What the Inside page shows, without Streamlit: the model under study with the images it is judged on
(`Subject`), its layers as the page names them, pictures of images, and the page's background jobs
(module-level functions, so a worker process can run them)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image
from torch import nn

from explorer.interpret.common import cam_layers, conv_layers, fingerprint
from explorer.interpret.confusion import confusion_matrix
from explorer.interpret.embedding import embed, penultimate_features
from explorer.interpret.features import Gallery, VisConfig, class_gallery, visualize_layer

MNIST_SHAPE = (1, 28, 28)
DIGITS = tuple(str(d) for d in range(10))
PICTURE_PX = 84  # side of a small picture on the page (28 × 3)
FRAME_GREY = 160  # the 1-pixel frame round a picture (an all-white or all-black picture still shows its edge)
EMBED_POINTS = 1000  # test images on the embedding map
BATCH = 500  # images per forward pass


@dataclass(frozen=True)
class Subject:
    """The model the page looks inside, with the test images it is judged on."""

    kind: str  # "bundled", "session" (the Train page's run) or "builder" (a builder run)
    model: nn.Module  # eval mode, the page's own copy (never the one a worker trains)
    images: torch.Tensor  # (N, C, H, W) float32 in [0, 1]: test images the model never trained on
    labels: torch.Tensor  # (N,) int64
    classes: tuple[str, ...] = DIGITS  # class names, index = class number
    step: int | None = None  # the training step these weights are from (None: the bundled model)
    key: str = field(default="")  # `fingerprint` of the model: results are cached under it

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    @property
    def digits(self) -> bool:
        """Does it read MNIST digits (so a drawn or uploaded digit can go in)?"""
        return self.input_shape == MNIST_SHAPE and len(self.classes) == 10


def subject(kind: str, model: nn.Module, images: torch.Tensor, labels: torch.Tensor, *,
            classes: tuple[str, ...] | None = None, step: int | None = None) -> Subject:
    """A `Subject` of ``model`` (put in eval mode) with its fingerprint."""
    model.eval()
    return Subject(kind, model, images, labels, tuple(classes or DIGITS), step, fingerprint(model))


def conv_choices(model: nn.Module) -> list[tuple[str, int, int]]:
    """(layer to look at, conv number from 1, channels) for each conv layer: the layer after the conv's
    activation, as Grad-CAM looks at it (`cam_layers`)."""
    convs = dict(model.named_modules())
    return [(layer, i + 1, convs[conv].out_channels)
            for i, (layer, conv) in enumerate(zip(cam_layers(model), conv_layers(model)))]


def picture(image: torch.Tensor | np.ndarray, *, side: int = PICTURE_PX) -> np.ndarray:
    """One image (C, H, W) or (1, C, H, W) in [0, 1] as uint8 pixels for ``st.image``, enlarged (nearest
    neighbour, so pixels stay square) to ``side`` pixels on its longer edge: (h, w) grey or (h, w, 3) colour."""
    a = np.asarray(image.detach().cpu() if isinstance(image, torch.Tensor) else image, dtype=np.float32)
    a = a.reshape(a.shape[-3:])
    pixels = (np.clip(a, 0, 1) * 255).round().astype(np.uint8)
    pixels = pixels[0] if pixels.shape[0] == 1 else pixels[:3].transpose(1, 2, 0)
    h, w = pixels.shape[:2]
    scale = max(1, side // max(h, w))
    big = np.asarray(Image.fromarray(pixels).resize((w * scale, h * scale), Image.Resampling.NEAREST))
    pad = ((1, 1), (1, 1)) + (((0, 0),) if big.ndim == 3 else ())
    return np.pad(big, pad, constant_values=FRAME_GREY)


def predictions(model: nn.Module, images: torch.Tensor, *, batch: int = BATCH) -> np.ndarray:
    """The model's class for each image (N,), in batches, without gradients."""
    with torch.no_grad():
        return torch.cat([model(images[i:i + batch]).argmax(dim=1) for i in range(0, len(images), batch)]).numpy()


def confusion(subject: Subject) -> tuple[np.ndarray, np.ndarray]:
    """(predictions (N,), confusion matrix (K, K)) of the subject's test images."""
    predicted = predictions(subject.model, subject.images)
    return predicted, confusion_matrix(predicted, subject.labels.numpy(), classes=len(subject.classes))


def probabilities(model: nn.Module, image: torch.Tensor) -> np.ndarray:
    """Softmax (K,) for one image (1, C, H, W)."""
    with torch.no_grad():
        return torch.softmax(model(image), dim=1)[0].double().numpy()


def vis_config(steps: int) -> VisConfig:
    return VisConfig(steps=int(steps))


# ---------------------------------------------------------------- background jobs (run in a worker)

def layer_gallery(model: nn.Module, layer: str, *, seed: int, steps: int, shape: tuple[int, int, int],
                  progress) -> Gallery:
    """Every channel of ``layer``: the input it likes most (`visualize_layer`)."""
    return visualize_layer(model, layer, seed=seed, shape=shape, config=vis_config(steps), progress=progress)


def classes_gallery(model: nn.Module, *, seed: int, steps: int, shape: tuple[int, int, int], progress) -> Gallery:
    """Every class: the input it likes most (`class_gallery`)."""
    return class_gallery(model, seed=seed, shape=shape, config=vis_config(steps), progress=progress)


def embedding(model: nn.Module, images: torch.Tensor, *, method: str, progress) -> tuple[np.ndarray, np.ndarray]:
    """(features (N, D), coordinates (N, 2)) of the images on the map (`penultimate_features`, `embed`)."""
    features = penultimate_features(model, images)
    return features, embed(features, method=method, progress=progress)
