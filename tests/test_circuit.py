"""Circuits and the statevector simulator against unitaries built independently with QuTiP."""

import numpy as np
import pytest
import qutip
from conftest import embed as oracle_embed
from conftest import qutip_state, qutip_unitary
from conftest import rotation as oracle_rotation

from qnncourse.circuit import Circuit
from qnncourse.paulis import PauliString, PauliSum
from qnncourse.simulators import statevector
from qnncourse.simulators.statevector import apply_operation, run

N = 3
SINGLE = {"X": qutip.sigmax(), "Y": qutip.sigmay(), "Z": qutip.sigmaz()}
P0, P1 = qutip.basis(2, 0).proj(), qutip.basis(2, 1).proj()
H = qutip.Qobj(np.array([[1, 1], [1, -1]]) / np.sqrt(2))


def embed(ops: dict, n: int = N) -> qutip.Qobj:
    return oracle_embed(ops, n)


def rotation(word: str, qubits, angle: float, n: int = N) -> qutip.Qobj:
    return oracle_rotation(word, qubits, angle, n)


def controlled(control: int, target_op: qutip.Qobj, target: int, n: int = N) -> qutip.Qobj:
    return embed({control: P0}, n) + embed({control: P1, target: target_op}, n)


ANGLE = 0.7321
# (builder, QuTiP oracle) for every gate type at several positions.
GATES = {
    "rx0": (lambda c: c.rx(0), rotation("X", (0,), ANGLE)),
    "ry1": (lambda c: c.ry(1), rotation("Y", (1,), ANGLE)),
    "rz2": (lambda c: c.rz(2), rotation("Z", (2,), ANGLE)),
    "zz02": (lambda c: c.pauli_rotation("ZZ", (0, 2)), rotation("ZZ", (0, 2), ANGLE)),
    "xy21": (lambda c: c.pauli_rotation("XY", (2, 1)), rotation("XY", (2, 1), ANGLE)),
    "yzx": (lambda c: c.pauli_rotation("YZX"), rotation("YZX", (0, 1, 2), ANGLE)),
    "h1": (lambda c: c.h(1), embed({1: H})),
    "x2": (lambda c: c.x(2), embed({2: qutip.sigmax()})),
    "cz12": (lambda c: c.cz(1, 2), controlled(1, qutip.sigmaz(), 2)),
    "cnot20": (lambda c: c.cnot(2, 0), controlled(2, qutip.sigmax(), 0)),
    "cnot01": (lambda c: c.cnot(0, 1), controlled(0, qutip.sigmax(), 1)),
    "u_dense": (lambda c: c.gate(qutip.rand_unitary([2, 2], seed=5), (2, 0)), None),
    "u_single": (lambda c: c.gate(qutip.rand_unitary(2, seed=6), 1), None),
}


def dense_oracle(key: str) -> qutip.Qobj:
    if key == "u_dense":
        u = qutip.rand_unitary([2, 2], seed=5)
        # u acts on (qubit 2, qubit 0): permute a 3-qubit operator u ⊗ I on (2, 0, 1).
        return qutip.tensor(u, qutip.qeye(2)).permute([1, 2, 0])
    return embed({1: qutip.rand_unitary(2, seed=6)})


@pytest.mark.parametrize("key", list(GATES))
def test_each_gate_matches_qutip(key):
    build, oracle = GATES[key]
    circuit = build(Circuit(N))
    oracle = dense_oracle(key) if oracle is None else oracle
    theta = np.full(circuit.n_params, ANGLE)
    u = circuit.unitary(theta)
    assert u.dims == [[2] * N, [2] * N]
    np.testing.assert_allclose(u.full(), oracle.full(), atol=1e-12)


