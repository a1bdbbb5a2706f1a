"""The network builder's layer table: rows as plain dicts, checked row by row through the Shapes wing.

A table is a list of dicts, one per layer (the page's editor, the JSON download and `build_model` all use
this form)::

    {"kind": "conv", "out_channels": 32, "kernel": 3, "stride": 1, "padding": 1}   # padding: n, [h, w], "same"
    {"kind": "maxpool" | "avgpool", "kernel": 2, "stride": 2, "padding": 0}        # stride defaults to kernel
    {"kind": "linear", "out_features": 10}
    {"kind": "dropout", "p": 0.5}
    {"kind": "relu" | "sigmoid" | "tanh" | "leaky_relu" | "batchnorm" | "flatten" | "gap"}

conv and linear rows may carry ``"init": "default" | "xavier" | "he"``: how that row's *weight* starts
(the lectures' ``torch.nn.init.xavier_uniform_(self.fc.weight)``); the model-wide init sets the rest.
Fields a kind does not use are ignored; unknown fields are refused.

`check_layers` never raises for a bad row: it returns every row's shapes, parameters, MACs and receptive
field (computed by `explorer.shapes.summarize`, the one source of truth) and a list of problems, each with a
row index, an i18n key and its parameters. Limits are stated below and in the locale texts.
"""

from __future__ import annotations

import copy
import json
import math
import numbers
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from explorer.core.i18n import UserError
from explorer.shapes import Layer, Row, summarize

KINDS: tuple[str, ...] = ("conv", "maxpool", "avgpool", "relu", "sigmoid", "tanh", "leaky_relu", "batchnorm",
                          "dropout", "flatten", "gap", "linear")
POOL_KINDS = ("maxpool", "avgpool")
WEIGHTED_KINDS = ("conv", "linear")          # rows with weights (and an optional "init")
TO_VECTOR_KINDS = ("flatten", "gap")         # the first of these starts the classifier
INITS: tuple[str, ...] = ("default", "xavier", "he")
FIELDS: dict[str, tuple[str, ...]] = {       # the fields each kind uses; others are ignored
    "conv": ("out_channels", "kernel", "stride", "padding", "init"),
    "maxpool": ("kernel", "stride", "padding"),
    "avgpool": ("kernel", "stride", "padding"),
    "linear": ("out_features", "init"),
    "dropout": ("p",),
}
KNOWN_FIELDS = frozenset({"kind", "out_channels", "out_features", "kernel", "stride", "padding", "p", "init"})

MAX_ROWS = 100                   # layers in one table
MAX_CHANNELS = 1024              # conv filters
MAX_FEATURES = 16_384            # linear outputs
MAX_KERNEL = 64                  # kernel and stride, per side
MAX_PADDING = 64
MAX_INPUT_SIDE = 512             # input height / width
MAX_INPUT_CHANNELS = 16
MAX_PARAMS = 20_000_000          # weights: 80 MB as float32 (x4 with gradients and Adam's two moments)
MAX_MACS = 1_000_000_000         # multiply-accumulates per image (one forward pass)
TRAIN_BATCH = 100                # the lectures' batch size, used for the memory estimate
MAX_TRAIN_MB = 1024              # estimated training memory at TRAIN_BATCH (see `train_megabytes`)
MAX_JSON_BYTES = 256 * 1024      # a layer-table file
MAX_CLASSES = 50                 # class names stored in a table file
MAX_CLASS_NAME = 64
TABLE_FORMAT = "cnn-explorer/builder-table/1"

Shape = tuple[int, ...]


