r"""Convergence diagnostics: the :math:`O(1/T)` rate of gradient descent, measured.

For a convex cost whose gradient is :math:`L`-Lipschitz, gradient descent with step
:math:`\eta \le 1/L` satisfies [Nesterov2018]_ (Thm. 2.1.14)

.. math::
    C(\theta_T) - C^* \le \frac{\|\theta_0 - \theta^*\|^2}{2\eta T}.

A circuit cost is never convex on the whole torus, but it is near a non-degenerate minimum.
:func:`convex_rate_check` runs gradient descent there and puts the measured suboptimality next
to the bound, and certifies local convexity along the path with the Hessian's smallest
eigenvalue; :func:`lipschitz_estimate` estimates :math:`L` so that :math:`\eta` can be chosen.

The Hessian is computed by shifting the gradient: for a parameter that enters one Pauli rotation
:math:`\partial_j C` is a sinusoid of frequency 1 in :math:`\theta_i`, so

.. math::
    H_{ij} = \frac{\partial_j C(\theta + s e_i) - \partial_j C(\theta - s e_i)}{2 \sin s}

is exact for any :math:`s` (default :math:`\pi/2`) [Mari2021]_. For costs that are not
trigonometric in the parameters (a cross-entropy :class:`~qnncourse.cost.Loss`) pass a small
``shift``: the formula becomes a central finite difference.

References
----------
.. [Nesterov2018] Y. Nesterov, *Lectures on Convex Optimization*, 2nd ed., Springer (2018),
   https://doi.org/10.1007/978-3-319-91578-4
.. [Mari2021] A. Mari, T. R. Bromley and N. Killoran, "Estimating the gradient and higher-order
   derivatives on quantum hardware", Phys. Rev. A 103, 012405 (2021),
   https://doi.org/10.1103/PhysRevA.103.012405
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from qnncourse._validation import as_rng, check_count, check_positive
from qnncourse._validation import check_theta as _check_theta
from qnncourse.optim import GradientDescent, train

__all__ = ["hessian", "LipschitzEstimate", "lipschitz_estimate", "RateCheck", "convex_rate_check"]


def _gradients(cost: Any, thetas: np.ndarray) -> np.ndarray:
    """Gradients at a batch of points, shape ``(S, p)``."""
    return np.asarray(cost.gradient(thetas), dtype=float).reshape(thetas.shape)


def hessian(cost: Any, theta: Any, shift: float = math.pi / 2) -> np.ndarray:
    r"""Hessian of ``cost`` at ``theta`` by shifting the gradient (see the module docstring).

    One batched gradient call at the :math:`2p` shifted points.

    Parameters
    ----------
    cost : Cost or Loss
    theta : array_like, shape (p,)
    shift : float
        :math:`s`, with :math:`\sin s > 0`; :math:`\pi/2` is exact for Pauli-rotation costs.

    Returns
    -------
    numpy.ndarray, shape (p, p)
        Symmetrised.
    """
    theta = _check_theta(cost, theta)
    shift = check_positive("shift", shift)
    if math.sin(shift) < 1e-12:
        raise ValueError(f"shift must have sin(shift) > 0, got {shift!r}")
    p = theta.size
    offsets = shift * np.eye(p)
    grads = _gradients(cost, np.concatenate([theta + offsets, theta - offsets]))
    h = (grads[:p] - grads[p:]) / (2 * math.sin(shift))
    return (h + h.T) / 2


@dataclass(frozen=True, repr=False)
class LipschitzEstimate:
    r"""Estimates of the Lipschitz constant :math:`L` of :math:`\nabla C` on a ball.

    Both are lower bounds of the true :math:`\sup \|\nabla^2 C\|_2` on the ball (they sample it).

    Attributes
    ----------
    hessian_norm : float
        Largest :math:`\|\nabla^2 C(\theta_s)\|_2` over the centre and the sampled points.
    difference_ratio : float
        Largest :math:`\|\nabla C(a) - \nabla C(b)\| / \|a - b\|` over sampled pairs.
    radius : float
    n_samples : int
    """

    hessian_norm: float
    difference_ratio: float
    radius: float
    n_samples: int

    @property
    def value(self) -> float:
        """The larger of the two estimates."""
        return max(self.hessian_norm, self.difference_ratio)

    def __repr__(self) -> str:
        return (
            f"LipschitzEstimate(L ≈ {self.value:.4g}: max Hessian norm {self.hessian_norm:.4g}, "
            f"max gradient-difference ratio {self.difference_ratio:.4g}; "
            f"{self.n_samples} samples in a ball of radius {self.radius:g})"
        )


def lipschitz_estimate(
    cost: Any,
    theta: Any,
    radius: float,
    n_samples: int,
    rng: Any = None,
    *,
    shift: float = math.pi / 2,
) -> LipschitzEstimate:
    r"""Estimate the Lipschitz constant of :math:`\nabla C` on the ball :math:`B(\theta, r)`.

    Draws ``n_samples`` points uniformly in the ball; returns the largest Hessian spectral
    norm (at the centre and the points) and the largest gradient-difference ratio over
    ``n_samples`` random pairs of points. For :math:`R_P` rotations and an observable
    :math:`O`, every Hessian entry is at most :math:`\|O\|` in size, so :math:`L \le p\|O\|`.

    Parameters
    ----------
    cost : Cost or Loss
    theta : array_like, shape (p,)
        Centre.
    radius : float
        Positive.
    n_samples : int
    rng : numpy.random.Generator or int, optional
    shift : float
        Passed to :func:`hessian`.
    """
    theta = _check_theta(cost, theta)
    radius = check_positive("radius", radius)
    n_samples = check_count("n_samples", n_samples)
    rng = as_rng(rng)
    p = theta.size
    points = theta + _uniform_ball(rng, 2 * n_samples, p, radius)
    hessian_norm = max(
        np.linalg.norm(hessian(cost, point, shift), 2)
        for point in np.concatenate([theta[None], points[:n_samples]])
    )
    grads = _gradients(cost, points)
    diffs = np.linalg.norm(grads[:n_samples] - grads[n_samples:], axis=1)
    steps = np.linalg.norm(points[:n_samples] - points[n_samples:], axis=1)
    return LipschitzEstimate(float(hessian_norm), float(np.max(diffs / steps)), radius, n_samples)


def _uniform_ball(rng: np.random.Generator, n: int, dim: int, radius: float) -> np.ndarray:
    """``n`` points uniform in the ``dim``-ball: Gaussian direction, radius ~ r U^(1/dim)."""
    directions = rng.standard_normal((n, dim))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    return directions * radius * rng.uniform(size=(n, 1)) ** (1 / dim)


@dataclass(frozen=True, repr=False)
class RateCheck:
    r"""Measured suboptimality of gradient descent next to the convex bound.

    Attributes
    ----------
    steps : numpy.ndarray
        :math:`T = 1, \dots, T_{\max}`.
    suboptimality : numpy.ndarray
        :math:`C(\theta_T) - C^*`.
    bound : numpy.ndarray
        :math:`\|\theta_0 - \theta^*\|^2 / (2\eta T)`.
    min_hessian_eigenvalue : float
        Smallest Hessian eigenvalue over the iterates :math:`\theta_0, \dots, \theta_T`
        (non-negative: the path stayed where the cost is locally convex).
    lr : float
    """

    steps: np.ndarray
    suboptimality: np.ndarray
    bound: np.ndarray
    min_hessian_eigenvalue: float
    lr: float

    @property
    def holds(self) -> bool:
        """Whether the bound holds at every step (up to rounding)."""
        return bool(np.all(self.suboptimality <= self.bound + 1e-12))

    @property
    def ratio(self) -> np.ndarray:
        """``suboptimality / bound`` per step; at most 1 where the bound holds."""
        return self.suboptimality / self.bound

    def __repr__(self) -> str:
        return (
            f"RateCheck(lr={self.lr:g}, {self.steps[-1]} steps: bound "
            f"{'holds' if self.holds else 'VIOLATED'}, max ratio {self.ratio.max():.3g}, "
            f"final suboptimality {self.suboptimality[-1]:.3g} vs bound {self.bound[-1]:.3g}, "
            f"min Hessian eigenvalue on the path {self.min_hessian_eigenvalue:.3g})"
        )


def convex_rate_check(
    cost: Any,
    theta0: Any,
    theta_star: Any,
    lr: float,
    steps: int,
    *,
    cost_star: float | None = None,
    shift: float = math.pi / 2,
) -> RateCheck:
    r"""Run gradient descent and compare :math:`C(\theta_T) - C^*` with the :math:`O(1/T)` bound.

    Parameters
    ----------
    cost : Cost or Loss
    theta0, theta_star : array_like, shape (p,)
        Start and the (local) minimiser.
    lr : float
        Step size :math:`\eta`; the bound is guaranteed for :math:`\eta \le 1/L`
        (:func:`lipschitz_estimate`).
    steps : int
        :math:`T_{\max} \ge 1`.
    cost_star : float, optional
        :math:`C^*`; by default ``cost(theta_star)``.
    shift : float
        Passed to :func:`hessian` for the convexity certificate.
    """
    theta0 = _check_theta(cost, theta0, "theta0")
    theta_star = _check_theta(cost, theta_star, "theta_star")
    lr = check_positive("lr", lr)
    steps = check_count("steps", steps)
    if cost_star is None:
        cost_star = float(cost(theta_star))
    run = train(cost, theta0, GradientDescent(lr), steps, progress=False)
    min_eig = min(np.linalg.eigvalsh(hessian(cost, t, shift))[0] for t in run.thetas)
    t = np.arange(1, steps + 1)
    return RateCheck(
        steps=t,
        suboptimality=run.costs[1:] - cost_star,
        bound=np.sum((theta0 - theta_star) ** 2) / (2 * lr * t),
        min_hessian_eigenvalue=float(min_eig),
        lr=lr,
    )
