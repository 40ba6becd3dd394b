"""Optimizers and the training loop for parametrized circuits.

Every optimizer has one method, ``step(cost, theta) -> (new_theta, info)``, and works on any
object with the :class:`~qnncourse.cost.Cost` interface (``cost(theta)``,
``cost.value_and_gradient(theta)``, ``cost.evaluations``, ``cost.n_params``): noiseless, noisy
and shot-based costs, and supervised :class:`~qnncourse.cost.Loss` objects alike.
:func:`train` drives any optimizer and records what each step cost in circuit executions, so
optimizers are compared by what they would cost on hardware, not by their step count.

References
----------
.. [Kingma2015] D. P. Kingma and J. Ba, "Adam: A method for stochastic optimization",
   ICLR (2015), https://arxiv.org/abs/1412.6980
.. [Spall1998] J. C. Spall, "Implementation of the simultaneous perturbation algorithm for
   stochastic optimization", IEEE Trans. Aerosp. Electron. Syst. 34, 817 (1998),
   https://doi.org/10.1109/7.705889
.. [Stokes2020] J. Stokes, J. Izaac, N. Killoran and G. Carleo, "Quantum natural gradient",
   Quantum 4, 269 (2020), doi:10.22331/q-2020-05-25-269
.. [Skolik2021] A. Skolik, J. R. McClean, M. Mohseni, P. van der Smagt and M. Leib,
   "Layerwise learning for quantum neural networks", Quantum Mach. Intell. 3, 5 (2021),
   https://doi.org/10.1007/s42484-020-00036-4
"""

from __future__ import annotations

import abc
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from tqdm.auto import tqdm

from qnncourse._validation import as_rng, check_count, check_fraction, check_positive

__all__ = [
    "Optimizer",
    "GradientDescent",
    "Adam",
    "SPSA",
    "QNG",
    "TrainResult",
    "BestPoint",
    "train",
    "LayerwiseResult",
    "train_layerwise",
    "metric_circuits",
]


def _check_theta(cost: Any, theta: Any, name: str = "theta") -> np.ndarray:
    """Return ``theta`` as a fresh 1-D float array of length ``cost.n_params`` or raise."""
    theta = np.array(theta, dtype=float)
    if theta.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {theta.shape}")
    if theta.size != cost.n_params:
        raise ValueError(f"{name} has {theta.size} values, the cost has {cost.n_params} parameters")
    if not np.all(np.isfinite(theta)):
        raise ValueError(f"{name} contains non-finite values: {theta}")
    return theta


def _check_cost(cost: Any) -> None:
    """Raise ``TypeError`` unless ``cost`` has the parts of the Cost interface we use."""
    missing = [a for a in ("n_params", "evaluations", "value_and_gradient") if not hasattr(cost, a)]
    if missing or not callable(cost):
        raise TypeError(
            "cost must follow the qnncourse Cost interface (callable, with n_params, "
            f"evaluations and value_and_gradient); {type(cost).__name__} lacks "
            f"{', '.join(missing) or '__call__'}"
        )


