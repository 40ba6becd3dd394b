"""The light-cone reduction keeps every value and gradient of an observable on the cone."""

import numpy as np
import pytest

import qnncourse as qc
from qnncourse.plateaus.light_cone import light_cone


@pytest.mark.parametrize("noise", [None, qc.AmplitudeDamping(0.1), qc.Depolarizing(0.05)])
def test_reduced_circuit_has_the_same_values_and_gradients(noise):
    n, layers = 7, 3
    circuit = qc.ansatz.hardware_efficient(n, layers)
    model = None if noise is None else qc.NoiseModel().add(noise, gates="layer")
    reduced, params, cone = light_cone(circuit, [0])
    assert cone == list(range(layers + 1)) and reduced.n_qubits == layers + 1
    observable = "Z" + "I" * (n - 1)
    small = "Z" + "I" * (reduced.n_qubits - 1)
    thetas = qc.plateaus.random_parameters(circuit.n_params, 3, rng=1)
    full = qc.Cost(circuit, observable, noise=model)
    part = qc.Cost(reduced, small, noise=model)
    values, grads = full.value_and_gradient(thetas)
    v2, g2 = part.value_and_gradient(thetas[:, params])
    np.testing.assert_allclose(values, v2, atol=1e-12)
    np.testing.assert_allclose(grads[:, params], g2, atol=1e-12)
    outside = np.setdiff1d(np.arange(circuit.n_params), params)
    np.testing.assert_allclose(grads[:, outside], 0, atol=1e-12)
    assert outside.size > 0


def test_whole_circuit_when_the_cone_covers_it():
    circuit = qc.ansatz.hardware_efficient(3, 4)
    reduced, params, cone = light_cone(circuit, [1])
    assert cone == [0, 1, 2] and len(reduced) == len(circuit)
    np.testing.assert_array_equal(params, np.arange(circuit.n_params))


def test_bad_qubits():
    with pytest.raises(ValueError, match="not a qubit"):
        light_cone(qc.Circuit(2).rx(0), [2])
    with pytest.raises(ValueError, match="at least one"):
        light_cone(qc.Circuit(2).rx(0), [])
