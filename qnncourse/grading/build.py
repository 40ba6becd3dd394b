"""Refresh the exercise notebooks after editing a solution (a developer tool).

``python -m qnncourse.grading.build exercises/solutions/*.ipynb`` executes each solution
notebook in a fresh ``python3`` kernel, stores its outputs in place (these are what nbval
compares against in the tests), and writes the student version next to it
(:mod:`qnncourse.grading.student`). Run it whenever a solution notebook or the library changes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from .grader import kernel_environment
from .student import student_path, student_text

__all__ = ["build"]


def build(solution: str | Path, *, timeout: float = 300.0) -> float:
    """Execute ``solution`` in place and write its student version; return the seconds taken."""
    path = Path(solution)
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(nb, kernel_name="python3", timeout=int(timeout), record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=kernel_environment(), stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    nbformat.write(nb, path)
    student_path(path).write_text(student_text(path), encoding="utf-8")
    return seconds


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qnncourse.grading.build",
                                     description="Execute solution notebooks, store their "
                                                 "outputs, and write the student versions.")
    parser.add_argument("solutions", nargs="+", metavar="SOLUTION")
    args = parser.parse_args(argv)
    for solution in args.solutions:
        seconds = build(solution)
        print(f"{solution}: executed in {seconds:.1f} s; wrote {student_path(solution)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
