"""Two replicas behind Debian's nginx (deploy/nginx.conf): every browser sticks to one replica.

Two browser contexts are placed on different replicas; each opens the kernel lab, uploads an image
(the upload is an HTTP request that must reach the replica holding the websocket session) and
reruns several times. nginx's access log must then show each browser's requests - page, websocket,
upload - all on one replica, and the two browsers on two different replicas.
"""

from __future__ import annotations

import importlib.util
import io
import re
import sys

import numpy as np
import pytest
from PIL import Image

from tests.conftest import ROOT, _free_port, rerun, screenshot, until, wait_idle, watch

pytestmark = pytest.mark.browser

_spec = importlib.util.spec_from_file_location("run_replicas", ROOT / "deploy" / "run_replicas.py")
rr = sys.modules.setdefault("run_replicas", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(rr)

H, W = 37, 53  # an image size the default sample does not have


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if rr.NGINX is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx); .ci/run must install it for this test")
    c = rr.start_cluster(replicas=2, port=_free_port(), backend_ports=[_free_port(), _free_port()],
                         host="127.0.0.1", workdir=tmp_path_factory.mktemp("nginx"))
    yield c
    c.stop()


def _png() -> bytes:
    y, x = np.mgrid[0:H, 0:W]
    buf = io.BytesIO()
    Image.fromarray(((x * 5 + y * 3) % 256).astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _context_on(browser, cluster, backend: str, tries: int = 40):
    """A fresh browser context whose route cookie sends it to ``backend`` ("127.0.0.1:port")."""
    for _ in range(tries):
        context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
        if context.request.get(f"{cluster.url}/_stcore/health").headers["x-cnn-explorer-replica"] == backend:
            return context
        context.close()
    pytest.fail(f"no route to {backend} in {tries} tries: nginx does not balance")


def _use_kernel_lab(context, cluster, name: str) -> None:
    page = watch(context.new_page())
    page.goto(cluster.url)
    wait_idle(page, timeout_ms=90_000)
    page.goto(f"{cluster.url}/kernels")
    wait_idle(page, timeout_ms=90_000)
    rerun(page, page.locator("label").filter(has_text=re.compile(r"^Upload$")).first.click)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(
        files=[{"name": "mine.png", "mimeType": "image/png", "buffer": _png()}])
    page.get_by_text(f"Input {H}×{W}").first.wait_for(timeout=60_000)
    stride = page.get_by_label("Stride").first
    for value in ("2", "3", "1"):  # reruns over the same websocket
        stride.fill(value)
        rerun(page, lambda: stride.press("Enter"))
        assert page.locator("[data-testid='stException']").count() == 0
        assert page.get_by_text(f"Input {H}×{W}").count() >= 1  # the uploaded image is still this session's
    screenshot(page, f"nginx_{name}")
    page.close()


def test_each_browser_sticks_to_one_replica(browser, cluster):
    backends = [b.removeprefix("http://") for b in cluster.backends]
    contexts = [_context_on(browser, cluster, b) for b in backends]
    routes = []
    for name, context in zip(("a", "b"), contexts):
        routes.append(next(c["value"] for c in context.cookies() if c["name"] == "cnn_explorer_route"))
        _use_kernel_lab(context, cluster, name)
    for context in contexts:
        context.close()  # websocket requests are logged when they end
    until(lambda: all(any(f"route={route} " in ln and "/_stcore/stream" in ln  # both browsers' websockets logged
                           for ln in cluster.access_log.read_text(encoding="utf-8").splitlines())
                       for route in routes), timeout=10, interval=0.2)
    log = cluster.access_log.read_text(encoding="utf-8").splitlines()
    for route, backend in zip(routes, backends):
        lines = [ln for ln in log if f"route={route} " in ln]
        assert {ln.rsplit("upstream=", 1)[1] for ln in lines} == {backend}, lines
        assert any("/_stcore/stream" in ln and '" 101 ' in ln for ln in lines), lines
        assert any("/_stcore/upload_file" in ln and re.search(r'" 20[04] ', ln) for ln in lines), lines
