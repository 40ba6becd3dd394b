"""Exercise 03, barren plateaus: a gradient variance from parameter draws, its confidence
interval, the frame potential (how close an ensemble is to a 2-design), and the exponential
fit of variance against qubit count (McClean et al. 2018; Cerezo et al. 2021)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...ansatz import hardware_efficient
from ...cost import Cost
from ...observables import global_cost, local_cost
from ...plateaus import exponential_fit, frame_potential, haar_states, variance_interval
from ..task import Case, Task, compare_arrays, compare_number

__all__ = ["EXERCISE", "TASKS"]

EXERCISE = "03_barren_plateaus"


# -- 03.gradient_variance --------------------------------------------------------------------

def _variance_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for observable in (global_cost, local_cost, global_cost, local_cost):
        n = int(rng.integers(2, 5))
        cost = Cost(hardware_efficient(n, int(rng.integers(1, 4))), observable(n))
        thetas = rng.uniform(0, 2 * np.pi, (int(rng.integers(20, 60)), cost.n_params))
        k = int(rng.integers(cost.n_params))
        cases.append(Case((cost, thetas, k), f"{n}-qubit {observable.__name__}, "
                                             f"{len(thetas)} draws, k={k}"))
    return cases


def _judge_variance(case: Case, got: Any) -> str | None:
    cost, thetas, k = case.args
    samples = cost.gradient(thetas)[:, k]
    return compare_number(got, float(np.var(samples, ddof=1)), atol=1e-12)


# -- 03.variance_interval --------------------------------------------------------------------

def _interval_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for confidence in (0.95, 0.9, 0.99, 0.68):
        n = int(rng.integers(10, 200))
        samples = rng.normal(0, rng.uniform(0.01, 1), n)
        cases.append(Case((samples, confidence), f"{n} samples, confidence={confidence}"))
    return cases


def _judge_interval(case: Case, got: Any) -> str | None:
    samples, confidence = case.args
    expected = np.array(variance_interval(samples, confidence, method="chi2"))
    return compare_arrays(got, expected, atol=1e-12, what="(lo, hi)")


# -- 03.frame_potential ----------------------------------------------------------------------

def _product_states(rng: np.random.Generator, n: int, count: int) -> np.ndarray:
    # Random product states: far from a 2-design, so their frame potential is large.
    states = []
    for _ in range(count):
        psi = np.ones(1, dtype=complex)
        for qubit in haar_states(1, n, rng):
            psi = np.kron(psi, qubit)
        states.append(psi)
    return np.array(states)


def _frame_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for kind, t in (("Haar", 1), ("Haar", 2), ("product", 2), ("product", 3)):
        n, count = int(rng.integers(1, 4)), int(rng.integers(5, 30))
        states = haar_states(n, count, rng) if kind == "Haar" else \
            _product_states(rng, n, count)
        cases.append(Case((states, t), f"{count} {kind} states of {n} qubits, t={t}"))
    return cases


def _judge_frame(case: Case, got: Any) -> str | None:
    states, t = case.args
    return compare_number(got, frame_potential(states, t).value, atol=1e-12)


# -- 03.decay_slope --------------------------------------------------------------------------

def _slope_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for _ in range(4):
        ns = np.arange(2, 2 + int(rng.integers(3, 7)))
        slope = -rng.uniform(0.3, 1.5)
        variances = np.exp(rng.normal(-1 + slope * ns, 0.2))
        widths = rng.uniform(0.1, 1.0, ns.size)  # relative half-widths, on the log scale
        cis = np.column_stack([variances * np.exp(-widths), variances * np.exp(widths)])
        cases.append(Case((ns, variances, cis), f"n = {ns.tolist()}"))
    return cases


def _judge_slope(case: Case, got: Any) -> str | None:
    ns, variances, cis = case.args
    return compare_number(got, exponential_fit(ns, variances, cis).slope, atol=1e-9)


TASKS = (
    Task(
        id="03.gradient_variance",
        function="gradient_variance",
        call="gradient_variance(cost, thetas, k)",
        points=2,
        cases=_variance_cases,
        judge=_judge_variance,
        hint="cost.gradient(thetas) on the (S, p) array gives an (S, p) array of gradients; "
             "take column k and its unbiased sample variance, np.var(..., ddof=1).",
    ),
    Task(
        id="03.variance_interval",
        function="variance_interval",
        call="variance_interval(samples, confidence)",
        points=2,
        cases=_interval_cases,
        judge=_judge_interval,
        hint="with s2 the sample variance (ddof=1), n samples and alpha = 1 - confidence: "
             "((n-1) s2 / chi2.ppf(1 - alpha/2, n-1), (n-1) s2 / chi2.ppf(alpha/2, n-1)), "
             "chi2 from scipy.stats; the lower end uses the larger quantile.",
        forbidden=("variance_interval", "gradient_variance", "bootstrap"),
    ),
    Task(
        id="03.frame_potential",
        function="frame_potential",
        call="frame_potential(states, t)",
        points=3,
        cases=_frame_cases,
        judge=_judge_frame,
        hint="the overlaps are states.conj() @ states.T; average |overlap|**(2t) over the "
             "pairs i < j only (np.triu_indices(S, k=1)): the i = j terms are always 1.",
        forbidden=("frame_potential",),
    ),
    Task(
        id="03.decay_slope",
        function="decay_slope",
        call="decay_slope(ns, variances, cis)",
        points=3,
        cases=_slope_cases,
        judge=_judge_slope,
        hint="fit y = ln(variances) = a + b n by weighted least squares with weights "
             "1/sigma**2, sigma = (ln hi - ln lo) / (2 z), z = scipy.stats.norm.ppf(0.975); "
             "solve (X^T W X) [a, b] = X^T W y with X = [1, n] and return b.",
        forbidden=("exponential_fit", "variance_scan"),
    ),
)