class TableError(UserError):
    """A refused table, row or table file: ``key`` is an i18n key, ``row`` the 0-based row (or None)."""

    def __init__(self, key: str, /, *, row: int | None = None, **params: object) -> None:
        super().__init__(key, **params)
        self.row = row


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a table: at ``row`` (0-based; None for the whole table), explained by ``key``."""

    row: int | None
    key: str                                   # builder.error.* or shapes.err.* (both translated)
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RowCheck:
    """One row of a checked table. Shapes are None where the table could not be followed this far."""

    index: int
    kind: str
    input_shape: Shape | None
    output_shape: Shape | None
    params: int = 0
    macs: int = 0                              # multiply-accumulates per image
    receptive_field: int | None = None         # input pixels one output cell sees (max of h, w)
    kernel_shape: Shape | None = None          # weight shape (out, in, kh, kw) or (out, in)
    error_key: str | None = None               # this row's first problem, if any
    error_params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TableCheck:
    """Everything the page shows about a table, and whether it can be built."""

    input_shape: Shape | None
    rows: tuple[RowCheck, ...]
    problems: tuple[Problem, ...]
    layers: tuple[dict, ...]                   # the rows in normal form (only rows that could be read)
    params: int = 0
    macs: int = 0
    activations: int = 0                       # output values per image, summed over rows (flatten excluded)
    train_mb: float = 0.0                      # `train_megabytes` of this table at TRAIN_BATCH

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def output_shape(self) -> Shape | None:
        return self.rows[-1].output_shape if self.rows else None


# ---------------------------------------------------------------------------------------------
# Reading one row


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or (
        isinstance(value, str) and not value.strip())


def _shown(value: object) -> str:
    return str(value)[:40]


def _whole(value: object, name: str, low: int, high: int) -> int:
    """A whole number in [low, high] from an int, an integral float or a digit string."""
    if _blank(value):
        raise TableError("builder.error.missing", field=name)
    if isinstance(value, bool):
        raise TableError("builder.error.not_whole", field=name, value=_shown(value))
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,9}\s*", value):
        number = int(value)
    elif isinstance(value, numbers.Integral):
        number = int(value)
    elif isinstance(value, numbers.Real) and math.isfinite(float(value)) and float(value).is_integer():
        number = int(value)
    else:
        raise TableError("builder.error.not_whole", field=name, value=_shown(value))
    if not low <= number <= high:
        raise TableError("builder.error.range", field=name, value=number, low=low, high=high)
    return number


def _pair(value: object, name: str, low: int, high: int) -> int | list[int]:
    """``3`` or ``[3, 5]`` (also ``"3x5"``); a square pair comes back as one number."""
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,9}\s*[x×,]\s*\d{1,9}\s*", value):
        value = re.split(r"[x×,]", value)
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise TableError("builder.error.not_whole", field=name, value=_shown(value))
        h, w = (_whole(v, name, low, high) for v in value)
        return h if h == w else [h, w]
    return _whole(value, name, low, high)


def _as_tuple(value: int | list[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def _probability(value: object) -> float:
    if _blank(value):
        return 0.5
    if isinstance(value, bool):
        raise TableError("builder.error.not_number", field="p", value=_shown(value))
    try:
        p = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise TableError("builder.error.not_number", field="p", value=_shown(value)) from None
    if not (math.isfinite(p) and 0 <= p < 1):
        raise TableError("shapes.err.dropout", value=_shown(value))
    return p


def _kind(row: object) -> str:
    if not isinstance(row, Mapping):
        raise TableError("builder.error.row_not_table", value=type(row).__name__)
    kind = row.get("kind")
    kind = kind.strip().lower() if isinstance(kind, str) else kind
    if kind not in KINDS:
        raise TableError("shapes.err.unknown_kind", kind=_shown(kind) if not _blank(kind) else "—")
    return kind


def normalize_row(row: object) -> dict:
    """The row in normal form (kind, then its fields with defaults filled in), or `TableError`."""
    kind = _kind(row)
    assert isinstance(row, Mapping)
    unknown = sorted(str(k) for k in row if k not in KNOWN_FIELDS)
    if unknown:
        raise TableError("builder.error.unknown_field", field=_shown(unknown[0]), kind=kind)
    out: dict[str, Any] = {"kind": kind}
    if kind == "conv":
        out["out_channels"] = _whole(row.get("out_channels"), "out_channels", 1, MAX_CHANNELS)
    if kind in ("conv", *POOL_KINDS):
        out["kernel"] = _pair(row.get("kernel"), "kernel", 1, MAX_KERNEL)
        default_stride = 1 if kind == "conv" else out["kernel"]
        stride = row.get("stride")
        out["stride"] = default_stride if _blank(stride) else _pair(stride, "stride", 1, MAX_KERNEL)
        padding = row.get("padding")
        if kind == "conv" and isinstance(padding, str) and padding.strip().lower() == "same":
            out["padding"] = "same"
        else:
            out["padding"] = 0 if _blank(padding) else _pair(padding, "padding", 0, MAX_PADDING)
    if kind == "linear":
        out["out_features"] = _whole(row.get("out_features"), "out_features", 1, MAX_FEATURES)
    if kind == "dropout":
        out["p"] = _probability(row.get("p"))
    if kind in WEIGHTED_KINDS and not _blank(row.get("init")):
        init = row.get("init")
        if init not in INITS:
            raise TableError("builder.error.init", value=_shown(init), choices=", ".join(INITS))
        if init != "default":
            out["init"] = init
    return out


def to_shapes_layer(row: dict) -> Layer:
    """A normal-form row as the Shapes wing's `Layer`."""
    kind = row["kind"]
    if kind == "conv":
        pad = row["padding"]
        return Layer("conv", out=row["out_channels"], kernel=_as_tuple(row["kernel"]),
                     stride=_as_tuple(row["stride"]), padding=pad if pad == "same" else _as_tuple(pad))
    if kind in POOL_KINDS:
        return Layer(kind, kernel=_as_tuple(row["kernel"]), stride=_as_tuple(row["stride"]),
                     padding=_as_tuple(row["padding"]))
    if kind == "linear":
        return Layer("linear", out=row["out_features"])
    if kind == "dropout":
        return Layer("dropout", p=row["p"])
    return Layer(kind)


