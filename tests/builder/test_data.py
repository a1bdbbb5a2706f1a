"""Own data: a zip of class folders read exactly as torchvision's ImageFolder reads the extracted folder (the
oracle), the hostile-data corpus (every refusal translated), per-class uploads, the split and the preview."""

from __future__ import annotations

import io
import pickle
import struct
import unicodedata
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import datasets, transforms

from explorer.builder import data as bd
from explorer.builder.data import DataError


def _image(seed: int, size: tuple[int, int] = (40, 24), mode: str = "RGB", fmt: str = "PNG") -> bytes:
    """A random picture of ``size`` (w, h) in ``mode``, encoded as ``fmt``."""
    rng = np.random.default_rng(seed)
    w, h = size
    im = Image.fromarray(rng.integers(0, 256, (h, w, 4), dtype=np.uint8), "RGBA")
    im = im.convert(mode) if mode in ("RGBA", "LA") else im.convert("RGB").convert(mode)
    buffer = io.BytesIO()
    im.save(buffer, format=fmt)
    return buffer.getvalue()


# A tree with ImageFolder's traps: class order by code point ("B_cls" < "a" < "고양이"), nested folders whose
# sorted path order is not a depth-first walk ("a/sub" < "a/sub-x" < "a/sub/deeper", as '-' < '/'), upper-case
# extensions, a non-image, a stray image at the root, many formats, modes and sizes.
TREE: dict[str, bytes] = {
    "B_cls/one.png": _image(1, (37, 23), "RGBA"),
    "B_cls/two.png": _image(2, (5, 300), "L"),
    "B_cls/three.jpg": _image(3, (200, 90), fmt="JPEG"),
    "a/img10.png": _image(4, (128, 64), "P"),
    "a/img2.PNG": _image(5, (64, 128)),
    "a/sub/x.bmp": _image(6, (31, 17), fmt="BMP"),
    "a/sub-x/y.tif": _image(7, (16, 16), "CMYK", fmt="TIFF"),
    "a/sub/deeper/z.webp": _image(8, (70, 50), fmt="WEBP"),
    "a/sub/deeper/w.ppm": _image(9, (9, 9), fmt="PPM"),
    "a/notes.txt": b"not a picture",
    "고양이/사진1.jpeg": _image(10, (300, 200), fmt="JPEG"),
    "고양이/사진 2.pgm": _image(11, (12, 40), "L", fmt="PPM"),
    "stray.png": _image(12),
}


