r"""Barren plateaus, measured: gradient variances with honest intervals, scans, 2-designs.

A barren plateau is the statement :math:`\operatorname{Var}_\theta[\partial_k C] \in
O(b^{-n})` for some :math:`b > 1` [McClean2018]_. This module estimates that variance from
random parameter draws, puts a confidence interval on it that keeps its promised coverage for
the non-Gaussian (often heavy-tailed) gradient distributions circuits produce, fits
:math:`\ln \operatorname{Var} = a + b\,n` across qubit counts with an interval for the slope
:math:`b`, checks at which depth a circuit family's output states look like a 2-design, and
predicts a deep circuit's variance from its dynamical Lie algebra (:func:`lie_variance`).

Parameters are always drawn uniformly from :math:`[0, 2\pi)^p`, the ensemble of [McClean2018]_.

References
----------
.. [McClean2018] J. R. McClean, S. Boixo, V. N. Smelyanskiy, R. Babbush and H. Neven, "Barren
   plateaus in quantum neural network training landscapes", Nat. Commun. 9, 4812 (2018),
   https://doi.org/10.1038/s41467-018-07090-4
.. [Cerezo2021] M. Cerezo, A. Sone, T. Volkoff, L. Cincio and P. J. Coles, Nat. Commun. 12,
   1791 (2021) (cost-function-dependent barren plateaus), doi:10.1038/s41467-021-21728-w
.. [Bonett2006] D. G. Bonett, "Approximate confidence interval for standard deviation of
   nonnormal distributions", Comput. Stat. Data Anal. 50, 775 (2006),
   https://doi.org/10.1016/j.csda.2004.10.003
.. [Ragone2024] M. Ragone, B. N. Bakalov, F. Sauvage, A. F. Kemper, C. Ortiz Marrero,
   M. Larocca and M. Cerezo, "A Lie algebraic theory of barren plateaus for deep parameterized
   quantum circuits", Nat. Commun. 15, 7172 (2024),
   https://doi.org/10.1038/s41467-024-49909-3
.. [Gross2007] D. Gross, K. Audenaert and J. Eisert, "Evenly distributed unitaries: on the
   structure of unitary designs", J. Math. Phys. 48, 052104 (2007),
   https://doi.org/10.1063/1.2716992
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
import qutip
from scipy import stats

from qnncourse._validation import as_rng, check_count, check_fraction, check_memory

__all__ = [
    "GradientVariance",
    "gradient_variance",
    "variance_interval",
    "ExponentialFit",
    "exponential_fit",
    "VarianceScan",
    "variance_scan",
    "haar_states",
    "haar_unitaries",
    "FramePotential",
    "frame_potential",
    "haar_frame_potential",
    "DesignScan",
    "two_design_depth",
    "random_parameters",
    "LieComponent",
    "LieVariance",
    "LieVarianceCheck",
    "lie_variance",
    "lie_variance_check",
]

_CI_METHODS = ("bonett", "bootstrap", "chi2")
_MIN_SAMPLES = 10


def random_parameters(n_params: int, n_samples: int, rng: Any = None) -> np.ndarray:
    r"""Draw ``n_samples`` parameter vectors uniformly from :math:`[0, 2\pi)^{p}`.

    Returns
    -------
    numpy.ndarray, shape (n_samples, n_params)
    """
    n_params = check_count("n_params", n_params, allow_zero=True)
    n_samples = check_count("n_samples", n_samples)
    check_memory(8 * n_params * n_samples, f"{n_samples} x {n_params} parameter draws")
    return as_rng(rng).uniform(0.0, 2 * np.pi, size=(n_samples, n_params))


def variance_interval(
    samples: Any,
    confidence: float = 0.95,
    method: str = "bonett",
    rng: Any = None,
    n_resamples: int = 1999,
) -> tuple[float, float]:
    r"""Confidence interval for the variance of the distribution ``samples`` were drawn from.

    Methods
    -------
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


