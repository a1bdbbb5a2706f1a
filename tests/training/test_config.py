"""TrainConfig: the lectures' recipe by default, bad hyperparameters refused with a key."""

from __future__ import annotations

import pytest

from explorer.training import (
    TrainConfig,
    TrainingError,
)


def test_defaults_are_the_lectures_recipe():
    c = TrainConfig()
    assert (c.model, c.optimizer, c.lr, c.batch_size, c.epochs, c.seed) == ("seed_cnn", "adam", 0.001, 100, 15, 777)
    assert not c.augment and c.schedule == "constant"


@pytest.mark.parametrize(("field", "value", "key"), [
    ("lr", float("nan"), "train.error.lr"), ("lr", -1.0, "train.error.lr"),
    ("batch_size", 0, "train.error.batch_size"), ("epochs", 0, "train.error.epochs"),
    ("model", "vgg", "train.error.model"), ("optimizer", "rmsprop", "train.error.optimizer"),
    ("train_size", 0, "train.error.train_size"), ("schedule", "step", "train.error.schedule"),
])
def test_bad_hyperparameters_are_refused_with_a_key(field, value, key):
    with pytest.raises(TrainingError) as err:
        TrainConfig(**{field: value})
    assert err.value.key == key