@pytest.mark.parametrize("key", list(GATES))
def test_each_gate_matches_its_inverse(key):
    """The simulator's inverse kernels (used by the adjoint sweep) undo each gate."""
    build, _ = GATES[key]
    circuit = build(Circuit(N))
    psi = np.asarray(run(circuit, np.full(circuit.n_params, ANGLE)))
    op = circuit.operations[0]
    apply, _ = statevector._kernels(op, N, dagger=True)
    flat = psi.reshape(1, -1).copy()
    c, s = np.cos([ANGLE / 2]), np.sin([ANGLE / 2])
    back = apply(flat, c, s, np.empty_like(flat))
    expected = np.zeros(2**N)
    expected[0] = 1
    np.testing.assert_allclose(back.reshape(-1), expected, atol=1e-12)


def random_circuit(seed: int, n: int = N) -> tuple[Circuit, list]:
    """A random circuit and the list of QuTiP factors that build its unitary."""
    rng = np.random.default_rng(seed)
    circuit, factors = Circuit(n), []
    for _ in range(14):
        kind = rng.integers(5)
        a, b = (int(v) for v in rng.choice(n, size=2, replace=False))
        if kind == 0:
            letter = "XYZ"[rng.integers(3)]
            circuit.pauli_rotation(letter, a)
            factors.append(("param", letter, (a,)))
        elif kind == 1:
            word = "".join(rng.choice(list("XYZ"), size=2))
            circuit.pauli_rotation(word, (a, b))
            factors.append(("param", word, (a, b)))
        elif kind == 2:
            circuit.cz(a, b)
            factors.append(("fixed", controlled(a, qutip.sigmaz(), b, n)))
        elif kind == 3:
            circuit.cnot(a, b)
            factors.append(("fixed", controlled(a, qutip.sigmax(), b, n)))
        else:
            circuit.h(a)
            factors.append(("fixed", embed({a: H}, n)))
    theta = rng.uniform(-np.pi, np.pi, circuit.n_params)
    u = qutip.tensor([qutip.qeye(2)] * n)
    k = 0
    for factor in factors:
        if factor[0] == "param":
            u = rotation(factor[1], factor[2], theta[k], n) * u
            k += 1
        else:
            u = factor[1] * u
    return circuit, theta, u


@pytest.mark.parametrize("seed", range(4))
def test_whole_circuit_matches_qutip(seed):
    circuit, theta, oracle = random_circuit(seed)
    np.testing.assert_allclose(circuit.unitary(theta).full(), oracle.full(), atol=1e-12)
    ket = circuit.state(theta)
    assert ket.shape == (2**N, 1)
    np.testing.assert_allclose(ket.full(), (oracle * qutip.basis([2] * N)).full(), atol=1e-12)


def test_encoding_reads_scaled_features():
    circuit = Circuit(2).encode("X", 0, 1, scale=2.0).ry(1).encode("ZZ", (0, 1), 0)
    x = np.array([0.3, -0.4])
    theta = np.array([1.1])
    oracle = (rotation("ZZ", (0, 1), 0.3, 2) * rotation("Y", (1,), 1.1, 2)
              * rotation("X", (0,), -0.8, 2))
    assert circuit.n_features == 2
    np.testing.assert_allclose(circuit.unitary(theta, x).full(), oracle.full(), atol=1e-12)


def test_batched_run_equals_single_runs():
    circuit, _, _ = random_circuit(7)
    thetas = np.random.default_rng(0).normal(size=(5, circuit.n_params))
    batch = run(circuit, thetas)
    assert batch.shape == (5,) + (2,) * N
    for s in range(5):
        np.testing.assert_allclose(batch[s].reshape(-1), circuit.state(thetas[s]).full()[:, 0],
                                   atol=1e-12)


def test_chunked_run_equals_one_batch(monkeypatch):
    circuit, _, _ = random_circuit(8)
    thetas = np.random.default_rng(1).normal(size=(7, circuit.n_params))
    whole = run(circuit, thetas)
    monkeypatch.setattr(statevector, "BATCH_BYTES", 16 * 2**N * 2)  # two states per chunk
    np.testing.assert_allclose(run(circuit, thetas), whole, atol=1e-14)