def haar_states(n_qubits: int, n_samples: int, rng: Any = None) -> np.ndarray:
    """Haar-random pure states of ``n_qubits`` qubits, drawn with ``qutip.rand_ket``.

    Returns
    -------
    numpy.ndarray, shape (n_samples, 2**n_qubits), complex
    """
    d = 2 ** check_count("n_qubits", n_qubits)
    n_samples = check_count("n_samples", n_samples)
    check_memory(16 * d * n_samples, f"{n_samples} Haar states of dimension {d}")
    rng = as_rng(rng)
    return np.array(
        [qutip.rand_ket(d, distribution="haar", seed=rng).full().ravel() for _ in range(n_samples)]
    )


def haar_unitaries(n_qubits: int, n_samples: int, rng: Any = None) -> np.ndarray:
    """Haar-random unitaries on ``n_qubits`` qubits, drawn with ``qutip.rand_unitary``.

    Returns
    -------
    numpy.ndarray, shape (n_samples, 2**n_qubits, 2**n_qubits), complex
    """
    d = 2 ** check_count("n_qubits", n_qubits)
    n_samples = check_count("n_samples", n_samples)
    check_memory(16 * d * d * n_samples, f"{n_samples} Haar unitaries of dimension {d}")
    rng = as_rng(rng)
    return np.array(
        [qutip.rand_unitary(d, distribution="haar", seed=rng).full() for _ in range(n_samples)]
    )


def haar_frame_potential(dim: int, t: int = 2) -> float:
    r"""Frame potential of Haar-random states, :math:`F^{(t)}_\mathrm{Haar} = 1/\binom{d+t-1}{t}`.

    For :math:`t = 2`: :math:`2/(d(d+1))`. Any ensemble has :math:`F^{(t)} \ge
    F^{(t)}_\mathrm{Haar}`, with equality exactly for state :math:`t`-designs [Gross2007]_.
    """
    dim = check_count("dim", dim)
    t = check_count("t", t)
    return 1.0 / math.comb(dim + t - 1, t)


@dataclass(frozen=True, repr=False)
class FramePotential:
    r"""Estimated frame potential :math:`F^{(t)} = \mathbb{E}|\langle\psi|\phi\rangle|^{2t}`.

    Attributes
    ----------
    value : float
        U-statistic over all pairs of distinct states (unbiased).
    stderr : float
        Standard error from the Hoeffding decomposition of the U-statistic's variance.
    haar : float
        The Haar value :math:`1/\binom{d+t-1}{t}`.
    t : int
    """

    value: float
    stderr: float
    haar: float
    t: int

    @property
    def ratio(self) -> float:
        """``value / haar``: 1 for a state t-design, larger otherwise."""
        return self.value / self.haar

    def __repr__(self) -> str:
        return (
            f"FramePotential(t={self.t}: {self.value:.4g} ± {self.stderr:.2g}, "
            f"Haar {self.haar:.4g}, ratio {self.ratio:.3f})"
        )


def frame_potential(states: Any, t: int = 2) -> FramePotential:
    r"""Frame potential of an ensemble of pure states, from samples.

    .. math::
        \hat F^{(t)} = \binom{S}{2}^{-1} \sum_{i<j} |\langle\psi_i|\psi_j\rangle|^{2t}

    Parameters
    ----------
    states : array_like, shape (S, d)
        At least 3 normalised state vectors (rows).
    t : int
    """
    psi = np.asarray(states)
    if psi.ndim != 2 or psi.shape[0] < 3:
        raise ValueError(f"states must have shape (S, d) with S >= 3, got shape {psi.shape}")
    t = check_count("t", t)
    norms = np.linalg.norm(psi, axis=1)
    if not np.allclose(norms, 1.0, atol=1e-8):
        raise ValueError(f"states must be normalised; norms range from {norms.min()} to "
                         f"{norms.max()}")
    S = psi.shape[0]
    check_memory(8 * S * S, f"the {S} x {S} overlap matrix")
    overlaps = np.abs(psi.conj() @ psi.T) ** (2 * t)
    pairs = overlaps[np.triu_indices(S, k=1)]
    value = pairs.mean()
    np.fill_diagonal(overlaps, 0.0)
    rows = overlaps.sum(axis=1) / (S - 1)
    # Hoeffding: Var(U) = [4 (S-2) z1 + 2 z2] / (S (S-1)) with z2 = Var h(a, b) and
    # z1 = Cov(h(a, b), h(a, c)); Var(row mean) = z1 + (z2 - z1)/(S - 1) gives z1. Near a design
    # z1 -> 0 (the ensemble is unitarily invariant) and a jackknife would overstate the error.
    z2 = pairs.var(ddof=1)
    z1 = max((rows.var(ddof=1) - z2 / (S - 1)) * (S - 1) / (S - 2), 0.0)
    stderr = math.sqrt((4 * (S - 2) * z1 + 2 * z2) / (S * (S - 1)))
    return FramePotential(float(value), stderr, haar_frame_potential(psi.shape[1], t), t)


