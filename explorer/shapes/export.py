"""A network summary as CSV, Markdown or LaTeX (headers and layer-type names come translated from the page).

CSV is UTF-8 with a byte-order mark: Excel (Korean Windows included) reads it as UTF-8 only then.
"""

from __future__ import annotations

import csv
import io
from typing import Callable, Sequence

from explorer.shapes.network import Row, totals
from explorer.shapes.sizes import shape_text

COLUMNS = ("name", "kind", "output_shape", "params", "macs", "receptive_field")


KindName = Callable[[str], str]  # layer kind id ("conv") -> the name shown ("합성곱")


def _cell(row: Row, column: str, kind_name: KindName) -> str:
    value = getattr(row, column)
    if value is None:
        return ""
    if column == "output_shape":
        return shape_text(value)
    if column == "kind":
        return kind_name(value)
    return str(value)


def table(rows: Sequence[Row], *, total_label: str = "total", kind_name: KindName = str) -> list[list[str]]:
    """The summary as text cells, with a final totals line."""
    body = [[_cell(r, c, kind_name) for c in COLUMNS] for r in rows if r.error_key is None]
    t = totals(rows)
    return body + [[total_label, "", "", str(t["params"]), str(t["macs"]), ""]]


def to_csv(rows: Sequence[Row], *, headers: Sequence[str], total_label: str = "total",
           kind_name: KindName = str) -> bytes:
    """The table as CSV bytes: UTF-8 with BOM, so spreadsheet programs detect the encoding."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(table(rows, total_label=total_label, kind_name=kind_name))
    return out.getvalue().encode("utf-8-sig")


def to_markdown(rows: Sequence[Row], *, headers: Sequence[str], total_label: str = "total",
                kind_name: KindName = str) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    lines = [line(headers), "|" + "|".join(["---", "---", "---", "---:", "---:", "---:"]) + "|"]
    body = table(rows, total_label=total_label, kind_name=kind_name)
    return "\n".join(lines + [line(cells) for cells in body]) + "\n"


_LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                  "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}",
                  "×": r"$\times$"}


def _latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def to_latex(rows: Sequence[Row], *, headers: Sequence[str], total_label: str = "total",
             kind_name: KindName = str) -> str:
    cells = table(rows, total_label=total_label, kind_name=kind_name)
    body = [" & ".join(_latex_escape(c) for c in r) + r" \\" for r in cells]
    return "\n".join([
        r"\begin{tabular}{lllrrr}", r"\hline",
        " & ".join(_latex_escape(h) for h in headers) + r" \\", r"\hline",
        *body[:-1], r"\hline", body[-1], r"\hline", r"\end{tabular}",
    ]) + "\n"
