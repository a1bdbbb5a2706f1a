"""The homework's MLP: layer tables, init choices drawn from a generator only, and the training loop."""

from __future__ import annotations

import math
import pickle

import pytest
import torch
from torch import nn

from explorer.core.data import load_embedded
from explorer.fc import mlp
from explorer.fc.checks import FCError


@pytest.fixture(scope="module")
def small():
    train, test = load_embedded("train"), load_embedded("test")
    return train.images[:600], train.labels[:600], test.images[:200], test.labels[:200]


def test_homework_tables():
    assert mlp.homework_table() == [
        {"kind": "flatten"}, {"kind": "linear", "in_features": 784, "out_features": 100}, {"kind": "sigmoid"},
        {"kind": "linear", "in_features": 100, "out_features": 10}]
    assert [s["kind"] for s in mlp.homework_table(activation="relu")] == ["flatten", "linear", "relu", "linear"]
    three = mlp.homework_table(layers=3)
    assert [s["kind"] for s in three] == ["flatten", "linear", "sigmoid", "linear", "relu", "linear"]
    assert [s.get("out_features") for s in three if s["kind"] == "linear"] == [100, 50, 10]
    bn = mlp.layer_table(hidden=(8, 8), activations="tanh", batchnorm=True)
    assert [s["kind"] for s in bn] == ["flatten", "linear", "batchnorm", "tanh", "linear", "batchnorm", "tanh", "linear"]


def test_the_lectures_16x16_network_has_its_parameter_counts():
    """Seed 000 ~L24–28: 256·100 = 25,600 and 100·26 = 2,600 weights, 100 and 26 biases."""
    net = mlp.build(mlp.layer_table(hidden=(100,), in_features=256, classes=26))
    counts = [(m.weight.numel(), m.bias.numel()) for m in mlp.linear_layers(net)]
    assert counts == [(25_600, 100), (2_600, 26)]
    assert net(torch.zeros(3, 1, 16, 16)).shape == (3, 26)


@pytest.mark.parametrize("init", mlp.INITS)
def test_inits_depend_on_the_generator_only(init):
    before = torch.get_rng_state()
    a = mlp.build(mlp.homework_table(), init=init, generator=torch.Generator().manual_seed(5))
    b = mlp.build(mlp.homework_table(), init=init, generator=torch.Generator().manual_seed(5))
    c = mlp.build(mlp.homework_table(), init=init, generator=torch.Generator().manual_seed(6))
    assert torch.equal(torch.get_rng_state(), before)  # the global RNG was not used
    for p, q, r in zip(a.parameters(), b.parameters(), c.parameters()):
        assert torch.equal(p, q)
    assert not torch.equal(a[1].weight, c[1].weight)


def test_init_distributions():
    gen = torch.Generator().manual_seed(0)
    net = mlp.build(mlp.layer_table(hidden=(400,), in_features=784), init="default", generator=gen)
    w, b = net[1].weight, net[1].bias
    bound = 1 / math.sqrt(784)
    assert w.abs().max() <= bound and w.abs().max() > 0.95 * bound and b.abs().max() <= bound
    mlp.reinit(net, "xavier", generator=gen)
    bound = math.sqrt(6 / (784 + 400))
    assert net[1].weight.abs().max() <= bound and net[1].weight.abs().max() > 0.95 * bound
    assert not net[1].bias.any() and not net[3].bias.any()
    mlp.reinit(net, "he", generator=gen)
    assert net[1].weight.std().item() == pytest.approx(math.sqrt(2 / 784), rel=0.02)
    assert not net[1].bias.any()


def test_trainer_layers_train_the_same_network_as_build():
    """The Train machinery's form of a table (the builder's rows, no in_features) builds the same network with
    the same weights from the same generator."""
    table = mlp.homework_table(layers=3)
    rows = mlp.trainer_layers(table)
    assert rows == ({"kind": "flatten"}, {"kind": "linear", "out_features": 100}, {"kind": "sigmoid"},
                    {"kind": "linear", "out_features": 50}, {"kind": "relu"}, {"kind": "linear", "out_features": 10})
    from explorer.training import TrainConfig, Trainer
    from tests.fc.conftest import tiny_digits

    data = tiny_digits(20, seed=0)
    trainer = Trainer(TrainConfig(model="custom", layers=rows, init="xavier", seed=3), data, data)
    ours = mlp.build(table, init="xavier", generator=torch.Generator().manual_seed(3))
    for (_, p), q in zip(trainer.model.named_parameters(), ours.parameters()):
        assert torch.equal(p.detach(), q.detach())


