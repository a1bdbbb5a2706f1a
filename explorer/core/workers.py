"""Heavy work out of the page process: worker processes from Python's own `multiprocessing`.

Every student's page rerun runs in the Streamlit server process; a training or a long job there would
share its interpreter lock with all of them. Here such work runs in a child process:

- made from a ``forkserver`` (Linux, macOS) that has imported torch once, so a child starts in tens of
  milliseconds and shares torch's pages; ``spawn`` where there is no forkserver (Windows);
- at low priority (``nice``) on its share of the CPUs, so page reruns win the CPU;
- counted machine-wide: each child holds one of a fixed number of *slots*, lock files in a runtime
  folder (``$CNN_EXPLORER_RUN_DIR``), so replicas of the app on one machine share one bound, and a
  slot is given back by the operating system when its process ends, however it ends;
- tied to its owner: a child exits when the process that started it (or the forkserver) is gone,
  so a stopped or killed server leaves no process behind.

`Job` runs one picklable function with progress reports; the training wing builds its long-lived,
commanded workers on `start` and `Channel`.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import signal
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Callable

RUN_DIR_ENV = "CNN_EXPLORER_RUN_DIR"
MAX_JOBS_ENV = "CNN_EXPLORER_MAX_JOBS"
WORKER_NICE = 10  # nice value of worker processes (0 = normal, 19 = lowest)
PRELOAD = ["torch", "explorer.core.workers"]  # what the forkserver imports once for all children
OWNER_CHECK_S = 1.0  # a worker looks for its owner this often
JOB_WAIT_S = 120.0  # a job waits this long for a free slot before it reports "busy"
SLOT_RETRY_S = 0.2  # a waiting job tries the slots this often
Progress = Callable[[float], None]


# ---------------------------------------------------------------- processes


@cache
def context() -> multiprocessing.context.BaseContext:
    """The start method for workers: a forkserver that has imported torch, else spawn (never plain fork:
    forking a process that runs torch's threads can deadlock the child)."""
    _no_main_in_children()
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


def _no_main_in_children() -> None:
    """Children of this process do not re-run its ``__main__``.

    A spawned or forkserver child first imports its parent's main module. In Streamlit that is whichever
    page script is running (a run sets ``sys.modules["__main__"]`` to the page), so every worker would run
    a page at start, and a page that starts a worker would recurse. Workers need nothing from
    ``__main__`` (their targets live in explorer), so the preparation data leaves it out.
    """
    from multiprocessing import spawn

    get = spawn.get_preparation_data
    if getattr(get, "without_main", False):
        return

    def get_preparation_data(name: str) -> dict:
        data = get(name)
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
        return data

    get_preparation_data.without_main = True  # type: ignore[attr-defined]
    spawn.get_preparation_data = get_preparation_data


def run_dir() -> Path:
    """The machine-wide folder of worker bookkeeping (slot lock files): ``$CNN_EXPLORER_RUN_DIR``, else a
    per-user folder in the system's temporary directory."""
    env = os.environ.get(RUN_DIR_ENV)
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    path = Path(env) if env else Path(tempfile.gettempdir()) / f"cnn-explorer-{user}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def start(target: Callable[..., None], *args: Any, name: str, **kwargs: Any) -> multiprocessing.process.BaseProcess:
    """Start ``target(*args, **kwargs)`` in a worker process that ends with this one (its owner)."""
    proc = context().Process(target=_run, args=(target, os.getpid(), args, kwargs), name=name, daemon=True)
    proc.start()
    return proc


def _run(target: Callable[..., None], owner: int, args: tuple, kwargs: dict) -> None:
    """The worker's first steps: low priority, die with the owner, then ``target``."""
    lower_priority()
    watch_owner(owner)
    target(*args, **kwargs)


def lower_priority(nice: int = WORKER_NICE) -> None:
    """Give this whole process a lower CPU priority (where the OS allows it)."""
    if hasattr(os, "nice"):
        try:
            os.nice(max(0, nice - os.nice(0)))
        except OSError:
            pass


def watch_owner(owner: int, *, every: float = OWNER_CHECK_S) -> None:
    """End this process as soon as ``owner`` (the page process that started it) has gone.

    A daemon thread checks every ``every`` seconds; with a forkserver the owner is not our parent, so
    we ask the OS whether the owner's process still exists.
    """
    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except (PermissionError, OSError):
            return True  # exists (another user's, or the OS will not say): assume alive
        return True

    def check() -> None:
        while alive(owner):
            time.sleep(every)
        os._exit(0)  # nobody to report to: leave at once, slots are released by the OS

    if sys.platform != "win32":  # os.kill(pid, 0) is a liveness test on POSIX only
        threading.Thread(target=check, name="owner-watch", daemon=True).start()


def set_threads(threads: int) -> None:
    """torch's threads, and the BLAS libraries' (numpy, scikit-learn), for this (worker) process."""
    import torch

    torch.set_num_threads(max(1, threads))
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # no scikit-learn: numpy's BLAS keeps its own default
        return
    threadpool_limits(max(1, threads))


def cpu_count() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


# ---------------------------------------------------------------- machine-wide slots


class Slots:
    """At most ``count`` holders at once on this machine, counted with lock files.

    A worker process calls `acquire` and keeps the returned slot for its lifetime: the OS releases
    the lock when the process ends, also when it crashes or is killed, so no slot is ever lost.
    """

    def __init__(self, name: str, count: int, *, folder: Path | None = None) -> None:
        self.name, self.count = name, max(1, int(count))
        self.folder = folder or run_dir()

    def _path(self, index: int) -> Path:
        return self.folder / f"{self.name}-{index}.lock"

    def acquire(self) -> int | None:
        """Take a free slot for this process (its index), or None when all are taken."""
        for index in range(self.count):
            if self._path(index) in _HELD:
                continue
            fd = os.open(self._path(index), os.O_CREAT | os.O_RDWR, 0o600)
            if _try_lock(fd):
                _HELD[self._path(index)] = fd  # kept open (and locked) until released or this process ends
                return index
            os.close(fd)
        return None

    def release(self, index: int) -> None:
        """Give back a slot this process took."""
        fd = _HELD.pop(self._path(index), None)
        if fd is not None:
            _unlock(fd)
            os.close(fd)

    def busy(self) -> int:
        """How many slots are held right now (by any process on this machine)."""
        held = 0
        for index in range(self.count):
            if self._path(index) in _HELD:
                held += 1
                continue
            fd = os.open(self._path(index), os.O_CREAT | os.O_RDWR, 0o600)
            try:
                if _try_lock(fd):
                    _unlock(fd)
                else:
                    held += 1
            finally:
                os.close(fd)
        return held


_HELD: dict[Path, int] = {}  # slot lock file -> its locked file descriptor, in this process

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def max_jobs() -> int:
    """How many jobs (`Job`) may run at once on this machine (``$CNN_EXPLORER_MAX_JOBS``, default: the CPUs)."""
    try:
        return max(1, int(os.environ.get(MAX_JOBS_ENV, cpu_count())))
    except ValueError:
        return cpu_count()


# ---------------------------------------------------------------- one-shot jobs


@dataclass
class JobState:
    """What a page sees of a job: progress in [0, 1], then a result or an error."""

    progress: float = 0.0
    done: bool = False
    result: Any = None
    error: BaseException | None = None  # the job's own exception (a UserError has an i18n key)
    queued: bool = False  # waiting for a free job slot (other work runs on every CPU)
    busy: bool = False  # refused: no job slot came free within the job's wait


class Job:
    """``fn(*args, progress=callback, **kwargs)`` in a worker process; the page polls `poll`.

    ``fn`` and its arguments must be picklable (a module-level function). The worker takes one job slot
    (``$CNN_EXPLORER_MAX_JOBS`` machine-wide): while every slot is taken it waits (``queued``) up to
    ``wait`` seconds, then reports ``busy``. `cancel` ends it. Several sessions may poll one job.
    """

    def __init__(self, fn: Callable[..., Any], *args: Any, threads: int = 1, wait: float = JOB_WAIT_S,
                 **kwargs: Any) -> None:
        ctx = context()
        self._messages = ctx.Queue()
        self._lock = threading.Lock()
        self.state = JobState()
        self._proc = start(_job_main, fn, args, kwargs, self._messages, Slots("job", max_jobs()), threads, wait,
                           name=f"cnn-explorer-job-{getattr(fn, '__name__', 'fn')}")

    def poll(self) -> JobState:
        """Read what the worker said so far (never waits)."""
        with self._lock:
            return self._poll()

    def _poll(self) -> JobState:
        while True:
            try:
                kind, value = unpack(self._messages.get_nowait())
            except queue.Empty:
                break
            if kind == "progress":
                self.state.progress = value
            elif kind == "queued":
                self.state.queued = value
            elif kind == "result":
                self.state.result, self.state.done, self.state.progress = value, True, 1.0
            elif kind == "error":
                self.state.error, self.state.done = value, True
            elif kind == "busy":
                self.state.busy, self.state.done, self.state.queued = True, True, False
        if not self.state.done and not self._proc.is_alive() and self._messages.empty():
            self.state.error, self.state.done = WorkerDied(self._proc.exitcode), True
        return self.state

    def wait(self, timeout: float | None = None) -> JobState:
        """Poll until done (tests, scripts); the page polls instead."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.poll().done and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.02)
        return self.state

    def cancel(self) -> None:
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc.join(5)

    @property
    def pid(self) -> int | None:
        return self._proc.pid


class Results:
    """Jobs by key, then their final states, for one session or shared by many: the first asker of a key
    starts its job, later askers follow the same job and then read its result. Thread-safe. Keeps at most
    ``size`` finished entries (the least recently asked go first); running jobs are never dropped."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._items: dict[Any, Job | JobState] = {}  # insertion order = least recently asked first

    def ask(self, key: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Job | JobState:
        """The job under ``key`` (started now with ``fn(*args, **kwargs)`` if there is none), or its final state
        once `settle` has seen it end."""
        with self._lock:
            entry = self._items.pop(key, None)
            if entry is None:
                entry = Job(fn, *args, **kwargs)
            self._items[key] = entry
            finished = [k for k, v in self._items.items() if isinstance(v, JobState)]
            for old in finished[:max(0, len(finished) - self.size)]:
                del self._items[old]
            return entry

    def settle(self, key: Any, job: Job) -> JobState:
        """``job``'s state; once it is done, kept under ``key`` in place of the job."""
        state = job.poll()
        if state.done:
            with self._lock:
                if self._items.get(key) is job:
                    self._items[key] = state
        return state

    def get(self, key: Any) -> Job | JobState | None:
        """What is under ``key`` now, if anything (starts nothing)."""
        with self._lock:
            return self._items.get(key)

    def forget(self, key: Any) -> None:
        """Drop ``key`` (a failed job is asked again)."""
        with self._lock:
            self._items.pop(key, None)

    def __contains__(self, key: Any) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)


def problem(state: JobState) -> tuple[str, dict[str, str]] | None:
    """Why a finished job has no result, as (i18n key, parameters); None when it has one."""
    if state.busy:
        return "common.job.busy", {}
    err = state.error
    if err is None:
        return None
    key, params = getattr(err, "key", None), getattr(err, "params", None)
    if isinstance(key, str) and isinstance(params, dict):  # a UserError or WorkerDied
        return key, params
    return "common.job.failed", {"error": type(err).__name__}


class WorkerDied(RuntimeError):
    """A worker process ended without saying why (killed, out of memory, crashed)."""

    key = "common.worker_died"

    def __init__(self, exitcode: int | None) -> None:
        super().__init__(f"worker process ended with exit code {exitcode}")
        self.params = {"code": str(exitcode)}


def _job_main(fn: Callable[..., Any], args: tuple, kwargs: dict, messages: Any, slots: Slots, threads: int,
              wait: float) -> None:
    if slots.acquire() is None:
        messages.put(pack(("queued", True)))
        deadline = time.monotonic() + wait
        while slots.acquire() is None:
            if time.monotonic() >= deadline:
                messages.put(pack(("busy", None)))
                return
            time.sleep(SLOT_RETRY_S)
        messages.put(pack(("queued", False)))
    set_threads(threads)
    last = [0.0]

    def progress(fraction: float) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.1 or fraction >= 1.0:  # at most ten reports a second
            last[0] = now
            messages.put(pack(("progress", float(min(max(fraction, 0.0), 1.0)))))

    try:
        result = fn(*args, progress=progress, **kwargs)
    except Exception as err:  # reported to the page, which shows a translated message
        messages.put(pack(("error", _picklable(err))))
    else:
        messages.put(pack(("result", result)))
    messages.close()
    messages.join_thread()


def _picklable(err: BaseException) -> BaseException:
    """``err`` itself if it pickles (a UserError does), else a RuntimeError naming it."""
    import pickle

    try:
        pickle.dumps(err)
        return err
    except Exception:
        return RuntimeError("".join(traceback.format_exception_only(type(err), err)).strip())


def pack(message: Any) -> bytes:
    """A message between this app's own processes, pickled plainly: torch registers shared-memory
    reductions for tensors on multiprocessing's pickler, which need the sending process alive until the
    receiver reads (a finished job is gone by then) and cost a socket per tensor."""
    return pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(data: bytes) -> Any:
    """A message `pack`ed by one of this app's worker processes (never data from a user)."""
    return pickle.loads(data)


def terminate(proc: multiprocessing.process.BaseProcess, *, timeout: float = 5.0) -> None:
    """End a worker process: SIGTERM, then SIGKILL if it does not go."""
    if proc.is_alive():
        proc.terminate()
        proc.join(timeout)
    if proc.is_alive() and hasattr(signal, "SIGKILL"):
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(timeout)