def _zip(entries: dict[str, bytes | None] | list[tuple[str, bytes]], *, top: str = "",
         method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of ``entries`` (None: a folder entry) under ``top``; a list may repeat a name."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are written on purpose in some tests
        for name, content in entries.items() if isinstance(entries, dict) else entries:
            if content is None:
                zf.writestr(zipfile.ZipInfo(top + name), b"")
            else:
                zf.writestr(top + name, content)
    return buffer.getvalue()


def _write(root: Path, entries: dict[str, bytes]) -> None:
    for name, content in entries.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def _oracle(root: Path, size: tuple[int, int], grayscale: bool) -> datasets.ImageFolder:
    steps = [transforms.Resize(size), *([transforms.Grayscale(1)] if grayscale else []), transforms.ToTensor()]
    return datasets.ImageFolder(str(root), transform=transforms.Compose(steps))


@pytest.mark.parametrize(("top", "size", "grayscale"), [
    ("", (64, 128), False), ("my data/", (64, 128), True), ("", (16, 32), False), ("data/train/", (20, 20), True)])
def test_the_same_dataset_as_torchvision_image_folder(tmp_path, top, size, grayscale):
    _write(tmp_path, TREE)
    oracle = _oracle(tmp_path, size, grayscale)
    got = bd.load_image_folder(_zip(TREE, top=top), size=size, grayscale=grayscale)
    assert list(got.classes) == oracle.classes and got.class_to_idx == oracle.class_to_idx
    assert list(got.files) == [Path(p).relative_to(tmp_path).as_posix() for p, _ in oracle.samples]
    assert got.labels.tolist() == oracle.targets
    expected = torch.stack([oracle[i][0] for i in range(len(oracle))])
    assert got.images.shape == expected.shape == (11, 1 if grayscale else 3, *size)
    assert (got.images - expected).abs().max() <= 2 / 255
    assert got.pixels.dtype == torch.uint8 and got.test_mask is None
    assert got.skipped == {"not_image": 1, "corrupt": 0, "too_large": 0, "outside": 1}
    assert got.skipped_files["not_image"] == (top + "a/notes.txt",) and got.counts() == [3, 6, 2]  # zip paths


def test_junk_is_ignored_and_windows_separators_accepted():
    clean = bd.load_image_folder(_zip(TREE))
    junk = {**{name.replace("/", "\\"): content for name, content in TREE.items()},  # PowerShell's zips
            "__MACOSX/a/._img2.PNG": b"\0\5\26\7", "a/._img2.PNG": b"\0\5\26\7", ".DS_Store": b"\0",
            "a/.DS_Store": b"\0", "B_cls/Thumbs.db": b"\0", "고양이/desktop.ini": b"[x]", ".git/HEAD": b"ref",
            ".hidden_class/a.png": TREE["a/img2.PNG"], ".hidden_class/b.png": TREE["a/img2.PNG"]}
    got = bd.load_image_folder(_zip(junk))
    assert got.classes == clean.classes and got.files == clean.files and torch.equal(got.pixels, clean.pixels)
    assert got.ignored == 9


def _patched(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) >= 1 and len(old) == len(new)
    return data.replace(old, new)


def _central_field(data: bytes, name: bytes, offset: int, fmt: str, value: int) -> bytes:
    """``data`` with one field of ``name``'s central-directory entry changed (offsets from the zip spec)."""
    start = 0
    while True:
        start = data.index(b"PK\x01\x02", start)
        length = struct.unpack("<H", data[start + 28:start + 30])[0]
        if data[start + 46:start + 46 + length] == name:
            size = struct.calcsize(fmt)
            return data[:start + offset] + struct.pack(fmt, value) + data[start + offset + size:]
        start += 4


def _two_classes(**extra: bytes | None) -> dict[str, bytes | None]:
    return {"cats/1.png": _image(1), "cats/2.png": _image(2), "dogs/1.png": _image(3), **extra}


def _symlink() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, content in _two_classes().items():
            zf.writestr(name, content)
        link = zipfile.ZipInfo("dogs/passwd.png")
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, "/etc/passwd")
    return buffer.getvalue()


def _bomb_member() -> bytes:
    """A 'png' that is 5 MB of zeros, deflated to ~5 KB: a ratio near 1000."""
    return _zip(_two_classes(**{"dogs/2.png": b"\0" * (5 * 2**20)}))


def _many(n: int, *, folder: bool = False) -> bytes:
    entries: dict[str, bytes | None] = _two_classes()
    entries.update({f"cats/{i}.png" + ("/" if folder else ""): None if folder else b"x" for i in range(n)})
    return _zip(entries, method=zipfile.ZIP_STORED)


