"""Grade exercise notebooks: ``python -m qnncourse.grade NOTEBOOK... [--json] [--csv FILE]``.

Each notebook runs in its own kernel; the learner's functions are then called on fresh random
inputs in a separate sandbox process and judged against the library in this process (see
:mod:`qnncourse.grading` for why). Prints a table (or, with ``--json``, a JSON list of rows
``{notebook, task, score, max_score, message}``); ``--csv FILE`` writes a gradebook with one
line per notebook. The exit status is 0 whenever grading ran, whatever the notebooks contain.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import secrets
import sys
import time
import warnings
from collections.abc import Sequence

__all__ = ["main"]


def _table(rows) -> str:
    header = ("notebook", "task", "points", "message")
    lines = [(r.notebook, r.task, f"{r.score:g}/{r.max_score:g}", r.message) for r in rows]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header[:3])]
    out = []
    for line in [header, *lines]:
        out.append("  ".join(c.ljust(w) for c, w in zip(line[:3], widths, strict=True))
                   + "  " + line[3])
    return "\n".join(out)


def _write_gradebook(path: str, rows) -> None:
    tasks = list(dict.fromkeys(r.task for r in rows if r.task != "-"))
    books: dict[str, dict] = {}
    for r in rows:
        book = books.setdefault(r.notebook, {"notebook": r.notebook, "total": 0.0, "max": 0.0})
        if r.task != "-":
            book[r.task] = r.score
        book["total"] = round(book["total"] + r.score, 2)
        book["max"] = round(book["max"] + r.max_score, 2)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["notebook", *tasks, "total", "max"])
        writer.writeheader()
        writer.writerows(books.values())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m qnncourse.grade",
        description="Grade qnncourse exercise notebooks against the library's references.")
    parser.add_argument("notebooks", nargs="+", metavar="NOTEBOOK")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--csv", metavar="FILE", help="write a gradebook (one line a notebook)")
    parser.add_argument("--timeout", type=float, default=60.0, metavar="S",
                        help="seconds allowed for each cell and each task (default 60)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the random inputs (default: a fresh one, printed)")
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        parser.error(f"--timeout must be positive, got {args.timeout:g}")
    if args.seed is not None and args.seed < 0:
        parser.error(f"--seed must be a non-negative integer, got {args.seed}")
    seed = args.seed if args.seed is not None else secrets.randbits(32)

    warnings.simplefilter("ignore")  # library warnings are not the report
    from .grading.grader import grade_notebook

    rows = []
    try:
        for notebook in dict.fromkeys(args.notebooks):  # each file once
            start = time.perf_counter()
            rows += grade_notebook(notebook, seed=seed, timeout=args.timeout)
            print(f"graded {notebook} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps([dataclasses.asdict(r) for r in rows], indent=1))
        print(f"random inputs from seed {seed}", file=sys.stderr)
    else:
        print(_table(rows))
        print(f"(random inputs from seed {seed})")
    if args.csv:
        _write_gradebook(args.csv, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
