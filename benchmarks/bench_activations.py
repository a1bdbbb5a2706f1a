"""How long one rerun of the "your own image" page spends in explorer code.

    python benchmarks/bench_activations.py

Prints milliseconds per call and ratios against a plain forward pass of the same model, measured in
the same run (the ratios travel between machines better than the milliseconds do).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer.activations import digits, inside  # noqa: E402


def ms(fn, *, repeat: int = 20) -> float:
    fn()  # warm-up
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat * 1000


def main() -> None:
    torch.set_num_threads(1)
    model = inside.load_bundled_model()
    canvas = np.full((280, 280, 4), 255, np.uint8)
    canvas[40:240, 130:150, :3] = 0
    photo = np.full((3000, 4000, 3), 225, np.uint8)  # a 12-megapixel phone photo
    photo[600:2400, 1800:2100] = 30
    x = inside.to_input(digits.preprocess_digit(canvas))
    forward = ms(lambda: model(x).detach())
    rows = [
        ("plain forward pass (reference)", forward),
        ("preprocess_steps, 280x280 canvas", ms(lambda: digits.preprocess_steps(canvas))),
        ("preprocess_steps, 12 MP photo", ms(lambda: digits.preprocess_steps(photo), repeat=5)),
        ("feature_maps (6 hooks)", ms(lambda: inside.feature_maps(model, x))),
        ("grad_cam", ms(lambda: inside.grad_cam(model, x))),
        ("saliency", ms(lambda: inside.saliency(model, x))),
    ]
    print(f"{'step':40s} {'ms':>8s} {'x forward':>10s}")
    for name, value in rows:
        print(f"{name:40s} {value:8.2f} {value / forward:10.1f}")


if __name__ == "__main__":
    main()
