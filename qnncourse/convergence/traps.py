r"""A census of the local minima that gradient descent finds from random starts.

Below the overparameterization threshold, variational landscapes are typically full of poor
local minima: Anschuetz and Kiani [Anschuetz2022]_ show that for broad classes of
underparameterized models most local minima are far from the global one, and Bittel and
Kliesch [Bittel2021]_ that training is NP-hard in general. :func:`minima_census` measures what
that means for plain gradient descent on a given cost: it runs descent from ``n_starts``
uniform starts on the torus, keeps the endpoints that are local minima (gradient below
``grad_tol`` and Hessian eigenvalues above ``-hessian_tol``), groups them by cost value
(parameter symmetries make many parameter vectors one minimum), and reports

* the number of distinct minima found and the Good–Turing estimate :math:`f_1/n` (minima seen
  exactly once over runs) of the probability that a new start lands in a minimum not yet seen
  [Good1953]_: the census is complete only when that is small;
* the success rate, the fraction of starts within ``success_tol`` of :math:`C^*`, with its
  Wilson interval.

References
----------
.. [Anschuetz2022] E. R. Anschuetz and B. T. Kiani, "Quantum variational algorithms are swamped
   with traps", Nat. Commun. 13, 7760 (2022), doi:10.1038/s41467-022-35364-5
.. [Bittel2021] L. Bittel and M. Kliesch, "Training variational quantum algorithms is NP-hard",
   Phys. Rev. Lett. 127, 120502 (2021), doi:10.1103/PhysRevLett.127.120502
.. [Good1953] I. J. Good, "The population frequencies of species and the estimation of
   population parameters", Biometrika 40, 237 (1953), doi:10.1093/biomet/40.3-4.237
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from qnncourse._validation import as_rng, check_count, check_positive
from qnncourse.convergence._checks import check_plain_cost, hessian_shift
from qnncourse.convergence.descent import batch_descent
from qnncourse.convergence.estimates import wilson_interval
from qnncourse.convergence.rates import hessian

__all__ = ["MinimaCensus", "minima_census", "distinct_values"]



def distinct_values(values: Any, tol: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Group sorted values into clusters whose neighbours differ by at most ``tol``.

    Returns
    -------
    centres, counts : numpy.ndarray
        Mean and size of each cluster, in increasing order.

    Examples
    --------
    >>> centres, counts = distinct_values([0.0, 1.0, 1e-6, 1.0 + 2e-6, 3.0], tol=1e-4)
    >>> centres.round(3), counts
    (array([0., 1., 3.]), array([2, 2, 1]))
    """
    v = np.sort(np.asarray(values, dtype=float).ravel())
    tol = check_positive("tol", tol)
    if v.size == 0:
        return np.zeros(0), np.zeros(0, dtype=int)
    breaks = np.flatnonzero(np.diff(v) > tol) + 1
    groups = np.split(v, breaks)
    return (np.array([g.mean() for g in groups]).round(12) + 0.0,
            np.array([g.size for g in groups]))


@dataclass(frozen=True, repr=False)
class MinimaCensus:
    r"""What :func:`minima_census` found.

    Attributes
    ----------
    n_params, n_starts : int
    final_costs : numpy.ndarray, shape (n_starts,)
    is_minimum : numpy.ndarray of bool
        Endpoints that passed the gradient and Hessian tests.
    minima : numpy.ndarray
        Cost values of the distinct minima found, increasing.
    counts : numpy.ndarray
        How many starts ended in each.
    successes : int
        Starts that ended within ``success_tol`` of :math:`C^*`.
    success_ci : tuple of float
        Wilson interval of the success probability.
    cost_star : float
    """

    n_params: int
    n_starts: int
    final_costs: np.ndarray
    is_minimum: np.ndarray
    minima: np.ndarray
    counts: np.ndarray
    successes: int
    success_ci: tuple[float, float]
    cost_star: float

    @property
    def n_minima(self) -> int:
        """Number of distinct minima found (a lower bound on how many there are)."""
        return int(self.minima.size)

    @property
    def success_rate(self) -> float:
        return self.successes / self.n_starts

    @property
    def unseen(self) -> float:
        r"""Good–Turing estimate of the chance that one more start finds a new minimum."""
        return float(np.sum(self.counts == 1)) / self.n_starts

    @property
    def unconverged(self) -> int:
        """Starts whose endpoint is not a certified local minimum (slow runs or saddles)."""
        return int(self.n_starts - self.is_minimum.sum())

    def __repr__(self) -> str:
        lo, hi = self.success_ci
        return (f"MinimaCensus({self.n_params} parameters, {self.n_starts} starts: "
                f"{self.n_minima} distinct minima (unseen mass {self.unseen:.2f}), success "
                f"{self.success_rate:.0%} [{lo:.0%}, {hi:.0%}], {self.unconverged} endpoints "
                "not certified)")


