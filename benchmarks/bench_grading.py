"""Time the grader: seconds per notebook for every solution and student notebook.

Run: ``.venv/bin/python benchmarks/bench_grading.py [--timeout S]``. For each notebook it
prints the wall-clock seconds of :func:`qnncourse.grading.grader.grade_notebook` (a kernel
start, the notebook's own cells, one sandbox) with the score, and the process's CPU seconds
(grader and children) over the whole run. Solutions must score full marks, student versions
zero; the issue asks for the grading time per notebook.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from qnncourse.grading.grader import grade_notebook
from qnncourse.grading.student import student_path

ROOT = Path(__file__).resolve().parents[1]


def _cpu_seconds() -> float:
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                           resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    solutions = sorted((ROOT / "exercises" / "solutions").glob("*.ipynb"))
    notebooks = solutions + [student_path(s) for s in solutions]
    cpu0, wall = _cpu_seconds(), []
    for notebook in notebooks:
        start = time.perf_counter()
        rows = grade_notebook(notebook, seed=1, timeout=args.timeout)
        wall.append(time.perf_counter() - start)
        score, best = sum(r.score for r in rows), sum(r.max_score for r in rows)
        print(f"{notebook.relative_to(ROOT)!s:46} {wall[-1]:5.1f} s   {score:g}/{best:g}")
    print(f"mean {sum(wall) / len(wall):.1f} s wall per notebook; "
          f"{(_cpu_seconds() - cpu0) / len(notebooks):.1f} s CPU per notebook "
          f"(grader, kernels and sandboxes)")


if __name__ == "__main__":
    main()