HOSTILE = [
    (lambda: b"", "builder.error.zip_invalid"),
    (lambda: b"PK\x05\x06 not really", "builder.error.zip_invalid"),
    (lambda: _image(1), "builder.error.zip_invalid"),
    (lambda: "cats.zip", "builder.error.zip_invalid"),
    (lambda: _zip(_two_classes())[:-30], "builder.error.zip_invalid"),  # cut off
    (lambda: b"\0" * (bd.MAX_ZIP_BYTES + 1), "builder.error.zip_too_large"),
    (lambda: _zip(_two_classes(**{"../evil.png": _image(4)})), "builder.error.zip_unsafe_path"),
    (lambda: _zip(_two_classes(**{"cats/../../evil.png": _image(4)})), "builder.error.zip_unsafe_path"),
    (lambda: _zip(_two_classes(**{"cats\\..\\..\\evil.png": _image(4)})), "builder.error.zip_unsafe_path"),
    (lambda: _zip(_two_classes(**{"/etc/evil.png": _image(4)})), "builder.error.zip_unsafe_path"),
    (lambda: _zip(_two_classes(**{"C:/Windows/evil.png": _image(4)})), "builder.error.zip_unsafe_path"),
    (lambda: _zip(_two_classes(**{"c:evil.png": _image(4)})), "builder.error.zip_unsafe_path"),
    (lambda: _patched(_zip(_two_classes(**{"dogs/aXb.png": _image(4)})), b"aXb", b"a\0b"),
     "builder.error.zip_bad_name"),
    (_symlink, "builder.error.zip_link"),
    (lambda: _central_field(_zip(_two_classes()), b"dogs/1.png", 8, "<H", 1), "builder.error.zip_encrypted"),
    (lambda: _zip([*_two_classes().items(), ("dogs/1.png", _image(9))]), "builder.error.zip_duplicate"),
    (lambda: _zip(_two_classes(**{"dogs/x": b"file", "dogs/x/y.png": _image(5)})), "builder.error.zip_duplicate"),
    (_bomb_member, "builder.error.zip_bomb"),
    (lambda: _central_field(_zip(_two_classes(), method=zipfile.ZIP_STORED), b"dogs/1.png", 24, "<L", 300 * 2**20),
     "builder.error.zip_bomb"),  # declares 300 MB
    (lambda: _central_field(_zip(_two_classes()), b"dogs/1.png", 24, "<L", 10),
     "builder.error.zip_corrupt"),  # declares less than it holds: the bounded read stops, the CRC fails
    (lambda: _many(bd.MAX_ENTRIES, folder=True), "builder.error.too_many_entries"),
    (lambda: _many(bd.MAX_IMAGES), "builder.error.too_many_images"),
    (lambda: _zip({f"c{i}/1.png": _image(1) for i in range(bd.MAX_CLASSES + 1)}), "builder.error.too_many_classes"),
    (lambda: _zip({"cats/1.png": _image(1), "cats/2.png": _image(2)}), "builder.error.one_class"),
    (lambda: _zip({"top/cats/1.png": _image(1), "top/notes.txt": b"x"}), "builder.error.one_class"),
    (lambda: _zip({"1.png": _image(1), "2.png": _image(2)}), "builder.error.no_classes"),
    (lambda: _zip(_two_classes(**{"birds/": None})), "builder.error.empty_class"),
    (lambda: _zip(_two_classes(**{"birds/.DS_Store": b"\0", "birds/readme.txt": b"hi"})), "builder.error.empty_class"),
    (lambda: _zip(_two_classes(**{"birds/1.png": b"\x89PNG\r\n\x1a\n broken"})), "builder.error.empty_class"),
    (lambda: _zip(_two_classes(**{"Cats/3.png": _image(4)})), "builder.error.class_case"),
    (lambda: _zip(_two_classes(**{"con/3.png": _image(4)})), "builder.error.class_name_reserved"),
    (lambda: _zip(_two_classes(**{"what?/3.png": _image(4)})), "builder.error.class_name_chars"),
    (lambda: _zip(_two_classes(**{("x" * 65) + "/3.png": _image(4)})), "builder.error.class_name_long"),
    (lambda: _zip({"train/cats/1.png": _image(1), "train/dogs/1.png": _image(2), "test/cats/1.png": _image(3),
                   "test/birds/1.png": _image(4)}), "builder.error.split_classes"),
]


@pytest.mark.parametrize(("make", "key"), HOSTILE)
def test_hostile_and_broken_zips_are_refused(make, key, translated):
    with pytest.raises(DataError) as info:
        bd.load_image_folder(make())
    assert info.value.key == key
    translated(key, info.value.params)


