"""A network summary as CSV, Markdown or LaTeX (headers come translated from the page)."""

from __future__ import annotations

import csv
import io
from typing import Sequence

from explorer.shapes.network import Row, totals
from explorer.shapes.sizes import shape_text

COLUMNS = ("name", "kind", "output_shape", "params", "macs", "receptive_field")


def _cell(row: Row, column: str) -> str:
    value = getattr(row, column)
    if value is None:
        return ""
    if column == "output_shape":
        return shape_text(value)
    return str(value)


def table(rows: Sequence[Row], *, total_label: str = "total") -> list[list[str]]:
    """The summary as text cells, with a final totals line."""
    body = [[_cell(r, c) for c in COLUMNS] for r in rows if r.error_key is None]
    t = totals(rows)
    return body + [[total_label, "", "", str(t["params"]), str(t["macs"]), ""]]


def to_csv(rows: Sequence[Row], *, headers: Sequence[str], total_label: str = "total") -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(table(rows, total_label=total_label))
    return out.getvalue()


def to_markdown(rows: Sequence[Row], *, headers: Sequence[str], total_label: str = "total") -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    lines = [line(headers), "|" + "|".join(["---", "---", "---", "---:", "---:", "---:"]) + "|"]
    return "\n".join(lines + [line(cells) for cells in table(rows, total_label=total_label)]) + "\n"


_LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                  "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}",
                  "×": r"$\times$"}


def _latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def to_latex(rows: Sequence[Row], *, headers: Sequence[str], total_label: str = "total") -> str:
    cells = table(rows, total_label=total_label)
    body = [" & ".join(_latex_escape(c) for c in r) + r" \\" for r in cells]
    return "\n".join([
        r"\begin{tabular}{lllrrr}", r"\hline",
        " & ".join(_latex_escape(h) for h in headers) + r" \\", r"\hline",
        *body[:-1], r"\hline", body[-1], r"\hline", r"\end{tabular}",
    ]) + "\n"
