"""g-sim (Cost(..., simulator="lie")): values and gradients against the statevector, product
states, the variance law by sampling, the early stop on large spaces, and bad input."""

import time

import numpy as np
import pytest
import qutip

from qnncourse import ansatz
from qnncourse.circuit import Circuit
from qnncourse.cost import Cost
from qnncourse.noise import AmplitudeDamping, Dephasing, Depolarizing, NoiseModel
from qnncourse.observables import local_cost
from qnncourse.paulis import PauliSum
from qnncourse.plateaus import lie_variance, variance_interval
from qnncourse.simulators import lie as gsim
from qnncourse.simulators.statevector import run


def word(letters: str, qubits, n: int) -> str:
    chars = ["I"] * n
    for p, q in zip(letters, qubits, strict=True):
        chars[q] = p
    return "".join(chars)


def free_fermion(n: int, layers: int) -> Circuit:
    """RX on every qubit, RZZ on neighbours: DLA so(2n)."""
    c = Circuit(n)
    for _ in range(layers):
        for q in range(n):
            c.rx(q)
        for q in range(n - 1):
            c.pauli_rotation("ZZ", (q, q + 1))
    return c


def ising_with_field(n: int, layers: int) -> Circuit:
    """RZZ, RX and RZ: not free (the longitudinal field makes it controllable)."""
    c = Circuit(n)
    for _ in range(layers):
        for q in range(n - 1):
            c.pauli_rotation("ZZ", (q, q + 1))
        for q in range(n):
            c.rx(q)
            c.rz(q)
    return c


def tfim(n: int, h: float) -> PauliSum:
    terms = {word("ZZ", (q, q + 1), n): -1.0 for q in range(n - 1)}
    terms.update({word("X", (q,), n): -h for q in range(n)})
    terms["I" * n] = 0.25
    return PauliSum(terms)


def clifford_mix(n: int) -> Circuit:
    """Rotations about multi-qubit strings between H, CNOT, CZ and X gates."""
    c = Circuit(n)
    for q in range(n):
        c.h(q)
    c.pauli_rotation("XY", (0, 1)).cnot(0, 2).rz(2).x(1).pauli_rotation("ZXZ", (1, 2, 3))
    c.cz(1, 3).ry(0).rx(3).h(2).pauli_rotation("YY", (2, 3))
    return c