@dataclass(frozen=True, repr=False)
class DesignScan:
    """Frame potentials of a circuit family's output states across depths.

    Attributes
    ----------
    depths : numpy.ndarray
    potentials : list of FramePotential
    """

    depths: np.ndarray
    potentials: list

    def design_depth(self, rel_tol: float = 0.05) -> int | None:
        """First depth whose frame potential is within ``rel_tol`` of the Haar value."""
        for depth, fp in zip(self.depths, self.potentials, strict=True):
            if fp.value <= (1 + rel_tol) * fp.haar:
                return int(depth)
        return None

    def __repr__(self) -> str:
        lines = [f"{'depth':>5}  {'F2':>10}  {'stderr':>8}  {'F2/Haar':>8}"]
        for depth, fp in zip(self.depths, self.potentials, strict=True):
            lines.append(f"{depth:>5}  {fp.value:>10.4g}  {fp.stderr:>8.2g}  {fp.ratio:>8.3f}")
        return "\n".join(lines)


def two_design_depth(
    circuit_factory: Callable[[int], Any],
    depths: Sequence[int],
    n_samples: int,
    rng: Any = None,
    *,
    t: int = 2,
) -> DesignScan:
    r"""Frame potential of :math:`U(\theta)|0\rangle`, :math:`\theta \sim U[0,2\pi)^p`, per depth.

    This is the *state* design check: the output states form a state :math:`t`-design exactly
    when :math:`F^{(t)}` equals :math:`F^{(t)}_\mathrm{Haar}` (:func:`haar_frame_potential`);
    the depth where the ratio reaches about 1 is where the circuit family becomes
    2-design-like and, by [McClean2018]_, has a barren plateau.

    Parameters
    ----------
    circuit_factory : callable
        ``circuit_factory(depth) -> Circuit``.
    depths : sequence of int
    n_samples : int
        States per depth (at least 3; a few hundred for a tight estimate).
    rng : numpy.random.Generator or int, optional
    t : int
    """
    from qnncourse.simulators.statevector import run

    depth_list = [check_count("depths entry", d, allow_zero=True) for d in depths]
    if not depth_list:
        raise ValueError("depths must not be empty")
    n_samples = check_count("n_samples", n_samples)
    if n_samples < 3:
        raise ValueError(f"n_samples must be at least 3, got {n_samples}")
    rng = as_rng(rng)
    potentials = []
    for depth in depth_list:
        circuit = circuit_factory(depth)
        thetas = random_parameters(circuit.n_params, n_samples, rng)
        states = np.asarray(run(circuit, thetas)).reshape(n_samples, -1)
        potentials.append(frame_potential(states, t))
    return DesignScan(np.array(depth_list), potentials)


@dataclass(frozen=True)
class LieComponent:
    r"""One simple ideal :math:`\mathfrak{g}_\alpha` in :func:`lie_variance`: its dimension, the
    purities of the state and of the observable, and its share of the variance."""

    dimension: int
    state_purity: float
    observable_purity: float

    @property
    def contribution(self) -> float:
        r"""This ideal's share, :math:`P_{\mathfrak{g}_\alpha}(\rho)\, P_{\mathfrak{g}_\alpha}(O) /
        \dim \mathfrak{g}_\alpha`."""
        return self.state_purity * self.observable_purity / self.dimension


