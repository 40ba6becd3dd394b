"""Exercise 02, gradients: the parameter-shift rule, finite differences, batching, and the
four-term rule for a parameter shared by two gates (Mitarai et al. 2018; Schuld et al. 2019;
Wierichs et al. 2022, Quantum 6, 677).

Every task here *serves* its cost (:mod:`qnncourse.grading.served`): the learner's function
gets a stand-in it can only call, whose calls the grader evaluates and counts in its own
process. So ``getattr(cost, "gradient")`` finds nothing to call, and the count of calls and
circuit evaluations that ``02.shift_gradient`` is judged on cannot be reset by the notebook."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...ansatz import hardware_efficient
from ...cost import Cost
from ...observables import pauli_sum
from ..task import Case, Task, compare_arrays, compare_number

__all__ = ["EXERCISE", "TASKS"]

EXERCISE = "02_gradients"

# The library's own gradients: calling them would skip the exercise.
_LIBRARY_GRADIENTS = ("gradient", "value_and_gradient", "parameter_shift", "adjoint",
                      "adjoint_gradient", "finite_difference", "spsa_gradient")


def _random_observable(rng: np.random.Generator, n: int, terms: int = 3):
    labels = set()
    while len(labels) < terms:
        label = "".join(rng.choice(list("IXYZ"), size=n))
        if label != "I" * n:
            labels.add(label)
    return pauli_sum({label: float(rng.uniform(-1, 1)) for label in sorted(labels)})


def _random_cost(rng: np.random.Generator) -> Cost:
    n = int(rng.integers(2, 4))
    return Cost(hardware_efficient(n, int(rng.integers(1, 3))), _random_observable(rng, n))


def _theta(rng: np.random.Generator, cost: Cost) -> np.ndarray:
    return rng.uniform(0, 2 * np.pi, cost.n_params)


def _label(cost: Cost, **extra: Any) -> str:
    more = "".join(f", {k}={v}" for k, v in extra.items())
    return f"{cost.n_qubits}-qubit circuit with {cost.n_params} parameters{more}"


# -- 02.shift_rule ---------------------------------------------------------------------------

def _shift_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for _ in range(4):
        cost = _random_cost(rng)
        k = int(rng.integers(cost.n_params))
        cases.append(Case((cost, _theta(rng, cost), k), _label(cost, k=k)))
    return cases


def _judge_partial(case: Case, got: dict) -> str | None:
    cost, theta, k = case.args
    return compare_number(got["value"], cost.gradient(theta)[k], atol=1e-8)


# -- 02.central_difference -------------------------------------------------------------------

def _difference_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for _ in range(4):
        cost = _random_cost(rng)
        # A step this large makes the O(h^2) error visible: only the central difference with
        # this very h matches, not the exact gradient nor a one-sided difference.
        h = float(np.round(rng.uniform(0.05, 0.3), 3))
        cases.append(Case((cost, _theta(rng, cost), h), _label(cost, h=h)))
    return cases


def _judge_difference(case: Case, got: dict) -> str | None:
    cost, theta, h = case.args
    expected = cost.gradient(theta, method="finite-difference", h=h)
    return compare_arrays(got["value"], expected, atol=1e-9, what="the gradient")


# -- 02.shift_gradient -----------------------------------------------------------------------

def _gradient_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for _ in range(4):
        cost = _random_cost(rng)
        cases.append(Case((cost, _theta(rng, cost)), _label(cost)))
    return cases


def _judge_gradient(case: Case, got: dict) -> str | None:
    cost, theta = case.args
    problem = compare_arrays(got["value"], cost.gradient(theta), atol=1e-8,
                             what="the gradient")
    if problem:
        return problem
    p = cost.n_params
    if got["calls"] != 1:
        return (f"the gradient is right, but it took {got['calls']} calls of cost; make one "
                f"call with all {2 * p} shifted points")
    if got["evaluations"] != 2 * p:
        return (f"the gradient is right, but it used {got['evaluations']} circuit evaluations; "
                f"the shift rule needs 2p = {2 * p}")
    return None


# -- 02.shared_shift_rule --------------------------------------------------------------------

def _shared_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for _ in range(4):
        n = int(rng.integers(2, 4))
        circuit = hardware_efficient(n, 1)
        k = int(rng.integers(circuit.n_params))
        (first,) = [op for op in circuit.operations if op.param_index == k]
        for q in range(n - 1):
            circuit.cz(q, q + 1)
        # Parameter k drives a second, commuting rotation on another qubit after the
        # entangling layer: C(theta_k) then has frequencies 1 and 2, and the two-term rule
        # is wrong for it.
        other = int(rng.choice([q for q in range(n) if q != first.qubits[0]]))
        circuit.pauli_rotation(first.pauli, other, param=k)
        for q in range(n):
            circuit.rx(q)
        cost = Cost(circuit, _random_observable(rng, n))
        cases.append(Case((cost, _theta(rng, cost), k), _label(cost, k=k) + " (shared by two "
                                                                             "gates)"))
    return cases


TASKS = (
    Task(
        id="02.shift_rule",
        function="shift_rule",
        call="shift_rule(cost, theta, k)",
        points=2,
        cases=_shift_cases,
        judge=_judge_partial,
        hint="evaluate the cost at two copies of theta whose entry k is moved by +pi/2 and by "
             "-pi/2, and return half of the difference (copy theta before changing it).",
        forbidden=_LIBRARY_GRADIENTS,
        serves=True,
    ),
    Task(
        id="02.central_difference",
        function="central_difference",
        call="central_difference(cost, theta, h)",
        points=2,
        cases=_difference_cases,
        judge=_judge_difference,
        hint="for every j, return (C(theta + h e_j) - C(theta - h e_j)) / (2h), as an array "
             "with one entry per parameter; use the h you are given, not your own.",
        forbidden=_LIBRARY_GRADIENTS,
        serves=True,
    ),
    Task(
        id="02.shift_gradient",
        function="shift_gradient",
        call="shift_gradient(cost, theta)",
        points=3,
        cases=_gradient_cases,
        judge=_judge_gradient,
        hint="stack the 2p shifted copies of theta as the rows of one (2p, p) array, call cost "
             "once on it (it returns one value per row), then combine the two halves.",
        forbidden=_LIBRARY_GRADIENTS,
        serves=True,
    ),
    Task(
        id="02.shared_shift_rule",
        function="shared_shift_rule",
        call="shared_shift_rule(cost, theta, k)",
        points=3,
        cases=_shared_cases,
        judge=_judge_partial,
        hint="as a function of t = theta_k the cost is a + b cos(t) + c sin(t) + d cos(2t) + "
             "e sin(2t), so two shifts are not enough; use shifts +-pi/4 and +-3pi/4 and choose "
             "their two weights so that the rule is exact for sin(t) and for sin(2t) at t = 0.",
        forbidden=_LIBRARY_GRADIENTS,
        serves=True,
    ),
)
