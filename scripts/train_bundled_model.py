"""Train the SeedCNN shipped with the app (explorer/assets/seed_cnn.pt) on the embedded MNIST sample.

Reproducible: the run's own generators are seeded (`TrainConfig.seed`), the data is the embedded
5,000 training images, and the test accuracy on the embedded 1,000 test images is written to
explorer/assets/seed_cnn.json (tests/activations/test_inside.py checks the shipped weights reach it).

    python scripts/train_bundled_model.py            # 12 epochs; took 27 min on 2 shared, busy cores
    python scripts/train_bundled_model.py --dry-run  # one epoch on 500 images, writes nothing
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from explorer.activations.inside import BUNDLED_INFO, BUNDLED_WEIGHTS, accuracy  # noqa: E402
from explorer.core.data import load_embedded  # noqa: E402
from explorer.training import TrainConfig, Trainer  # noqa: E402

CONFIG = TrainConfig(model="seed_cnn", optimizer="adam", lr=0.001, batch_size=50, epochs=12,
                     seed=777, augment=True, shift=2, schedule="cosine")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="one quick epoch, write nothing")
    args = parser.parse_args()
    torch.set_num_threads(2)
    train, test = load_embedded("train"), load_embedded("test")
    config = CONFIG
    if args.dry_run:
        config = TrainConfig(**{**vars(CONFIG), "epochs": 1, "train_size": 500})
    trainer = Trainer(config, train, test, device=torch.device("cpu"))
    start = time.perf_counter()
    while not trainer.finished:
        trainer.step(trainer.steps_per_epoch)
        print(f"epoch {trainer.epoch}: test accuracy {trainer.history.test_accuracy[-1]:.4f}", flush=True)
    if trainer.error is not None:
        raise SystemExit(f"training failed: {trainer.error}")
    model = trainer.model.cpu().eval()
    acc = accuracy(model, test.images, test.labels)
    print(f"done in {time.perf_counter() - start:.0f} s; embedded test accuracy {acc:.4f}")
    if args.dry_run:
        return
    buf = io.BytesIO()
    torch.save({k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}, buf)
    BUNDLED_WEIGHTS.write_bytes(buf.getvalue())
    info = {
        "model": config.model,
        "test_accuracy": round(acc, 4),
        "test_images": len(test.labels),
        "train_images": len(train.labels),
        "data": "embedded MNIST sample (explorer/assets/mnist_sample.npz)",
        "config": vars(config),
        "sha256": hashlib.sha256(buf.getvalue()).hexdigest(),
        "bytes": len(buf.getvalue()),
        "made_by": "scripts/train_bundled_model.py",
    }
    BUNDLED_INFO.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {BUNDLED_WEIGHTS} ({len(buf.getvalue()) / 1024:.0f} KiB) and {BUNDLED_INFO}")


if __name__ == "__main__":
    main()