@dataclass(frozen=True, repr=False)
class LieVariance:
    r"""The variance of a deep circuit's cost predicted from its DLA [Ragone2024]_.

    Attributes
    ----------
    value : float
        :math:`\sum_\alpha P_{\mathfrak{g}_\alpha}(\rho)\, P_{\mathfrak{g}_\alpha}(O) /
        \dim\mathfrak{g}_\alpha`.
    components : tuple of LieComponent
        One row per simple ideal (largest first).
    dla_dimension : int
        :math:`\dim \mathfrak{g}`, centre included.
    centre_dimension : int
        :math:`\dim \mathfrak{z}(\mathfrak{g})`; the centre adds nothing to the variance.
    """

    value: float
    components: tuple[LieComponent, ...]
    dla_dimension: int
    centre_dimension: int

    def __repr__(self) -> str:
        rows = "\n".join(
            f"  {c.dimension:>9d}  {c.state_purity:>10.4g}  {c.observable_purity:>10.4g}  "
            f"{c.contribution:>12.4g}"
            for c in self.components
        )
        return (
            f"LieVariance(value={self.value:.6g}, dim g = {self.dla_dimension}, centre "
            f"{self.centre_dimension})\n  dim ideal  P(rho)      P(O)        P(rho)P(O)/dim\n"
            + rows
        )


def _density_matrix(state: Any, n_qubits: int) -> np.ndarray:
    """``state`` (None for |0...0>, a ket or a density matrix) as a validated dense matrix."""
    dim = 2**n_qubits
    check_memory(16 * dim * dim, f"the {dim} x {dim} density matrix of {n_qubits} qubits")
    if state is None:
        rho = np.zeros((dim, dim), dtype=complex)
        rho[0, 0] = 1.0
        return rho
    array = state.full() if isinstance(state, qutip.Qobj) else np.asarray(state, dtype=complex)
    if array.ndim == 2 and 1 in array.shape:
        array = array.reshape(-1)
    if array.shape == (dim,):
        norm = np.linalg.norm(array)
        if not np.isfinite(norm) or norm == 0:
            raise ValueError("state is a zero or non-finite vector")
        array = array / norm
        return np.outer(array, array.conj())
    if array.shape != (dim, dim):
        raise ValueError(
            f"state has shape {array.shape}; the algebra acts on {n_qubits} qubits, so a ket of "
            f"{dim} amplitudes or a {dim} x {dim} density matrix is needed"
        )
    if not np.allclose(array, array.conj().T, atol=1e-10):
        raise ValueError("state is not Hermitian: a density matrix must equal its adjoint")
    return array


def _observable_matrix(observable: Any, n_qubits: int) -> Any:
    """Pauli-type observables pass through (their purity is exact and cheap); matrices are
    checked for size here so that the message names the observable."""
    if isinstance(observable, qutip.Qobj | np.ndarray):
        matrix = observable.full() if isinstance(observable, qutip.Qobj) else observable
        if matrix.shape != (2**n_qubits, 2**n_qubits):
            raise ValueError(
                f"observable has shape {matrix.shape}; the algebra acts on {n_qubits} qubits "
                f"({2**n_qubits} x {2**n_qubits})"
            )
        return matrix
    return observable


