"""The fused-superoperator path of the density simulator (simulators/superop.py) against QuTiP
and against the general (numpy) path."""

import numpy as np
import pytest
import qutip
from conftest import every_kind_circuit, every_kind_model, qutip_density_run

from qnncourse.ansatz import hardware_efficient
from qnncourse.circuit import Circuit
from qnncourse.cost import Cost
from qnncourse.noise import AmplitudeDamping, Depolarizing, NoiseModel
from qnncourse.simulators import density, statevector, superop, warm
from qnncourse.simulators.density import DensityProgram
from qnncourse.simulators.superop import MAX_AMPLIFICATION, SuperopProgram


@pytest.fixture
def compiled(monkeypatch):
    """Force the compiled paths at this small width (they start at 5 qubits by default)."""
    monkeypatch.setattr(statevector, "KERNELS", "compiled")


@pytest.fixture(scope="module")
def setup():
    circuit = every_kind_circuit()
    steps = every_kind_model(two_qubit_channels=False).channel_steps(circuit)
    rng = np.random.default_rng(3)
    thetas = rng.uniform(0, 2 * np.pi, (3, circuit.n_params))
    angles = circuit.angles(thetas, rng.uniform(-1, 1, (3, 1)))
    observable = qutip.rand_herm([2, 2, 2], seed=5)
    return circuit, steps, angles, observable


def test_fused_states_match_qutip(setup, compiled):
    circuit, steps, angles, _ = setup
    program = DensityProgram(circuit, steps)
    assert program.fused is not None
    # fewer passes than gates + channels: that is the point of fusing
    assert len(program.fused.bits) < len(circuit.operations) + len(steps)
    rhos = density.run_angles(program, angles)
    for rho, row in zip(rhos, angles, strict=True):
        np.testing.assert_allclose(rho, qutip_density_run(circuit, steps, row).full(), atol=1e-12)


def test_fused_values_match_qutip_dense_and_diagonal(setup, compiled):
    circuit, steps, angles, observable = setup
    program = DensityProgram(circuit, steps)
    expected = [qutip.expect(observable, qutip_density_run(circuit, steps, row)) for row in angles]
    np.testing.assert_allclose(density.expectation(program, observable.full(), angles), expected,
                               atol=1e-12)
    diag = np.diag(observable.full()).real
    expected = [qutip.expect(qutip.Qobj(np.diag(diag), dims=observable.dims),
                             qutip_density_run(circuit, steps, row)) for row in angles]
    np.testing.assert_allclose(density.expectation(program, diag, angles), expected, atol=1e-12)


def test_fused_gradient_equals_shift_rule_and_general_path(setup, compiled, monkeypatch):
    circuit, steps, angles, observable = setup
    program = DensityProgram(circuit, steps)
    assert program.fused.invertible
    values, grads = density.adjoint_gradient(program, observable.full(), angles)
    for k, op in enumerate(circuit.operations):
        if op.kind != "rotation":
            assert np.all(grads[:, k] == 0)
            continue
        shift = np.zeros(angles.shape[1])
        shift[k] = np.pi / 2
        plus = density.expectation(program, observable.full(), angles + shift)
        minus = density.expectation(program, observable.full(), angles - shift)
        np.testing.assert_allclose(grads[:, k], (plus - minus) / 2, atol=1e-12)
    monkeypatch.setattr(statevector, "KERNELS", "numpy")
    general = DensityProgram(circuit, steps)
    assert general.fused is None
    ref_values, ref_grads = density.adjoint_gradient(general, observable.full(), angles)
    np.testing.assert_allclose(values, ref_values, atol=1e-12)
    np.testing.assert_allclose(grads, ref_grads, atol=1e-12)


def test_cost_on_the_fused_path_matches_qutip():
    """Through Cost at the default setting (compiled from 5 qubits): a noisy value and its
    gradient at n = 5 against QuTiP (value) and the shift rule on QuTiP (two derivatives)."""
    circuit = hardware_efficient(5, 2)
    model = NoiseModel(Depolarizing(0.03)).add(AmplitudeDamping(0.05), gates="two-qubit")
    cost = Cost(circuit, "ZZIII", noise=model)
    assert cost._program.fused is not None
    theta = np.random.default_rng(2).uniform(0, 2 * np.pi, circuit.n_params)
    steps = model.channel_steps(circuit)
    obs = qutip.tensor([qutip.sigmaz()] * 2 + [qutip.qeye(2)] * 3)

    def oracle(t):
        return qutip.expect(obs, qutip_density_run(circuit, steps, circuit.angles(t)[0]))

    value, grad = cost.value_and_gradient(theta)
    assert value == pytest.approx(oracle(theta), abs=1e-12)
    for j in (0, circuit.n_params - 1):
        e = np.zeros(circuit.n_params)
        e[j] = np.pi / 2
        assert grad[j] == pytest.approx((oracle(theta + e) - oracle(theta - e)) / 2, abs=1e-12)


