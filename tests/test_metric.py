"""Tests for qnncourse.metric: closed forms, fidelity finite differences, QFI-rank saturation."""

import numpy as np
import pytest
import qutip
from conftest import qutip_state

from qnncourse import lie, noise
from qnncourse.circuit import Circuit
from qnncourse.cost import Cost
from qnncourse.metric import metric_tensor, parameter_blocks, qfi_rank


def _mixed_circuit() -> Circuit:
    return (Circuit(3).ry(0).rx(1).h(2).cnot(0, 1).pauli_rotation("ZZ", (1, 2)).rz(0)
            .cz(0, 2).pauli_rotation("XY", (2, 0)).ry(1).rx(2))


def _fidelity_hessian_metric(circuit: Circuit, theta: np.ndarray, h: float = 1e-4):
    """g_ij = -1/2 d_i d_j |<psi(theta)|psi(theta')>|^2 at theta' = theta, by central
    differences on QuTiP states."""
    ref = qutip_state(circuit, theta)
    p = theta.size

    def fid(d):
        return abs(ref.overlap(qutip_state(circuit, theta + d))) ** 2

    g = np.zeros((p, p))
    for i in range(p):
        for j in range(p):
            ei, ej = np.eye(p)[i] * h, np.eye(p)[j] * h
            g[i, j] = -0.5 * (fid(ei + ej) - fid(ei - ej) - fid(-ei + ej) + fid(-ei - ej)) / (
                4 * h * h)
    return g


def test_single_qubit_closed_form():
    # RX(a) then RZ(b) on |0>: g = diag(1/4, sin(a)^2 / 4).
    for a in (0.3, 1.2, 2.9):
        g = metric_tensor(Circuit(1).rx(0).rz(0), [a, 0.7])
        np.testing.assert_allclose(g, np.diag([0.25, np.sin(a) ** 2 / 4]), atol=1e-14)


def test_matches_fidelity_finite_differences():
    circuit = _mixed_circuit()
    theta = np.random.default_rng(11).uniform(0, 2 * np.pi, circuit.n_params)
    g = metric_tensor(circuit, theta)
    np.testing.assert_allclose(g, _fidelity_hessian_metric(circuit, theta), atol=1e-6)
    np.testing.assert_allclose(g, g.T, atol=1e-14)
    assert np.linalg.eigvalsh(g).min() > -1e-12


def test_shared_parameter_adds_its_generators():
    # RX(t) on both qubits: generator (X0 + X1)/2, variance in |00> rotated = 2 * 1/4.
    circuit = Circuit(2).rx(0)
    circuit.rx(1, param=0)
    np.testing.assert_allclose(metric_tensor(circuit, [0.8]), [[0.5]], atol=1e-14)


def test_a_noiseless_cost_gives_the_metric_of_its_circuit():
    circuit = _mixed_circuit()
    theta = np.linspace(0.1, 1.0, circuit.n_params)
    np.testing.assert_array_equal(metric_tensor(Cost(circuit, "ZII"), theta),
                                  metric_tensor(circuit, theta))


def test_encoding_gates_take_x():
    circuit = Circuit(1).encode("X", 0, feature=0).rz(0)
    for x in (0.4, 1.5):
        g = metric_tensor(circuit, [0.2], x=[x])
        np.testing.assert_allclose(g, [[np.sin(x) ** 2 / 4]], atol=1e-14)


def test_block_diag_and_diag_keep_exact_entries():
    circuit = Circuit(2).ry(0).ry(1).cz(0, 1).ry(0).ry(1).cnot(1, 0).rx(0)
    theta = np.array([0.3, 1.1, -0.4, 2.2, 0.9])
    full = metric_tensor(circuit, theta)
    blocks = parameter_blocks(circuit)
    assert blocks == [[0, 1], [2, 3], [4]]
    block = metric_tensor(circuit, theta, approx="block-diag")
    expected = np.zeros_like(full)
    for b in blocks:
        expected[np.ix_(b, b)] = full[np.ix_(b, b)]
    np.testing.assert_array_equal(block, expected)
    np.testing.assert_array_equal(metric_tensor(circuit, theta, approx="diag"),
                                  np.diag(np.diag(full)))


def test_blocks_follow_causality_and_layer_tags():
    # The second rotation on qubit 1 follows a CNOT from qubit 0, which depends on the first
    # rotation on qubit 0: a new block.
    c = Circuit(3).rx(0).cnot(0, 1).rx(2).rx(1)
    assert parameter_blocks(c) == [[0, 1], [2]]
    tagged = Circuit(2)
    tagged.new_layer().ry(0).rz(0)
    tagged.new_layer().ry(1)
    assert parameter_blocks(tagged) == [[0, 1], [2]]


