"""Circuits to Qiskit and PennyLane and back: values and gradients agree with Qiskit's
``Statevector`` and PennyLane's ``default.qubit`` to 1e-10; noise models agree with Aer's
density-matrix simulator to 1e-8."""

import importlib

import numpy as np
import pytest

import qnncourse as qc
from qnncourse import interop
from qnncourse.noise import AmplitudeDamping, Depolarizing, NoiseModel, ThermalRelaxation

qiskit = pytest.importorskip("qiskit")
pytest.importorskip("qiskit_aer")
from qiskit.quantum_info import Statevector  # noqa: E402
from qiskit_aer import AerSimulator  # noqa: E402

TOL = 1e-10


def mixed_circuit() -> qc.Circuit:
    """Every kind of gate to_qiskit handles: named and custom fixed gates, one- and two-qubit
    rotations, a three-letter Pauli word, a shared parameter and two encodings."""
    c = qc.Circuit(4)
    c.h(0).ry(0).rz(1).rx(2).x(3).cnot(0, 1).cz(2, 3)
    c.pauli_rotation("ZZ", (1, 2)).pauli_rotation("XX", (0, 3)).pauli_rotation("YY", (2, 3))
    c.pauli_rotation("XYZ", (0, 1, 3)).pauli_rotation("YX", (3, 1))
    c.rx(1).rx(2, param=c.n_params - 1)  # shared parameter: commuting rotations
    c.encode("Y", 0, 0, scale=0.7).encode("ZZ", (2, 3), 1)
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4)))
    c.gate(q, (3, 0), "W")
    c.ry(3)
    return c


OBS = {"ZIXI": 0.7, "YYII": -0.4, "IZIZ": 1.1, "XIIY": 0.3}


def qiskit_value(circuit, theta, x=None, observable=OBS):
    qc_ = interop.to_qiskit(circuit)
    values = list(theta) + ([] if x is None else list(x))
    bound = qc_.assign_parameters(values)
    op = interop.to_qiskit_observable(observable, circuit.n_qubits)
    return float(Statevector(bound).expectation_value(op).real)


def shift_gradient(value, circuit, theta, x):
    """Parameter shift on the rotations of each parameter (shared ones summed)."""
    grad = np.zeros(circuit.n_params)
    for j in range(circuit.n_params):
        e = np.zeros(circuit.n_params)
        e[j] = np.pi / 2
        grad[j] = (value(circuit, theta + e, x) - value(circuit, theta - e, x)) / 2
    return grad


@pytest.fixture(scope="module")
def case():
    circuit = mixed_circuit()
    rng = np.random.default_rng(11)
    return circuit, rng.uniform(-np.pi, np.pi, circuit.n_params), rng.uniform(-1, 1, 2)


def test_qiskit_values_and_gradients_match(case):
    circuit, theta, x = case
    cost = qc.Cost(circuit, OBS)
    ours = cost(theta, x)
    assert abs(qiskit_value(circuit, theta, x) - ours) < TOL
    # Parameter shift is exact here: a parameter shared by two commuting rotations has
    # generator with eigenvalues 0, ±1, ±2, so shift the rotations' angles one at a time instead.
    grad = cost.gradient(theta, x=x)
    qc_ = interop.to_qiskit(circuit)
    op = interop.to_qiskit_observable(OBS, circuit.n_qubits)
    expected = np.zeros(circuit.n_params)
    for k, gate in enumerate(circuit.operations):
        if gate.kind != "rotation":
            continue
        for sign in (1, -1):
            shifted = qc_.copy()
            instr = shifted.data[k]
            # PauliEvolutionGate's parameter is the time theta / 2.
            step = np.pi / 4 if instr.operation.name == "PauliEvolution" else np.pi / 2
            angle = instr.operation.params[0] + sign * step
            new = instr.operation.copy()
            new.params = [angle]
            shifted.data[k] = instr.replace(operation=new)
            values = list(theta) + list(x)
            expected[gate.param_index] += sign * float(
                Statevector(shifted.assign_parameters(values)).expectation_value(op).real) / 2
    np.testing.assert_allclose(grad, expected, atol=TOL)


