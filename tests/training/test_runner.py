"""Runner: a training in its own worker process, seen from its page: start, pause, resume, the heartbeat,
the machine-wide cap, a crashed or killed worker, no process left behind, isolation, low priority."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
import torch

from explorer.training import Runner, TrainConfig
from explorer.training.runner import controls, max_trainings, phase, running_trainings
from explorer.training.worker import Data
from tests.conftest import ROOT, until
from tests.training.conftest import TEST, TRAIN

SMALL = Data("arrays", TRAIN.images, TRAIN.labels, TEST.images, TEST.labels)
LONG = TrainConfig(batch_size=50, epochs=200)


def _reaches(runner: Runner, predicate, timeout: float = 60.0) -> bool:
    return until(lambda: (runner.poll(), predicate(runner))[1], timeout=timeout, interval=0.05)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open(f"/proc/{pid}/stat") as f:  # a zombie has ended; its parent just has not reaped it
        return f.read().split(") ")[1].startswith("Z")


@pytest.fixture
def runner():
    r = Runner(LONG, SMALL, trainings=1)
    assert r.wait_ready()
    yield r
    r.stop()


def test_trains_in_its_own_process_pauses_and_resumes(runner):
    assert runner.pid != os.getpid() and runner.alive
    assert phase(runner) == "not_started" and controls(runner).start_enabled
    assert runner.start() and runner.start()  # a second start while running changes nothing
    assert _reaches(runner, lambda r: r.snapshot.step >= 2)
    assert running_trainings() == 1
    runner.pause()
    assert runner.state == "paused" and phase(runner) == "paused"
    done = runner.snapshot.step
    runner.refresh()
    assert runner.snapshot.step == done  # paused: no step follows
    assert running_trainings() == 0  # its slot was given back
    assert runner.start() and _reaches(runner, lambda r: r.snapshot.step > done)
    assert len(runner.history.step) == runner.snapshot.step  # the page keeps the whole history


def test_stops_by_itself_when_nobody_polls():
    r = Runner(LONG, SMALL, heartbeat_timeout=0.5, trainings=1)
    try:
        assert r.start() and running_trainings() == 1
        assert until(lambda: running_trainings() == 0, timeout=30)  # nobody polled: it gave its slot back
        r.refresh()  # the student comes back: the page learns why it stopped
        assert r.state == "abandoned" and controls(r).status == "train.status.abandoned"
    finally:
        r.stop()


def test_the_machine_wide_cap_queues_a_second_training_until_the_first_pauses(runner):
    other = Runner(LONG, SMALL, trainings=1)
    try:
        assert runner.start()
        assert not other.start() and other.queued  # the one slot is taken: the page says "try again"
        runner.pause()
        assert other.start() and not other.queued
    finally:
        other.stop()


def test_max_trainings_reads_the_environment(monkeypatch):
    monkeypatch.setenv("CNN_EXPLORER_MAX_TRAININGS", "2")
    assert max_trainings() == 2
    monkeypatch.setenv("CNN_EXPLORER_MAX_TRAININGS", "lots")
    assert max_trainings() == 4


def test_a_killed_worker_is_reported_and_a_new_run_works(runner):
    assert runner.start()
    os.kill(runner.pid, signal.SIGKILL)
    assert _reaches(runner, lambda r: r.state == "failed", timeout=10)
    assert runner.error.key == "train.error.worker_died" and phase(runner) == "failed"
    assert controls(runner).reset_enabled and not controls(runner).start_enabled
    assert running_trainings() == 0  # the OS gave its slot back
    again = Runner(LONG, SMALL, trainings=1)
    try:
        assert again.start() and _reaches(again, lambda r: r.snapshot.step >= 1)
    finally:
        again.stop()


def test_same_seed_same_weights_in_two_processes_and_the_page_rng_untouched():
    before = torch.random.get_rng_state()
    a, b = Runner(TrainConfig(seed=5), SMALL), Runner(TrainConfig(seed=5), SMALL)
    c = Runner(TrainConfig(seed=6), SMALL)
    try:
        sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
        assert all(torch.equal(sa[k], sb[k]) for k in sa)
        assert not all(torch.equal(sa[k], sc[k]) for k in sa)
    finally:
        for r in (a, b, c):
            r.stop()
    assert torch.equal(before, torch.random.get_rng_state())


def test_the_worker_runs_at_low_priority_on_its_share_of_the_cpus(runner):
    assert os.getpriority(os.PRIO_PROCESS, runner.pid) > os.getpriority(os.PRIO_PROCESS, os.getpid())
    assert runner.start() and _reaches(runner, lambda r: r.snapshot.step >= 1)
    runner.refresh()
    assert runner.view_threads == max(1, len(os.sched_getaffinity(0)))  # alone: every CPU


def test_stop_ends_the_worker_process():
    r = Runner(LONG, SMALL)
    assert r.wait_ready()
    pid = r.pid
    r.stop()
    assert until(lambda: _gone(pid), timeout=10)


def test_no_worker_outlives_a_killed_server(tmp_path):
    """A page process that dies (SIGKILL, no clean-up at all) leaves no training process behind."""
    script = tmp_path / "owner.py"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from explorer.training import Runner, TrainConfig
        from explorer.training.worker import Data
        from tests.training.conftest import TEST, TRAIN
        if __name__ == "__main__":
            r = Runner(TrainConfig(batch_size=50, epochs=200), Data("arrays", TRAIN.images, TRAIN.labels,
                                                                    TEST.images, TEST.labels))
            r.start()
            print(r.pid, flush=True)
            time.sleep(600)
    """))
    with subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True) as owner:
        try:
            worker = int(owner.stdout.readline())
            assert not _gone(worker)
            owner.send_signal(signal.SIGKILL)
            owner.wait(10)
            assert until(lambda: _gone(worker), timeout=15)
        finally:
            owner.kill()


def test_model_is_a_page_side_copy_of_the_latest_weights_for_named_and_custom_networks():
    mlp = ({"kind": "flatten"}, {"kind": "linear", "out_features": 16}, {"kind": "relu"},
           {"kind": "linear", "out_features": 10})
    for config in (TrainConfig(seed=2), TrainConfig(model="custom", layers=mlp, seed=2)):
        r = Runner(config, SMALL)
        try:
            model, state = r.model(), r.state_dict()
            assert not model.training
            assert all(torch.equal(model.state_dict()[k], state[k]) for k in state)
            assert model(TEST.images[:3]).shape == (3, 10)
            with torch.no_grad():
                next(model.parameters()).add_(1.0)  # the page's copy: the worker's weights are untouched
            assert all(torch.equal(r.state_dict()[k], state[k]) for k in state)
        finally:
            r.stop()
