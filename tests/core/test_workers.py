"""explorer.core.workers: machine-wide slots, one-shot jobs in worker processes (progress, result, errors,
busy, cancel), and children that never re-run the parent's __main__."""

from __future__ import annotations

import os
import time

import pytest

from explorer.core import workers
from explorer.core.i18n import UserError
from tests.conftest import until


def test_slots_are_counted_and_given_back(tmp_path):
    slots = workers.Slots("t", 2, folder=tmp_path)
    a, b = slots.acquire(), slots.acquire()
    assert {a, b} == {0, 1} and slots.acquire() is None and slots.busy() == 2
    slots.release(a)
    assert slots.busy() == 1 and slots.acquire() == a
    slots.release(a)
    slots.release(b)
    assert slots.busy() == 0


def _hold_a_slot(folder: str, *, progress) -> int:
    slot = workers.Slots("held", 1, folder=__import__("pathlib").Path(folder)).acquire()
    progress(0.5)
    time.sleep(30)
    return slot


def test_a_slot_held_by_a_killed_process_is_free_again(tmp_path):
    job = workers.Job(_hold_a_slot, str(tmp_path))
    assert until(lambda: job.poll().progress == 0.5, timeout=30)
    slots = workers.Slots("held", 1, folder=tmp_path)
    assert slots.busy() == 1 and slots.acquire() is None
    job.cancel()
    assert until(lambda: slots.busy() == 0, timeout=10)


def _square(x: int, *, progress) -> int:
    for i in range(3):
        progress((i + 1) / 3)
    return x * x


def _refuse(*, progress) -> None:
    raise UserError("common.error_prefix", detail="x")


def _crash(*, progress) -> None:
    os._exit(3)


def test_a_job_reports_progress_and_its_result_from_another_process():
    job = workers.Job(_square, 7)
    state = job.wait(timeout=60)
    assert state.done and state.result == 49 and state.progress == 1.0 and state.error is None
    assert job.pid != os.getpid()


def test_a_user_error_reaches_the_page_with_its_key():
    state = workers.Job(_refuse).wait(timeout=60)
    assert isinstance(state.error, UserError) and state.error.key == "common.error_prefix"
    assert state.error.params == {"detail": "x"}


def test_a_job_that_dies_is_reported():
    state = workers.Job(_crash).wait(timeout=60)
    assert isinstance(state.error, workers.WorkerDied) and state.error.params == {"code": "3"}


def test_a_job_waits_for_a_free_slot_and_runs_when_one_comes_free(monkeypatch, tmp_path):
    monkeypatch.setenv("CNN_EXPLORER_MAX_JOBS", "1")
    monkeypatch.setenv("CNN_EXPLORER_RUN_DIR", str(tmp_path))
    held = workers.Slots("job", 1, folder=tmp_path)
    assert held.acquire() == 0
    try:
        job = workers.Job(_square, 3)
        assert until(lambda: job.poll().queued, timeout=30)
        time.sleep(0.5)
        assert not job.poll().done  # still waiting: the slot is taken
    finally:
        held.release(0)
    state = job.wait(timeout=60)
    assert state.done and state.result == 9 and not state.queued and not state.busy


def test_a_job_is_refused_when_no_slot_comes_free_within_its_wait(monkeypatch, tmp_path):
    monkeypatch.setenv("CNN_EXPLORER_MAX_JOBS", "1")
    monkeypatch.setenv("CNN_EXPLORER_RUN_DIR", str(tmp_path))
    held = workers.Slots("job", 1, folder=tmp_path)
    assert held.acquire() == 0
    try:
        state = workers.Job(_square, 2, wait=0.5).wait(timeout=60)
        assert state.busy and state.result is None and not state.queued
    finally:
        held.release(0)


@pytest.mark.parametrize(("value", "expected"), [("2", 2), ("0", 1), ("many", None)])
def test_max_jobs_reads_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("CNN_EXPLORER_MAX_JOBS", value)
    assert workers.max_jobs() == (expected or workers.cpu_count())


def test_children_do_not_import_the_parents_main_module():
    from multiprocessing import spawn

    workers.context()
    data = spawn.get_preparation_data("x")
    assert "init_main_from_path" not in data and "init_main_from_name" not in data


def test_results_share_one_job_per_key_then_keep_its_final_state():
    results = workers.Results(size=2)
    first = results.ask("a", _square, 4)
    assert results.ask("a", _square, 99) is first  # a second asker follows the same job
    state = first.wait(timeout=60)
    assert results.settle("a", first) is state and results.get("a") is state and state.result == 16
    assert results.ask("a", _square, 99) is state  # finished: no new job
    results.forget("a")
    assert "a" not in results and results.get("a") is None


def test_results_keep_only_the_most_recently_asked_finished_entries():
    results = workers.Results(size=2)
    for key in ("a", "b", "c"):
        job = results.ask(key, _square, 2)
        job.wait(timeout=60)
        results.settle(key, job)
    assert isinstance(results.ask("a", _square, 2), workers.JobState)  # asked again: now the most recent
    assert "b" not in results and "c" in results and "a" in results  # the least recently asked went
    running = results.ask("d", _square, 3)
    assert isinstance(running, workers.Job) and len(results) == 3  # a running job is never dropped
    running.wait(timeout=60)


@pytest.mark.parametrize(("state", "expected"), [
    (workers.JobState(done=True, result=1), None),
    (workers.JobState(done=True, busy=True), ("common.job.busy", {})),
    (workers.JobState(done=True, error=workers.WorkerDied(9)), ("common.worker_died", {"code": "9"})),
    (workers.JobState(done=True, error=UserError("common.error_prefix", detail="x")),
     ("common.error_prefix", {"detail": "x"})),
    (workers.JobState(done=True, error=MemoryError()), ("common.job.failed", {"error": "MemoryError"})),
])
def test_problem_says_why_a_finished_job_has_no_result(state, expected):
    assert workers.problem(state) == expected
