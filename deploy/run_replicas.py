"""Start N Streamlit replicas of CNN Explorer on loopback and Debian's nginx in front of them.

    python deploy/run_replicas.py --replicas 2 --port 8080            # classroom: all addresses
    python deploy/run_replicas.py --replicas 2 --port 8080 --local    # this computer only

Replicas listen on 127.0.0.1:8501, 8502, ... (never reachable from the network themselves); nginx
listens on --port with the configuration deploy/nginx.conf (cookie affinity, websocket upgrade).
Ctrl-C stops everything. `start_cluster` is also used by the tests and benchmarks/load_test.py.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONF = Path(__file__).resolve().parent / "nginx.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def wait_healthy(url: str, *, timeout: float = 90.0, proc: subprocess.Popen | None = None) -> None:
    """Poll ``url``/_stcore/health until it answers 200 (or raise RuntimeError)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not become healthy in {timeout:.0f} s")


def start_replica(port: int, *, log: Path, env: dict | None = None) -> subprocess.Popen:
    """``streamlit run app.py`` headless on 127.0.0.1:``port`` (not yet waited for)."""
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    with open(log, "wb") as out:
        return subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})


def nginx_config(*, listen: str, backends: list[int | str]) -> str:
    """deploy/nginx.conf with its listen line and replica list replaced (a port means 127.0.0.1:port;
    a "host:port" is used as it is, e.g. a compose service name)."""
    text = CONF.read_text(encoding="utf-8")
    lines, done = [], False
    for line in text.splitlines():
        if "# CNN_EXPLORER_REPLICA" in line:
            if not done:
                indent = line[: len(line) - len(line.lstrip())]
                lines += [f"{indent}server {p if isinstance(p, str) else f'127.0.0.1:{p}'};      # CNN_EXPLORER_REPLICA"
                          for p in backends]
                done = True
            continue
        if "# CNN_EXPLORER_LISTEN" in line:
            line = re.sub(r"listen\s+[^;]+;", f"listen {listen};", line)
        lines.append(line)
    return "\n".join(lines) + "\n"


@dataclass
class Cluster:
    """Running replicas + nginx; ``url`` is nginx's address, ``backends`` the replicas' URLs."""

    url: str
    backends: list[str]
    workdir: Path
    procs: list[subprocess.Popen] = field(default_factory=list)

    @property
    def replica_pids(self) -> list[int]:
        return [p.pid for p in self.procs[: len(self.backends)]]

    @property
    def access_log(self) -> Path:
        return self.workdir / "access.log"

    def stop(self) -> None:
        for proc in reversed(self.procs):  # nginx first, then the replicas
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def start_cluster(*, replicas: int = 2, port: int = 8080, first_backend: int = 8501, host: str = "0.0.0.0",
                  backend_ports: list[int] | None = None, workdir: Path | None = None,
                  env: dict | None = None) -> Cluster:
    """Start ``replicas`` Streamlit servers (ports first_backend, +1, ... or ``backend_ports``) and nginx
    in front on ``host``:``port``; wait until all answer."""
    if NGINX is None:
        raise RuntimeError("nginx is not installed (Debian: apt-get install nginx)")
    workdir = Path(workdir or tempfile.mkdtemp(prefix="cnn-explorer-nginx-"))
    workdir.mkdir(parents=True, exist_ok=True)
    ports = list(backend_ports) if backend_ports else [first_backend + i for i in range(replicas)]
    cluster = Cluster(url=f"http://127.0.0.1:{port}", backends=[f"http://127.0.0.1:{p}" for p in ports],
                      workdir=workdir)
    try:
        for p in ports:
            cluster.procs.append(start_replica(p, log=workdir / f"replica-{p}.log", env=env))
        for proc, url in zip(cluster.procs, cluster.backends):
            wait_healthy(url, proc=proc)
        conf = workdir / "nginx.conf"
        listen = f"{port}" if host in ("0.0.0.0", "") else f"{host}:{port}"
        conf.write_text(nginx_config(listen=listen, backends=ports), encoding="utf-8")
        with open(workdir / "nginx.log", "wb") as out:
            cluster.procs.append(subprocess.Popen([NGINX, "-p", str(workdir), "-c", str(conf), "-e", "stderr",
                                                   "-g", "daemon off;"], stdout=out, stderr=subprocess.STDOUT))
        wait_healthy(cluster.url, timeout=20, proc=cluster.procs[-1])
    except BaseException:
        cluster.stop()
        raise
    return cluster


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--port", type=int, default=8080, help="nginx's port (the URL to hand out)")
    parser.add_argument("--first-backend", type=int, default=8501, help="port of the first replica")
    parser.add_argument("--local", action="store_true", help="listen on 127.0.0.1 only")
    args = parser.parse_args()
    cluster = start_cluster(replicas=args.replicas, port=args.port, first_backend=args.first_backend,
                            host="127.0.0.1" if args.local else "0.0.0.0")
    print(f"{args.replicas} replicas behind nginx: {cluster.url}/  (logs in {cluster.workdir}); Ctrl-C stops",
          flush=True)
    try:
        while all(p.poll() is None for p in cluster.procs):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()


# deploy/compose.yaml's nginx: the same configuration, its one upstream server the compose service "app"
# (Docker's DNS gives nginx every replica of the service). Kept in step by tests/test_deploy.py:
#     python -c "import deploy.run_replicas as r; print(r.nginx_config(listen='8080', backends=['app:8501']), end='')"
COMPOSE_BACKENDS = ["app:8501"]