def test_run_start_stop_and_psi0_compose():
    circuit, theta, _ = random_circuit(9)
    half = len(circuit) // 2
    first = run(circuit, theta, stop=half)
    second = run(circuit, theta, psi0=first, start=half)
    np.testing.assert_allclose(second, run(circuit, theta), atol=1e-12)


def test_apply_operation_matches_the_circuit():
    circuit = Circuit(N).ry(1).cnot(1, 2)
    psi = np.zeros((2,) + (2,) * N, dtype=complex)
    psi[:, 0, 0, 0] = 1
    angles = np.array([0.4, 1.3])
    for op in circuit.operations:
        psi = apply_operation(psi, op, None if op.kind == "fixed" else angles)
    np.testing.assert_allclose(psi, run(circuit, angles[:, None]), atol=1e-12)


def test_generators_parameters_and_layers():
    c = Circuit(3).rx(0).new_layer().pauli_rotation("ZZ", (1, 2)).rz(2).new_layer()
    c.ry(0).rx(1, param=3)
    assert c.n_params == 4
    assert c.n_layers == 2
    assert c.param_layers.tolist() == [-1, 0, 0, 1]
    gens = c.generators()
    assert gens[:3] == [PauliString("XII"), PauliString("IZZ"), PauliString("IIZ")]
    assert gens[3] == PauliSum({"YII": 1, "IXI": 1})
    shared = Circuit(2).rx(0).rx(1, param=0).generators()
    assert shared == [PauliSum({"XI": 1, "IX": 1})]
    assert repr(c) == "Circuit(n_qubits=3, n_params=4, n_features=0, n_layers=2, operations=5)"
    assert "RZZ(θ1) q1,2   layer 0" in str(c)


def test_shared_parameter_rotations_use_the_same_angle():
    c = Circuit(2).rx(0).rx(1, param=0)
    oracle = rotation("X", (1,), 0.9, 2) * rotation("X", (0,), 0.9, 2)
    np.testing.assert_allclose(c.unitary([0.9]).full(), oracle.full(), atol=1e-12)


def test_copy_is_independent():
    c = Circuit(2).rx(0)
    d = c.copy().ry(1)
    assert (c.n_params, d.n_params) == (1, 2)
    assert len(c) == 1 and len(d) == 2


def test_angles_broadcast_theta_and_x():
    c = Circuit(1).encode("X", 0, 0).rz(0)
    assert c.angles([0.5], [[1.0], [2.0]]).tolist() == [[1.0, 0.5], [2.0, 0.5]]
    assert c.angles([[0.5], [0.6]], [1.0]).tolist() == [[1.0, 0.5], [1.0, 0.6]]
    with pytest.raises(ValueError, match="theta has 2 rows but x has 3"):
        c.angles(np.zeros((2, 1)), np.zeros((3, 1)))


