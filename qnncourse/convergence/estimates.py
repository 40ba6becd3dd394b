r"""Rates and proportions measured from runs, each with a confidence interval.

* :func:`log_linear_fit`: the slope of :math:`\ln\varepsilon_t` against :math:`t` (the linear
  rate of convergence), least squares with a Student-t interval;
* :func:`mean_interval`: a mean over independent runs with its Student-t interval;
* :func:`wilson_interval`: a success probability from :math:`k` successes in :math:`n` runs
  [Wilson1927]_, which unlike the normal interval stays inside :math:`[0, 1]` and is not
  degenerate at :math:`k = 0` or :math:`k = n`.

References
----------
.. [Wilson1927] E. B. Wilson, "Probable inference, the law of succession, and statistical
   inference", J. Am. Stat. Assoc. 22, 209 (1927), doi:10.1080/01621459.1927.10502953
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from qnncourse._validation import check_count

__all__ = ["LogLinearFit", "log_linear_fit", "mean_interval", "wilson_interval"]


def _check_confidence(confidence: Any) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, int | float | np.floating):
        raise TypeError(f"confidence must be a number in (0, 1), got {type(confidence).__name__}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    return float(confidence)


def wilson_interval(successes: int, trials: int, confidence: float = 0.95
                    ) -> tuple[float, float]:
    r"""Wilson score interval for a success probability.

    .. math::
        \frac{\hat p + \frac{z^2}{2n} \pm z\sqrt{\frac{\hat p(1-\hat p)}{n}
        + \frac{z^2}{4n^2}}}{1 + z^2/n}

    Examples
    --------
    >>> [round(v, 4) for v in wilson_interval(0, 20)]
    [0.0, 0.1611]
    """
    trials = check_count("trials", trials)
    successes = check_count("successes", successes, allow_zero=True)
    if successes > trials:
        raise ValueError(f"successes ({successes}) cannot exceed trials ({trials})")
    z = stats.norm.ppf(0.5 + _check_confidence(confidence) / 2)
    p = successes / trials
    centre = (p + z**2 / (2 * trials)) / (1 + z**2 / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z**2 / (4 * trials**2)) / (1 + z**2 / trials)
    # The ends are exactly 0 and 1 at k = 0 and k = n; rounding would leave 1 - 2e-16.
    lo = 0.0 if successes == 0 else max(0.0, float(centre - half))
    hi = 1.0 if successes == trials else min(1.0, float(centre + half))
    return lo, hi


def mean_interval(samples: Any, confidence: float = 0.95) -> tuple[float, float, float]:
    r"""Mean of independent samples and its Student-t interval.

    Returns
    -------
    (mean, lo, hi) : tuple of float
    """
    x = np.asarray(samples, dtype=float).ravel()
    if x.size < 2 or not np.all(np.isfinite(x)):
        raise ValueError(f"samples must hold at least 2 finite values, got {x.size} values")
    half = stats.t.ppf(0.5 + _check_confidence(confidence) / 2, x.size - 1) * x.std(ddof=1) \
        / math.sqrt(x.size)
    return float(x.mean()), float(x.mean() - half), float(x.mean() + half)


@dataclass(frozen=True, repr=False)
class LogLinearFit:
    r"""Least-squares fit :math:`\ln\varepsilon_t = a + s\,t`.

    Attributes
    ----------
    slope : float
        :math:`s` (negative for a converging run); :math:`\varepsilon_{t+1}/\varepsilon_t
        \approx e^{s}`.
    slope_ci : tuple of float
    intercept : float
    n_points : int
    """

    slope: float
    slope_ci: tuple[float, float]
    intercept: float
    n_points: int

    def __repr__(self) -> str:
        lo, hi = self.slope_ci
        return (f"LogLinearFit(d ln eps / dt = {self.slope:.4g} [{lo:.4g}, {hi:.4g}], "
                f"{self.n_points} points)")


def log_linear_fit(steps: Any, gaps: Any, confidence: float = 0.95) -> LogLinearFit:
    r"""Fit :math:`\ln\varepsilon = a + s\,t` by least squares.

    The interval is the Student-t interval of the slope from the residuals: it measures how far
    the run is from exactly exponential over the window, not run-to-run spread (for that,
    fit several runs and use :func:`mean_interval`).

    Parameters
    ----------
    steps : array_like
        :math:`t`, at least three points.
    gaps : array_like
        :math:`\varepsilon_t > 0`.
    confidence : float

    Examples
    --------
    >>> fit = log_linear_fit(np.arange(5), 0.5 ** np.arange(5))
    >>> round(fit.slope, 6), round(float(np.exp(fit.slope)), 6)
    (-0.693147, 0.5)
    """
    t = np.asarray(steps, dtype=float)
    eps = np.asarray(gaps, dtype=float)
    if t.ndim != 1 or t.shape != eps.shape or t.size < 3:
        raise ValueError(f"steps and gaps must be 1-D of the same length >= 3, got shapes "
                         f"{t.shape} and {eps.shape}")
    if np.any(~np.isfinite(eps)) or np.any(eps <= 0):
        raise ValueError(f"gaps must be finite and positive, got minimum {np.nanmin(eps):.3g}")
    confidence = _check_confidence(confidence)
    res = stats.linregress(t, np.log(eps))
    half = stats.t.ppf(0.5 + confidence / 2, t.size - 2) * res.stderr
    return LogLinearFit(float(res.slope), (float(res.slope - half), float(res.slope + half)),
                        float(res.intercept), int(t.size))
