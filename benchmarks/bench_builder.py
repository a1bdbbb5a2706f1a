"""Your own network, your own data (issue 18): a table edit, a 2,000-image zip, training on 64×128 images.

    python benchmarks/bench_builder.py [--images 2000] [--steps 20]

Prints, each against a reference measured in the same run:
  edit      `check_layers` of the seed CNN's table after one edit (what the page computes per edit) vs
            building the same network in PyTorch and pushing a zero tensor through it
  zip       `load_image_folder` of a zip of N 128×96 PNGs in 4 class folders (Resize((64,128)), colour) vs
            torchvision's ImageFolder + DataLoader reading the same files unpacked on disk
  train     steps of the seed CNN's table on (3, 64, 128) images (batch 100) through `Trainer`, against the
            FLOP limit: the model's forward+backward FLOPs (torch.utils.flop_counter) at the fp32 matmul peak
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from explorer import builder as bd  # noqa: E402
from explorer.training import TrainConfig, Trainer  # noqa: E402

SHAPE = (3, 64, 128)  # the lecture's Resize((64, 128)), colour


def best_s(fn, repeat: int = 5) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_edit() -> dict:
    layers = bd.preset("seed_cnn")
    layers[0] = {**layers[0], "out_channels": 48}  # one edit: more channels in the first conv

    def reference() -> None:
        model = bd.build_model(layers, (1, 28, 28))
        with torch.no_grad():
            model(torch.zeros(1, 1, 28, 28))

    ours, ref = best_s(lambda: bd.check_layers(layers, (1, 28, 28))), best_s(reference)
    return {"check_layers_ms": round(1e3 * ours, 2), "pytorch_build_and_forward_ms": round(1e3 * ref, 2),
            "ratio": round(ours / ref, 2)}


def _zip(n: int, classes: int = 4) -> bytes:
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for i in range(n):
            png = io.BytesIO()
            Image.fromarray(rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)).save(png, format="PNG")
            zf.writestr(f"photos/class{i % classes}/{i}.png", png.getvalue())
    return buffer.getvalue()


def bench_zip(n: int) -> dict:
    from torchvision import datasets, transforms

    data = _zip(n)
    start = time.perf_counter()
    loaded = bd.load_image_folder(data, size=SHAPE[1:])
    ours = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        zipfile.ZipFile(io.BytesIO(data)).extractall(tmp)
        start = time.perf_counter()
        folder = datasets.ImageFolder(f"{tmp}/photos", transforms.Compose([transforms.Resize(SHAPE[1:]),
                                                                            transforms.ToTensor()]))
        for _ in torch.utils.data.DataLoader(folder, batch_size=100):
            pass
        ref = time.perf_counter() - start
    return {"images": len(loaded.labels), "zip_mb": round(len(data) / 2**20, 1), "load_image_folder_s": round(ours, 2),
            "imagefolder_dataloader_s": round(ref, 2), "ratio": round(ours / ref, 2)}


def matmul_gflops(n: int = 1024, repeats: int = 10) -> float:
    a, b = torch.rand(n, n), torch.rand(n, n)
    for _ in range(3):
        a @ b
    best = min(best_s(lambda: a @ b, 1) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def bench_train(steps: int) -> dict:
    from torch.utils.flop_counter import FlopCounterMode

    layers = tuple(bd.preset("seed_cnn", classes=4))
    config = TrainConfig(model="custom", layers=layers, input_shape=SHAPE, epochs=1000, classes=4)
    gen = torch.Generator().manual_seed(0)
    images, labels = torch.rand(1000, *SHAPE, generator=gen), torch.randint(0, 4, (1000,), generator=gen)
    split = type("Split", (), {})  # the Trainer reads .images and .labels
    train, test = split(), split()
    train.images, train.labels, test.images, test.labels = images, labels, images[:200], labels[:200]
    trainer = Trainer(config, train, test)
    model = bd.build_model(list(layers), SHAPE)
    with FlopCounterMode(display=False) as counter:
        model(torch.rand(1, *SHAPE)).sum().backward()
    flop = counter.get_total_flops()
    trainer.step(3)
    rates, peaks = [], []
    for _ in range(3):
        peaks.append(matmul_gflops())
        start = time.perf_counter()
        trainer.step(steps)
        rates.append(steps * 100 / (time.perf_counter() - start))
    rate, peak = statistics.median(rates), max(peaks)
    limit = peak * 1e9 / flop
    return {"mflop_per_image": round(flop / 1e6, 1), "images_per_s": round(rate), "matmul_peak_gflops": round(peak),
            "flop_limit_images_per_s": round(limit), "over_limit": round(rate / limit, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    print("edit", bench_edit(), flush=True)
    print("zip", bench_zip(args.images), flush=True)
    print("train", bench_train(args.steps), flush=True)


if __name__ == "__main__":
    main()
