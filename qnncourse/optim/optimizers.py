r"""Optimizers: one update rule each, ``step(cost, theta) -> (new_theta, info)``.

Every optimizer works on any object with the :class:`~qnncourse.cost.Cost` interface
(``cost(theta)``, ``cost.value_and_gradient(theta)``, ``cost.evaluations``, ``cost.n_params``):
noiseless, noisy and shot-based costs, and supervised :class:`~qnncourse.cost.Loss` objects.
A step reports the circuit executions it used, read from the one counter
``cost.evaluations``; QNG charges its metric circuits (:func:`qnncourse.metric.metric_circuits`)
to that counter with ``cost.charge``.

References
----------
.. [Kingma2015] D. P. Kingma and J. Ba, "Adam: A method for stochastic optimization",
   ICLR (2015), https://arxiv.org/abs/1412.6980
.. [Spall1998] J. C. Spall, "Implementation of the simultaneous perturbation algorithm for
   stochastic optimization", IEEE Trans. Aerosp. Electron. Syst. 34, 817 (1998),
   doi:10.1109/7.705889
.. [Stokes2020] J. Stokes, J. Izaac, N. Killoran and G. Carleo, "Quantum natural gradient",
   Quantum 4, 269 (2020), doi:10.22331/q-2020-05-25-269
"""

from __future__ import annotations

import abc
from typing import Any

import numpy as np

from qnncourse._validation import (
    as_rng,
    check_cost,
    check_fraction,
    check_positive,
    check_theta,
)
from qnncourse.metric import metric_circuits, metric_tensor

__all__ = ["Optimizer", "GradientDescent", "Adam", "SPSA", "QNG"]


class Optimizer(abc.ABC):
    """Base class: one update rule, applied by :meth:`step`.

    Subclasses implement ``_update(cost, theta) -> (new_theta, value, grad_norm)`` where
    ``value`` is :math:`C(\\theta)` if the rule computed it (else ``None``). Circuit executions
    are counted in one place, ``cost.evaluations``: a rule that runs circuits beyond the cost's
    own calls (the metric circuits of :class:`QNG`) charges them with ``cost.charge(n)``.
    """

    def reset(self) -> None:
        """Forget the state of a previous run (moments, step counter)."""
        return None  # stateless optimizers (GD, QNG) have nothing to forget

    def step(self, cost: Any, theta: np.ndarray) -> tuple[np.ndarray, dict]:
        """Take one step from ``theta``.

        Returns
        -------
        new_theta : numpy.ndarray
        info : dict
            ``"cost"``: :math:`C(\\theta)` if the step computed it, else ``None``;
            ``"grad_norm"``: norm of the gradient (or gradient estimate) at ``theta``;
            ``"evaluations"``: circuit executions this step used.
        """
        check_cost(cost)
        theta = check_theta(cost, theta)
        before = cost.evaluations
        new_theta, value, grad_norm = self._update(cost, theta)
        info = {
            "cost": None if value is None else float(value),
            "grad_norm": float(grad_norm),
            "evaluations": int(cost.evaluations - before),
        }
        return new_theta, info

    @abc.abstractmethod
    def _update(self, cost: Any, theta: np.ndarray) -> tuple[np.ndarray, Any, float]:
        """The update rule; see the class docstring for what it returns."""


class _GradientOptimizer(Optimizer):
    """An optimizer that uses ``cost.value_and_gradient`` once per step."""

    def __init__(self, gradient_method: str | None) -> None:
        if gradient_method is not None and not isinstance(gradient_method, str):
            raise TypeError(
                f"gradient_method must be a string or None, got {type(gradient_method).__name__}"
            )
        self.gradient_method = gradient_method

    def _value_and_gradient(self, cost: Any, theta: np.ndarray) -> tuple[float, np.ndarray]:
        # None leaves the choice to the cost (adjoint when noiseless, shift rules otherwise).
        if self.gradient_method is None:
            value, grad = cost.value_and_gradient(theta)
        else:
            value, grad = cost.value_and_gradient(theta, method=self.gradient_method)
        return float(value), np.asarray(grad, dtype=float)


