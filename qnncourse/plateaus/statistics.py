r"""Gradient variances with honest intervals, scans across qubit counts, and slope fits.

A barren plateau is the statement :math:`\operatorname{Var}_\theta[\partial_k C] \in
O(b^{-n})` for some :math:`b > 1` [McClean2018]_. This module estimates that variance from
random parameter draws (the ensemble of :mod:`qnncourse.ensemble`), puts a confidence interval
on it that keeps its promised coverage for the non-Gaussian (often heavy-tailed) gradient
distributions circuits produce, and fits :math:`\ln \operatorname{Var} = a + b\,n` across
qubit counts with an interval for the slope :math:`b`.

References
----------
.. [McClean2018] J. R. McClean, S. Boixo, V. N. Smelyanskiy, R. Babbush and H. Neven, "Barren
   plateaus in quantum neural network training landscapes", Nat. Commun. 9, 4812 (2018),
   doi:10.1038/s41467-018-07090-4
.. [Cerezo2021] M. Cerezo, A. Sone, T. Volkoff, L. Cincio and P. J. Coles, Nat. Commun. 12,
   1791 (2021) (cost-function-dependent barren plateaus), doi:10.1038/s41467-021-21728-w
.. [Bonett2006] D. G. Bonett, "Approximate confidence interval for standard deviation of
   nonnormal distributions", Comput. Stat. Data Anal. 50, 775 (2006),
   doi:10.1016/j.csda.2004.10.003
"""

from __future__ import annotations

import math
import os
import pickle
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from qnncourse._validation import as_rng, check_count, check_fraction
from qnncourse.ensemble import random_parameters

__all__ = [
    "GradientVariance",
    "gradient_variance",
    "variance_interval",
    "ExponentialFit",
    "exponential_fit",
    "VarianceScan",
    "variance_scan",
]

_CI_METHODS = ("bonett", "bootstrap", "chi2")
_MIN_SAMPLES = 10


def variance_interval(
    samples: Any,
    confidence: float = 0.95,
    method: str = "bonett",
    rng: Any = None,
    n_resamples: int = 1999,
) -> tuple[float, float]:
    r"""Confidence interval for the variance of the distribution ``samples`` were drawn from.

    Parameters
    ----------
    samples : array_like, shape (n,)
        At least 10 values.
    confidence : float
        Coverage in (0, 1).
    method : {"bonett", "bootstrap", "chi2"}
    rng : numpy.random.Generator or int, optional
        Only used by the bootstrap.
    n_resamples : int
        Bootstrap resamples.

    Notes
    -----
    ``method`` chooses one of three intervals.

    ``"bonett"`` (default)
        Bonett's interval [Bonett2006]_, which corrects the chi-square interval for the
        kurtosis of the data:

        .. math::
            &\exp\Big[\ln(c\,s^2) \pm z\, c \sqrt{\tfrac{\hat\gamma_4 - (n-3)/n}{n-1}}\Big], \\
            &c = \frac{n}{n - z},\qquad
            \hat\gamma_4 = \frac{n\sum_i (y_i - m)^4}{\big(\sum_i (y_i - \bar y)^2\big)^2},

        with :math:`m` the mean trimmed by :math:`1/(2\sqrt{n-4})` on each side.
    ``"bootstrap"``
        BCa bootstrap of the sample variance (``n_resamples`` resamples, drawn from ``rng``).
    ``"chi2"``
        The textbook interval :math:`[(n-1)s^2/\chi^2_{1-\alpha/2},\,(n-1)s^2/\chi^2_{\alpha/2}]`.
        Exact only for Gaussian data: it undercovers for heavy-tailed gradients (global costs)
        and overcovers for light-tailed ones; kept to show exactly that.
    """
    y = _check_samples(samples)
    confidence = _check_confidence(confidence)
    if method not in _CI_METHODS:
        raise ValueError(f"method must be one of {_CI_METHODS}, got {method!r}")
    n, s2 = y.size, float(np.var(y, ddof=1))
    if s2 == 0.0:
        return 0.0, 0.0
    alpha = 1 - confidence
    if method == "chi2":
        return (
            (n - 1) * s2 / stats.chi2.ppf(1 - alpha / 2, n - 1),
            (n - 1) * s2 / stats.chi2.ppf(alpha / 2, n - 1),
        )
    if method == "bootstrap":
        n_resamples = check_count("n_resamples", n_resamples)
        res = stats.bootstrap(
            (y,),
            lambda x, axis=-1: np.var(x, ddof=1, axis=axis),
            confidence_level=confidence,
            n_resamples=n_resamples,
            method="BCa",
            rng=as_rng(rng),
        )
        return float(res.confidence_interval.low), float(res.confidence_interval.high)
    z = stats.norm.ppf(1 - alpha / 2)
    m = stats.trim_mean(y, 1 / (2 * math.sqrt(n - 4)))
    kurtosis = n * np.sum((y - m) ** 4) / np.sum((y - y.mean()) ** 2) ** 2
    c = n / (n - z)
    # Clip at zero: the estimated excess over the Gaussian-free term can come out negative.
    half_width = z * c * math.sqrt(max(kurtosis - (n - 3) / n, 0.0) / (n - 1))
    centre = math.log(c * s2)
    return math.exp(centre - half_width), math.exp(centre + half_width)


