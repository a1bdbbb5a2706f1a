"""Fully connected lesson (issue 17): the stepper's rerun and the homework MLP's 20 epochs on 5,000 digits, each
against a plain reference measured in the same run.

Run: PYTHONPATH=. .venv/bin/python benchmarks/bench_fc.py [--repeat 50] [--browser] [--jobs]
Prints milliseconds / seconds and ratios:
- stepper: the lecture's own numpy forward + backward of the 2-layer network on the stepper's batch is the
  reference; then what one Next click costs the server (the fragment: one step's figures built and turned
  into JSON, as Streamlit sends them), what a change of the inputs costs (`mlp_step` with every display step,
  the autograd check), a whole page rerun in AppTest (all six tabs; figure checking off) and, with
  --browser, Next clicks on a served app in Chromium (click to the server's "script finished");
- training: the lecture's numpy TwoLayerNet loop (784 → 100 → 10 sigmoid, SGD, batch 100) for 20 epochs on
  the 5,000 embedded digits is the reference; then the same network with the lectures' recipe (Adam) through
  `explorer.training.Trainer` in this process (1 thread), and through a `Runner` in its worker process as the
  page starts it, polled twice a second, start to finished;
- with --jobs also the two long jobs: the activation lab's default measurement and FC vs CNN.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch

from explorer import fc
from explorer.core.data import load_embedded
from explorer.fc import plots, view
from explorer.training import Runner, Trainer
from explorer.training.worker import Data


def best_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        times.append((time.perf_counter() - start) / repeat * 1000)
    return min(times)


# ---------------------------------------------------------------- the lecture's numpy code (seed 001)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(a):
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def lecture_gradient(x, t, W1, b1, W2, b2):
    """The lecture's TwoLayerNet.gradient, line for line."""
    batch_num = x.shape[0]
    a1 = np.dot(x, W1) + b1
    z1 = sigmoid(a1)
    a2 = np.dot(z1, W2) + b2
    y = softmax(a2)
    dy = (y - t) / batch_num
    grads = {"W2": np.dot(z1.T, dy), "b2": np.sum(dy, axis=0)}
    dz1 = np.dot(dy, W2.T)
    da1 = z1 * (1 - z1) * dz1
    grads["W1"] = np.dot(x.T, da1)
    grads["b1"] = np.sum(da1, axis=0)
    return grads


def lecture_training(images: np.ndarray, labels: np.ndarray, *, epochs: int, lr: float = 0.1) -> float:
    """The lecture's loop: TwoLayerNet(784, 100, 10), SGD on shuffled batches of 100. Returns seconds."""
    rng = np.random.default_rng(0)
    x, t = images.reshape(len(images), -1), np.eye(10)[labels]
    W1, b1 = 0.01 * rng.standard_normal((784, 100)), np.zeros(100)
    W2, b2 = 0.01 * rng.standard_normal((100, 10)), np.zeros(10)
    start = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x) - 99, 100):
            idx = order[i:i + 100]
            g = lecture_gradient(x[idx], t[idx], W1, b1, W2, b2)
            W1, b1, W2, b2 = W1 - lr * g["W1"], b1 - lr * g["b1"], W2 - lr * g["W2"], b2 - lr * g["b2"]
    return time.perf_counter() - start


# ---------------------------------------------------------------- stepper


def step_figures_json(result, step) -> None:
    """What one Next click makes the server do: the step's figures, as JSON."""
    layers = result.options["layers"]
    plots.chain_figure(layers, plots.lit_nodes(list(step.arrays), layers), step.phase).to_json()
    for name, arr in step.arrays.items():
        plots.grid_figure(arr, title=view.grid_title(step, name), highlight=step.highlight.get(name)).to_json()


def apptest_next_ms(runs: int) -> list[float]:
    os.environ["CNN_EXPLORER_CHECK_FIGURES"] = "0"
    from tests.conftest import run_page

    at = run_page("fc", lang="en")
    out = []  # the stepper is the open tab: no other tab runs
    for _ in range(runs):
        start = time.perf_counter()
        at.button(key="fc.next").click().run()
        out.append((time.perf_counter() - start) * 1000)
    return out