def lie_variance(circuit_or_generators: Any, state: Any, observable: Any) -> LieVariance:
    r"""Variance of :math:`C = \mathrm{Tr}[U\rho U^\dagger O]` over a deep circuit's group.

    When the circuit is deep enough to sample its dynamical Lie group :math:`e^{\mathfrak{g}}`
    like a 2-design and :math:`O \in i\mathfrak{g}` or :math:`\rho \in i\mathfrak{g}` (each up
    to a multiple of the identity), [Ragone2024]_ (Theorem 1; also Fontana et al., Nat.
    Commun. 15, 7171 (2024)) gives exactly

    .. math::
        \operatorname{Var}_\theta[C] = \sum_\alpha
        \frac{P_{\mathfrak{g}_\alpha}(\rho)\, P_{\mathfrak{g}_\alpha}(O)}{\dim \mathfrak{g}_\alpha}

    over the simple ideals :math:`\mathfrak{g}_\alpha` of :math:`\mathfrak{g} = \mathfrak{z}
    \oplus \bigoplus_\alpha \mathfrak{g}_\alpha` (:func:`qnncourse.lie.decompose`), with the
    :math:`\mathfrak{g}_\alpha`-purity :math:`P(H) = \sum_j \mathrm{Tr}(B_j H)^2`
    (:func:`qnncourse.lie.purity`). The centre adds no variance. Expressibility
    (:math:`\dim\mathfrak{g}_\alpha`), locality of :math:`O` and entanglement of :math:`\rho`
    (through their purities) enter one formula.

    Parameters
    ----------
    circuit_or_generators : Circuit or generators
        Anything :func:`qnncourse.lie.closure` accepts.
    state : None, ket or density matrix (numpy.ndarray or qutip.Qobj)
        :math:`\rho`; ``None`` means :math:`|0\dots0\rangle\langle0\dots0|`.
    observable : Pauli label, PauliSum, dict, numpy.ndarray or qutip.Qobj
        Hermitian :math:`O`.

    Raises
    ------
    ValueError
        For a non-Hermitian state or observable, wrong sizes, a density matrix that would not
        fit in memory (the message names the bytes), or when neither :math:`O` nor
        :math:`\rho` lies in :math:`i\mathfrak{g}`: the theorem does not apply, and the message
        reports the part of each outside :math:`\mathfrak{g}`.

    Notes
    -----
    Exact where :func:`qnncourse.lie.decompose` is exact (algebras spanned by Pauli strings);
    for algebras of Pauli sums the ideals come from a floating-point root decomposition
    verified to :math:`10^{-6}`.

    Examples
    --------
    The universal case reproduces the Haar value :math:`1/(2^n+1)` for :math:`\langle Z_0\rangle`:

    >>> round(lie_variance(["XI", "ZI", "IX", "IZ", "ZZ"], None, "ZI").value, 12)
    0.2
    """
    from qnncourse.lie import closure, decompose, purity

    _reject_fixed_gates(circuit_or_generators)
    algebra = closure(circuit_or_generators)
    n = algebra.n_qubits
    rho = _density_matrix(state, n)
    observable = _observable_matrix(observable, n)
    parts = decompose(algebra)
    outside = []
    for name, operator in (("observable", observable), ("state", rho)):
        norm = _traceless_norm_squared(operator)
        inside = purity(operator, parts.algebra)
        outside.append((name, norm - inside, norm))
    if all(out > 1e-9 * max(1.0, norm) for _, out, norm in outside):
        shown = "; ".join(
            f"the {name} has {out:.4g} of its squared norm {norm:.4g} (traceless part) outside g"
            for name, out, norm in outside
        )
        raise ValueError(
            "lie_variance needs the observable or the state inside i*g (up to a multiple of "
            f"the identity), but {shown}: outside it the DLA alone does not fix the variance"
        )
    components = tuple(
        LieComponent(ideal.dim, purity(rho, ideal), purity(observable, ideal))
        for ideal in parts.simple
    )
    return LieVariance(
        float(sum(c.contribution for c in components)),
        components,
        algebra.dim,
        parts.centre.dim,
    )


def _reject_fixed_gates(circuit_or_generators: Any) -> None:
    """The theorem is about circuits made of the generators' rotations only."""
    from qnncourse.circuit import Circuit

    if isinstance(circuit_or_generators, Circuit) and any(
        op.kind == "fixed" for op in circuit_or_generators.operations
    ):
        raise ValueError(
            "the circuit has fixed gates: with them the cost is Tr[F^dag O F U rho U^dag] for "
            "the product F of fixed gates, and repeating the circuit conjugates its generators "
            "by powers of F, so its DLA alone does not give the deep circuit's variance; pass "
            "the generators of the deep circuit (or a circuit of rotations only)"
        )


def _traceless_norm_squared(operator: Any) -> float:
    r""":math:`\mathrm{Tr}(H^2) - \mathrm{Tr}(H)^2/d`: the squared norm of :math:`H`'s traceless
    part, which a DLA (traceless) can contain in full."""
    from qnncourse.paulis import as_pauli_sum

    if isinstance(operator, qutip.Qobj):
        matrix = operator.full()
    elif isinstance(operator, np.ndarray):
        matrix = operator
    else:
        ps = as_pauli_sum(operator)
        d = 2**ps.n_qubits
        identity = complex(ps.terms.get("I" * ps.n_qubits, 0))
        return float(d * sum(abs(c) ** 2 for c in ps.terms.values()) - d * abs(identity) ** 2)
    d = matrix.shape[0]
    return float(np.sum(np.abs(matrix) ** 2) - abs(np.trace(matrix)) ** 2 / d)


