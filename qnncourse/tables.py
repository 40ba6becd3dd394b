"""Tables of results, shown as tables: HTML on the site, LaTeX in the PDF, aligned text elsewhere.

A chapter that prints a table with ``print`` gets one long string that wraps inside the narrow
output box of the site. ``Table(columns, rows)`` as the last expression of a cell is shown as a
real table instead (IPython picks the richest form the page can show).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["Table"]

Format = str | Callable[[Any], str]
# LaTeX's special characters as text (myst-nb typesets text/latex output in a math block, where
# a bare ^ or _ inside the tabular's text cells stops the PDF build).
_TEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                "_": r"\_", "{": r"\{", "}": r"\}", "^": r"\textasciicircum{}",
                "~": r"\textasciitilde{}"}


class Table:
    """A titled table of results.

    Parameters
    ----------
    columns : sequence of str
        The column headings.
    rows : sequence of sequences
        One sequence per row, as many cells as ``columns``.
    formats : dict, optional
        Column heading -> format spec (``".3f"``) or a callable returning the cell's text; the
        other cells are shown as ``str(cell)``.
    title : str, optional
        Shown above the table (as its caption on the site).

    Examples
    --------
    >>> t = Table(["M", "gap"], [(1, 0.5), (2, 0.25)], formats={"gap": ".2f"})
    >>> print(repr(t))
    M  gap
    1  0.50
    2  0.25
    """

    def __init__(self, columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
                 formats: dict[str, Format] | None = None, title: str | None = None) -> None:
        self.columns = [str(c) for c in columns]
        formats = dict(formats or {})
        unknown = set(formats) - set(self.columns)
        if unknown:
            raise ValueError(f"formats name columns that do not exist: {sorted(unknown)}")
        self.rows = []
        for i, row in enumerate(rows):
            row = list(row)
            if len(row) != len(self.columns):
                raise ValueError(f"row {i} has {len(row)} cells, the table has "
                                 f"{len(self.columns)} columns")
            self.rows.append([_cell(v, formats.get(c))
                              for c, v in zip(self.columns, row, strict=True)])
        self.title = title

    def _repr_html_(self) -> str:
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                       for row in self.rows)
        return (f'<table class="qnn-table">{caption}<thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>")

    def _repr_latex_(self) -> str:
        def tex(cell: str) -> str:
            return "".join(_TEX_ESCAPES.get(char, char) for char in cell)

        spec = "l" * len(self.columns)
        lines = [" & ".join(tex(c) for c in self.columns) + r" \\ \hline"]
        lines += [" & ".join(tex(c) for c in row) + r" \\" for row in self.rows]
        title = f"\\textbf{{{tex(self.title)}}}\\par\n" if self.title else ""
        return (title + "\\begin{tabular}{" + spec + "}\n" + "\n".join(lines)
                + "\n\\end{tabular}")

    def __repr__(self) -> str:
        widths = [max(len(r[i]) for r in [self.columns, *self.rows])
                  for i in range(len(self.columns))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                 for row in [self.columns, *self.rows]]
        return "\n".join(([self.title] if self.title else []) + lines)


def _cell(value: Any, fmt: Format | None) -> str:
    if fmt is None:
        return str(value)
    if callable(fmt):
        return str(fmt(value))
    return format(value, fmt)
