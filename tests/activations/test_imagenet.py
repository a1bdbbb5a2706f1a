"""explorer.activations.imagenet: cached-weights loading in a temporary hub dir (never the network)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision import models

from explorer.activations import imagenet


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An empty torch hub dir (TORCH_HOME) for this test only."""
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert torch.hub.get_dir() == str(tmp_path / "hub")
    return tmp_path / "hub"


def test_nothing_cached_means_no_model_and_a_clear_key(hub):
    assert imagenet.cached_archs() == []
    with pytest.raises(imagenet.WeightsError) as err:
        imagenet.load_imagenet_model("resnet18")
    assert err.value.key == "activations.imagenet.not_cached"


def test_cached_weights_load_and_classify_a_photo(hub):
    reference = models.resnet18(weights=None)  # random weights stand in for the real download
    path = imagenet.weights_path("resnet18")
    assert path == hub / "checkpoints" / "resnet18-f37072fd.pth"
    path.parent.mkdir(parents=True)
    torch.save(reference.state_dict(), path)
    assert imagenet.cached_archs() == ["resnet18"]
    model = imagenet.load_imagenet_model("resnet18")
    assert not model.training
    for a, b in zip(model.state_dict().values(), reference.state_dict().values()):
        assert torch.equal(a, b)
    rgb = np.random.default_rng(0).integers(0, 256, (300, 400, 3)).astype(np.uint8)
    result = imagenet.classify_photo(model, rgb, imagenet.categories("resnet18"))
    assert len(result.top5) == 5 and len(imagenet.categories("resnet18")) == 1000
    probs = [p for _, p in result.top5]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
    assert result.responses.shape == (64, 112, 112) and result.filters.shape == (64, 3, 7, 7)
    assert result.input_image.shape == (224, 224, 3) and result.input_image.dtype == np.uint8
    with torch.no_grad():  # first-layer responses equal the conv applied to the model input
        x, _ = imagenet.to_model_input(rgb)
        torch.testing.assert_close(result.responses, model.conv1(x)[0])


def test_wrong_or_damaged_files_are_refused(hub):
    path = imagenet.weights_path("resnet18")
    path.parent.mkdir(parents=True)
    torch.save(models.alexnet(weights=None).features.state_dict(), path)  # other architecture
    with pytest.raises(imagenet.WeightsError) as err:
        imagenet.load_imagenet_model("resnet18")
    assert err.value.key == "activations.imagenet.damaged"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(imagenet.WeightsError):
        imagenet.load_imagenet_model("resnet18")


def test_download_failure_is_reported_without_leaving_files(hub, monkeypatch):
    def offline(*_args, **_kwargs):
        raise OSError("no network")

    monkeypatch.setattr(imagenet.urllib.request, "urlopen", offline)
    with pytest.raises(imagenet.WeightsError) as err:
        imagenet.download_weights("alexnet")
    assert err.value.key == "activations.imagenet.offline"
    assert not any((hub / "checkpoints").iterdir())


def test_download_checks_the_hash_prefix(hub, monkeypatch):
    import io

    monkeypatch.setattr(imagenet.urllib.request, "urlopen", lambda *_a, **_k: io.BytesIO(b"wrong bytes"))
    with pytest.raises(imagenet.WeightsError) as err:
        imagenet.download_weights("resnet18")
    assert err.value.key == "activations.imagenet.damaged"
    assert not imagenet.weights_path("resnet18").exists()