class GradientDescent(_GradientOptimizer):
    r"""Plain gradient descent, :math:`\theta \leftarrow \theta - \eta \nabla C(\theta)`.

    Parameters
    ----------
    lr : float
        Step size :math:`\eta > 0`. On an :math:`L`-smooth convex cost, :math:`\eta \le 1/L`
        gives :math:`C(\theta_T) - C^* \le \|\theta_0 - \theta^*\|^2 / (2\eta T)`
        (see :mod:`qnncourse.convergence`).
    gradient_method : str, optional
        Passed to ``cost.value_and_gradient``; ``None`` uses the cost's default.
    """

    def __init__(self, lr: float = 0.1, *, gradient_method: str | None = None) -> None:
        super().__init__(gradient_method)
        self.lr = check_positive("lr", lr)

    def __repr__(self) -> str:
        return f"GradientDescent(lr={self.lr:g})"

    def _update(self, cost, theta):
        value, grad = self._value_and_gradient(cost, theta)
        return theta - self.lr * grad, value, np.linalg.norm(grad)


class Adam(_GradientOptimizer):
    r"""Adam with bias-corrected moments [Kingma2015]_.

    .. math::
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \\
        v_t &= \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \\
        \theta_t &= \theta_{t-1}
            - \eta\, \frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)}+\epsilon}

    Parameters
    ----------
    lr, beta1, beta2, eps : float
        :math:`\eta > 0`, :math:`\beta_1, \beta_2 \in [0, 1)`, :math:`\epsilon > 0`.
    gradient_method : str, optional
        Passed to ``cost.value_and_gradient``; ``None`` uses the cost's default.
    """

    def __init__(
        self,
        lr: float = 0.01,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        *,
        gradient_method: str | None = None,
    ) -> None:
        super().__init__(gradient_method)
        self.lr = check_positive("lr", lr)
        self.beta1 = check_fraction("beta1", beta1)
        self.beta2 = check_fraction("beta2", beta2)
        self.eps = check_positive("eps", eps)
        self.reset()

    def __repr__(self) -> str:
        return f"Adam(lr={self.lr:g}, beta1={self.beta1:g}, beta2={self.beta2:g}, eps={self.eps:g})"

    def reset(self) -> None:
        self._m = self._v = None
        self._t = 0

    def _update(self, cost, theta):
        if self._m is not None and self._m.shape != theta.shape:
            raise ValueError(
                f"Adam holds moments for {self._m.size} parameters, theta has {theta.size}; "
                "call reset() before training another cost"
            )
        value, grad = self._value_and_gradient(cost, theta)
        if self._m is None:
            self._m, self._v = np.zeros_like(theta), np.zeros_like(theta)
        self._t += 1
        self._m = self.beta1 * self._m + (1 - self.beta1) * grad
        self._v = self.beta2 * self._v + (1 - self.beta2) * grad**2
        m_hat = self._m / (1 - self.beta1**self._t)
        v_hat = self._v / (1 - self.beta2**self._t)
        new_theta = theta - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        return new_theta, value, np.linalg.norm(grad)


