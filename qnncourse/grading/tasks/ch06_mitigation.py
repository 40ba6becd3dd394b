"""Exercise 05, mitigation: the local cost as a Pauli sum (Cerezo et al. 2021), a quantum
natural gradient step (Stokes et al. 2020), a depolarizing channel on one qubit of a density
matrix, and the design of a 2-local cost that keeps the global cost's minimum and trains."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...ansatz import hardware_efficient
from ...cost import Cost
from ...noise import Depolarizing
from ...observables import as_observable, global_cost, local_cost, pauli_sum
from ...optim import QNG
from ...paulis import PauliSum
from ...plateaus import haar_states
from ..task import Case, Task, compare_arrays, describe_value, fmt

__all__ = ["EXERCISE", "TASKS", "observable_matrix", "pauli_terms"]

EXERCISE = "06_mitigation"


# -- 06.local_cost ---------------------------------------------------------------------------

def observable_matrix(function, args: tuple) -> np.ndarray:
    """Runner of ``06.local_cost``: the dense matrix of whatever observable was returned."""
    n = args[0]
    return as_observable(function(*args), n).matrix()


def _local_cases(rng: np.random.Generator) -> list[Case]:
    return [Case((n,), f"n={n}") for n in (1, 2, 3, int(rng.integers(4, 6)))]


def _judge_local(case: Case, got: Any) -> str | None:
    (n,) = case.args
    expected = as_observable(local_cost(n), n).matrix()
    return compare_arrays(got, expected, atol=1e-10, what="the observable's matrix")


# -- 06.natural_gradient_step ----------------------------------------------------------------

def _qng_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, layers in ((2, 1), (2, 2), (3, 1), (3, 2)):
        cost = Cost(hardware_efficient(n, layers), local_cost(n))
        lr = float(np.round(rng.uniform(0.01, 0.2), 3))
        cases.append(Case((cost, rng.uniform(0, 2 * np.pi, cost.n_params), lr),
                          f"{n}-qubit circuit with {cost.n_params} parameters, lr={lr}"))
    return cases


def _judge_qng(case: Case, got: Any) -> str | None:
    cost, theta, lr = case.args
    expected, _ = QNG(lr, approx=None).step(cost, theta)
    return compare_arrays(got, expected, atol=1e-7, what="the new theta")


# -- 06.depolarize ---------------------------------------------------------------------------

def _depolarize_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n in (1, 2, 3, 3):
        # a random mixed state: a mixture of three random pure states
        states = haar_states(n, 3, rng)
        weights = rng.dirichlet(np.ones(3))
        rho = sum(w * np.outer(s, s.conj()) for w, s in zip(weights, states, strict=True))
        p, qubit = float(np.round(rng.uniform(0, 1), 3)), int(rng.integers(n))
        cases.append(Case((rho, p, qubit), f"{n}-qubit density matrix, p={p}, qubit={qubit}"))
    return cases


def _judge_depolarize(case: Case, got: Any) -> str | None:
    rho, p, qubit = case.args
    n = int(np.log2(len(rho)))
    left, right = np.eye(2**qubit), np.eye(2 ** (n - qubit - 1))
    kraus = [np.kron(np.kron(left, k), right) for k in Depolarizing(p).kraus_matrices()]
    expected = sum(k @ rho @ k.conj().T for k in kraus)
    return compare_arrays(got, expected, atol=1e-10, what="the density matrix")


# -- 06.design_local_cost --------------------------------------------------------------------

_LAYERS = 2
_DRAWS = 200
_MIN_RATIO = 3.0


def pauli_terms(function, args: tuple, *_judge_only) -> dict:
    """Runner of ``06.design_local_cost``: the returned observable as ``{label: coeff}``."""
    return dict(pauli_sum(function(*args)).terms)


def _design_cases(rng: np.random.Generator) -> list[Case]:
    return [Case((n,), f"n={n}", extra=(int(rng.integers(2**31)),)) for n in (6, 7)]


def _mean_variance(observable, n: int, thetas: np.ndarray) -> float:
    cost = Cost(hardware_efficient(n, _LAYERS), observable)
    return float(cost.gradient(thetas).var(axis=0, ddof=1).mean())


def _judge_design(case: Case, got: Any) -> str | None:
    (n,), (seed,) = case.args, case.extra
    if not isinstance(got, dict) or not got:
        return f"returned {describe_value(got)}, expected a Pauli sum such as {{'ZI': 0.5}}"
    coeffs = np.array(list(got.values()), dtype=complex)
    if np.any(np.abs(coeffs.imag) > 1e-12):
        return "some coefficients are not real: the observable must be Hermitian"
    terms = PauliSum({label: float(c.real) for label, c in got.items()})
    if terms.n_qubits != n:
        return f"the observable acts on {terms.n_qubits} qubits, expected {n}"
    heavy = [label for label in terms.terms if sum(c != "I" for c in label) > 2]
    if heavy:
        return f"the term {heavy[0]} acts on more than 2 qubits"
    matrix = as_observable(terms, n).matrix()
    energies = np.linalg.eigvalsh(matrix)
    zero_energy = float(matrix[0, 0].real)
    if zero_energy > energies[0] + 1e-9:
        return (f"|0...0> has energy {fmt(zero_energy)}, but the lowest energy is "
                f"{fmt(energies[0])}: the minimum must be |0...0>, as for the global cost")
    if energies[1] < energies[0] + 1e-6:
        return "|0...0> is not the only minimum (the lowest energy is degenerate)"
    # Compare trainability at the same scale: the observable rescaled to spectrum [0, 1], like
    # the global cost's.
    scaled = (matrix - energies[0] * np.eye(len(matrix))) / (energies[-1] - energies[0])
    thetas = np.random.default_rng(seed).uniform(
        0, 2 * np.pi, (_DRAWS, hardware_efficient(n, _LAYERS).n_params))
    ratio = _mean_variance(scaled, n, thetas) / _mean_variance(global_cost(n), n, thetas)
    if ratio < _MIN_RATIO:
        return (f"its gradient variance (spectrum scaled to [0, 1]) is {fmt(ratio)} times "
                f"the global cost's; it should be at least {_MIN_RATIO:g} times")
    return None


TASKS = (
    Task(
        id="06.local_cost",
        function="local_cost",
        call="local_cost(n)",
        points=2,
        cases=_local_cases,
        judge=_judge_local,
        hint="|0><0| = (I + Z)/2 on one qubit, so 1 - (1/n) sum_i |0><0|_i = 1/2 - "
             "(1/(2n)) sum_i Z_i; return it as a dict such as {'II': 0.5, 'ZI': -0.25, "
             "'IZ': -0.25}.",
        forbidden=("local_cost", "global_cost"),
        runner=observable_matrix,
    ),
    Task(
        id="06.natural_gradient_step",
        function="natural_gradient_step",
        call="natural_gradient_step(cost, theta, lr)",
        points=2,
        cases=_qng_cases,
        judge=_judge_qng,
        hint="g = metric_tensor(cost.circuit, theta) (the full metric, no approximation); "
             "solve g d = cost.gradient(theta) in the least-squares sense "
             "(np.linalg.lstsq(g, grad, rcond=None)[0]) and return theta - lr * d.",
        forbidden=("QNG", "train"),
    ),
    Task(
        id="06.depolarize",
        function="depolarize",
        call="depolarize(rho, p, qubit)",
        points=3,
        cases=_depolarize_cases,
        judge=_judge_depolarize,
        hint="on one qubit, E(rho) = (1 - 3p/4) rho + (p/4)(X rho X + Y rho Y + Z rho Z); on "
             "qubit q of n, each Pauli becomes kron(I_(2**q), P, I_(2**(n-q-1))).",
        forbidden=("Depolarizing", "kraus", "kraus_matrices", "superoperator"),
    ),
    Task(
        id="06.design_local_cost",
        function="design_local_cost",
        call="design_local_cost(n)",
        points=3,
        cases=_design_cases,
        judge=_judge_design,
        hint="make every term act on at most two qubits, give |0...0> the lowest energy and "
             "every other basis state more (a sum of (I - Z_i)/2 terms does both), and check "
             "its gradients with qnncourse.plateaus.gradient_variance.",
        forbidden=("local_cost",),
        runner=pauli_terms,
    ),
)