CASES = {
    "free-fermion-n10": (lambda: free_fermion(10, 3), lambda: tfim(10, 0.7)),
    "free-fermion-local-Z": (lambda: free_fermion(6, 4), lambda: word("Z", (2,), 6)),
    "ising-with-field-n5": (lambda: ising_with_field(5, 2), lambda: {"ZZIII": 1.0, "IXIIY": 0.5}),
    "qaoa-ring-n8": (lambda: ansatz.qaoa([(q, (q + 1) % 8) for q in range(8)], 8, 3),
                     lambda: PauliSum({word("ZZ", (q, (q + 1) % 8), 8): 1.0 for q in range(8)})),
    "hardware-efficient-cz": (lambda: ansatz.hardware_efficient(4, 2), lambda: "ZZII"),
    "clifford-mix": (lambda: clifford_mix(4), lambda: {"XZIY": 1.0, "ZIII": -0.3}),
    "local-cost-qobj": (lambda: ansatz.hardware_efficient(3, 2, entangler="cnot"),
                        lambda: local_cost(3)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients_match_statevector(name):
    make_circuit, make_observable = CASES[name]
    circuit, observable = make_circuit(), make_observable()
    thetas = np.random.default_rng(7).uniform(-np.pi, np.pi, (3, circuit.n_params))
    exact = Cost(circuit, observable, simulator="statevector")
    lie = Cost(circuit, observable, simulator="lie")
    v_ref, g_ref = exact.value_and_gradient(thetas)
    v, g = lie.value_and_gradient(thetas)
    np.testing.assert_allclose(v, v_ref, atol=1e-9, rtol=0)
    np.testing.assert_allclose(g, g_ref, atol=1e-9, rtol=0)
    assert lie.evaluations == exact.evaluations
    np.testing.assert_allclose(lie(thetas), v_ref, atol=1e-9, rtol=0)


def test_single_theta_and_shift_rule_agree():
    circuit, observable = free_fermion(5, 2), tfim(5, 1.3)
    cost = Cost(circuit, observable, simulator="lie")
    theta = np.linspace(0.1, 2.0, circuit.n_params)
    value, grad = cost.value_and_gradient(theta)
    assert isinstance(value, float) and grad.shape == (circuit.n_params,)
    np.testing.assert_allclose(grad, cost.gradient(theta, method="parameter-shift"), atol=1e-12)


@pytest.mark.parametrize("state", ["+-rl01", [[1, 0], [0.6, 0.8j], [1, 1], [0.3, -1], [1j, 2],
                                              [0, 1]]], ids=["labels", "kets"])
def test_product_states_match_statevector(state):
    n = 6
    circuit = free_fermion(n, 2).pauli_rotation("XY", (0, 5)).h(3).cz(2, 4)
    observable = {"ZZIIII": 1.0, "IXIIZY": -0.4, "IIIYII": 0.2}
    thetas = np.random.default_rng(3).uniform(0, 2 * np.pi, (4, circuit.n_params))
    if isinstance(state, str):
        kets = {"0": [1, 0], "1": [0, 1], "+": [1, 1], "-": [1, -1], "r": [1, 1j], "l": [1, -1j]}
        factors = [np.array(kets[c], dtype=complex) for c in state]
    else:
        factors = [np.array(k, dtype=complex) for k in state]
    psi0 = np.array([1.0 + 0j])
    for f in factors:
        psi0 = np.kron(psi0, f / np.linalg.norm(f))
    psi = run(circuit, thetas, psi0=psi0).reshape(len(thetas), -1)
    expected = np.einsum("si,ij,sj->s", psi.conj(), PauliSum(observable).to_matrix(), psi).real
    values, grads = gsim.adjoint_gradient(circuit, observable, thetas, state=state)
    np.testing.assert_allclose(values, expected, atol=1e-10)
    step = 1e-6
    for k in (0, 7, circuit.n_params - 1):
        shift = np.zeros(circuit.n_params)
        shift[k] = step
        fd = (gsim.expectation(circuit, observable, thetas + shift, state=state)
              - gsim.expectation(circuit, observable, thetas - shift, state=state)) / (2 * step)
        np.testing.assert_allclose(grads[:, k], fd, atol=1e-7)


def test_free_fermion_space_is_so_2n():
    for n in (3, 5, 8):
        program = gsim.LieProgram(free_fermion(n, 1), word("ZZ", (0, 1), n))
        assert program.dim == n * (2 * n - 1)
        # the local Z_0 lives in the 2n-dimensional vector module, not in the algebra
        assert gsim.LieProgram(free_fermion(n, 1), word("Z", (0,), n)).dim == 2 * n


def test_variance_matches_lie_algebraic_law_by_sampling():
    """Deep free-fermion circuit at n = 8: measured variance against Ragone et al.'s law."""
    n = 8
    observable = word("ZZ", (3, 4), n)
    predicted = lie_variance(free_fermion(n, 1), None, observable).value
    assert predicted == pytest.approx((n - 1) / (n * (2 * n - 1)), rel=1e-12)
    cost = Cost(free_fermion(n, 12 * n), observable, simulator="lie")
    thetas = np.random.default_rng(11).uniform(0, 2 * np.pi, (2000, cost.n_params))
    values = cost(thetas)
    lo, hi = variance_interval(values)
    assert lo <= predicted <= hi
    # The check can fail: a shallow circuit has not mixed and misses the law.
    shallow = Cost(free_fermion(n, 2), observable, simulator="lie")(thetas[:, :2 * (2 * n - 1)])
    lo_s, hi_s = variance_interval(shallow)
    assert not lo_s <= predicted <= hi_s


def test_large_space_stops_early_with_the_dimension():
    circuit = ansatz.hardware_efficient(12, 4)
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"more than max_dim=50000 Pauli strings \(stopped at "
                                         r"dimension \d+ on 12 qubits\)"):
        Cost(circuit, word("ZZ", (0, 1), 12), simulator="lie")
    # A guard against a hang, not a speed claim (the benchmark measures speed).
    assert time.perf_counter() - start < 120
    with pytest.raises(ValueError, match=r"max_dim=100 .*stopped at dimension 1\d\d"):
        Cost(circuit, "ZIIIIIIIIIII", simulator="lie", max_dim=100)


def test_with_circuit_keeps_the_simulator():
    cost = Cost(free_fermion(4, 1), "ZZII", simulator="lie", max_dim=1000)
    other = cost.with_circuit(free_fermion(4, 2))
    assert other.simulator == "lie"
    theta = np.full(other.n_params, 0.3)
    assert other(theta) == pytest.approx(Cost(free_fermion(4, 2), "ZZII")(theta), abs=1e-12)


def test_identity_observable_and_constant_term():
    cost = Cost(free_fermion(3, 1), {"III": 2.5}, simulator="lie")
    value, grad = cost.value_and_gradient(np.ones(cost.n_params))
    assert value == pytest.approx(2.5) and not np.any(grad)


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(simulator="tensor"), ValueError, "simulator must be one of"),
    (dict(simulator="lie", shots=100), ValueError, "computes exact expectation values"),
    (dict(simulator="lie", noise=AmplitudeDamping(0.1)), ValueError, "only by Pauli channels"),
    (dict(simulator="lie", noise=Depolarizing(1.0)), ValueError, "erases a Pauli string"),
    (dict(simulator="statevector", max_dim=10), ValueError, "max_dim is an option"),
    (dict(simulator="statevector", noise=Depolarizing(0.01)), ValueError, "pure states"),
    (dict(simulator="lie", max_dim=0), ValueError, "max_dim must be a positive integer"),
])
def test_bad_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        Cost(free_fermion(3, 1), "ZZI", **kwargs)


