"""The registry of exercise tasks, one module per exercise notebook.

Each module defines ``EXERCISE`` (the notebook's name, e.g. ``"02_gradients"``) and ``TASKS``
(its :class:`~qnncourse.grading.task.Task` objects, in the notebook's order).
"""

from __future__ import annotations

from types import ModuleType

from ..task import Task
from . import (
    ch01_circuits,
    ch02_gradients,
    ch03_barren_plateaus,
    ch04_convergence,
    ch05_convergence_theory,
    ch06_mitigation,
    ch07_simulability,
    ch08_outlook,
)

__all__ = ["EXERCISES", "TASKS", "exercise_tasks"]

_MODULES: tuple[ModuleType, ...] = (ch01_circuits, ch02_gradients, ch03_barren_plateaus,
                                     ch04_convergence, ch05_convergence_theory,
                                     ch06_mitigation, ch07_simulability, ch08_outlook)

EXERCISES: dict[str, tuple[Task, ...]] = {m.EXERCISE: tuple(m.TASKS) for m in _MODULES}
TASKS: dict[str, Task] = {t.id: t for tasks in EXERCISES.values() for t in tasks}


def exercise_tasks(name: str) -> tuple[Task, ...]:
    """The tasks of exercise notebook ``name`` (e.g. ``"02_gradients"``)."""
    if name not in EXERCISES:
        raise ValueError(f"no exercise {name!r}; the exercises are {sorted(EXERCISES)}")
    return EXERCISES[name]
