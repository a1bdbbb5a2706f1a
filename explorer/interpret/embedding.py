"""The embedding map: what the classifier's last layer sees, for every test digit, drawn in 2-D.

`penultimate_features` collects the input of the classifier's last Linear layer (the features the class
scores are a weighted sum of). `embed` maps them to 2-D: PCA (written here, exact: the eigenvectors of
the smaller Gram matrix; scikit-learn is the test oracle) at once, or t-SNE (scikit-learn) on request.
`locate` places one more digit (the student's own) on an existing map: exactly for PCA, among its
nearest neighbours for t-SNE (t-SNE has no formula for a new point).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from explorer.interpret.common import InterpretError, check_count, check_images, last_linear, private_copy

Progress = Callable[[float], None]
EMBED_METHODS: tuple[str, ...] = ("pca", "tsne")
MAX_POINTS = 5000  # digits on one map
TSNE_PCA_DIMS = 50  # t-SNE runs on the first 50 principal components (the usual speed-up)
PERPLEXITY = 30.0  # t-SNE's effective number of neighbours (lowered for very small sets)
TSNE_ITERATIONS = 500  # scikit-learn's default is 1000; on 1,000 digits 500 keep neighbours as well
# (trustworthiness 0.981 both ways, bundled model) in half the time


def penultimate_features(model: nn.Module, images: object, *, batch: int = 500) -> np.ndarray:
    """Input of the classifier's last Linear layer for each image: (N, D) float32."""
    x = check_images(images)
    net = private_copy(model)
    _, layer = last_linear(net)
    kept: list[torch.Tensor] = []
    layer.register_forward_pre_hook(lambda _m, inputs: kept.append(inputs[0].detach().flatten(1)))
    with torch.no_grad():
        for start in range(0, len(x), batch):
            net(x[start:start + batch])
    return torch.cat(kept).numpy().astype(np.float32)


def _check_features(features: object, *, name: str = "features") -> np.ndarray:
    try:
        f = np.asarray(features, dtype=np.float64)
    except (TypeError, ValueError):
        raise InterpretError("interpret.error.not_numbers", name=name) from None
    if f.ndim != 2 or f.shape[0] < 3 or f.shape[1] < 1:
        raise InterpretError("interpret.error.features_shape", shape=str(f.shape))
    if len(f) > MAX_POINTS:
        raise InterpretError("interpret.error.too_many", name=name, count=len(f), limit=MAX_POINTS)
    if not np.isfinite(f).all():
        raise InterpretError("interpret.error.not_finite", name=name)
    return f


@dataclass(frozen=True)
class Pca:
    """A fitted PCA: the mean and the leading principal directions."""

    mean: np.ndarray  # (D,)
    components: np.ndarray  # (k, D) unit rows, largest variance first; each row's largest |entry| positive
    variance: np.ndarray  # (k,) variance along each component
    variance_ratio: np.ndarray  # (k,) share of the total variance

    def transform(self, features: np.ndarray) -> np.ndarray:
        """Coordinates (N, k) of features (N, D) on the components."""
        return (np.asarray(features, dtype=np.float64) - self.mean) @ self.components.T


def pca(features: object, *, components: int = 2) -> Pca:
    """Principal components of features (N, D), by the top-k eigenvectors of the smaller of X X^T (N, N)
    and X^T X (D, D), X the centred features: exact, and fast when one side is small (1,000 digits of the
    seed CNN: about 0.3 s on one core)."""
    f = _check_features(features)
    n, d = f.shape
    k = check_count(components, name="components", low=1, high=min(n - 1, d))
    mean = f.mean(axis=0)
    x = f - mean  # (N, D)
    gram = x @ x.T if n <= d else x.T @ x  # (N, N) or (D, D): the same non-zero eigenvalues
    values, vectors = np.linalg.eigh(gram)  # ascending (numpy's own LAPACK: no second BLAS library loaded)
    values, vectors = values[::-1][:k], vectors[:, ::-1][:, :k]  # (k,), (N or D, k): largest first
    if n <= d:
        comps = (x.T @ vectors).T  # (k, D): X^T u is a direction of the same eigenvalue
        comps /= np.maximum(np.linalg.norm(comps, axis=1, keepdims=True), 1e-300)
    else:
        comps = vectors.T.copy()  # (k, D)
    eig = np.clip(values, 0, None)
    signs = np.sign(comps[np.arange(k), np.abs(comps).argmax(axis=1)])
    comps *= np.where(signs == 0, 1.0, signs)[:, None]
    total = float((x * x).sum())
    return Pca(mean, comps, eig / (n - 1), eig / total if total > 0 else np.zeros(k))


