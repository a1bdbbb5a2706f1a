"""Fixtures of the activations wing's tests: the bundled model and the embedded test digits."""

from __future__ import annotations

import pytest
from torch import nn

from explorer.activations import load_bundled_model
from explorer.core.data import load_embedded


@pytest.fixture(scope="module")
def model() -> nn.Module:
    return load_bundled_model()


@pytest.fixture(scope="module")
def test_set():
    return load_embedded("test")
