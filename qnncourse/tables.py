"""Small tables for the book: shown as HTML in notebooks and on the site, as text elsewhere.

The chapters print results that are tables (one row per depth, per regime, per step size).
Wide ``print`` output wraps and scrolls on the page; :class:`Table` renders through Jupyter's
rich display (``_repr_html_``), so the page shows a real table, and falls back to aligned text
in a terminal. No pandas needed.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["Table", "table"]


class Table:
    """A titled table of rows, rendered as HTML in notebooks and as text in ``repr``.

    Parameters
    ----------
    rows : sequence of sequences
        One sequence per row, as many entries as ``columns``.
    columns : sequence of str
    formats : dict, optional
        Column name -> format spec (``".3f"``) or callable returning a string; other cells
        are shown with ``str``.
    title : str, optional

    Examples
    --------
    >>> t = Table([(1, 0.5), (2, 0.25)], ["M", "gap"], formats={"gap": ".2f"})
    >>> print(repr(t))
    M   gap
    1  0.50
    2  0.25
    """

    def __init__(self, rows: Sequence[Sequence[Any]], columns: Sequence[str],
                 formats: dict[str, str | Callable[[Any], str]] | None = None,
                 title: str | None = None) -> None:
        self.columns = [str(c) for c in columns]
        formats = dict(formats or {})
        unknown = set(formats) - set(self.columns)
        if unknown:
            raise ValueError(f"formats name columns that do not exist: {sorted(unknown)}")
        self.rows = []
        for k, row in enumerate(rows):
            row = list(row)
            if len(row) != len(self.columns):
                raise ValueError(f"row {k} has {len(row)} entries, the table has "
                                 f"{len(self.columns)} columns")
            self.rows.append([_cell(v, formats.get(c)) for c, v in zip(self.columns, row,
                                                                        strict=True)])
        self.title = title

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>"
                       for row in self.rows)
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        widths = [max(len(c), *(len(r[j]) for r in self.rows)) if self.rows else len(c)
                  for j, c in enumerate(self.columns)]
        lines = ["  ".join(c.rjust(w) for c, w in zip(self.columns, widths, strict=True))]
        lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True))
                  for r in self.rows]
        return "\n".join(([self.title] if self.title else []) + [ln.rstrip() for ln in lines])


def _cell(value: Any, fmt: str | Callable[[Any], str] | None) -> str:
    if fmt is None:
        return str(value)
    if callable(fmt):
        return str(fmt(value))
    return format(value, fmt)


def table(rows: Sequence[Sequence[Any]], columns: Sequence[str],
          formats: dict[str, str | Callable[[Any], str]] | None = None,
          title: str | None = None) -> Table:
    """Build a :class:`Table` (see there); the last expression of a cell displays it."""
    return Table(rows, columns, formats, title)
