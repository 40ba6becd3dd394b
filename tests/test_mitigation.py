"""Error mitigation (noise/mitigation.py): ZNE removes the bias of an exactly exponential
decay, PEC's quasi-probability sum is the noiseless value, overheads match closed forms."""

import itertools

import numpy as np
import pytest

from qnncourse.circuit import Circuit
from qnncourse.cost import Cost
from qnncourse.noise import AmplitudeDamping, Dephasing, Depolarizing, NoiseModel
from qnncourse.noise.mitigation import (
    extrapolate,
    extrapolation_weights,
    fold_gates,
    pauli_quasi_probabilities,
    pec,
    pec_circuit,
    pec_overhead,
    zne,
)

THETA = np.array([0.7, -1.1, 2.3])


def _one_qubit():
    # One qubit: depolarizing noise commutes with every gate, so with g noisy gates
    # <Z> = (1 - p)^g <Z>_0 exactly, an exponential in the noise scale.
    return Circuit(1).ry(0).rz(0).ry(0)


def test_folding_keeps_the_unitary_and_scales_the_gate_count():
    circuit = Circuit(2).ry(0).cz(0, 1).rx(1)
    theta = THETA[:2]
    for method in ("global", "local"):
        for scale, gates in ((1, 3), (3, 9), (5, 15), (1 + 2 / 3, 5), (2.2, 7)):
            folded = fold_gates(circuit, theta, scale, method=method, rng=1)
            assert len(folded.operations) == gates
            np.testing.assert_allclose(folded.unitary([]).full(), circuit.unitary(theta).full(),
                                       atol=1e-12)
            # names are kept, so noise rules by name or gate class select every copy
            assert {op.name for op in folded.operations} == {"RY", "CZ", "RX"}


def test_zne_removes_the_bias_of_an_exponential_decay():
    p = 0.05
    cost = Cost(_one_qubit(), "Z", noise=Depolarizing(p))
    ideal = Cost(_one_qubit(), "Z")(THETA)
    noisy = cost(THETA)
    assert abs(noisy - ideal) > 0.05 * abs(ideal)  # the bias is there to remove
    exact = zne(cost, THETA, scales=(1, 3, 5), extrapolation="exponential")
    assert exact.value == pytest.approx(ideal, abs=1e-12)
    np.testing.assert_allclose(exact.noisy_values, ideal * (1 - p) ** (3 * np.array([1, 3, 5])),
                               atol=1e-12)
    richardson = zne(cost, THETA, scales=(1, 3, 5))
    assert abs(richardson.value - ideal) < 0.1 * abs(noisy - ideal)  # most of it, not all
    assert richardson.value != pytest.approx(ideal, abs=1e-9)


def test_zne_with_shots_has_the_predicted_spread_and_counts_executions():
    cost = Cost(_one_qubit(), "Z", noise=Depolarizing(0.05))
    ideal = Cost(_one_qubit(), "Z")(THETA)
    runs = [zne(cost, THETA, scales=(1, 3), extrapolation="linear", shots=4000, rng=seed)
            for seed in range(40)]
    values = np.array([r.value for r in runs])
    predicted = runs[0].std_error  # a bound: each shot's std is at most 1 for Z
    assert np.std(values) < 1.1 * predicted
    assert np.std(values) > 0.3 * predicted
    assert abs(values.mean() - ideal) < 0.1
    assert runs[0].shots == 8000 and runs[0].executions == 2
    assert cost.evaluations == 80


def test_richardson_weights_and_linear_fit():
    np.testing.assert_allclose(extrapolation_weights([1, 3]), [1.5, -0.5])
    assert extrapolate([1, 2, 3], [3.0, 5.0, 7.0], "linear") == pytest.approx(1.0)
    assert extrapolate([1, 2, 3], [2.0, 5.0, 10.0]) == pytest.approx(1.0)  # 1 + x^2


