"""Gradient methods against each other, against QuTiP, and their documented properties."""

import numpy as np
import pytest
import qutip
from conftest import qutip_gradient, qutip_value

from qnncourse import ansatz, gradients
from qnncourse.circuit import Circuit
from qnncourse.observables import as_observable, global_cost, local_cost
from qnncourse.simulators import statevector
from qnncourse.simulators.statevector import (
    adjoint_gradient,
    expectation,
    expectation_from_angles,
)


def mixed_circuit():
    """Every kind of operation: shared, multi-qubit, encoding, dense and monomial gates."""
    c = Circuit(3).h(0).ry(0).rx(1).pauli_rotation("XY", (2, 0)).cnot(0, 2)
    c.encode("Y", 1, 0, scale=0.5).rz(2).rz(0, param=3).pauli_rotation("ZXZ").cz(1, 2)
    return c.gate(qutip.rand_unitary(2, seed=1), 1).ry(2)


CIRCUITS = {
    "hardware_efficient": lambda: ansatz.hardware_efficient(3, 2),
    "random_pauli": lambda: ansatz.random_pauli(3, 3, rng=2),
    "qaoa": lambda: ansatz.qaoa([(0, 1), (1, 2)], 3, 2),
    "mixed": mixed_circuit,
}
OBSERVABLES = {
    "global": lambda: global_cost(3),
    "local": lambda: local_cost(3),
    "pauli": lambda: {"ZZI": 0.5, "XIY": -1.0, "IYY": 0.3},
    "dense": lambda: qutip.rand_herm([2, 2, 2], density=1.0, seed=3),
}


def inputs(circuit, n_draws=3, seed=0):
    rng = np.random.default_rng(seed)
    theta = rng.uniform(-np.pi, np.pi, (n_draws, circuit.n_params))
    x = rng.normal(size=circuit.n_features) if circuit.n_features else None
    return theta, x


@pytest.mark.parametrize("obs_key", list(OBSERVABLES))
@pytest.mark.parametrize("circ_key", list(CIRCUITS))
def test_methods_agree(circ_key, obs_key):
    circuit, observable = CIRCUITS[circ_key](), OBSERVABLES[obs_key]()
    obs = as_observable(observable, circuit.n_qubits)
    theta, x = inputs(circuit)
    angles = circuit.angles(theta, x)
    values, adjoint = gradients.adjoint(circuit, obs, angles)

    def f(rows):
        return expectation_from_angles(circuit, obs, rows)

    shift = gradients.parameter_shift(f, circuit, angles)
    fd = gradients.finite_difference(f, circuit, angles, h=1e-5)
    np.testing.assert_allclose(values, [qutip_value(circuit, observable, t, x) for t in theta],
                               atol=1e-12)
    np.testing.assert_allclose(adjoint, shift, atol=1e-12)
    np.testing.assert_allclose(adjoint, fd, atol=1e-8)


def test_adjoint_matches_qutip_finite_differences():
    """An oracle that shares no code with the simulator: QuTiP states, central differences."""
    circuit = mixed_circuit()
    theta, x = inputs(circuit, n_draws=1)
    _, grads = adjoint_gradient(circuit, "ZXY", theta[0], x)
    oracle = qutip_gradient(circuit, "ZXY", theta[0], x)
    np.testing.assert_allclose(grads[0], oracle, atol=1e-8)


def test_general_shift_is_exact():
    circuit = ansatz.hardware_efficient(2, 2)
    obs = as_observable("XZ", 2)
    theta, _ = inputs(circuit)
    angles = circuit.angles(theta)
    _, exact = gradients.adjoint(circuit, obs, angles)

    def f(rows):
        return expectation_from_angles(circuit, obs, rows)

    np.testing.assert_allclose(gradients.parameter_shift(f, circuit, angles, shift=0.3), exact,
                               atol=1e-12)


def test_finite_difference_error_is_second_order():
    circuit = ansatz.random_pauli(2, 2, rng=0)
    obs = as_observable("ZZ", 2)
    angles = circuit.angles(inputs(circuit)[0])
    _, exact = gradients.adjoint(circuit, obs, angles)

    def error(h):
        fd = gradients.finite_difference(
            lambda rows: expectation_from_angles(circuit, obs, rows), circuit, angles, h=h)
        return np.max(np.abs(fd - exact))

    assert 3.5 < error(0.1) / error(0.05) < 4.5