class TestBadInput:
    def circuit(self):
        return Circuit(3).rx(0).ry(1).cz(0, 1)

    def test_theta_wrong_length_names_both_sizes(self):
        with pytest.raises(ValueError, match="theta has 3 values, the circuit has 2 parameters"):
            self.circuit().unitary(np.zeros(3))

    def test_batched_theta_wrong_width(self):
        with pytest.raises(ValueError, match=r"theta has shape \(4, 5\): 5 values per row, "
                                             "the circuit has 2 parameters"):
            run(self.circuit(), np.zeros((4, 5)))

    def test_nan_parameters(self):
        with pytest.raises(ValueError, match=r"theta contains NaN or infinite values \(first "
                                             r"at index \(1,\)\)"):
            self.circuit().state([0.1, np.nan])

    def test_complex_theta(self):
        with pytest.raises(ValueError, match="theta must be real"):
            self.circuit().state([0.1, 1j])

    @pytest.mark.parametrize("call", [
        lambda c: c.rx(3), lambda c: c.cz(0, 5), lambda c: c.pauli_rotation("ZZ", (-1, 0)),
    ])
    def test_qubit_out_of_range(self, call):
        with pytest.raises(ValueError, match=r"qubit index -?\d is out of range for a 3-qubit "
                                             r"circuit \(allowed 0..2\)"):
            call(Circuit(3))

    @pytest.mark.parametrize("call,name", [
        (lambda c: c.cz(1, 1), "CZ"), (lambda c: c.cnot(2, 2), "CNOT"),
        (lambda c: c.pauli_rotation("ZZ", (0, 0)), "pauli_rotation"),
    ])
    def test_two_qubit_gate_on_one_qubit_twice(self, call, name):
        with pytest.raises(ValueError, match=rf"{name} acts on qubit \d twice"):
            call(Circuit(3))

    def test_non_unitary_fixed_gate(self):
        with pytest.raises(ValueError, match=r"gate matrix is not unitary: max \|U U† - I\| = 2"):
            Circuit(1).gate(np.array([[1, 1], [1, 1]]), 0)

    def test_gate_of_wrong_size(self):
        with pytest.raises(ValueError, match=r"gate on 1 qubit\(s\) needs a \(2, 2\) matrix, "
                                             r"got shape \(4, 4\)"):
            Circuit(2).gate(np.eye(4), 0)

    def test_identity_rotation(self):
        with pytest.raises(ValueError, match="Pauli word 'II' is the identity"):
            Circuit(2).pauli_rotation("II", (0, 1))

    def test_word_and_qubits_disagree(self):
        with pytest.raises(ValueError, match="Pauli word 'ZZ' has 2 letters but 3 qubits"):
            Circuit(3).pauli_rotation("ZZ", (0, 1, 2))

    def test_unknown_shared_parameter(self):
        with pytest.raises(ValueError, match="param=2 does not name an existing parameter"):
            Circuit(2).rx(0).rx(1, param=2)

    def test_shared_parameter_must_commute(self):
        with pytest.raises(ValueError, match="param=0: IZ does not commute with IX, which "
                                             "already uses it"):
            Circuit(2).rx(1).rz(1, param=0)

    def test_missing_and_unexpected_features(self):
        with pytest.raises(ValueError, match="the circuit encodes 2 features: pass x"):
            Circuit(1).encode("X", 0, 1).state([])
        with pytest.raises(ValueError, match="x was given but the circuit has no encoding"):
            Circuit(1).rx(0).state([0.1], x=[1.0])
        with pytest.raises(ValueError, match=r"x has shape \(3,\), the circuit encodes 2"):
            Circuit(1).encode("X", 0, 1).state([], x=[1.0, 2.0, 3.0])

    def test_bad_n_qubits(self):
        with pytest.raises(ValueError, match="n_qubits must be a positive int, got 0"):
            Circuit(0)

    def test_memory_is_checked_before_allocating(self, monkeypatch):
        monkeypatch.setenv("QNNCOURSE_MEMORY_LIMIT", "1000")
        with pytest.raises(ValueError, match=r"the 4-qubit unitary \(16 x 16\) needs 8.0 KiB "
                                             r"\(8192 bytes\), more than the 1000 B allowed"):
            Circuit(4).rx(0).unitary([0.1])


def test_rotations_on_the_last_qubits_of_a_large_register():
    """Large registers use strided kernels on the last two qubits: check them against QuTiP."""
    n = 10
    circuit = Circuit(n)
    for q in (n - 2, n - 1, 0):
        circuit.rx(q).ry(q).rz(q)
    theta = np.linspace(0.3, 2.9, circuit.n_params)
    factors = {}
    k = 0
    for q in (n - 2, n - 1, 0):
        u = qutip.qeye(2)
        for letter in "XYZ":
            u = (-0.5j * theta[k] * SINGLE[letter]).expm() * u
            k += 1
        factors[q] = u
    oracle = embed(factors, n) * qutip.basis([2] * n)
    np.testing.assert_allclose(circuit.state(theta).full(), oracle.full(), atol=1e-12)


