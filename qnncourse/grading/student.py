"""Make the student version of a solution notebook.

``python -m qnncourse.grading.student exercises/solutions/*.ipynb`` writes, for each
``exercises/solutions/NN_topic.ipynb``, the student notebook ``exercises/NN_topic.ipynb``:

* in code cells, every region between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (the
  nbgrader convention) becomes ``# YOUR CODE HERE`` and ``raise NotImplementedError()`` at the
  region's indentation -- so solution regions belong inside function bodies, and the student
  notebook still runs from top to bottom (its check cells report "not implemented yet");
* in Markdown cells, such a region becomes ``YOUR ANSWER HERE``;
* outputs and execution counts are removed.

``--check`` writes nothing and exits with status 1 if a committed student version differs from
what would be generated (the tests do the same).
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat

__all__ = ["student_path", "student_text", "student_version"]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"


def _strip_regions(source: str, cell: int, code: bool) -> str:
    out: list[str] = []
    inside = False
    for number, line in enumerate(source.splitlines(), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise ValueError(f"cell {cell}, line {number}: {BEGIN} inside another region")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            if code:
                out += [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError()"]
            else:
                out.append(f"{indent}YOUR ANSWER HERE")
        elif marker == END:
            if not inside:
                raise ValueError(f"cell {cell}, line {number}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"cell {cell}: {BEGIN} is never closed by {END}")
    return "\n".join(out)


def student_version(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student notebook for ``solution`` (which is not modified)."""
    nb = copy.deepcopy(solution)
    for index, cell in enumerate(nb.cells, start=1):
        if cell.cell_type in ("code", "markdown"):
            cell.source = _strip_regions(cell.source, index, cell.cell_type == "code")
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
    return nb


def student_text(solution_path: str | Path) -> str:
    """The file content of the student version of the notebook at ``solution_path``."""
    solution = nbformat.read(solution_path, as_version=4)
    return nbformat.writes(student_version(solution)) + "\n"


def student_path(solution_path: str | Path) -> Path:
    """``exercises/solutions/NN_topic.ipynb`` -> ``exercises/NN_topic.ipynb``."""
    path = Path(solution_path)
    return path.parent.parent / path.name


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qnncourse.grading.student",
                                     description="Write the student versions of solution "
                                                 "notebooks (exercises/solutions/X -> "
                                                 "exercises/X).")
    parser.add_argument("solutions", nargs="+", metavar="SOLUTION")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; fail if a student version is out of date")
    args = parser.parse_args(argv)
    stale = []
    for solution in args.solutions:
        try:
            text = student_text(solution)
        except (OSError, ValueError) as exc:
            print(f"{solution}: {exc}", file=sys.stderr)
            return 2
        target = student_path(solution)
        if args.check:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                stale.append(str(target))
        else:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target}")
    if stale:
        print("out of date (run python -m qnncourse.grading.student exercises/solutions/"
              "*.ipynb): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
