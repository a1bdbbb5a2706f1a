"""The Inside page's pure parts: the model under study, its layers, pictures, predictions and the
background jobs (checked against scikit-learn and the library functions they wrap)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import confusion_matrix as sk_confusion

from explorer import interpret as ip
from explorer.interpret import view
from tests.interpret.conftest import BUILDER_SHAPE, builder_model


@pytest.fixture(scope="module")
def digits_subject(bundled, test_set):
    return view.subject("bundled", bundled, test_set.images[:200], test_set.labels[:200])


def test_a_subject_knows_its_input_and_whether_it_reads_digits(digits_subject):
    assert digits_subject.input_shape == (1, 28, 28) and digits_subject.digits
    assert digits_subject.key == ip.fingerprint(digits_subject.model) and digits_subject.classes == view.DIGITS
    colour = view.subject("builder", builder_model(), torch.rand(5, *BUILDER_SHAPE), torch.arange(5) % 4,
                          classes=("a", "b", "c", "d"), step=7)
    assert colour.input_shape == BUILDER_SHAPE and not colour.digits and colour.step == 7
    assert not colour.model.training


def test_conv_choices_name_each_conv_by_the_layer_grad_cam_looks_at(bundled):
    choices = view.conv_choices(bundled)
    assert [layer for layer, _, _ in choices] == ip.cam_layers(bundled)
    modules = dict(bundled.named_modules())
    assert [(n, k) for _, n, k in choices] == [(i + 1, modules[c].out_channels)
                                               for i, c in enumerate(ip.conv_layers(bundled))]
    assert view.conv_choices(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))) == []


def test_a_picture_is_enlarged_with_square_pixels_and_framed():
    image = torch.zeros(1, 28, 28)
    image[0, 3, 5] = 1.0
    pic = view.picture(image)
    assert pic.shape == (28 * 3 + 2, 28 * 3 + 2) and pic.dtype == np.uint8
    assert (pic[0] == view.FRAME_GREY).all() and (pic[:, -1] == view.FRAME_GREY).all()
    assert (pic[1 + 9:1 + 12, 1 + 15:1 + 18] == 255).all() and pic[1:-1, 1:-1].sum() == 9 * 255
    colour = view.picture(torch.rand(1, 3, 16, 20), side=40)
    assert colour.shape == (16 * 2 + 2, 20 * 2 + 2, 3)
    assert view.picture(np.full((1, 28, 28), 7.0))[5, 5] == 255  # out-of-range values are clipped


def test_predictions_and_the_confusion_matrix_agree_with_scikit_learn(digits_subject):
    predicted, matrix = view.confusion(digits_subject)
    with torch.no_grad():
        expected = digits_subject.model(digits_subject.images).argmax(1).numpy()
    assert np.array_equal(predicted, expected)
    assert np.array_equal(matrix, sk_confusion(digits_subject.labels.numpy(), predicted, labels=range(10)))
    p = view.probabilities(digits_subject.model, digits_subject.images[:1])
    assert p.shape == (10,) and abs(p.sum() - 1) < 1e-6 and int(p.argmax()) == expected[0]


def test_the_jobs_are_the_library_functions_with_progress(bundled, test_set):
    heard = []
    small = dict(seed=1, steps=8, shape=(1, 28, 28))
    gallery = view.classes_gallery(bundled, progress=heard.append, **small)
    assert gallery.images.shape == (10, 1, 28, 28) and heard and heard[-1] == pytest.approx(1.0)
    direct = ip.class_gallery(bundled, seed=1, config=ip.VisConfig(steps=8))
    assert torch.equal(gallery.images, direct.images)
    layer = ip.cam_layers(bundled)[0]
    grid = view.layer_gallery(bundled, layer, progress=lambda f: None, **small)
    assert grid.layer == layer and len(grid.targets) == 32
    features, coords = view.embedding(bundled, test_set.images[:50], method="pca", progress=None)
    assert np.allclose(coords, ip.embed(ip.penultimate_features(bundled, test_set.images[:50])))
    assert features.shape[0] == 50
