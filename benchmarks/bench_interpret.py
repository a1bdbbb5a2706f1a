"""How long the interpret wing's slow functions take (one run each, after a warm-up of the small ones).

    python benchmarks/bench_interpret.py [threads]

Runs with `threads` torch/OpenMP and BLAS threads (default 1, as a worker process would).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import torch
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer import interpret  # noqa: E402
from explorer.activations import load_bundled_model  # noqa: E402
from explorer.core.data import load_embedded  # noqa: E402


def timed(label, fn):
    start = time.perf_counter()
    out = fn()
    print(f"{label:58s} {time.perf_counter() - start:7.2f} s", flush=True)
    return out


def main() -> None:
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    torch.set_num_threads(threads)
    print(f"torch {torch.__version__}, {threads} thread(s), load average {os.getloadavg()[0]:.2f}")
    model = load_bundled_model()
    test = load_embedded("test")
    x, y = test.images[:1], int(test.labels[0])
    with threadpool_limits(limits=threads):
        timed("first calls (imports captum, scipy, scikit-learn; warm-up)", lambda: (
            interpret.occlusion(model, x, y), interpret.embed(torch.rand(20, 5).numpy(), method="tsne"),
            interpret.visualize_class(model, 0, config=interpret.VisConfig(steps=4))))
        timed("visualize_class (1 class, 256 steps)", lambda: interpret.visualize_class(model, 3))
        timed("class_gallery (10 classes, 256 steps)", lambda: interpret.class_gallery(model))
        timed("visualize_layer features.0 (32 channels, 256 steps)",
              lambda: interpret.visualize_layer(model, "features.0"))
        timed("visualize_layer features.4 (64 channels, 256 steps)",
              lambda: interpret.visualize_layer(model, "features.4"))
        timed("visualize_channel features.4 (4 starts)", lambda: interpret.visualize_channel(model, "features.4", 28))
        timed("top_activating over 1,000 digits", lambda: interpret.top_activating(model, "features.4", 28,
                                                                                   test.images))
        timed("occlusion 28x28, window 4, stride 2", lambda: interpret.occlusion(model, x, y))
        timed("integrated_gradients, 50 steps", lambda: interpret.integrated_gradients(model, x, y, steps=50))
        timed("integrated_gradients, 200 steps", lambda: interpret.integrated_gradients(model, x, y, steps=200))
        timed("grad_cam_layers (2 conv layers)", lambda: interpret.grad_cam_layers(model, x, y))
        timed("attribution_maps (4 methods)", lambda: interpret.attribution_maps(model, x, y))
        timed("sanity_check gradcam", lambda: interpret.sanity_check(model, x, y))
        timed("smallest_flipping_eps", lambda: interpret.smallest_flipping_eps(model, x, y))
        features = timed("penultimate_features of 1,000 digits", lambda: interpret.penultimate_features(
            model, test.images))
        timed("PCA of 1,000 digits (3136 features)", lambda: interpret.embed(features))
        timed("t-SNE of 1,000 digits", lambda: interpret.embed(features, method="tsne"))
        tl = interpret.Timelapse()
        frame = timed("make_frame (seed CNN, with digit)", lambda: interpret.make_frame(
            model, step=0, epoch=0, digit=x, confusion=torch.zeros(10, 10, dtype=torch.int64)))
        print(f"one frame: {frame.memory_bytes() / 1024:.0f} kB; default bound {tl.bound_mb():g} MB, "
              f"{tl.config.max_frames} frames")


if __name__ == "__main__":
    main()
