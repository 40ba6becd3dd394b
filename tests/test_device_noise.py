"""Noise from a device's calibration (NoiseModel.from_backend) against Qiskit Aer: the same
gates in Aer agree to 1e-8, and the transpiled circuit on AerSimulator.from_backend agrees within
the bound of the one approximation the per-gate model makes."""

import numpy as np
import pytest
import qutip

import qnncourse as qc
from qnncourse import interop
from qnncourse.noise import Depolarizing, NoiseModel, ThermalRelaxation
from qnncourse.noise import device as dev

pytest.importorskip("qiskit_aer")
runtime = pytest.importorskip("qiskit_ibm_runtime.fake_provider")
from qiskit import QuantumCircuit, transpile  # noqa: E402
from qiskit_aer import AerSimulator  # noqa: E402

N = 5


@pytest.fixture(scope="module")
def torino():
    return runtime.FakeTorino()


@pytest.fixture(scope="module")
def line(torino):
    return dev.line_of_qubits(torino, N)


@pytest.fixture(scope="module")
def subset_simulator(torino, line):
    return AerSimulator.from_backend(interop.device_subset(torino, line), method="density_matrix")


def test_line_is_coupled_and_calibration_is_read(torino, line):
    assert len(set(line)) == N
    cz = torino.target["cz"]
    assert all((a, b) in cz or (b, a) in cz for a, b in zip(line, line[1:], strict=False))
    cal = dev.calibration(torino, line)
    target = torino.target
    for i, p in enumerate(line):
        assert cal.qubits[i].t1 == target.qubit_properties[p].t1
        assert cal.one_qubit[("sx", i)].error == target["sx"][(p,)].error
        assert cal.one_qubit[("sx", i)].duration == target["sx"][(p,)].duration
    a, b = line[0], line[1]
    expected = target["cz"].get((a, b)) or target["cz"][(b, a)]
    assert cal.two_qubit[(0, 1)].error == expected.error


def test_native_gate_rule(torino, line):
    cal = dev.calibration(torino, line)
    c = (qc.Circuit(N).rz(0).ry(0).rx(1).h(2).x(3).cz(0, 1).cnot(1, 2)
         .pauli_rotation("ZZ", (2, 3)))
    names = [[g.name for g in dev.native_gates(op, cal)] for op in c.operations]
    assert names == [[], ["sx", "sx"], ["sx", "sx"], ["sx"], ["x"], ["cz"],
                     ["cz", "sx", "sx"], ["cz", "cz", "sx", "sx", "sx", "sx"]]
    with pytest.raises(ValueError, match="not coupled"):
        dev.native_gates(qc.Circuit(N).cz(0, 2).operations[0], cal)
    with pytest.raises(ValueError, match="no native-gate rule"):
        dev.native_gates(qc.Circuit(N).pauli_rotation("XYZ", (0, 1, 2)).operations[0], cal)


def test_bad_backend_and_qubits(torino):
    with pytest.raises(ValueError, match="not a physical qubit"):
        NoiseModel.from_backend(torino, [0, 500])
    with pytest.raises(ValueError, match="twice"):
        NoiseModel.from_backend(torino, [3, 3])
    with pytest.raises(TypeError, match="BackendV2"):
        NoiseModel.from_backend("torino", [0])
    model = NoiseModel.from_backend(torino, [0, 1])
    with pytest.raises(ValueError, match="device noise was read for 2 qubits"):
        qc.Cost(qc.Circuit(3).rx(2), "ZII", noise=model)


def test_each_native_gate_has_its_reported_error(torino, line):
    """Depolarizing then relaxation: average gate infidelity = the calibrated error."""
    cal = dev.calibration(torino, line)
    for gate in (cal.one_qubit[("sx", 0)], cal.two_qubit[(0, 1)]):
        channel = dev.GateSequenceChannel([gate], gate.qubits, cal)
        d = 2 ** len(gate.qubits)
        fidelity = (np.trace(channel.superoperator().full()).real / d + 1) / (d + 1)
        assert abs((1 - fidelity) - gate.error) < 1e-10
        assert 0 < channel.depolarizing[0] < 4 * gate.error


def test_relaxation_alone_above_the_error_gives_no_depolarizing():
    relax = ThermalRelaxation(1.0, 1.0, 0.1).superoperator()
    fidelity = (np.trace(relax.full()).real / 2 + 1) / 3
    assert dev.depolarizing_for_error(0.5 * (1 - fidelity), fidelity, 1) == 0.0
    p = dev.depolarizing_for_error(2 * (1 - fidelity), fidelity, 1)
    composed = relax @ Depolarizing(p).superoperator()
    assert abs((1 - (np.trace(composed.full()).real / 2 + 1) / 3) - 2 * (1 - fidelity)) < 1e-12


def _theta(circuit, seed=7):
    return np.random.default_rng(seed).uniform(0, 2 * np.pi, circuit.n_params)


