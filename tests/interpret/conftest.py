"""Fixtures of the interpret wing's tests: the three kinds of model (the bundled seed CNN, a Train-page
model, a builder model with colour input and four classes) and the embedded test digits."""

from __future__ import annotations

import pytest
import torch
from threadpoolctl import threadpool_limits
from torch import nn

from explorer.activations import load_bundled_model
from explorer.core.data import load_embedded
from explorer.core.models import DeepSeedCNN, LeNet5, MetaBuilt
from explorer.core.threads import limit_this_thread


def builder_model(*, seed: int = 0) -> nn.Module:
    """A builder-like model: (3, 16, 20) colour input, four classes, features/classifier Sequentials."""
    return MetaBuilt(lambda: (
        nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # (B, 4, 8, 10)
                      nn.Conv2d(4, 6, 3, padding=1), nn.ReLU()),                   # (B, 6, 8, 10)
        nn.Sequential(nn.Flatten(), nn.Linear(6 * 8 * 10, 12), nn.ReLU(), nn.Linear(12, 4)),
    ), generator=torch.Generator().manual_seed(seed)).eval()


BUILDER_SHAPE = (3, 16, 20)


@pytest.fixture(autouse=True)
def _one_thread():
    """These tests run many small forward/backward passes: on a shared 2-core machine a second OpenMP
    thread only waits for the other processes (10x slower). Only this test thread is limited, and only
    while the test runs (the app's worker processes limit their own threads the same way)."""
    before = torch.get_num_threads()
    limit_this_thread(1)
    with threadpool_limits(limits=1):  # numpy's BLAS (PCA, t-SNE) likewise, restored afterwards
        yield
    limit_this_thread(before)


@pytest.fixture(scope="session")
def bundled() -> nn.Module:
    return load_bundled_model()


@pytest.fixture(scope="session")
def test_set():
    return load_embedded("test")


@pytest.fixture(scope="session")
def models(bundled) -> dict[str, nn.Module]:
    """One model of each kind the app has, MNIST-shaped ones first."""
    return {
        "bundled": bundled,
        "deep": DeepSeedCNN(generator=torch.Generator().manual_seed(3)).eval(),
        "lenet": LeNet5(generator=torch.Generator().manual_seed(4)).eval(),
    }


@pytest.fixture()
def colour_image() -> torch.Tensor:
    return torch.rand((1, *BUILDER_SHAPE), generator=torch.Generator().manual_seed(9))
