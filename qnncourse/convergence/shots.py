r"""Stochastic gradients from shots, and the noise floor of constant-step SGD.

With ``shots`` :math:`=N` measurements per circuit, the parameter-shift estimate of
:math:`\partial_j C = \frac12[C(\theta + \frac\pi2 e_j) - C(\theta - \frac\pi2 e_j)]` is
unbiased, with independent components of variance

.. math::
    \sigma_j^2/N, \qquad \sigma_j^2 = \tfrac14\big[\operatorname{Var}_{\theta + \frac\pi2 e_j}(O)
    + \operatorname{Var}_{\theta - \frac\pi2 e_j}(O)\big],

:math:`\operatorname{Var}_\theta(O) = \langle O^2\rangle_\theta - \langle O\rangle_\theta^2`
being the single-shot variance. Gradient descent on these estimates is stochastic gradient
descent; with a constant step it does not converge but fluctuates about a minimum (Sweke et al.
2020). Near a minimum :math:`\theta^*` with Hessian :math:`H = \sum_i h_i u_i u_i^\top`,
the linearised iteration :math:`\delta_{t+1} = (I - \eta H)\delta_t - \eta\xi_t`,
:math:`\operatorname{Cov}\xi = \Sigma/N`, has a stationary covariance :math:`P` whose diagonal
in the eigenbasis is :math:`P_{ii} = \eta\,\tilde\Sigma_{ii}/(N h_i(2 - \eta h_i))`
(:math:`\tilde\Sigma = U^\top\Sigma U`), so the mean excess cost settles at

.. math::
    \mathbb E[C - C^*] = \frac12\sum_{h_i > 0} h_i P_{ii}
    = \frac{\eta}{2N}\sum_{h_i>0}\frac{\tilde\Sigma_{ii}}{2 - \eta h_i}
    \approx \frac{\eta}{4N}\operatorname{Tr}(\Pi\,\Sigma),

proportional to :math:`\eta/N` (:math:`\Pi` projects onto the curved directions; flat
directions of an overparameterized minimum cost nothing). A step size that decays like
:math:`\eta_t \propto 1/t` removes the floor.

References
----------
R. Sweke et al., "Stochastic gradient descent for hybrid quantum-classical
optimization", Quantum 4, 314 (2020), doi:10.22331/q-2020-08-31-314.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qnncourse._validation import check_count, check_positive
from qnncourse.convergence._checks import check_plain_cost, check_thetas, shares_parameters
from qnncourse.convergence.rates import hessian
from qnncourse.cost import Cost

__all__ = ["shift_gradient_variance", "noise_floor"]

# Hessian eigenvalues below this (relative to the largest) count as flat directions.
_FLAT = 1e-8


def shift_gradient_variance(cost: Any, theta: Any) -> np.ndarray:
    r"""Single-shot variances :math:`\sigma_j^2` of the parameter-shift gradient components.

    Divide by :math:`N` for the variance with ``shots=N``.

    Parameters
    ----------
    cost : Cost
        Noiseless; every parameter drives one rotation (two-term shift rule).
    theta : array_like, shape (p,)

    Returns
    -------
    numpy.ndarray, shape (p,)

    Examples
    --------
    One :math:`R_X` and :math:`O = Z`: :math:`\operatorname{Var}_\theta Z = \sin^2\theta`, so at
    :math:`\theta = 0`, :math:`\sigma^2 = \frac14(1 + 1)`:

    >>> from qnncourse.circuit import Circuit
    >>> shift_gradient_variance(Cost(Circuit(1).rx(0), "Z"), [0.0]).round(6)
    array([0.5])
    """
    cost = check_plain_cost(cost, "shift_gradient_variance")
    theta, batched = check_thetas(cost, theta)
    if batched:
        raise ValueError(f"theta must have shape ({cost.n_params},), got {theta.shape}")
    if cost.noise is not None or shares_parameters(cost.circuit):
        raise ValueError("shift_gradient_variance needs a noiseless cost whose parameters each "
                         "drive one rotation (the two-term shift rule)")
    o = cost.observable.matrix()
    mean = Cost(cost.circuit, cost.observable)
    square = Cost(cost.circuit, o @ o)
    shifts = np.pi / 2 * np.eye(cost.n_params)
    points = np.concatenate([theta + shifts, theta - shifts])
    var = np.maximum(np.asarray(square(points)) - np.asarray(mean(points)) ** 2, 0.0)
    return (var[: cost.n_params] + var[cost.n_params:]) / 4


def noise_floor(cost: Any, theta_star: Any, lr: float, shots: int | Any) -> float | np.ndarray:
    r"""Predicted stationary :math:`\mathbb E[C - C^*]` of SGD with step ``lr`` and ``shots``.

    The formula of the module docstring, from the Hessian and the shot variances at the minimum
    ``theta_star``.

    Parameters
    ----------
    cost : Cost
    theta_star : array_like, shape (p,)
        A local minimum.
    lr : float
        Needs :math:`\eta < 2/h_{\max}` (otherwise the iteration is unstable at the minimum).
    shots : int or array of int

    Returns
    -------
    float or numpy.ndarray (one value per entry of ``shots``)
    """
    lr = check_positive("lr", lr)
    n = np.asarray(shots)
    if n.dtype.kind not in "iu" or np.any(n < 1):
        raise ValueError(f"shots must be positive integers, got {shots!r}")
    if n.ndim == 0:
        check_count("shots", int(n))
    sigma = shift_gradient_variance(cost, theta_star)
    theta_star = np.asarray(theta_star, dtype=float)
    h, u = np.linalg.eigh(hessian(cost, theta_star))
    if h[-1] * lr >= 2:
        raise ValueError(f"lr={lr} is beyond 2/h_max = {2 / h[-1]:.4g}: SGD is unstable at this "
                         "minimum and has no stationary floor")
    if h[0] < -_FLAT * max(h[-1], 1e-300) - 1e-10:
        raise ValueError(f"theta_star is not a local minimum (Hessian eigenvalue {h[0]:.3g})")
    curved = h > _FLAT * h[-1]
    projected = np.einsum("ji,j,ji->i", u, sigma, u)  # diag(U^T diag(sigma) U)
    per_shot = lr / 2 * np.sum(projected[curved] / (2 - lr * h[curved]))
    out = per_shot / n
    return float(out) if out.ndim == 0 else out