def _check_samples(samples: Any) -> np.ndarray:
    y = np.asarray(samples, dtype=float)
    if y.ndim != 1:
        raise ValueError(f"samples must be 1-D, got shape {y.shape}")
    if y.size < _MIN_SAMPLES:
        raise ValueError(
            f"samples has {y.size} values, an interval for the variance needs at least "
            f"{_MIN_SAMPLES}"
        )
    if not np.all(np.isfinite(y)):
        raise ValueError("samples contains non-finite values")
    return y


def _check_confidence(confidence: Any) -> float:
    confidence = check_fraction("confidence", confidence)
    if confidence == 0:
        raise ValueError("confidence must lie in (0, 1), got 0.0")
    return confidence


@dataclass(frozen=True, repr=False)
class GradientVariance:
    r"""Sample variance of :math:`\partial C/\partial\theta_k` over uniform parameter draws.

    Attributes
    ----------
    variance : float
        Unbiased sample variance.
    ci : tuple of float
        Confidence interval (see :func:`variance_interval`).
    samples : numpy.ndarray
        The gradient component at each draw.
    mean : float
    param : int
    confidence : float
    method : str
    """

    variance: float
    ci: tuple[float, float]
    samples: np.ndarray
    mean: float
    param: int
    confidence: float
    method: str

    @property
    def n_samples(self) -> int:
        return self.samples.size

    def __repr__(self) -> str:
        lo, hi = self.ci
        return (
            f"GradientVariance(param {self.param}: Var = {self.variance:.4g}, "
            f"{self.confidence:.0%} CI [{lo:.4g}, {hi:.4g}] ({self.method}), "
            f"mean {self.mean:.3g}, {self.n_samples} samples)"
        )


