"""What an exercise task is, and how a learner's answers to it are judged.

A :class:`Task` names the function the learner writes, draws fresh random inputs for it
(:class:`Case`), and judges each returned value against the library's reference. The same
:func:`evaluate` turns the per-input outcomes into a :class:`Verdict` both for the instructor's
grade (:mod:`qnncourse.grading.grader`) and for the learner's immediate feedback
(:func:`qnncourse.grading.check`), so the two can never disagree about what "correct" means.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "Case",
    "Outcome",
    "Task",
    "Verdict",
    "compare_arrays",
    "compare_number",
    "describe_value",
    "evaluate",
    "failed",
    "fmt",
    "task_rng",
]


@dataclass(frozen=True)
class Case:
    """One call of the learner's function: the positional ``args``, a short ``label`` that
    tells the learner which input failed (e.g. ``"3-qubit circuit, k=2"``), and ``extra``
    data for the task's judge, and for its runner if it has one (otherwise ``extra`` never
    leaves the grader's process, so it may hold the expected answer)."""

    args: tuple
    label: str
    extra: tuple = ()


@dataclass(frozen=True)
class Outcome:
    """What one call produced: a value (decoded to plain data), or an error text.

    ``kind`` is ``"ok"``, ``"raised"``, ``"not_implemented"`` (the placeholder of the student
    version is still there), ``"timeout"`` or ``"invalid"`` (a value that cannot be graded).
    """

    kind: str
    value: Any = None
    error: str = ""


@dataclass(frozen=True)
class Task:
    """One graded exercise task.

    Parameters
    ----------
    id : str
        ``"NN.name"``, e.g. ``"02.shift_rule"``; ``NN`` is the chapter.
    function : str
        Name of the function the learner defines at the top level of the notebook.
    call : str
        How the task calls it, e.g. ``"shift_rule(cost, theta, k)"`` (shown in messages).
    points : float
        Maximum score; partial credit is the fraction of random inputs answered correctly.
    cases : callable
        ``cases(rng) -> list[Case]``: fresh inputs drawn from a ``numpy.random.Generator``.
        The arguments must pickle (they are sent to the sandbox that runs the learner's code).
    judge : callable
        ``judge(case, value) -> str | None``: ``None`` when ``value`` is right, otherwise what is
        wrong, in words. Runs in the grader's process and computes the reference there.
    hint : str
        What to look at when the answer is wrong (shown by :func:`~qnncourse.grading.check`).
    forbidden : tuple of str
        Library names the learner's code must not call for this task (e.g. the library's own
        parameter-shift gradient when the task is to implement it).
    runner : callable or None
        ``runner(function, args, *extra) -> data``: how to call the learner's function when a
        plain ``function(*args)`` is not enough -- e.g. to also report how many circuit evaluations
        the call made, or to turn a returned ``Circuit`` into data. It runs where the learner's
        code runs (the sandbox, or the kernel for feedback), so it must be a module-level
        function, and what it reports is judged like any other returned value.
    serves : bool
        The first argument is a :class:`~qnncourse.cost.Cost` that the learner's function may
        only call: it gets a :class:`~qnncourse.grading.served.ServedCost` whose calls the
        grader evaluates and counts in its own process, and the judge receives
        ``{"value": returned, "calls": c, "evaluations": e}`` (counts the learner's code cannot
        change, and no route to the library's gradient through the cost object).
    """

    id: str
    function: str
    call: str
    points: float
    cases: Callable[[np.random.Generator], list[Case]]
    judge: Callable[[Case, Any], str | None]
    hint: str
    forbidden: tuple[str, ...] = ()
    runner: Callable[..., Any] | None = field(default=None)
    serves: bool = False


@dataclass(frozen=True)
class Verdict:
    """The judgement of one task: ``passed`` of ``total`` inputs right, and a message."""

    task: Task
    passed: int
    total: int
    message: str
    not_implemented: bool = False

    @property
    def score(self) -> float:
        if self.total == 0:
            return 0.0
        return round(self.task.points * self.passed / self.total, 2)

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.passed == self.total


def task_rng(task_id: str, seed: int) -> np.random.Generator:
    """The generator that draws a task's inputs: one stream per (grading seed, task)."""
    return np.random.default_rng([seed, zlib.crc32(task_id.encode())])


def failed(task: Task, message: str) -> Verdict:
    """A verdict of zero for a reason that concerns the whole task (e.g. a missing function)."""
    return Verdict(task, 0, 0, message)


