"""Exercise 07, simulability: the Heisenberg-picture rotation of one Pauli string (the step of
g-sim; Goh et al. 2023), the dimension of the smallest space that contains an observable and is
invariant under a circuit's generators, and the variance a deep circuit must have, predicted
from the algebra's Pauli basis (Ragone et al. 2024)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg

from ...circuit import Circuit
from ...cost import Cost
from ...paulis import PauliString
from ...plateaus import lie_variance
from ..task import Case, Task, compare_arrays, compare_number

__all__ = ["EXERCISE", "TASKS"]

EXERCISE = "07_simulability"


def _random_label(rng: np.random.Generator, n: int) -> str:
    """A uniformly random non-identity Pauli label: the base-4 digits of 1 .. 4^n - 1."""
    index = int(rng.integers(1, 4**n))
    return "".join("IXYZ"[(index >> (2 * q)) & 3] for q in range(n))


def _word(letters: str, qubits: tuple[int, ...], n: int) -> str:
    chars = ["I"] * n
    for p, q in zip(letters, qubits, strict=True):
        chars[q] = p
    return "".join(chars)


# -- 07.heisenberg_rotation ------------------------------------------------------------------

def _rotation_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for want_anticommuting in (True, True, False, True, False):
        n = int(rng.integers(1, 4))
        while True:
            p, q = _random_label(rng, n), _random_label(rng, n)
            if PauliString(p).commutes_with(PauliString(q)) != want_anticommuting:
                break
        theta = float(np.round(rng.uniform(-np.pi, np.pi), 4))
        cases.append(Case((p, q, theta), f"P={p}, Q={q}, theta={theta}"))
    return cases


def _judge_rotation(case: Case, got: Any) -> str | None:
    p, q, theta = case.args
    n = len(p)
    pm = PauliString(p).to_matrix()
    u = scipy.linalg.expm(-0.5j * theta * pm)
    expected = u.conj().T @ PauliString(q).to_matrix() @ u
    if not isinstance(got, dict):
        return f"returned {type(got).__name__}, expected a dict label -> coefficient"
    total = np.zeros((2**n, 2**n), dtype=complex)
    for label, coeff in got.items():
        if not isinstance(label, str) or len(label) != n or set(label) - set("IXYZ"):
            return f"returned the key {label!r}, expected Pauli labels of {n} letters"
        if isinstance(coeff, bool) or not isinstance(coeff, int | float):
            return f"returned the coefficient {coeff!r} for {label!r}, expected a real number"
        total += coeff * PauliString(label).to_matrix()
    return compare_arrays(total, expected, atol=1e-9,
                          what="the operator sum of your dict (R^dag Q R)")


# -- 07.invariant_dimension ------------------------------------------------------------------

def _dimension_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, count in ((2, 2), (3, 2), (3, 3), (4, 3), (4, 4)):
        generators: list[str] = []
        while len(generators) < count:
            label = _random_label(rng, n)
            if label not in generators:
                generators.append(label)
        observable = _random_label(rng, n)
        cases.append(Case((generators, observable),
                          f"generators {generators}, observable {observable}"))
    return cases


def _circuit_of(generators: list[str]) -> Circuit:
    circuit = Circuit(len(generators[0]))
    for g in generators:
        circuit.pauli_rotation(g)
    return circuit


def _judge_dimension(case: Case, got: Any) -> str | None:
    generators, observable = case.args
    expected = Cost(_circuit_of(generators), observable, simulator="lie").lie_program.dim
    if isinstance(got, bool) or not isinstance(got, int | float) or got != int(got):
        return f"returned {got!r}, expected a whole number"
    return compare_number(got, expected, atol=0)


# -- 07.predicted_variance -------------------------------------------------------------------

def _simple_families(n: int) -> dict[str, list[str]]:
    """Generator sets whose DLA is simple and spanned by Pauli strings."""
    fields = {a: [_word(a, (q,), n) for q in range(n)] for a in "XYZ"}
    bonds = {a: [_word(a + a, (q, q + 1), n) for q in range(n - 1)] for a in "XZ"}
    return {"X_i, Z_iZ_i+1": fields["X"] + bonds["Z"],
            "Z_i, X_iX_i+1": fields["Z"] + bonds["X"],
            "X_i, Y_i, Z_iZ_i+1": fields["X"] + fields["Y"] + bonds["Z"]}


def _variance_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, family in ((3, "X_i, Z_iZ_i+1"), (4, "X_i, Z_iZ_i+1"), (4, "Z_i, X_iX_i+1"),
                      (5, "Z_i, X_iX_i+1"), (3, "X_i, Y_i, Z_iZ_i+1")):
        generators = _simple_families(n)[family]
        # an observable inside the algebra: a generator or the bracket of two of them
        a, b = rng.choice(len(generators), 2, replace=False)
        pa, pb = PauliString(generators[a]), PauliString(generators[b])
        observable = (pa * pb).label if not pa.commutes_with(pb) else pa.label
        cases.append(Case((generators, observable),
                          f"{n} qubits, generators {family}, observable {observable}"))
    return cases


def _judge_variance(case: Case, got: Any) -> str | None:
    generators, observable = case.args
    expected = lie_variance(generators, None, observable).value
    return compare_number(got, expected, atol=1e-9, what="the predicted variance")


TASKS = (
    Task(
        id="07.heisenberg_rotation",
        function="heisenberg_rotation",
        call="heisenberg_rotation(p, q, theta)",
        points=2,
        cases=_rotation_cases,
        judge=_judge_rotation,
        hint="if P and Q commute the answer is {q: 1.0}; otherwise it is cos(theta) Q + "
             "sin(theta) iPQ, and iPQ is a real sign times a Pauli string: compute "
             "PauliString(p) * PauliString(q) and multiply its coeff by 1j.",
    ),
    Task(
        id="07.invariant_dimension",
        function="invariant_dimension",
        call="invariant_dimension(generators, observable)",
        points=3,
        cases=_dimension_cases,
        judge=_judge_dimension,
        hint="breadth-first search from the observable's string: for each string reached and "
             "each generator it anticommutes with, the product (label of PauliString(g) * "
             "PauliString(s)) is in the space; stop when nothing new appears and count.",
        forbidden=("LieProgram", "lie_program"),
    ),
    Task(
        id="07.predicted_variance",
        function="predicted_variance",
        call="predicted_variance(generators, observable)",
        points=3,
        cases=_variance_cases,
        judge=_judge_variance,
        hint="for a simple algebra spanned by Pauli strings, an observable string inside it and "
             "|0...0>, the variance is (number of basis strings made only of I and Z) / "
             "(dimension); get the basis from Cost(circuit, observable, "
             "simulator='lie').lie_program.labels with one rotation per generator.",
        forbidden=("lie_variance", "lie_variance_check"),
    ),
)