class Optimizer(abc.ABC):
    """Base class: one update rule, applied by :meth:`step`.

    Subclasses implement ``_update(cost, theta) -> (new_theta, value, grad_norm, extra)``
    where ``value`` is :math:`C(\\theta)` if the rule computed it (else ``None``) and
    ``extra`` counts circuit executions the rule needs beyond those ``cost`` counts itself
    (the metric circuits of :class:`QNG`).
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
        _check_cost(cost)
        theta = _check_theta(cost, theta)
        before = cost.evaluations
        new_theta, value, grad_norm, extra = self._update(cost, theta)
        info = {
            "cost": None if value is None else float(value),
            "grad_norm": float(grad_norm),
            "evaluations": int(cost.evaluations - before + extra),
        }
        return new_theta, info

    @abc.abstractmethod
    def _update(self, cost: Any, theta: np.ndarray) -> tuple[np.ndarray, Any, float, int]:
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
        return theta - self.lr * grad, value, np.linalg.norm(grad), 0


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
        return new_theta, value, np.linalg.norm(grad), 0


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
        return theta - a_k * g_hat, None, np.linalg.norm(g_hat), 0


def _parametrized_layers(circuit: Any) -> list[int]:
    """Layer index of each parameter in PennyLane's sense: its depth counting only rotations.

    A rotation sits one layer after the latest rotation it depends on (through shared qubits,
    also via fixed gates in between); rotations of one layer can be measured together.
    """
    depth = np.zeros(circuit.n_qubits, dtype=int)
    layer_of = {}
    for op in circuit.operations:
        qubits = list(op.qubits)
        reached = int(depth[qubits].max())
        if op.kind == "rotation":
            reached += 1
            layer_of.setdefault(op.param_index, reached)
        depth[qubits] = reached
    return [layer_of[i] for i in range(circuit.n_params)]


def metric_circuits(circuit: Any, approx: str | None) -> int:
    r"""Circuit executions charged for one metric tensor, following PennyLane's accounting.

    PennyLane's ``qml.metric_tensor`` groups parameters into layers (a rotation is one layer
    after the latest rotation it depends on, see :func:`_parametrized_layers`) and runs one
    circuit per layer: the circuit up to that layer, measured in the eigenbases of the layer's
    generators, gives every metric entry within the layer. An entry between two parameters in
    different layers needs one Hadamard-test circuit more. So the charge is the number of
    layers plus the number of kept cross-layer pairs:

    * ``"diag"``: no pairs;
    * ``"block-diag"``: the pairs inside each block of
      :func:`qnncourse.metric.parameter_blocks` (none when blocks are layers; an ansatz layer
      holding ``RY`` then ``RZ`` on a qubit spans two layers and pays its cross pairs);
    * ``None``: every cross-layer pair.

    Parameters
    ----------
    circuit : Circuit
    approx : {None, "block-diag", "diag"}
    """
    from qnncourse.metric import parameter_blocks

    layers = np.asarray(_parametrized_layers(circuit))
    if approx == "diag":
        blocks = []
    elif approx == "block-diag":
        blocks = parameter_blocks(circuit)
    else:
        blocks = [list(range(circuit.n_params))]
    cross_pairs = 0
    for block in blocks:
        in_block = layers[block]
        cross_pairs += int(np.sum(in_block[:, None] < in_block[None, :]))
    return len(set(layers.tolist())) + cross_pairs


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
        from qnncourse.metric import metric_tensor

        if not hasattr(cost, "circuit"):
            raise TypeError(f"QNG needs a cost with a circuit, got {type(cost).__name__}")
        value, grad = self._value_and_gradient(cost, theta)
        # The metric of the circuit (not of the cost) so that the cost's counter only sees the
        # value and gradient; the metric's circuits are charged explicitly below.
        metric = np.asarray(metric_tensor(cost.circuit, theta, approx=self.approx), dtype=float)
        metric = metric + self.reg * np.eye(theta.size)
        direction = np.linalg.lstsq(metric, grad, rcond=None)[0]
        extra = metric_circuits(cost.circuit, self.approx)
        return theta - self.lr * direction, value, np.linalg.norm(grad), extra


class BestPoint(NamedTuple):
    """The lowest recorded cost of a run: its step, value and parameters."""

    step: int
    cost: float
    theta: np.ndarray


@dataclass(frozen=True, repr=False)
class TrainResult:
    r"""The record of a :func:`train` run; entry ``k`` of every array belongs to :math:`\theta_k`.

    Attributes
    ----------
    costs : numpy.ndarray, shape (T+1,)
        :math:`C(\theta_k)`; ``nan`` where nobody evaluated it (SPSA without monitoring).
    thetas : numpy.ndarray, shape (T+1, p)
        :math:`\theta_0, \dots, \theta_T`.
    grad_norms : numpy.ndarray, shape (T+1,)
        Norm of the gradient (SPSA: of its estimate) at :math:`\theta_k`; ``nan`` at the end.
    evaluations : numpy.ndarray, shape (T+1,)
        Circuit executions spent (by the optimizer and by monitoring) until the record of
        :math:`\theta_k` was complete.
    monitor_evaluations : numpy.ndarray, shape (T+1,)
        How many of ``evaluations`` were monitoring only (cost values the optimizer did not
        need, and the final cost), cumulative like ``evaluations``.
    wall_time : numpy.ndarray, shape (T+1,)
        Seconds since the start when the record of :math:`\theta_k` was complete.
    converged : bool
        Whether a stopping criterion (``tol``, ``target`` or the callback) ended the run.
    reason : str
        ``"steps"``, ``"tol"``, ``"target"`` or ``"callback"``.
    optimizer : str
        The optimizer's repr.
    """

    costs: np.ndarray
    thetas: np.ndarray
    grad_norms: np.ndarray
    evaluations: np.ndarray
    monitor_evaluations: np.ndarray
    wall_time: np.ndarray
    converged: bool
    reason: str
    optimizer: str = field(default="")

    @property
    def steps(self) -> int:
        """Number of updates taken, :math:`T`."""
        return len(self.costs) - 1

    @property
    def final_theta(self) -> np.ndarray:
        return self.thetas[-1]

    @property
    def final_cost(self) -> float:
        return float(self.costs[-1])

    @property
    def best(self) -> BestPoint:
        """The step with the lowest recorded cost."""
        k = int(np.nanargmin(self.costs))
        return BestPoint(k, float(self.costs[k]), self.thetas[k])

    def first_below(self, target: float) -> int | None:
        """First step whose recorded cost is at most ``target``, or ``None``."""
        hits = np.flatnonzero(self.costs <= target)
        return int(hits[0]) if hits.size else None

    def __repr__(self) -> str:
        best = self.best
        return (
            f"TrainResult({self.optimizer}: {self.steps} steps, final cost {self.final_cost:.6g}"
            f" (best {best.cost:.6g} at step {best.step}), {int(self.evaluations[-1])} circuit "
            f"evaluations ({int(self.monitor_evaluations[-1])} for monitoring), "
            f"{self.wall_time[-1]:.3g} s, stopped by {self.reason})"
        )


def train(
    cost: Any,
    theta0: Any,
    optimizer: Optimizer,
    steps: int,
    *,
    callback: Callable[[int, np.ndarray, dict], Any] | None = None,
    progress: bool = True,
    tol: float | None = None,
    target: float | None = None,
    monitor_every: int | None = None,
) -> TrainResult:
    r"""Run ``optimizer`` on ``cost`` from ``theta0`` for at most ``steps`` updates.

    The optimizer is reset first. Circuit executions are read from ``cost.evaluations`` (plus
    what the optimizer charges beyond the cost, e.g. QNG's metric circuits), so one counter
    holds the truth for noiseless, noisy and shot-based costs and for supervised losses.

    Parameters
    ----------
    cost : Cost or Loss
    theta0 : array_like, shape (p,)
    optimizer : Optimizer
    steps : int
        Maximum number of updates (non-negative).
    callback : callable, optional
        ``callback(k, theta_k, info)`` after the record of step ``k``; ``info`` holds
        ``"cost"`` (``None`` if not evaluated), ``"grad_norm"`` and ``"evaluations"``
        (cumulative). Returning ``True`` stops the run at :math:`\theta_k`.
    progress : bool
        Show a tqdm progress bar (terminal or notebook).
    tol : float, optional
        Stop when two consecutive recorded costs differ by less than ``tol``.
    target : float, optional
        Stop at the first :math:`\theta_k` whose recorded cost is at most ``target``.
    monitor_every : int, optional
        For optimizers that do not evaluate the cost (SPSA), evaluate :math:`C(\theta_k)` every
        ``monitor_every`` steps; those executions are counted in ``evaluations`` and also
        reported separately in ``monitor_evaluations``. The final cost is always evaluated.

    Returns
    -------
    TrainResult

    Examples
    --------
    Gradient descent on the local cost of two ``R_X`` rotations; each step costs one value and
    a two-parameter gradient, 1 + 2 * 2 = 5 circuits:

    >>> from qnncourse import ansatz, observables
    >>> from qnncourse.cost import Cost
    >>> cost = Cost(ansatz.tensor_product_rx(2), observables.local_cost(2))
    >>> result = train(cost, [1.0, -1.0], GradientDescent(lr=2.0), 50, progress=False,
    ...                target=1e-6)
    >>> result.reason, result.steps, int(result.evaluations[-1])
    ('target', 10, 55)
    """
    _check_cost(cost)
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a qnncourse Optimizer, got {type(optimizer).__name__}")
    theta = _check_theta(cost, theta0, "theta0")
    steps = check_count("steps", steps, allow_zero=True)
    if tol is not None:
        tol = check_positive("tol", tol)
    if target is not None and not math.isfinite(float(target)):
        raise ValueError(f"target must be a finite number, got {target!r}")
    if monitor_every is not None:
        monitor_every = check_count("monitor_every", monitor_every)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")

    optimizer.reset()
    start_evaluations, start_time = cost.evaluations, time.perf_counter()
    extra_charged = 0  # executions the optimizer charges beyond cost.evaluations
    monitor = 0
    previous = None  # the last recorded cost, for tol
    thetas, costs, grad_norms, evaluations, monitors, wall = [], [], [], [], [], []
    reason = "steps"

    def monitored_cost(theta):
        nonlocal monitor
        before = cost.evaluations
        value = float(cost(theta))
        monitor += cost.evaluations - before
        return value

    def record(theta, value, grad_norm):
        thetas.append(theta)
        costs.append(np.nan if value is None else value)
        grad_norms.append(grad_norm)
        evaluations.append(cost.evaluations - start_evaluations + extra_charged)
        monitors.append(monitor)
        wall.append(time.perf_counter() - start_time)

    with tqdm(total=steps, disable=not progress, desc=repr(optimizer), leave=False) as bar:
        for k in range(steps):
            before = cost.evaluations
            new_theta, info = optimizer.step(cost, theta)
            extra_charged += info["evaluations"] - (cost.evaluations - before)
            value = info["cost"]
            if value is None and monitor_every is not None and k % monitor_every == 0:
                value = monitored_cost(theta)
            record(theta, value, info["grad_norm"])
            if value is not None:
                bar.set_postfix(cost=f"{value:.4g}", refresh=False)
            bar.update()
            reason = _stop_reason(value, previous, tol, target)
            previous = previous if value is None else value
            if callback is not None and reason == "steps":
                info = dict(info, cost=value, evaluations=evaluations[-1])
                if callback(k, theta, info) is True:
                    reason = "callback"
            if reason != "steps":
                break
            theta = new_theta
        else:
            value = monitored_cost(theta)
            record(theta, value, np.nan)
            reason = _stop_reason(value, previous, tol, target)

    return TrainResult(
        costs=np.array(costs),
        thetas=np.array(thetas),
        grad_norms=np.array(grad_norms, dtype=float),
        evaluations=np.array(evaluations, dtype=int),
        monitor_evaluations=np.array(monitors, dtype=int),
        wall_time=np.array(wall),
        converged=reason != "steps",
        reason=reason,
        optimizer=repr(optimizer),
    )


def _stop_reason(
    value: float | None, previous: float | None, tol: float | None, target: float | None
) -> str:
    """Which criterion a newly recorded cost meets: ``"target"``, ``"tol"`` or ``"steps"``.

    ``previous`` is the last cost recorded before it (``None`` if there is none).
    """
    if value is None:
        return "steps"
    if target is not None and value <= target:
        return "target"
    if tol is not None and previous is not None and abs(value - previous) < tol:
        return "tol"
    return "steps"


@dataclass(frozen=True, repr=False)
class LayerwiseResult:
    """The record of :func:`train_layerwise`: one :class:`TrainResult` per phase.

    Attributes
    ----------
    phases : list of TrainResult
        The layer phases, then the joint phase. A layer phase's costs are those of the circuit
        truncated after that layer (later layers absent), as in [Skolik2021]_.
    trained : list of numpy.ndarray
        For each phase, the indices (into the full ``theta``) of the parameters it trained.
    final_theta : numpy.ndarray
        Parameters of the full circuit at the end.
    """

    phases: list
    trained: list
    final_theta: np.ndarray

    @property
    def final_cost(self) -> float:
        return self.phases[-1].final_cost

    @property
    def evaluations(self) -> np.ndarray:
        """Cumulative circuit executions over all phases, one entry per record."""
        totals, offset = [], 0
        for phase in self.phases:
            totals.append(phase.evaluations + offset)
            offset += int(phase.evaluations[-1])
        return np.concatenate(totals)

    @property
    def costs(self) -> np.ndarray:
        """All phases' recorded costs, concatenated (see the caveat on layer phases)."""
        return np.concatenate([phase.costs for phase in self.phases])

    def __repr__(self) -> str:
        return (
            f"LayerwiseResult({len(self.phases) - 1} layer phases + joint phase, final cost "
            f"{self.final_cost:.6g}, {int(self.evaluations[-1])} circuit evaluations)"
        )


def _layer_keys(circuit: Any) -> np.ndarray:
    """Layer tag of each parameter (``-1`` outside any layer), checking each has one tag."""
    keys = np.full(circuit.n_params, -2, dtype=int)
    for op in circuit.operations:
        if op.kind != "rotation":
            continue
        key = -1 if op.layer is None else op.layer
        if keys[op.param_index] not in (-2, key):
            raise ValueError(
                f"parameter {op.param_index} drives rotations in layers {keys[op.param_index]} "
                f"and {key}; layerwise training needs each parameter inside one layer"
            )
        keys[op.param_index] = key
    return keys


def _truncated_circuit(circuit: Any, theta: np.ndarray, layer: int) -> tuple[Any, np.ndarray]:
    """The circuit up to ``layer``, rotations of earlier layers frozen into fixed gates.

    Returns the new circuit and, for each of its parameters, the index into the full ``theta``.
    """
    from qnncourse.circuit import Circuit
    from qnncourse.initialization import _append
    from qnncourse.paulis import PauliString

    out, mapping = Circuit(circuit.n_qubits), {}
    for op in circuit.operations:
        key = -1 if op.layer is None else op.layer
        if key > layer:
            continue
        if op.kind == "rotation" and key < layer:
            angle = theta[op.param_index]
            pauli = PauliString(op.pauli).to_matrix()
            rotation = np.cos(angle / 2) * np.eye(len(pauli)) - 1j * np.sin(angle / 2) * pauli
            out.gate(rotation, op.qubits, f"{op.name}({angle:.3g})")
            continue
        param = None
        if op.kind == "rotation":
            param = mapping.get(op.param_index)
            mapping.setdefault(op.param_index, out.n_params)
        _append(out, op, param, adjoint=False)
    return out, np.array(sorted(mapping, key=mapping.get), dtype=int)


def train_layerwise(
    cost: Any,
    theta0: Any,
    optimizer: Optimizer,
    steps_per_layer: int,
    joint_steps: int,
    *,
    progress: bool = True,
    tol: float | None = None,
    target: float | None = None,
    monitor_every: int | None = None,
) -> LayerwiseResult:
    r"""Layerwise learning [Skolik2021]_: grow the circuit one layer at a time, then train all.

    Layers are the ``layer`` tags of ``cost.circuit``'s operations (set by the ansatz builders;
    untagged operations count as a layer ``-1`` before the others). Phase :math:`\ell` trains
    the circuit truncated after layer :math:`\ell` through ``cost.with_circuit``, with the
    rotations of earlier layers frozen into fixed gates at their trained angles, so the cost's
    counter charges only gradients of the parameters being trained. The joint phase then
    trains every parameter of the full circuit.

    Parameters
    ----------
    cost : Cost
        The full circuit's cost; must provide ``circuit`` and ``with_circuit``.
    theta0 : array_like, shape (p,)
        Initial parameters of the full circuit (Skolik et al. start new layers at zero).
    optimizer : Optimizer
        Reset at the start of every phase.
    steps_per_layer, joint_steps : int
        Steps of each layer phase and of the joint phase.
    progress, tol, monitor_every
        As in :func:`train`, for every phase.
    target : float, optional
        As in :func:`train`, for the joint phase only (the layer phases see another cost).
    """
    _check_cost(cost)
    if not hasattr(cost, "circuit") or not hasattr(cost, "with_circuit"):
        raise TypeError(
            f"train_layerwise needs a cost with circuit and with_circuit, got {type(cost).__name__}"
        )
    theta = _check_theta(cost, theta0, "theta0")
    steps_per_layer = check_count("steps_per_layer", steps_per_layer, allow_zero=True)
    joint_steps = check_count("joint_steps", joint_steps, allow_zero=True)
    keys = _layer_keys(cost.circuit)
    options = {"progress": progress, "tol": tol, "monitor_every": monitor_every}
    phases, trained = [], []
    for layer in np.unique(keys):
        circuit, params = _truncated_circuit(cost.circuit, theta, int(layer))
        result = train(cost.with_circuit(circuit), theta[params], optimizer, steps_per_layer,
                       **options)
        theta[params] = result.final_theta
        phases.append(result)
        trained.append(params)
    result = train(cost, theta, optimizer, joint_steps, target=target, **options)
    phases.append(result)
    trained.append(np.arange(cost.n_params))
    return LayerwiseResult(phases, trained, result.final_theta.copy())