def test_qiskit_state_is_ours_with_reversed_qubits(case):
    circuit, theta, x = case
    bound = interop.to_qiskit(circuit).assign_parameters(list(theta) + list(x))
    ours = circuit.state(theta, x).full().ravel()
    theirs = Statevector(bound).reverse_qargs().data
    assert abs(abs(np.vdot(ours, theirs)) - 1) < TOL


def test_from_qiskit_round_trip(case):
    circuit, theta, x = case
    back = interop.from_qiskit(interop.to_qiskit(circuit))
    assert (back.n_params, back.n_features, len(back)) == (
        circuit.n_params, circuit.n_features, len(circuit))
    a, b = qc.Cost(circuit, OBS), qc.Cost(back, OBS)
    assert abs(a(theta, x) - b(theta, x)) < TOL
    np.testing.assert_allclose(a.gradient(theta, x=x), b.gradient(theta, x=x), atol=TOL)


def test_from_qiskit_reads_numbers_and_shared_parameters():
    p = qiskit.circuit.Parameter("p")
    q = qiskit.QuantumCircuit(2)
    q.ry(p, 0)
    q.rz(0.3, 1)
    q.barrier()
    q.sx(1)
    q.rx(p, 1)
    c = interop.from_qiskit(q)
    assert c.n_params == 1 and [op.kind for op in c.operations] == [
        "rotation", "fixed", "fixed", "rotation"]
    bound = q.assign_parameters([0.4])
    expected = Statevector(bound).expectation_value(
        interop.to_qiskit_observable("ZX", 2)).real
    assert abs(qc.Cost(c, "ZX")([0.4]) - expected) < TOL
    q.rzz(p, 0, 1)  # does not commute with ry(p) on qubit 0: one parameter cannot drive both
    with pytest.raises(ValueError, match="does not commute"):
        interop.from_qiskit(q)


def test_from_qiskit_names_the_first_unsupported_gate():
    q = qiskit.QuantumCircuit(3)
    q.h(0)
    q.ccx(0, 1, 2)
    q.u(0.1, 0.2, 0.3, 1)
    with pytest.raises(ValueError, match=r"unsupported gate 1 \(ccx on qubits \[0, 1, 2\]\)"):
        interop.from_qiskit(q)
    m = qiskit.QuantumCircuit(1, 1)
    m.measure(0, 0)
    with pytest.raises(ValueError, match="measure"):
        interop.from_qiskit(m)
    t = qiskit.circuit.Parameter("t")
    e = qiskit.QuantumCircuit(1)
    e.rx(2 * t, 0)
    with pytest.raises(ValueError, match="only a plain parameter"):
        interop.from_qiskit(e)


def test_qasm3_text_loads_back():
    circuit = qc.ansatz.hardware_efficient(3, 2)
    text = interop.to_qasm3(circuit)
    assert text.startswith("OPENQASM 3.0;") and "input float[64]" in text and "cz" in text
    pytest.importorskip("qiskit_qasm3_import")
    loaded = qiskit.qasm3.loads(text)
    theta = np.random.default_rng(2).uniform(0, 2 * np.pi, circuit.n_params)
    # loads orders parameters by name; bind by name instead of position.
    by_name = {p.name: p for p in loaded.parameters}
    values = {by_name[f"_theta_{j}_"]: theta[j] for j in range(circuit.n_params)}
    op = interop.to_qiskit_observable("ZZI", 3)
    value = Statevector(loaded.assign_parameters(values)).expectation_value(op).real
    assert abs(value - qc.Cost(circuit, "ZZI")(theta)) < TOL


def test_missing_dependency_says_how_to_install(monkeypatch):
    real = importlib.import_module

    def fake(name, *args):
        if name.startswith("pennylane"):
            raise ImportError("no pennylane")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", fake)
    with pytest.raises(ImportError, match=r"pip install qnncourse\[pennylane\]"):
        interop.to_pennylane(qc.Circuit(1).rx(0))


def test_observable_matrix_and_bad_sizes():
    obs = qc.observables.global_cost(2)
    op = interop.to_qiskit_observable(obs, 2)
    np.testing.assert_allclose(op.to_matrix(), obs.full(), atol=1e-12)  # diagonal: order-free
    with pytest.raises(ValueError, match="acts on 3 qubits"):
        interop.to_qiskit_observable("ZZZ", 2)
    with pytest.raises(TypeError, match="qnncourse Circuit"):
        interop.to_qiskit("not a circuit")


