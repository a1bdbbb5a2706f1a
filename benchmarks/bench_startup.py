"""Cold start: seconds from `streamlit run app.py` to a rendered home page in Chromium.

Measured from outside, median of several runs, next to a one-line Streamlit app started the same way
in the same run (the plain reference: what Streamlit itself costs).

    python benchmarks/bench_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cold_start(browser, script: Path, selector: str) -> float:
    """Start a server for ``script``; seconds until ``selector`` is visible in a new browser page."""
    port = free_port()
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script), "--server.headless",
                             "true", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
                            cwd=script.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        page = browser.new_page(locale="en-US")
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector(selector, timeout=120_000)
        elapsed = time.perf_counter() - start
        page.close()
        return elapsed
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        plain = Path(tmp) / "plain.py"
        plain.write_text('import streamlit as st\nst.title("Hello")\n')
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        app_times, plain_times = [], []
        for _ in range(args.runs):  # interleaved, so drift in machine load hits both alike
            plain_times.append(cold_start(browser, plain, "h1"))
            app_times.append(cold_start(browser, ROOT / "app.py", "[data-testid='stPageLink']"))
        browser.close()
    app, ref = statistics.median(app_times), statistics.median(plain_times)
    print(f"runs: {args.runs}")
    print(f"plain one-line Streamlit app: median {ref:.2f} s  ({', '.join(f'{t:.2f}' for t in plain_times)})")
    print(f"CNN Explorer home page:       median {app:.2f} s  ({', '.join(f'{t:.2f}' for t in app_times)})")
    print(f"ratio app / plain: {app / ref:.2f}x")


if __name__ == "__main__":
    main()
