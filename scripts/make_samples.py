"""Build the kernel lab's sample images in explorer/assets/samples/.

Run from the repository root:  python scripts/make_samples.py PATH/TO/scikit_image-*.whl

- cat.jpg, coffee.jpg: photographs from scikit-image's bundled data ("chelsea" by Stefan van der Walt,
  "coffee" by Rachel Michetti), both released CC0 (no copyright restrictions), re-encoded as JPEG.
- digit.png: the first "3" of the embedded MNIST sample (MNIST, CC BY-SA 3.0), enlarged 4x (nearest).
- checkerboard.png, shapes.png, text.png: synthetic patterns drawn here (CC0).
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "explorer" / "assets" / "samples"


def photos(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        for name, target in [("chelsea", "cat"), ("coffee", "coffee")]:
            img = Image.open(io.BytesIO(z.read(f"skimage/data/{name}.png"))).convert("RGB")
            img.save(OUT / f"{target}.jpg", quality=88, optimize=True)


def digit() -> None:
    with np.load(ROOT / "explorer" / "assets" / "mnist_sample.npz") as npz:
        index = int(np.flatnonzero(npz["test_labels"] == 3)[0])
        Image.fromarray(npz["test_images"][index]).resize((112, 112), Image.NEAREST).save(OUT / "digit.png")


def checkerboard(size: int = 256, cell: int = 32) -> None:
    y, x = np.mgrid[:size, :size] // cell
    Image.fromarray(((x + y) % 2 * 255).astype(np.uint8)).save(OUT / "checkerboard.png")


def shapes(size: int = 256) -> None:
    img = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(img)
    draw.rectangle([24, 24, 120, 120], fill=(220, 40, 40))
    draw.ellipse([136, 24, 232, 120], fill=(40, 90, 220))
    draw.polygon([(24, 232), (72, 136), (120, 232)], fill=(30, 160, 60))
    draw.line([(136, 136), (232, 232)], fill="black", width=6)
    draw.line([(136, 232), (232, 136)], fill="black", width=2)
    img.save(OUT / "shapes.png")


def text(width: int = 320, height: int = 120) -> None:
    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    draw.text((16, 20), "CNN 3x3", fill=0, font=ImageFont.load_default(size=48))
    img.save(OUT / "text.png")


def main(wheel: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    photos(wheel)
    digit()
    checkerboard()
    shapes()
    text()
    for path in sorted(OUT.iterdir()):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