class TestSPSA:
    circuit = ansatz.hardware_efficient(2, 1)
    obs = as_observable({"ZZ": 1.0, "XI": 0.5}, 2)

    def f(self, rows):
        return expectation_from_angles(self.circuit, self.obs, rows)

    def test_formula_with_given_perturbation(self):
        theta = np.array([[0.1, 0.2, 0.3, 0.4]])
        delta = np.array([[1.0, -1.0, -1.0, 1.0]])
        c = 0.2
        g = gradients.spsa_gradient(self.f, self.circuit, self.circuit.angles(theta), c=c,
                                    delta=delta)
        plus = expectation(self.circuit, self.obs, theta + c * delta)
        minus = expectation(self.circuit, self.obs, theta - c * delta)
        np.testing.assert_allclose(g, (plus - minus)[:, None] / (2 * c) * delta)

    def test_mean_is_the_gradient(self):
        theta = np.repeat([[0.1, 0.2, 0.3, 0.4]], 20000, axis=0)
        angles = self.circuit.angles(theta)
        g = gradients.spsa_gradient(self.f, self.circuit, angles, c=0.01, rng=1)
        _, exact = gradients.adjoint(self.circuit, self.obs, angles[:1])
        # Each entry's spread is at most |grad| ~ 1: 20000 samples give ~0.01 standard error.
        np.testing.assert_allclose(g.mean(axis=0), exact[0], atol=0.04)

    def test_delta_shape_checked(self):
        with pytest.raises(ValueError, match=r"delta has shape \(1, 3\), expected \(1, 4\)"):
            gradients.spsa_gradient(self.f, self.circuit, self.circuit.angles(np.zeros(4)),
                                    delta=np.ones((1, 3)))


@pytest.mark.parametrize("call,message", [
    (lambda f, c, a: gradients.parameter_shift(f, c, a, shift=0.0),
     "shift must be a finite angle with sin"),
    (lambda f, c, a: gradients.finite_difference(f, c, a, h=-1.0),
     "h must be a positive finite step, got -1.0"),
    (lambda f, c, a: gradients.spsa_gradient(f, c, a, c=np.nan),
     "c must be a positive finite perturbation size"),
])
def test_bad_method_options(call, message):
    circuit = ansatz.tensor_product_rx(1)
    with pytest.raises(ValueError, match=message):
        call(lambda rows: rows[:, 0], circuit, circuit.angles([0.1]))


def test_chunked_adjoint_and_shift_blocks_agree(monkeypatch):
    circuit = ansatz.hardware_efficient(3, 2)
    obs = as_observable(local_cost(3), 3)
    angles = circuit.angles(inputs(circuit, n_draws=5)[0])
    values, grads = gradients.adjoint(circuit, obs, angles)

    def f(rows):
        return expectation_from_angles(circuit, obs, rows)

    shift = gradients.parameter_shift(f, circuit, angles)
    monkeypatch.setattr(statevector, "BATCH_BYTES", 16 * 8 * 2)
    monkeypatch.setattr(gradients, "_ANGLE_BLOCK_BYTES", 1)
    chunked_values, chunked = gradients.adjoint(circuit, obs, angles)
    np.testing.assert_allclose(chunked_values, values, atol=1e-14)
    np.testing.assert_allclose(chunked, grads, atol=1e-14)
    np.testing.assert_allclose(gradients.parameter_shift(f, circuit, angles), shift, atol=1e-14)


def test_adjoint_on_a_large_register_matches_parameter_shift():
    """n = 10 exercises the strided kernels of the last two qubits, forward and inverse."""
    circuit = ansatz.random_pauli(10, 2, rng=4)
    obs = as_observable({"IIIIIIIIXY": 1.0, "ZIIIIIIIZZ": 0.5}, 10)
    angles = circuit.angles(inputs(circuit, n_draws=2)[0])
    _, adjoint = gradients.adjoint(circuit, obs, angles)
    shift = gradients.parameter_shift(lambda rows: expectation_from_angles(circuit, obs, rows),
                                      circuit, angles)
    np.testing.assert_allclose(adjoint, shift, atol=1e-12)


def test_methods_name_angles_of_the_wrong_shape():
    circuit = ansatz.hardware_efficient(2, 1)
    obs = as_observable(local_cost(2), 2)
    one_row = circuit.angles(np.zeros(circuit.n_params))[0]  # 1-D: the mistake

    def f(rows):
        return expectation_from_angles(circuit, obs, rows)

    message = rf"angles must have shape \(R, {len(circuit)}\), .* got shape \({len(circuit)},\)"
    with pytest.raises(ValueError, match=message):
        gradients.parameter_shift(f, circuit, one_row)
    with pytest.raises(ValueError, match=message):
        gradients.finite_difference(f, circuit, one_row)
    with pytest.raises(ValueError, match=message):
        gradients.spsa_gradient(f, circuit, one_row, rng=0)
    with pytest.raises(ValueError, match=message):
        gradients.adjoint(circuit, obs, one_row)
