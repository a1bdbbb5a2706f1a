"""explorer.interpret.embedding: penultimate features against a hand-split forward pass, PCA against
scikit-learn, t-SNE seeded and neighbour-preserving (scikit-learn's trustworthiness), placing a new digit."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness

from explorer.interpret import embed, locate, pca, penultimate_features
from explorer.interpret.common import InterpretError
from tests.interpret.conftest import builder_model


@pytest.mark.parametrize(("kind", "dims"), [("bundled", 3136), ("deep", 625), ("lenet", 84)])
def test_penultimate_features_are_what_the_last_linear_layer_reads(models, test_set, kind, dims):
    model = models[kind]
    x = test_set.images[:40]
    got = penultimate_features(model, x, batch=16)
    with torch.no_grad():
        expected = model.classifier[:-1](model.features(x))  # everything before the last Linear, in eval mode
        logits = model.classifier[-1](expected)
    assert got.shape == (40, dims) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-5, atol=1e-6)
    with torch.no_grad():
        np.testing.assert_allclose(logits.numpy(), model(x).numpy(), rtol=1e-5, atol=1e-5)


def test_penultimate_features_of_a_builder_model(colour_image):
    assert penultimate_features(builder_model(), colour_image.repeat(3, 1, 1, 1)).shape == (3, 12)


def _same_up_to_sign(a: np.ndarray, b: np.ndarray, **tol) -> None:
    """Columns (or rows of components) equal, each possibly negated."""
    for col_a, col_b in zip(a.T, b.T):
        sign = 1.0 if np.dot(col_a, col_b) >= 0 else -1.0
        np.testing.assert_allclose(col_a, sign * col_b, **tol)


@pytest.mark.parametrize(("n", "d"), [(60, 200), (200, 30)])  # both branches: N <= D and N > D
def test_pca_equals_scikit_learn_up_to_sign(n, d):
    rng = np.random.default_rng(n)
    features = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) * 0.1  # correlated, so components are clear
    ours = pca(features, components=3)
    ref = PCA(n_components=3, svd_solver="full").fit(features)
    _same_up_to_sign(ours.components.T, ref.components_.T, atol=1e-8)
    np.testing.assert_allclose(ours.variance, ref.explained_variance_, rtol=1e-8)
    np.testing.assert_allclose(ours.variance_ratio, ref.explained_variance_ratio_, rtol=1e-8)
    _same_up_to_sign(ours.transform(features), ref.transform(features), atol=1e-8)
    signs = ours.components[np.arange(3), np.abs(ours.components).argmax(axis=1)]
    assert (signs > 0).all()  # a fixed sign: the map does not flip between reruns


def test_embed_pca_of_real_digits_equals_scikit_learn_up_to_sign(bundled, test_set):
    features = penultimate_features(bundled, test_set.images[:300])
    coords = embed(features)
    assert coords.shape == (300, 2)
    ref = PCA(n_components=2, svd_solver="full").fit_transform(features.astype(np.float64))
    _same_up_to_sign(coords, ref, rtol=1e-6, atol=1e-6)


def test_tsne_replays_keeps_neighbours_and_reports_progress(bundled, test_set):
    features = penultimate_features(bundled, test_set.images[:120])
    seen: list[float] = []
    state = np.random.get_state()
    a = embed(features, method="tsne", seed=1, progress=seen.append)
    b = embed(features, method="tsne", seed=1)
    assert a.shape == (120, 2) and np.array_equal(a, b)
    assert all(np.array_equal(u, v) for u, v in zip(np.random.get_state(), state))  # the global RNG is untouched
    assert seen == [0.0, 0.1, 1.0]
    assert trustworthiness(features, a, n_neighbors=5) > 0.9
    assert trustworthiness(features, a, n_neighbors=5) > trustworthiness(features, embed(features), n_neighbors=5)


def test_locate_a_new_digit(bundled, test_set):
    features = penultimate_features(bundled, test_set.images[:100]).astype(np.float64)
    mine = penultimate_features(bundled, test_set.images[500:502]).astype(np.float64)
    coords = embed(features)
    np.testing.assert_allclose(locate(mine, features, coords), pca(features).transform(mine), atol=1e-9)
    tsne = np.random.default_rng(0).normal(size=(100, 2))  # any map: locate only reads positions
    np.testing.assert_allclose(locate(features[7], features, tsne, method="tsne"), tsne[7:8])  # a digit on the map
    nearest = int(np.argmin(((features - mine[0]) ** 2).sum(axis=1)))
    np.testing.assert_allclose(locate(mine[0], features, tsne, method="tsne", k=1), tsne[nearest:nearest + 1])
    d = np.sqrt(((features - mine[1]) ** 2).sum(axis=1))
    near = np.argsort(d)[:3]
    expected = (tsne[near] / d[near, None]).sum(axis=0) / (1 / d[near]).sum()
    np.testing.assert_allclose(locate(mine[1], features, tsne, method="tsne", k=3)[0], expected, rtol=1e-9)


@pytest.mark.parametrize(("call", "key"), [
    (lambda f: embed(f, method="umap"), "interpret.error.method"),
    (lambda f: embed(f[:, 0]), "interpret.error.features_shape"),
    (lambda f: embed(f[:2]), "interpret.error.features_shape"),
    (lambda f: embed(np.where(f == f.max(), np.nan, f)), "interpret.error.not_finite"),
    (lambda f: embed(np.zeros((5001, 2))), "interpret.error.too_many"),
    (lambda f: embed([["a", "b"]] * 4), "interpret.error.not_numbers"),
    (lambda f: pca(f, components=0), "interpret.error.integer"),
    (lambda f: locate(f[0, :5], f, np.zeros((len(f), 2))), "interpret.error.features_shape"),
    (lambda f: locate(f[0], f, np.zeros((len(f), 3))), "interpret.error.features_shape"),
    (lambda f: locate(f[0], f, np.zeros((len(f), 2)), method="umap"), "interpret.error.method"),
])
def test_embedding_refusals(call, key):
    features = np.random.default_rng(0).normal(size=(10, 6))
    with pytest.raises(InterpretError) as info:
        call(features)
    assert info.value.key == key