def evaluate(task: Task, cases: Sequence[Case], outcomes: Sequence[Outcome]) -> Verdict:
    """Judge every outcome and summarise: partial credit is the fraction judged right."""
    if outcomes and all(o.kind == "not_implemented" for o in outcomes):
        return Verdict(task, 0, len(cases), "not implemented yet", not_implemented=True)
    problems = []
    for case, outcome in zip(cases, outcomes, strict=True):
        problem = outcome.error if outcome.kind != "ok" else _judge_safely(task, case, outcome)
        if problem is not None:
            problems.append((case, problem))
    n = len(cases)
    passed = n - len(problems)
    if not problems:
        return Verdict(task, passed, n, f"correct on all {n} random inputs")
    case, problem = problems[0]
    return Verdict(task, passed, n, f"{passed}/{n} random inputs right; {case.label}: {problem}")


def _judge_safely(task: Task, case: Case, outcome: Outcome) -> str | None:
    # The value comes from the learner: a judge that chokes on an odd value must cost the
    # learner this input, not crash the grader.
    try:
        return task.judge(case, outcome.value)
    except Exception as exc:  # noqa: BLE001 - any failure to compare is the answer's fault
        return f"returned {describe_value(outcome.value)}, which could not be compared ({exc})"


def fmt(x: Any) -> str:
    """A short, stable rendering of a number or array for messages."""
    if isinstance(x, np.ndarray | list | tuple):
        arr = np.asarray(x)
        if arr.dtype.kind in "fc":
            return np.array2string(arr, precision=4, threshold=8, suppress_small=True)
        return np.array2string(arr, threshold=8)
    if isinstance(x, float | np.floating):
        return f"{float(x):.6g}"
    if isinstance(x, complex | np.complexfloating):
        return f"{complex(x):.6g}"
    return repr(x)


def describe_value(value: Any) -> str:
    """``"a str ('abc')"``: what kind of thing the learner returned, briefly."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"a {type(value).__name__} ({text})"


def _numeric(got: Any, complex_ok: bool) -> np.ndarray | str:
    """``got`` as a float (or complex) array, or what is wrong with it."""
    if isinstance(got, bool | np.bool_ | str | bytes | dict) or got is None:
        return f"returned {describe_value(got)}"
    try:
        value = np.asarray(got)
        if value.dtype.kind not in "biufc":
            raise TypeError
        if value.dtype.kind == "c" and not complex_ok:
            if np.any(np.abs(value.imag) > 1e-12):
                return "returned complex numbers"
            value = value.real
        return value.astype(complex if complex_ok else float)
    except (TypeError, ValueError):
        return f"returned {describe_value(got)}"


def compare_number(got: Any, expected: float, *, atol: float = 1e-6, what: str = "") -> str | None:
    """``None`` when ``got`` is a real number within ``atol`` of ``expected``."""
    value = _numeric(got, complex_ok=False)
    if isinstance(value, str):
        return f"{value}, expected a number"
    if value.size != 1:
        return f"returned {describe_value(got)}, expected a single number"
    value = float(value.reshape(()))
    if not abs(value - expected) <= atol:  # also catches NaN
        name = f"{what} " if what else ""
        return f"returned {name}{fmt(value)}, expected {fmt(expected)}"
    return None


def compare_arrays(
    got: Any, expected: np.ndarray, *, atol: float = 1e-6, what: str = "the array"
) -> str | None:
    """``None`` when ``got`` has ``expected``'s shape and agrees entrywise within ``atol``."""
    expected = np.asarray(expected)
    value = _numeric(got, complex_ok=expected.dtype.kind == "c")
    if isinstance(value, str):
        return f"{value}, expected {what} of shape {expected.shape}"
    if value.shape != expected.shape:
        return f"returned shape {value.shape}, expected {what} of shape {expected.shape}"
    if not np.all(np.isfinite(value)):
        return f"{what} contains NaN or infinite entries"
    diff = np.abs(value - expected)
    if not np.all(diff <= atol):
        worst = np.unravel_index(int(np.argmax(diff)), diff.shape)
        at = worst if len(worst) > 1 else worst[0]
        return (
            f"{what} is off by up to {fmt(float(diff[worst]))}"
            f" (entry {at}: got {fmt(value[worst])}, expected {fmt(expected[worst])})"
        )
    return None
