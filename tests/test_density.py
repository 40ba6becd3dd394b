"""Density-matrix simulator: QuTiP applied gate by gate and channel by channel is the oracle."""

import numpy as np
import pytest
import qutip
from conftest import every_kind_circuit, every_kind_model, qutip_density_run

from qnncourse.circuit import Circuit
from qnncourse.noise import Depolarizing
from qnncourse.observables import as_observable
from qnncourse.simulators import density
from qnncourse.simulators.density import ChannelStep, DensityProgram
from qnncourse.simulators.statevector import adjoint_from_angles, run_angles


@pytest.fixture(scope="module")
def setup():
    circuit = every_kind_circuit()
    steps = every_kind_model().channel_steps(circuit)
    rng = np.random.default_rng(11)
    thetas = rng.uniform(0, 2 * np.pi, (3, circuit.n_params))
    angles = circuit.angles(thetas, rng.uniform(-1, 1, (3, 1)))
    observable = qutip.rand_herm([2, 2, 2], seed=5)
    return circuit, steps, angles, observable


def test_states_match_qutip(setup):
    circuit, steps, angles, _ = setup
    rhos = density.run_angles(DensityProgram(circuit, steps), angles)
    for rho, row in zip(rhos, angles, strict=True):
        np.testing.assert_allclose(rho, qutip_density_run(circuit, steps, row).full(), atol=1e-12)
        assert np.trace(rho).real == pytest.approx(1.0, abs=1e-12)
        assert np.min(np.linalg.eigvalsh(rho)) > -1e-12


def test_expectation_matches_qutip(setup):
    circuit, steps, angles, observable = setup
    values = density.expectation(DensityProgram(circuit, steps), observable.full(), angles)
    expected = [qutip.expect(observable, qutip_density_run(circuit, steps, row)) for row in angles]
    np.testing.assert_allclose(values, expected, atol=1e-12)


def test_diagonal_observable_as_vector(setup):
    circuit, steps, angles, _ = setup
    program = DensityProgram(circuit, steps)
    diag = np.arange(8.0)
    np.testing.assert_allclose(density.expectation(program, diag, angles),
                               density.expectation(program, np.diag(diag), angles), atol=1e-14)


def test_adjoint_gradient_equals_parameter_shift(setup):
    """Parameter-independent noise keeps the two-term shift rule exact, so the adjoint
    derivatives by each rotation angle must match it to rounding."""
    circuit, steps, angles, observable = setup
    program = DensityProgram(circuit, steps)
    values, grads = density.adjoint_gradient(program, observable.full(), angles)
    np.testing.assert_allclose(values, density.expectation(program, observable.full(), angles),
                               atol=1e-13)
    for k, op in enumerate(circuit.operations):
        shift = np.zeros(angles.shape[1])
        shift[k] = np.pi / 2
        if op.kind != "rotation":
            assert np.all(grads[:, k] == 0)
            continue
        plus = density.expectation(program, observable.full(), angles + shift)
        minus = density.expectation(program, observable.full(), angles - shift)
        np.testing.assert_allclose(grads[:, k], (plus - minus) / 2, atol=1e-12)


def test_noiseless_program_equals_statevector(setup):
    circuit, _, angles, _ = setup
    program = DensityProgram(circuit, [])
    psi = run_angles(circuit, angles).reshape(len(angles), -1)
    np.testing.assert_allclose(density.run_angles(program, angles),
                               np.einsum("si,sj->sij", psi, psi.conj()), atol=1e-12)
    obs = as_observable({"XZY": 0.7, "ZZI": -1.2, "IIX": 0.4}, 3)
    sv_values, sv_grads = adjoint_from_angles(circuit, obs, angles)
    values, grads = density.adjoint_gradient(program, obs.matrix(), angles)
    np.testing.assert_allclose(values, sv_values, atol=1e-12)
    rotations = [k for k, op in enumerate(circuit.operations) if op.kind == "rotation"]
    np.testing.assert_allclose(grads[:, rotations], sv_grads[:, rotations], atol=1e-12)


def test_chunked_batches_give_the_same_numbers(setup, monkeypatch):
    circuit, steps, angles, observable = setup
    program = DensityProgram(circuit, steps)
    whole = density.adjoint_gradient(program, observable.full(), angles)
    # Room for one draw at a time: 8x8 complex matrices, (rotations + 5) of them per draw.
    monkeypatch.setenv("QNNCOURSE_MEMORY_LIMIT", str(16 * 64 * 12))
    assert program._chunk_size(len(angles), 12) == 1
    chunked = density.adjoint_gradient(program, observable.full(), angles)
    np.testing.assert_allclose(chunked[0], whole[0], atol=1e-14)
    np.testing.assert_allclose(chunked[1], whole[1], atol=1e-14)


def test_density_matrix_too_large_names_the_bytes():
    with pytest.raises(ValueError, match=r"a 20-qubit density matrix \(4\*\*20 = 1099511627776 "
                                         r"complex numbers\) needs 16.0 TiB "
                                         r"\(17592186044416 bytes\)"):
        DensityProgram(Circuit(20).rx(0))


@pytest.mark.parametrize(("step", "message"), [
    (ChannelStep(5, (0,), Depolarizing(0.1).kraus_matrices()),
     "a channel follows operation 5, the circuit has 2 operations"),
    (ChannelStep(0, (2,), Depolarizing(0.1).kraus_matrices()),
     r"a channel acts on qubit 2, the circuit has 2 qubits \(0..1\)"),
    (ChannelStep(0, (0,), (np.eye(2), np.eye(2))),
     r"the channel after operation 0 on qubits \(0,\) is not trace preserving"),
    (ChannelStep(0, (0, 1), Depolarizing(0.1).kraus_matrices()),
     r"a channel on 2 qubit\(s\) needs \(4, 4\) Kraus matrices, got shape \(2, 2\)"),
], ids=["operation", "qubit", "not TP", "size"])
def test_bad_channel_steps(step, message):
    with pytest.raises(ValueError, match=message):
        DensityProgram(Circuit(2).rx(0).cz(0, 1), [step])


def test_bad_angles_and_observable():
    program = DensityProgram(Circuit(2).rx(0).cz(0, 1))
    with pytest.raises(ValueError, match=r"angles must have shape \(S, 2\) .* got \(2,\)"):
        density.expectation(program, np.ones(4), np.zeros(2))
    with pytest.raises(ValueError, match=r"the observable must be a \(4,\) diagonal or a "
                                         r"\(4, 4\) matrix for 2 qubits, got shape \(8,\)"):
        density.expectation(program, np.ones(8), np.zeros((1, 2)))
