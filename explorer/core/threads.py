"""CPU share of a training thread: how many OpenMP threads it may use, and at what priority.

`torch.set_num_threads` changes a process-wide default that every thread created later copies, so
one training calling it would slow every student's page. OpenMP's own ``omp_set_num_threads``
applies to the calling thread only (the ``nthreads-var`` ICV is per thread), and torch's ops,
oneDNN convolutions and MKL matmuls started from that thread follow it. `limit_this_thread` calls it
on the OpenMP runtime torch has already loaded; where none is found (torch built without OpenMP),
it leaves the count alone and says so.

`lower_this_thread` raises the calling thread's nice value (Linux: nice is per thread, and the
OpenMP helper threads it starts afterwards inherit it), so page reruns win the CPU over trainings.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from functools import cache

import torch

THREADS_ENV = "CNN_EXPLORER_TRAIN_THREADS"
TRAINING_NICE = 10  # nice value of training threads (0 = normal, 19 = lowest)
_OPENMP_NAMES = ("libgomp.so.1", "libomp.so", "libiomp5.so", "libomp.dylib", "libiomp5.dylib")


def cpu_count() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def threads_per_training(running: int) -> int:
    """OpenMP threads for each of ``running`` trainings: an equal share of the CPUs, at least one.

    ``$CNN_EXPLORER_TRAIN_THREADS`` fixes the number instead (e.g. 1 on a busy lab server).
    """
    fixed = os.environ.get(THREADS_ENV, "")
    if fixed.isdigit() and int(fixed) > 0:
        return int(fixed)
    return max(1, cpu_count() // max(1, running))


@cache
def _openmp() -> ctypes.CDLL | None:
    """The OpenMP runtime already loaded by torch (never loads another one), or None."""
    if not torch.backends.openmp.is_available():
        return None
    mode = getattr(os, "RTLD_NOLOAD", 0) | ctypes.RTLD_GLOBAL
    for name in _OPENMP_NAMES:
        try:
            lib = ctypes.CDLL(name, mode=mode)
        except OSError:
            continue
        if hasattr(lib, "omp_set_num_threads"):
            return lib
    return None


def can_limit_threads() -> bool:
    """True when `limit_this_thread` can bound the calling thread's OpenMP threads."""
    return _openmp() is not None


def limit_this_thread(threads: int) -> bool:
    """Let torch ops started from the calling thread use at most ``threads`` threads (no one else)."""
    lib = _openmp()
    if lib is None:
        return False
    torch.get_num_threads()  # torch initialises this thread's OpenMP settings first, then we override them
    lib.omp_set_num_threads(ctypes.c_int(max(1, threads)))
    return True


def lower_this_thread(nice: int = TRAINING_NICE) -> bool:
    """Give the calling thread a lower CPU priority (Linux; elsewhere a no-op returning False)."""
    if sys.platform != "linux":
        return False
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except OSError:
        return False
    return True