# -- surgery: append, truncated, repeat, the parameter→layer map ----------------------------
def test_append_copies_operations_and_adjoints():
    source = Circuit(2).ry(0).encode("X", 1, 0, scale=0.5).cnot(0, 1)
    forward = Circuit(2)
    for op in source.operations:
        forward.append(op)
    theta, x = np.array([0.3]), np.array([0.8])
    np.testing.assert_allclose(forward.unitary(theta, x).full(),
                               qutip_unitary(source, theta, x).full(), atol=1e-12)
    mirror = Circuit(2)
    for op in reversed(source.operations):
        mirror.append(op, adjoint=True)
    identity = mirror.unitary(-theta, x) * forward.unitary(theta, x)
    np.testing.assert_allclose(identity.full(), np.eye(4), atol=1e-12)
    with pytest.raises(ValueError, match="only rotations have parameters"):
        Circuit(2).append(source.operations[2], param=0)
    with pytest.raises(TypeError, match="op must be an Operation"):
        Circuit(2).append("RX")


def test_truncated_freezes_earlier_layers_and_drops_later_ones():
    c = Circuit(2).new_layer().ry(0).ry(1).cz(0, 1).new_layer().rx(0).rx(1).new_layer().rz(0)
    theta = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    cut, params = c.truncated(1, theta)
    assert params.tolist() == [2, 3]
    assert cut.n_params == 2
    prefix = Circuit(2).ry(0).ry(1).cz(0, 1).rx(0).rx(1)
    np.testing.assert_allclose(cut.unitary(theta[params]).full(),
                               qutip_unitary(prefix, theta[:4]).full(), atol=1e-12)
    with pytest.raises(ValueError, match=r"theta has 2 values"):
        c.truncated(0, [0.1, 0.2])


def test_repeat_gives_each_copy_fresh_parameters():
    block = Circuit(2).rx(0).rz(1, param=0).cz(0, 1).ry(1)
    deep = block.repeat(3)
    assert deep.n_params == 6 and deep.n_layers == 3
    assert deep.param_layers.tolist() == [0, 0, 1, 1, 2, 2]
    theta = np.arange(6) * 0.3
    expected = qutip_unitary(block, theta[4:]) * qutip_unitary(block, theta[2:4]) \
        * qutip_unitary(block, theta[:2])
    np.testing.assert_allclose(deep.unitary(theta).full(), expected.full(), atol=1e-12)
    with pytest.raises(ValueError, match="depth must be a positive int"):
        block.repeat(0)


def test_param_layers_is_checked_and_param_depths_follow_dependencies():
    c = Circuit(2).new_layer().rx(0).new_layer().rx(1, param=0)
    with pytest.raises(ValueError, match="parameter 0 drives rotations in layers 0 and 1"):
        c.param_layers  # noqa: B018
    d = Circuit(3).ry(0).ry(1).cz(0, 1).ry(0).ry(2).rx(2)
    assert d.param_depths.tolist() == [1, 1, 2, 1, 2]


def test_states_runs_a_batch_from_any_initial_ket():
    c = Circuit(2).ry(0).cnot(0, 1).rz(1)
    thetas = np.array([[0.3, 1.1], [-0.7, 2.0]])
    ket = np.array([0, 1, 1j, 0]) / np.sqrt(2)
    out = c.states(thetas, psi0=ket)
    for theta, row in zip(thetas, out, strict=True):
        np.testing.assert_allclose(row, qutip_unitary(c, theta).full() @ ket, atol=1e-12)
    np.testing.assert_allclose(c.states(thetas)[1], qutip_state(c, thetas[1]).full()[:, 0],
                               atol=1e-12)
    with pytest.raises(ValueError, match="psi0 must be a normalised ket of 4 amplitudes"):
        c.states(thetas, psi0=[1, 1, 0, 0])
