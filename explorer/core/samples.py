"""Sample images that ship with the app (provenance and licences: explorer/assets/samples/LICENSE.md)."""

from __future__ import annotations

from pathlib import Path

SAMPLES_DIR = Path(__file__).parents[1] / "assets" / "samples"
# name -> file; names are i18n keys under "samples.<name>"
SAMPLES: dict[str, str] = {
    "cat": "cat.jpg",
    "coffee": "coffee.jpg",
    "digit": "digit.png",
    "checkerboard": "checkerboard.png",
    "shapes": "shapes.png",
    "text": "text.png",
}


def sample_images() -> dict[str, Path]:
    """Sample name -> path of its file."""
    return {name: SAMPLES_DIR / file for name, file in SAMPLES.items()}
