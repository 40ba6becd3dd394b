"""Exercise 04, convergence: gradient descent and Adam steps, the Hessian from shifted
gradients (local curvature, the smoothness constant of the rate bound), the dimension of a
dynamical Lie algebra, which decides overparameterization (Larocca et al. 2023), and the
g-purity, which with that dimension gives a deep circuit's variance (Ragone et al. 2024)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...ansatz import hardware_efficient
from ...convergence import hessian
from ...cost import Cost
from ...lie import closure, dimension, purity
from ...observables import global_cost, local_cost
from ...optim import Adam, GradientDescent
from ..task import Case, Task, compare_arrays, compare_number

__all__ = ["EXERCISE", "TASKS"]

EXERCISE = "04_convergence"

_OPTIMIZERS = ("GradientDescent", "Adam", "SPSA", "QNG", "train", "train_layerwise")


def _random_cost(rng: np.random.Generator) -> Cost:
    n = int(rng.integers(2, 4))
    observable = (local_cost, global_cost)[int(rng.integers(2))]
    return Cost(hardware_efficient(n, int(rng.integers(1, 3))), observable(n))


def _training_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for _ in range(4):
        cost = _random_cost(rng)
        theta0 = rng.uniform(-1, 1, cost.n_params)
        lr = float(np.round(rng.uniform(0.05, 0.5), 3))
        steps = int(rng.integers(1, 8))
        cases.append(Case((cost, theta0, lr, steps),
                          f"{cost.n_qubits}-qubit circuit with {cost.n_params} parameters, "
                          f"lr={lr}, steps={steps}"))
    return cases


def _judge_with(optimizer_class):
    def judge(case: Case, got: Any) -> str | None:
        cost, theta0, lr, steps = case.args
        optimizer, theta = optimizer_class(lr), np.array(theta0, dtype=float)
        for _ in range(steps):
            theta, _ = optimizer.step(cost, theta)
        return compare_arrays(got, theta, atol=1e-9, what="the final theta")
    return judge


# -- 04.hessian ------------------------------------------------------------------------------

def _hessian_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for _ in range(4):
        cost = _random_cost(rng)
        cases.append(Case((cost, rng.uniform(0, 2 * np.pi, cost.n_params)),
                          f"{cost.n_qubits}-qubit circuit with {cost.n_params} parameters"))
    return cases


def _judge_hessian(case: Case, got: Any) -> str | None:
    cost, theta = case.args
    return compare_arrays(got, hessian(cost, theta), atol=1e-8, what="the Hessian")


# -- 04.dla_dimension ------------------------------------------------------------------------

def _dla_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, count in ((2, 2), (2, 3), (3, 3), (3, 4)):
        labels: list[str] = []
        while len(labels) < count:
            label = "".join(rng.choice(list("IXYZ"), size=n))
            if label != "I" * n and label not in labels:
                labels.append(label)
        cases.append(Case((labels,), f"generators {labels}"))
    return cases


def _judge_dla(case: Case, got: Any) -> str | None:
    (labels,) = case.args
    expected = dimension(labels)
    if isinstance(got, bool) or not isinstance(got, int | float) or got != int(got):
        return f"returned {got!r}, expected a whole number"
    return compare_number(got, expected, atol=0)


# -- 04.purity -------------------------------------------------------------------------------

def _ising(n: int) -> list[str]:
    """The open Ising chain {X_i, Z_i Z_i+1}, whose DLA is spanned by Pauli strings."""
    return ([("I" * q + "X").ljust(n, "I") for q in range(n)]
            + [("I" * q + "ZZ").ljust(n, "I") for q in range(n - 1)])


def _ising_with_field(n: int) -> list[str]:
    """{X_i, Z_i, Z_i Z_i+1}: the chain with a longitudinal field too."""
    return _ising(n) + [("I" * q + "Z").ljust(n, "I") for q in range(n)]


def _density_matrix(rng: np.random.Generator, n: int, pure: bool) -> np.ndarray:
    """A random pure state |psi><psi|, or a random full-rank mixed state (Wishart)."""
    d = 2**n
    m = rng.normal(size=(d, 1 if pure else d)) + 1j * rng.normal(size=(d, 1 if pure else d))
    rho = m @ m.conj().T
    return rho / np.trace(rho).real


def _purity_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, pool in ((2, _ising), (2, _ising_with_field), (3, _ising), (3, _ising_with_field)):
        labels = pool(n)
        chosen = sorted(rng.choice(len(labels), int(rng.integers(2, len(labels) + 1)),
                               replace=False))
        generators = [labels[i] for i in chosen]
        pure = bool(rng.integers(2))
        cases.append(Case((generators, _density_matrix(rng, n, pure)),
                          f"generators {generators}, a {'pure' if pure else 'mixed'} state"))
    return cases


def _judge_purity(case: Case, got: Any) -> str | None:
    generators, rho = case.args
    return compare_number(got, purity(rho, closure(generators)), atol=1e-9, what="the purity")


TASKS = (
    Task(
        id="04.gradient_descent",
        function="gradient_descent",
        call="gradient_descent(cost, theta0, lr, steps)",
        points=1,
        cases=_training_cases,
        judge=_judge_with(GradientDescent),
        hint="repeat `steps` times: theta = theta - lr * cost.gradient(theta); start from a "
             "float copy of theta0 and return the final theta.",
        forbidden=_OPTIMIZERS,
    ),
    Task(
        id="04.adam",
        function="adam",
        call="adam(cost, theta0, lr, steps)",
        points=2,
        cases=_training_cases,
        judge=_judge_with(Adam),
        hint="m and v start at zero; at step t = 1, 2, ...: m = b1 m + (1 - b1) g, "
             "v = b2 v + (1 - b2) g**2, theta -= lr * (m / (1 - b1**t)) / "
             "(sqrt(v / (1 - b2**t)) + eps), with b1 = 0.9, b2 = 0.999, eps = 1e-8.",
        forbidden=_OPTIMIZERS,
    ),
    Task(
        id="04.hessian",
        function="hessian",
        call="hessian(cost, theta)",
        points=2,
        cases=_hessian_cases,
        judge=_judge_hessian,
        hint="the shift rule applied twice: H[j, k] = (g_k(theta + pi/2 e_j) - "
             "g_k(theta - pi/2 e_j)) / 2 with g = cost.gradient; symmetrise, (H + H.T) / 2.",
        forbidden=("hessian", "lipschitz_estimate", "convex_rate_check", "metric_tensor"),
    ),
    Task(
        id="04.dla_dimension",
        function="dla_dimension",
        call="dla_dimension(generators)",
        points=3,
        cases=_dla_cases,
        judge=_judge_dla,
        hint="the commutator of two Pauli strings is 0 if they commute and 2i times (up to a "
             "sign) their product otherwise, itself a Pauli string; start from the generators "
             "and keep adding the products of non-commuting pairs until nothing new appears; "
             "the dimension is the number of strings found.",
        forbidden=("closure", "dimension", "decompose", "exact_closure"),
    ),
    Task(
        id="04.purity",
        function="purity",
        call="purity(generators, rho)",
        points=2,
        cases=_purity_cases,
        judge=_judge_purity,
        hint="the DLA is spanned by the Pauli strings P_a your closure finds (dla_basis of "
             "Task 4); B_a = P_a / sqrt(2**n) is an orthonormal basis, so the purity is "
             "sum_a Tr(P_a rho)**2 / 2**n, summed over the strings of the DLA only (not over "
             "all 4**n strings); Tr(P_a rho) is real for a Hermitian rho, take its .real.",
        forbidden=("purity", "closure", "decompose", "lie_variance", "orthonormal"),
    ),
)
