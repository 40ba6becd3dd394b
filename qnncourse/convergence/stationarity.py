r"""Convergence of gradient descent to a stationary point on a smooth, nonconvex cost.

If :math:`C` is :math:`L`-smooth, the descent lemma gives for one step
:math:`\theta' = \theta - \eta\nabla C(\theta)`

.. math::
    C(\theta') \le C(\theta) - \eta\Big(1 - \frac{\eta L}{2}\Big)\|\nabla C(\theta)\|^2 .

Summing over :math:`T` steps with :math:`0 < \eta < 2/L` and using :math:`C(\theta_T) \ge C^*`,

.. math::
    \begin{aligned}
    \min_{t<T}\|\nabla C(\theta_t)\|^2 &\le \frac{1}{T}\sum_{t<T}\|\nabla C(\theta_t)\|^2
    \le \frac{C(\theta_0) - C^*}{\eta(1 - \eta L/2)\,T} \\
    &\le \frac{2\,(C(\theta_0) - C^*)}{\eta T} \quad (\eta \le 1/L),
    \end{aligned}

with no convexity at all [Nesterov2018b]_ (Sec. 1.2.3). It promises a point with a small
gradient, not a minimum: saddles and poor local minima satisfy it as well.

References
----------
.. [Nesterov2018b] Y. Nesterov, *Lectures on Convex Optimization*, 2nd ed., Springer (2018),
   doi:10.1007/978-3-319-91578-4
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from qnncourse._validation import check_count, check_positive
from qnncourse.convergence._checks import check_thetas
from qnncourse.optim import GradientDescent, train

__all__ = ["stationarity_bound", "StationarityCheck", "stationarity_check"]


def stationarity_bound(gap: float, lr: float, steps: Any,
                       smoothness: float | None = None) -> np.ndarray | float:
    r"""Bound on :math:`\min_{t<T}\|\nabla C(\theta_t)\|^2` after :math:`T` steps.

    Parameters
    ----------
    gap : float
        :math:`C(\theta_0) - C^*` (non-negative).
    lr : float
        :math:`\eta`.
    steps : int or array of int
        :math:`T \ge 1`.
    smoothness : float, optional
        :math:`L`. Given: the sharp form :math:`\mathrm{gap}/(\eta(1-\eta L/2)T)`, which needs
        :math:`\eta < 2/L`. Omitted: :math:`2\,\mathrm{gap}/(\eta T)`, valid when
        :math:`\eta \le 1/L`.

    Examples
    --------
    >>> stationarity_bound(0.5, 0.1, 10)
    1.0
    >>> round(stationarity_bound(0.5, 1.0, 10, smoothness=1.0), 6)
    0.1
    """
    gap = check_positive("gap", gap, allow_zero=True)
    lr = check_positive("lr", lr)
    t = np.asarray(steps)
    if t.dtype.kind not in "iu" or np.any(t < 1):
        raise ValueError(f"steps must be integers >= 1, got {steps!r}")
    factor = 2.0
    if smoothness is not None:
        smoothness = check_positive("smoothness", smoothness)
        if lr * smoothness >= 2:
            raise ValueError(f"the bound needs lr < 2/L = {2 / smoothness:.4g}, got lr={lr}")
        factor = 1 / (1 - lr * smoothness / 2)
    out = factor * gap / (lr * t)
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True, repr=False)
class StationarityCheck:
    r"""Gradient norms of a gradient-descent run against :func:`stationarity_bound`.

    Attributes
    ----------
    steps : numpy.ndarray
        :math:`T = 1, \dots, T_{\max}`.
    min_grad_sq : numpy.ndarray
        :math:`\min_{t<T}\|\nabla C(\theta_t)\|^2`.
    bound : numpy.ndarray
        :math:`2(C(\theta_0) - C^*)/(\eta T)`.
    costs : numpy.ndarray, shape (T_max + 1,)
    lr : float
    """

    steps: np.ndarray
    min_grad_sq: np.ndarray
    bound: np.ndarray
    costs: np.ndarray
    lr: float

    @property
    def holds(self) -> bool:
        """Whether the measured minimum stays below the bound at every :math:`T`."""
        return bool(np.all(self.min_grad_sq <= self.bound * (1 + 1e-9)))

    @property
    def ratio(self) -> np.ndarray:
        """``min_grad_sq / bound`` per :math:`T` (at most 1 where the bound holds)."""
        return self.min_grad_sq / self.bound

    @property
    def increases(self) -> int:
        """Steps after which the cost went up (never, for :math:`\\eta < 2/L`)."""
        return int(np.sum(np.diff(self.costs) > 1e-12))

    def __repr__(self) -> str:
        return (f"StationarityCheck(lr={self.lr:g}, {self.steps[-1]} steps: bound "
                f"{'holds' if self.holds else 'VIOLATED'}, max ratio {self.ratio.max():.3g}, "
                f"cost went up {self.increases} times)")


def stationarity_check(cost: Any, theta0: Any, lr: float, steps: int,
                       cost_star: float) -> StationarityCheck:
    r"""Run ``train(cost, theta0, GradientDescent(lr), steps)`` and compare with the bound.

    Parameters
    ----------
    cost : Cost or Loss
    theta0 : array_like, shape (p,)
    lr : float
    steps : int
    cost_star : float
        :math:`C^*`, or any lower bound on the cost (e.g. :math:`\lambda_{\min}(O)`).
    """
    theta0, batched = check_thetas(cost, theta0, "theta0")
    if batched:
        raise ValueError(f"theta0 must be one parameter vector of shape ({cost.n_params},), "
                         f"got shape {theta0.shape}")
    lr = check_positive("lr", lr)
    steps = check_count("steps", steps)
    run = train(cost, theta0, GradientDescent(lr), steps, progress=False)
    if run.costs.min() < cost_star - 1e-9:
        raise ValueError(f"cost_star={cost_star} is not a lower bound: the run reached "
                         f"{run.costs.min():.6g}")
    gap = max(run.costs[0] - cost_star, 0.0)
    t = np.arange(1, steps + 1)
    return StationarityCheck(
        steps=t,
        min_grad_sq=np.minimum.accumulate(run.grad_norms[:steps] ** 2),
        bound=np.asarray(stationarity_bound(gap, lr, t)),
        costs=run.costs,
        lr=lr,
    )
