"""Training benchmarks for the Train MNIST page (issue 6). Every ratio is measured in this one run.

    python benchmarks/bench_training.py                      # everything, data from ../shared/data/mnist
    python benchmarks/bench_training.py --only throughput    # or: live, accuracy, eval, lecture
    python benchmarks/bench_training.py --data DIR --train-prefix train --epochs 15 --plain --only accuracy
                                                             # full MNIST (60k) when DIR holds train-images-idx3-ubyte.gz

Figures printed:
  throughput   project Trainer vs the lectures' loop (MNIST-style dataset, per-sample ToTensor, DataLoader)
               and vs the FLOP limit (22.77 MFLOP per image fwd+bwd; fp32 matmul peak measured here)
  live         training with the page's live view (same refresh and figures) vs headless
  accuracy     seed CNN on train-5k, evaluated on t10k (epochs, seconds)
  eval         evaluation of the 10,000 test images
  rss          peak resident memory of this process
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from explorer.training import (  # noqa: E402
    Runner,
    TrainConfig,
    Trainer,
    plots,  # noqa: E402
)

FLOP_PER_IMAGE = 22.77e6  # seed CNN, forward + backward, per image (issue 6; torch.utils.flop_counter)
FORWARD_FLOP_PER_IMAGE = 7.74e6  # seed CNN, forward only, per image (torch.utils.flop_counter)
POLL_S = 0.5  # the page's refresh (pages/train.py)


@dataclass(frozen=True)
class Split:
    images: torch.Tensor  # (N, 1, 28, 28) float32 in [0, 1]
    labels: torch.Tensor  # (N,) int64
    raw: torch.Tensor  # (N, 28, 28) uint8, for the lectures' per-sample pipeline


def read_split(data: Path, prefix: str) -> Split:
    """IDX files ``<prefix>-images-idx3-ubyte[.gz]`` and labels, read by torchvision's reader."""
    from torchvision.datasets.mnist import read_image_file, read_label_file

    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for kind, suffix in (("images", "idx3"), ("labels", "idx1")):
            name = f"{prefix}-{kind}-{suffix}-ubyte"
            src = data / name if (data / name).exists() else data / f"{name}.gz"
            dst = Path(tmp) / name
            if src.suffix == ".gz":
                with gzip.open(src, "rb") as fin, open(dst, "wb") as fout:
                    shutil.copyfileobj(fin, fout)
            else:
                shutil.copyfile(src, dst)
            paths.append(dst)
        raw, labels = read_image_file(str(paths[0])), read_label_file(str(paths[1]))
    return Split(raw.to(torch.float32).div(255).unsqueeze(1), labels.to(torch.int64), raw)


# ----- the lectures' reference pipeline (seed 000) --------------------------------------------------
class LectureCNN(torch.nn.Module):
    """The lectures' class CNN, as written there (layer1, layer2, fc; Xavier init of fc)."""

    def __init__(self) -> None:
        super().__init__()
        self.layer1 = torch.nn.Sequential(torch.nn.Conv2d(1, 32, 3, 1, 1), torch.nn.ReLU(), torch.nn.MaxPool2d(2, 2))
        self.layer2 = torch.nn.Sequential(torch.nn.Conv2d(32, 64, 3, 1, 1), torch.nn.ReLU(), torch.nn.MaxPool2d(2, 2))
        self.fc = torch.nn.Linear(7 * 7 * 64, 10, bias=True)
        torch.nn.init.xavier_uniform_(self.fc.weight)

    def forward(self, x):
        out = self.layer2(self.layer1(x))
        return self.fc(out.view(out.size(0), -1))


class MnistStyle(torch.utils.data.Dataset):
    """What torchvision's MNIST does per item: uint8 → PIL image → transform (ToTensor)."""

    def __init__(self, split: Split) -> None:
        from torchvision import transforms

        self.data, self.targets, self.transform = split.raw, split.labels, transforms.ToTensor()

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int):
        from PIL import Image

        img = Image.fromarray(self.data[index].numpy(), mode="L")
        return self.transform(img), int(self.targets[index])


