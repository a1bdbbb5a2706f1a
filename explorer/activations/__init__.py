"""Your own image: a drawn or uploaded digit made MNIST-like (`digits`), looked at inside a model:
feature maps, Grad-CAM, saliency, the bundled model (`inside`); photos through ImageNet models
(`imagenet`); figures (`plots`)."""

from explorer.activations.digits import preprocess_steps
from explorer.activations.inside import (
    feature_maps,
    grad_cam,
    load_bundled_model,
    saliency,
)

__all__ = ["feature_maps", "grad_cam", "load_bundled_model", "preprocess_steps", "saliency"]
