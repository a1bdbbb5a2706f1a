"""explorer.training.worker: the worker's answers, run state, slot and history cursor, in-process
(the queues replaced by lists; the process itself is tested through the Runner)."""

from __future__ import annotations

import pickle

import torch

from explorer.core.workers import Slots, unpack
from explorer.training import TrainConfig, TrainingError
from explorer.training.trainer import Trainer
from explorer.training.worker import Data, _Worker
from tests.training.conftest import SMALL, TEST, TRAIN, small_trainer


class Replies(list):
    """The worker's reply queue: what it sends, unpacked as the page unpacks it."""

    def put(self, item: bytes) -> None:
        self.append(unpack(item))


def _worker(tmp_path, config=SMALL, heartbeat=60.0):
    replies = Replies()
    return _Worker(small_trainer(config), replies, Slots("train", 1, folder=tmp_path), heartbeat), replies


def test_start_takes_the_slot_pause_gives_it_back(tmp_path):
    worker, replies = _worker(tmp_path)
    worker.handle((1, "start"))
    assert replies[-1] == ("started", None, 1) and worker.slots.busy() == 1
    worker.train()
    worker.handle((2, "pause"))
    kind, view, number = replies[-1]
    assert (kind, number, view.state) == ("view", 2, "paused") and worker.slots.busy() == 0
    assert view.snapshot.step == 1


def test_a_second_worker_is_busy_while_the_slot_is_taken(tmp_path):
    first, _ = _worker(tmp_path)
    second, replies = _worker(tmp_path)
    first.handle((1, "start"))
    second.handle((1, "start"))
    assert replies[-1] == ("busy", None, 1)


def test_views_carry_each_history_row_once_and_the_evaluation_when_new(tmp_path):
    worker, replies = _worker(tmp_path)
    worker.handle((1, "start"))
    seen = []
    for number in range(2, 8):
        worker.train()
        worker.handle((number, "poll", (3, 4)))
        view = replies[-1][1]
        seen += view.snapshot.history.step
        assert len(view.maps[0][1]) == 4 and view.maps[0][1].dtype == torch.float16 and view.watch == (3, 4)
    assert seen == list(range(1, 7))  # every step row exactly once
    evaluations = [r[1].snapshot.evaluation for r in replies if r[0] == "view"]
    assert sum(e is not None for e in evaluations) == worker.trainer.epoch  # once per epoch end
    pickle.dumps(replies)  # everything the worker sends can cross a process boundary


def test_without_polls_it_stops_and_says_abandoned(tmp_path):
    worker, _ = _worker(tmp_path, heartbeat=0.0)
    worker.handle((1, "start"))
    worker.train()
    assert worker.state == "abandoned" and worker.slots.busy() == 0


def test_a_finished_run_gives_back_its_slot(tmp_path):
    worker, _ = _worker(tmp_path, config=TrainConfig(batch_size=100, epochs=1))
    worker.handle((1, "start"))
    while worker.running:
        worker.train()
    assert worker.state == "finished" and worker.slots.busy() == 0


def test_state_and_load_round_trip_and_bad_weights_are_refused(tmp_path):
    worker, replies = _worker(tmp_path)
    worker.handle((1, "state"))
    state = replies[-1][1]
    state["features.0.weight"] = state["features.0.weight"] + 1
    worker.handle((2, "load", state))
    assert replies[-1][0] == "loaded"
    assert torch.equal(worker.trainer.state_dict()["features.0.weight"], state["features.0.weight"])
    worker.handle((3, "load", {"features.0.weight": torch.zeros(1)}))
    kind, err, _ = replies[-1]
    assert kind == "refused" and err.key == "train.ckpt.keys"


def test_errors_cross_the_process_boundary_with_their_key():
    err = pickle.loads(pickle.dumps(TrainingError("train.error.nan", step=3, lr=10)))
    assert err.key == "train.error.nan" and err.params == {"step": "3", "lr": "10"}


def test_array_data_is_what_the_trainer_gets():
    train, test = Data("arrays", TRAIN.images, TRAIN.labels, TEST.images, TEST.labels).splits()
    trainer = Trainer(SMALL, train, test, device=torch.device("cpu"))
    assert trainer.train_size == len(TRAIN.labels) and len(trainer.test_data.labels) == len(TEST.labels)
