"""Tables as PyTorch models: the lecture presets start exactly as `explorer.core.models`, inits come from the
generator only, features/classifier split, the weights-file spec and per-row gradient norms."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from explorer.builder import model as bm
from explorer.builder import table
from explorer.builder.table import TableError
from explorer.core.models import DeepSeedCNN, LeNet5, SeedCNN

CORE = {"seed_cnn": SeedCNN, "deep_seed_cnn": DeepSeedCNN, "lenet5": LeNet5}


@pytest.mark.parametrize("name", list(CORE))
@pytest.mark.parametrize("seed", [0, 777])
def test_lecture_presets_start_exactly_as_the_core_models(name, seed):
    before = torch.get_rng_state()
    ours = bm.build_model(table.preset(name), (1, 28, 28), generator=torch.Generator().manual_seed(seed))
    theirs = CORE[name](generator=torch.Generator().manual_seed(seed))
    assert torch.equal(torch.get_rng_state(), before)  # the global RNG was not used
    a, b = ours.state_dict(), theirs.state_dict()
    assert list(a) == list(b)  # same keys in the same order: features.N / classifier.N
    for key in b:
        assert torch.equal(a[key], b[key]), key
    x = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    assert torch.equal(ours.eval()(x), theirs.eval()(x))


def test_default_generator_is_seeded_and_the_global_rng_untouched():
    before = torch.get_rng_state()
    a = bm.build_model(table.preset("lenet5"), (1, 28, 28))
    b = bm.build_model(table.preset("lenet5"), (1, 28, 28), generator=torch.Generator().manual_seed(0))
    assert torch.equal(torch.get_rng_state(), before)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def _conv_net(**row_init) -> list[dict]:
    return [{"kind": "conv", "out_channels": 64, "kernel": 3, "padding": 1, **row_init}, {"kind": "batchnorm"},
            {"kind": "relu"}, {"kind": "gap"}, {"kind": "batchnorm"}, {"kind": "linear", "out_features": 400}]


def test_init_options_and_their_distributions():
    gen = torch.Generator().manual_seed(0)
    m = bm.build_model(_conv_net(), (16, 8, 8), generator=gen, init="xavier")
    conv, fc = m.features[0], m.classifier[3]
    assert conv.weight.abs().max() <= math.sqrt(6 / (16 * 9 + 64 * 9)) and not conv.bias.any() and not fc.bias.any()
    m = bm.build_model(_conv_net(), (16, 8, 8), generator=gen, init="he")
    assert m.features[0].weight.std().item() == pytest.approx(math.sqrt(2 / (16 * 9)), rel=0.05)
    assert not m.features[0].bias.any()
    m = bm.build_model(_conv_net(), (16, 8, 8), generator=gen)
    bound = 1 / math.sqrt(16 * 9)
    assert m.features[0].weight.abs().max() <= bound and 0 < m.features[0].bias.abs().max() <= bound
    for bn in (m.features[1], m.classifier[2]):  # batch norm starts as the identity
        assert torch.equal(bn.weight, torch.ones_like(bn.weight)) and not bn.bias.any()
        assert not bn.running_mean.any() and torch.equal(bn.running_var, torch.ones_like(bn.running_var))
        assert int(bn.num_batches_tracked) == 0
    assert isinstance(m.features[1], nn.BatchNorm2d) and isinstance(m.classifier[2], nn.BatchNorm1d)


def test_a_rows_own_init_sets_only_its_weight():
    """As the lectures' code: ``xavier_uniform_(self.fc.weight)``, the bias keeps PyTorch's default."""
    gen = torch.Generator().manual_seed(4)
    m = bm.build_model(_conv_net(init="he"), (16, 8, 8), generator=gen)
    assert m.features[0].weight.std().item() == pytest.approx(math.sqrt(2 / (16 * 9)), rel=0.05)
    assert m.features[0].bias.abs().max() > 0  # default bias
    m = bm.build_model(_conv_net(init="xavier"), (16, 8, 8), generator=gen, init="he")
    assert not m.features[0].bias.any()  # the model-wide init sets the bias


def test_features_and_classifier_split_at_the_first_flatten_or_gap():
    rows = [{"kind": "conv", "out_channels": 4, "kernel": 3}, {"kind": "dropout", "p": 0.2}, {"kind": "gap"},
            {"kind": "batchnorm"}, {"kind": "dropout", "p": 0.3}, {"kind": "linear", "out_features": 3}]
    m = bm.build_model(rows, (2, 9, 9))
    assert [type(x) for x in m.features] == [nn.Conv2d, nn.Dropout]
    assert [type(x) for x in m.classifier] == [nn.AdaptiveAvgPool2d, nn.Flatten, nn.BatchNorm1d, nn.Dropout,
                                               nn.Linear]
    assert m.row_paths == bm.layer_paths(rows) == [
        ("features.0",), ("features.1",), ("classifier.0", "classifier.1"), ("classifier.2",), ("classifier.3",),
        ("classifier.4",)]
    assert m.features(torch.zeros(1, 2, 9, 9)).shape == (1, 4, 7, 7)  # feature maps: one call (or hook) away
    assert m(torch.zeros(5, 2, 9, 9)).shape == (5, 3)
    assert m.classifier[3].p == 0.3 and m.layers[1] == {"kind": "dropout", "p": 0.2}
    fc = bm.build_model(table.preset("fc_16x16"), (1, 16, 16))
    assert len(fc.features) == 0 and fc(torch.zeros(2, 1, 16, 16)).shape == (2, 26)


def test_tables_with_problems_are_not_built():
    with pytest.raises(TableError) as info:
        bm.build_model([{"kind": "relu"}, {"kind": "linear", "out_features": 3}], (1, 8, 8))
    assert (info.value.key, info.value.row) == ("shapes.err.linear_needs_flatten", 1)
    with pytest.raises(TableError) as info:
        bm.build_model(table.preset("seed_cnn"), (1, 28, 28), init="orthogonal")
    assert info.value.key == "builder.error.init"
    with pytest.raises(TableError) as info:
        bm.expected_state([{"kind": "conv", "out_channels": 4, "kernel": 3}], (1, 8, 8))
    assert info.value.key == "builder.error.output_not_flat"


def test_expected_state_describes_a_fresh_model_without_memory():
    rows = table.preset("deep_seed_cnn", classes=4)
    rows.insert(1, {"kind": "batchnorm"})
    spec = bm.expected_state(rows, (3, 64, 128))
    real = bm.build_model(rows, (3, 64, 128)).state_dict()
    assert list(spec) == list(real)
    assert all(spec[k].device.type == "meta" for k in spec)
    assert {k: (v.shape, v.dtype) for k, v in spec.items()} == {k: (v.shape, v.dtype) for k, v in real.items()}
    assert spec["features.1.num_batches_tracked"].dtype == torch.int64
    big = [{"kind": "flatten"}, {"kind": "linear", "out_features": 16_384}, {"kind": "linear", "out_features": 2}]
    assert bm.expected_state(big, (1, 32, 32))["classifier.1.weight"].shape == (16_384, 1024)  # 16M, not allocated


def test_gradient_norms_per_row():
    m = bm.build_model(table.preset("seed_cnn"), (1, 28, 28), generator=torch.Generator().manual_seed(0))
    assert bm.gradient_norms(m) == [0.0, None, None, 0.0, None, None, None, 0.0]
    x = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    nn.functional.cross_entropy(m(x), torch.tensor([0, 1, 2, 3])).backward()
    norms = bm.gradient_norms(m)
    assert norms[0] == pytest.approx(float(m.features[0].weight.grad.norm()))
    assert norms[7] == pytest.approx(float(m.classifier[1].weight.grad.norm())) and norms[7] > 0


def test_dropout_is_plain_nn_dropout_so_training_can_seed_it():
    m = bm.build_model(table.preset("deep_seed_cnn"), (1, 28, 28))
    drops = [x for x in m.modules() if isinstance(x, nn.Dropout)]
    assert len(drops) == 1 and type(drops[0]) is nn.Dropout and drops[0].p == 0.5


def test_initialize_reinitialises_a_built_model_deterministically():
    m = bm.build_model(table.preset("lenet5"), (1, 28, 28))
    bm.initialize(m, init="he", generator=torch.Generator().manual_seed(2))
    first = [p.clone() for p in m.parameters()]
    bm.initialize(m, init="he", generator=torch.Generator().manual_seed(2))
    assert all(torch.equal(p, q) for p, q in zip(first, m.parameters()))
    with pytest.raises(TableError):
        bm.initialize(m, init="ones", generator=torch.Generator())