# -- PennyLane ----------------------------------------------------------------------------------

def test_pennylane_values_and_gradients_match(case):
    qml = pytest.importorskip("pennylane")
    from pennylane import numpy as pnp

    circuit, theta, x = case
    apply = interop.to_pennylane(circuit)
    observable = interop.to_pennylane_observable(OBS)

    @qml.qnode(qml.device("default.qubit", wires=circuit.n_qubits), diff_method="backprop")
    def f(t, xs):
        apply(t, xs)
        return qml.expval(observable)

    cost = qc.Cost(circuit, OBS)
    t = pnp.array(theta, requires_grad=True)
    xs = pnp.array(x, requires_grad=False)
    assert abs(float(f(t, xs)) - cost(theta, x)) < TOL
    np.testing.assert_allclose(qml.grad(f, argnums=0)(t, xs), cost.gradient(theta, x=x), atol=TOL)


def test_pennylane_checks_theta_length():
    pytest.importorskip("pennylane")
    apply = interop.to_pennylane(qc.Circuit(2).rx(0).ry(1))
    with pytest.raises(ValueError, match="theta has 3 values, the circuit has 2 parameters"):
        apply([0.1, 0.2, 0.3])


# -- noise models in Aer ------------------------------------------------------------------------

def aer_value(circuit, model, theta, observable):
    bound = interop.to_qiskit(circuit).assign_parameters(theta)
    bound.save_expectation_value(interop.to_qiskit_observable(observable, circuit.n_qubits),
                                 list(range(circuit.n_qubits)))
    sim = AerSimulator(method="density_matrix",
                       noise_model=interop.to_qiskit_noise(model, circuit))
    return float(sim.run(bound).result().data()["expectation_value"])


def test_noise_model_matches_aer_density_matrix():
    """Cross-check (a) with the library's own channels: per-qubit, two-qubit and non-unital."""
    n = 5
    circuit = qc.ansatz.hardware_efficient(n, 3, entangler="cnot").h(2)
    model = (NoiseModel()
             .add(Depolarizing(0.02), gates="one-qubit")
             .add(Depolarizing(0.05, 2), gates="two-qubit")
             .add({q: AmplitudeDamping(0.01 * (q + 1)) for q in range(n)})
             .add(ThermalRelaxation(50.0, 30.0, 1.0), gates="h"))
    theta = np.random.default_rng(5).uniform(0, 2 * np.pi, circuit.n_params)
    observable = {"ZZIII": 1.0, "IXIIY": 0.5, "IIZIZ": -0.8}
    ours = qc.Cost(circuit, observable, noise=model)(theta)
    noiseless = qc.Cost(circuit, observable)(theta)
    assert abs(ours - noiseless) > 1e-2  # the noise matters, so agreement is informative
    assert abs(aer_value(circuit, model, theta, observable) - ours) < 1e-8


def test_noise_model_readout_in_aer_sampling():
    circuit = qc.Circuit(2).ry(0).ry(1).cz(0, 1)
    model = NoiseModel(Depolarizing(0.05), readout={0: (0.1, 0.2), 1: 0.05})
    theta = np.array([0.3, 1.2])
    ours = qc.Cost(circuit, "ZZ", noise=model)(theta)
    bound = interop.to_qiskit(circuit).assign_parameters(theta)
    bound.measure_all()
    shots = 200_000
    sim = AerSimulator(method="density_matrix", noise_model=interop.to_qiskit_noise(model, circuit),
                       seed_simulator=4)
    counts = sim.run(bound, shots=shots).result().get_counts()
    estimate = sum(c * (-1) ** bits.count("1") for bits, c in counts.items()) / shots
    assert abs(estimate - ours) < 5 / np.sqrt(shots)
    without = qc.Cost(circuit, "ZZ", noise=NoiseModel(Depolarizing(0.05)))(theta)
    assert abs(estimate - without) > 10 / np.sqrt(shots)  # readout error was applied


def test_layer_noise_is_refused_for_aer():
    circuit = qc.ansatz.hardware_efficient(3, 2)
    model = NoiseModel().add(Depolarizing(0.1), gates="layer")
    with pytest.raises(ValueError, match="own qubits only"):
        interop.to_qiskit_noise(model, circuit)
