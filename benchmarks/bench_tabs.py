"""Server time of one rerun of each lesson tab (issue 16: each new view ≤ 100 ms on the lectures' examples).

    python benchmarks/bench_tabs.py

Each tab is opened in its page's AppTest session (only the open tab runs) and rerun 5 times; prints the
median and best rerun in ms, and its ratio to the reference measured in the same run: the Backprop stepper's
first tab, a view of an earlier issue. AppTest adds its own overhead, so the figures are upper bounds.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CNN_EXPLORER_CHECK_FIGURES", "0")

TABS = {"kernels": ("kernel_lab.tab", ["lab", "steps", "im2col", "transposed"]),
        "shapes": ("shapes.tab", ["calc", "network", "blocks", "rf", "grouped", "compare", "quiz"]),
        "backprop": ("backprop.tab", ["stepper", "input", "symbolic"])}


def reruns_ms(page: str, state: dict) -> list[float]:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=120)
    at.session_state["lang"] = "en"
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    out = []
    for _ in range(5):
        start = time.perf_counter()
        at.run()
        out.append(1e3 * (time.perf_counter() - start))
    return out


def main() -> None:
    home = reruns_ms("backprop", {"backprop.tab": "stepper"})
    print(f"{'page / tab':28s} {'median ms':>10s} {'best ms':>8s} {'× ref':>7s}")
    for page, (key, tabs) in TABS.items():
        for tab in tabs:
            ms = reruns_ms(page, {key: tab})
            print(f"{page + ' / ' + tab:28s} {statistics.median(ms):10.1f} {min(ms):8.1f} "
                  f"{statistics.median(ms) / statistics.median(home):7.1f}", flush=True)


if __name__ == "__main__":
    main()