def test_quasi_probabilities_and_gamma_closed_forms():
    p = 0.1
    labels, q = pauli_quasi_probabilities(Depolarizing(p).kraus_matrices())
    assert labels == ("I", "X", "Y", "Z")
    np.testing.assert_allclose(q, [(1 + 3 / (1 - p)) / 4] + [(1 - 1 / (1 - p)) / 4] * 3)
    assert np.sum(np.abs(q)) == pytest.approx((2 + p) / (2 * (1 - p)))
    _, q = pauli_quasi_probabilities(Dephasing(p).kraus_matrices())
    assert np.sum(np.abs(q)) == pytest.approx(1 / (1 - 2 * p))
    assert q.sum() == pytest.approx(1.0)
    _, q2 = pauli_quasi_probabilities(Depolarizing(p, n_qubits=2).kraus_matrices())
    assert len(q2) == 16 and q2.sum() == pytest.approx(1.0)
    circuit = Circuit(2).ry(0).cz(0, 1).rx(1)
    cost = Cost(circuit, "ZZ", noise=Depolarizing(p))  # 1 + 2 + 1 channels
    assert pec_overhead(cost) == pytest.approx(((2 + p) / (2 * (1 - p))) ** 4)
    assert pec_overhead(circuit, Depolarizing(p)) == pytest.approx(pec_overhead(cost))
    with pytest.raises(ValueError, match="needs the noise model"):
        pec_overhead(circuit)


def test_pec_quasi_probability_sum_is_the_noiseless_value():
    circuit = Circuit(2).ry(0).cz(0, 1).rx(1)
    model = (NoiseModel().add(Depolarizing(0.1), gates="two-qubit")
             .add({1: Dephasing(0.15)}, gates="one-qubit"))
    cost = Cost(circuit, "ZZ", noise=model)
    steps = model.channel_steps(circuit)
    tables = [pauli_quasi_probabilities(s.kraus) for s in steps]
    total = 0.0
    for choice in itertools.product(*[range(len(q)) for _, q in tables]):
        labels = [tables[i][0][j] for i, j in enumerate(choice)]
        weight = np.prod([tables[i][1][j] for i, j in enumerate(choice)])
        total += weight * cost.with_circuit(pec_circuit(circuit, THETA[:2], steps, labels))([])
    ideal = Cost(circuit, "ZZ")(THETA[:2])
    assert total == pytest.approx(ideal, abs=1e-10)
    assert abs(cost(THETA[:2]) - ideal) > 0.01


def test_pec_sampling_is_unbiased_within_its_error():
    circuit = Circuit(2).ry(0).cz(0, 1).rx(1)
    cost = Cost(circuit, "ZZ", noise=Depolarizing(0.1))
    ideal = Cost(circuit, "ZZ")(THETA[:2])
    result = pec(cost, THETA[:2], samples=2000, rng=3)
    assert abs(result.value - ideal) < 4 * result.std_error
    assert result.gamma == pytest.approx(pec_overhead(cost))
    # one shot per sample: the spread is about gamma / sqrt(samples)
    assert result.std_error == pytest.approx(result.gamma / np.sqrt(2000), rel=0.15)
    assert cost.evaluations == 2000


def test_clear_errors_on_bad_input():
    circuit = Circuit(2).ry(0).cz(0, 1)
    noisy = Cost(circuit, "ZZ", noise=Depolarizing(0.1))
    with pytest.raises(ValueError, match="needs a noisy cost"):
        zne(Cost(circuit, "ZZ"), THETA[:1])
    with pytest.raises(ValueError, match="scale must be a noise scale factor >= 1"):
        fold_gates(circuit, THETA[:1], 0.5)
    with pytest.raises(ValueError, match="method must be one of"):
        fold_gates(circuit, THETA[:1], 3, method="everywhere")
    with pytest.raises(ValueError, match="at least 2 distinct scales"):
        zne(noisy, THETA[:1], scales=(1, 1))
    with pytest.raises(ValueError, match="same length"):
        extrapolate([1, 3], [0.1])
    with pytest.raises(ValueError, match="values of one sign"):
        extrapolate([1, 3], [0.1, -0.1], "exponential")
    with pytest.raises(ValueError, match="extrapolation must be one of"):
        zne(noisy, THETA[:1], extrapolation="cubic")
    with pytest.raises(ValueError, match="observable must be diagonal"):
        zne(Cost(circuit, "XX", noise=Depolarizing(0.1)), THETA[:1], shots=100)
    with pytest.raises(ValueError, match="not a Pauli channel"):
        pec(Cost(circuit, "ZZ", noise=AmplitudeDamping(0.1)), THETA[:1], samples=10)
    with pytest.raises(ValueError, match="erases a Pauli component"):
        pec_overhead(Cost(circuit, "ZZ", noise=Depolarizing(1.0)))
    with pytest.raises(ValueError, match="samples must be an int >= 2"):
        pec(noisy, THETA[:1], samples=1)
    with pytest.raises(ValueError, match="single theta"):
        zne(noisy, np.zeros((2, 1)))
