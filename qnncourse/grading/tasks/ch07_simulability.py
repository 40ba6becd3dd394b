"""Exercise 07, simulability: the Heisenberg-picture rotation of one Pauli string (the step of
g-sim; Goh et al. 2023), the dimension of the smallest space that contains an observable and is
invariant under a circuit's generators, the variance a deep circuit must have, predicted
from the algebra's Pauli basis (Ragone et al. 2024), and a circuit of the learner's choice for
each classical lens (g-sim, the light cone, neither), checked by running the lenses here."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg

from ...circuit import Circuit
from ...cost import Cost
from ...observables import pauli_sum
from ...paulis import PauliString
from ...plateaus import lie_variance
from ...simulators import PauliPropagation
from ..task import Case, Task, compare_arrays, compare_number

__all__ = ["EXERCISE", "LIGHT_CONE_WIDTH", "TASKS", "circuit_and_observable", "lenses"]

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


# -- 07.choose_lens --------------------------------------------------------------------------

LENSES = ("g-sim", "light cone", "neither")
#: The widest string still "local": the Heisenberg-evolved observable of a light-cone circuit
#: never holds a Pauli string on more than this many qubits (a state vector of 2^10 amplitudes
#: per string's support, or Pauli propagation with this weight cut-off, is then exact).
LIGHT_CONE_WIDTH = 10
_MAX_TERMS = 20_000


def circuit_and_observable(function, args: tuple, *_judge_only) -> dict:
    """Runner of ``07.choose_lens``: the returned ``(circuit, observable)`` as plain data (the
    gates in order, the observable as ``{label: coefficient}``), rebuilt by the judge."""
    result = function(*args)
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise TypeError(f"expected a pair (circuit, observable), got a {type(result).__name__}")
    circuit, observable = result
    if not isinstance(circuit, Circuit):
        raise TypeError(f"expected a qnncourse Circuit first, got a {type(circuit).__name__}")
    gates = []
    for op in circuit.operations:
        if op.kind == "rotation":
            gates.append(["rotation", op.pauli, list(op.qubits), op.param_index])
        elif op.kind == "fixed":
            gates.append(["fixed", op.name, list(op.qubits), np.asarray(op.matrix)])
        else:
            raise TypeError("the circuit has encoding gates; use trainable rotations only")
    terms = {label: float(np.real(c)) for label, c in pauli_sum(observable).terms.items()}
    return {"n_qubits": circuit.n_qubits, "gates": gates, "observable": terms}


def _rebuild(data: dict) -> Circuit:
    circuit = Circuit(int(data["n_qubits"]))
    for kind, label, qubits, extra in data["gates"]:
        if kind == "rotation":
            param = None if int(extra) == circuit.n_params else int(extra)
            circuit.pauli_rotation(label, tuple(qubits), param=param)
        else:
            circuit.gate(np.asarray(extra, dtype=complex), tuple(qubits), name=label)
    return circuit


def lenses(circuit: Circuit, observable: dict[str, float],
           rng: np.random.Generator) -> tuple[bool, bool]:
    """Run the two lenses. g-sim: the invariant space is built within :math:`2n^2` Pauli strings.
    Light cone: Pauli propagation that drops every string on more than ``LIGHT_CONE_WIDTH``
    qubits drops nothing at random angles (the evolved observable stays local), within
    ``_MAX_TERMS`` strings."""
    n = circuit.n_qubits
    try:
        Cost(circuit, observable, simulator="lie", max_dim=2 * n * n)
        gsim = True
    except ValueError:
        gsim = False
    sim = PauliPropagation(max_weight=LIGHT_CONE_WIDTH, max_terms=_MAX_TERMS)
    try:
        Cost(circuit, observable, simulator=sim)(rng.uniform(0, 2 * np.pi, circuit.n_params))
        local = float(np.max(sim.discarded)) == 0.0
    except ValueError:
        local = False
    return gsim, local


def _lens_cases(rng: np.random.Generator) -> list[Case]:
    return [Case((lens, int(n)), f"lens={lens!r}, n={int(n)}", extra=(int(rng.integers(2**31)),))
            for lens in LENSES for n in rng.choice(np.arange(12, 17), 2, replace=False)]


def _judge_lens(case: Case, got: Any) -> str | None:
    lens, n = case.args
    if got["n_qubits"] != n:
        return f"the circuit has {got['n_qubits']} qubits, expected n={n}"
    circuit = _rebuild(got)
    observable = got["observable"]
    if circuit.n_params == 0:
        return "the circuit has no trainable parameters"
    if not observable or set(observable) == {"I" * n}:
        return "the observable is the identity (or empty): its cost is a constant"
    gsim, local = lenses(circuit, observable, np.random.default_rng(case.extra[0]))
    found = (f"g-sim {'built' if gsim else 'did not build'} the space within 2n^2 = {2 * n * n} "
             f"strings, and the evolved observable {'stayed' if local else 'did not stay'} on "
             f"at most {LIGHT_CONE_WIDTH} qubits per string")
    if lens == "g-sim" and not (gsim and not local):
        return f"{found}; for 'g-sim' only g-sim may work"
    if lens == "light cone" and not (local and not gsim):
        return f"{found}; for 'light cone' only the light cone may work"
    if lens == "neither" and (gsim or local):
        return f"{found}; for 'neither' both must fail"
    return None


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
    Task(
        id="07.choose_lens",
        function="my_circuit",
        call="my_circuit(lens, n)",
        points=3,
        cases=_lens_cases,
        judge=_judge_lens,
        hint="g-sim: a free-fermion chain (RX on every qubit, RZZ on neighbours) deep enough that "
             "the evolved middle ZZ spreads over the chain; light cone: a shallow "
             "hardware-efficient circuit with a local observable in the middle; neither: a deep "
             "hardware-efficient circuit with Z on every qubit.",
        runner=circuit_and_observable,
    ),
)