# ---------------------------------------------------------------------------------------------
# The whole table


def check_input_shape(input_shape: object) -> Shape:
    """(C, H, W) with C ≤ 16 and sides ≤ 512, or (F,) with F ≤ 16,384 for a flat input; else `TableError`."""
    if not isinstance(input_shape, (list, tuple)) or len(input_shape) not in (1, 3):
        raise TableError("builder.error.input_shape", shape=_shown(input_shape))
    highs = (MAX_FEATURES,) if len(input_shape) == 1 else (MAX_INPUT_CHANNELS, MAX_INPUT_SIDE, MAX_INPUT_SIDE)
    try:
        return tuple(_whole(v, "input", 1, high) for v, high in zip(input_shape, highs))
    except TableError:
        raise TableError("builder.error.input_shape", shape=_shown(input_shape)) from None


def train_megabytes(params: int, activations: int, largest: int = 0, *, batch: int = TRAIN_BATCH) -> float:
    """Rough training memory in MB, float32: weights, gradients and Adam's two moments (4 × params), plus
    the layer outputs autograd keeps for the backward pass (``activations`` per image) and one gradient of
    the ``largest`` output at a time, for ``batch`` images. Measured: the deeper CNN on 3×64×128 images at
    batch 100 peaks at ~640 MB (~790 MB with batch norm after conv1); this gives ~680 MB (~780 MB)."""
    return 4 * (4 * params + batch * (activations + largest)) / 2**20


def check_layers(layers: Sequence[object], input_shape: Sequence[int], *, classes: int | None = None,
                 ) -> TableCheck:
    """Every row's shapes, parameters, MACs and receptive field, and every problem, without raising.

    Rows that cannot be read (bad values) are all reported; shapes are followed up to the first row that
    cannot be read or cannot run. ``classes``: the number of classes the output must score.
    """
    try:
        shape = check_input_shape(input_shape)
    except TableError as error:
        return TableCheck(None, (), (Problem(None, error.key, dict(error.params)),), ())
    if not isinstance(layers, (list, tuple)):
        return TableCheck(shape, (), (Problem(None, "builder.error.not_a_table", {}),), ())
    if not layers:
        return TableCheck(shape, (), (Problem(None, "builder.error.empty", {}),), ())
    if len(layers) > MAX_ROWS:
        return TableCheck(shape, (), (Problem(None, "builder.error.too_many_rows", {"count": len(layers),
                                                                                  "limit": MAX_ROWS}),), ())
    problems: list[Problem] = []
    normal: list[dict] = []
    for index, row in enumerate(layers):
        try:
            normal.append(normalize_row(row))
        except TableError as error:
            problems.append(Problem(index, error.key, dict(error.params)))
    readable = len(layers) if not problems else problems[0].row
    assert readable is not None
    summary = summarize([to_shapes_layer(r) for r in normal[:readable]], shape, strict=False) if readable else []
    problems += [Problem(r.index, r.error_key, dict(r.error_params)) for r in summary if r.error_key]
    rows = _row_checks(layers, summary, problems)
    good = [r for r in summary if r.error_key is None]
    params, macs = sum(r.params for r in good), sum(r.macs for r in good)
    sizes = [math.prod(r.output_shape) for r in good if r.kind != "flatten"]
    mb = train_megabytes(params, sum(sizes), max(sizes, default=0))
    activations = sum(sizes)
    if not problems:
        problems += _limits(good, params, macs, mb) + _output(good[-1], classes)
        rows = _row_checks(layers, summary, problems)
    problems.sort(key=lambda p: (math.inf if p.row is None else p.row))
    return TableCheck(shape, rows, tuple(problems), tuple(normal[:readable]), params, macs, activations, mb)