def embed(features: object, *, method: str = "pca", seed: int = 0, progress: Progress | None = None) -> np.ndarray:
    """2-D coordinates (N, 2) of features (N, D): "pca" (fast) or "tsne" (scikit-learn, seeded).

    t-SNE starts from the PCA layout, so in scikit-learn 1.9 its result does not depend on ``seed`` (kept
    for a version that draws random numbers; it never touches the global RNG). scikit-learn's t-SNE reports
    no progress while it runs: ``progress`` hears 0 at the start, 0.1 once the features are reduced to 50
    principal components, and 1 at the end (the page shows an indeterminate progress meanwhile).
    """
    if method not in EMBED_METHODS:
        raise InterpretError("interpret.error.method", method=str(method), known=", ".join(EMBED_METHODS))
    f = _check_features(features)
    if progress is not None:
        progress(0.0)
    if method == "pca":
        coords = pca(f).transform(f)
    else:
        coords = _tsne(f, seed=seed, progress=progress)
    if progress is not None:
        progress(1.0)
    return coords


def _tsne(f: np.ndarray, *, seed: int, progress: Progress | None) -> np.ndarray:
    from sklearn.manifold import TSNE  # imported here: scikit-learn takes ~1 s to import

    dims = min(TSNE_PCA_DIMS, f.shape[1], len(f) - 1)
    reduced = pca(f, components=dims).transform(f) if f.shape[1] > dims else f
    if progress is not None:
        progress(0.1)
    perplexity = min(PERPLEXITY, (len(f) - 1) / 3)
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", learning_rate="auto", max_iter=TSNE_ITERATIONS,
                random_state=int(seed))
    return tsne.fit_transform(reduced).astype(np.float64)


def locate(new: object, features: object, coords: object, *, method: str = "pca", k: int = 10) -> np.ndarray:
    """Where new feature vectors (M, D) go on a map (N, 2) made from ``features`` (N, D): (M, 2).

    PCA: the exact projection. t-SNE: the mean position of the k nearest digits (in feature space),
    weighted by 1 / distance (a digit equal to one on the map lands on it).
    """
    f = _check_features(features)
    q = np.asarray(new, dtype=np.float64)
    q = q[None] if q.ndim == 1 else q
    c = np.asarray(coords, dtype=np.float64)
    if q.ndim != 2 or q.shape[1] != f.shape[1] or c.shape != (len(f), 2):
        raise InterpretError("interpret.error.features_shape", shape=str(q.shape))
    if not np.isfinite(q).all():
        raise InterpretError("interpret.error.not_finite", name="new")
    if method == "pca":
        return pca(f).transform(q)
    if method != "tsne":
        raise InterpretError("interpret.error.method", method=str(method), known=", ".join(EMBED_METHODS))
    k = check_count(k, name="k", low=1, high=len(f))
    dist = _distances(q, f)  # (M, N)
    near = np.argsort(dist, axis=1, kind="stable")[:, :k]  # (M, k)
    d = np.take_along_axis(dist, near, axis=1)
    exact = d[:, :1] == 0
    w = np.where(exact, (d == 0).astype(np.float64), 1.0 / np.where(d == 0, 1.0, d))
    return (w[:, :, None] * c[near]).sum(axis=1) / w.sum(axis=1, keepdims=True)


def _distances(q: np.ndarray, f: np.ndarray, *, chunk: int = 256) -> np.ndarray:
    """Euclidean distances (M, N) between rows of q (M, D) and f (N, D), a chunk of f at a time."""
    out = np.empty((len(q), len(f)))
    for start in range(0, len(f), chunk):
        diff = f[None, start:start + chunk, :] - q[:, None, :]  # (M, chunk, D)
        out[:, start:start + chunk] = np.sqrt((diff * diff).sum(axis=-1))
    return out
