"""Time the grader: seconds per notebook for every solution and student notebook, with and
without the bubblewrap sandbox.

Run: ``.venv/bin/python benchmarks/bench_grading.py [NOTEBOOK...] [--timeout S]
[--only sandboxed|plain] [--against CHECKOUT]`` (default: every solution and student
notebook). ``--against`` also times the grader of another checkout of the repository
(``mkdir /tmp/before; git archive HEAD~3 | tar -x -C /tmp/before``), sandboxed, side by side:
each grading then runs in a fresh interpreter (timed inside it, imports excluded), the modes
alternating, so a busy machine slows all alike; this is how a change to the grader is held to
"within 1.5x of before".
For each notebook it prints the wall-clock seconds of
:func:`qnncourse.grading.grader.grade_notebook` (a kernel start, the notebook's own cells, one
grading sandbox) in its sandbox and as plain processes (``--no-isolation``; the two alternate,
so a busy machine slows both alike), their ratio and the score, then the means. (No CPU
seconds: processes killed inside a PID namespace are never waited for by the grader, so
``getrusage`` does not count them.) Solutions must score full marks, student versions
zero; the issue asks for the grading time per notebook, sandboxed, within 1.5x of the grader
without sandboxes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from qnncourse.grading.grader import grade_notebook
from qnncourse.grading.isolation import problem
from qnncourse.grading.student import student_path

ROOT = Path(__file__).resolve().parents[1]


_TIMED = """\
import sys, time
from qnncourse.grading.grader import grade_notebook
start = time.perf_counter()
rows = grade_notebook(sys.argv[1], seed=1, timeout=float(sys.argv[2]), isolated=sys.argv[3] == "1")
print(time.perf_counter() - start, sum(r.score for r in rows), sum(r.max_score for r in rows))
"""


def _in_process(notebook: Path, timeout: float, isolated: bool, root: Path | None
                ) -> tuple[float, str]:
    """Seconds and score of one grading: here, or (``root``) in a fresh interpreter that
    imports the grader from the checkout ``root``."""
    if root is None:
        start = time.perf_counter()
        rows = grade_notebook(notebook, seed=1, timeout=timeout, isolated=isolated)
        score = f"{sum(r.score for r in rows):g}/{sum(r.max_score for r in rows):g}"
        return time.perf_counter() - start, score
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", _TIMED, str(notebook), str(timeout),
                           "1" if isolated else "0"], cwd=root, env=env, capture_output=True,
                          text=True, check=True)
    seconds, score, top = done.stdout.split()[-3:]
    return float(seconds), f"{float(score):g}/{float(top):g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--only", choices=("sandboxed", "plain"))
    parser.add_argument("--against", type=Path, metavar="CHECKOUT",
                        help="also time this checkout's grader (sandboxed), side by side")
    args = parser.parse_args()
    modes = {"sandboxed": True, "plain": False}
    if args.only:
        modes = {args.only: modes[args.only]}
    roots: dict[str, Path | None] = dict.fromkeys(modes)
    if args.against:
        modes = {"sandboxed": True, "before": True}
        roots = {"sandboxed": ROOT, "before": args.against.resolve()}
    if "sandboxed" in modes and problem() is not None:
        raise SystemExit(f"no sandbox here: {problem()}; run with --only plain")
    solutions = sorted((ROOT / "exercises" / "solutions").glob("*.ipynb"))
    notebooks = [p.resolve() for p in args.notebooks] or \
        solutions + [student_path(s) for s in solutions]
    wall: dict[str, list[float]] = {mode: [] for mode in modes}
    print(f"{'notebook':46} " + " ".join(f"{m:>10}" for m in modes)
          + ("   ratio" if len(modes) == 2 else "") + "   score")
    for i, notebook in enumerate(notebooks):
        order = list(modes) if i % 2 == 0 else list(reversed(modes))
        scores = {}
        for mode in order:
            seconds, scores[mode] = _in_process(notebook, args.timeout, modes[mode],
                                                roots[mode])
            wall[mode].append(seconds)
        line = f"{notebook.relative_to(ROOT)!s:46} " + " ".join(
            f"{wall[m][-1]:8.1f} s" for m in modes)
        if len(modes) == 2:
            other = list(modes)[1]
            line += f"   {wall['sandboxed'][-1] / wall[other][-1]:5.2f}"
        print(line + "   " + " ".join(dict.fromkeys(scores.values())))
    means = {m: sum(w) / len(w) for m, w in wall.items()}
    summary = "; ".join(f"{m} {means[m]:.1f} s" for m in modes)
    if len(modes) == 2:
        other = list(modes)[1]
        summary += f"; ratio of means (sandboxed / {other}) {means['sandboxed'] / means[other]:.2f}"
    print(f"mean wall per notebook: {summary}")


if __name__ == "__main__":
    main()