def test_a_zip64_table_of_contents_is_read_as_zipfile_reads_it():
    many = _many(70_000, folder=True)  # more than 65,535 entries: zipfile writes zip64 end records
    assert many[-98:-94] == b"PK\x06\x06" and bd._central_directory(many)[1] == 70_000 + 3
    with pytest.raises(DataError) as info:
        bd.load_image_folder(many)
    assert info.value.key == "builder.error.too_many_entries"


def test_bad_and_huge_images_are_skipped_and_counted():
    truncated = _image(5, (60, 60))[:-40]
    big = io.BytesIO()
    Image.new("1", (7000, 6000)).save(big, format="PNG")  # 42 megapixels in a few KB
    entries = _two_classes(**{"cats/3.png": truncated, "cats/4.jpg": b"\xff\xd8 not really",
                              "dogs/2.png": big.getvalue(), "dogs/3.bmp": b"x" * (bd.MAX_IMAGE_BYTES + 1),
                              "dogs/4.gif": _image(6, fmt="GIF"), "dogs/5.png": _image(7, fmt="GIF")})
    got = bd.load_image_folder(_zip(entries, method=zipfile.ZIP_STORED))
    assert got.files == ("cats/1.png", "cats/2.png", "dogs/1.png", "dogs/5.png")  # GIF content: a readable image
    assert got.skipped == {"not_image": 1, "corrupt": 2, "too_large": 2, "outside": 0}
    assert set(got.skipped_files["corrupt"]) == {"cats/3.png", "cats/4.jpg"}


def _raw_name_zip(names: dict[bytes, bytes]) -> bytes:
    """A zip whose entry names are raw bytes without the UTF-8 flag (placeholder names patched in place)."""
    placeholders = {raw: f"{i:0{len(raw)}d}".encode() for i, raw in enumerate(names)}
    data = _zip({p.decode() + "/1.png": names[raw] for raw, p in placeholders.items()},
                method=zipfile.ZIP_STORED)
    for raw, p in placeholders.items():
        data = _patched(data, p + b"/1.png", raw + b"/1.png")
    return data


def test_names_without_the_utf8_flag():
    korean = "고양이".encode("cp949")  # a Korean Windows zip
    mac = "강아지".encode("utf-8")      # valid UTF-8 without the flag
    other = b"caf\x82"                  # neither: the zip standard's CP437, "café"
    got = bd.load_image_folder(_raw_name_zip({korean: _image(1), mac: _image(2), other: _image(3)}))
    assert set(got.classes) == {"고양이", "강아지", "café"}
    assert list(got.classes) == sorted(got.classes)


def test_decomposed_hangul_is_shown_composed():
    nfd = unicodedata.normalize("NFD", "고양이")
    got = bd.load_image_folder(_zip({f"{nfd}/1.png": _image(1), "dog/1.png": _image(2)}))
    assert got.classes == ("dog", "고양이") and got.files[1] == "고양이/1.png"


def test_the_lectures_train_and_test_folders_are_kept(tmp_path):
    tree = {"train_data/cats/1.png": _image(1), "train_data/cats/2.png": _image(2), "train_data/dogs/1.png": _image(3),
            "test_data/cats/9.png": _image(4), "test_data/dogs/8.png": _image(5), "test_data/dogs/7.png": _image(6)}
    got = bd.load_image_folder(_zip(tree, top="custom_data/"))
    assert got.split_folders == ("train_data", "test_data") and got.test_mask.tolist() == [0, 0, 0, 1, 1, 1]
    train, test = bd.split(got)
    assert train.tolist() == [0, 1, 2] and test.tolist() == [3, 4, 5]
    _write(tmp_path, tree)
    oracle = _oracle(tmp_path / "test_data", (64, 128), False)
    assert torch.equal(got.subset(test).images, torch.stack([oracle[i][0] for i in range(3)]))
    assert got.subset(test).labels.tolist() == oracle.targets


