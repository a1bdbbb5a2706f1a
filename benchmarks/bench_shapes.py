"""How long the shape formulas take compared with asking PyTorch (building the module and running a zero tensor).

Run: /work/venv/bin/python benchmarks/bench_shapes.py
Prints, per preset, the time of `summarize` (pure Python formulas), of `verify` (build + forward in PyTorch,
CPU or meta device) and their ratio, plus 10,000 conv_output_size calls against 10,000 nn.Conv2d forwards.
"""

from __future__ import annotations

import random
import time

import torch
from torch import nn

from explorer.shapes import network, sizes


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    network.verify("alexnet")  # first use of the meta device loads PyTorch's meta kernels (one-off)
    print(f"{'preset':16} {'summarize ms':>13} {'verify ms':>10} {'device':>7} {'ratio':>7}")
    for name in network.PRESETS:
        s = best_of(lambda: network.summarize(name))
        v = best_of(lambda: network.verify(name), repeat=3)
        print(f"{name:16} {1000 * s:13.2f} {1000 * v:10.1f} {network.verify(name).device:>7} {v / s:7.0f}x")
    rng = random.Random(0)
    configs = [(rng.randint(8, 64), rng.choice([1, 3, 5]), rng.randint(1, 3), rng.randint(0, 2))
               for _ in range(10_000)]
    ours = best_of(lambda: [sizes.conv_output_size(n, k, stride=s, padding=p) for n, k, s, p in configs], 3)
    small = configs[:500]

    def torch_sizes() -> None:
        with torch.no_grad():
            for n, k, s, p in small:
                nn.functional.conv2d(torch.zeros(1, 1, n, 1), torch.zeros(1, 1, k, 1), stride=(s, 1), padding=(p, 0))

    theirs = best_of(torch_sizes, 3) * len(configs) / len(small)
    print(f"10,000 output sizes: formula {1000 * ours:.1f} ms, torch conv2d forward {1000 * theirs:.1f} ms "
          f"(extrapolated from 500), ratio {theirs / ours:.0f}x")


if __name__ == "__main__":
    main()
