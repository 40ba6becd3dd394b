"""Cost functions of a circuit: values, gradients, and what they would cost on hardware.

:class:`Cost` is the variational cost :math:`C(\\theta) = \\langle 0|U^\\dagger(\\theta)\\,O\\,
U(\\theta)|0\\rangle`; :class:`Loss` is a supervised loss over a data set,
:math:`L(\\theta) = \\frac1m\\sum_i \\ell(f(\\theta, x_i), y_i)` with the model output
:math:`f(\\theta, x) = \\langle O\\rangle_{\\theta, x}`. Both take one ``theta`` (returning a
float) or a batch ``(S, n_params)`` (returning ``(S,)`` values and ``(S, n_params)``
gradients computed together in one batched simulation).

Evaluation counting
-------------------
``evaluations`` counts the circuit executions a quantum computer would need, so optimizers
can be compared by their hardware cost: one per value (per draw, and per data point for a
:class:`Loss`), two per rotation for a parameter-shift gradient, two per parameter for central
finite differences, two per SPSA gradient. Adjoint differentiation exists only in simulation;
it is counted as what hardware would pay for the same exact gradient (parameter-shift: two
per rotation). With ``shots=N`` every evaluation is estimated from ``N`` measurements, and
``shots_used`` counts those (``N`` per evaluation).

Simulators
----------
``simulator="auto"`` (the default) simulates state vectors, or density matrices when ``noise``
is given; ``"statevector"`` asks for the state vector explicitly. ``simulator="lie"`` uses g-sim
(:mod:`qnncourse.simulators.lie`): the observable is evolved in the Heisenberg picture inside
the smallest space of Pauli strings that contains it and that the circuit's generators leave
invariant, so its cost grows with that dimension instead of :math:`2^n` (a 100-qubit
free-fermion circuit takes seconds). It needs a Pauli-sum observable, Clifford fixed gates, no
shots, and noise (if any) made of Pauli channels such as depolarizing or dephasing noise on a
circuit without fixed gates (a Pauli channel scales each Pauli string, so the space is
unchanged); it stops with ``ValueError`` when the space exceeds ``max_dim`` strings.
Evaluations are counted exactly as for the other simulators.

``simulator="pauli"`` uses Pauli propagation (:mod:`qnncourse.simulators.pauli`): the
observable's Pauli sum is pushed backwards gate by gate, exactly, with no invariant space to
build, so its cost follows the number of strings the observable reaches (a local observable
under a shallow circuit stays in its light cone at any number of qubits). It has the same
requirements as ``"lie"`` (Pauli-sum observable, Clifford fixed gates, Pauli channels, no
shots) and refuses with ``ValueError`` when the sum passes ``max_terms`` strings. An instance
``simulator=PauliPropagation(max_weight=k, min_coefficient=c)`` truncates the sum and reports
the discarded weight, a bound on the error, in its ``discarded`` attribute.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import qutip

from qnncourse import gradients
from qnncourse._validation import as_rng
from qnncourse.circuit import Circuit
from qnncourse.measurement import as_measurement
from qnncourse.noise import Channel, NoiseModel, as_noise_model
from qnncourse.observables import Observable, as_observable
from qnncourse.paulis import PauliSum
from qnncourse.simulators import density
from qnncourse.simulators import lie as lie_sim
from qnncourse.simulators.pauli import PauliProgram, PauliPropagation
from qnncourse.simulators.statevector import (
    expectation_from_angles,
    run_angles,
    shot_estimates_from_angles,
)

__all__ = ["Cost", "Loss"]

_LOSSES = ("mse", "cross-entropy")
_SIMULATORS = ("auto", "statevector", "lie", "pauli")
# Probabilities are clipped this far from 0 and 1 so the cross-entropy stays finite.
_EPS = 1e-12


def _check_shots(shots: object) -> int | None:
    if shots is None:
        return None
    if isinstance(shots, bool) or not isinstance(shots, int | np.integer) or shots < 1:
        raise ValueError(f"shots must be None (exact) or a positive int, got {shots!r}")
    return int(shots)


class Cost:
    """Expectation-value cost :math:`C(\\theta) = \\langle O\\rangle_\\theta` of a circuit.

    Parameters
    ----------
    circuit : Circuit
    observable : qutip.Qobj, PauliSum, str, dict, numpy.ndarray or Observable
        Hermitian, on the circuit's qubits (see :func:`qnncourse.observables.as_observable`).
    noise : Channel or NoiseModel, optional
        Simulate with density matrices (:mod:`qnncourse.simulators.density`): a channel acts
        after every gate on each qubit the gate touches; a
        :class:`~qnncourse.noise.NoiseModel` says which channel follows which gates and adds
        readout error (diagonal observables only). Gradients stay exact (adjoint method for
        density matrices; parameter-shift is exact too, the noise being parameter-independent).
        Not combined with ``shots``.
    shots : int, optional
        Estimate every value from this many measurements in the observable's eigenbasis
        instead of computing it exactly.
    measurement : {"eigenbasis", "qwc"}
        How shots measure the observable: in its own eigenbasis (one circuit per value), or,
        for a Pauli sum, group by group in qubit-wise commuting groups (``shots`` per group,
        one circuit per group; see :mod:`qnncourse.measurement`).
    rng : numpy.random.Generator or int, optional
        Source of shot noise and SPSA perturbations.
    simulator : {"auto", "statevector", "lie", "pauli"} or PauliPropagation
        ``"auto"``: state vectors, density matrices with noise. ``"lie"``: g-sim in the
        observable's invariant Pauli space (see the module docstring); ``observable`` must be
        Pauli strings, or diagonal on at most 20 qubits. ``"pauli"``: exact Pauli propagation,
        same requirements; a :class:`~qnncourse.simulators.pauli.PauliPropagation` instance:
        truncated propagation with its settings.
    max_dim : int, optional
        Largest invariant space ``simulator="lie"`` builds before refusing (default
        :data:`qnncourse.simulators.lie.DEFAULT_MAX_DIM`).

    Examples
    --------
    >>> from qnncourse.ansatz import tensor_product_rx
    >>> from qnncourse.observables import global_cost
    >>> cost = Cost(tensor_product_rx(2), global_cost(2))
    >>> round(cost([np.pi / 2, 0.0]), 6)       # 1 - cos^2(pi/4) cos^2(0)
    0.5
    >>> cost.gradient([np.pi / 2, 0.0]).round(6) + 0.0   # + 0.0: no signed zeros
    array([0.5, 0. ])
    >>> cost.evaluations                        # 1 value + 2 per parameter
    5
    """

    def __init__(self, circuit: Circuit, observable: Any, *,
                 noise: Channel | NoiseModel | None = None, shots: int | None = None,
                 rng: np.random.Generator | int | None = None,
                 measurement: str = "eigenbasis", simulator: str = "auto",
                 max_dim: int | None = None) -> None:
        if not isinstance(circuit, Circuit):
            raise TypeError(f"circuit must be a qnncourse Circuit, got {type(circuit).__name__}")
        heisenberg = isinstance(simulator, PauliPropagation) or simulator in ("lie", "pauli")
        if not heisenberg and simulator not in _SIMULATORS:
            raise ValueError(f"simulator must be one of {_SIMULATORS} or a PauliPropagation, "
                             f"got {simulator!r}")
        self._circuit = circuit
        self.simulator = simulator
        self.noise = as_noise_model(noise)
        self.shots = _check_shots(shots)
        self._lie = None
        self._pauli = None
        if heisenberg:
            name = "pauli" if isinstance(simulator, PauliPropagation) else simulator
            if self.shots is not None:
                raise ValueError(f"simulator='{name}' computes exact expectation values: got "
                                 f"shots={shots!r}; pass shots=None, or use simulator='auto'")
            if self.noise is not None and self.noise.has_readout_error:
                raise ValueError(f"simulator='{name}' supports Pauli channels but not readout "
                                 "error; use simulator='auto'")
            channels = () if self.noise is None else self.noise.channel_steps(circuit)
            if name == "lie":
                self._lie = lie_sim.LieProgram(
                    circuit, observable,
                    max_dim=lie_sim.DEFAULT_MAX_DIM if max_dim is None else max_dim,
                    channels=channels)
            else:
                if max_dim is not None:
                    raise ValueError("max_dim is an option of simulator='lie'; Pauli "
                                     "propagation takes PauliPropagation(max_terms=...)")
                settings = (simulator if isinstance(simulator, PauliPropagation)
                            else PauliPropagation())
                self._pauli = settings.compile(circuit, observable, channels)
            self._heisenberg = self._lie if self._lie is not None else self._pauli
            self._observable = self._heisenberg.observable
        else:
            if max_dim is not None:
                raise ValueError(f"max_dim is an option of simulator='lie', got simulator="
                                 f"{simulator!r}")
            if simulator == "statevector" and self.noise is not None:
                raise ValueError("simulator='statevector' simulates pure states, but noise was "
                                 "given; use simulator='auto' (density matrices)")
            self._observable = as_observable(observable, circuit.n_qubits)
        self.measurement = measurement
        self._grouped = as_measurement(measurement, observable, circuit.n_qubits)
        self._program = None
        if self.noise is not None and not heisenberg:
            if self.shots is not None:
                raise ValueError(f"shots={self.shots} with noise is not supported: noisy costs "
                                 "are exact expectation values; pass shots=None")
            self._program = density.DensityProgram(circuit, self.noise.channel_steps(circuit))
            self._noisy_observable = self._measured_observable(self.noise)
        self.rng = as_rng(rng)
        self.evaluations = 0
        self.shots_used = 0

    # -- description -----------------------------------------------------------------------
    @property
    def circuit(self) -> Circuit:
        """The circuit."""
        return self._circuit

    @property
    def observable(self) -> Observable | PauliSum:
        """The prepared :class:`~qnncourse.observables.Observable` (a
        :class:`~qnncourse.paulis.PauliSum` with ``simulator="lie"`` or ``"pauli"``)."""
        return self._observable

    @property
    def n_params(self) -> int:
        """Number of trainable parameters."""
        return self._circuit.n_params

    @property
    def n_qubits(self) -> int:
        """Number of qubits."""
        return self._circuit.n_qubits

    def charge(self, n_executions: int) -> None:
        """Count ``n_executions`` circuit executions made for this cost outside its own calls
        (e.g. the metric circuits of a QNG step), so that ``evaluations`` stays the one
        counter of what the cost has used."""
        if isinstance(n_executions, bool) or not isinstance(n_executions, int | np.integer) \
                or n_executions < 0:
            raise ValueError(f"n_executions must be a non-negative int, got {n_executions!r}")
        self.evaluations += int(n_executions)

    @property
    def lie_program(self) -> lie_sim.LieProgram | None:
        """The compiled g-sim program with ``simulator="lie"`` (its ``dim`` is the dimension of
        the observable's invariant space), else ``None``."""
        return self._lie

    @property
    def pauli_program(self) -> PauliProgram | None:
        """The prepared Pauli-propagation program with ``simulator="pauli"`` or a
        :class:`~qnncourse.simulators.pauli.PauliPropagation` (its ``settings`` carry the
        ``discarded`` weight of the last evaluation), else ``None``."""
        return self._pauli

    def reset_evaluations(self) -> None:
        """Set ``evaluations`` and ``shots_used`` back to 0."""
        self.evaluations = 0
        self.shots_used = 0

    def with_circuit(self, circuit: Circuit) -> Cost:
        """The same observable, noise, shots and generator on another circuit (fresh counts)."""
        max_dim = self._lie.max_dim if self._lie is not None else None
        return Cost(circuit, self._observable if self._grouped is None else self._grouped.source,
                    noise=self.noise, shots=self.shots, rng=self.rng,
                    measurement=self.measurement, simulator=self.simulator, max_dim=max_dim)

    def state(self, theta: np.ndarray, x: np.ndarray | None = None) -> qutip.Qobj:
        """The output state for one ``theta``: a ket, or a density matrix when noisy."""
        if self._program is None:
            return self._circuit.state(theta, x)
        angles = self._circuit.angles(theta, x)
        if angles.shape[0] != 1:
            raise ValueError("state() takes a single theta (and x), not a batch")
        rho = density.run_angles(self._program, angles)[0]
        return qutip.Qobj(rho, dims=[[2] * self.n_qubits] * 2)

    def _measured_observable(self, noise: NoiseModel) -> np.ndarray:
        """The observable for the density simulator, with the model's readout error folded in
        (a diagonal vector when possible, else the dense matrix)."""
        obs = self._observable
        if noise.has_readout_error:
            if not obs.is_diagonal:
                raise ValueError(f"readout error acts on computational-basis outcomes, but the "
                                 f"observable is not diagonal in that basis ({obs.kind}); "
                                 f"rotate into the computational basis inside the circuit and "
                                 f"measure a diagonal observable")
            return noise.readout_diagonal(obs.diagonal)
        return obs.diagonal if obs.is_diagonal else obs.matrix()

    def __repr__(self) -> str:
        shots = "exact" if self.shots is None else f"shots={self.shots}"
        noise = "" if self.noise is None else f"noise={self.noise!r}, "
        return (f"{type(self).__name__}({self._circuit!r}, observable={self._observable!r}, "
                f"{noise}{shots}, evaluations={self.evaluations})")

    # -- rows of circuit angles and the objective built from them --------------------------
    def _rows(self, theta: np.ndarray, x: np.ndarray | None) -> tuple[np.ndarray, bool]:
        """Angles of every circuit run needed for ``theta`` and whether the call is batched."""
        return self._circuit.angles(theta, x), self._circuit.is_batched(theta, x)

    def _objective(self, values: np.ndarray) -> np.ndarray:
        """Objective per draw from the expectation per row (the identity for a plain cost)."""
        return values

    def _objective_gradient(self, values: np.ndarray, grads: np.ndarray) -> np.ndarray:
        """Gradient per draw from the values and gradients per row."""
        return grads

    def _spsa_delta(self, n_rows: int) -> np.ndarray:
        return self.rng.choice([-1.0, 1.0], size=(n_rows, self.n_params))

    # -- simulation: the two entry points a noisy simulator plugs into ---------------------
    def _values(self, angles: np.ndarray) -> np.ndarray:
        """Expectation per row of ``angles`` (exact or from shots); counts evaluations."""
        self.evaluations += len(angles)
        if self._lie is not None or self._pauli is not None:
            return self._heisenberg.values(angles)
        if self._program is not None:
            return density.expectation(self._program, self._noisy_observable, angles)
        if self.shots is None:
            return expectation_from_angles(self._circuit, self._observable, angles)
        if self._grouped is not None:  # one circuit per group, `shots` each
            self.evaluations += len(angles) * (self._grouped.n_groups - 1)
            self.shots_used += len(angles) * self.shots * self._grouped.n_groups
            return self._grouped.estimate(run_angles(self._circuit, angles).reshape(
                len(angles), -1), self.shots, self.rng)
        self.shots_used += len(angles) * self.shots
        return shot_estimates_from_angles(self._circuit, self._observable, angles, self.shots,
                                          self.rng)

    def _values_and_gradients(self, angles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact values ``(R,)`` and parameter gradients ``(R, n_params)`` per row (adjoint)."""
        if self._lie is not None or self._pauli is not None:
            values, angle_grads = self._heisenberg.values_and_gradients(angles)
            return values, self._circuit.chain_rule(angle_grads)
        if self._program is not None:
            values, angle_grads = density.adjoint_gradient(self._program,
                                                           self._noisy_observable, angles)
            return values, self._circuit.chain_rule(angle_grads)
        return gradients.adjoint(self._circuit, self._observable, angles)

    # -- public evaluation -----------------------------------------------------------------
    def __call__(self, theta: np.ndarray, x: np.ndarray | None = None) -> float | np.ndarray:
        """The cost at ``theta``: a float, or ``(S,)`` for a batch ``(S, n_params)``."""
        angles, batched = self._rows(theta, x)
        out = self._objective(self._values(angles))
        return out if batched else float(out[0])

    def _method(self, method: str | None) -> str:
        if method is None:
            return "adjoint" if self.shots is None else "parameter-shift"
        if method not in gradients.METHODS:
            raise ValueError(f"method must be one of {gradients.METHODS}, got {method!r}")
        if method == "adjoint" and self.shots is not None:
            raise ValueError(f"method='adjoint' needs the exact state, but shots={self.shots}; "
                             "use 'parameter-shift', 'finite-difference' or 'spsa'")
        return method

    def _evaluate(self, theta, x, method, options, want_value: bool):
        angles, batched = self._rows(theta, x)
        method = self._method(method)
        gradients.check_options(method, options)
        n_rows = len(angles)
        values = None
        if method == "adjoint":
            values, grads = self._values_and_gradients(angles)
            n_rotations = len(self._circuit.rotation_columns()[0])
            self.evaluations += n_rows * (2 * n_rotations + (1 if want_value else 0))
        else:
            if want_value:
                values = self._values(angles)
            if method == "parameter-shift":
                grads = gradients.parameter_shift(self._values, self._circuit, angles, **options)
            elif method == "finite-difference":
                grads = gradients.finite_difference(self._values, self._circuit, angles,
                                                    **options)
            else:
                options.setdefault("delta", self._spsa_delta(n_rows))
                grads = gradients.spsa_gradient(self._values, self._circuit, angles, **options)
        return values, grads, batched

    def gradient(self, theta: np.ndarray, method: str | None = None,
                 x: np.ndarray | None = None, **options: Any) -> np.ndarray:
        """Gradient :math:`\\nabla_\\theta C`: shape ``(n_params,)``, or ``(S, n_params)``.

        Parameters
        ----------
        method : {"adjoint", "parameter-shift", "finite-difference", "spsa"}, optional
            Default: ``"adjoint"`` for exact simulation, ``"parameter-shift"`` with shots.
            See :mod:`qnncourse.gradients` for formulas and costs.
        **options
            Passed to the method: ``shift`` (parameter-shift), ``h`` (finite-difference),
            ``c`` and ``delta`` (spsa).
        """
        _, grads, batched = self._evaluate(theta, x, method, dict(options), want_value=False)
        return grads if batched else grads[0]

    def value_and_gradient(self, theta: np.ndarray, method: str | None = None,
                           x: np.ndarray | None = None, **options: Any):
        """``(cost, gradient)`` together (one pass for adjoint)."""
        values, grads, batched = self._evaluate(theta, x, method, dict(options), want_value=True)
        f = self._objective(values)
        g = self._objective_gradient(values, grads)
        return (f, g) if batched else (float(f[0]), g[0])


class Loss(Cost):
    """Supervised loss of a circuit model over a data set.

    The model output is :math:`f(\\theta, x) = \\langle O\\rangle_{\\theta, x}` (the circuit must
    encode the features with :meth:`Circuit.encode`), and

    .. math::

        L_\\mathrm{mse} &= \\frac1m\\sum_i (f_i - y_i)^2, \\\\
        L_\\mathrm{ce} &= -\\frac1m\\sum_i \\big[y_i\\log p_i + (1 - y_i)\\log(1 - p_i)\\big],
        \\quad p_i = \\frac{1 + f_i}{2},

    where cross-entropy needs labels in :math:`\\{0, 1\\}` and an observable with spectrum in
    :math:`[-1, 1]` (so :math:`p_i` is the probability of class 1). Gradients follow by the
    chain rule, :math:`\\nabla L = \\frac1m\\sum_i \\ell'(f_i)\\,\\nabla f_i`, with
    :math:`\\nabla f_i` from any gradient method. Every data point is one circuit evaluation.

    Parameters
    ----------
    circuit, observable, noise, shots, rng
        As for :class:`Cost`.
    X : array, shape ``(m, n_features)``
    y : array, shape ``(m,)``
    loss : {"mse", "cross-entropy"}
    """

    def __init__(self, circuit: Circuit, observable: Any, X: np.ndarray, y: np.ndarray,
                 loss: str = "mse", *, noise: Any = None, shots: int | None = None,
                 rng: np.random.Generator | int | None = None) -> None:
        super().__init__(circuit, observable, noise=noise, shots=shots, rng=rng)
        if circuit.n_features == 0:
            raise ValueError("a Loss needs a circuit with encoding gates (Circuit.encode)")
        X = circuit.check_x(X)
        if X.ndim != 2:
            raise ValueError(f"X must have shape (m, {circuit.n_features}), got {X.shape}")
        y = np.asarray(y, dtype=float)
        if y.shape != (X.shape[0],):
            raise ValueError(f"y has shape {y.shape}, X has {X.shape[0]} rows: y needs shape "
                             f"({X.shape[0]},)")
        if not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinite values")
        if loss not in _LOSSES:
            raise ValueError(f"loss must be one of {_LOSSES}, got {loss!r}")
        if loss == "cross-entropy":
            if not np.all((y == 0) | (y == 1)):
                raise ValueError(f"cross-entropy needs labels 0 or 1, got values "
                                 f"{np.unique(y)[:5]}")
            levels = self._observable.eigh()[0]
            low, high = float(np.min(levels)), float(np.max(levels))
            if low < -1 - 1e-9 or high > 1 + 1e-9:
                raise ValueError(f"cross-entropy needs an observable with spectrum in [-1, 1] "
                                 f"(so (1 + f)/2 is a probability), got [{low:.3g}, {high:.3g}]")
        self.X, self.y, self.loss = X, y, loss

    @property
    def n_samples(self) -> int:
        """Number of data points :math:`m`."""
        return len(self.y)

    def with_circuit(self, circuit: Circuit) -> Loss:
        """The same observable, data, loss, noise, shots and generator on another circuit."""
        return Loss(circuit, self._observable, self.X, self.y, self.loss, noise=self.noise,
                    shots=self.shots, rng=self.rng)

    def _rows(self, theta: np.ndarray, x: np.ndarray | None) -> tuple[np.ndarray, bool]:
        if x is not None:
            raise ValueError("a Loss evaluates its own data set X; do not pass x")
        theta = self._circuit.check_theta(theta)
        thetas = np.atleast_2d(theta)
        m = self.n_samples
        rows = self._circuit.angles(np.repeat(thetas, m, axis=0), np.tile(self.X, (len(thetas),
                                                                                   1)))
        return rows, theta.ndim == 2

    def predict(self, theta: np.ndarray, X: np.ndarray | None = None) -> np.ndarray:
        """Model outputs :math:`f(\\theta, x_i)` for the rows of ``X`` (default: the data set).

        Shape ``(m,)``, or ``(S, m)`` for a batch of ``theta``. Counts evaluations.
        """
        X = self.X if X is None else self._circuit.check_x(X)
        thetas = np.atleast_2d(self._circuit.check_theta(theta))
        X2 = np.atleast_2d(X)
        rows = self._circuit.angles(np.repeat(thetas, len(X2), axis=0),
                                    np.tile(X2, (len(thetas), 1)))
        out = self._values(rows).reshape(len(thetas), len(X2))
        return out if np.ndim(theta) == 2 else out[0]

    def _loss_terms(self, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Loss per draw ``(S,)`` and its derivative by each output ``(S, m)``."""
        m = self.n_samples
        if self.loss == "mse":
            residual = f - self.y
            return np.mean(residual**2, axis=1), 2 * residual / m
        p = np.clip((1 + f) / 2, _EPS, 1 - _EPS)
        y = self.y
        value = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p), axis=1)
        return value, -(y / p - (1 - y) / (1 - p)) / (2 * m)

    def _objective(self, values: np.ndarray) -> np.ndarray:
        return self._loss_terms(values.reshape(-1, self.n_samples))[0]

    def _objective_gradient(self, values: np.ndarray, grads: np.ndarray) -> np.ndarray:
        f = values.reshape(-1, self.n_samples)
        _, dl_df = self._loss_terms(f)
        return np.einsum("sm,smp->sp", dl_df, grads.reshape(f.shape + (-1,)))

    def _spsa_delta(self, n_rows: int) -> np.ndarray:
        # All data points of one draw share the perturbation, as SPSA on L(theta) requires.
        per_draw = self.rng.choice([-1.0, 1.0], size=(n_rows // self.n_samples, self.n_params))
        return np.repeat(per_draw, self.n_samples, axis=0)

    def gradient(self, theta: np.ndarray, method: str | None = None,
                 x: np.ndarray | None = None, **options: Any) -> np.ndarray:
        """Gradient of the loss (the outputs :math:`f_i` are evaluated too: the chain rule
        needs them)."""
        return self.value_and_gradient(theta, method, x, **options)[1]
