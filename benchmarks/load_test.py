"""Classroom load test: N students on one server (or on replicas behind nginx), speaking Streamlit's protocol.

    python benchmarks/load_test.py                     # 20 sessions, 4 of them training, 60 s
    python benchmarks/load_test.py --sessions 3 --trainers 1 --duration 20
    python benchmarks/load_test.py --replicas 2        # two replicas behind nginx (deploy/nginx.conf)
    python benchmarks/load_test.py --rounds 2 --settle 45  # two classes in turn: is memory given back?

Starts the app on loopback, warms it up (one session opens every page), then starts the sessions a
little apart, like students joining. Each session is a websocket client speaking Streamlit's own
protocol (BackMsg / ForwardMsg protobufs), exactly what a browser tab sends and receives, but
without a browser on this machine: the students' browsers run on the students' computers, so only
the server's work is measured here. Trainers press "Start" on the Train page and keep polling the
live view (the page's 0.4 s fragment), and move the feature-map slider; the others change a
widget on the kernel lab (stride), shapes (input height) or backprop (step slider) page every
1.5-3 s (trainers every 3-6 s). Latency is the time from sending a widget change to the server's "script finished" for
that rerun (all of the page's elements sent). Errors: an exception element on a page, a run
that does not finish in 60 s, a dropped websocket, or a training refused as queued.
Server RSS and thread counts are read from /proc before, at peak, after every session closed, and once
more after one page request (which retires the idle HTTP worker threads); with ``--rounds`` after each
class (the server is started with server.disconnectedSessionTTL=5 so closed sessions are released
within the run; the default keeps them 120 s for reconnection).
"""

from __future__ import annotations

import argparse
import asyncio
import http.cookiejar
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "deploy")]
import run_replicas as rr  # noqa: E402

from explorer.core.i18n import LANGUAGES, translate  # noqa: E402

