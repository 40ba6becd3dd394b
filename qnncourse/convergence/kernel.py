r"""The quantum neural tangent kernel and the relative rate of gradient flow.

For a scalar cost, gradient flow :math:`\dot\theta = -\nabla C` changes the cost at the rate
:math:`\dot C = -\|\nabla C\|^2`; the (scalar) quantum neural tangent kernel is

.. math::
    K(\theta) = \sum_{l=1}^{p} \Big(\frac{\partial C}{\partial\theta_l}\Big)^2,

so the error :math:`\varepsilon = C - C^*` obeys :math:`\dot\varepsilon = -K =
-\lambda\varepsilon` with the **relative rate** :math:`\lambda = K/\varepsilon`. Liu et al.
[Liu2023]_ show that for wide (overparameterized) circuits :math:`\lambda` settles to a
constant, so the error decays exponentially; for gradient descent with step :math:`\eta`,
:math:`\varepsilon_{t+1} \approx (1 - \eta\lambda)\varepsilon_t`. A lower bound
:math:`\lambda \ge 2\mu` along the path is the Polyak–Łojasiewicz condition [Karimi2016]_.

For a supervised :class:`~qnncourse.cost.Loss` with model outputs
:math:`f_i(\theta) = f(\theta, x_i)`, the kernel is the :math:`m\times m` Gram matrix
:math:`K_{ij} = \nabla f_i \cdot \nabla f_j`; under gradient flow on the mean squared error the
residuals :math:`r = f - y` obey :math:`\dot r = -\frac{2}{m} K r`.

References
----------
.. [Liu2023] J. Liu, K. Najafi, K. Sharma, F. Tacchino, L. Jiang and A. Mezzacapo, "Analytic
   theory for the dynamics of wide quantum neural networks", Phys. Rev. Lett. 130, 150601
   (2023), doi:10.1103/PhysRevLett.130.150601
.. [Karimi2016] H. Karimi, J. Nutini and M. Schmidt, "Linear convergence of gradient and
   proximal-gradient methods under the Polyak-Łojasiewicz condition", ECML PKDD (2016),
   doi:10.1007/978-3-319-46128-1_50
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from qnncourse.convergence._checks import check_plain_cost, check_thetas
from qnncourse.cost import Cost, Loss

__all__ = ["qntk", "relative_rate", "KernelForecast", "KernelTrace", "kernel_forecast",
           "kernel_trace"]


def qntk(cost: Any, theta: Any) -> float | np.ndarray:
    r"""Quantum neural tangent kernel of ``cost`` at ``theta`` (module docstring).

    Parameters
    ----------
    cost : Cost or Loss
        For a :class:`~qnncourse.cost.Cost`: :math:`K = \|\nabla C\|^2`. For a
        :class:`~qnncourse.cost.Loss`: the :math:`m\times m` kernel of the model outputs on its
        data set (computed exactly, without its shots, on the same circuit, observable and
        noise).
    theta : array_like, shape (p,) or (S, p)

    Returns
    -------
    float, numpy.ndarray
        Cost: a float, or shape ``(S,)`` for a batch. Loss: ``(m, m)``, or ``(S, m, m)``.

    Examples
    --------
    Two :math:`R_X` rotations and the local cost, :math:`C = \frac12 - \frac14(\cos\theta_1 +
    \cos\theta_2)`, so :math:`K = (\sin^2\theta_1 + \sin^2\theta_2)/16`:

    >>> from qnncourse import ansatz, observables
    >>> cost = Cost(ansatz.tensor_product_rx(2), observables.local_cost(2))
    >>> round(qntk(cost, [np.pi / 2, np.pi / 2]), 6)
    0.125
    >>> qntk(cost, [[np.pi / 2, 0.0], [0.0, 0.0]]).round(6) + 0.0
    array([0.0625, 0.    ])
    """
    thetas, batched = check_thetas(cost, theta)
    rows = np.atleast_2d(thetas)
    if isinstance(cost, Loss):
        model = Cost(cost.circuit, cost.observable, noise=cost.noise)
        # One gradient call per draw, batched over the m data points.
        jac = np.stack([np.asarray(model.gradient(t, x=cost.X)) for t in rows])  # (S, m, p)
        out = np.einsum("smp,snp->smn", jac, jac)
        return out if batched else out[0]
    grads = np.asarray(cost.gradient(rows), dtype=float).reshape(rows.shape)
    out = np.sum(grads**2, axis=1)
    return out if batched else float(out[0])


def relative_rate(cost: Any, theta: Any, cost_star: float) -> float | np.ndarray:
    r"""Relative rate :math:`\lambda = K(\theta)/(C(\theta) - C^*)`.

    Parameters
    ----------
    cost : Cost
    theta : array_like, shape (p,) or (S, p)
    cost_star : float
        The minimum :math:`C^*` (or a lower bound on it); :math:`C(\theta) > C^*` is required.
    """
    check_plain_cost(cost, "relative_rate")
    thetas, batched = check_thetas(cost, theta)
    cost_star = _check_star(cost_star)
    rows = np.atleast_2d(thetas)
    values, grads = cost.value_and_gradient(rows)
    gap = np.asarray(values) - cost_star
    if np.any(gap <= 0):
        raise ValueError(f"C(theta) - cost_star must be positive, got {gap.min():.3g}; "
                         "cost_star must lie below every cost value")
    lam = np.sum(np.asarray(grads) ** 2, axis=1) / gap
    return lam if batched else float(lam[0])


def _check_star(cost_star: Any) -> float:
    if isinstance(cost_star, bool) or not isinstance(cost_star, int | float | np.number):
        raise TypeError(f"cost_star must be a real number, got {type(cost_star).__name__}")
    if not math.isfinite(float(cost_star)):
        raise ValueError(f"cost_star must be finite, got {cost_star!r}")
    return float(cost_star)


@dataclass(frozen=True, repr=False)
class KernelTrace:
    r"""The kernel and the relative rate along a sequence of parameters (a training run).

    Attributes
    ----------
    gap : numpy.ndarray, shape (T+1,)
        :math:`\varepsilon_t = C(\theta_t) - C^*`.
    kernel : numpy.ndarray, shape (T+1,)
        :math:`K(\theta_t)`.
    rate : numpy.ndarray, shape (T+1,)
        :math:`\lambda_t = K_t/\varepsilon_t` (``nan`` where :math:`\varepsilon_t \le 0`).
    """

    gap: np.ndarray
    kernel: np.ndarray
    rate: np.ndarray

    def pl_bound(self, lr: float, smoothness: float) -> np.ndarray:
        r"""The guarantee :math:`\varepsilon_t \le \varepsilon_0\prod_{s<t}(1 -
        \eta(1 - \eta L/2)\lambda_s)` from the descent lemma, for :math:`\eta < 2/L`."""
        factors = 1 - lr * (1 - lr * smoothness / 2) * self.rate[:-1]
        return self.gap[0] * np.concatenate([[1.0], np.cumprod(factors)])

    def __repr__(self) -> str:
        return (f"KernelTrace({len(self.gap)} points: gap {self.gap[0]:.3g} -> "
                f"{self.gap[-1]:.3g}, rate {self.rate[0]:.3g} -> {self.rate[-1]:.3g})")


def kernel_trace(cost: Any, thetas: Any, cost_star: float) -> KernelTrace:
    r"""Evaluate :math:`\varepsilon_t`, :math:`K_t` and :math:`\lambda_t` at the rows of ``thetas``.

    One batched value-and-gradient call.

    Parameters
    ----------
    cost : Cost
    thetas : array_like, shape (T+1, p)
        E.g. ``train(...).thetas``.
    cost_star : float
    """
    check_plain_cost(cost, "kernel_trace")
    thetas, batched = check_thetas(cost, thetas, "thetas")
    if not batched:
        raise ValueError(f"thetas must be a sequence of parameter vectors, shape (T+1, "
                         f"{cost.n_params}), got shape {thetas.shape}")
    cost_star = _check_star(cost_star)
    values, grads = cost.value_and_gradient(thetas)
    gap = np.asarray(values, dtype=float) - cost_star
    kernel = np.sum(np.asarray(grads) ** 2, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(gap > 0, kernel / gap, np.nan)
    return KernelTrace(gap, kernel, rate)


@dataclass(frozen=True, repr=False)
class KernelForecast:
    r"""The error curve that a kernel frozen at step ``start`` predicts, beside the measured one.

    Attributes
    ----------
    start : int
        Step :math:`s` at which :math:`\lambda_s` was read.
    steps : numpy.ndarray
        :math:`t = s, s+1, \dots`.
    predicted, measured : numpy.ndarray
        :math:`\varepsilon_s(1 - \eta\lambda_s)^{t-s}` and :math:`\varepsilon_t`.
    ratio : float
        Measured over predicted log-decrease from :math:`s` to the last step,
        :math:`\ln(\varepsilon_s/\varepsilon_T) / [-(T-s)\ln(1-\eta\lambda_s)]`: 1 when the
        frozen kernel predicts the whole curve, below 1 when the run slows down (the kernel
        shrinks), above 1 when it speeds up.
    """

    start: int
    steps: np.ndarray
    predicted: np.ndarray
    measured: np.ndarray
    ratio: float

    def __repr__(self) -> str:
        return (f"KernelForecast(from step {self.start}, {self.steps.size} steps: measured / "
                f"predicted log-decrease {self.ratio:.3f})")


def kernel_forecast(trace: KernelTrace, lr: float, start: int = 0,
                    stop: int | None = None) -> KernelForecast:
    r"""Predict the error curve from the kernel at one step, and compare with the run.

    The frozen-kernel (lazy) picture of Liu et al. [Liu2023]_ says that :math:`\lambda` stays at
    its value :math:`\lambda_s`, so :math:`\varepsilon_t = \varepsilon_s(1 - \eta\lambda_s)^{t-s}`
    for gradient descent. Unlike a fit of the slope with the :math:`\lambda_t` of the same
    steps (which only tests that :math:`\lambda` is constant over the fitted window), this uses
    nothing after step ``start``: it is a prediction that the rest of the run can refute.

    Parameters
    ----------
    trace : KernelTrace
        From :func:`kernel_trace` along the run.
    lr : float
        The step :math:`\eta` of the run, with :math:`0 < \eta\lambda_s < 1`.
    start : int
        The step whose kernel is frozen (0: at initialisation).
    stop : int, optional
        Last step compared (default: the end of the trace).

    Examples
    --------
    A pure exponential with :math:`\eta\lambda = 0.1` at every step is predicted exactly:

    >>> gap = 0.9 ** np.arange(20)
    >>> trace = KernelTrace(gap, 1.0 * gap, np.full(20, 1.0))
    >>> round(kernel_forecast(trace, 0.1, start=5).ratio, 12)
    1.0
    """
    if not isinstance(trace, KernelTrace):
        raise TypeError(f"trace must be a KernelTrace, got {type(trace).__name__}")
    n = trace.gap.size
    stop = n - 1 if stop is None else stop
    for name, value in (("start", start), ("stop", stop)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not 0 <= start < stop <= n - 1:
        raise ValueError(f"need 0 <= start < stop <= {n - 1}, got start={start}, stop={stop}")
    if isinstance(lr, bool) or not isinstance(lr, int | float | np.number) or not lr > 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    factor = 1 - float(lr) * trace.rate[start]
    if not 0 < factor < 1:
        raise ValueError(f"eta * lambda at step {start} is {1 - factor:.3g}; the frozen-kernel "
                         "forecast needs 0 < eta * lambda < 1")
    steps = np.arange(start, stop + 1)
    predicted = trace.gap[start] * factor ** (steps - start)
    measured = trace.gap[start:stop + 1]
    if np.any(measured <= 0):
        raise ValueError("the measured gap must stay positive up to `stop`")
    ratio = float(np.log(measured[0] / measured[-1]) / (-(stop - start) * np.log(factor)))
    return KernelForecast(int(start), steps, predicted, measured, ratio)
