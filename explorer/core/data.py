"""MNIST for the app: full dataset when available, else the embedded 5,000 + 1,000 sample.

Order of preference (see `load_mnist`):
1. full MNIST already on disk in torchvision's layout, ``<data_dir>/MNIST/raw/*-ubyte``;
2. a download with torchvision's own mirror list and checksums, when the network allows;
3. the embedded sample shipped in ``explorer/assets/mnist_sample.npz`` (made by
   ``scripts/make_embedded_mnist.py`` from real MNIST files).
"""

from __future__ import annotations

import os
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal

import numpy as np
import torch

Split = Literal["train", "test"]
Progress = Callable[[int, int], None]  # (bytes done, bytes expected in total)

ENV_VAR = "CNN_EXPLORER_DATA"
EMBEDDED = Path(__file__).parents[1] / "assets" / "mnist_sample.npz"
DOWNLOAD_GIVE_UP_S = 10.0  # an unreachable network is given up on within this many seconds
CHUNK = 64 * 1024


@dataclass(frozen=True)
class MnistData:
    """One split of MNIST, ready for a model."""

    images: torch.Tensor  # (N, 1, 28, 28) float32 in [0, 1]
    labels: torch.Tensor  # (N,) int64
    source: str  # short description of which data this is, e.g. "embedded sample"
    kind: Literal["full", "embedded"]  # which of the two datasets
    path: str = ""  # where the full data lives ("" for the embedded sample)
    notice: str | None = None  # i18n key of a fallback notice (why the full data is not in use)
    notice_params: dict[str, str] = field(default_factory=dict)  # its format arguments


class _Fallback(Exception):
    """Why the full dataset cannot be used: an i18n key and its arguments."""

    def __init__(self, key: str, **params: str) -> None:
        super().__init__(key)
        self.key, self.params = key, params


def data_dir() -> Path:
    """Where full MNIST lives: ``$CNN_EXPLORER_DATA``, else ``~/.cache/cnn-explorer``."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "cnn-explorer"


_cache: dict[tuple[str, str, bool], MnistData] = {}
_lock = threading.Lock()


def load_mnist(split: Split, *, root: Path | None = None, download: bool = True,
               progress: Progress | None = None) -> MnistData:
    """MNIST ``split`` ("train" or "test"), cached once per process (read-only, shared)."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    root = Path(root) if root is not None else data_dir()
    key = (split, str(root), download)
    with _lock:  # a second caller waits for the first download instead of starting another
        if key not in _cache:
            _cache[key] = _load_uncached(split, root, download=download, progress=progress)
        return _cache[key]


def clear_cache() -> None:
    """Forget loaded data (tests, or after the user adds files)."""
    with _lock:
        _cache.clear()


def _load_uncached(split: Split, root: Path, *, download: bool, progress: Progress | None) -> MnistData:
    try:
        return _load_full(split, root, download=download, progress=progress)
    except _Fallback as why:
        return load_embedded(split, notice=why.key, notice_params=why.params)


def _load_full(split: Split, root: Path, *, download: bool, progress: Progress | None) -> MnistData:
    from torchvision.datasets import MNIST

    if os.environ.get(ENV_VAR) and root == data_dir() and not root.is_dir():
        raise _Fallback("common.data_fallback.missing_dir", path=str(root))
    raw = root / MNIST.__name__ / "raw"  # torchvision's layout: <root>/MNIST/raw
    downloaded = False
    if not _have_full(raw):
        if not download:
            raise _Fallback("common.data_fallback.offline")
        _download(raw, progress=progress)
        downloaded = True
    try:
        ds = MNIST(str(root), train=(split == "train"), download=False)
        images = ds.data.to(torch.float32).div_(255).unsqueeze(1)
        labels = ds.targets.to(torch.int64)
        _check(images, labels)
    except Exception as err:  # torchvision raises assorted errors on damaged files
        raise _Fallback("common.data_fallback.corrupt", path=str(raw)) from err
    source = "full MNIST (downloaded)" if downloaded else "full MNIST"
    return MnistData(images, labels, source, "full", path=str(raw))


def _have_full(raw: Path) -> bool:
    from torchvision.datasets import MNIST

    return all((raw / Path(url).stem).is_file() for url, _ in MNIST.resources)


def _download(raw: Path, *, progress: Progress | None) -> None:
    """Fetch the four MNIST archives from torchvision's mirrors, check md5, unpack into ``raw``."""
    from torchvision.datasets import MNIST
    from torchvision.datasets.utils import check_integrity, extract_archive

    try:
        raw.mkdir(parents=True, exist_ok=True)
        probe = raw / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError:
        raise _Fallback("common.data_fallback.unwritable", path=str(raw)) from None
    deadline = time.monotonic() + DOWNLOAD_GIVE_UP_S
    total = len(MNIST.resources)
    for i, (filename, md5) in enumerate(MNIST.resources):
        archive = raw / filename
        if not check_integrity(str(archive), md5):
            _fetch_from_mirrors(MNIST.mirrors, filename, archive, deadline=deadline,
                                progress=_scaled(progress, i, total))
            if not check_integrity(str(archive), md5):
                archive.unlink(missing_ok=True)
                raise _Fallback("common.data_fallback.corrupt", path=str(raw))
        extract_archive(str(archive), str(raw))
    if progress:
        progress(1, 1)


def _fetch_from_mirrors(mirrors: list[str], filename: str, target: Path, *, deadline: float,
                        progress: Progress | None) -> None:
    for mirror in mirrors:
        timeout = deadline - time.monotonic()
        if timeout <= 0:
            break
        try:
            with urllib.request.urlopen(f"{mirror}{filename}", timeout=min(timeout, 5.0)) as response:
                expected = int(response.headers.get("Content-Length") or 0)
                partial = target.with_suffix(".part")
                with open(partial, "wb") as out:
                    done = 0
                    while chunk := response.read(CHUNK):
                        out.write(chunk)
                        done += len(chunk)
                        if progress and expected:
                            progress(done, expected)
                partial.replace(target)
                return
        except OSError:
            continue
    raise _Fallback("common.data_fallback.offline")


def _scaled(progress: Progress | None, index: int, count: int) -> Progress | None:
    """Map one file's progress onto the whole download (each file one equal share)."""
    if progress is None:
        return None
    scale = 1_000_000
    return lambda done, total: progress(int(scale * (index + done / total) / count), scale)


def _check(images: torch.Tensor, labels: torch.Tensor) -> None:
    if images.ndim != 4 or images.shape[1:] != (1, 28, 28) or len(images) != len(labels) or not len(labels):
        raise ValueError(f"unexpected MNIST shapes {tuple(images.shape)} / {tuple(labels.shape)}")
    if labels.min() < 0 or labels.max() > 9:
        raise ValueError("MNIST labels outside 0..9")


def load_embedded(split: Split, *, notice: str | None = None,
                  notice_params: dict[str, str] | None = None) -> MnistData:
    """The sample shipped with the package: 5,000 training and 1,000 test digits."""
    with np.load(EMBEDDED) as npz:
        images = torch.from_numpy(npz[f"{split}_images"]).to(torch.float32).div_(255).unsqueeze(1)
        labels = torch.from_numpy(npz[f"{split}_labels"]).to(torch.int64)
    return MnistData(images, labels, "embedded sample", "embedded",
                     notice=notice, notice_params=dict(notice_params or {}))


def embedded_counts() -> dict[str, int]:
    """How many images each split of the embedded sample holds."""
    with np.load(EMBEDDED) as npz:
        return {split: len(npz[f"{split}_labels"]) for split in ("train", "test")}