def gradient_variance(
    cost: Any,
    n_samples: int,
    param: int = 0,
    rng: Any = None,
    *,
    ci: str = "bonett",
    confidence: float = 0.95,
    gradient_method: str | None = None,
) -> GradientVariance:
    r"""Estimate :math:`\operatorname{Var}_{\theta \sim U[0,2\pi)^p}[\partial C/\partial\theta_k]`.

    All ``n_samples`` gradients are computed in one batched call (``theta`` of shape
    ``(n_samples, p)``), so the cost is charged ``n_samples`` gradients.

    Parameters
    ----------
    cost : Cost
    n_samples : int
        Number of parameter draws (at least 10; hundreds for a useful interval).
    param : int
        Index :math:`k` of the parameter.
    rng : numpy.random.Generator or int, optional
    ci : {"bonett", "bootstrap", "chi2"}
        Interval method, see :func:`variance_interval`.
    confidence : float
    gradient_method : str, optional
        Passed to ``cost.gradient``; ``None`` uses the cost's default.

    Examples
    --------
    For ``tensor_product_rx(n)`` with the global cost :math:`C_G = 1 - \prod_i
    \cos^2(\theta_i/2)`, :math:`\partial_1 C_G = \tfrac12 \sin\theta_1 \prod_{i>1}
    \cos^2(\theta_i/2)`, so :math:`\operatorname{Var} = \tfrac18 (\tfrac38)^{n-1}`; for
    :math:`n = 4` that is 0.00659:

    >>> from qnncourse import ansatz, observables
    >>> from qnncourse.cost import Cost
    >>> cost = Cost(ansatz.tensor_product_rx(4), observables.global_cost(4))
    >>> result = gradient_variance(cost, 1000, rng=0)
    >>> round(result.variance, 5), [round(end, 5) for end in result.ci]
    (0.00599, [0.00494, 0.00729])
    """
    n_samples = check_count("n_samples", n_samples)
    if n_samples < _MIN_SAMPLES:
        raise ValueError(f"n_samples must be at least {_MIN_SAMPLES}, got {n_samples}")
    if isinstance(param, bool) or not isinstance(param, (int, np.integer)):
        raise TypeError(f"param must be an int, got {type(param).__name__}")
    if not 0 <= param < cost.n_params:
        raise ValueError(
            f"param {param} is out of range for a cost with {cost.n_params} parameters "
            f"(allowed 0..{cost.n_params - 1})"
        )
    if ci not in _CI_METHODS:
        raise ValueError(f"ci must be one of {_CI_METHODS}, got {ci!r}")
    confidence = _check_confidence(confidence)
    rng = as_rng(rng)
    thetas = random_parameters(cost.n_params, n_samples, rng)
    if gradient_method is None:
        grads = cost.gradient(thetas)
    else:
        grads = cost.gradient(thetas, method=gradient_method)
    samples = np.asarray(grads, dtype=float)[:, param]
    return GradientVariance(
        variance=float(np.var(samples, ddof=1)),
        ci=variance_interval(samples, confidence, ci, rng=rng),
        samples=samples,
        mean=float(samples.mean()),
        param=int(param),
        confidence=confidence,
        method=ci,
    )


@dataclass(frozen=True, repr=False)
class ExponentialFit:
    r"""Weighted least-squares fit :math:`\ln \operatorname{Var} = a + b\,n`.

    Attributes
    ----------
    slope, intercept : float
        :math:`b` and :math:`a`; :math:`\operatorname{Var} \propto e^{b n}`.
    slope_ci : tuple of float
        Confidence interval for :math:`b`.
    slope_stderr : float
    scale : float
        Birge ratio :math:`\sqrt{\chi^2/(k-2)}` by which the standard error was inflated
        (1 when the points scatter no more than their intervals say).
    confidence : float
    """

    slope: float
    intercept: float
    slope_ci: tuple[float, float]
    slope_stderr: float
    scale: float
    confidence: float

    @property
    def base(self) -> float:
        r""":math:`e^{b}`: the factor by which the variance changes per added qubit."""
        return math.exp(self.slope)

    def __repr__(self) -> str:
        lo, hi = self.slope_ci
        return (
            f"ExponentialFit(d ln Var / dn = {self.slope:.4g}, {self.confidence:.0%} CI "
            f"[{lo:.4g}, {hi:.4g}]; Var ~ {self.base:.4g}^n)"
        )


