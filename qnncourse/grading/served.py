"""A cost the learner's function can only call: its evaluations are made, and counted, by the
grader.

Some tasks judge *how* a gradient was computed as well as its value (one batched call with
``2p`` shifted points, say). Counting inside the learner's process proves nothing: the
learner's code can reset any counter there, or reach the library's own gradient through the
cost object (``getattr(cost, "gradient")``). So for a task with ``serves=True`` the learner's
function gets a :class:`ServedCost` instead of the :class:`~qnncourse.cost.Cost`: it knows
``n_params`` and ``n_qubits`` and can be called on one parameter vector or a batch, and each call
goes to whoever serves it -- in grading, the grader's own process (:class:`Ledger`), where the
cost is evaluated and the calls and circuit evaluations are counted out of the learner's reach;
in :func:`~qnncourse.grading.check`, a :class:`Ledger` in the learner's own kernel (feedback
only). Either way the judge receives ``{"value": returned, "calls": c, "evaluations": e}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["MAX_EVALUATIONS", "MAX_ROWS", "Ledger", "ServedCost"]

MAX_ROWS = 1024  # rows of one batched call
MAX_EVALUATIONS = 20_000  # circuit evaluations of one case


class ServedCost:
    """The cost as the learner's function sees it: ``cost(theta)`` (a float) or
    ``cost(batch)`` (one value per row), ``cost.n_params``, ``cost.n_qubits`` -- nothing else.
    """

    __slots__ = ("_ask", "n_params", "n_qubits")

    def __init__(self, n_params: int, n_qubits: int,
                 ask: Callable[[np.ndarray], Any] | None = None) -> None:
        self.n_params = n_params
        self.n_qubits = n_qubits
        self._ask = ask

    def __reduce__(self):
        return ServedCost, (self.n_params, self.n_qubits)  # the channel stays behind

    def __call__(self, theta) -> Any:
        if self._ask is None:
            raise RuntimeError("this cost is not connected to the grader")
        return self._ask(np.asarray(theta, dtype=float))

    def __getattr__(self, name: str):
        raise AttributeError(f"the cost given to this task has no attribute {name!r}: it can "
                             "only be called, cost(theta) or cost(batch), and it knows "
                             "cost.n_params and cost.n_qubits")

    def __repr__(self) -> str:
        return f"ServedCost(n_params={self.n_params}, n_qubits={self.n_qubits})"


class Ledger:
    """Evaluates one case's cost for the learner's function and counts what it asked for:
    ``calls`` (one per call of the cost) and ``evaluations`` (one per parameter vector)."""

    def __init__(self, cost) -> None:
        self.cost = cost
        self.calls = 0
        self.evaluations = 0

    def evaluate(self, theta: Any) -> Any:
        """The cost at ``theta`` (a vector or a batch of rows); ``ValueError`` in words for
        anything else, or past the limits of one case."""
        p = self.cost.n_params
        try:
            values = np.asarray(theta, dtype=float)
        except (TypeError, ValueError, OverflowError):
            raise ValueError("the cost takes an array of numbers") from None
        if values.ndim not in (1, 2) or values.shape[-1] != p:
            raise ValueError(f"the cost takes {p} parameters or a batch of shape (S, {p}), "
                             f"got shape {values.shape}")
        rows = 1 if values.ndim == 1 else values.shape[0]
        if rows > MAX_ROWS:
            raise ValueError(f"a batch of {rows} rows is more than the {MAX_ROWS} allowed")
        if not np.all(np.isfinite(values)):
            raise ValueError("the parameters contain NaN or infinite values")
        if self.evaluations + rows > MAX_EVALUATIONS:
            raise ValueError(f"more than {MAX_EVALUATIONS} circuit evaluations for one input")
        self.calls += 1
        self.evaluations += rows
        result = self.cost(values)
        return float(result) if values.ndim == 1 else np.asarray(result, dtype=float)

    def judged(self, value: Any) -> dict:
        """What the judge of a served task receives."""
        return {"value": value, "calls": self.calls, "evaluations": self.evaluations}
