"""Grade one exercise notebook: run it in a kernel, replay its definitions in a sandbox, judge.

The steps, and where each happens:

1. read the file and tell which exercise it is (grader);
2. run every cell in a fresh kernel with time limits (:mod:`~qnncourse.grading.kernel`);
3. take the definitions from the cells that ran to completion (:mod:`~qnncourse.grading.source`);
4. call the learner's functions on fresh random inputs in a fresh process
   (:mod:`~qnncourse.grading.sandbox`);
5. compute the references with the grader's own library and judge (grader,
   :func:`~qnncourse.grading.task.evaluate`).
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .kernel import CellResult, execute
from .sandbox import Call, CallReport, Sandbox, run_calls
from .source import Statement, cell_statements, definitions, forbidden_uses, needed
from .task import Task, Verdict, evaluate, failed, task_rng
from .tasks import EXERCISES

__all__ = ["Row", "grade_notebook", "identify_exercise", "kernel_environment"]


@dataclass(frozen=True)
class Row:
    """One line of the grade report."""

    notebook: str
    task: str
    score: float
    max_score: float
    message: str


def identify_exercise(path: Path, nb: nbformat.NotebookNode | None) -> str | None:
    """The exercise a file is an attempt at: from the notebook's metadata, else its name."""
    if nb is not None:
        meta = nb.get("metadata", {}).get("qnncourse", {})
        if isinstance(meta, dict) and meta.get("exercise") in EXERCISES:
            return meta["exercise"]
    for name in EXERCISES:
        if name in path.name:
            return name
    match = re.match(r"(\d\d)_", path.name)
    if match:
        for name in EXERCISES:
            if name.startswith(match.group(1) + "_"):
                return name
    return None


def kernel_environment() -> dict[str, str]:
    """Environment for kernels and sandboxes: they import the library the grader imported,
    from the same place, single-threaded and without a display."""
    import qnncourse

    root = str(Path(qnncourse.__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env.update(MPLBACKEND="Agg", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               PYDEVD_DISABLE_FILE_VALIDATION="1")
    return env


def _read(path: Path) -> tuple[nbformat.NotebookNode | None, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, "file not found"
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"could not read the file ({type(exc).__name__})"
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds for a bad file
        return None, f"not a Jupyter notebook ({type(exc).__name__}: {str(exc)[:120]})"
    if not isinstance(nb.get("cells"), list):
        return None, "not a Jupyter notebook (it has no list of cells)"
    return nb, ""


def grade_notebook(path: str | Path, *, seed: int, timeout: float = 60.0) -> list[Row]:
    """Grade one notebook; one :class:`Row` per task of its exercise, never an exception.

    ``timeout`` (seconds) bounds each cell in the kernel, the replay of the definitions and
    each task's calls in the sandbox; the whole kernel run is bounded by ``10 * timeout``.
    """
    name = str(path)
    try:
        return _grade(Path(path), name, seed, timeout)
    except Exception as exc:  # noqa: BLE001 - the report must go on for the other notebooks
        return [Row(name, "-", 0.0, 0.0, f"the grader could not grade this notebook "
                                         f"({type(exc).__name__}: {exc}); please report this")]


def _grade(path: Path, name: str, seed: int, timeout: float) -> list[Row]:
    nb, problem = _read(path)
    exercise = identify_exercise(path, nb)
    if exercise is None:
        why = problem or "its metadata and file name do not name one of " + \
            ", ".join(sorted(EXERCISES))
        return [Row(name, "-", 0.0, 0.0, f"cannot tell which exercise this is: {why}")]
    tasks = EXERCISES[exercise]
    if nb is None:
        return [Row(name, t.id, 0.0, t.points, problem) for t in tasks]
    env = kernel_environment()
    with tempfile.TemporaryDirectory(prefix="qnncourse-grade-") as work:
        # The sandbox imports the library while the kernel runs; it gets its job afterwards.
        with Sandbox(env=env, cwd=work) as sandbox:
            cells = execute(nb, timeout=timeout, budget=10 * timeout, cwd=work, env=env)
            verdicts = _judge_tasks(nb, cells, tasks, seed=seed, timeout=timeout, env=env,
                                    cwd=work, sandbox=sandbox)
    return [Row(name, v.task.id, v.score, v.task.points, v.message) for v in verdicts]


def _judge_tasks(nb, cells: list[CellResult], tasks: tuple[Task, ...], *, seed: int,
                 timeout: float, env: dict[str, str], cwd: str, sandbox: Sandbox
                 ) -> list[Verdict]:
    kept: list[Statement] = []
    everywhere: list[Statement] = []
    for result in cells:
        statements, _ = cell_statements(nb.cells[result.cell - 1].source, result.cell)
        everywhere += statements
        if result.status == "ok":
            kept += statements
    defined = definitions(kept)
    defined_anywhere = definitions(everywhere)
    by_cell = {r.cell: r for r in cells}

    verdicts: dict[str, Verdict] = {}
    calls, cases = [], {}
    for task in tasks:
        if task.function not in defined:
            verdicts[task.id] = failed(task, _why_missing(task, defined_anywhere, by_cell))
            continue
        used = forbidden_uses(kept, task.function, task.forbidden)
        if used:
            verdicts[task.id] = failed(task, f"{task.function} uses {', '.join(used)} from the "
                                             "library; the task is to write it yourself")
            continue
        cases[task.id] = task.cases(task_rng(task.id, seed))
        # a case's extra data goes to the runner; without one it stays here (it may be the
        # expected answer)
        inputs = [(c.args, c.extra if task.runner else ()) for c in cases[task.id]]
        calls.append(Call(task.id, task.function, inputs, task.runner))

    replay = needed(kept, [call.function for call in calls])
    load_errors, reports = run_calls([(s.cell, s.node) for s in replay], calls,
                                     timeout=timeout, env=env, cwd=cwd, started=sandbox)
    for task in tasks:
        if task.id in reports:
            verdicts[task.id] = _verdict(task, cases[task.id], reports[task.id], load_errors)
    return [verdicts[t.id] for t in tasks]


def _why_missing(task: Task, defined_anywhere: dict[str, Statement],
                 by_cell: dict[int, CellResult]) -> str:
    statement = defined_anywhere.get(task.function)
    if statement is None:
        return f"{task.function} is not defined in the notebook (the task calls {task.call})"
    result = by_cell[statement.cell]
    ending = f"raised {result.detail}" if result.status == "error" else result.detail
    return f"{task.function} is defined in cell {statement.cell}, which {ending}"


def _verdict(task: Task, cases, report: CallReport, load_errors: list[str]) -> Verdict:
    if report.status == "signature":
        return failed(task, f"{report.detail} cannot be called as {task.call}")
    if report.status != "ok":
        note = f" ({load_errors[0]})" if load_errors and report.status == "missing" else ""
        return failed(task, report.detail + note)
    verdict = evaluate(task, cases, report.outcomes)
    if not verdict.complete and load_errors and any(o.kind == "raised" for o in report.outcomes):
        return Verdict(task, verdict.passed, verdict.total,
                       f"{verdict.message} (note: {load_errors[0]})")
    return verdict
