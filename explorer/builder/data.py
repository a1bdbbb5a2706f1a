"""Your own data: a .zip of class folders (``torchvision.datasets.ImageFolder`` layout) or pictures uploaded /
taken per class, turned into tensors exactly as the lecture's ``ImageFolder`` + ``Resize((64,128))`` +
``ToTensor()`` would (seed 000 ~L803–857), plus a seeded stratified train/test split and a preview.

Nothing is written to disk: the zip is read in memory. Hostile or broken uploads get a `DataError` (an i18n
key + params) or are skipped and counted:

- refused: not a zip, damaged or encrypted zips, zip bombs (declared sizes summed before reading, every read
  bounded, compression ratio limited), ``../`` / absolute / drive-letter paths, NUL bytes, symlink members,
  duplicate entries, fewer than 2 or more than `MAX_CLASSES` classes, empty classes, class names that differ
  only by case, class names that are too long or unusable as folder names, more than the limits below;
- ignored: ``__MACOSX/``, ``.DS_Store``, ``Thumbs.db``, ``desktop.ini`` and every dotfile / dot-folder;
- skipped and counted: files without an image extension (ImageFolder's list), files outside the class
  folders, undecodable or truncated images, images over 10 MB or 40 megapixels;
- refused while decoding: more than 500 megapixels in all (the images' own sizes, read from their headers),
  which bounds the decoding time.

Folder rules (as ImageFolder, on the zip's root): the class folders are the root's folders, sorted; every image
file at any depth inside a class folder belongs to it; samples come class by class, folder paths sorted, file
names sorted. The root is the zip's top level, or a single top folder (repeatedly: ``data/train/<classes>``).
A root holding exactly a train folder and a test folder (``train``/``train_data``/``training`` and
``test``/``test_data``/``testing``/``val``/``valid``/``validation``, the lecture's ``custom_data/train_data``)
is read as both, with the split kept in ``test_mask``.

Names: zip entries without the UTF-8 flag (0x800) are decoded as UTF-8 if they are valid UTF-8, else as
CP949 (Korean Windows zips), else CP437 (the zip standard). Windows ``\\`` separators are accepted as ``/``.
Class names are shown in Unicode NFC (macOS zips store Hangul decomposed).

Pixels are ImageFolder's: ``Image.open(...).convert("RGB")`` (no EXIF rotation, alpha dropped), then
``resize((W, H), BILINEAR)`` as ``transforms.Resize`` does on PIL images, then ``convert("L")`` for grayscale.
"""

from __future__ import annotations

import io
import re
import struct
import unicodedata
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping, Sequence

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from explorer.core.i18n import UserError
from explorer.core.images import MAX_BYTES, MAX_PIXELS

IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
PIL_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "PPM", "BMP", "TIFF", "WEBP", "GIF")  # decoders tried
JUNK_FILES = frozenset({"thumbs.db", "desktop.ini", "ehthumbs.db"})
JUNK_FOLDERS = frozenset({"__macosx"})
TRAIN_NAMES = frozenset({"train", "train_data", "training", "train_set"})
TEST_NAMES = frozenset({"test", "test_data", "testing", "test_set", "val", "valid", "validation"})
WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                              *(f"lpt{i}" for i in range(1, 10))})

