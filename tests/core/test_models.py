"""The lectures' networks: shapes, parameter counts, seeded init without the global RNG."""

from __future__ import annotations

import pytest
import torch

from explorer.core.models import MODELS, DeepSeedCNN, LeNet5, SeedCNN, build_model, pick_device

PARAMS = {"seed_cnn": 50_186, "deep_seed_cnn": 1_379_557, "lenet5": 61_706}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_maps_a_batch_of_digits_to_ten_logits(name):
    model = build_model(name, generator=torch.Generator().manual_seed(0)).eval()
    assert model(torch.rand(3, 1, 28, 28)).shape == (3, 10)
    assert sum(p.numel() for p in model.parameters()) == PARAMS[name]


def test_constructible_without_arguments():
    for cls in (SeedCNN, DeepSeedCNN, LeNet5):
        assert isinstance(cls().features, torch.nn.Sequential)


def test_seed_cnn_feature_shapes_follow_the_lecture():
    model = SeedCNN().eval()
    x = torch.zeros(2, 1, 28, 28)
    shapes = []
    for layer in model.features:
        x = layer(x)
        shapes.append(tuple(x.shape[1:]))
    assert shapes == [(32, 28, 28), (32, 28, 28), (32, 14, 14), (64, 14, 14), (64, 14, 14), (64, 7, 7)]


def test_same_generator_seed_gives_the_same_weights_and_leaves_the_global_rng_alone():
    before = torch.random.get_rng_state()
    a = build_model("seed_cnn", generator=torch.Generator().manual_seed(777))
    b = build_model("seed_cnn", generator=torch.Generator().manual_seed(777))
    c = build_model("seed_cnn", generator=torch.Generator().manual_seed(778))
    assert torch.equal(torch.random.get_rng_state(), before)
    for (name, pa), pb, pc in zip(a.state_dict().items(), b.state_dict().values(), c.state_dict().values()):
        assert torch.equal(pa, pb), name
        assert not torch.equal(pa, pc), name


def test_xavier_init_of_the_fc_layer_has_the_xavier_bound():
    fc = build_model("seed_cnn", generator=torch.Generator().manual_seed(0)).classifier[1]
    bound = (6 / (3136 + 10)) ** 0.5
    assert fc.weight.abs().max() <= bound
    assert fc.weight.abs().max() > 0.9 * bound


def test_unknown_model_is_refused():
    with pytest.raises(ValueError):
        build_model("resnet")


def test_pick_device_returns_a_device():
    assert isinstance(pick_device(), torch.device)