def lecture_images_per_s(split: Split, steps: int) -> float:
    torch.manual_seed(777)  # the lectures' own (global) seeding; fine in a benchmark process
    loader = torch.utils.data.DataLoader(MnistStyle(split), batch_size=100, shuffle=True, drop_last=True)
    model = LectureCNN()
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    done, start = 0, None
    while done < steps + 3:
        for x, y in loader:
            if done == 3:
                start = time.perf_counter()  # after 3 warm-up steps
            optimizer.zero_grad()
            cost = criterion(model(x), y)
            cost.backward()
            optimizer.step()
            done += 1
            if done >= steps + 3:
                break
    return steps * 100 / (time.perf_counter() - start)


def trainer_images_per_s(split: Split, test: Split, steps: int) -> float:
    trainer = Trainer(TrainConfig(epochs=1000), split, test)
    trainer.step(3)
    start = time.perf_counter()
    trainer.step(steps)
    return steps * 100 / (time.perf_counter() - start)


def matmul_gflops(n: int = 1024, repeats: int = 10) -> float:
    a, b = torch.rand(n, n), torch.rand(n, n)
    for _ in range(3):
        a @ b
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def conv2_alone_images_per_s(steps: int, batch: int = 100) -> float:
    """The seed CNN's second convolution alone (32 -> 64, 3x3, 14x14; 95% of its FLOPs), forward and backward
    (input and weight gradients) in PyTorch's own oneDNN kernel, channels-last: a bound for the whole step."""
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(batch, 32, 14, 14, generator=gen).contiguous(memory_format=torch.channels_last).requires_grad_()
    conv = torch.nn.Conv2d(32, 64, 3, padding=1).to(memory_format=torch.channels_last)
    grad = torch.ones(batch, 64, 14, 14).contiguous(memory_format=torch.channels_last)
    for _ in range(3):
        conv(x).backward(grad)
    start = time.perf_counter()
    for _ in range(steps):
        conv(x).backward(grad)
    return steps * batch / (time.perf_counter() - start)


def bench_throughput(train: Split, test: Split, *, steps: int, rounds: int) -> dict:
    ours, ref, peak, conv = [], [], [], []
    for _ in range(rounds):  # interleaved, so load from other processes hits both alike
        peak.append(matmul_gflops())
        ref.append(lecture_images_per_s(train, steps))
        ours.append(trainer_images_per_s(train, test, steps))
        conv.append(conv2_alone_images_per_s(steps))
    o, r, p, c = statistics.median(ours), statistics.median(ref), max(peak), statistics.median(conv)
    achieved, limit = o * FLOP_PER_IMAGE / 1e9, p * 1e9 / FLOP_PER_IMAGE
    return {"trainer_images_per_s": round(o), "lecture_loop_images_per_s": round(r),
            "speedup_vs_lecture_loop": round(o / r, 2), "matmul_peak_gflops": round(p, 1),
            "trainer_gflops": round(achieved, 1), "flop_limit_images_per_s": round(limit),
            "trainer_over_limit": round(o / limit, 2), "conv2_alone_images_per_s": round(c),
            "conv2_alone_over_limit": round(c / limit, 2), "torch_threads": torch.get_num_threads()}


# ----- live view vs headless -----------------------------------------------------------------------
def draw_once(trainer: Trainer, runner: Runner, image_index: int = 0) -> int:
    """What one refresh of the page computes and sends: snapshot, feature maps, all figures as JSON."""
    runner.heartbeat()
    snap = trainer.snapshot()
    image = trainer.test_data.images[image_index]
    maps = trainer.feature_maps(image)
    trainer.predict(image[None])
    figs = [plots.curves_figure(snap.history, loss_title="L", accuracy_title="A", step_title="S",
                                train_name="t", train_epoch_name="e", test_name="v"),
            *[plots.filters_figure(w, title="f") for w in snap.filters[:2]],
            plots.feature_maps_figure([("in", image), *maps], channels=8)]
    if snap.evaluation is not None:
        ev = snap.evaluation
        wrong = ev.misclassified(limit=24)
        figs += [plots.confusion_figure(ev.confusion, title="c", true_title="t", predicted_title="p"),
                 plots.misclassified_figure(trainer.test_data.images[wrong], ev.predictions[wrong].tolist(),
                                            ev.labels[wrong].tolist(), caption="{pred}/{true}")]
    return sum(len(f.to_json()) for f in figs)


