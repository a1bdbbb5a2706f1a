"""Network tables as CSV, Markdown and LaTeX."""

import csv
import io

from explorer.shapes import export as shapes_export
from explorer.shapes import network

HEADERS = ["layer", "type", "output", "parameters", "MACs", "receptive field"]


def test_csv_has_one_line_per_layer_and_the_totals():
    rows = network.summarize("seed_mnist_cnn")
    data = shapes_export.to_csv(rows, headers=HEADERS, total_label="합계")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == HEADERS and len(table) == len(rows) + 2
    assert table[1] == ["conv1", "conv", "32×28×28", "320", "225792", "3"]
    assert table[-1][0] == "합계" and table[-1][3] == "50186"


def test_csv_is_utf8_with_a_bom_and_writes_translated_layer_types():
    """Excel (Korean Windows too) reads a CSV as UTF-8 only with the BOM; ids like "conv" are not for people."""
    rows = network.summarize("seed_mnist_cnn")
    data = shapes_export.to_csv(rows, headers=HEADERS, kind_name={"conv": "합성곱"}.get)
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").splitlines()[1].startswith("conv1,합성곱,")


def test_markdown_and_latex():
    rows = network.summarize("lenet5")
    md = shapes_export.to_markdown(rows, headers=HEADERS)
    assert md.count("\n") == len(rows) + 3 and "| C1 | conv | 6×28×28 | 156 |" in md
    tex = shapes_export.to_latex(rows, headers=HEADERS)
    assert tex.startswith("\\begin{tabular}") and "6$\\times$28$\\times$28" in tex and "61706" in tex


def test_a_flagged_row_is_left_out_of_the_export():
    rows = network.summarize([network.conv(4, 3), network.conv(4, 9)], (1, 6, 6), strict=False)
    assert rows[-1].error_key
    assert len(shapes_export.table(rows)) == 2  # one good layer + totals
