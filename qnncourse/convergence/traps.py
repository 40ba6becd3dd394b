r"""A census of the local minima that gradient descent finds from random starts.

Below the overparameterization threshold, variational landscapes are typically full of poor
local minima: Anschuetz and Kiani [Anschuetz2022]_ show that for broad classes of
underparameterized models most local minima are far from the global one, and Bittel and
Kliesch [Bittel2021]_ that training is NP-hard in general. :func:`minima_census` measures what
that means for plain gradient descent on a given cost: it runs descent from ``n_starts``
uniform starts on the torus, optionally finishes each run with BFGS (``polish``) so that slow
runs reach their minimum, keeps the endpoints that are *certified* local minima (gradient norm
below ``grad_tol`` and smallest Hessian eigenvalue above ``-hessian_tol``, both checked at the
endpoint), groups them by cost value (parameter symmetries make many parameter vectors one
minimum), and reports

* the number of distinct minima found and the Good–Turing estimate :math:`f_1/n` of the
  probability that one more start ends in a minimum not yet seen [Good1953]_, where :math:`n`
  is the number of certified endpoints (the sample) and :math:`f_1` the number of endpoints
  whose minimum no other endpoint reached: the census is complete only when that is small;
* the success rate, the fraction of starts that end within ``success_tol`` of a reference
  value, with its Wilson interval.

Two different reasons make descent stop above the ground energy :math:`E_0 = C^*`, and the
census keeps them apart. *Expressivity*: the ansatz may not reach :math:`E_0` at any
:math:`\theta`; its own minimum :math:`C_{\min} = \min_\theta C(\theta) \ge E_0` is
estimated by :func:`ansatz_minimum` (BFGS from many starts), and :math:`C_{\min} - E_0` is the
expressivity gap. *Traps*: local minima above :math:`C_{\min}`; a run that ends at
:math:`C_{\min}` did its best, whatever :math:`E_0` is. Pass ``ansatz_best`` to count traps
and to measure success against :math:`C_{\min}`.

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
from scipy.optimize import minimize

from qnncourse._validation import as_rng, check_count, check_positive
from qnncourse.convergence._checks import check_plain_cost, check_thetas, hessian_shift
from qnncourse.convergence.descent import batch_descent
from qnncourse.convergence.estimates import wilson_interval
from qnncourse.convergence.rates import hessian

__all__ = ["AnsatzMinimum", "MinimaCensus", "ansatz_minimum", "distinct_values",
           "minima_census", "polish"]

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
        Starts that ended within ``success_tol`` of the reference: ``ansatz_best`` when it
        was given, else :math:`C^*`.
    success_ci : tuple of float
        Wilson interval of the success probability.
    cost_star : float
    ansatz_best : float or None
        The ansatz's own minimum :math:`C_{\min}` (from :func:`ansatz_minimum`), if given.
    value_tol : float
        Minima closer than this are one value.
    max_gradient : numpy.ndarray, shape (n_starts,)
        Gradient norm at each endpoint.
    min_hessian : numpy.ndarray, shape (n_starts,)
        Smallest Hessian eigenvalue at each endpoint (``nan`` where the gradient test failed
        and the Hessian was not computed).
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
    ansatz_best: float | None = None
    value_tol: float = 1e-4
    max_gradient: np.ndarray | None = None
    min_hessian: np.ndarray | None = None

    @property
    def n_minima(self) -> int:
        """Number of distinct minima found (a lower bound on how many there are)."""
        return int(self.minima.size)

    @property
    def success_rate(self) -> float:
        return self.successes / self.n_starts

    @property
    def unseen(self) -> float:
        r"""Good–Turing estimate :math:`f_1/n` of the chance that one more start ends in a
        minimum not yet seen: :math:`f_1` certified endpoints whose minimum was reached once,
        out of :math:`n` certified endpoints (``nan`` when none is certified)."""
        n = int(self.counts.sum())
        return float(np.sum(self.counts == 1)) / n if n else float("nan")

    @property
    def expressivity_gap(self) -> float:
        r""":math:`C_{\min} - C^*`: how far the ansatz's own best lies above :math:`C^*`
        (``nan`` without ``ansatz_best``)."""
        return float("nan") if self.ansatz_best is None else self.ansatz_best - self.cost_star

    @property
    def traps(self) -> np.ndarray:
        r"""Values of the certified minima above the ansatz's own best by more than
        ``value_tol``: local minima that are not global *for this ansatz*. Without
        ``ansatz_best`` the lowest minimum found stands in for it."""
        if self.minima.size == 0:
            return self.minima
        best = self.minima[0] if self.ansatz_best is None else min(self.ansatz_best,
                                                                   self.minima[0])
        return self.minima[self.minima > best + self.value_tol]

    @property
    def n_traps(self) -> int:
        """Number of distinct traps found (a lower bound on how many there are)."""
        return int(self.traps.size)

    @property
    def trapped(self) -> int:
        """Certified endpoints that ended in a trap."""
        if self.minima.size == 0:
            return 0
        return int(self.counts[np.isin(self.minima, self.traps)].sum())

    @property
    def unconverged(self) -> int:
        """Starts whose endpoint is not a certified local minimum (slow runs or saddles)."""
        return int(self.n_starts - self.is_minimum.sum())

    def __repr__(self) -> str:
        lo, hi = self.success_ci
        return (f"MinimaCensus({self.n_params} parameters, {self.n_starts} starts: "
                f"{self.n_minima} distinct minima, {self.n_traps} traps (unseen mass "
                f"{self.unseen:.2f}), success "
                f"{self.success_rate:.0%} [{lo:.0%}, {hi:.0%}], {self.unconverged} endpoints "
                "not certified)")


def polish(cost: Any, thetas: Any, *, maxiter: int = 3000, gtol: float = 1e-9) -> np.ndarray:
    r"""Run BFGS to convergence from every row of ``thetas`` at once.

    The objective is :math:`\sum_s C(\theta_s)`, whose gradient is block-separable, so every
    block descends its own cost and ends at a stationary point of it (L-BFGS-B, exact
    gradients). Used to finish slow descent runs before they are certified, and by
    :func:`ansatz_minimum`.

    Parameters
    ----------
    cost : Cost
        Exact (no shots).
    thetas : array_like, shape (S, p)
    maxiter : int
    gtol : float
        Tolerance on the largest gradient component.

    Returns
    -------
    numpy.ndarray, shape (S, p)
    """
    cost = check_plain_cost(cost, "polish")
    thetas, batched = check_thetas(cost, thetas, "thetas")
    if not batched:
        raise ValueError(f"thetas must be a batch of shape (S, {cost.n_params}), got shape "
                         f"{thetas.shape}")
    maxiter = check_count("maxiter", maxiter)
    gtol = check_positive("gtol", gtol)

    def total(flat: np.ndarray) -> tuple[float, np.ndarray]:
        values, grads = cost.value_and_gradient(flat.reshape(thetas.shape))
        return float(np.sum(values)), np.asarray(grads, dtype=float).ravel()

    result = minimize(total, thetas.ravel(), jac=True, method="L-BFGS-B",
                      options={"maxiter": maxiter, "ftol": 1e-15, "gtol": gtol})
    return result.x.reshape(thetas.shape)


@dataclass(frozen=True, repr=False)
class AnsatzMinimum:
    r"""The lowest value an ansatz reaches, from BFGS at many starts (:func:`ansatz_minimum`).

    Attributes
    ----------
    value : float
        :math:`\min_s C(\theta_s)` over the polished starts: an upper bound on the ansatz's
        own minimum :math:`C_{\min}`, and the estimate of it.
    theta : numpy.ndarray
        Where it was reached.
    values : numpy.ndarray, shape (n_restarts,)
        Final value of every restart, increasing.
    hits : int
        Restarts that ended within ``value_tol`` of ``value``: when it is 1, the minimum was
        found once and more restarts are needed to trust it.
    """

    value: float
    theta: np.ndarray
    values: np.ndarray
    hits: int

    def __repr__(self) -> str:
        return (f"AnsatzMinimum({self.value:.6g}, reached by {self.hits} of "
                f"{self.values.size} restarts)")


def ansatz_minimum(cost: Any, n_restarts: int, rng: Any = None, *, maxiter: int = 3000,
                   value_tol: float = 1e-4) -> AnsatzMinimum:
    r"""Estimate the ansatz's own minimum :math:`C_{\min} = \min_\theta C(\theta)` by BFGS from
    ``n_restarts`` uniform starts on :math:`[0, 2\pi)^p` (:func:`polish`).

    :math:`C_{\min} - C^*` is the *expressivity gap*: no optimizer can close it, however good.
    The estimate is an upper bound on :math:`C_{\min}`; it is trustworthy when many restarts
    reach it (``hits``).

    Parameters
    ----------
    cost : Cost
        Exact (no shots).
    n_restarts : int
    rng : numpy.random.Generator or int, optional
    maxiter : int
        BFGS iterations (for all restarts together).
    value_tol : float
        Restarts within this of the lowest value count as hits.

    Examples
    --------
    One :math:`R_X` on one qubit of two, measured with :math:`Z_0 + Z_1`: the second qubit
    stays in :math:`|0\rangle`, so :math:`C_{\min} = -1 + 1 = 0` while the lowest eigenvalue
    is :math:`-2`: an expressivity gap of 2.

    >>> from qnncourse.circuit import Circuit
    >>> from qnncourse.cost import Cost
    >>> best = ansatz_minimum(Cost(Circuit(2).rx(0), {"ZI": 1.0, "IZ": 1.0}), 8, rng=0)
    >>> round(best.value, 6) + 0.0, best.hits
    (0.0, 8)
    """
    cost = check_plain_cost(cost, "ansatz_minimum")
    if cost.shots is not None:
        raise ValueError(f"ansatz_minimum needs an exact cost, got shots={cost.shots}")
    n_restarts = check_count("n_restarts", n_restarts)
    value_tol = check_positive("value_tol", value_tol)
    starts = as_rng(rng).uniform(0, 2 * np.pi, (n_restarts, cost.n_params))
    thetas = polish(cost, starts, maxiter=maxiter)
    values = np.asarray(cost(thetas), dtype=float)
    k = int(np.argmin(values))
    return AnsatzMinimum(float(values[k]), thetas[k], np.sort(values),
                         int(np.sum(values <= values[k] + value_tol)))


def minima_census(
    cost: Any,
    n_starts: int,
    *,
    lr: float,
    steps: int,
    cost_star: float,
    rng: Any = None,
    max_steps: int | None = None,
    ansatz_best: float | None = None,
    finish: bool = False,
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
    ansatz_best : float, optional
        The ansatz's own minimum :math:`C_{\min}` (:func:`ansatz_minimum`). Success is then
        measured against it, and minima above it are traps (:attr:`MinimaCensus.traps`).
    finish : bool
        Finish every descent run with BFGS (:func:`polish`) before the endpoint is certified:
        a slow run then reaches the bottom of the basin descent had brought it to, instead of
        being left uncertified.
    success_tol : float
        A start succeeds when its final cost is below the reference plus ``success_tol``.
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
    if ansatz_best is not None:
        if isinstance(ansatz_best, bool) or not math.isfinite(float(ansatz_best)):
            raise ValueError(f"ansatz_best must be a finite number, got {ansatz_best!r}")
        if float(ansatz_best) < float(cost_star) - tols["value_tol"]:
            raise ValueError(f"ansatz_best = {ansatz_best} lies below cost_star = {cost_star}: "
                             "the ansatz cannot beat the global minimum")
        ansatz_best = float(ansatz_best)
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
        active = np.linalg.norm(grads, axis=1) >= tols["grad_tol"]
    if finish:
        thetas = polish(cost, thetas)
    final = np.asarray(cost(thetas), dtype=float)
    grad_norm = np.linalg.norm(np.asarray(cost.gradient(thetas)).reshape(thetas.shape), axis=1)
    small = grad_norm < tols["grad_tol"]
    shift = hessian_shift(cost)
    min_hess = np.full(n_starts, np.nan)
    for k in np.flatnonzero(small):
        min_hess[k] = np.linalg.eigvalsh(hessian(cost, thetas[k], shift))[0]
    is_min = small & (min_hess > -tols["hessian_tol"])
    minima, counts = distinct_values(final[is_min], tols["value_tol"]) if is_min.any() else (
        np.zeros(0), np.zeros(0, dtype=int))
    reference = float(cost_star) if ansatz_best is None else ansatz_best
    successes = int(np.sum(final < reference + tols["success_tol"]))
    return MinimaCensus(
        n_params=cost.n_params, n_starts=n_starts, final_costs=final, is_minimum=is_min,
        minima=minima, counts=counts, successes=successes,
        success_ci=wilson_interval(successes, n_starts), cost_star=float(cost_star),
        ansatz_best=ansatz_best, value_tol=tols["value_tol"], max_gradient=grad_norm,
        min_hessian=min_hess,
    )
