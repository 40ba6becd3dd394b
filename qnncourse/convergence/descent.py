r"""Gradient descent from many starting points at once.

:func:`batch_descent` applies the update of :class:`~qnncourse.optim.GradientDescent`,

.. math::
    \theta_{t+1} = \theta_t - \eta_t\, \hat g(\theta_t),

to every row of a batch with one batched gradient call per step (the Cost simulates all rows
together). :math:`\hat g` is whatever the cost's gradient is: exact without shots, the
parameter-shift estimate from ``shots`` measurements otherwise, which makes the same loop
stochastic gradient descent (Sweke et al. 2020). For one row and a constant step it takes the
same steps as ``train(cost, theta0, GradientDescent(lr), steps)`` (the tests check it).

References
----------
R. Sweke et al., "Stochastic gradient descent for hybrid quantum-classical
optimization", Quantum 4, 314 (2020), doi:10.22331/q-2020-08-31-314.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from qnncourse._validation import check_count, check_positive
from qnncourse.convergence._checks import check_thetas
from qnncourse.cost import Cost

__all__ = ["BatchDescent", "batch_descent"]


@dataclass(frozen=True, repr=False)
class BatchDescent:
    r"""Record of :func:`batch_descent`.

    Attributes
    ----------
    thetas : numpy.ndarray, shape (S, p)
        Final parameters :math:`\theta_T` of every row.
    costs : numpy.ndarray, shape (T+1, S)
        :math:`C(\theta_t)` per step and row, from ``monitor`` (exact) when given, else from
        the cost itself (shot estimates when it has shots).
    grad_norms : numpy.ndarray, shape (T, S)
        Norm of the gradient (estimate) used at each step.
    evaluations : int
        Circuit executions spent by the optimizer (not by monitoring).
    """

    thetas: np.ndarray
    costs: np.ndarray
    grad_norms: np.ndarray
    evaluations: int

    def __repr__(self) -> str:
        return (f"BatchDescent({self.thetas.shape[0]} runs x {self.grad_norms.shape[0]} steps, "
                f"median final cost {np.median(self.costs[-1]):.4g}, "
                f"{self.evaluations} circuit evaluations)")


def batch_descent(
    cost: Any,
    thetas0: Any,
    lr: float | np.ndarray | Callable[[int], float],
    steps: int,
    *,
    monitor: Cost | None = None,
) -> BatchDescent:
    r"""Run (stochastic) gradient descent from every row of ``thetas0``.

    Parameters
    ----------
    cost : Cost or Loss
        Supplies the gradients (with shots: parameter-shift estimates).
    thetas0 : array_like, shape (S, p)
    lr : float, array of shape (S,), or callable
        Constant step :math:`\eta`, one constant step per row (to scan step sizes in one
        batch), or a schedule ``lr(t) -> eta_t`` for ``t = 0, 1, ...``.
    steps : int
        Number of updates :math:`T \ge 0`.
    monitor : Cost, optional
        A cost on the same parameters that records :math:`C(\theta_t)` (e.g. the exact cost
        beside a shot-based ``cost``); its evaluations are not counted in ``evaluations``.

    Returns
    -------
    BatchDescent
    """
    thetas, batched = check_thetas(cost, thetas0, "thetas0")
    if not batched:
        raise ValueError(f"thetas0 must be a batch of shape (S, {cost.n_params}), got shape "
                         f"{thetas.shape}; use qnncourse.train for a single run")
    steps = check_count("steps", steps, allow_zero=True)
    if callable(lr):
        schedule = lr
    elif np.ndim(lr) == 1:
        rates = np.asarray(lr, dtype=float)
        if rates.shape != (len(thetas),) or not np.all(np.isfinite(rates) & (rates > 0)):
            raise ValueError(f"lr as an array needs one finite positive step per row, shape "
                             f"({len(thetas)},), got {np.asarray(lr)!r}")
        schedule = (lambda t: rates[:, None])  # noqa: E731
    else:
        rate = check_positive("lr", lr)
        schedule = (lambda t: rate)  # noqa: E731
    if monitor is not None:
        if not isinstance(monitor, Cost) or monitor.n_params != cost.n_params:
            raise ValueError(f"monitor must be a Cost with {cost.n_params} parameters, got "
                             f"{monitor!r}")
    record = cost if monitor is None else monitor
    spent = 0  # executions of the gradient calls only; monitoring is not the optimizer's spend
    costs = [np.asarray(record(thetas), dtype=float)]
    norms = []
    for t in range(steps):
        eta = schedule(t)
        if not isinstance(eta, np.ndarray):
            eta = check_positive(f"lr({t})", eta)
        before = cost.evaluations
        grads = np.asarray(cost.gradient(thetas), dtype=float)
        spent += cost.evaluations - before
        norms.append(np.linalg.norm(grads, axis=1))
        thetas = thetas - eta * grads
        costs.append(np.asarray(record(thetas), dtype=float))
    return BatchDescent(thetas, np.array(costs), np.array(norms).reshape(steps, len(thetas)),
                        int(spent))