def exponential_fit(
    n_qubits: Sequence[float],
    variances: Sequence[float],
    cis: Sequence[tuple[float, float]],
    confidence: float = 0.95,
) -> ExponentialFit:
    r"""Fit :math:`\ln \operatorname{Var} = a + b n` with weights from the per-point intervals.

    Each interval gives the standard error of :math:`\ln \operatorname{Var}_i` as
    :math:`\sigma_i = (\ln \mathrm{hi}_i - \ln \mathrm{lo}_i)/(2 z)` (the delta method on the
    log scale, where the intervals of :func:`variance_interval` are near symmetric). The slope's
    standard error is :math:`\sqrt{[(X^\top W X)^{-1}]_{bb}}`, :math:`W = \mathrm{diag}(
    \sigma_i^{-2})`, inflated by the Birge ratio when the points scatter more than their
    intervals allow (a model that is not exactly exponential, such as a local cost's
    polynomial decay [Cerezo2021]_).

    Parameters
    ----------
    n_qubits, variances : sequence of float
        At least two points, variances positive.
    cis : sequence of (lo, hi)
        Intervals with ``0 < lo <= hi``, not all of zero width.
    confidence : float
    """
    n = np.asarray(n_qubits, dtype=float)
    var = np.asarray(variances, dtype=float)
    ci = np.asarray(cis, dtype=float)
    if n.ndim != 1 or n.size < 2:
        raise ValueError(f"n_qubits must be 1-D with at least 2 points, got shape {n.shape}")
    if var.shape != n.shape or ci.shape != (n.size, 2):
        raise ValueError(
            f"variances has shape {var.shape} and cis {ci.shape}; with {n.size} qubit counts "
            f"they must be ({n.size},) and ({n.size}, 2)"
        )
    if np.any(var <= 0) or np.any(ci[:, 0] <= 0) or np.any(ci[:, 1] < ci[:, 0]):
        raise ValueError(
            "variances and interval ends must be positive with lo <= hi, got variances "
            f"{var} and intervals {ci.tolist()}"
        )
    confidence = _check_confidence(confidence)
    z = stats.norm.ppf(0.5 + confidence / 2)
    sigma = (np.log(ci[:, 1]) - np.log(ci[:, 0])) / (2 * z)
    if np.any(sigma <= 0):
        raise ValueError(f"every interval needs positive width, got {ci.tolist()}")
    w = 1 / sigma**2
    X = np.column_stack([np.ones_like(n), n])
    y = np.log(var)
    cov = np.linalg.inv(X.T @ (w[:, None] * X))
    intercept, slope = cov @ (X.T @ (w * y))
    scale = 1.0
    if n.size > 2:
        chi2 = float(np.sum(w * (y - intercept - slope * n) ** 2))
        scale = max(1.0, math.sqrt(chi2 / (n.size - 2)))
    stderr = scale * math.sqrt(cov[1, 1])
    return ExponentialFit(
        slope=float(slope),
        intercept=float(intercept),
        slope_ci=(float(slope - z * stderr), float(slope + z * stderr)),
        slope_stderr=stderr,
        scale=scale,
        confidence=confidence,
    )


@dataclass(frozen=True, repr=False)
class VarianceScan:
    """Gradient variances across qubit counts and the exponential fit through them.

    Attributes
    ----------
    n_qubits : numpy.ndarray
    results : list of GradientVariance
    fit : ExponentialFit
    """

    n_qubits: np.ndarray
    results: list
    fit: ExponentialFit

    @property
    def variances(self) -> np.ndarray:
        return np.array([r.variance for r in self.results])

    @property
    def ci(self) -> np.ndarray:
        """Intervals, shape ``(len(n_qubits), 2)``."""
        return np.array([r.ci for r in self.results])

    @property
    def slope(self) -> float:
        r""":math:`d \ln \operatorname{Var}/dn`."""
        return self.fit.slope

    @property
    def slope_ci(self) -> tuple[float, float]:
        return self.fit.slope_ci

    @property
    def rows(self) -> list[dict]:
        """One dict per qubit count (e.g. for ``pandas.DataFrame(scan.rows)``)."""
        return [
            {
                "n_qubits": int(n),
                "variance": r.variance,
                "ci_low": r.ci[0],
                "ci_high": r.ci[1],
                "n_samples": r.n_samples,
            }
            for n, r in zip(self.n_qubits, self.results, strict=True)
        ]

    def table(self) -> str:
        """The scan as a plain-text table, followed by the fit."""
        lines = [f"{'n':>3}  {'variance':>11}  {'interval':>25}  {'samples':>7}"]
        for row in self.rows:
            interval = f"[{row['ci_low']:.4g}, {row['ci_high']:.4g}]"
            lines.append(
                f"{row['n_qubits']:>3}  {row['variance']:>11.4g}  {interval:>25}  "
                f"{row['n_samples']:>7}"
            )
        lines.append(repr(self.fit))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()


