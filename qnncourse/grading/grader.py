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
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

import qnncourse

from .isolation import Jail, Limits, Stopped
from .kernel import CellResult, execute
from .sandbox import Call, CallReport, Sandbox, run_calls
from .served import ServedCost
from .source import (
    AnalysisLimit,
    Budget,
    Statement,
    cell_statements,
    definitions,
    forbidden_uses,
    needed,
)
from .task import Task, Verdict, evaluate, failed, task_rng
from .tasks import EXERCISES

__all__ = ["Report", "Row", "Settings", "Submission", "grade_notebook", "grade_submission",
           "identify_exercise", "kernel_environment", "read_submission"]

_MEMORY_BYTES = 6 * 2**30  # address space per sandboxed process (never above the hard limit)
MAX_SUBMISSION_BYTES = 16 * 2**20  # a notebook larger than this is not graded
_MAX_CODE_CHARS = 1_000_000  # code the grader analyses per notebook


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
    """Read a submission into memory, once (never raises: an unreadable file is a
    ``problem``). It must be a regular file of at most :data:`MAX_SUBMISSION_BYTES`, opened
    without following a symbolic link (a link to the solutions, a classmate's notebook or
    ``/dev/zero`` is refused) and without waiting (a FIFO is refused, not read)."""
    name = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY)
    except FileNotFoundError:
        return Submission(name, None, "file not found")
    except OSError as exc:
        if os.path.islink(path):
            return Submission(name, None, "refused: a symbolic link, not a regular file "
                                          "(submit the notebook itself)")
        return Submission(name, None, f"could not read the file ({type(exc).__name__})")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = ("a directory" if stat.S_ISDIR(info.st_mode) else "a FIFO"
                    if stat.S_ISFIFO(info.st_mode) else "a device" if stat.S_ISCHR(info.st_mode)
                    or stat.S_ISBLK(info.st_mode) else "a socket" if stat.S_ISSOCK(info.st_mode)
                    else "not a regular file")
            return Submission(name, None, f"refused: {kind}, not a regular file")
        chunks, size = [], 0
        while size <= MAX_SUBMISSION_BYTES:
            chunk = os.read(fd, min(1 << 20, MAX_SUBMISSION_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_SUBMISSION_BYTES:
            return Submission(name, None, f"refused: larger than "
                                          f"{MAX_SUBMISSION_BYTES // 2**20} MB")
        return Submission(name, b"".join(chunks))
    except OSError as exc:
        return Submission(name, None, f"could not read the file ({type(exc).__name__})")
    finally:
        os.close(fd)


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
        metadata = nb.get("metadata")
        meta = metadata.get("qnncourse") if isinstance(metadata, dict) else None
        exercise = meta.get("exercise") if isinstance(meta, dict) else None
        if isinstance(exercise, str) and exercise in EXERCISES:
            if by_name != exercise:
                suggests = f"suggests {by_name}" if by_name else "names no exercise"
                return exercise, (f"graded as {exercise}, which its metadata names; its file "
                                  f"name {suggests}")
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
    code = sum(len(c.source) for c in nb.cells if c.get("cell_type") == "code")
    if code > _MAX_CODE_CHARS:
        why = (f"not graded: its code cells hold {code:,} characters, more than the "
               f"{_MAX_CODE_CHARS:,} the grader analyses")
        return Report(name, exercise, tuple(Row(name, t.id, 0.0, t.points, why)
                                            for t in tasks), note)
    timeout = settings.timeout
    jail = Jail(isolated=settings.isolated, hidden=settings.hidden)
    limits = Limits(memory=_MEMORY_BYTES, cpu=int(10 * timeout) + 60)
    base = Path(name).name
    base = base if base not in ("", ".", "..") else "notebook.ipynb"
    # Grader-side files only (the notebook's bytes, the kernel's connection file): nothing the
    # notebook writes lands here, so removing it never meets a deep tree.
    with tempfile.TemporaryDirectory(prefix="qnncourse-grade-") as tmp:
        work = Path(tmp)
        work.chmod(0o711)  # the sandbox's user binds files from here; nobody may list it
        (work / "in").mkdir(mode=0o711)
        copy = work / "in" / base  # copied into the kernel's /tmp when it starts
        copy.write_bytes(submission.data)
        copy.chmod(0o644)
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
    try:
        return _analyse_and_call(nb, cells, tasks, seed=seed, timeout=timeout, jail=jail,
                                 limits=limits, workdir=workdir, sandbox=sandbox)
    except AnalysisLimit as exc:
        return [failed(task, f"not graded: {exc}") for task in tasks]


def _analyse_and_call(nb, cells: list[CellResult], tasks: tuple[Task, ...], *, seed: int,
                      timeout: float, jail: Jail, limits: Limits, workdir: Path,
                      sandbox: Sandbox) -> list[Verdict]:
    # the grader's own reading of the code is bounded too: at most `timeout` seconds
    budget = Budget(time.monotonic() + timeout, timeout)
    kept: list[Statement] = []
    everywhere: list[Statement] = []
    for result in cells:
        statements, _ = cell_statements(nb.cells[result.cell - 1].source, result.cell, budget)
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
        used = forbidden_uses(kept, task.function, task.forbidden, budget)
        if used:
            verdicts[task.id] = failed(task, f"{task.function} uses {', '.join(used)} from the "
                                             "library; the task is to write it yourself")
            continue
        cases[task.id] = task.cases(task_rng(task.id, seed))
        # a case's extra data goes to the runner; without one it stays here (it may be the
        # expected answer). A served cost stays here too: the sandbox gets a stand-in.
        inputs, costs = [], None
        for c in cases[task.id]:
            args = c.args
            if task.serves:
                cost = args[0]
                args = (ServedCost(cost.n_params, cost.n_qubits), *args[1:])
            inputs.append((args, c.extra if task.runner else ()))
        if task.serves:
            costs = [c.args[0] for c in cases[task.id]]
        calls.append(Call(task.id, task.function, inputs, task.runner, costs))

    replay = needed(kept, [call.function for call in calls], budget)
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
