"""MNIST data layer: full data on disk, download, and every fallback to the embedded sample."""

from __future__ import annotations

import gzip
import io
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch

from explorer.core import data
from tests.conftest import ROOT

SHARED = ROOT.parent / "shared" / "data" / "mnist"


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch):
    data.clear_cache()
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    yield
    data.clear_cache()


def _idx(array: np.ndarray) -> bytes:
    """An IDX file: zero, zero, dtype 0x08 (uint8), ndim, big-endian sizes, data."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write_full(root: Path, n: int = 20) -> Path:
    """A small dataset in torchvision's layout (<root>/MNIST/raw/*-ubyte)."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix in ("train", "t10k"):
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(_idx(rng.integers(0, 256, (n, 28, 28))))
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(_idx(np.arange(n) % 10))
    return raw


def _no_network(monkeypatch) -> list[str]:
    tried: list[str] = []

    def refuse(url, timeout=None):
        tried.append(url)
        raise urllib.error.URLError("no network in tests")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return tried


def test_embedded_sample_has_5000_train_and_1000_test_images():
    for split, n in (("train", 5000), ("test", 1000)):
        d = data.load_embedded(split)
        assert d.images.shape == (n, 1, 28, 28) and d.images.dtype == torch.float32
        assert d.labels.shape == (n,) and d.labels.dtype == torch.int64
        assert 0.0 <= d.images.min() and d.images.max() <= 1.0 and d.images.max() > 0.99
        assert torch.bincount(d.labels, minlength=10).tolist() == [n // 10] * 10
        assert d.kind == "embedded" and d.source == "embedded sample"
    assert data.EMBEDDED.stat().st_size <= 2_000_000


def test_embedded_test_digits_are_real_mnist_test_images():
    if not SHARED.is_dir():
        pytest.fail(f"{SHARED} is missing: the repository expects ../shared beside it")
    with gzip.open(SHARED / "t10k-images-idx3-ubyte.gz") as f:
        official = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)
    embedded = (data.load_embedded("test").images[:, 0] * 255).round().to(torch.uint8).numpy()
    assert np.array_equal(embedded[0], official[0])  # the first test image (a 7) is kept
    official_set = {img.tobytes() for img in official}
    assert all(img.tobytes() in official_set for img in embedded)


def test_full_mnist_on_disk_is_preferred(tmp_path, monkeypatch):
    raw = _write_full(tmp_path)
    tried = _no_network(monkeypatch)
    d = data.load_mnist("test", root=tmp_path)
    assert d.kind == "full" and d.notice is None and d.path == str(raw)
    assert d.images.shape == (20, 1, 28, 28) and d.labels.tolist() == [i % 10 for i in range(20)]
    assert tried == []


def test_environment_variable_sets_the_data_directory(tmp_path, monkeypatch):
    _write_full(tmp_path)
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    assert data.data_dir() == tmp_path
    assert data.load_mnist("train").kind == "full"


def test_offline_falls_back_to_the_embedded_sample_with_a_notice(tmp_path, monkeypatch):
    tried = _no_network(monkeypatch)
    d = data.load_mnist("train", root=tmp_path)
    assert d.kind == "embedded" and d.notice == "common.data_fallback.offline"
    assert tried and all("mnist" in url.lower() for url in tried)


def test_loading_is_cached_once_per_process(tmp_path, monkeypatch):
    tried = _no_network(monkeypatch)
    first = data.load_mnist("test", root=tmp_path)
    attempts = len(tried)
    assert data.load_mnist("test", root=tmp_path) is first
    assert len(tried) == attempts


def test_download_reports_progress_and_unpacks_for_torchvision(tmp_path, monkeypatch):
    from torchvision.datasets import MNIST

    rng = np.random.default_rng(1)
    payloads = {}
    for filename, _ in MNIST.resources:
        n = 30
        array = rng.integers(0, 256, (n, 28, 28)) if "images" in filename else np.arange(n) % 10
        payloads[filename] = gzip.compress(_idx(array))
    monkeypatch.setattr(MNIST, "resources", [(f, None) for f in payloads])  # md5 None: not checked

    class Response(io.BytesIO):
        def __init__(self, body: bytes):
            super().__init__(body)
            self.headers = {"Content-Length": str(len(body))}

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(urllib.request, "urlopen",
                        lambda url, timeout=None: Response(payloads[url.rsplit("/", 1)[1]]))
    seen: list[tuple[int, int]] = []
    d = data.load_mnist("train", root=tmp_path, progress=lambda done, total: seen.append((done, total)))
    assert d.kind == "full" and d.source == "full MNIST (downloaded)" and len(d.labels) == 30
    fractions = [done / total for done, total in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_corrupt_cached_files_fall_back(tmp_path, monkeypatch):
    raw = _write_full(tmp_path)
    (raw / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03garbage")
    _no_network(monkeypatch)
    d = data.load_mnist("test", root=tmp_path)
    assert d.kind == "embedded" and d.notice == "common.data_fallback.corrupt"


def test_unwritable_directory_falls_back(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    _no_network(monkeypatch)
    d = data.load_mnist("test", root=blocker)
    assert d.kind == "embedded" and d.notice == "common.data_fallback.unwritable"
    assert d.notice_params == {"path": str(blocker / "MNIST" / "raw")}


def test_environment_variable_pointing_nowhere_falls_back(tmp_path, monkeypatch):
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "does-not-exist"))
    tried = _no_network(monkeypatch)
    d = data.load_mnist("test")
    assert d.kind == "embedded" and d.notice == "common.data_fallback.missing_dir"
    assert tried == []


def test_unknown_split_is_refused():
    with pytest.raises(ValueError, match="split"):
        data.load_mnist("validation")
