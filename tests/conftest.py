"""Shared fixtures: AppTest runs of pages, and a real app server + Debian Chromium for browser tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import weakref
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
# Every figure built in the tests, here and in the servers they start, is also built by plotly with
# validation and must match (the app skips validation at run time for speed: explorer/figures.py).
os.environ["CNN_EXPLORER_CHECK_FIGURES"] = "1"
# Worker slots (machine-wide lock files) of this test session, apart from any app running on this machine.
os.environ["CNN_EXPLORER_RUN_DIR"] = tempfile.mkdtemp(prefix="cnn-explorer-tests-")
CHROMIUM = Path(os.environ.get("CNN_EXPLORER_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
APPTEST_TIMEOUT = 60  # seconds: importing torch alone exceeds AppTest's default 3 s


@pytest.fixture(autouse=True)
def _clear_streamlit_caches():
    """Each test starts with empty st.cache_data / st.cache_resource."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield


def run_page(page: str, *, lang: str = "en", state: dict | None = None):
    """Run ``pages/<page>.py`` (or ``app.py`` for page="app") in AppTest and return it."""
    from streamlit.testing.v1 import AppTest

    path = APP if page == "app" else ROOT / "pages" / f"{page}.py"
    at = AppTest.from_file(str(path), default_timeout=APPTEST_TIMEOUT)
    at.session_state["lang"] = lang
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    return at


class _Opened:
    """A tab of `explorer.core.session.tabs` drawn whether it is open or not."""

    open = True

    def __init__(self, tab) -> None:
        self._tab = tab

    def __enter__(self):
        return self._tab.__enter__()

    def __exit__(self, *exc):
        return self._tab.__exit__(*exc)


@pytest.fixture
def every_tab(monkeypatch):
    """Pages draw every tab in one run, as with plain `st.tabs`, so one AppTest run can read them all (in the
    app only the open tab runs; tests/core/test_session.py and the browser tests check that)."""
    from explorer.core import session

    real = session.tabs
    monkeypatch.setattr(session, "tabs", lambda ids, **kw: {i: _Opened(tab) for i, tab in real(ids, **kw).items()})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chromium_skip_reason() -> str | None:
    if not CHROMIUM.exists():
        return f"Debian Chromium not found at {CHROMIUM} (apt-get install chromium); .ci/run installs it"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python package 'playwright' is not installed (pip install -e '.[test]')"
    return None


@contextlib.contextmanager
def serve(log_dir: Path, *, env: dict | None = None):
    """``streamlit run app.py --server.headless true`` on a free port; yields (URL, process) once healthy."""
    port = _free_port()
    log = log_dir / "streamlit.log"
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1",
           "--browser.gatherUsageStats", "false"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited early:\n{log.read_text()}")
        try:
            return urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200
        except OSError:
            return False

    try:
        if not until(healthy, timeout=90, interval=0.3):
            pytest.fail(f"streamlit did not become healthy:\n{log.read_text()}")
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory, browser):
    """The app served for the browser tests (one server for the whole session); yields its URL."""
    reason = _chromium_skip_reason()
    if reason:
        pytest.skip(reason)
    with serve(tmp_path_factory.mktemp("server")) as (url, _):
        warm_up = new_page(browser)  # the first page load also loads torch: pay it once, here
        warm_up.goto(url)
        wait_idle(warm_up, timeout_ms=90_000)
        warm_up.context.close()
        yield url


@pytest.fixture(scope="session")
def browser():
    reason = _chromium_skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def new_page(browser, *, locale: str = "en-US", width: int = 1400, height: int = 1000):
    """A fresh browser context (own cookies, own Streamlit session) and page."""
    context = browser.new_context(locale=locale, viewport={"width": width, "height": height})
    return watch(context.new_page())


def until(predicate: Callable[[], object], *, timeout: float = 30.0, interval: float = 0.02) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass; whether it became true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return True


def wait_idle(page, timeout_ms: int = 60_000) -> None:
    """Wait until app.py has run (its language selector is on screen) and the script is idle.

    The page reports "notRunning" before the first run too, so the selector is waited for first.
    """
    page.wait_for_selector("[data-testid='stSidebar'] [data-testid='stRadio']", timeout=timeout_ms)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=timeout_ms)


_STREAMS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # page -> its newest Streamlit websocket


def watch(page):
    """``page``, remembering its newest Streamlit websocket (which `rerun` listens to); call before ``goto``."""
    def remember(ws) -> None:
        if ws.url.endswith("/_stcore/stream"):
            _STREAMS[page] = ws

    page.on("websocket", remember)
    return page


def _script_finished(payload: bytes | str) -> bool:
    return isinstance(payload, bytes) and ForwardMsg.FromString(payload).WhichOneof("type") == "script_finished"


def rerun(page, action: Callable[[], object], timeout_ms: int = 60_000) -> None:
    """Do ``action`` (a widget change) and wait for the server to finish the rerun it causes.

    Waits on the server's "script finished" message on the page's websocket (`watch`): the page's own
    running / idle state can miss a quick rerun (both changes drawn in one frame), and a click sent
    during the previous rerun may be merged into it and lost.
    """
    with _STREAMS[page].expect_event("framereceived", predicate=_script_finished, timeout=timeout_ms):
        action()
    wait_idle(page, timeout_ms)


SCREENSHOTS = ROOT / "tests" / "screenshots"


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Save ``tests/screenshots/<name>.png``: the window, or the whole page (Streamlit scrolls inside its
    main block, so the window is made as tall as the page for the picture, then put back)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    size = page.viewport_size
    tall = page.evaluate("() => document.querySelector(\"[data-testid='stMain']\")?.scrollHeight || 0")
    if full_page and size and tall > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": min(tall + 40, 12_000)})
        page.wait_for_timeout(500)  # charts redraw for the new size (a resize causes no rerun)
        page.screenshot(path=str(path))
        page.set_viewport_size(size)
    else:
        page.screenshot(path=str(path))
    return path


__all__ = ["run_page", "new_page", "wait_idle", "rerun", "watch", "until", "screenshot", "serve", "ROOT", "shutil"]
