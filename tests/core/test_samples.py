"""explorer.core.samples: every bundled sample exists, decodes, is named in both languages and licensed."""

from __future__ import annotations

import pytest

from explorer.core.i18n import LANGUAGES, catalog
from explorer.core.images import load_image
from explorer.core.samples import SAMPLES, SAMPLES_DIR, sample_images


@pytest.mark.parametrize("name", list(SAMPLES))
def test_each_sample_decodes_as_an_rgb_image(name):
    image = load_image(sample_images()[name].read_bytes())
    assert image.ndim == 3 and image.shape[2] == 3 and min(image.shape[:2]) >= 28


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_sample_has_a_name_in_every_language(lang):
    assert all(catalog(lang).get(f"samples.{name}") for name in SAMPLES)


def test_each_sample_file_is_in_the_licence_file():
    licence = (SAMPLES_DIR / "LICENSE.md").read_text(encoding="utf-8")
    assert all(file in licence for file in SAMPLES.values())