def bench_stepper(repeat: int, *, browser: bool) -> None:
    ex = fc.default_batch()
    args = (ex.X, ex.t, ex.params["W1"], ex.params["b1"], ex.params["W2"], ex.params["b2"])
    result = fc.mlp_step(ex.X, ex.t, ex.params, activations=ex.activations)
    ref = best_ms(lambda: lecture_gradient(*args), repeat * 10)
    rows = [
        ("lecture's numpy gradient (reference)", ref),
        ("mlp_step: 13 display steps with LaTeX", best_ms(lambda: fc.mlp_step(ex.X, ex.t, ex.params,
                                                                               activations=ex.activations), repeat)),
        ("verify_summary (autograd, float64)", best_ms(lambda: fc.verify_summary(result), repeat)),
    ]
    per_step = [best_ms(lambda s=s: step_figures_json(result, s), max(1, repeat // 5)) for s in result.steps]
    rows.append(("one Next click: a step's figures → JSON (mean)", statistics.mean(per_step)))
    rows.append(("one Next click: the largest step's figures → JSON", max(per_step)))
    print(f"\nStepper, batch X {ex.X.shape[0]}×{ex.X.shape[1]}, 2 layers (best of 5 batches)")
    print(f"{'what':52s} {'ms':>9s} {'× ref':>8s}")
    for name, ms in rows:
        print(f"{name:52s} {ms:9.3f} {ms / ref:8.1f}")
    runs = apptest_next_ms(7)
    print(f"{'AppTest: Next click = whole page rerun, median of 7':52s} {statistics.median(runs):9.1f} "
          f"{statistics.median(runs) / ref:8.0f}   (runs {', '.join(f'{r:.0f}' for r in runs)})")
    if browser:
        server, seen = browser_next_ms(12)
        for name, runs in (("Chromium Next click: server time of the fragment", server),
                           ("Chromium Next click: click to 'script finished'", seen)):
            print(f"{name + ', median':52s} {statistics.median(runs):9.1f} {statistics.median(runs) / ref:8.0f}"
                  f"   (runs {', '.join(f'{r:.0f}' for r in runs)})")


# ---------------------------------------------------------------- training


def runner_seconds(config, data: Data) -> tuple[float, float]:
    """Seconds from start to finished of a Runner polled twice a second; and the final test accuracy."""
    runner = Runner(config, data)
    try:
        assert runner.wait_ready() and runner.start()
        start = time.perf_counter()
        while runner.running or runner.state == "idle":
            time.sleep(0.5)
            runner.poll(None)
        return time.perf_counter() - start, runner.history.test_accuracy[-1]
    finally:
        runner.stop()


def bench_training(epochs: int) -> None:
    torch.set_num_threads(1)
    train, test = load_embedded("train"), load_embedded("test")
    ref = lecture_training(train.images.numpy(), train.labels.numpy(), epochs=epochs)
    config = view.homework_config(layers=2, activation="lecture", hidden=(100,), init="default", epochs=epochs,
                                  lr=0.001, seed=777, train_size=0)
    trainer = Trainer(config, train, test, device=torch.device("cpu"))
    start = time.perf_counter()
    while not trainer.finished:
        trainer.step(50)
    in_process = time.perf_counter() - start
    worker, accuracy = runner_seconds(config, Data("arrays", train.images, train.labels, test.images, test.labels))
    print(f"\nHomework MLP 784 → 100 → 10 (sigmoid), {epochs} epochs on {len(train.labels):,} digits, batch 100")
    print(f"{'what':52s} {'s':>9s} {'× ref':>8s}")
    for name, s in (("lecture's numpy loop, SGD (reference)", ref), ("Trainer in this process, Adam, 1 thread",
                                                                    in_process),
                    ("Runner in its worker process, as the page (Start→done)", worker)):
        print(f"{name:52s} {s:9.2f} {s / ref:8.2f}")
    print(f"test accuracy after {epochs} epochs (1,000 embedded test digits): {accuracy:.1%}")


WRAPPER = """
import functools, runpy, time
import streamlit as st

_fragment = st.fragment


def _timed(func=None, **kwargs):  # every fragment of the page, its server time written to LOG
    def wrap(f):
        @functools.wraps(f)
        def run(*a, **k):
            start = time.perf_counter()
            try:
                return f(*a, **k)
            finally:
                with open(LOG, "a") as out:
                    out.write(f"{f.__name__} {(time.perf_counter() - start) * 1000:.2f} {start:.4f}\\n")
        return _fragment(run, **kwargs)
    return wrap(func) if func is not None else wrap


st.fragment = _timed
runpy.run_path(PAGE, run_name="__main__")
"""


def browser_next_ms(runs: int) -> tuple[list[float], list[float]]:
    """Next clicks in Chromium on the page served on its own: (server milliseconds of the stepper's fragment
    rerun, milliseconds from the click to the server's "script finished" as the browser sees it)."""
    import subprocess
    import sys
    import tempfile
    import urllib.request
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    from explorer.core.i18n import translate
    from tests.conftest import _STREAMS, CHROMIUM, CHROMIUM_ARGS, _free_port, _script_finished, new_page, until

    folder = Path(tempfile.mkdtemp())
    log, page_file = folder / "fragments.log", Path(__file__).resolve().parents[1] / "pages" / "fc.py"
    (folder / "fc_timed.py").write_text(f"LOG = {str(log)!r}\nPAGE = {str(page_file)!r}\n{WRAPPER}")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(folder / "fc_timed.py"),
                             "--server.headless", "true", "--server.port", str(port),
                             "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
                            cwd=page_file.parents[1], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def healthy() -> bool:
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).status == 200
            except OSError:
                return False

        assert until(healthy, timeout=90, interval=0.3)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            page = new_page(browser)
            page.goto(f"http://127.0.0.1:{port}/")
            page.locator(".st-key-fc-act-norms .js-plotly-plot").wait_for(state="attached", timeout=300_000)
            page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
            button = page.get_by_role("button", name=translate("fc.stepper.next", "en"))
            seen = []
            log.write_text("")
            for _ in range(runs):
                with _STREAMS[page].expect_event("framereceived", predicate=_script_finished, timeout=60_000):
                    start = time.perf_counter()
                    button.click()
                seen.append((time.perf_counter() - start) * 1000)
                page.wait_for_timeout(300)
            browser.close()
        runs: dict[str, float] = {}  # by start time: the wrapper sits twice around one run (st.fragment nests)
        for name, ms, started in (line.split() for line in log.read_text().splitlines()):
            if name == "_walk":
                runs[started] = max(runs.get(started, 0.0), float(ms))
        return list(runs.values()), seen
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def bench_jobs() -> None:
    start = time.perf_counter()
    fc.compare_profiles(10, init="default", steps=5)
    profiles = time.perf_counter() - start
    train, test = load_embedded("train"), load_embedded("test")
    start = time.perf_counter()
    r = fc.fc_vs_cnn(train.images, train.labels, test.images, test.labels)
    shift = time.perf_counter() - start
    print(f"\nJobs (this process, {torch.get_num_threads()} thread(s))")
    print(f"activation lab default (depth 10, 5 steps, sigmoid + ReLU): {profiles:.2f} s")
    print(f"FC vs CNN, 15 epochs on 5,000: {shift:.1f} s (MLP {r.mlp_seconds:.1f} s, CNN {r.cnn_seconds:.1f} s); "
          f"at 2 px MLP {r.mlp_accuracy[2]:.1%}, CNN {r.cnn_accuracy[2]:.1%}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--jobs", action="store_true", help="also time the two long jobs (about a minute)")
    parser.add_argument("--browser", action="store_true", help="also time Next clicks on a served app in Chromium")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    bench_stepper(args.repeat, browser=args.browser)
    bench_training(args.epochs)
    if args.jobs:
        bench_jobs()


if __name__ == "__main__":
    main()