def test_two_qubit_channels_and_wide_gates_use_the_general_path(compiled):
    circuit = Circuit(3).ry(0).cz(0, 1).gate(qutip.rand_unitary(8, seed=1).full(), (0, 1, 2))
    assert SuperopProgram.build(circuit, []) is None
    pair = Circuit(2).ry(0).cz(0, 1)
    steps = NoiseModel().add(Depolarizing(0.1, n_qubits=2), gates="two-qubit")
    assert DensityProgram(pair, steps.channel_steps(pair)).fused is None


def test_singular_channels_are_checkpointed_not_uncomputed(compiled):
    """Depolarizing(1) erases the qubit: it cannot be un-computed, so the fused gradient
    checkpoints the states instead, and still matches the shift rule."""
    circuit = Circuit(2).ry(0).cz(0, 1).ry(1).rx(0)
    steps = NoiseModel().add(Depolarizing(1.0), gates={"cz"}, qubits=[0]).channel_steps(circuit)
    program = DensityProgram(circuit, steps)
    assert not program.fused.invertible
    assert program.fused.amplification >= MAX_AMPLIFICATION
    obs = np.diag([1.0, -1.0, -1.0, 1.0])
    angles = circuit.angles(np.array([0.3, 1.1, -0.4]))
    _, grads = density.adjoint_gradient(program, obs, angles)
    for k in (0, 2, 3):
        shift = np.zeros(angles.shape[1])
        shift[k] = np.pi / 2
        expected = (density.expectation(program, obs, angles + shift)
                    - density.expectation(program, obs, angles - shift)) / 2
        np.testing.assert_allclose(grads[:, k], expected, atol=1e-12)


def test_checkpointing_equals_uncomputing_and_the_general_path(compiled, monkeypatch):
    """A deep circuit under amplitude damping (condition numbers multiplying past the limit):
    the checkpointed sweep agrees with the states-keeping general path; with the limit lifted,
    un-computing gives the same numbers on the same program."""
    circuit = hardware_efficient(4, 12)
    model = NoiseModel().add(AmplitudeDamping(0.3), gates="layer")
    steps = model.channel_steps(circuit)
    program = DensityProgram(circuit, steps)
    assert not program.fused.invertible
    angles = circuit.angles(np.random.default_rng(5).uniform(0, 2 * np.pi, (3, circuit.n_params)))
    obs = np.diag(qutip.tensor([qutip.sigmaz()] + [qutip.qeye(2)] * 3).full()).real
    values, grads = density.adjoint_gradient(program, obs, angles)
    assert np.abs(grads).max() > 1e-3  # the derivatives are not all trivially zero
    monkeypatch.setattr(superop, "MAX_AMPLIFICATION", np.inf)
    assert program.fused.invertible
    values_inv, grads_inv = density.adjoint_gradient(program, obs, angles)
    np.testing.assert_allclose(values_inv, values, atol=1e-12)
    np.testing.assert_allclose(grads_inv, grads, atol=1e-9)
    monkeypatch.setattr(statevector, "KERNELS", "numpy")
    general = DensityProgram(circuit, steps)
    assert general.fused is None
    ref_values, ref_grads = density.adjoint_gradient(general, obs, angles)
    np.testing.assert_allclose(values, ref_values, atol=1e-12)
    np.testing.assert_allclose(grads, ref_grads, atol=1e-12)


def test_warm_compiles_every_kernel_group():
    """The set-up step behind `make setup`: it runs every kernel group (serial and threaded
    statevector kernels, fused density kernels) and reports each one's time."""
    times = warm.warm()
    assert set(times) == {"statevector, serial", "statevector, threaded", "density matrix, fused"}
    assert all(t >= 0 for t in times.values())