MAX_ZIP_BYTES = 100 * 2**20           # the uploaded .zip
MAX_UNCOMPRESSED = 200 * 2**20        # its members' sizes, summed as declared (reads are bounded by them)
MAX_ENTRIES = 20_000                  # entries in the zip (folders and junk included)
MAX_CENTRAL_DIRECTORY = 4 * 2**20     # the zip's table of contents, checked before it is parsed
MAX_RATIO = 200                       # uncompressed / compressed size of one member above 1 MB: a bomb
RATIO_FROM = 2**20
MAX_IMAGES = 5_000                    # image files in the class folders
MAX_CLASSES = 50
MIN_CLASSES = 2
MAX_CLASS_NAME = 64                   # characters
MAX_PATH = 1_000                      # characters of one entry name
MAX_SIDE = 512                        # of the size images are resized to
MAX_DATA_BYTES = 128 * 2**20          # the resized images as uint8: N × C × H × W (5,000 × 3 × 64 × 128 fits)
MAX_IMAGE_BYTES = MAX_BYTES           # one image file (10 MB, as everywhere in the app)
MAX_IMAGE_PIXELS = MAX_PIXELS         # one image before resizing (40 MP, as everywhere in the app)
MAX_TOTAL_PIXELS = 500_000_000        # all images before resizing: bounds decoding time (~40 phone photos)
DEFAULT_SIZE = (64, 128)              # the lecture's transforms.Resize((64,128))
SKIP_REASONS = ("not_image", "corrupt", "too_large", "outside")
LIMITS = {"zip_mb": MAX_ZIP_BYTES // 2**20, "unpacked_mb": MAX_UNCOMPRESSED // 2**20, "images": MAX_IMAGES,
          "classes": MAX_CLASSES}  # the params of the "builder.limits" text

_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, struct.error,
                  zlib.error, MemoryError, Image.DecompressionBombError)
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, struct.error, zlib.error,
               NotImplementedError, RuntimeError, KeyError, IndexError, OverflowError, MemoryError)
Progress = Callable[[float], None]


class DataError(UserError):
    """A refused dataset: ``key`` is a ``builder.error.*`` i18n key, ``params`` its format arguments."""


@dataclass(frozen=True)
class ImageFolderData:
    """Images with class labels, in ImageFolder's order. Picklable (a worker can train on it)."""

    pixels: torch.Tensor                  # (N, C, H, W) uint8: the resized images
    labels: torch.Tensor                  # (N,) int64, index into `classes`
    classes: tuple[str, ...]              # class names, sorted as ImageFolder sorts folder names
    files: tuple[str, ...]                # each sample's path below the root ("cats/img1.png"), as ImageFolder's
    skipped: dict[str, int] = field(default_factory=dict)   # SKIP_REASONS -> files skipped
    skipped_files: dict[str, tuple[str, ...]] = field(default_factory=dict)  # up to 5 paths in the zip per reason
    ignored: int = 0                      # junk entries ignored (__MACOSX, .DS_Store, Thumbs.db, dotfiles)
    test_mask: torch.Tensor | None = None  # (N,) bool: the zip's own test folder (train/test layout), else None
    split_folders: tuple[str, str] | None = None  # (train folder, test folder) of that layout, below the root

    @property
    def images(self) -> torch.Tensor:
        """(N, C, H, W) float32 in [0, 1], as ``ToTensor()`` gives. A new tensor on each access (4× the
        memory of `pixels`): for training, take batches of `pixels` and divide by 255."""
        return self.pixels.float().div_(255)

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.pixels.shape[1:])  # type: ignore[return-value]

    def counts(self) -> list[int]:
        """Images per class."""
        return torch.bincount(self.labels, minlength=len(self.classes)).tolist()

    def subset(self, indices: torch.Tensor) -> ImageFolderData:
        """The samples at ``indices`` (same classes), e.g. one side of `split`."""
        idx = torch.as_tensor(indices, dtype=torch.int64)
        mask = None if self.test_mask is None else self.test_mask[idx]
        return replace(self, pixels=self.pixels[idx], labels=self.labels[idx],
                       files=tuple(self.files[i] for i in idx.tolist()), test_mask=mask)

    def __len__(self) -> int:
        return len(self.labels)


# ---------------------------------------------------------------------------------------------
# Options


def check_size(size: object) -> tuple[int, int]:
    """The (height, width) images are resized to: whole numbers from 1 to 512, else `DataError`."""
    if (not isinstance(size, (list, tuple)) or len(size) != 2 or
            not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_SIDE for v in size)):
        raise DataError("builder.error.image_size", size=str(size)[:40], limit=MAX_SIDE)
    return int(size[0]), int(size[1])