def minima_census(
    cost: Any,
    n_starts: int,
    *,
    lr: float,
    steps: int,
    cost_star: float,
    rng: Any = None,
    max_steps: int | None = None,
    success_tol: float = 1e-3,
    grad_tol: float = 1e-3,
    hessian_tol: float = 1e-4,
    value_tol: float = 1e-4,
) -> MinimaCensus:
    r"""Gradient descent from uniform random starts, and the minima it ends in.

    Parameters
    ----------
    cost : Cost
        Exact (no shots).
    n_starts : int
    lr : float
        Step of gradient descent (choose :math:`\eta \le 1/L`, see
        :func:`~qnncourse.convergence.smoothness_constant`).
    steps : int
    cost_star : float
        The global minimum :math:`C^*` (e.g. a ground energy).
    rng : numpy.random.Generator or int, optional
        Draws the starts, uniform on :math:`[0, 2\pi)^p`.
    max_steps : int, optional
        After ``steps``, the runs whose gradient is still above ``grad_tol`` continue, in
        chunks of ``steps``, until they pass or ``max_steps`` steps in all are spent (slow runs
        near a flat minimum are then certified instead of dropped). Default: ``steps``.
    success_tol : float
        A start succeeds when its final cost is below :math:`C^* +` ``success_tol``.
    grad_tol, hessian_tol : float
        An endpoint is a local minimum when :math:`\|\nabla C\| <` ``grad_tol`` and the
        smallest Hessian eigenvalue is above ``-hessian_tol``.
    value_tol : float
        Minima whose values differ by at most this are counted as one.

    Returns
    -------
    MinimaCensus
    """
    cost = check_plain_cost(cost, "minima_census")
    if cost.shots is not None:
        raise ValueError(f"minima_census needs an exact cost, got shots={cost.shots}")
    n_starts = check_count("n_starts", n_starts)
    tols = {k: check_positive(k, v) for k, v in (("success_tol", success_tol),
            ("grad_tol", grad_tol), ("hessian_tol", hessian_tol), ("value_tol", value_tol))}
    if isinstance(cost_star, bool) or not math.isfinite(float(cost_star)):
        raise ValueError(f"cost_star must be a finite number, got {cost_star!r}")
    steps = check_count("steps", steps)
    max_steps = steps if max_steps is None else check_count("max_steps", max_steps)
    rng = as_rng(rng)
    thetas = rng.uniform(0, 2 * np.pi, (n_starts, cost.n_params))
    active = np.ones(n_starts, dtype=bool)  # rows still descending
    spent = 0
    while active.any() and spent < max_steps:
        chunk = min(steps, max_steps - spent)
        thetas[active] = batch_descent(cost, thetas[active], lr, chunk).thetas
        spent += chunk
        grads = np.asarray(cost.gradient(thetas)).reshape(thetas.shape)
        small = np.linalg.norm(grads, axis=1) < tols["grad_tol"]
        active = ~small
    final = np.asarray(cost(thetas), dtype=float)
    shift = hessian_shift(cost)
    is_min = small.copy()
    for k in np.flatnonzero(small):
        is_min[k] = np.linalg.eigvalsh(hessian(cost, thetas[k], shift))[0] \
            > -tols["hessian_tol"]
    minima, counts = distinct_values(final[is_min], tols["value_tol"]) if is_min.any() else (
        np.zeros(0), np.zeros(0, dtype=int))
    successes = int(np.sum(final < float(cost_star) + tols["success_tol"]))
    return MinimaCensus(
        n_params=cost.n_params, n_starts=n_starts, final_costs=final, is_minimum=is_min,
        minima=minima, counts=counts, successes=successes,
        success_ci=wilson_interval(successes, n_starts), cost_star=float(cost_star),
    )
