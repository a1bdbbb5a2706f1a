"""Per-thread CPU share: the OpenMP bound and the priority apply to the calling thread only."""

from __future__ import annotations

import os
import sys
import threading

import pytest
import torch

from explorer.core import threads


def _in_thread(fn):
    """Run ``fn`` on a fresh thread (as a training worker does) and return its result."""
    out = {}
    worker = threading.Thread(target=lambda: out.update(result=fn()))
    worker.start()
    worker.join()
    return out["result"]


def test_threads_per_training_shares_the_cpus(monkeypatch):
    monkeypatch.delenv(threads.THREADS_ENV, raising=False)
    monkeypatch.setattr(threads, "cpu_count", lambda: 8)
    assert [threads.threads_per_training(n) for n in (0, 1, 2, 3, 4, 9)] == [8, 8, 4, 2, 2, 1]


@pytest.mark.parametrize("value, expected", [("3", 3), ("0", 2), ("-1", 2), ("many", 2), ("", 2)])
def test_threads_per_training_can_be_fixed_by_the_environment(monkeypatch, value, expected):
    monkeypatch.setattr(threads, "cpu_count", lambda: 4)
    monkeypatch.setenv(threads.THREADS_ENV, value)
    assert threads.threads_per_training(2) == expected


@pytest.mark.skipif(not threads.can_limit_threads(), reason="torch was built without OpenMP here")
def test_limit_applies_to_the_calling_thread_only():
    before = torch.get_num_threads()

    def bounded() -> tuple[bool, int, int]:
        ok = threads.limit_this_thread(1)
        ones = torch.get_num_threads()
        threads.limit_this_thread(3)
        return ok, ones, torch.get_num_threads()

    assert _in_thread(bounded) == (True, 1, 3)
    assert torch.get_num_threads() == before  # this thread keeps its count
    assert _in_thread(torch.get_num_threads) == before  # and threads started later keep the default


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are a Linux feature")
def test_lower_priority_applies_to_the_calling_thread_only():
    def lowered() -> tuple[bool, int]:
        ok = threads.lower_this_thread(7)
        return ok, os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    assert _in_thread(lowered) == (True, 7)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == 0
