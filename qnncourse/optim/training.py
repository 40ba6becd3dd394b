r"""The training loop: :func:`train` drives any optimizer and records every step.

It records what each step cost in circuit executions, read from the cost's one counter
(``cost.evaluations``, to which QNG charges its metric circuits), so optimizers are compared by
what they would cost on hardware, not by their step count.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from tqdm.auto import tqdm

from qnncourse._validation import check_cost, check_count, check_positive, check_theta
from qnncourse.optim.optimizers import Optimizer

__all__ = ["BestPoint", "TrainResult", "train"]


class BestPoint(NamedTuple):
    """The lowest recorded cost of a run: its step, value and parameters."""

    step: int
    cost: float
    theta: np.ndarray


@dataclass(frozen=True, repr=False)
class TrainResult:
    r"""The record of a :func:`train` run; entry ``k`` of every array belongs to :math:`\theta_k`.

    Attributes
    ----------
    costs : numpy.ndarray, shape (T+1,)
        :math:`C(\theta_k)`; ``nan`` where nobody evaluated it (SPSA without monitoring).
    thetas : numpy.ndarray, shape (T+1, p)
        :math:`\theta_0, \dots, \theta_T`.
    grad_norms : numpy.ndarray, shape (T+1,)
        Norm of the gradient (SPSA: of its estimate) at :math:`\theta_k`; ``nan`` at the end.
    evaluations : numpy.ndarray, shape (T+1,)
        Circuit executions spent (by the optimizer and by monitoring) until the record of
        :math:`\theta_k` was complete.
    monitor_evaluations : numpy.ndarray, shape (T+1,)
        How many of ``evaluations`` were monitoring only (cost values the optimizer did not
        need, and the final cost), cumulative like ``evaluations``.
    wall_time : numpy.ndarray, shape (T+1,)
        Seconds since the start when the record of :math:`\theta_k` was complete.
    converged : bool
        Whether a stopping criterion (``tol``, ``target`` or the callback) ended the run.
    reason : str
        ``"steps"``, ``"tol"``, ``"target"`` or ``"callback"``.
    optimizer : str
        The optimizer's repr.
    """

    costs: np.ndarray
    thetas: np.ndarray
    grad_norms: np.ndarray
    evaluations: np.ndarray
    monitor_evaluations: np.ndarray
    wall_time: np.ndarray
    converged: bool
    reason: str
    optimizer: str = field(default="")

    @property
    def steps(self) -> int:
        """Number of updates taken, :math:`T`."""
        return len(self.costs) - 1

    @property
    def final_theta(self) -> np.ndarray:
        return self.thetas[-1]

    @property
    def final_cost(self) -> float:
        return float(self.costs[-1])

    @property
    def best(self) -> BestPoint:
        """The step with the lowest recorded cost."""
        k = int(np.nanargmin(self.costs))
        return BestPoint(k, float(self.costs[k]), self.thetas[k])

    def first_below(self, target: float) -> int | None:
        """First step whose recorded cost is at most ``target``, or ``None``."""
        hits = np.flatnonzero(self.costs <= target)
        return int(hits[0]) if hits.size else None

    def __repr__(self) -> str:
        best = self.best
        return (
            f"TrainResult({self.optimizer}: {self.steps} steps, final cost {self.final_cost:.6g}"
            f" (best {best.cost:.6g} at step {best.step}), {int(self.evaluations[-1])} circuit "
            f"evaluations ({int(self.monitor_evaluations[-1])} for monitoring), "
            f"{self.wall_time[-1]:.3g} s, stopped by {self.reason})"
        )


def train(
    cost: Any,
    theta0: Any,
    optimizer: Optimizer,
    steps: int,
    *,
    callback: Callable[[int, np.ndarray, dict], Any] | None = None,
    progress: bool = True,
    tol: float | None = None,
    target: float | None = None,
    monitor_every: int | None = None,
) -> TrainResult:
    r"""Run ``optimizer`` on ``cost`` from ``theta0`` for at most ``steps`` updates.

    The optimizer is reset first. Circuit executions are read from ``cost.evaluations`` (QNG
    charges its metric circuits there too), so one counter holds the truth for noiseless,
    noisy and shot-based costs and for supervised losses.

    Parameters
    ----------
    cost : Cost or Loss
    theta0 : array_like, shape (p,)
    optimizer : Optimizer
    steps : int
        Maximum number of updates (non-negative).
    callback : callable, optional
        ``callback(k, theta_k, info)`` after the record of step ``k``; ``info`` holds
        ``"cost"`` (``None`` if not evaluated), ``"grad_norm"`` and ``"evaluations"``
        (cumulative). Returning ``True`` stops the run at :math:`\theta_k`.
    progress : bool
        Show a tqdm progress bar (terminal or notebook).
    tol : float, optional
        Stop when two consecutive recorded costs differ by less than ``tol``.
    target : float, optional
        Stop at the first :math:`\theta_k` whose recorded cost is at most ``target``.
    monitor_every : int, optional
        For optimizers that do not evaluate the cost (SPSA), evaluate :math:`C(\theta_k)` every
        ``monitor_every`` steps; those executions are counted in ``evaluations`` and also
        reported separately in ``monitor_evaluations``. The final cost is always evaluated.

    Returns
    -------
    TrainResult

    Examples
    --------
    Gradient descent on the local cost of two ``R_X`` rotations; each step costs one value and
    a two-parameter gradient, 1 + 2 * 2 = 5 circuits:

    >>> from qnncourse import ansatz, observables
    >>> from qnncourse.cost import Cost
    >>> from qnncourse.optim import GradientDescent
    >>> cost = Cost(ansatz.tensor_product_rx(2), observables.local_cost(2))
    >>> result = train(cost, [1.0, -1.0], GradientDescent(lr=2.0), 50, progress=False,
    ...                target=1e-6)
    >>> result.reason, result.steps, int(result.evaluations[-1])
    ('target', 10, 55)
    """
    check_cost(cost)
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a qnncourse Optimizer, got {type(optimizer).__name__}")
    theta = check_theta(cost, theta0, "theta0")
    steps = check_count("steps", steps, allow_zero=True)
    if tol is not None:
        tol = check_positive("tol", tol)
    if target is not None and not math.isfinite(float(target)):
        raise ValueError(f"target must be a finite number, got {target!r}")
    if monitor_every is not None:
        monitor_every = check_count("monitor_every", monitor_every)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")

    optimizer.reset()
    start_evaluations, start_time = cost.evaluations, time.perf_counter()
    monitor = 0
    previous = None  # the last recorded cost, for tol
    thetas, costs, grad_norms, evaluations, monitors, wall = [], [], [], [], [], []
    reason = "steps"

    def monitored_cost(theta):
        nonlocal monitor
        before = cost.evaluations
        value = float(cost(theta))
        monitor += cost.evaluations - before
        return value

    def record(theta, value, grad_norm):
        thetas.append(theta)
        costs.append(np.nan if value is None else value)
        grad_norms.append(grad_norm)
        evaluations.append(cost.evaluations - start_evaluations)
        monitors.append(monitor)
        wall.append(time.perf_counter() - start_time)

    with tqdm(total=steps, disable=not progress, desc=repr(optimizer), leave=False) as bar:
        for k in range(steps):
            new_theta, info = optimizer.step(cost, theta)
            value = info["cost"]
            if value is None and monitor_every is not None and k % monitor_every == 0:
                value = monitored_cost(theta)
            record(theta, value, info["grad_norm"])
            if value is not None:
                bar.set_postfix(cost=f"{value:.4g}", refresh=False)
            bar.update()
            reason = _stop_reason(value, previous, tol, target)
            previous = previous if value is None else value
            if callback is not None and reason == "steps":
                info = dict(info, cost=value, evaluations=evaluations[-1])
                if callback(k, theta, info) is True:
                    reason = "callback"
            if reason != "steps":
                break
            theta = new_theta
        else:
            value = monitored_cost(theta)
            record(theta, value, np.nan)
            reason = _stop_reason(value, previous, tol, target)

    return TrainResult(
        costs=np.array(costs),
        thetas=np.array(thetas),
        grad_norms=np.array(grad_norms, dtype=float),
        evaluations=np.array(evaluations, dtype=int),
        monitor_evaluations=np.array(monitors, dtype=int),
        wall_time=np.array(wall),
        converged=reason != "steps",
        reason=reason,
        optimizer=repr(optimizer),
    )


def _stop_reason(
    value: float | None, previous: float | None, tol: float | None, target: float | None
) -> str:
    """Which criterion a newly recorded cost meets: ``"target"``, ``"tol"`` or ``"steps"``.

    ``previous`` is the last cost recorded before it (``None`` if there is none).
    """
    if value is None:
        return "steps"
    if target is not None and value <= target:
        return "target"
    if tol is not None and previous is not None and abs(value - previous) < tol:
        return "tol"
    return "steps"
