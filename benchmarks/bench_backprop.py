"""Backprop stepper: cost of one page rerun's maths, against a plain torch autograd pass.

Run: /work/venv/bin/python benchmarks/bench_backprop.py [--repeat 200]
Prints milliseconds (best of 5 batches of --repeat calls) and ratios to the reference: torch
forward + backward on the lecture's 6x6 inputs (float64), measured in the same run.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from explorer.backprop import toy as bp


def best_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        times.append((time.perf_counter() - start) / repeat * 1000)
    return min(times)


def torch_reference(ex: dict) -> None:
    X = torch.tensor(ex["X"]).view(1, 1, 6, 6)
    W1 = torch.tensor(ex["W1"]).view(1, 1, 3, 3).requires_grad_()
    W2 = torch.tensor(ex["W2"]).view(1, 4).requires_grad_()
    L2_a = torch.sigmoid(F.linear(F.max_pool2d(torch.sigmoid(F.conv2d(X, W1)), 2, 2).view(1, -1), W2))
    (0.5 * (1.0 - L2_a) ** 2).sum().backward()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    ex = bp.toy_example()
    wt = bp.walkthrough(**ex)
    ref = best_ms(lambda: torch_reference(ex), args.repeat)
    rows = [
        ("torch forward+backward (reference)", ref),
        ("walkthrough (numpy, 19 steps + update)", best_ms(lambda: bp.walkthrough(**ex), args.repeat)),
        ("verify_with_torch", best_ms(lambda: bp.verify_with_torch(wt), args.repeat)),
        ("finite_difference (13 weights)", best_ms(lambda: bp.finite_difference(wt), args.repeat)),
        ("train_steps k=20", best_ms(lambda: bp.train_steps(**ex, k=20), max(args.repeat // 10, 1))),
        ("to_markdown + to_csv", best_ms(lambda: (bp.to_markdown(wt), bp.to_csv(wt)), max(args.repeat // 10, 1))),
    ]
    print(f"{'what':42s} {'ms':>8s} {'x ref':>7s}")
    for name, ms in rows:
        print(f"{name:42s} {ms:8.3f} {ms / ref:7.1f}")
    print(f"{'sum of one page rerun (all but reference)':42s} {sum(ms for _, ms in rows[1:]):8.3f}")


if __name__ == "__main__":
    main()