def _row_checks(layers: Sequence[object], summary: Sequence[Row], problems: Sequence[Problem],
                ) -> tuple[RowCheck, ...]:
    first: dict[int, Problem] = {}
    for p in problems:
        if p.row is not None:
            first.setdefault(p.row, p)
    checks = []
    for index, row in enumerate(layers):
        kind = row.get("kind") if isinstance(row, Mapping) else None
        kind = kind.strip().lower() if isinstance(kind, str) else ""
        problem = first.get(index)
        error = {"error_key": problem.key, "error_params": problem.params} if problem else {}
        if index < len(summary):
            r = summary[index]
            checks.append(RowCheck(index, r.kind, r.input_shape, r.output_shape, r.params, r.macs,
                                   r.receptive_field, r.kernel_shape, **error))
        else:
            checks.append(RowCheck(index, kind, None, None, **error))
    return tuple(checks)


def _largest(rows: Sequence[Row], what: str) -> int:
    return max(rows, key=lambda r: getattr(r, what)).index


def _limits(rows: Sequence[Row], params: int, macs: int, mb: float) -> list[Problem]:
    found = []
    if params > MAX_PARAMS:
        found.append(Problem(_largest(rows, "params"), "builder.error.too_many_params",
                             {"params": params, "limit": MAX_PARAMS}))
    if macs > MAX_MACS:
        found.append(Problem(_largest(rows, "macs"), "builder.error.too_many_macs",
                             {"macs": macs, "limit": MAX_MACS}))
    if mb > MAX_TRAIN_MB:  # blame the row that needs the most: its weights or its output
        biggest = max(rows, key=lambda r: 4 * r.params + TRAIN_BATCH * (
            0 if r.kind == "flatten" else math.prod(r.output_shape))).index
        found.append(Problem(biggest, "builder.error.too_much_memory",
                             {"mb": math.ceil(mb), "limit": MAX_TRAIN_MB, "batch": TRAIN_BATCH}))
    return found


def _output(last: Row, classes: int | None) -> list[Problem]:
    out = last.output_shape
    if out is None or len(out) != 1:
        return [Problem(last.index, "builder.error.output_not_flat", {"shape": "×".join(map(str, out or ()))})]
    if classes is not None and out[0] != classes:
        return [Problem(last.index, "builder.error.classes", {"out": out[0], "classes": classes})]
    return []


def raise_first(check: TableCheck) -> None:
    """Raise the first problem of ``check`` as a `TableError` (for callers that need a buildable table)."""
    if check.problems:
        p = check.problems[0]
        raise TableError(p.key, row=p.row, **p.params)


# ---------------------------------------------------------------------------------------------
# Presets: the lectures' networks as tables


@dataclass(frozen=True)
class Preset:
    """A lecture network as a table; use `preset` for a copy you may edit."""

    name: str
    input_shape: Shape                 # the input the lecture gives it
    classes: int                       # its number of outputs in the lecture
    layers: tuple[dict, ...]


def _conv(out: int, kernel: int = 3, *, stride: int = 1, padding: int = 1) -> dict:
    return {"kind": "conv", "out_channels": out, "kernel": kernel, "stride": stride, "padding": padding}


