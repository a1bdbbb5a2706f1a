"""Checkpoints: round trips, the lectures' and safetensors formats, every bad file refused."""

from __future__ import annotations

import pytest
import torch

from explorer.training import (
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)
from tests.bad_checkpoints import bad_checkpoints, good
from tests.training.conftest import small_trainer


def test_checkpoint_round_trips_exactly():
    trainer = small_trainer()
    trainer.step(2)
    data = save_checkpoint(trainer.state_dict(), model="seed_cnn")
    fresh = small_trainer()
    fresh.load_state_dict(load_checkpoint(data, model="seed_cnn"))
    for (name, a), b in zip(trainer.state_dict().items(), fresh.state_dict().values()):
        assert torch.equal(a, b), name
    assert fresh.evaluate() == trainer.evaluate()


def test_safetensors_and_lecture_state_dicts_are_accepted():
    from safetensors.torch import save

    trainer = small_trainer()
    state = trainer.state_dict()
    assert torch.equal(load_checkpoint(save(state), model="seed_cnn")["classifier.1.bias"], state["classifier.1.bias"])
    lecture = {k.replace("features.0.", "layer1.0.").replace("features.3.", "layer2.0.")
               .replace("classifier.1.", "fc."): v for k, v in state.items()}
    import io

    buffer = io.BytesIO()
    torch.save(lecture, buffer)
    loaded = load_checkpoint(buffer.getvalue(), model="seed_cnn")
    assert torch.equal(loaded["features.3.weight"], state["features.3.weight"])


@pytest.mark.parametrize("name", sorted(bad_checkpoints()))
def test_bad_checkpoints_are_refused_and_the_weights_stay(name):
    data, key = bad_checkpoints()[name]
    trainer = small_trainer()
    before = trainer.state_dict()
    with pytest.raises(CheckpointError) as err:
        trainer.load_state_dict(load_checkpoint(data, model="seed_cnn"))
    assert err.value.key == key
    for (k, a), b in zip(before.items(), trainer.state_dict().values()):
        assert torch.equal(a, b), k


def test_good_fixture_checkpoint_loads():
    assert len(load_checkpoint(good(), model="seed_cnn")) == 6


def test_load_state_dict_checks_too():
    trainer = small_trainer()
    with pytest.raises(CheckpointError):
        trainer.load_state_dict({"features.0.weight": torch.zeros(32, 1, 3, 3)})



def test_a_custom_tables_weights_round_trip_and_other_tables_are_refused():
    from explorer.training import TrainConfig

    mlp = (({"kind": "flatten"}, {"kind": "linear", "out_features": 16}, {"kind": "relu"},
            {"kind": "linear", "out_features": 10}))
    config = TrainConfig(model="custom", layers=mlp, batch_size=50, epochs=1)
    trainer = small_trainer(config)
    data = save_checkpoint(trainer.state_dict(), model=config)
    state = load_checkpoint(data, model=config)
    assert all(torch.equal(state[k], v) for k, v in trainer.state_dict().items())
    wider = TrainConfig(model="custom", layers=(mlp[0], {"kind": "linear", "out_features": 17}, *mlp[2:]))
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(data, model=wider)
    assert info.value.key == "train.ckpt.shape"
    with pytest.raises(CheckpointError):
        load_checkpoint(data, model="seed_cnn")
