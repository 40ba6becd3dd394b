"""Shared QuTiP oracles and fixtures.

Every oracle here builds its matrices from QuTiP primitives (``sigmax``, ``tensor``, ``expm``,
``expand_operator``) and from the *description* of a circuit (its :class:`Operation` list:
Pauli words, qubits, fixed matrices, parameter and feature indices). None of them calls the
code under test: no ``Circuit.state``/``unitary``/``angles``, no simulator, no
``as_observable``. Test modules import the helpers with ``from conftest import ...`` (pytest
puts this directory on ``sys.path``) or take the fixtures below.
"""

from __future__ import annotations

import numpy as np
import pytest
import qutip

from qnncourse.circuit import Circuit
from qnncourse.noise import (
    AmplitudeDamping,
    Dephasing,
    Depolarizing,
    NoiseModel,
    ThermalRelaxation,
)

PAULI = {"I": qutip.qeye(2), "X": qutip.sigmax(), "Y": qutip.sigmay(), "Z": qutip.sigmaz()}


def embed(ops: dict, n: int) -> qutip.Qobj:
    """Tensor product with ``ops[q]`` on qubit ``q`` and identities elsewhere (qubit 0 leftmost)."""
    return qutip.tensor([ops.get(q, qutip.qeye(2)) for q in range(n)])


def pauli_word(label: str) -> qutip.Qobj:
    """The full-width Pauli string ``label`` (e.g. ``"XIZ"``) as a QuTiP operator."""
    return qutip.tensor([PAULI[c] for c in label])


def rotation(word: str, qubits, angle: float, n: int) -> qutip.Qobj:
    """:math:`e^{-i a P/2}` for the Pauli word ``word`` on ``qubits``, by matrix exponential."""
    generator = embed({q: PAULI[p] for p, q in zip(word, qubits, strict=True)}, n)
    return (-0.5j * angle * generator).expm()


def operation_angle(op, theta, x) -> float:
    """The angle an operation reads, from its indices (not from ``Circuit.angles``)."""
    if op.kind == "rotation":
        return float(theta[op.param_index])
    if op.kind == "encoding":
        return float(op.scale * x[op.feature_index])
    return 0.0


def operation_angles(circuit, theta, x=None) -> list[float]:
    """The angle of every operation (0 for fixed gates), for one ``theta`` and ``x``."""
    return [operation_angle(op, theta, x) for op in circuit.operations]


def qutip_gate(op, angle: float, n: int) -> qutip.Qobj:
    """The full-width unitary of one operation at ``angle``."""
    if op.kind == "fixed":
        local = qutip.Qobj(op.matrix, dims=[[2] * len(op.qubits)] * 2)
        return qutip.expand_operator(local, dims=[2] * n, targets=list(op.qubits))
    return rotation(op.pauli, op.qubits, angle, n)


def qutip_unitary(circuit, theta, x=None) -> qutip.Qobj:
    """The circuit's unitary as a product of QuTiP gates."""
    n = circuit.n_qubits
    u = qutip.tensor([qutip.qeye(2)] * n)
    for op in circuit.operations:
        u = qutip_gate(op, operation_angle(op, theta, x), n) * u
    return u


def qutip_state(circuit, theta, x=None) -> qutip.Qobj:
    """:math:`U(\\theta)|0\\dots0\\rangle` gate by gate with QuTiP."""
    n = circuit.n_qubits
    psi = qutip.tensor([qutip.basis(2, 0)] * n)
    for op in circuit.operations:
        psi = qutip_gate(op, operation_angle(op, theta, x), n) * psi
    return psi


def qutip_observable(observable, n: int) -> qutip.Qobj:
    """A ``Qobj``, a Pauli label, a ``{label: coeff}`` dict or a dense matrix as a ``Qobj``."""
    dims = [[2] * n, [2] * n]
    if isinstance(observable, qutip.Qobj):
        return qutip.Qobj(observable.full(), dims=dims)
    if isinstance(observable, str):
        return pauli_word(observable)
    if isinstance(observable, dict):
        return sum(c * pauli_word(label) for label, c in observable.items())
    return qutip.Qobj(np.asarray(observable), dims=dims)


def qutip_value(circuit, observable, theta, x=None) -> float:
    """:math:`\\langle O\\rangle_\\theta` from the QuTiP state."""
    obs = qutip_observable(observable, circuit.n_qubits)
    return float(np.real(qutip.expect(obs, qutip_state(circuit, theta, x))))


def qutip_gradient(circuit, observable, theta, x=None, h: float = 1e-6) -> np.ndarray:
    """Central differences of :func:`qutip_value`: an oracle sharing no code with the library."""
    theta = np.asarray(theta, dtype=float)
    return np.array([(qutip_value(circuit, observable, theta + h * e, x)
                      - qutip_value(circuit, observable, theta - h * e, x)) / (2 * h)
                     for e in np.eye(theta.size)])


def every_kind_circuit():
    """Three qubits with every kind of operation: rotations (also on two qubits and sharing a
    parameter), an encoding, dense and monomial fixed gates, a user unitary on qubits given in
    descending order."""
    user = qutip.rand_unitary(4, seed=7).full()
    return (Circuit(3).ry(0).rx(1).h(2).encode("Y", 2, 0, scale=0.7).cz(0, 1)
            .pauli_rotation("XY", (2, 0)).cnot(1, 2).rz(2).gate(user, (2, 0))
            .ry(0, param=0).pauli_rotation("ZZ", (0, 1)))


def every_kind_model(two_qubit_channels: bool = True):
    """A noise model with every channel: depolarizing after every gate, amplitude damping after
    two-qubit gates, per-qubit dephasing, thermal relaxation after CNOTs and (unless
    ``two_qubit_channels`` is False) a two-qubit depolarizing channel after the XY and ZZ
    rotations."""
    model = (NoiseModel(Depolarizing(0.05))
             .add(AmplitudeDamping(0.1), gates="two-qubit")
             .add({1: Dephasing(0.2)}, gates="one-qubit")
             .add(ThermalRelaxation(30.0, 20.0, 2.0), gates="cnot"))
    if two_qubit_channels:
        model.add(Depolarizing(0.1, n_qubits=2), gates={"RXY", "RZZ"})
    return model


def qutip_density_run(circuit, steps, angles) -> qutip.Qobj:
    """The noisy circuit with QuTiP objects only: :math:`U\\rho U^\\dagger`, then each channel
    step (``ChannelStep``: ``after``, ``qubits``, ``kraus``) as :math:`\\sum_k K\\rho K^\\dagger`.

    ``angles`` holds one angle per operation (see :func:`operation_angles`)."""
    n = circuit.n_qubits
    rho = qutip.ket2dm(qutip.tensor([qutip.basis(2, 0)] * n))
    for k, op in enumerate(circuit.operations):
        u = qutip_gate(op, angles[k], n)
        rho = u * rho * u.dag()
        for step in steps:
            if step.after == k:
                kraus = [qutip.expand_operator(qutip.Qobj(m, dims=[[2] * len(step.qubits)] * 2),
                                               dims=[2] * n, targets=list(step.qubits))
                         for m in step.kraus]
                rho = sum(m * rho * m.dag() for m in kraus)
    return rho


@pytest.fixture
def rng():
    """A fresh seeded generator per test."""
    return np.random.default_rng(20240601)