def _hardware_efficient(n: int, layers: int) -> Circuit:
    c = Circuit(n)
    for _ in range(layers):
        for q in range(n):
            c.ry(q).rz(q)
        for q in range(n - 1):
            c.cz(q, q + 1)
    return c


def test_qfi_rank_grows_then_saturates_at_pure_state_bound():
    # su(4) circuits on two qubits: the bound min(dim g, 2^(n+1) - 2) = min(15, 6) = 6.
    rng = np.random.default_rng(5)
    ranks = []
    for layers in (1, 2, 3, 5):
        c = _hardware_efficient(2, layers)
        ranks.append(qfi_rank(c, rng.uniform(0, 2 * np.pi, c.n_params)))
    assert lie.dimension(_hardware_efficient(2, 2)) == 15
    assert ranks == [4, 6, 6, 6]


def _tfim_circuit(n: int, layers: int) -> Circuit:
    c = Circuit(n)
    for _ in range(layers):
        for q in range(n - 1):
            c.pauli_rotation("ZZ", (q, q + 1))
        for q in range(n):
            c.rx(q)
    return c


def test_qfi_rank_saturates_at_dimension_of_the_orbit():
    # The rank saturates at dim of the tangent space {i[B, rho0] : B in g}, computed here
    # from the DLA basis with QuTiP; it respects min(dim g, 2^(n+1) - 2).
    n = 3
    algebra = lie.closure(_tfim_circuit(n, 1))
    assert algebra.dim == n * (2 * n - 1)
    rho0 = qutip.ket2dm(qutip.basis([2] * n, [0] * n))
    tangent = np.array([qutip.commutator(b.to_qobj(), rho0).full().ravel()
                        for b in algebra.basis])
    orbit_dim = np.linalg.matrix_rank(np.vstack([tangent.real, tangent.imag]).T)
    assert orbit_dim <= min(algebra.dim, 2 ** (n + 1) - 2)
    rng = np.random.default_rng(2)
    ranks = [qfi_rank(c, rng.uniform(0, 2 * np.pi, c.n_params))
             for c in (_tfim_circuit(n, layers) for layers in (1, 2, 4, 6))]
    assert ranks == sorted(ranks)
    assert ranks[-1] == ranks[-2] == orbit_dim


def test_qfi_rank_cuts_at_the_gap():
    # RX then RX on the same qubit: one direction only (the two angles add up).
    assert qfi_rank(Circuit(1).rx(0).rx(0), [0.3, 0.4]) == 1
    assert qfi_rank(Circuit(1).rx(0).rz(0), [0.3, 0.4]) == 2
    # At a = 0 the RZ direction vanishes exactly.
    assert qfi_rank(Circuit(1).rx(0).rz(0), [0.0, 0.4]) == 1


def test_against_pennylane():
    qml = pytest.importorskip("pennylane")
    pnp = pytest.importorskip("pennylane.numpy")
    circuit = Circuit(3).ry(0).rx(1).rx(2).cnot(0, 1).ry(1).pauli_rotation("ZZ", (1, 2)).rz(0)
    theta = np.array([0.4, -0.8, 1.3, 0.6, 2.1, -0.3])
    dev = qml.device("default.qubit", wires=3)

    @qml.qnode(dev)
    def node(t):
        qml.RY(t[0], wires=0)
        qml.RX(t[1], wires=1)
        qml.RX(t[2], wires=2)
        qml.CNOT(wires=[0, 1])
        qml.RY(t[3], wires=1)
        qml.IsingZZ(t[4], wires=[1, 2])
        qml.RZ(t[5], wires=0)
        return qml.expval(qml.PauliZ(0))

    t = pnp.array(theta, requires_grad=True)
    np.testing.assert_allclose(metric_tensor(circuit, theta),
                               qml.adjoint_metric_tensor(node)(t), atol=1e-10)
    np.testing.assert_allclose(metric_tensor(circuit, theta, approx="block-diag"),
                               qml.metric_tensor(node, approx="block-diag")(t), atol=1e-10)


@pytest.mark.parametrize("call, message", [
    (lambda c: metric_tensor(c, [0.1, 0.2]), "theta has 2 values, the circuit has 3 parameters"),
    (lambda c: metric_tensor(c, np.zeros((2, 3))), "the metric takes a single theta"),
    (lambda c: metric_tensor(c, [0.1] * 3, approx="full"),
     "approx must be None, 'block-diag' or 'diag', got 'full'"),
    (lambda c: metric_tensor("XZ", [0.1] * 3), "must be a Circuit or a Cost, got str"),
    (lambda c: metric_tensor(Cost(c, "ZI", noise=noise.Depolarizing(0.1)), [0.1] * 3),
     "the cost has a noise model"),
    (lambda c: qfi_rank(c, [0.1] * 3, tol=2.0), r"tol must be in \(0, 1\), got 2.0"),
])
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call(Circuit(2).rx(0).ry(1).cz(0, 1).rx(1))