@dataclass(frozen=True, repr=False)
class LieVarianceCheck:
    """Predicted (:func:`lie_variance`) against measured variance over deep random circuits."""

    predicted: LieVariance
    measured: float
    ci: tuple[float, float]
    samples: np.ndarray
    depth: int

    @property
    def agrees(self) -> bool:
        """Whether the measured 95% interval covers the prediction."""
        return bool(self.ci[0] <= self.predicted.value <= self.ci[1])

    def __repr__(self) -> str:
        lo, hi = self.ci
        return (
            f"LieVarianceCheck(predicted {self.predicted.value:.4g}, measured "
            f"{self.measured:.4g} [{lo:.4g}, {hi:.4g}] at depth {self.depth}, "
            f"dim g = {self.predicted.dla_dimension})"
        )


def _deep_circuit(circuit_or_generators: Any, depth: int):
    """``depth`` repetitions of a circuit of rotations, or of one rotation per Pauli-string
    generator, each repetition with fresh parameters."""
    from qnncourse.circuit import Circuit
    from qnncourse.lie import closure
    from qnncourse.paulis import PauliString, as_pauli_sum

    if isinstance(circuit_or_generators, Circuit):
        block = circuit_or_generators
        if block.n_features:
            raise ValueError("the circuit has data encodings: give one without features")
    else:
        gens = (
            [circuit_or_generators]
            if isinstance(circuit_or_generators, str | PauliString | dict)
            else list(circuit_or_generators)
        )
        block = Circuit(closure(gens).n_qubits)
        for g in gens:
            terms = as_pauli_sum(g).terms
            if len(terms) != 1:
                raise ValueError(
                    f"a generator with {len(terms)} Pauli terms cannot be sampled as one "
                    "rotation here: build a Circuit with the rotations you mean and pass it"
                )
            block.pauli_rotation(next(iter(terms)))
    deep = Circuit(block.n_qubits)
    for layer in range(depth):
        base = layer * block.n_params
        for op in block.operations:  # rotations only: lie_variance rejected fixed gates
            target = base + op.param_index
            shared = None if target == deep.n_params else target
            deep.pauli_rotation(op.pauli, op.qubits, param=shared)
    return deep


def lie_variance_check(
    circuit_or_generators: Any,
    state: Any,
    observable: Any,
    *,
    depth: int = 40,
    n_samples: int = 2000,
    confidence: float = 0.95,
    rng: Any = None,
) -> LieVarianceCheck:
    r"""Measure :math:`\operatorname{Var}_\theta[C]` on deep circuits and set it beside the
    prediction of :func:`lie_variance`.

    The deep circuit repeats ``circuit_or_generators`` ``depth`` times with fresh parameters
    (for generators: one rotation :math:`e^{-i\theta P/2}` per Pauli string per repetition),
    parameters uniform in :math:`[0, 2\pi)`. The state is prepared exactly (a mixed state
    through its eigen-decomposition), so the only error is sampling, reported as the 95%
    interval of :func:`variance_interval` (Bonett's, at ``confidence``).
    """
    from qnncourse.observables import as_observable
    from qnncourse.simulators.statevector import run

    check_count("depth", depth)
    check_count("n_samples", n_samples)
    predicted = lie_variance(circuit_or_generators, state, observable)
    deep = _deep_circuit(circuit_or_generators, depth)
    n = deep.n_qubits
    weights, kets = np.linalg.eigh(_density_matrix(state, n))
    obs = as_observable(observable, n)
    thetas = random_parameters(deep.n_params, n_samples, rng)
    values = np.zeros(n_samples)
    for w, ket in zip(weights, kets.T, strict=True):
        if w > 1e-12:
            values += w * obs.expectation(run(deep, thetas, psi0=ket).reshape(n_samples, -1))
    ci = variance_interval(values, confidence)
    return LieVarianceCheck(predicted, float(np.var(values, ddof=1)), ci, values, depth)
