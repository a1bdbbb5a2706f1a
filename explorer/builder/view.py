"""What the builder page shows, without Streamlit: the layer table as editor rows and back, the checked
table as a summary in the user's language, and the session's runs side by side.

The editor has one "size" column for what a kind's size is (conv filters, linear outputs) and leaves
the fields a kind does not use blank; `table_from_records` keeps only the fields each kind uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from explorer.builder.table import FIELDS, TableCheck
from explorer.core.i18n import translate

EDITOR_COLUMNS = ("kind", "size", "kernel", "stride", "padding", "p", "init")  # builder.col.<name>
SIZE_FIELD = {"conv": "out_channels", "linear": "out_features"}
MAX_RUNS = 4  # runs kept for comparison (the oldest goes first)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or (isinstance(value, str)
                                                                                 and not value.strip())


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "×".join(str(v) for v in value)
    return "" if value is None else str(value)


def editor_records(layers: Sequence[Mapping]) -> list[dict[str, Any]]:
    """Rows for the editor: every column, blank where a kind has no such field."""
    records = []
    for row in layers:
        kind = row.get("kind", "")
        size = row.get(SIZE_FIELD.get(kind, ""), None)
        fields = FIELDS.get(kind, ())
        records.append({"kind": kind, "size": size,
                        **{name: _text(row.get(name)) if name in fields else "" for name in ("kernel", "stride",
                                                                                             "padding")},
                        "p": row.get("p") if "p" in fields else None,
                        "init": row.get("init", "default") if kind in SIZE_FIELD else None})
    return records


def _typed(value: Any) -> Any:
    """An editor cell as the table wants it: "3" -> 3, "3×5" -> [3, 5], "same" stays, else as typed."""
    if isinstance(value, str):
        parts = [p.strip() for p in value.replace("x", "×").replace("*", "×").replace(",", "×").split("×")]
        if all(p.lstrip("-").isdigit() for p in parts) and len(parts) in (1, 2):
            numbers = [int(p) for p in parts]
            return numbers[0] if len(numbers) == 1 else numbers
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def table_from_records(records: Sequence[Mapping[str, Any]]) -> list[dict]:
    """Editor rows back into a table: only the fields each kind uses, blanks left out (defaults apply).
    Values are passed on as typed, so `explorer.builder.check_layers` names a bad one in its row."""
    table = []
    for record in records:
        kind = record.get("kind")
        if _blank(kind):
            continue  # a new row whose kind is not chosen yet
        row: dict[str, Any] = {"kind": kind}
        fields = FIELDS.get(kind, ())
        if kind in SIZE_FIELD and not _blank(record.get("size")):
            row[SIZE_FIELD[kind]] = _typed(record.get("size"))
        elif kind in SIZE_FIELD:
            row[SIZE_FIELD[kind]] = None  # missing: the check says so for this row
        for name in ("kernel", "stride", "padding", "p"):
            if name in fields and not _blank(record.get(name)):
                row[name] = _typed(record.get(name))
        if kind in ("conv", "maxpool", "avgpool") and "kernel" not in row:
            row["kernel"] = None
        if kind in SIZE_FIELD and not _blank(record.get("init")) and record.get("init") != "default":
            row["init"] = record.get("init")
        table.append(row)
    return table


def shape_text(shape: Sequence[int] | None) -> str:
    return "×".join(str(s) for s in shape) if shape else "⚠"


def summary_records(check: TableCheck, *, lang: str) -> list[dict[str, Any]]:
    """The checked table for display: one dict per row keyed by translated column titles."""
    titles = [translate(f"builder.col.{c}", lang) for c in ("row", "kind", "output", "params", "macs", "rf")]
    return [dict(zip(titles, (r.index + 1, translate(f"builder.kind.{r.kind}", lang), shape_text(r.output_shape),
                              r.params, r.macs, r.receptive_field)))
            for r in check.rows]


def problem_messages(check: TableCheck, *, lang: str) -> list[str]:
    """Every problem of the table in ``lang``; a row's problem says which row."""
    messages = []
    for p in check.problems:
        reason = translate(p.key, lang, **p.params)
        messages.append(reason if p.row is None else translate("builder.error.at_row", lang, row=p.row + 1,
                                                               reason=reason))
    return messages


def weighted_rows(layers: Sequence[Mapping]) -> list[int]:
    """Indices of the rows with weights (conv, linear), in order: the columns of a run's gradient norms."""
    return [i for i, row in enumerate(layers) if row.get("kind") in SIZE_FIELD]


@dataclass(frozen=True)
class RunRecord:
    """One finished (or stopped) run, kept for comparison."""

    label: str  # what made it different: preset / changes, written by the page
    layers: tuple[dict, ...]
    params: int
    epochs: int  # completed
    test_accuracy: tuple[float, ...]  # per epoch
    train_loss: tuple[float, ...]  # per epoch
    seconds: float  # training time
    grad_norms: tuple[float, ...]  # per weighted layer: the geometric mean over the run's steps

    @property
    def accuracy(self) -> float | None:
        return self.test_accuracy[-1] if self.test_accuracy else None


def mean_grad_norms(per_step: Sequence[Sequence[float]]) -> tuple[float, ...]:
    """Per layer, the geometric mean of its weight-gradient norm over the steps (norms span decades)."""
    if not per_step:
        return ()
    layers = len(per_step[0])
    return tuple(math.exp(sum(math.log(max(step[i], 1e-30)) for step in per_step) / len(per_step))
                 for i in range(layers))


def keep(runs: Sequence[RunRecord], record: RunRecord) -> list[RunRecord]:
    """The runs to compare with ``record`` added (the oldest dropped beyond `MAX_RUNS`)."""
    return [*runs, record][-MAX_RUNS:]


def runs_table(runs: Sequence[RunRecord], *, lang: str) -> list[dict[str, Any]]:
    """The runs side by side: label, accuracy, epochs, time, parameters."""
    titles = [translate(f"builder.run.{c}", lang) for c in ("label", "accuracy", "epochs", "seconds", "params")]
    return [dict(zip(titles, (r.label, "—" if r.accuracy is None else f"{r.accuracy:.1%}", r.epochs,
                              f"{r.seconds:.0f}", r.params))) for r in runs]