def _pool(kind: str = "maxpool", *, kernel: int = 2, stride: int = 2, padding: int = 0) -> dict:
    return {"kind": kind, "kernel": kernel, "stride": stride, "padding": padding}


def _block(out: int, *, pool_padding: int = 0) -> tuple[dict, ...]:
    """The lectures' block: 3x3 conv (stride 1, padding 1) -> ReLU -> 2x2 max pool (stride 2)."""
    return _conv(out), {"kind": "relu"}, _pool(padding=pool_padding)


PRESETS: dict[str, Preset] = {p.name: p for p in [
    # Seed 000 "우리가 만들 CNN 구조": 1x28x28 -> 32x14x14 -> 64x7x7 -> 3136 -> 10 (fc: Xavier, as the code)
    Preset("seed_cnn", (1, 28, 28), 10, (
        *_block(32), *_block(64),
        {"kind": "flatten"}, {"kind": "linear", "out_features": 10, "init": "xavier"})),
    # Seed 000 "오늘 만들 CNN 구조" (더 깊게): three blocks (pool3 pads 1: 7 -> 4), FC 4*4*128 -> 625 -> 10
    Preset("deep_seed_cnn", (1, 28, 28), 10, (
        *_block(32), *_block(64), *_block(128, pool_padding=1),
        {"kind": "flatten"}, {"kind": "linear", "out_features": 625, "init": "xavier"}, {"kind": "relu"},
        {"kind": "dropout", "p": 0.5}, {"kind": "linear", "out_features": 10, "init": "xavier"})),
    # LeNet-5 for 28x28 MNIST as explorer.core.models.LeNet5: C1 pads 2 so it sees the classic 32x32
    Preset("lenet5", (1, 28, 28), 10, (
        _conv(6, 5, padding=2), {"kind": "tanh"}, _pool("avgpool"),
        _conv(16, 5, padding=0), {"kind": "tanh"}, _pool("avgpool"),
        {"kind": "flatten"}, {"kind": "linear", "out_features": 120}, {"kind": "tanh"},
        {"kind": "linear", "out_features": 84}, {"kind": "tanh"}, {"kind": "linear", "out_features": 10})),
    # Seed 000 ~L24-28: a fully connected net on 16x16 images, 256 -> 100 -> 26 (25,600 + 2,600 + 100 + 26)
    Preset("fc_16x16", (1, 16, 16), 26, (
        {"kind": "flatten"}, {"kind": "linear", "out_features": 100}, {"kind": "sigmoid"},
        {"kind": "linear", "out_features": 26})),
]}


def preset(name: str, *, classes: int | None = None) -> list[dict]:
    """A fresh copy of the preset's table; with ``classes``, its last linear layer scores that many classes."""
    if name not in PRESETS:
        raise TableError("builder.error.unknown_preset", name=_shown(name))
    layers = copy.deepcopy(list(PRESETS[name].layers))
    return fit_classes(layers, classes) if classes is not None else layers


def fit_classes(layers: Sequence[dict], classes: int) -> list[dict]:
    """A copy of ``layers`` whose last linear layer has ``classes`` outputs (unchanged if there is none)."""
    classes = _whole(classes, "classes", 1, MAX_FEATURES)
    out = copy.deepcopy(list(layers))
    for row in reversed(out):
        if isinstance(row, dict) and row.get("kind") == "linear":
            row["out_features"] = classes
            break
    return out


# ---------------------------------------------------------------------------------------------
# Editing: pure list operations for the page


def default_row(kind: str) -> dict:
    """A new row of ``kind`` with the lectures' usual values (3x3 conv padding 1, 2x2 pool, dropout 0.5)."""
    kind = _kind({"kind": kind})
    defaults: dict[str, dict] = {"conv": _conv(16), "maxpool": _pool(), "avgpool": _pool("avgpool"),
                                 "linear": {"kind": "linear", "out_features": 10},
                                 "dropout": {"kind": "dropout", "p": 0.5}}
    return copy.deepcopy(defaults.get(kind, {"kind": kind}))


def _index(layers: Sequence[object], index: object, *, end: bool = False) -> int:
    return _whole(index, "row", 0, len(layers) if end else max(0, len(layers) - 1))