def test_bad_circuits_and_observables():
    t_gate = Circuit(2).rx(0).gate(np.diag([1, np.exp(1j * np.pi / 4)]), 1, name="T")
    with pytest.raises(ValueError, match="only when they are Clifford.*fixed gate T"):
        Cost(t_gate, "ZZ", simulator="lie")
    with pytest.raises(ValueError, match="acts on 3 qubits, the circuit has 2"):
        Cost(Circuit(2).rx(0), "ZZI", simulator="lie")
    with pytest.raises(ValueError, match="not Hermitian"):
        Cost(Circuit(2).rx(0), {"ZZ": 1j}, simulator="lie")
    with pytest.raises(ValueError, match="needs the observable as Pauli strings"):
        Cost(Circuit(2).rx(0), qutip.tensor(qutip.sigmax(), qutip.sigmax()), simulator="lie")
    with pytest.raises(TypeError, match="needs the observable as Pauli strings"):
        Cost(Circuit(2).rx(0), 3.0, simulator="lie")
    with pytest.raises(TypeError, match="circuit must be a qnncourse Circuit"):
        gsim.LieProgram("XX", "ZZ")


def test_bad_states():
    circuit = free_fermion(3, 1)
    theta = np.zeros(circuit.n_params)
    with pytest.raises(ValueError, match="3 characters from '01\\+-rl'"):
        gsim.expectation(circuit, "ZII", theta, state="0+x")
    with pytest.raises(ValueError, match=r"shape \(3, 2\)"):
        gsim.expectation(circuit, "ZII", theta, state=np.ones((2, 2)))
    with pytest.raises(ValueError, match="zero or non-finite"):
        gsim.expectation(circuit, "ZII", theta, state=np.zeros((3, 2)))


def test_encodings_and_shared_parameters():
    circuit = ansatz.data_reuploading(3, 2, 2)
    observable = {"ZIZ": 1.0, "IXI": 0.5}
    thetas = np.random.default_rng(5).uniform(0, 2 * np.pi, (2, circuit.n_params))
    x = np.array([0.4, -1.1])
    exact = Cost(circuit, observable, simulator="statevector")
    lie = Cost(circuit, observable, simulator="lie")
    v_ref, g_ref = exact.value_and_gradient(thetas, x=x)
    v, g = lie.value_and_gradient(thetas, x=x)
    np.testing.assert_allclose(v, v_ref, atol=1e-9)
    np.testing.assert_allclose(g, g_ref, atol=1e-9)


@pytest.mark.parametrize("noise", [Depolarizing(0.03), Dephasing(0.05)],
                         ids=["depolarizing", "dephasing"])
def test_pauli_noise_matches_density_simulator(noise):
    circuit = ising_with_field(4, 2)
    observable = {"ZZII": 1.0, "IXIY": -0.5, "IIIZ": 0.2}
    thetas = np.random.default_rng(9).uniform(0, 2 * np.pi, (3, circuit.n_params))
    v_ref, g_ref = Cost(circuit, observable, noise=noise).value_and_gradient(thetas)
    v, g = Cost(circuit, observable, noise=noise, simulator="lie").value_and_gradient(thetas)
    np.testing.assert_allclose(v, v_ref, atol=1e-9)
    np.testing.assert_allclose(g, g_ref, atol=1e-9)
    clean = Cost(circuit, observable, simulator="lie")(thetas)
    assert np.max(np.abs(v - clean)) > 1e-3  # the noise does something


def test_noise_refusals():
    with pytest.raises(ValueError, match="without fixed gates"):
        Cost(ansatz.hardware_efficient(3, 1), "ZZI", noise=Depolarizing(0.01), simulator="lie")
    readout = NoiseModel(Depolarizing(0.01), readout=0.02)
    with pytest.raises(ValueError, match="not readout error"):
        Cost(free_fermion(3, 1), "ZZI", noise=readout, simulator="lie")
