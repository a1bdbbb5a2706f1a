"""Draw the app's browser-tab icon (explorer/assets/icon.png): a 3x3 kernel in the signed colours.

Shipped with the app so the tab icon needs no network (a Material icon name makes the browser fetch it).
    python scripts/make_icon.py
"""

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "explorer" / "assets" / "icon.png"
WEIGHTS = [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]  # the lectures' vertical-edge filter
COLOURS = {-1: (33, 102, 172), 0: (247, 247, 247), 1: (178, 24, 43)}  # RdBu: blue negative, red positive


def main() -> None:
    size, pad, gap = 64, 4, 3
    cell = (size - 2 * pad - 2 * gap) // 3
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=12, fill=(15, 23, 42, 255))
    for r, row in enumerate(WEIGHTS):
        for c, w in enumerate(row):
            x, y = pad + c * (cell + gap), pad + r * (cell + gap)
            draw.rounded_rectangle((x, y, x + cell, y + cell), radius=3, fill=COLOURS[w] + (255,))
    image.save(OUT)
    print(OUT)


if __name__ == "__main__":
    main()