def add_row(layers: Sequence[dict], kind: str, *, at: int | None = None) -> list[dict]:
    """A copy of ``layers`` with a `default_row` of ``kind`` inserted before row ``at`` (default: at the end)."""
    if len(layers) >= MAX_ROWS:
        raise TableError("builder.error.too_many_rows", count=len(layers) + 1, limit=MAX_ROWS)
    out = copy.deepcopy(list(layers))
    out.insert(len(out) if at is None else _index(out, at, end=True), default_row(kind))
    return out


def remove_row(layers: Sequence[dict], index: int) -> list[dict]:
    """A copy of ``layers`` without row ``index``."""
    if not layers:
        raise TableError("builder.error.empty")
    out = copy.deepcopy(list(layers))
    del out[_index(out, index)]
    return out


def move_row(layers: Sequence[dict], index: int, to: int) -> list[dict]:
    """A copy of ``layers`` with row ``index`` moved so that it ends up at position ``to``."""
    if not layers:
        raise TableError("builder.error.empty")
    out = copy.deepcopy(list(layers))
    row = out.pop(_index(out, index))
    out.insert(_index(out, to, end=True), row)
    return out


# ---------------------------------------------------------------------------------------------
# The table as a file: JSON out and back in, refusing malformed or hostile files


@dataclass(frozen=True)
class TableFile:
    """What a layer-table file holds."""

    layers: list[dict]
    input_shape: Shape
    init: str = "default"                  # model-wide init ("default", "xavier", "he")
    classes: tuple[str, ...] | None = None  # class names the network was made for, if known


def table_to_json(layers: Sequence[object], *, input_shape: Sequence[int], init: str = "default",
                  classes: Sequence[str] | None = None) -> str:
    """The table as a small JSON document (rows in normal form); `TableError` for a row that cannot be read."""
    shape = check_input_shape(input_shape)
    rows = []
    for index, row in enumerate(layers):
        try:
            rows.append(normalize_row(row))
        except TableError as error:
            raise TableError(error.key, row=index, **error.params) from None
    doc = {"format": TABLE_FORMAT, "input_shape": list(shape), "init": _init(init),
           "classes": None if classes is None else list(_class_names(classes)), "layers": rows}
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def _init(init: object) -> str:
    if init not in INITS:
        raise TableError("builder.error.init", value=_shown(init), choices=", ".join(INITS))
    return init  # type: ignore[return-value]


def _class_names(classes: object) -> tuple[str, ...]:
    if not isinstance(classes, (list, tuple)) or len(classes) > MAX_CLASSES or not all(
            isinstance(c, str) and 0 < len(c) <= MAX_CLASS_NAME for c in classes):
        raise TableError("builder.error.json_format", what="classes")
    return tuple(classes)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate key")
    return dict(pairs)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def table_from_json(data: bytes | str) -> TableFile:
    """Read a layer-table file made by `table_to_json`; anything else is refused with a `TableError`."""
    if len(data) > MAX_JSON_BYTES:
        raise TableError("builder.error.json_too_large", kb=MAX_JSON_BYTES // 1024)
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        doc = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise TableError("builder.error.json_invalid") from None
    if not isinstance(doc, dict) or doc.get("format") != TABLE_FORMAT:
        raise TableError("builder.error.json_format", what="format")
    if set(doc) - {"format", "input_shape", "init", "classes", "layers"}:
        raise TableError("builder.error.json_format", what=_shown(sorted(set(doc) - {"format"})[0]))
    layers = doc.get("layers")
    if not isinstance(layers, list):
        raise TableError("builder.error.json_format", what="layers")
    if len(layers) > MAX_ROWS:
        raise TableError("builder.error.too_many_rows", count=len(layers), limit=MAX_ROWS)
    if not isinstance(doc.get("input_shape"), list):
        raise TableError("builder.error.json_format", what="input_shape")
    shape = check_input_shape(doc["input_shape"])
    rows = []
    for index, row in enumerate(layers):
        try:
            rows.append(normalize_row(row))
        except TableError as error:
            raise TableError(error.key, row=index, **error.params) from None
    classes = doc.get("classes")
    return TableFile(rows, shape, _init(doc.get("init", "default")),
                     None if classes is None else _class_names(classes))
