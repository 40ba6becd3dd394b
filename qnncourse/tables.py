"""Tables of results, shown as tables: HTML on the site, LaTeX in the PDF, aligned text elsewhere.

A chapter that prints a table with ``print`` gets one long string that wraps inside the narrow
output box of the site. ``Table(columns, rows)`` as the last expression of a cell is shown as a
real table instead (IPython picks the richest form the page can show).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

__all__ = ["Table"]


class Table:
    """A table of already formatted cells.

    Parameters
    ----------
    columns : sequence of str
        The column headings.
    rows : sequence of sequences
        One sequence per row, as many cells as ``columns``; each cell is shown as ``str(cell)``
        (format numbers before, e.g. ``f"{x:.3g}"``).
    """

    def __init__(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self.columns = [str(c) for c in columns]
        self.rows = [[str(cell) for cell in row] for row in rows]
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(f"row {i} has {len(row)} cells, the table has "
                                 f"{len(self.columns)} columns")

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                       for row in self.rows)
        return (f'<table class="qnn-table"><thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>")

    def _repr_latex_(self) -> str:
        def tex(cell: str) -> str:
            for char in "\\&%$#_{}":
                cell = cell.replace(char, "\\" + char if char != "\\" else r"\textbackslash{}")
            return cell

        spec = "l" * len(self.columns)
        lines = [" & ".join(tex(c) for c in self.columns) + r" \\ \hline"]
        lines += [" & ".join(tex(c) for c in row) + r" \\" for row in self.rows]
        return "\\begin{tabular}{" + spec + "}\n" + "\n".join(lines) + "\n\\end{tabular}"

    def __repr__(self) -> str:
        widths = [max(len(r[i]) for r in [self.columns, *self.rows])
                  for i in range(len(self.columns))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                 for row in [self.columns, *self.rows]]
        return "\n".join(lines)