def _variance_job(
    cost_factory: Callable, n: int, n_samples: int, param: int, ci: str, confidence: float, rng
) -> GradientVariance:
    """One qubit count of a scan; module level so that worker processes can unpickle it."""
    cost = cost_factory(n, rng)
    if not hasattr(cost, "gradient") or not hasattr(cost, "n_params"):
        name = getattr(cost_factory, "__qualname__", repr(cost_factory))
        raise TypeError(f"cost_factory {name}({n}, rng) returned {type(cost).__name__}; it must "
                        "return a Cost (an object with n_params and gradient)")
    return gradient_variance(cost, n_samples, param, rng, ci=ci, confidence=confidence)


def variance_scan(
    cost_factory: Callable[[int, np.random.Generator], Any],
    n_qubits: Sequence[int],
    n_samples: int,
    rng: Any = None,
    executor: Any = None,
    *,
    param: int = 0,
    ci: str = "bonett",
    confidence: float = 0.95,
) -> VarianceScan:
    r"""Gradient variance for each qubit count and the slope :math:`d\ln\operatorname{Var}/dn`.

    Each qubit count is one job: ``cost_factory(n, rng)`` builds the cost, then
    :func:`gradient_variance` draws ``n_samples`` parameter vectors uniformly from
    :math:`[0, 2\pi)^p`. Every job gets its own generator spawned from ``rng``, so the result
    does not depend on the executor or on the order the jobs finish in.

    Parameters
    ----------
    cost_factory : callable
        ``cost_factory(n, rng) -> Cost``. With worker processes it must be picklable: a
        function defined at module level (not a lambda or a nested function).
    n_qubits : sequence of int
        At least two distinct qubit counts.
    n_samples : int
    rng : numpy.random.Generator or int, optional
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Where the jobs run. ``None`` starts a local ``ProcessPoolExecutor`` (one process per
        core) and shuts it down afterwards; a dask ``Client`` runs them on its cluster.
    param, ci, confidence
        As in :func:`gradient_variance`.

    Returns
    -------
    VarianceScan
    """
    ns = [check_count("n_qubits entry", n) for n in n_qubits]
    if len(set(ns)) < 2:
        raise ValueError(f"n_qubits needs at least two distinct qubit counts, got {list(ns)}")
    n_samples = check_count("n_samples", n_samples)
    if not callable(cost_factory):
        raise TypeError(f"cost_factory must be callable, got {type(cost_factory).__name__}")
    if ci not in _CI_METHODS:
        raise ValueError(f"ci must be one of {_CI_METHODS}, got {ci!r}")
    confidence = _check_confidence(confidence)
    children = as_rng(rng).spawn(len(ns))

    own_pool = executor is None
    if own_pool:
        executor = ProcessPoolExecutor(max_workers=min(len(ns), os.cpu_count() or 1))
    elif hasattr(executor, "get_executor") and not isinstance(executor, Executor):
        executor = executor.get_executor()  # a dask.distributed Client
    elif not isinstance(executor, Executor):
        raise TypeError(
            "executor must be a concurrent.futures.Executor or a dask.distributed.Client, "
            f"got {type(executor).__name__}"
        )
    try:
        if isinstance(executor, ProcessPoolExecutor):
            _check_picklable(cost_factory)
        futures = [
            executor.submit(_variance_job, cost_factory, n, n_samples, param, ci, confidence, g)
            for n, g in zip(ns, children, strict=True)
        ]
        results = [f.result() for f in futures]
    finally:
        if own_pool:
            executor.shutdown()
    fit = exponential_fit(ns, [r.variance for r in results], [r.ci for r in results], confidence)
    return VarianceScan(n_qubits=np.array(ns), results=results, fit=fit)


def _check_picklable(cost_factory: Callable) -> None:
    try:
        pickle.dumps(cost_factory)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        name = getattr(cost_factory, "__qualname__", repr(cost_factory))
        raise ValueError(
            f"cost_factory {name!r} cannot be sent to worker processes ({exc}); define it "
            "with def at module level (not a lambda or a nested function), or pass "
            "executor=concurrent.futures.ThreadPoolExecutor() or a dask Client"
        ) from None