def steps_in(train: Split, test: Split, seconds: float, *, live: bool) -> tuple[float, float]:
    trainer = Trainer(TrainConfig(epochs=1000), train, test)
    runner = Runner(trainer, slots=threading.BoundedSemaphore(1), heartbeat_timeout=60)
    trainer.step(2)
    first = trainer.step_count
    start = time.perf_counter()
    runner.start()
    draws, payload = 0, 0
    while time.perf_counter() - start < seconds:
        if live:
            t0 = time.perf_counter()
            payload += draw_once(trainer, runner)
            draws += 1
            time.sleep(max(0.0, POLL_S - (time.perf_counter() - t0)))
        else:
            runner.heartbeat()
            time.sleep(POLL_S)
    runner.pause()
    elapsed = time.perf_counter() - start
    return (trainer.step_count - first) * 100 / elapsed, draws / elapsed


def bench_live(train: Split, test: Split, *, seconds: float, rounds: int) -> dict:
    live, headless, hz = [], [], []
    for _ in range(rounds):
        h, _ = steps_in(train, test, seconds, live=False)
        v, rate = steps_in(train, test, seconds, live=True)
        headless.append(h)
        live.append(v)
        hz.append(rate)
    return {"headless_images_per_s": round(statistics.median(headless)),
            "live_images_per_s": round(statistics.median(live)),
            "live_over_headless": round(statistics.median(live) / statistics.median(headless), 2),
            "live_refresh_hz": round(statistics.median(hz), 2)}


# ----- accuracy, evaluation ------------------------------------------------------------------------
def bench_accuracy(train: Split, test: Split, *, epochs: int, plain: bool) -> dict:
    config = TrainConfig(epochs=epochs) if plain else TrainConfig(epochs=epochs, augment=True, schedule="cosine")
    trainer = Trainer(config, train, test)
    start = time.perf_counter()
    while not trainer.finished:
        trainer.step(trainer.steps_per_epoch)
        print(f"  epoch {trainer.epoch:>2}: test accuracy {trainer.history.test_accuracy[-1]:.4f} "
              f"({time.perf_counter() - start:.0f} s)", flush=True)
    return {"recipe": "lectures' (Adam 0.001, batch 100)" if plain else
            "lectures' + random shifts ±2 px + cosine lr decay", "train_images": trainer.train_size,
            "epochs": epochs, "seconds": round(time.perf_counter() - start, 1),
            "test_accuracy": round(trainer.history.test_accuracy[-1], 4)}


def bench_eval(train: Split, test: Split) -> dict:
    trainer = Trainer(TrainConfig(), train, test)
    trainer.evaluate()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        trainer.evaluate()
        times.append(time.perf_counter() - start)
    floor = len(test.labels) * FORWARD_FLOP_PER_IMAGE / (matmul_gflops() * 1e9)  # at the fp32 matmul peak
    return {"images": len(test.labels), "seconds_best": round(min(times), 3),
            "seconds_median": round(statistics.median(times), 3), "flop_floor_seconds": round(floor, 3),
            "median_over_floor": round(statistics.median(times) / floor, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "mnist")
    parser.add_argument("--train-prefix", default="train-5k", help="train-5k (shared subset) or train (full)")
    parser.add_argument("--only", choices=["throughput", "live", "accuracy", "eval"], action="append")
    parser.add_argument("--steps", type=int, default=30, help="timed steps per throughput measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=12.0, help="per live/headless measurement")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--plain", action="store_true", help="accuracy with the lectures' plain recipe")
    args = parser.parse_args()
    sections = args.only or ["throughput", "live", "eval", "accuracy"]
    train, test = read_split(args.data, args.train_prefix), read_split(args.data, "t10k")
    print(f"data: {len(train.labels)} training images ({args.train_prefix}), {len(test.labels)} test images; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    results = {}
    if "throughput" in sections:
        results["throughput"] = bench_throughput(train, test, steps=args.steps, rounds=args.rounds)
        print("throughput", json.dumps(results["throughput"]), flush=True)
    if "live" in sections:
        results["live"] = bench_live(train, test, seconds=args.seconds, rounds=args.rounds)
        print("live", json.dumps(results["live"]), flush=True)
    if "eval" in sections:
        results["eval"] = bench_eval(train, test)
        print("eval", json.dumps(results["eval"]), flush=True)
    if "accuracy" in sections:
        results["accuracy"] = bench_accuracy(train, test, epochs=args.epochs, plain=args.plain)
        print("accuracy", json.dumps(results["accuracy"]), flush=True)
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print("peak_rss_mb", results["peak_rss_mb"])


if __name__ == "__main__":
    main()
