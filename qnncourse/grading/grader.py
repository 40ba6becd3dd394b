"""Grade one exercise notebook: run it in a kernel, replay its definitions in a sandbox, judge.

The steps, and where each happens:

1. the submission has been read into memory (:func:`read_submission`, by the grader before
   any notebook's code ran); tell which exercise it is (grader);
2. run every cell in a fresh kernel with time limits, inside the notebook's own bubblewrap
   sandbox (:mod:`~qnncourse.grading.kernel`, :mod:`~qnncourse.grading.isolation`);
3. take the definitions from the cells that ran to completion (:mod:`~qnncourse.grading.source`);
4. call the learner's functions on fresh random inputs in a fresh sandboxed process
   (:mod:`~qnncourse.grading.sandbox`);
5. compute the references with the grader's own library and judge (grader,
   :func:`~qnncourse.grading.task.evaluate`).

:func:`grade_submission` does it for one submission and is what ``--jobs`` threads and dask
workers run: its arguments and result are plain picklable data.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

import qnncourse

from .isolation import Jail, Limits, Stopped
from .kernel import CellResult, execute
from .sandbox import Call, CallReport, Sandbox, run_calls
from .source import Statement, cell_statements, definitions, forbidden_uses, needed
from .task import Task, Verdict, evaluate, failed, task_rng
from .tasks import EXERCISES

__all__ = ["Report", "Row", "Settings", "Submission", "grade_notebook", "grade_submission",
           "identify_exercise", "kernel_environment", "read_submission"]

_MEMORY_BYTES = 6 * 2**30  # address space per sandboxed process (never above the hard limit)


@dataclass(frozen=True)
class Row:
    """One line of the grade report."""

    notebook: str
    task: str
    score: float
    max_score: float
    message: str


@dataclass(frozen=True)
class Submission:
    """A notebook as the grader read it, once, before any notebook's code ran: its ``name``
    (as given to the grader) and its bytes, or ``problem`` (why it could not be read)."""

    name: str
    data: bytes | None
    problem: str = ""


@dataclass(frozen=True)
class Settings:
    """How a grading run grades: the ``seed`` of the random inputs, the ``timeout`` per cell
    and per task (seconds), whether each notebook runs ``isolated`` in a bubblewrap sandbox,
    and the grader-side paths no sandbox may show (``hidden``)."""

    seed: int
    timeout: float = 60.0
    isolated: bool = True
    hidden: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    """The grade of one notebook: its ``rows`` (one per task), the ``exercise`` it was graded
    as, a ``note`` for the instructor (e.g. its file name names another exercise), and whether
    the grader itself ``failed`` on it."""

    notebook: str
    exercise: str | None
    rows: tuple[Row, ...]
    note: str = ""
    failed: bool = False

    @property
    def score(self) -> float:
        return round(sum(r.score for r in self.rows), 2)

    @property
    def max_score(self) -> float:
        return round(sum(r.max_score for r in self.rows), 2)


def kernel_environment() -> dict[str, str]:
    """Environment for trusted kernels (the authors' :mod:`~qnncourse.grading.build`): the
    grader's own, importing the library the grader imported, single-threaded, no display."""
    root = str(Path(qnncourse.__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env.update(MPLBACKEND="Agg", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               PYDEVD_DISABLE_FILE_VALIDATION="1")
    return env


def read_submission(path: str | Path) -> Submission:
    """Read a submission into memory (never raises: an unreadable file is a ``problem``)."""
    try:
        return Submission(str(path), Path(path).read_bytes())
    except FileNotFoundError:
        return Submission(str(path), None, "file not found")
    except OSError as exc:
        return Submission(str(path), None, f"could not read the file ({type(exc).__name__})")


def _by_name(name: str) -> str | None:
    base = Path(name).name
    for exercise in EXERCISES:
        if exercise in base:
            return exercise
    match = re.match(r"(\d\d)_", base)
    if match:
        for exercise in EXERCISES:
            if exercise.startswith(match.group(1) + "_"):
                return exercise
    return None


def identify_exercise(path: str | Path, nb: nbformat.NotebookNode | None
                      ) -> tuple[str | None, str]:
    """The exercise a file is an attempt at -- from the notebook's metadata, else its name --
    and a note when the two disagree (the metadata wins: a file name is easily changed)."""
    by_name = _by_name(str(path))
    if nb is not None:
        meta = nb.get("metadata", {}).get("qnncourse", {})
        if isinstance(meta, dict) and meta.get("exercise") in EXERCISES:
            exercise = meta["exercise"]
            if by_name is not None and by_name != exercise:
                return exercise, (f"graded as {exercise}, which its metadata names; its file "
                                  f"name suggests {by_name}")
            return exercise, ""
    return by_name, ""


def _parse(data: bytes) -> tuple[nbformat.NotebookNode | None, str]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, "could not read the file (UnicodeDecodeError)"
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds for a bad file
        return None, f"not a Jupyter notebook ({type(exc).__name__}: {str(exc)[:120]})"
    cells = nb.get("cells")
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        return None, "not a Jupyter notebook (it has no list of cells)"
    for cell in cells:
        # A cell without `source` (or with an odd one) reads as empty, as Jupyter shows it.
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        cell["source"] = source if isinstance(source, str) else ""
        if cell.get("cell_type") == "code":
            cell.setdefault("outputs", [])
            cell.setdefault("execution_count", None)
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = nbformat.NotebookNode()
    return nb, ""


def grade_submission(submission: Submission, settings: Settings) -> Report:
    """Grade one submission; a :class:`Report` with a row per task, never an exception."""
    name = submission.name
    try:
        return _grade(submission, settings)
    except Stopped:
        raise
    except Exception as exc:  # noqa: BLE001 - the report must go on for the other notebooks
        return Report(name, None, (Row(name, "-", 0.0, 0.0,
                                       f"the grader could not grade this notebook "
                                       f"({type(exc).__name__}: {exc}); please report this"),),
                      failed=True)


def grade_notebook(path: str | Path, *, seed: int, timeout: float = 60.0,
                   isolated: bool = True) -> list[Row]:
    """Grade the notebook file ``path``; one :class:`Row` per task of its exercise.

    ``timeout`` (seconds) bounds each cell in the kernel, the replay of the definitions and
    each task's calls in the sandbox; the whole kernel run is bounded by ``10 * timeout``.
    """
    report = grade_submission(read_submission(path),
                              Settings(seed=seed, timeout=timeout, isolated=isolated))
    return list(report.rows)


def _grade(submission: Submission, settings: Settings) -> Report:
    name = submission.name
    nb, problem = (None, submission.problem) if submission.data is None \
        else _parse(submission.data)
    exercise, note = identify_exercise(name, nb)
    if exercise is None:
        why = problem or "its metadata and file name do not name one of " + \
            ", ".join(sorted(EXERCISES))
        return Report(name, None, (Row(name, "-", 0.0, 0.0,
                                       f"cannot tell which exercise this is: {why}"),))
    tasks = EXERCISES[exercise]
    if nb is None:
        return Report(name, exercise, tuple(Row(name, t.id, 0.0, t.points, problem)
                                            for t in tasks), note)
    timeout = settings.timeout
    jail = Jail(isolated=settings.isolated, hidden=settings.hidden)
    limits = Limits(memory=_MEMORY_BYTES, cpu=int(10 * timeout) + 60)
    base = Path(name).name
    base = base if base not in ("", ".", "..") else "notebook.ipynb"
    with tempfile.TemporaryDirectory(prefix="qnncourse-grade-",
                                     ignore_cleanup_errors=True) as tmp:
        work = Path(tmp)
        (work / "in").mkdir()
        copy = work / "in" / base  # what the kernel sees: a copy, never the submitted file
        copy.write_bytes(submission.data)
        # The sandbox imports the library while the kernel runs; it gets its job afterwards.
        with Sandbox(jail=jail, limits=limits, workdir=work) as sandbox:
            cells = execute(nb, timeout=timeout, budget=10 * timeout, jail=jail,
                            limits=limits, workdir=work, notebook=copy)
            verdicts = _judge_tasks(nb, cells, tasks, seed=settings.seed, timeout=timeout,
                                    jail=jail, limits=limits, workdir=work, sandbox=sandbox)
    rows = tuple(Row(name, v.task.id, v.score, v.task.points, v.message) for v in verdicts)
    return Report(name, exercise, rows, note)


def _judge_tasks(nb, cells: list[CellResult], tasks: tuple[Task, ...], *, seed: int,
                 timeout: float, jail: Jail, limits: Limits, workdir: Path, sandbox: Sandbox
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
                                     timeout=timeout, jail=jail, limits=limits,
                                     workdir=workdir, started=sandbox)
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