class SPSA(Optimizer):
    r"""Simultaneous perturbation stochastic approximation [Spall1998]_.

    Step :math:`k = 0, 1, \dots` draws :math:`\Delta_k \in \{-1, +1\}^p` uniformly and uses
    two cost evaluations, whatever the number of parameters :math:`p`:

    .. math::
        \hat g_k = \frac{C(\theta + c_k\Delta_k) - C(\theta - c_k\Delta_k)}{2 c_k}\,\Delta_k,
        \qquad \theta \leftarrow \theta - a_k \hat g_k,

    with Spall's gain sequences :math:`a_k = a/(k + 1 + A)^{\alpha}` and
    :math:`c_k = c/(k+1)^{\gamma}` (``alpha=0.602``, ``gamma=0.101`` are his practical values).
    SPSA never evaluates the unperturbed cost; ask :func:`train` for ``monitor_every`` to see it.

    Parameters
    ----------
    a, c : float
        Gain numerators, both positive; ``c`` is roughly the size of the cost noise.
    alpha, gamma : float
        Decay exponents, positive.
    A : float
        Stability constant, non-negative (Spall suggests about 10 % of the number of steps).
    rng : numpy.random.Generator or int, optional
        Source of the perturbations. It is consumed across runs: build a new ``SPSA`` with the
        same seed to repeat a run.
    """

    def __init__(
        self,
        a: float = 0.2,
        c: float = 0.1,
        alpha: float = 0.602,
        gamma: float = 0.101,
        *,
        A: float = 0.0,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        self.a = check_positive("a", a)
        self.c = check_positive("c", c)
        self.alpha = check_positive("alpha", alpha)
        self.gamma = check_positive("gamma", gamma)
        self.A = check_positive("A", A, allow_zero=True)
        self.rng = as_rng(rng)
        self.reset()

    def __repr__(self) -> str:
        return (
            f"SPSA(a={self.a:g}, c={self.c:g}, alpha={self.alpha:g}, gamma={self.gamma:g}, "
            f"A={self.A:g})"
        )

    def reset(self) -> None:
        self._k = 0

    def _update(self, cost, theta):
        a_k = self.a / (self._k + 1 + self.A) ** self.alpha
        c_k = self.c / (self._k + 1) ** self.gamma
        delta = 2.0 * self.rng.integers(0, 2, size=theta.size) - 1.0
        plus, minus = np.asarray(cost(np.stack([theta + c_k * delta, theta - c_k * delta])))
        # 1/Delta_i = Delta_i for Rademacher perturbations.
        g_hat = (plus - minus) / (2 * c_k) * delta
        self._k += 1
        return theta - a_k * g_hat, None, np.linalg.norm(g_hat)


class QNG(_GradientOptimizer):
    r"""Quantum natural gradient [Stokes2020]_.

    .. math::
        \theta \leftarrow \theta - \eta\, (g(\theta) + \lambda I)^{+} \nabla C(\theta)

    with :math:`g` the Fubini–Study metric of the circuit's state from
    :func:`qnncourse.metric.metric_tensor` and :math:`{}^+` the pseudo-inverse (a least-squares
    solve, so a singular metric is fine even with :math:`\lambda = 0`).

    Evaluation count: a step charges what the cost counts for the value and gradient, plus the
    metric circuits of :func:`metric_circuits` (one per parametrized layer, plus a Hadamard
    test per kept pair of parameters in different layers), the accounting of PennyLane's
    ``qml.metric_tensor``.

    Parameters
    ----------
    lr : float
        Step size :math:`\eta > 0`.
    approx : {"block-diag", "diag", None}
        Metric approximation; ``None`` is the full metric.
    reg : float
        Tikhonov regularisation :math:`\lambda \ge 0`.
    gradient_method : str, optional
        Passed to ``cost.value_and_gradient``.
    """

    _APPROXES = ("block-diag", "diag", None)

    def __init__(
        self,
        lr: float = 0.1,
        approx: str | None = "block-diag",
        reg: float = 0.0,
        *,
        gradient_method: str | None = None,
    ) -> None:
        super().__init__(gradient_method)
        self.lr = check_positive("lr", lr)
        if approx not in self._APPROXES:
            raise ValueError(f"approx must be one of 'block-diag', 'diag' or None, got {approx!r}")
        self.approx = approx
        self.reg = check_positive("reg", reg, allow_zero=True)

    def __repr__(self) -> str:
        return f"QNG(lr={self.lr:g}, approx={self.approx!r}, reg={self.reg:g})"

    def _update(self, cost, theta):
        if not hasattr(cost, "circuit") or not hasattr(cost, "charge"):
            raise TypeError(f"QNG needs a cost with a circuit and charge(), got "
                            f"{type(cost).__name__}")
        value, grad = self._value_and_gradient(cost, theta)
        # The metric of the circuit (not of the cost) so that the cost's counter only sees the
        # value and gradient; the metric's circuits are charged to the cost below.
        metric = np.asarray(metric_tensor(cost.circuit, theta, approx=self.approx), dtype=float)
        metric = metric + self.reg * np.eye(theta.size)
        direction = np.linalg.lstsq(metric, grad, rcond=None)[0]
        cost.charge(metric_circuits(cost.circuit, self.approx))
        return theta - self.lr * direction, value, np.linalg.norm(grad)