FINISHED = ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY
RUN_TIMEOUT_S = 60.0
THINK = {False: (1.5, 3.0), True: (3.0, 6.0)}  # seconds between two widget changes (trainers mostly watch)
QUEUED = [max(re.split(r"\{[^}]*\}", translate("train.queued", lang)), key=len) for lang in LANGUAGES]
STEP = re.compile(r"step (\d+)/")  # the Train page's progress text (English sessions)
ENV = {"STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": "5", "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}

# role -> (url path, widget user key, widget value type, values cycled through)
ROLES = {
    "kernels": ("kernels", "kernel_lab.stride", "double_value", [2, 1, 3, 1]),
    "shapes": ("shapes", "shapes.calc.h", "double_value", [8, 9, 10, 11, 12, 7]),
    "backprop": ("backprop", "backprop.step", "double_array_value", [2, 3, 4, 5, 6, 7, 1]),
    "train": ("train", "train.channels", "double_array_value", [4, 12, 8, 16]),
}


# ---------------------------------------------------------------- server side figures


def proc_status(pid: int) -> tuple[int, int]:
    """(RSS in bytes, thread count) of a live process, from /proc."""
    rss = threads = 0
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, threads


def thread_names(pids: list[int]) -> Counter[str]:
    """How many threads of each name (``/proc/<pid>/task/*/comm``) the server processes have."""
    names: Counter[str] = Counter()
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                names[(task / "comm").read_text(encoding="utf-8").strip()] += 1
            except OSError:  # the thread ended while we looked
                pass
    return names


class Monitor(threading.Thread):
    """Samples the summed RSS and threads of the server processes every 0.25 s."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.pids, self.samples, self._halt = pids, [], threading.Event()

    def now(self) -> tuple[int, int]:
        figures = [proc_status(p) for p in self.pids]
        return sum(r for r, _ in figures), sum(t for _, t in figures)

    def run(self) -> None:
        while not self._halt.is_set():
            self.samples.append((time.monotonic(), *self.now()))
            time.sleep(0.25)

    def stop(self) -> None:
        self._halt.set()
        self.join()


# ---------------------------------------------------------------- one student


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {r: [] for r in ROLES})
    errors: list[str] = field(default_factory=list)
    fragment_runs: int = 0
    first_render: list[float] = field(default_factory=list)
    trained_steps: dict[str, int] = field(default_factory=dict)  # trainer session -> last step shown
    replicas: dict[str, int] = field(default_factory=dict)  # replica address -> sessions it served


class Session:
    """One browser tab: a websocket, its widget ids, and the reruns it asks for."""

    def __init__(self, name: str, role: str, base: str, stats: Stats, rng: random.Random) -> None:
        self.name, self.role, self.base, self.stats, self.rng = name, role, base, stats, rng
        self.page = ROLES[role][0]
        self.ids: dict[str, str] = {}  # user key -> widget id
        self.values: dict[str, tuple[str, object]] = {}  # widget id -> (value type, value)
        self.fragments: dict[str, float] = {}  # fragment id -> interval (auto reruns)
        self.finished = asyncio.Queue()
        self.page_hash = ""
        self.ws = None
        self.in_flight = False
        self.full_run_sent = False
        self.running = False
        self.rendered: set[str] = set()  # user keys of the widgets drawn by the current full run

    def cookie(self) -> str:
        """GET the page first (a browser does; behind nginx this sets the affinity cookie)."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with opener.open(f"{self.base}/{self.page}", timeout=30) as response:
            response.read()
            replica = response.headers.get("X-CNN-Explorer-Replica", self.base)
        self.stats.replicas[replica] = self.stats.replicas.get(replica, 0) + 1
        return "; ".join(f"{c.name}={c.value}" for c in jar)

    def _widget_states(self, msg: BackMsg, trigger: str | None) -> None:
        for wid, (kind, value) in self.values.items():
            w = msg.rerun_script.widget_states.widgets.add()
            w.id = wid
            if kind == "double_array_value":
                w.double_array_value.data.extend([float(value)])
            else:
                setattr(w, kind, value)
        if trigger:
            w = msg.rerun_script.widget_states.widgets.add()
            w.id, w.trigger_value = trigger, True

    async def send_run(self, *, trigger: str | None = None, fragment: str | None = None) -> None:
        msg = BackMsg()
        msg.rerun_script.page_name = self.page
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_script_hash = self.page_hash
        if fragment:
            msg.rerun_script.fragment_id, msg.rerun_script.is_auto_rerun = fragment, True
        else:
            self.full_run_sent = True
        self._widget_states(msg, trigger)
        await self.ws.send(msg.SerializeToString())

    async def reader(self) -> None:
        async for raw in self.ws:
            fm = ForwardMsg()
            fm.ParseFromString(raw)
            kind = fm.WhichOneof("type")
            if kind == "new_session" and self.full_run_sent:  # a full run starts (fragment runs also say so)
                self.full_run_sent = False
                self.fragments.clear()
                self.rendered.clear()
            elif kind == "session_status_changed":
                self.running = fm.session_status_changed.script_is_running
            elif kind == "navigation" and fm.navigation.page_script_hash:
                self.page_hash = fm.navigation.page_script_hash  # the page shown (sent back like a browser)
            elif kind == "auto_rerun":
                self.fragments[fm.auto_rerun.fragment_id] = fm.auto_rerun.interval
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                self._element(fm.delta.new_element)
            elif kind == "script_finished":
                if fm.script_finished == FINISHED:
                    self.finished.put_nowait(time.perf_counter())
                elif fm.script_finished == ForwardMsg.ScriptFinishedStatus.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                    self.stats.fragment_runs += 1
                elif fm.script_finished == ForwardMsg.ScriptFinishedStatus.FINISHED_WITH_COMPILE_ERROR:
                    self.stats.errors.append(f"{self.name}: script error")

    def _element(self, element) -> None:
        kind = element.WhichOneof("type")
        if kind == "exception":
            self.stats.errors.append(f"{self.name}: exception {element.exception.type}: {element.exception.message}")
            return
        if kind == "progress" and (m := STEP.search(element.progress.text)):
            self.stats.trained_steps[self.name] = int(m.group(1))
        if kind == "alert" and any(q in element.alert.body for q in QUEUED):
            self.stats.errors.append(f"{self.name}: training refused as queued")
        wid = getattr(getattr(element, kind), "id", "") if kind else ""
        if wid.startswith("$$ID-"):
            self.ids[wid.split("-", 2)[2]] = wid
            self.rendered.add(wid.split("-", 2)[2])

    async def run_and_wait(self, **kwargs) -> float:
        """Send a rerun and wait for the full run to finish; seconds taken (raises TimeoutError)."""
        while not self.finished.empty():
            self.finished.get_nowait()
        self.in_flight = True
        start = time.perf_counter()
        try:
            await self.send_run(**kwargs)
            end = await asyncio.wait_for(self.finished.get(), RUN_TIMEOUT_S)
        finally:
            self.in_flight = False
        return end - start

    async def auto_reruns(self) -> None:
        """What the browser does for @st.fragment(run_every=...): rerun that fragment on schedule
        (skipped while a run is still going, so a slow server is not flooded)."""
        due: dict[str, float] = {}
        while True:
            await asyncio.sleep(0.05)
            now = time.monotonic()
            for fid, interval in list(self.fragments.items()):
                if now >= due.setdefault(fid, now + interval) and not (self.in_flight or self.running):
                    due[fid] = now + interval
                    await self.send_run(fragment=fid)

    async def play(self, duration: float) -> None:
        url = self.base.replace("http://", "ws://") + "/_stcore/stream"
        cookie = await asyncio.to_thread(self.cookie)
        async with connect(url, subprotocols=["streamlit"], max_size=2**27, open_timeout=60,
                           additional_headers={"Cookie": cookie} if cookie else None) as ws:
            self.ws = ws
            reader = asyncio.create_task(self.reader())
            poller = asyncio.create_task(self.auto_reruns())
            try:
                self.stats.first_render.append(await self.run_and_wait())
                _, key, kind, values = ROLES[self.role]
                if self.role == "train":
                    await self.run_and_wait(trigger=self.ids["train.start"])
                end, i = time.monotonic() + duration, 0
                while time.monotonic() < end:
                    await asyncio.sleep(self.rng.uniform(*THINK[self.role == "train"]))  # a student thinks
                    self.values[self.ids[key]] = (kind, values[i % len(values)])
                    i += 1
                    self.stats.latencies[self.role].append(await self.run_and_wait())
                    if key not in self.rendered:
                        raise RuntimeError(f"the rerun did not draw {key}: wrong page?")
                    if reader.done():
                        raise ConnectionError("websocket closed by the server")
            except (TimeoutError, asyncio.TimeoutError):
                self.stats.errors.append(f"{self.name}: a run did not finish in {RUN_TIMEOUT_S:.0f} s")
            except Exception as err:  # noqa: BLE001 - every failure is an error of the test run
                self.stats.errors.append(f"{self.name}: {type(err).__name__}: {err}")
            finally:
                poller.cancel()
                reader.cancel()


# ---------------------------------------------------------------- the whole class


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def classroom(bases: list[str], *, sessions: int, trainers: int, duration: float, stagger: float,
                    seed: int, stats: Stats) -> None:
    """One class: ``sessions`` students join ``stagger`` s apart and work ``duration`` s (figures into ``stats``)."""
    others = ["kernels", "shapes", "backprop"]
    roles = ["train"] * trainers + [others[i % 3] for i in range(sessions - trainers)]
    tasks = []
    for i, role in enumerate(roles):
        session = Session(f"s{seed + i:02d}-{role}", role, bases[i % len(bases)], stats, random.Random(seed + i))
        tasks.append(asyncio.create_task(session.play(duration)))
        await asyncio.sleep(stagger)
    await asyncio.gather(*tasks)


def warm_up(base: str) -> None:
    """One session visits every page once (imports, caches), outside the measurement."""
    stats = Stats()

    async def visit() -> None:
        for role in ROLES:
            s = Session(f"warm-{role}", role, base, stats, random.Random(0))
            url = base.replace("http://", "ws://") + "/_stcore/stream"
            async with connect(url, subprotocols=["streamlit"], max_size=2**27, open_timeout=60,
                               additional_headers={"Cookie": s.cookie()}) as ws:
                s.ws = ws
                reader = asyncio.create_task(s.reader())
                await s.run_and_wait()
                reader.cancel()

    asyncio.run(visit())
    if stats.errors:
        raise RuntimeError(f"warm-up failed: {stats.errors}")


def start_single(port: int, workdir: Path, env: dict) -> tuple[list[subprocess.Popen], str]:
    proc = rr.start_replica(port, log=workdir / "server.log", env=env)
    url = f"http://127.0.0.1:{port}"
    rr.wait_healthy(url, proc=proc)
    return [proc], url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--trainers", type=int, default=4, help="sessions that train at once")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds each session keeps working")
    parser.add_argument("--stagger", type=float, default=0.5, help="seconds between two students joining")
    parser.add_argument("--replicas", type=int, default=1, help=">1: replicas behind nginx (deploy/nginx.conf)")
    parser.add_argument("--port", type=int, default=8580, help="server (or nginx) port; replicas use the next ones")
    parser.add_argument("--settle", type=float, default=20.0, help="seconds to wait after the sessions close")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=1,
                        help="classes one after another (memory that stays after round 1 must not grow after 2)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="cnn-explorer-load-"))
    env = {**ENV, "CNN_EXPLORER_DATA": str(workdir / "no-mnist-here")}  # embedded sample, never the network
    if args.replicas > 1:
        cluster = rr.start_cluster(replicas=args.replicas, port=args.port, first_backend=args.port + 1,
                                   host="127.0.0.1", workdir=workdir, env=env)
        procs, base, stop = cluster.procs[: args.replicas], cluster.url, cluster.stop
        warm = cluster.backends
    else:
        procs, base = start_single(args.port, workdir, env)
        warm = [base]

        def stop() -> None:
            procs[0].terminate()
            procs[0].wait(15)
    try:
        for url in warm:
            warm_up(url)
        time.sleep(2)
        monitor = Monitor([p.pid for p in procs])
        base_rss, base_threads = monitor.now()
        base_names = thread_names(monitor.pids)
        monitor.start()
        stats, after = Stats(), []  # after: (RSS, threads, threads after one more page request) per round
        wall = 0.0
        for round_ in range(args.rounds):
            t0 = time.perf_counter()
            asyncio.run(classroom([base], sessions=args.sessions, trainers=args.trainers, duration=args.duration,
                                  stagger=args.stagger, seed=args.seed + 1000 * round_, stats=stats))
            wall += time.perf_counter() - t0
            time.sleep(args.settle)
            after_names = thread_names(monitor.pids)
            rss, threads = monitor.now()
            # Idle HTTP worker threads (AnyIO's pool, which serves the static page) retire after 10 s idle,
            # but only when the pool is next used: one page request shows what is left after that.
            for url in warm:
                with urllib.request.urlopen(f"{url}/", timeout=30) as response:
                    response.read()
            time.sleep(1)
            after.append((rss, threads, monitor.now()[1]))
        monitor.stop()
        peak_rss = max(s[1] for s in monitor.samples)
        peak_threads = max(s[2] for s in monitor.samples)
        crashed = [p.pid for p in procs if p.poll() is not None]
    finally:
        stop()
    everything = [x for v in stats.latencies.values() for x in v]
    mb = 2**20
    print(f"load test: {args.sessions} sessions ({args.trainers} training at once), {args.duration:.0f} s each, "
          f"{'%d replicas behind nginx' % args.replicas if args.replicas > 1 else 'one server'}, "
          f"{os.cpu_count()} CPU cores, wall {wall:.0f} s")
    print(f"errors: {len(stats.errors) + len(crashed)}" + (f" (server exited: {crashed})" if crashed else ""))
    if args.replicas > 1:
        print(f"sessions per replica: {dict(sorted(stats.replicas.items()))}")
    for line in stats.errors[:20]:
        print("   ", line)
    print(f"widget change -> rendered (server finished the rerun): n={len(everything)}  "
          f"p50 {pct(everything, 0.5) * 1000:.0f} ms  p95 {pct(everything, 0.95) * 1000:.0f} ms")
    for role, values in stats.latencies.items():
        if values:
            print(f"    {role:9s} n={len(values):4d}  p50 {pct(values, 0.5) * 1000:6.0f} ms  "
                  f"p95 {pct(values, 0.95) * 1000:6.0f} ms")
    print(f"first page load: p50 {pct(stats.first_render, 0.5):.1f} s  p95 {pct(stats.first_render, 0.95):.1f} s;"
          f"  live-view fragment reruns served: {stats.fragment_runs}")
    if stats.trained_steps:
        steps = sorted(stats.trained_steps.values())
        print(f"trainings: {len(steps)} ({args.trainers} at once); steps trained per session min {steps[0]}, "
              f"median {steps[len(steps) // 2]}, max {steps[-1]} (100 images per step)")
    print(f"server RSS: before {base_rss / mb:.0f} MB, peak {peak_rss / mb:.0f} MB; server threads: before "
          f"{base_threads}, peak {peak_threads}")
    for round_, (rss, threads, nudged) in enumerate(after, 1):
        print(f"    {args.settle:.0f} s after round {round_}'s sessions closed: RSS {rss / mb:.0f} MB, "
              f"threads {threads}, after one more page request {nudged}")
    if after_names != base_names:
        print(f"    left over, by name: {dict(after_names - base_names)}; gone: {dict(base_names - after_names)}")
    sys.exit(1 if stats.errors or crashed else 0)


if __name__ == "__main__":
    main()