def test_progress_and_pickling():
    seen = []
    got = bd.load_image_folder(_zip(TREE), progress=seen.append)
    assert seen[0] == 0 and seen[-1] == 1.0 and seen == sorted(seen)
    back = pickle.loads(pickle.dumps(got))
    assert torch.equal(back.pixels, got.pixels) and back.classes == got.classes
    assert torch.equal(got.images, got.pixels.float() / 255) and len(got) == 11 and got.input_shape == (3, 64, 128)


@pytest.mark.parametrize(("kwargs", "key"), [
    ({"size": (0, 128)}, "builder.error.image_size"),
    ({"size": (64, 1000)}, "builder.error.image_size"),
    ({"size": "64x128"}, "builder.error.image_size"),
    ({"size": (64.0, 128)}, "builder.error.image_size"),
    ({"size": (512, 512)}, "builder.error.too_much_data"),
])
def test_bad_sizes_and_the_memory_budget(kwargs, key, translated):
    entries = {f"c{i % 2}/{i}.png": b"x" for i in range(200)}  # counted before decoding
    with pytest.raises(DataError) as info:
        bd.load_image_folder(_zip(entries), **kwargs)
    assert info.value.key == key
    translated(key, info.value.params)


# ------------------------------------------------------------------ per-class uploads and camera shots

UPLOADS = {"고양이": [_image(1, fmt="JPEG"), _image(2), b"", b"%PDF-1.4"], "dog": [_image(3, fmt="GIF"), _image(4)],
           "Bird": [_image(5, (300, 20), "L"), _image(6, fmt="WEBP")]}


def test_uploads_are_the_same_as_their_zip():
    got = bd.from_class_uploads(UPLOADS, size=(32, 32))
    assert got.classes == ("Bird", "dog", "고양이") and got.counts() == [2, 2, 2]
    assert got.skipped["not_image"] == 2 and got.files[0] == "Bird/0001"
    again = bd.load_image_folder(bd.uploads_to_zip(UPLOADS), size=(32, 32))
    assert again.classes == got.classes and torch.equal(again.labels, got.labels)
    assert torch.equal(again.pixels, got.pixels)
    assert [f.rsplit(".", 1)[0] for f in again.files] == list(got.files)
    assert bd.from_class_uploads(UPLOADS, grayscale=True).pixels.shape == (6, 1, 64, 128)
    for uploads, key in [({"a": [b"x"] * bd.MAX_IMAGES, "b": [b"y"]}, "builder.error.too_many_images"),
                         ({"a": [b"x" * 2**20] * 101, "b": [b"y"]}, "builder.error.zip_too_large"),
                         ({"a": [_image(1)]}, "builder.error.one_class")]:
        with pytest.raises(DataError) as info:
            bd.uploads_to_zip(uploads)
        assert info.value.key == key


@pytest.mark.parametrize(("name", "key"), [
    ("", "builder.error.class_name_empty"), ("   ", "builder.error.class_name_empty"),
    (None, "builder.error.class_name_empty"), ("a" * 65, "builder.error.class_name_long"),
    ("cats/dogs", "builder.error.class_name_chars"), ("..", "builder.error.class_name_chars"),
    (".hidden", "builder.error.class_name_chars"), ("tab\there", "builder.error.class_name_chars"),
    ("end.", "builder.error.class_name_chars"), ("back\\slash", "builder.error.class_name_chars"),
    ("NUL", "builder.error.class_name_reserved"), ("com1.txt", "builder.error.class_name_reserved"),
])
def test_class_names_are_checked(name, key, translated):
    with pytest.raises(DataError) as info:
        bd.from_class_uploads({name: [_image(1)], "other": [_image(2)]})
    assert info.value.key == key
    translated(key, info.value.params)
    assert bd.check_class_name("  고양이 ") == "고양이"