def test_batchnorm_layers_start_as_the_identity():
    net = mlp.build(mlp.layer_table(hidden=(5,), batchnorm=True), init="he")
    bn = net[2]
    assert isinstance(bn, nn.BatchNorm1d)
    assert torch.equal(bn.weight, torch.ones(5)) and not bn.bias.any()
    assert not bn.running_mean.any() and torch.equal(bn.running_var, torch.ones(5))


def test_init_functions_re_initialise_any_module():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    for fn in (mlp.init_default, mlp.init_xavier, mlp.init_he):
        fn(net, torch.Generator().manual_seed(1))
        first = net[0].weight.clone()
        fn(net, torch.Generator().manual_seed(1))
        assert torch.equal(first, net[0].weight)
    assert mlp.INIT_FUNCTIONS["he"] is mlp.init_he


def test_train_mlp_is_seeded_and_reports_the_homework_figures(small):
    seen = []
    a = mlp.train_mlp(*small[:2], test_images=small[2], test_labels=small[3], activation="relu", epochs=3,
                      seed=1, progress=seen.append)
    b = mlp.train_mlp(*small[:2], test_images=small[2], test_labels=small[3], activation="relu", epochs=3, seed=1)
    f = a.figures
    assert len(f.cost) == len(f.train_accuracy) == len(f.test_accuracy) == len(f.seconds) == 3
    assert f.cost[-1] < f.cost[0] and f.train_accuracy[-1] > 0.8
    assert seen == pytest.approx([1 / 3, 2 / 3, 1.0])
    for k in a.state_dict:
        assert torch.equal(a.state_dict[k], b.state_dict[k])
    model = mlp.load(pickle.loads(pickle.dumps(a)))
    assert mlp.accuracy(model, small[2], small[3]) == pytest.approx(f.test_accuracy[-1])
    assert a.seconds == pytest.approx(sum(f.seconds))


def test_fit_can_evaluate_only_after_the_last_epoch(small):
    net = mlp.build(mlp.homework_table())
    f = mlp.fit(net, small[0], small[1], epochs=2, generator=torch.Generator().manual_seed(0), evaluate="last",
                test=(small[2], small[3]))
    assert len(f.cost) == 2 and len(f.train_accuracy) == len(f.test_accuracy) == 1


@pytest.mark.parametrize(("call", "key"), [
    (lambda d: mlp.layer_table(hidden=(0,)), "fc.error.range"),
    (lambda d: mlp.layer_table(hidden=(4,) * 31), "fc.error.range"),
    (lambda d: mlp.layer_table(hidden=(4, 4), activations=("relu",)), "fc.error.activations_count"),
    (lambda d: mlp.layer_table(hidden=(4,), activations="softplus"), "fc.error.option"),
    (lambda d: mlp.homework_table(layers=4), "fc.error.range"),
    (lambda d: mlp.build(mlp.homework_table(), init="orthogonal"), "fc.error.option"),
    (lambda d: mlp.train_mlp(d[0][:, 0], d[1]), "fc.error.images"),
    (lambda d: mlp.train_mlp(d[0], d[1][:10]), "fc.error.images"),
    (lambda d: mlp.train_mlp(d[0] * float("nan"), d[1]), "fc.error.not_finite"),
    (lambda d: mlp.train_mlp(d[0], d[1] + 10), "fc.error.mnist_labels"),
    (lambda d: mlp.train_mlp(d[0], d[1].float()), "fc.error.mnist_labels"),
    (lambda d: mlp.train_mlp(d[0], d[1], epochs=0), "fc.error.range"),
    (lambda d: mlp.train_mlp(d[0], d[1], lr=float("inf")), "fc.error.not_finite"),
    (lambda d: mlp.train_mlp(d[0], d[1], batch_size="big"), "fc.error.not_integer"),
    (lambda d: mlp.fit(nn.Linear(1, 1), d[0], d[1], epochs=1, generator=torch.Generator(), evaluate="never"),
     "fc.error.option"),
])
def test_refusals(call, key, small, translated):
    with pytest.raises(FCError) as err:
        call(small)
    assert err.value.key == key
    translated(err.value)
