"""Immediate feedback in the learner's notebook: ``check("02.shift_rule", shift_rule)``.

:func:`check` calls the learner's function on inputs drawn like the grader's (from a fixed
seed, so the notebook's output is reproducible), judges every answer with the task's own
judge, and prints what is wrong and a hint. It runs in the learner's kernel, so it is feedback
only: the grade is decided by ``python -m qnncourse.grade`` where the notebook cannot reach.
It never raises and never prints a traceback.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import signal
import threading
import traceback
from collections.abc import Iterator
from typing import Any

from .encode import NotData, decode, encode
from .served import Ledger, ServedCost
from .task import Case, Outcome, Task, evaluate, task_rng
from .tasks import TASKS

__all__ = ["FEEDBACK_SEED", "check", "run_case"]

FEEDBACK_SEED = 2024  # what the notebooks show; the grader refuses it
_FEEDBACK_SECONDS = 60


class _TooSlow(BaseException):
    """Not an ``Exception``: run_case must let it through to :func:`check`."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise ``_TooSlow`` in the learner's function after ``seconds`` (main thread, POSIX);
    elsewhere, no limit: an endless loop then needs the kernel's interrupt button."""
    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise _TooSlow

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_case(task: Task, func: Any, case: Case) -> Outcome:
    """Call ``func`` on one case here, in this process, as the sandbox would."""
    try:
        args, extra = copy.deepcopy((case.args, case.extra))  # inputs may be changed in place
        ledger = None
        if task.serves:  # as in grading: a stand-in for the cost, evaluated and counted here
            ledger = Ledger(args[0])
            args = (ServedCost(args[0].n_params, args[0].n_qubits, ledger.evaluate), *args[1:])
        value = func(*args) if task.runner is None else task.runner(func, args, *extra)
        value = decode(encode(value))  # judged as the grader judges it
        return Outcome("ok", value=ledger.judged(value) if ledger else value)
    except NotData as exc:
        return Outcome("invalid", error=f"returned {exc}, which is not data (numbers, arrays, "
                                        "lists, dicts)")
    except NotImplementedError:
        return Outcome("not_implemented", error="not implemented yet")
    except Exception as exc:  # noqa: BLE001 - a learner's error is feedback, not a crash
        return Outcome("raised", error=f"raised {_where(exc)}")


def _where(exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.endswith(("feedback.py",))]
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if frames:
        text += f" (in {frames[-1].name}, line {frames[-1].lineno})"
    return text


def _signature_problem(task: Task, func: Any, args: tuple) -> str | None:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    try:
        signature.bind(*args)
    except TypeError:
        name = getattr(func, "__name__", task.function)
        return f"{name}{signature} cannot be called as {task.call}, as the exercise does"
    return None


def check(task_id: str, func: Any) -> None:
    """Check ``func`` against task ``task_id`` and print what is right or wrong, with a hint.

    Parameters
    ----------
    task_id : str
        The task, e.g. ``"02.shift_rule"`` (the exercise notebook names it).
    func : callable
        Your function.

    Examples
    --------
    >>> from qnncourse.grading import check
    >>> check("02.shift_rule", print)  # doctest: +SKIP
    """
    task = TASKS.get(task_id)
    if task is None:
        known = ", ".join(sorted(TASKS))
        print(f"There is no task {task_id!r}; the tasks are: {known}.")
        return
    if not callable(func):
        print(f"✗ {task.id}: expected your function {task.function}, got a "
              f"{type(func).__name__}.")
        return
    cases = task.cases(task_rng(task.id, FEEDBACK_SEED))
    problem = _signature_problem(task, func, cases[0].args)
    if problem is not None:
        print(f"✗ {task.id}: {problem}.")
        return
    try:
        with _time_limit(_FEEDBACK_SECONDS):
            outcomes = [run_case(task, func, case) for case in cases]
    except _TooSlow:
        print(f"✗ {task.id}: {task.function} did not finish within {_FEEDBACK_SECONDS} s (an "
              "endless loop?).")
        return
    verdict = evaluate(task, cases, outcomes)
    if verdict.not_implemented:
        print(f"… {task.id}: {task.function} is not implemented yet.")
    elif verdict.complete:
        print(f"✓ {task.id}: {verdict.message}.")
    else:
        print(f"✗ {task.id}: {verdict.message}.\n  Hint: {task.hint}")