def test_cross_check_a_same_gates_in_aer(torino, line):
    """(a): the device model exported with to_qiskit_noise, simulated by Aer's density matrix
    method on the same (untranspiled) gates, equals the library's value at n = 5."""
    circuit = qc.ansatz.hardware_efficient(N, 3)
    model = NoiseModel.from_backend(torino, line, readout=False)
    theta = _theta(circuit)
    observable = {"ZIIII": 1.0, "IZZII": 0.5, "IIIXY": 0.25}
    ours = qc.Cost(circuit, observable, noise=model)(theta)
    bound = interop.to_qiskit(circuit).assign_parameters(theta)
    bound.save_expectation_value(interop.to_qiskit_observable(observable, N), list(range(N)))
    sim = AerSimulator(method="density_matrix",
                       noise_model=interop.to_qiskit_noise(model, circuit))
    theirs = sim.run(bound).result().data()["expectation_value"]
    assert abs(theirs - ours) < 1e-8
    assert abs(ours - qc.Cost(circuit, observable)(theta)) > 1e-3  # noise is visible


def _native_value(simulator, circuit, theta, observable):
    bound = interop.to_qiskit(circuit).assign_parameters(theta)
    native = transpile(bound, simulator, initial_layout=list(range(N)), optimization_level=1,
                       seed_transpiler=1)
    measured = native.copy()
    measured.save_expectation_value(interop.to_qiskit_observable(observable, N), list(range(N)))
    return native, float(simulator.run(measured).result().data()["expectation_value"])


def test_native_circuit_matches_aer_from_backend_exactly(torino, line, subset_simulator):
    """The transpiled circuit read back (rz, sx, cz as gates) gets each native gate's noise
    right after it: the library then equals Aer's device model to 1e-8, so the calibration
    reading and the channel construction are Aer's."""
    circuit = qc.ansatz.hardware_efficient(N, 2)
    theta = _theta(circuit)
    native, theirs = _native_value(subset_simulator, circuit, theta, "ZZIII")
    compact = QuantumCircuit(N)
    for instruction in native.data:
        compact.append(instruction.operation,
                       [native.find_bit(q).index for q in instruction.qubits])
    ours_native = interop.from_qiskit(compact)
    model = NoiseModel.from_backend(torino, line, readout=False)
    assert abs(qc.Cost(ours_native, "ZZIII", noise=model)([]) - theirs) < 1e-8


def test_cross_check_b_transpiled_on_aer_from_backend(torino, line, subset_simulator):
    """(b): the logical circuit with per-gate device noise against the transpiled circuit on
    Aer's device simulator. They differ only by where relaxation acts inside each gate; the
    difference stays below reordering_bound * ||O|| and well below the noise's own effect."""
    circuit = qc.ansatz.hardware_efficient(N, 4)
    theta = _theta(circuit, seed=3)
    model = NoiseModel.from_backend(torino, line, readout=False)
    bound = dev.reordering_bound(circuit, model.device.calibration)
    for observable in ("ZIIII", "ZZIII"):
        ours = qc.Cost(circuit, observable, noise=model)(theta)
        _, theirs = _native_value(subset_simulator, circuit, theta, observable)
        noise_effect = abs(ours - qc.Cost(circuit, observable)(theta))
        assert abs(ours - theirs) <= bound
        assert abs(ours - theirs) < 0.25 * noise_effect


@pytest.mark.slow
def test_subset_is_the_full_device(torino, line, subset_simulator):
    """AerSimulator.from_backend on the whole 133-qubit device (slow: about 1000 calibrated
    gates) gives the same value as on the subset of the line."""
    full = AerSimulator.from_backend(torino, method="density_matrix")
    circuit = qc.ansatz.hardware_efficient(N, 1)
    theta = _theta(circuit)
    bound = interop.to_qiskit(circuit).assign_parameters(theta)
    native = transpile(bound, torino, initial_layout=line, optimization_level=1,
                       seed_transpiler=1)
    native.save_expectation_value(interop.to_qiskit_observable("ZZIII", N), line)
    on_full = full.run(native).result().data()["expectation_value"]
    _, on_subset = _native_value(subset_simulator, circuit, theta, "ZZIII")
    assert abs(on_full - on_subset) < 1e-10


def test_readout_error_matches_aer(torino, line):
    model = NoiseModel.from_backend(torino, line)
    aer = AerSimulator.from_backend(interop.device_subset(torino, line)).options.noise_model
    confusion = model.readout_confusion(N)
    for q in range(N):
        aer_matrix = np.asarray(aer._local_readout_errors[(q,)].probabilities)
        np.testing.assert_allclose(confusion[q].T, aer_matrix, atol=1e-15)


def test_device_channel_is_cptp_qutip(torino, line):
    model = NoiseModel.from_backend(torino, line)
    channel = model.device.channel_after(qc.Circuit(N).cnot(0, 1).operations[0])
    kraus = [qutip.Qobj(k) for k in channel.kraus_matrices()]
    total = sum(k.dag() * k for k in kraus)
    np.testing.assert_allclose(total.full(), np.eye(4), atol=1e-10)
    assert len(kraus) <= 16
