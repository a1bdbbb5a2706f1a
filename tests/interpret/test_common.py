"""explorer.interpret.common: input checks and their translated refusals, private model copies (no shared
hooks), layer lookup, fingerprints."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest
import torch
from torch import nn

from explorer.core.i18n import catalog
from explorer.core.models import DeepSeedCNN, LeNet5, SeedCNN
from explorer.interpret import common
from explorer.interpret.common import InterpretError
from tests.conftest import ROOT
from tests.interpret.conftest import builder_model


@pytest.mark.parametrize("shape", [(28, 28), (1, 28, 28), (1, 1, 28, 28), (3, 16, 20), (1, 3, 16, 20)])
def test_check_image_gives_one_batch_of_one(shape):
    value = np.full(shape, 0.5)
    x = common.check_image(value)
    assert x.ndim == 4 and x.shape[0] == 1 and x.dtype == torch.float32 and x.shape[-2:] == shape[-2:]
    assert common.check_image(torch.full(shape, 0.5)).shape == x.shape


@pytest.mark.parametrize(("value", "key"), [
    (np.zeros((2, 1, 28, 28)), "interpret.error.image_shape"),
    (np.zeros((1, 1, 1, 28, 28)), "interpret.error.image_shape"),
    (np.zeros(5), "interpret.error.image_shape"),
    (np.full((28, 28), np.nan), "interpret.error.not_finite"),
    (np.full((28, 28), np.inf), "interpret.error.not_finite"),
    (np.full((28, 28), 2.0), "interpret.error.range"),
    (np.full((28, 28), -0.1), "interpret.error.range"),
    (np.zeros((0, 28)), "interpret.error.empty"),
    ([["a", "b"]], "interpret.error.not_numbers"),
    (torch.zeros(28, 28, dtype=torch.bool), "interpret.error.not_numbers"),
    (np.zeros((3, 600, 600)), "interpret.error.too_big"),
])
def test_check_image_refuses_with_a_key(value, key):
    with pytest.raises(InterpretError) as info:
        common.check_image(value)
    assert info.value.key == key


@pytest.mark.parametrize(("value", "key"), [
    (np.zeros((2, 2)), "interpret.error.images_shape"),
    (np.zeros((common.MAX_IMAGES + 1, 1, 1, 1)), "interpret.error.too_many"),
    (np.full((2, 1, 4, 4), np.nan), "interpret.error.not_finite"),
])
def test_check_images_refuses_with_a_key(value, key):
    with pytest.raises(InterpretError) as info:
        common.check_images(value)
    assert info.value.key == key


def test_check_images_reads_n_h_w_as_one_channel():
    assert common.check_images(np.zeros((5, 28, 28))).shape == (5, 1, 28, 28)


@pytest.mark.parametrize("value", [True, 1.5, "3", None, -1, 11])
def test_check_count_refuses_non_integers_and_out_of_range(value):
    with pytest.raises(InterpretError) as info:
        common.check_count(value, name="k", low=0, high=10)
    assert info.value.key == "interpret.error.integer"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "0.1", True, 2.0, None])
def test_check_number_refuses_non_numbers_and_out_of_range(value):
    with pytest.raises(InterpretError) as info:
        common.check_number(value, name="eps", low=0.0, high=1.0)
    assert info.value.key == "interpret.error.number"


def test_private_copy_has_no_hooks_frozen_weights_and_leaves_the_original_alone():
    model = SeedCNN(generator=torch.Generator().manual_seed(0)).train()
    seen = []
    handle = model.features[0].register_forward_hook(lambda _m, _i, o: seen.append(o))  # another session's hook
    copy = common.private_copy(model)
    x = torch.rand(1, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    copy(x)
    assert seen == []  # the copy never writes into someone else's dictionary
    assert all(not m._forward_hooks for m in copy.modules())
    assert not copy.training and not any(p.requires_grad for p in copy.parameters())
    assert model.training and all(p.requires_grad for p in model.parameters())
    model(x)
    assert len(seen) == 1  # the original's hook still works
    handle.remove()
    pickle.loads(pickle.dumps(copy))  # a worker process can receive it
    torch.testing.assert_close(copy(x), model.eval()(x))


def test_logits_refuses_an_input_the_model_cannot_take():
    with pytest.raises(InterpretError) as info:
        common.logits(SeedCNN(), torch.zeros(1, 1, 20, 20))
    assert info.value.key == "interpret.error.model_input" and info.value.params["shape"] == "(1, 20, 20)"


def test_find_layer_and_its_refusal():
    model = SeedCNN()
    assert common.find_layer(model, "features.3") is model.features[3]
    with pytest.raises(InterpretError) as info:
        common.find_layer(model, "features.99")
    assert info.value.key == "interpret.error.layer" and "features.0" in info.value.params["known"]


@pytest.mark.parametrize(("model", "convs", "cams", "last"), [
    (SeedCNN(), ["features.0", "features.3"], ["features.1", "features.4"], "classifier.1"),
    (DeepSeedCNN(), ["features.0", "features.3", "features.6"], ["features.1", "features.4", "features.7"],
     "classifier.4"),
    (LeNet5(), ["features.0", "features.3"], ["features.1", "features.4"], "classifier.5"),
    (builder_model(), ["features.0", "features.3"], ["features.1", "features.4"], "classifier.3"),
])
def test_layers_of_each_kind_of_model(model, convs, cams, last):
    assert common.conv_layers(model) == convs
    assert common.cam_layers(model) == cams
    name, layer = common.last_linear(model)
    assert name == last and layer is dict(model.named_modules())[last]


def test_cam_layer_is_the_conv_itself_when_no_activation_follows():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2 * 13 * 13, 3))
    assert common.cam_layers(model) == ["0"]
    assert common.last_linear(model)[0] == "3"


def test_no_linear_layer_is_refused():
    with pytest.raises(InterpretError) as info:
        common.last_linear(nn.Sequential(nn.Conv2d(1, 2, 3)))
    assert info.value.key == "interpret.error.no_linear"


def test_fingerprint_follows_the_weights():
    a = SeedCNN(generator=torch.Generator().manual_seed(0))
    b = SeedCNN(generator=torch.Generator().manual_seed(0))
    assert common.fingerprint(a) == common.fingerprint(b)
    with torch.no_grad():
        b.classifier[1].bias[0] += 1e-3
    assert common.fingerprint(a) != common.fingerprint(b)
    assert common.fingerprint(LeNet5()) != common.fingerprint(a)


def test_every_refusal_key_of_the_wing_has_both_languages():
    source = " ".join(p.read_text(encoding="utf-8") for p in (ROOT / "explorer" / "interpret").glob("*.py"))
    keys = set(re.findall(r'"(interpret\.error\.[a-z_]+)"', source))
    assert len(keys) >= 20
    for lang in ("ko", "en"):
        missing = keys - catalog(lang).keys()
        assert not missing, (lang, missing)
