"""Exercise 06, outlook: what it costs to train at scale -- the shots needed to resolve a
vanishing gradient, the noise-induced suppression of gradients and its per-layer decay rate
(Wang et al. 2021), and the Gram matrix of a quantum kernel, an alternative to training."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...ansatz import hardware_efficient
from ...circuit import Circuit
from ...cost import Cost
from ...noise import Depolarizing, noisy_gradient_decay
from ...observables import local_cost
from ..task import Case, Task, compare_arrays, compare_number

__all__ = ["EXERCISE", "TASKS", "hardware_efficient_depth"]

EXERCISE = "08_outlook"


# -- 08.shots_needed -------------------------------------------------------------------------

def _shots_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for z in (1.0, 2.0, 3.0, float(np.round(rng.uniform(1, 4), 2))):
        variance = float(10 ** rng.uniform(-7, -1))
        cases.append(Case((variance, z), f"variance={variance:.3g}, z={z}"))
    return cases


def _judge_shots(case: Case, got: Any) -> str | None:
    variance, z = case.args
    # sigma^2 = 1/(2N) for the two-term rule with unit single-shot variance; want sigma <= sd/z
    expected = math.ceil(z**2 / (2 * variance))
    if isinstance(got, bool) or not isinstance(got, int | float) or got != int(got):
        return f"returned {got!r}, expected a whole number of shots"
    return compare_number(got, expected, atol=0)


# -- 08.gradient_suppression -----------------------------------------------------------------

def _suppression_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for _ in range(4):
        n, layers = int(rng.integers(2, 4)), int(rng.integers(1, 4))
        p = float(np.round(rng.uniform(0.01, 0.2), 3))
        circuit = hardware_efficient(n, layers)
        noisy = Cost(circuit, local_cost(n), noise=Depolarizing(p))
        clean = Cost(circuit, local_cost(n))
        thetas = rng.uniform(0, 2 * np.pi, (int(rng.integers(5, 20)), circuit.n_params))
        cases.append(Case((noisy, clean, thetas), f"{n} qubits, {layers} layers, p={p}, "
                                                  f"{len(thetas)} draws"))
    return cases


def _judge_suppression(case: Case, got: Any) -> str | None:
    noisy, clean, thetas = case.args
    expected = np.mean(np.abs(noisy.gradient(thetas))) / np.mean(np.abs(clean.gradient(thetas)))
    return compare_number(got, float(expected), atol=1e-9)


# -- 08.decay_rate ---------------------------------------------------------------------------

def hardware_efficient_depth(layers: int) -> Circuit:
    """Two-qubit hardware-efficient circuits of growing depth, for the decay measurements."""
    return hardware_efficient(2, layers)


def _decay_cases(rng: np.random.Generator) -> list[Case]:
    depths = [1, 2, 3, 4, 5]
    rates = list(np.round(rng.uniform(0.02, 0.3, 4), 3))
    result = noisy_gradient_decay(hardware_efficient_depth, local_cost(2), depths, rates,
                                  n_samples=8, rng=rng)
    return [Case((np.array(depths), row), f"p={rate}", extra=(float(decay),))
            for rate, row, decay in zip(rates, result.suppression, result.decay, strict=True)]


def _judge_decay(case: Case, got: Any) -> str | None:
    return compare_number(got, case.extra[0], atol=1e-9)


# -- 08.kernel_matrix ------------------------------------------------------------------------

def _encoding_circuit(rng: np.random.Generator, n: int, n_features: int) -> Circuit:
    circuit = Circuit(n)
    for _ in range(2):
        for q in range(n):
            circuit.encode(str(rng.choice(["X", "Y"])), q, int(rng.integers(n_features)))
        for q in range(n - 1):
            circuit.cz(q, q + 1)
    return circuit


def _kernel_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n in (1, 2, 3, 3):
        circuit = _encoding_circuit(rng, n, int(rng.integers(1, 4)))
        X = rng.uniform(-np.pi, np.pi, (int(rng.integers(2, 7)), circuit.n_features))
        cases.append(Case((circuit, X), f"{n}-qubit encoding, {len(X)} points with "
                                        f"{circuit.n_features} features"))
    return cases


def _judge_kernel(case: Case, got: Any) -> str | None:
    circuit, X = case.args
    states = np.array([circuit.state(np.zeros(0), x).full().ravel() for x in X])
    expected = np.abs(states.conj() @ states.T) ** 2
    return compare_arrays(got, expected, atol=1e-10, what="the kernel matrix")


TASKS = (
    Task(
        id="08.shots_needed",
        function="shots_needed",
        call="shots_needed(variance, z)",
        points=2,
        cases=_shots_cases,
        judge=_judge_shots,
        hint="with N shots per shifted circuit the two-term estimate has variance at most "
             "2 * (1/N) / 4 = 1/(2N); require sqrt(1/(2N)) <= sqrt(variance) / z and return "
             "the smallest such whole N (math.ceil).",
    ),
    Task(
        id="08.gradient_suppression",
        function="gradient_suppression",
        call="gradient_suppression(noisy_cost, clean_cost, thetas)",
        points=2,
        cases=_suppression_cases,
        judge=_judge_suppression,
        hint="call .gradient on the whole (S, p) batch for each cost; return the mean of the "
             "absolute values of all entries for the noisy cost divided by the same for the "
             "clean one.",
        forbidden=("noisy_gradient_decay",),
    ),
    Task(
        id="08.decay_rate",
        function="decay_rate",
        call="decay_rate(depths, suppression)",
        points=3,
        cases=_decay_cases,
        judge=_judge_decay,
        hint="if suppression = A r**depth then ln(suppression) = ln A + depth ln r: fit a line "
             "to (depths, ln suppression) by least squares (np.polyfit(..., 1)) and return "
             "exp(slope).",
        forbidden=("noisy_gradient_decay",),
    ),
    Task(
        id="08.kernel_matrix",
        function="kernel_matrix",
        call="kernel_matrix(circuit, X)",
        points=3,
        cases=_kernel_cases,
        judge=_judge_kernel,
        hint="the encoding circuit has no trainable parameters: its state for a data point x "
             "is circuit.state(np.zeros(0), x); stack the state vectors and return "
             "K[i, j] = |<psi(x_i)|psi(x_j)>|**2 for all pairs.",
    ),
)
