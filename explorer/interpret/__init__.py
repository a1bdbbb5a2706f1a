"""Inside the trained network, what did it learn? Feature visualisation by optimisation and the digits
that excite a channel (`features`); Grad-CAM at every conv layer, saliency, occlusion and integrated
gradients by captum, with the randomised-last-layer sanity check (`attribution`); FGSM adversarial examples
(`adversarial`); the embedding map, PCA and t-SNE (`embedding`); the training time-lapse's snapshots
(`timelapse`); the clickable confusion matrix (`confusion`); checks, errors and model copies (`common`)."""

from explorer.interpret.adversarial import Adversarial, adversarial, eps_sweep, fgsm, smallest_flipping_eps
from explorer.interpret.attribution import (
    METHODS,
    SanityCheck,
    attribution_maps,
    completeness,
    grad_cam_layers,
    integrated_gradients,
    layer_grad_cam,
    normalise,
    occlusion,
    randomized_copy,
    rank_similarity,
    saliency,
    sanity_check,
)
from explorer.interpret.common import InterpretError, cam_layers, conv_layers, fingerprint, private_copy
from explorer.interpret.confusion import cell_from_click, confusion_cell, confusion_matrix, top_confusions
from explorer.interpret.embedding import EMBED_METHODS, Pca, embed, locate, pca, penultimate_features
from explorer.interpret.features import (
    Gallery,
    VisConfig,
    class_gallery,
    top_activating,
    visualize_channel,
    visualize_class,
    visualize_layer,
)
from explorer.interpret.timelapse import (
    Bins,
    Frame,
    Histogram,
    Timelapse,
    TimelapseConfig,
    bins_for,
    histogram,
    make_frame,
)

__all__ = [
    "EMBED_METHODS", "METHODS", "Adversarial", "Bins", "Frame", "Gallery", "Histogram", "InterpretError", "Pca",
    "SanityCheck", "Timelapse", "TimelapseConfig", "VisConfig", "adversarial", "attribution_maps", "bins_for",
    "cam_layers", "cell_from_click", "class_gallery", "completeness", "confusion_cell", "confusion_matrix",
    "conv_layers", "embed", "eps_sweep", "fgsm", "fingerprint", "grad_cam_layers", "histogram",
    "integrated_gradients", "layer_grad_cam", "locate", "make_frame", "normalise", "occlusion", "pca",
    "penultimate_features", "private_copy", "randomized_copy", "rank_similarity", "saliency", "sanity_check",
    "smallest_flipping_eps", "top_activating", "top_confusions", "visualize_channel", "visualize_class",
    "visualize_layer",
]