def _check_budget(count: int, size: tuple[int, int], grayscale: bool) -> None:
    needed = count * (1 if grayscale else 3) * size[0] * size[1]
    if needed > MAX_DATA_BYTES:
        raise DataError("builder.error.too_much_data", mb=-(-needed // 2**20), limit=MAX_DATA_BYTES // 2**20)


# ---------------------------------------------------------------------------------------------
# One image, as ImageFolder's pil_loader + Resize + (Grayscale) + ToTensor


class _Skip(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _PixelBudget:
    """Source pixels decoded so far; `DataError` past `MAX_TOTAL_PIXELS` (checked from each image's header,
    before it is decoded)."""

    def __init__(self) -> None:
        self.used = 0

    def take(self, pixels: int) -> None:
        self.used += pixels
        if self.used > MAX_TOTAL_PIXELS:
            raise DataError("builder.error.too_many_pixels", limit=MAX_TOTAL_PIXELS // 1_000_000)


def _decode_image(data: bytes, *, size: tuple[int, int] = DEFAULT_SIZE, grayscale: bool = False,
                 budget: _PixelBudget | None = None) -> np.ndarray:
    """(C, H, W) uint8 of one image file, or `_Skip` with the reason ("not_image", "corrupt", "too_large")."""
    if len(data) > MAX_IMAGE_BYTES:
        raise _Skip("too_large")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # odd metadata and palette warnings are not the user's problem
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=list(PIL_FORMATS)) as im:
                width, height = im.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise _Skip("too_large")
                if min(width, height) < 1:
                    raise _Skip("corrupt")
                if budget is not None:
                    budget.take(width * height)
                im.load()  # truncation and bad data show up here
                rgb = im.convert("RGB")  # ImageFolder's pil_loader
        except DataError:  # the pixel budget (a ValueError, like the decoders' own errors below)
            raise
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise _Skip("too_large") from None
        except UnidentifiedImageError:
            raise _Skip("not_image") from None
        except _DECODE_ERRORS:
            raise _Skip("corrupt") from None
        out = rgb.resize((size[1], size[0]), Image.Resampling.BILINEAR)  # transforms.Resize((h, w)) on PIL
        if grayscale:
            out = out.convert("L")  # transforms.Grayscale(1)
    array = np.asarray(out, dtype=np.uint8)
    return array[None] if array.ndim == 2 else np.ascontiguousarray(array.transpose(2, 0, 1))


# ---------------------------------------------------------------------------------------------
# Class names


def check_class_name(name: object) -> str:
    """A usable class name (NFC, trimmed), or `DataError`: not empty, ≤ 64 characters, usable as a folder
    name on Windows, macOS and Linux (no ``/ \\ : * ? " < > |``, control characters, leading dot or trailing
    dot, no reserved device names such as CON)."""
    if not isinstance(name, str) or not name.strip():
        raise DataError("builder.error.class_name_empty")
    text = unicodedata.normalize("NFC", name).strip()
    if len(text) > MAX_CLASS_NAME:
        raise DataError("builder.error.class_name_long", name=text[:MAX_CLASS_NAME] + "…", limit=MAX_CLASS_NAME)
    if (re.search(r'[/\\:*?"<>|]', text) or any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in text)
            or text.startswith(".") or text.endswith(".")):
        raise DataError("builder.error.class_name_chars", name=_printable(text))
    if text.split(".")[0].strip().lower() in WINDOWS_RESERVED:
        raise DataError("builder.error.class_name_reserved", name=text)
    return text


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)[:80]


def _check_classes(names: Sequence[str]) -> None:
    """2..50 classes whose names differ by more than case."""
    if not names:
        raise DataError("builder.error.no_classes", min=MIN_CLASSES)
    if len(names) < MIN_CLASSES:
        raise DataError("builder.error.one_class", name=names[0], min=MIN_CLASSES)
    if len(names) > MAX_CLASSES:
        raise DataError("builder.error.too_many_classes", count=len(names), limit=MAX_CLASSES)
    seen: dict[str, str] = {}
    for name in names:
        folded = unicodedata.normalize("NFC", name).casefold()
        if folded in seen:
            raise DataError("builder.error.class_case", first=seen[folded], second=name)
        seen[folded] = name


# ---------------------------------------------------------------------------------------------
# The zip: its table of contents, checked before and after parsing


def _central_directory(data: bytes) -> tuple[int, int] | None:
    """(size, entries) of the zip's central directory as `zipfile` will find them, or None (not a zip)."""
    end = b"PK\x05\x06"
    if len(data) >= 22 and data[-22:-18] == end and data[-2:] == b"\0\0":
        start = len(data) - 22
    else:
        search_from = max(len(data) - 65536 - 22, 0)
        found = data.rfind(end, search_from)
        if found < 0 or len(data) - found < 22:
            return None
        start = found
    _, _, _, _, entries, size, _, _ = struct.unpack("<4s4H2LH", data[start:start + 22])
    locator = data[start - 20:start] if start >= 20 else b""
    if len(locator) == 20 and locator[:4] == b"PK\x06\x07" and start >= 76:
        record = data[start - 76:start - 20]  # zip64 end record, just before the locator (zipfile's rule)
        if record[:4] == b"PK\x06\x06":
            entries, size = struct.unpack("<QQ", record[32:48])
    return size, entries


def _open_zip(data: object) -> zipfile.ZipFile:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DataError("builder.error.zip_invalid")
    if len(data) > MAX_ZIP_BYTES:
        raise DataError("builder.error.zip_too_large", mb=-(-len(data) // 2**20), limit=MAX_ZIP_BYTES // 2**20)
    directory = _central_directory(bytes(data)) if data else None
    if directory is None:
        raise DataError("builder.error.zip_invalid")
    size, entries = directory
    if size > MAX_CENTRAL_DIRECTORY or entries > MAX_ENTRIES:
        raise DataError("builder.error.too_many_entries", limit=MAX_ENTRIES)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except UnicodeDecodeError:
        raise DataError("builder.error.zip_bad_name", name="?") from None
    except _ZIP_ERRORS:
        raise DataError("builder.error.zip_invalid") from None
    if len(zf.infolist()) > MAX_ENTRIES:
        raise DataError("builder.error.too_many_entries", limit=MAX_ENTRIES)
    return zf


def _entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's name as its maker meant it (see the module docstring for the encodings tried)."""
    name = info.orig_filename
    if info.flag_bits & 0x800 or name.isascii():
        return name
    raw = name.encode("cp437")  # zipfile decoded the raw bytes as CP437: get them back
    for encoding in ("utf-8", "cp949"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return name


def _parts(info: zipfile.ZipInfo) -> tuple[tuple[str, ...], bool]:
    """Path components of a safe entry and whether it is a folder; unsafe entries raise `DataError`."""
    name = _entry_name(info)
    shown = _printable(name)
    if "\0" in name or len(name) > MAX_PATH:
        raise DataError("builder.error.zip_bad_name", name=shown)
    path = name.replace("\\", "/")
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path) or ".." in path.split("/"):
        raise DataError("builder.error.zip_unsafe_path", name=shown)
    if (info.external_attr >> 16) & 0o170000 == 0o120000:
        raise DataError("builder.error.zip_link", name=shown)
    if info.flag_bits & 0x1:
        raise DataError("builder.error.zip_encrypted")
    parts = tuple(p for p in path.split("/") if p not in ("", "."))
    return parts, path.endswith("/") or info.is_dir()


def _is_junk(parts: tuple[str, ...]) -> bool:
    return any(p.startswith(".") or p.casefold() in JUNK_FOLDERS for p in parts) or (
        bool(parts) and parts[-1].casefold() in JUNK_FILES)


@dataclass
class _Tree:
    """The zip's safe, non-junk entries: files (path -> entry) and the folders they imply, indexed by parent."""

    files: dict[tuple[str, ...], zipfile.ZipInfo] = field(default_factory=dict)
    folders: dict[tuple[str, ...], set[str]] = field(default_factory=lambda: {(): set()})  # folder -> subfolders
    files_at: dict[tuple[str, ...], list[tuple[str, ...]]] = field(default_factory=dict)  # folder -> its files
    ignored: int = 0

    def add_folder(self, parts: tuple[str, ...]) -> None:
        for depth in range(1, len(parts) + 1):
            self.folders.setdefault(parts[:depth - 1], set()).add(parts[depth - 1])
            self.folders.setdefault(parts[:depth], set())

    def subfolders(self, at: tuple[str, ...]) -> list[str]:
        return sorted(self.folders.get(at, ()))

    def files_in(self, at: tuple[str, ...]) -> list[tuple[str, ...]]:
        return self.files_at.get(at, [])

    def walk(self, top: tuple[str, ...]) -> list[tuple[str, ...]]:
        """``top`` and every folder below it, sorted by their path text, as ``sorted(os.walk(top))``."""
        found, stack = [], [top]
        while stack:
            folder = stack.pop()
            found.append(folder)
            stack += [(*folder, name) for name in self.folders.get(folder, ())]
        return sorted(found, key="/".join)


def _tree(zf: zipfile.ZipFile) -> _Tree:
    tree = _Tree()
    declared = 0
    for info in zf.infolist():
        parts, is_folder = _parts(info)
        if not parts:
            continue
        if _is_junk(parts):
            tree.ignored += 1
            continue
        if parts in tree.files:
            raise DataError("builder.error.zip_duplicate", name=_printable("/".join(parts)))
        declared += info.file_size
        if declared > MAX_UNCOMPRESSED:
            raise DataError("builder.error.zip_bomb", limit=MAX_UNCOMPRESSED // 2**20)
        if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(1, info.compress_size):
            raise DataError("builder.error.zip_bomb", limit=MAX_UNCOMPRESSED // 2**20)
        if is_folder:
            tree.add_folder(parts)
        else:
            tree.add_folder(parts[:-1])
            tree.files[parts] = info
            tree.files_at.setdefault(parts[:-1], []).append(parts)
    clash = next((p for p in tree.files if p in tree.folders), None)
    if clash is not None:  # the same path as a file and as a folder
        raise DataError("builder.error.zip_duplicate", name=_printable("/".join(clash)))
    return tree


def _is_image_name(parts: tuple[str, ...]) -> bool:
    return parts[-1].lower().endswith(IMAGE_EXTENSIONS)


def _root(tree: _Tree) -> tuple[str, ...]:
    """The folder whose subfolders are the classes: descend while there is a single folder, no image next to
    it, and that folder has folders of its own."""
    root: tuple[str, ...] = ()
    while True:
        below = tree.subfolders(root)
        if len(below) != 1 or any(_is_image_name(p) for p in tree.files_in(root)):
            return root
        only = (*root, below[0])
        if not tree.subfolders(only):
            return root
        root = only


def _split_folders(tree: _Tree, root: tuple[str, ...]) -> tuple[str, str] | None:
    """(train folder, test folder) if the root holds exactly those two, each with class folders."""
    below = tree.subfolders(root)
    if len(below) != 2:
        return None
    train = [b for b in below if b.casefold() in TRAIN_NAMES]
    test = [b for b in below if b.casefold() in TEST_NAMES]
    if len(train) != 1 or len(test) != 1:
        return None
    if not tree.subfolders((*root, train[0])) or not tree.subfolders((*root, test[0])):
        return None
    return train[0], test[0]


def _samples(tree: _Tree, root: tuple[str, ...]) -> tuple[list[str], list[tuple[tuple[str, ...], int]]]:
    """ImageFolder's classes and (path, class index) samples under ``root`` (make_dataset's order)."""
    classes = tree.subfolders(root)
    if len(classes) > MAX_CLASSES:
        raise DataError("builder.error.too_many_classes", count=len(classes), limit=MAX_CLASSES)
    samples = []
    for index, name in enumerate(classes):
        found = 0
        for folder in tree.walk((*root, name)):
            for path in sorted(tree.files_in(folder), key=lambda p: p[-1]):
                if _is_image_name(path):
                    samples.append((path, index))
                    found += 1
        if not found:
            raise DataError("builder.error.empty_class", name=unicodedata.normalize("NFC", name))
    return classes, samples


@dataclass
class _Skipped:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SKIP_REASONS, 0))
    names: dict[str, list[str]] = field(default_factory=lambda: {r: [] for r in SKIP_REASONS})

    def add(self, reason: str, name: str, n: int = 1) -> None:
        self.counts[reason] += n
        if len(self.names[reason]) < 5 and name:
            self.names[reason].append(name)

    def result(self) -> tuple[dict[str, int], dict[str, tuple[str, ...]]]:
        return dict(self.counts), {k: tuple(v) for k, v in self.names.items()}


@dataclass(frozen=True)
class _Layout:
    """Where the classes are in a zip, and its samples in ImageFolder's order."""

    root: tuple[str, ...]
    split: tuple[str, str] | None                      # (train folder, test folder) below the root
    parts: tuple[tuple[str, ...], ...]                 # the folder(s) holding class folders
    classes: tuple[str, ...]                           # NFC
    samples: tuple[tuple[tuple[str, ...], int], ...]   # (path, class index)
    is_test: tuple[bool, ...]                          # per sample: from the test folder


def _layout(tree: _Tree) -> _Layout:
    root = _root(tree)
    split = _split_folders(tree, root)
    parts = ((*root, split[0]), (*root, split[1])) if split else (root,)
    found = [_samples(tree, part) for part in parts]
    classes, *others = [[unicodedata.normalize("NFC", c) for c in f[0]] for f in found]
    if split and others[0] != classes:
        raise DataError("builder.error.split_classes", train=split[0], test=split[1],
                        name=sorted(set(classes) ^ set(others[0]))[0])
    _check_classes(classes)
    for name in classes:
        check_class_name(name)
    return _Layout(root, split, parts, tuple(classes), tuple(s for f in found for s in f[1]),
                   tuple(i == 1 for i, f in enumerate(found) for _ in f[1]))


def _count_left_out(tree: _Tree, layout: _Layout, skipped: _Skipped) -> None:
    """Files in class folders without an image extension, and files outside the class folders."""
    outside = 0
    for path in tree.files:
        if not any(path[:len(r)] == r and len(path) > len(r) + 1 for r in layout.parts):
            outside += 1
        elif not _is_image_name(path):
            skipped.add("not_image", "/".join(path))
    if outside:
        skipped.add("outside", "", outside)


def load_image_folder(zip_bytes: bytes, *, size: tuple[int, int] = DEFAULT_SIZE, grayscale: bool = False,
                      progress: Progress | None = None) -> ImageFolderData:
    """The images of a .zip of class folders, as ImageFolder with ``Resize(size)`` [+ ``Grayscale(1)``] +
    ``ToTensor()`` gives them (classes, class_to_idx, order, pixels), or `DataError`. A long job (≤ ~5 s)."""
    size = check_size(size)
    with _open_zip(zip_bytes) as zf:
        tree = _tree(zf)
        layout = _layout(tree)
        if len(layout.samples) > MAX_IMAGES:
            raise DataError("builder.error.too_many_images", count=len(layout.samples), limit=MAX_IMAGES)
        _check_budget(len(layout.samples), size, grayscale)
        skipped = _Skipped()
        _count_left_out(tree, layout, skipped)
        decoded = _decode_members(zf, tree, layout.samples, size, grayscale, skipped, progress)
    keep = [i for i, d in enumerate(decoded) if d is not None]
    labels = torch.tensor([layout.samples[i][1] for i in keep], dtype=torch.int64)
    for index, name in enumerate(layout.classes):
        if not bool((labels == index).any()):
            raise DataError("builder.error.empty_class", name=name)
    split = layout.split
    return ImageFolderData(
        torch.from_numpy(np.stack([decoded[i] for i in keep])), labels, layout.classes,
        tuple(unicodedata.normalize("NFC", "/".join(layout.samples[i][0][len(layout.root):])) for i in keep),
        *skipped.result(), tree.ignored,
        torch.tensor([layout.is_test[i] for i in keep], dtype=torch.bool) if split else None,
        tuple(unicodedata.normalize("NFC", f) for f in split) if split else None)  # type: ignore[arg-type]


def _decode_members(zf: zipfile.ZipFile, tree: _Tree, samples: Sequence[tuple[tuple[str, ...], int]],
                    size: tuple[int, int], grayscale: bool, skipped: _Skipped, progress: Progress | None,
                    ) -> list[np.ndarray | None]:
    decoded: list[np.ndarray | None] = []
    total = 0
    budget = _PixelBudget()
    for number, (path, _) in enumerate(samples):
        info, name = tree.files[path], "/".join(path)
        decoded.append(None)
        if progress is not None and number % 50 == 0:
            progress(number / len(samples))
        if info.file_size > MAX_IMAGE_BYTES:
            skipped.add("too_large", name)
            continue
        try:
            with zf.open(info) as member:
                data = member.read(info.file_size + 1)  # bounded: never more than the header declares (+1)
        except _ZIP_ERRORS:
            raise DataError("builder.error.zip_corrupt", name=_printable(name)) from None
        total += len(data)
        if len(data) > info.file_size or total > MAX_UNCOMPRESSED:
            raise DataError("builder.error.zip_bomb", limit=MAX_UNCOMPRESSED // 2**20)
        try:
            decoded[-1] = _decode_image(data, size=size, grayscale=grayscale, budget=budget)
        except _Skip as skip:  # the name says image, so unreadable content is a broken image
            skipped.add("corrupt" if skip.reason == "not_image" else skip.reason, name)
    if progress is not None:
        progress(1.0)
    return decoded


# ---------------------------------------------------------------------------------------------
# Pictures uploaded or taken per class


def _check_uploads(uploads: object) -> dict[str, list[bytes]]:
    if not isinstance(uploads, Mapping):
        raise DataError("builder.error.uploads_invalid")
    checked: dict[str, list[bytes]] = {}
    for raw, files in uploads.items():
        name = check_class_name(raw)
        if not isinstance(files, (list, tuple)) or not all(isinstance(f, (bytes, bytearray)) for f in files):
            raise DataError("builder.error.uploads_invalid")
        if any(name.casefold() == other.casefold() for other in checked):
            first = next(o for o in checked if o.casefold() == name.casefold())
            raise DataError("builder.error.class_case", first=first, second=name)
        checked[name] = [bytes(f) for f in files]
    return checked


def from_class_uploads(uploads: Mapping[str, Sequence[bytes]], *, size: tuple[int, int] = DEFAULT_SIZE,
                       grayscale: bool = False, progress: Progress | None = None) -> ImageFolderData:
    """The same as `load_image_folder` for ``{"class name": [image bytes, ...]}`` (uploads or camera shots):
    classes sorted as ImageFolder sorts folders, each class's pictures in the order given (named
    ``<class>/0001``… as `uploads_to_zip` names them). Non-images and broken images are skipped and counted;
    the same class rules and limits apply."""
    size = check_size(size)
    checked = _check_uploads(uploads)
    classes = sorted(checked)
    _check_classes(classes)
    count = sum(len(f) for f in checked.values())
    if count > MAX_IMAGES:
        raise DataError("builder.error.too_many_images", count=count, limit=MAX_IMAGES)
    _check_budget(count, size, grayscale)
    skipped = _Skipped()
    budget = _PixelBudget()
    images, labels, files = [], [], []
    for index, name in enumerate(classes):
        kept = 0
        for number, data in enumerate(checked[name], start=1):
            try:
                images.append(_decode_image(data, size=size, grayscale=grayscale, budget=budget))
            except _Skip as skip:
                skipped.add(skip.reason, f"{name} #{number}")
                continue
            kept += 1
            labels.append(index)
            files.append(f"{name}/{kept:04d}")
            if progress is not None and len(labels) % 50 == 0:
                progress(len(labels) / count)
        if not kept:
            raise DataError("builder.error.empty_class", name=name)
    return ImageFolderData(torch.from_numpy(np.stack(images)), torch.tensor(labels, dtype=torch.int64),
                           tuple(classes), tuple(files), *skipped.result(), 0, None)


_EXTENSION = {"JPEG": "jpg", "PNG": "png", "PPM": "ppm", "BMP": "bmp", "TIFF": "tif", "WEBP": "webp", "GIF": "png"}


def uploads_to_zip(uploads: Mapping[str, Sequence[bytes]]) -> bytes:
    """The pictures as a .zip in ImageFolder's layout (``<class>/0001.jpg``…), readable pictures only, for
    the script to train on: `load_image_folder` of it gives what `from_class_uploads` gives."""
    checked = _check_uploads(uploads)
    _check_classes(sorted(checked))
    count, size = sum(len(f) for f in checked.values()), sum(len(d) for f in checked.values() for d in f)
    if count > MAX_IMAGES:
        raise DataError("builder.error.too_many_images", count=count, limit=MAX_IMAGES)
    if size > MAX_ZIP_BYTES:  # the zip must load again
        raise DataError("builder.error.zip_too_large", mb=-(-size // 2**20), limit=MAX_ZIP_BYTES // 2**20)
    budget = _PixelBudget()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in sorted(checked):
            kept = 0
            for data in checked[name]:
                fmt = _format(data, budget)
                if fmt is None:
                    continue
                kept += 1
                if fmt == "GIF":  # not an ImageFolder extension: store its first frame as PNG
                    data = _first_frame_png(data)
                zf.writestr(f"{name}/{kept:04d}.{_EXTENSION[fmt]}", data)
    return buffer.getvalue()


def _format(data: bytes, budget: _PixelBudget) -> str | None:
    """The Pillow format of a readable picture, None for anything else."""
    try:
        _decode_image(data, size=(1, 1), budget=budget)
    except _Skip:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Image.open(io.BytesIO(data), formats=list(PIL_FORMATS)) as im:
            return im.format


def _first_frame_png(data: bytes) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Image.open(io.BytesIO(data), formats=["GIF"]) as im:
            buffer = io.BytesIO()
            im.convert("RGB").save(buffer, format="PNG")
            return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Split and preview


def split(labels: torch.Tensor | ImageFolderData, *, test_fraction: float = 0.2, seed: int = 777,
          ) -> tuple[torch.Tensor, torch.Tensor]:
    """Seeded stratified split: (train indices, test indices), each sorted. Per class in order, the class's
    indices are shuffled by one generator seeded ``seed`` and the first ``round(n × test_fraction)`` (at least
    1 and at most n − 1 for n ≥ 2; none for n = 1) go to the test set. The script of `to_script` does the
    same, so it trains on the same images. Data with its own test folder (``test_mask``) keeps that split."""
    if isinstance(labels, ImageFolderData):
        if labels.test_mask is not None:
            return (torch.nonzero(~labels.test_mask).flatten(), torch.nonzero(labels.test_mask).flatten())
        labels = labels.labels
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or not (
            0.05 <= test_fraction <= 0.5):
        raise DataError("builder.error.test_fraction", value=str(test_fraction)[:20], low=0.05, high=0.5)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise DataError("builder.error.seed", value=str(seed)[:30])
    generator = torch.Generator().manual_seed(seed)
    train: list[int] = []
    test: list[int] = []
    for c in range(int(labels.max()) + 1 if len(labels) else 0):
        idx = (labels == c).nonzero().flatten()
        idx = idx[torch.randperm(len(idx), generator=generator)]
        n_test = min(len(idx) - 1, max(1, round(len(idx) * test_fraction))) if len(idx) >= 2 else 0
        test += idx[:n_test].tolist()
        train += idx[n_test:].tolist()
    return torch.tensor(sorted(train), dtype=torch.int64), torch.tensor(sorted(test), dtype=torch.int64)


@dataclass(frozen=True)
class ClassPreview:
    """One class of the preview grid."""

    name: str
    count: int
    images: np.ndarray        # (k, H, W, C) uint8, ready for st.image / plotly
    files: tuple[str, ...]    # where each shown image came from


def preview(data: ImageFolderData, *, per_class: int = 8) -> list[ClassPreview]:
    """The first ``per_class`` images of each class, with the class's image count."""
    if isinstance(per_class, bool) or not isinstance(per_class, int) or not 1 <= per_class <= 64:
        raise DataError("builder.error.preview", value=str(per_class)[:20], limit=64)
    shown = []
    for index, name in enumerate(data.classes):
        idx = torch.nonzero(data.labels == index).flatten()
        first = idx[:per_class]
        images = data.pixels[first].permute(0, 2, 3, 1).numpy()  # (k, H, W, C)
        shown.append(ClassPreview(name, len(idx), images, tuple(data.files[i] for i in first.tolist())))
    return shown
