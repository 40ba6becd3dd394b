"""Exercise 05, convergence theory: the smoothness bound of a circuit derived from its gates,
the number of steps the stationarity theorem asks for, the quantum neural tangent kernel
(Liu et al. 2023), and the noise floor of gradient descent with shots (Sweke et al. 2020)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...ansatz import hardware_efficient, qaoa, random_pauli, tensor_product_rx
from ...convergence import noise_floor, qntk, smoothness_constant
from ...cost import Cost
from ...observables import global_cost, local_cost
from ..task import Case, Task, compare_arrays, compare_number

__all__ = ["EXERCISE", "TASKS"]

EXERCISE = "05_convergence_theory"


def _pauli_observable(rng: np.random.Generator, n: int) -> dict[str, float]:
    """A few random Pauli strings with random real coefficients."""
    terms: dict[str, float] = {}
    while len(terms) < 3:
        label = "".join(rng.choice(list("IXYZ"), size=n))
        if label != "I" * n:
            terms[label] = float(np.round(rng.normal(), 3))
    return terms


def _random_cost(rng: np.random.Generator, kind: int) -> Cost:
    n = int(rng.integers(2, 4))
    if kind == 0:
        return Cost(hardware_efficient(n, int(rng.integers(1, 3))),
                    (local_cost, global_cost)[int(rng.integers(2))](n))
    if kind == 1:
        return Cost(random_pauli(n, int(rng.integers(1, 4)), rng=int(rng.integers(100))),
                    _pauli_observable(rng, n))
    edges = [(q, q + 1) for q in range(n - 1)]
    return Cost(qaoa(edges, n, int(rng.integers(1, 3))), _pauli_observable(rng, n))


# -- 05.smoothness_bound ----------------------------------------------------------------------

def _smoothness_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for kind in (0, 1, 2, 1):
        cost = _random_cost(rng, kind)
        shared = " (shared parameters)" if kind == 2 else ""
        cases.append(Case((cost,), f"{cost.n_qubits}-qubit circuit with {cost.n_params} "
                                   f"parameters{shared}"))
    return cases


def _judge_smoothness(case: Case, got: Any) -> str | None:
    (cost,) = case.args
    return compare_number(got, smoothness_constant(cost).halfwidth, atol=1e-8,
                          what="the bound")


# -- 05.steps_needed --------------------------------------------------------------------------

def _steps_needed(gap: float, lr: float, smoothness: float, eps: float) -> int:
    return math.ceil(gap / (lr * (1 - lr * smoothness / 2) * eps))


def _steps_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for _ in range(5):
        gap = float(np.round(rng.uniform(0.1, 5), 3))
        smoothness = float(np.round(rng.uniform(0.2, 10), 3))
        lr = float(np.round(rng.uniform(0.1, 1.9) / smoothness, 4))
        eps = float(10 ** rng.uniform(-4, -1))
        cases.append(Case((gap, lr, smoothness, eps),
                          f"gap={gap}, lr={lr}, L={smoothness}, eps={eps:.3g}"))
    return cases


def _judge_steps(case: Case, got: Any) -> str | None:
    expected = _steps_needed(*case.args)
    if isinstance(got, bool) or not isinstance(got, int | np.integer):
        return f"returned {got!r}, expected a whole number of steps (an int)"
    return compare_number(got, expected, atol=0, what="T")


# -- 05.qntk ----------------------------------------------------------------------------------

def _qntk_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for kind, batch in ((0, False), (1, False), (0, True), (2, True)):
        cost = _random_cost(rng, kind)
        shape = (int(rng.integers(2, 5)), cost.n_params) if batch else (cost.n_params,)
        theta = rng.uniform(0, 2 * np.pi, shape)
        cases.append(Case((cost, theta), f"{cost.n_qubits}-qubit circuit with "
                                         f"{cost.n_params} parameters, theta of shape {shape}"))
    return cases


def _judge_qntk(case: Case, got: Any) -> str | None:
    cost, theta = case.args
    expected = qntk(cost, theta)
    if np.ndim(theta) == 1:
        return compare_number(got, expected, atol=1e-9, what="K")
    return compare_arrays(got, expected, atol=1e-9, what="K per row")


# -- 05.noise_floor ---------------------------------------------------------------------------

def _floor_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for k in range(4):
        if k % 2 == 0:
            # C = sum_i c_i cos(theta_i) with c_i > 0: minimum at theta = pi, full-rank Hessian.
            n = int(rng.integers(2, 4))
            coeffs = np.round(rng.uniform(0.3, 1.5, n), 3)
            observable = {("I" * q + "Z").ljust(n, "I"): float(c) for q, c in enumerate(coeffs)}
            cost, theta_star = Cost(tensor_product_rx(n), observable), np.full(n, np.pi)
            label = f"{n} R_X rotations with sum_i c_i Z_i"
        else:
            # Local cost at theta = 0: the R_Z directions are flat (|0...0> is unchanged).
            n = int(rng.integers(2, 4))
            cost = Cost(hardware_efficient(n, 1), local_cost(n))
            theta_star, label = np.zeros(cost.n_params), f"{n}-qubit circuit, local cost"
        lr = float(np.round(rng.uniform(0.05, 0.8), 3))
        shots = int(rng.choice([10, 50, 200, 1000]))
        cases.append(Case((cost, theta_star, lr, shots), f"{label}, lr={lr}, shots={shots}"))
    return cases


def _judge_floor(case: Case, got: Any) -> str | None:
    expected = noise_floor(*case.args)
    return compare_number(got, expected, atol=1e-9 + 1e-6 * abs(expected), what="the floor")


TASKS = (
    Task(
        id="05.smoothness_bound",
        function="smoothness_bound",
        call="smoothness_bound(cost)",
        points=2,
        cases=_smoothness_cases,
        judge=_judge_smoothness,
        hint="g = (largest - smallest eigenvalue of the observable) / 2 "
             "(cost.observable.eigh()[0] holds the eigenvalues); m_j = number of operations in "
             "cost.circuit.operations with kind == 'rotation' and param_index == j; the bound "
             "is g * sum_j m_j**2.",
        forbidden=("smoothness_constant", "sampled_curvature", "pauli_coefficients"),
    ),
    Task(
        id="05.steps_needed",
        function="steps_needed",
        call="steps_needed(gap, lr, smoothness, eps)",
        points=1,
        cases=_steps_cases,
        judge=_judge_steps,
        hint="the theorem guarantees min_t |grad C|^2 <= gap / (lr (1 - lr L / 2) T); solve "
             "for the smallest integer T that makes the right side at most eps (math.ceil).",
        forbidden=("stationarity_bound", "stationarity_check"),
    ),
    Task(
        id="05.qntk",
        function="qntk",
        call="qntk(cost, theta)",
        points=1,
        cases=_qntk_cases,
        judge=_judge_qntk,
        hint="K = sum over l of (dC/dtheta_l)**2 with the gradient from cost.gradient(theta); "
             "a batch theta of shape (S, p) gives gradients of shape (S, p), and one K per row "
             "(sum over axis 1). Return a float for a single theta.",
        forbidden=("qntk", "kernel_trace", "relative_rate"),
    ),
    Task(
        id="05.noise_floor",
        function="noise_floor",
        call="noise_floor(cost, theta_star, lr, shots)",
        points=3,
        cases=_floor_cases,
        judge=_judge_floor,
        hint="sigma_j^2 = (Var(O) at theta + pi/2 e_j  +  Var(O) at theta - pi/2 e_j) / 4 with "
             "Var(O) = <O^2> - <O>^2 (a Cost with the observable O @ O gives <O^2>); h, U = "
             "eigh(hessian(cost, theta_star)); for the curved directions h_i > 1e-8 h_max add "
             "(U[:, i] . (sigma^2 * U[:, i])) / (2 - lr h_i); multiply by lr / (2 shots).",
        forbidden=("noise_floor", "shift_gradient_variance"),
    ),
)
