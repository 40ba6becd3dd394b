"""Exercise 01, circuits: rotation gates, expectation values of Pauli sums, building an
ansatz with :class:`~qnncourse.circuit.Circuit`, and a small state-vector simulator."""

from __future__ import annotations

from typing import Any

import numpy as np
import qutip

from ...ansatz import hardware_efficient
from ...circuit import Circuit
from ...paulis import PauliSum
from ...plateaus import haar_states
from ..task import Case, Task, compare_arrays, compare_number

__all__ = ["EXERCISE", "TASKS", "circuit_data"]

EXERCISE = "01_circuits"


def _label(rng: np.random.Generator, n: int) -> str:
    while True:
        label = "".join(rng.choice(list("IXYZ"), size=n))
        if label != "I" * n:
            return label


# -- 01.rotation_matrix ----------------------------------------------------------------------

def _rotation_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n in (1, 1, 2, 3):
        label, theta = _label(rng, n), float(rng.uniform(-2 * np.pi, 2 * np.pi))
        cases.append(Case((label, theta), f"pauli={label!r}, theta={theta:.4f}"))
    return cases


def _judge_rotation(case: Case, got: Any) -> str | None:
    label, theta = case.args
    circuit = Circuit(len(label)).pauli_rotation(label)
    return compare_arrays(got, circuit.unitary([theta]).full(), atol=1e-10, what="the matrix")


# -- 01.pauli_expectation --------------------------------------------------------------------

def _expectation_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n in (1, 2, 3, 3):
        state = haar_states(n, 1, rng)[0]
        terms = {_label(rng, n): float(np.round(rng.uniform(-1, 1), 3)) for _ in range(3)}
        cases.append(Case((state, terms), f"{n}-qubit state, terms={terms}"))
    return cases


def _judge_expectation(case: Case, got: Any) -> str | None:
    state, terms = case.args
    n = len(next(iter(terms)))
    ket = qutip.Qobj(state.reshape(-1, 1), dims=[[2] * n, [1] * n])
    return compare_number(got, qutip.expect(PauliSum(terms).to_qobj(), ket), atol=1e-9)


# -- 01.build_ansatz -------------------------------------------------------------------------

def circuit_data(function, args: tuple, theta: np.ndarray) -> dict:
    """Runner of ``01.build_ansatz``: the returned circuit's size and its unitary at theta."""
    circuit = function(*args)
    if not isinstance(circuit, Circuit):
        raise TypeError(f"expected a qnncourse Circuit, got a {type(circuit).__name__}")
    fits = circuit.n_params == len(theta) and circuit.n_qubits == args[0]
    return {"n_qubits": circuit.n_qubits, "n_params": circuit.n_params,
            "unitary": circuit.unitary(theta).full() if fits else None}


def _ansatz_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, layers in ((1, 1), (2, 1), (3, 2), (4, 1)):
        theta = rng.uniform(0, 2 * np.pi, hardware_efficient(n, layers).n_params)
        cases.append(Case((n, layers), f"n={n}, layers={layers}", extra=(theta,)))
    return cases


def _judge_ansatz(case: Case, got: Any) -> str | None:
    n, layers = case.args
    reference = hardware_efficient(n, layers)
    if got["n_qubits"] != n:
        return f"the circuit has {got['n_qubits']} qubits, expected {n}"
    if got["n_params"] != reference.n_params:
        return f"the circuit has {got['n_params']} parameters, expected {reference.n_params}"
    problem = compare_arrays(got["unitary"], reference.unitary(case.extra[0]).full(),
                             atol=1e-9, what="its unitary")
    return problem and problem + " -- check the order of the gates and of the parameters"


# -- 01.simulate -----------------------------------------------------------------------------

_ROTATIONS = ("RX", "RY", "RZ")


def _simulate_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n in (1, 2, 3, 4):
        gates = []
        for _ in range(3 * n):
            if n > 1 and rng.random() < 0.3:
                a, b = (int(q) for q in rng.choice(n, size=2, replace=False))
                gates.append((str(rng.choice(["CZ", "CNOT"])), a, b))
            else:
                gates.append((str(rng.choice(_ROTATIONS)), int(rng.integers(n)),
                              float(np.round(rng.uniform(0, 2 * np.pi), 4))))
        cases.append(Case((n, gates), f"n={n}, gates={gates}"))
    return cases


def _reference_circuit(n: int, gates: list) -> tuple[Circuit, list[float]]:
    circuit, angles = Circuit(n), []
    for name, a, b in gates:
        if name in _ROTATIONS:
            getattr(circuit, name.lower())(a)
            angles.append(b)
        else:
            getattr(circuit, name.lower())(a, b)
    return circuit, angles


def _judge_simulate(case: Case, got: Any) -> str | None:
    circuit, angles = _reference_circuit(*case.args)
    expected = circuit.state(np.array(angles)).full().ravel()
    return compare_arrays(got, expected, atol=1e-9, what="the state")


TASKS = (
    Task(
        id="01.rotation_matrix",
        function="rotation_matrix",
        call="rotation_matrix(pauli, theta)",
        points=2,
        cases=_rotation_cases,
        judge=_judge_rotation,
        hint="build the Pauli string's matrix with np.kron, qubit 0 leftmost, and use "
             "exp(-i theta P / 2) = cos(theta/2) I - i sin(theta/2) P, which holds because "
             "P @ P = I.",
        forbidden=("expm", "unitary", "pauli_rotation", "to_matrix", "to_qobj"),
    ),
    Task(
        id="01.pauli_expectation",
        function="pauli_expectation",
        call="pauli_expectation(state, terms)",
        points=2,
        cases=_expectation_cases,
        judge=_judge_expectation,
        hint="sum coeff * <psi|P|psi> over the terms, with P the Kronecker product of the "
             "label's single-qubit matrices (qubit 0 leftmost); the result is real, return "
             "a float.",
        forbidden=("expect", "to_matrix", "to_qobj", "as_observable", "expectation"),
    ),
    Task(
        id="01.build_ansatz",
        function="build_ansatz",
        call="build_ansatz(n, layers)",
        points=3,
        cases=_ansatz_cases,
        judge=_judge_ansatz,
        hint="per layer: ry on qubits 0..n-1, then rz on qubits 0..n-1, then cz(q, q+1) for "
             "q = 0..n-2; every rotation gets a new parameter, in that order.",
        forbidden=("hardware_efficient",),
        runner=circuit_data,
    ),
    Task(
        id="01.simulate",
        function="simulate",
        call="simulate(n, gates)",
        points=3,
        cases=_simulate_cases,
        judge=_judge_simulate,
        hint="start from psi = e_0 (length 2**n); reshape it to n axes of size 2, apply each "
             "2x2 or 4x4 gate to its axes with np.tensordot or np.einsum, and move the axes "
             "back into place (np.moveaxis); for CNOT the first qubit is the control.",
        forbidden=("Circuit", "state", "unitary", "expm"),
    ),
)
