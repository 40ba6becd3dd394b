"""Grouped (qubit-wise commuting) measurement, against exact variances from QuTiP."""

import itertools

import numpy as np
import pytest
import qutip

import qnncourse as qc
from qnncourse.measurement import (
    GroupedMeasurement,
    as_measurement,
    qubitwise_commute,
    qubitwise_commuting_groups,
)

TFIM = {"ZZI": -1.0, "IZZ": -1.0, "XII": -0.7, "IXI": -0.7, "IIX": -0.7, "III": 0.25}
MIXED = {"XX": 0.5, "YY": 0.5, "ZZ": 1.0, "ZI": -0.3, "IY": 0.2}


def random_states(n, k, seed):
    rng = np.random.default_rng(seed)
    psi = rng.normal(size=(k, 2**n)) + 1j * rng.normal(size=(k, 2**n))
    return psi / np.linalg.norm(psi, axis=1, keepdims=True)


def qobj(terms, n):
    return qc.pauli_sum(terms).to_qobj() if terms else qutip.qzero([2] * n)


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("XZI", "XIZ", True), ("XX", "YY", False), ("II", "ZY", True), ("ZI", "XI", False)])
def test_qubitwise_commute(a, b, expected):
    assert qubitwise_commute(a, b) is expected


@pytest.mark.parametrize("terms", [TFIM, MIXED], ids=["tfim", "mixed"])
def test_groups_partition_the_terms_into_qubitwise_commuting_sets(terms):
    groups = qubitwise_commuting_groups(terms)
    seen = {}
    for group in groups:
        for a, b in itertools.combinations(group.terms, 2):
            assert qubitwise_commute(a, b)
        seen.update(group.terms)
    identity = "I" * len(next(iter(terms)))
    assert seen == {k: v for k, v in terms.items() if k != identity}


def test_group_counts():
    assert len(qubitwise_commuting_groups(TFIM)) == 2          # all Z-type, all X-type
    assert len(qubitwise_commuting_groups({"XX": 1, "YY": 1, "ZZ": 1})) == 3
    assert len(qubitwise_commuting_groups({"ZI": 1, "IZ": 1, "ZZ": 1})) == 1


@pytest.mark.parametrize("terms", [TFIM, MIXED], ids=["tfim", "mixed"])
def test_expectation_and_variance_match_qutip(terms):
    m = GroupedMeasurement(terms, len(next(iter(terms))))
    n = m.n_qubits
    psi = random_states(n, 5, seed=1)
    O = qc.pauli_sum(terms).to_qobj()
    for row, value, variance in zip(psi, m.expectation(psi), m.shot_variance(psi), strict=True):
        ket = qutip.Qobj(row, dims=[[2] * n, [1] * n])
        assert value == pytest.approx(qutip.expect(O, ket), abs=1e-12)
        exact = sum(qutip.expect(qobj(g.terms, n) ** 2, ket) - qutip.expect(qobj(g.terms, n), ket)
                    ** 2 for g in m.groups)
        assert variance == pytest.approx(exact, abs=1e-12)


def test_grouped_variance_differs_from_eigenbasis_variance():
    # on |0+>, ZZ... the two schemes must differ by the covariances between groups
    m = GroupedMeasurement(MIXED, 2)
    psi = random_states(2, 20, seed=2)
    O = qc.pauli_sum(MIXED).to_matrix()
    eig = np.einsum("si,ij,jk,sk->s", psi.conj(), O, O, psi).real - m.expectation(psi) ** 2
    assert not np.allclose(eig, m.shot_variance(psi))


def test_estimates_are_unbiased_with_the_predicted_variance():
    m = GroupedMeasurement(MIXED, 2)
    psi = np.repeat(random_states(2, 1, seed=3), 4000, axis=0)
    shots = 50
    est = m.estimate(psi, shots, rng=4)
    predicted = m.shot_variance(psi[:1])[0] / shots
    sem = np.sqrt(predicted / len(est))
    assert abs(est.mean() - m.expectation(psi[:1])[0]) < 4 * sem
    lo, hi = qc.plateaus.variance_interval(est, confidence=0.999)
    assert lo <= predicted <= hi


def test_cost_hook_counts_one_circuit_per_group_and_estimates_the_cost():
    circuit = qc.ansatz.hardware_efficient(3, 2)
    theta = np.random.default_rng(5).uniform(0, 2 * np.pi, circuit.n_params)
    exact = qc.Cost(circuit, TFIM)(theta)
    grouped = qc.Cost(circuit, TFIM, shots=200, rng=6, measurement="qwc")
    values = grouped(np.tile(theta, (500, 1)))
    assert grouped.evaluations == 500 * 2
    assert grouped.shots_used == 500 * 2 * 200
    state = circuit.state(theta).full().ravel()
    predicted = GroupedMeasurement(TFIM, 3).shot_variance(state[None, :])[0] / 200
    assert abs(values.mean() - exact) < 4 * np.sqrt(predicted / 500)
    lo, hi = qc.plateaus.variance_interval(values, confidence=0.999)
    assert lo <= predicted <= hi
    assert grouped.with_circuit(circuit).measurement == "qwc"


def test_bad_input():
    with pytest.raises(ValueError, match="measurement must be one of"):
        as_measurement("paired", TFIM, 3)
    with pytest.raises(TypeError, match="needs the observable as a Pauli sum"):
        qc.Cost(qc.ansatz.hardware_efficient(2, 1), qc.global_cost(2), shots=10,
                measurement="qwc")
    with pytest.raises(ValueError, match="acts on 3 qubits"):
        GroupedMeasurement(TFIM, 2)
    with pytest.raises(ValueError, match="shots must be a positive int"):
        GroupedMeasurement(TFIM, 3).estimate(random_states(3, 1, 0), 0)