@pytest.mark.parametrize(("uploads", "key"), [
    ({"cat": [_image(1)]}, "builder.error.one_class"),
    ({}, "builder.error.no_classes"),
    ({"cat": [_image(1)], "Cat": [_image(2)]}, "builder.error.class_case"),
    ({"cat": [_image(1)], "dog": [b"not an image"]}, "builder.error.empty_class"),
    ({"cat": [_image(1)], "dog": []}, "builder.error.empty_class"),
    ({"cat": _image(1), "dog": [_image(2)]}, "builder.error.uploads_invalid"),
    ([("cat", [_image(1)])], "builder.error.uploads_invalid"),
    ({f"c{i}": [_image(1)] for i in range(bd.MAX_CLASSES + 1)}, "builder.error.too_many_classes"),
    ({"cat": [b"x"] * bd.MAX_IMAGES, "dog": [b"y"]}, "builder.error.too_many_images"),
])
def test_bad_uploads_are_refused(uploads, key, translated):
    with pytest.raises(DataError) as info:
        bd.from_class_uploads(uploads)
    assert info.value.key == key
    translated(key, info.value.params)


# ------------------------------------------------------------------ split and preview


def test_split_is_stratified_seeded_and_complete():
    labels = torch.tensor([0] * 10 + [1] * 5 + [2] * 1 + [3] * 2)[torch.randperm(18, generator=torch.Generator()
                                                                                    .manual_seed(0))]
    train, test = bd.split(labels, test_fraction=0.2, seed=1)
    assert sorted(train.tolist() + test.tolist()) == list(range(18))
    assert torch.bincount(labels[test], minlength=4).tolist() == [2, 1, 0, 1]  # round(n/5), ≥ 1, ≤ n − 1
    again = bd.split(labels, test_fraction=0.2, seed=1)
    assert torch.equal(again[1], test) and not torch.equal(bd.split(labels, test_fraction=0.2, seed=2)[1], test)
    for bad, key in [({"test_fraction": 0.9}, "builder.error.test_fraction"),
                     ({"test_fraction": "0.2"}, "builder.error.test_fraction"),
                     ({"seed": -1}, "builder.error.seed"), ({"seed": 1.5}, "builder.error.seed")]:
        with pytest.raises(DataError) as info:
            bd.split(labels, **bad)
        assert info.value.key == key


def test_preview_shows_the_first_pictures_of_each_class():
    got = bd.load_image_folder(_zip(TREE), size=(16, 32))
    shown = bd.preview(got, per_class=2)
    assert [(c.name, c.count, c.images.shape) for c in shown] == [
        ("B_cls", 3, (2, 16, 32, 3)), ("a", 6, (2, 16, 32, 3)), ("고양이", 2, (2, 16, 32, 3))]
    assert shown[1].files == got.files[3:5]
    assert np.array_equal(shown[0].images[0], got.pixels[0].permute(1, 2, 0).numpy())
    with pytest.raises(DataError):
        bd.preview(got, per_class=0)


def test_the_total_pixels_decoded_are_bounded(monkeypatch, translated):
    monkeypatch.setattr(bd, "MAX_TOTAL_PIXELS", 40 * 24 * 3)  # three of the test's 40x24 pictures
    entries = {f"{c}/{i}.png": _image(i) for c in ("cats", "dogs") for i in range(2)}
    with pytest.raises(DataError) as info:
        bd.load_image_folder(_zip(entries))
    assert info.value.key == "builder.error.too_many_pixels"
    translated(info.value.key, info.value.params)
    with pytest.raises(DataError) as info:
        bd.from_class_uploads({"cats": [_image(1), _image(2)], "dogs": [_image(3), _image(4)]})
    assert info.value.key == "builder.error.too_many_pixels"
    with pytest.raises(DataError) as info:
        bd.uploads_to_zip({"cats": [_image(1), _image(2)], "dogs": [_image(3), _image(4)]})
    assert info.value.key == "builder.error.too_many_pixels"
    assert len(bd.load_image_folder(_zip({"cats/1.png": _image(1), "dogs/1.png": _image(2)}))) == 2
