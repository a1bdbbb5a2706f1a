"""Build explorer/assets/mnist_sample.npz, the MNIST sample that ships with the app.

Run from the repository root:  python scripts/make_embedded_mnist.py [../shared/data/mnist]

Train: the 5,000-image subset (500 per digit) as given. Test: the first 100 test images of each digit
from the official 10,000-image test set, in their original order. MNIST is by Yann LeCun, Corinna Cortes
and Christopher J.C. Burges (CC BY-SA 3.0).
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "explorer" / "assets" / "mnist_sample.npz"
PER_DIGIT_TEST = 100


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (gzip) as a uint8 array: big-endian magic, dimension sizes, then data."""
    data = gzip.decompress(path.read_bytes())
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def main(src: Path) -> None:
    train_x = read_idx(src / "train-5k-images-idx3-ubyte.gz")
    train_y = read_idx(src / "train-5k-labels-idx1-ubyte.gz")
    test_x = read_idx(src / "t10k-images-idx3-ubyte.gz")
    test_y = read_idx(src / "t10k-labels-idx1-ubyte.gz")
    keep = np.sort(np.concatenate([np.flatnonzero(test_y == d)[:PER_DIGIT_TEST] for d in range(10)]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, train_images=train_x, train_labels=train_y,
                        test_images=test_x[keep], test_labels=test_y[keep])
    print(f"{OUT.relative_to(ROOT)}: {len(train_y)} train + {len(keep)} test, {OUT.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data" / "mnist")
