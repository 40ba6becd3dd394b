"""Pauli propagation (Cost(..., simulator="pauli") and PauliPropagation): exact values and
one-sweep gradients against the statevector, truncation under noise against the density
simulator with the reported error bound, the light cone at 100 qubits, and refusals."""

import time

import numpy as np
import pytest

from qnncourse import ansatz
from qnncourse.circuit import Circuit
from qnncourse.cost import Cost
from qnncourse.noise import AmplitudeDamping, Dephasing, Depolarizing, NoiseModel
from qnncourse.paulis import PauliSum
from qnncourse.simulators import PauliPropagation
from qnncourse.simulators.pauli import PauliProgram

S_GATE = np.diag([1, 1j])
T_GATE = np.diag([1, np.exp(1j * np.pi / 4)])


def word(letters: str, qubits, n: int) -> str:
    chars = ["I"] * n
    for p, q in zip(letters, qubits, strict=True):
        chars[q] = p
    return "".join(chars)


def random_observable(n: int, rng: np.random.Generator, terms: int = 3) -> PauliSum:
    labels = ["".join(rng.choice(list("IXYZ"), size=n)) for _ in range(terms)]
    return PauliSum({label: float(rng.normal()) for label in labels} | {"I" * n: 0.25})


def mixed_circuit(n: int, rng: np.random.Generator, depth: int = 3) -> Circuit:
    """Rotations about random 1-3 qubit words, shared parameters, and Clifford fixed gates."""
    c = Circuit(n)
    gates = ("h", "cz", "cnot", "s", "x", "rot", "rot", "rot")
    for _ in range(depth * n):
        kind = gates[rng.integers(len(gates))]
        q = int(rng.integers(n))
        other = int((q + 1 + rng.integers(n - 1)) % n)
        if kind == "h":
            c.h(q)
        elif kind == "x":
            c.x(q)
        elif kind == "s":
            c.gate(S_GATE, q, "S")
        elif kind == "cz":
            c.cz(q, other)
        elif kind == "cnot":
            c.cnot(q, other)
        else:
            k = int(rng.integers(1, 4))
            qubits = tuple(int(v) for v in rng.choice(n, size=k, replace=False))
            letters = "".join(rng.choice(list("XYZ"), size=k))
            if c.n_params > 0 and rng.random() < 0.3:
                try:  # share parameter 0 when the generators commute
                    c.pauli_rotation(letters, qubits, param=0)
                    continue
                except ValueError:
                    pass
            c.pauli_rotation(letters, qubits)
    return c


def assert_matches_statevector(circuit, observable, thetas, x=None, **kw):
    exact = Cost(circuit, observable)
    pauli = Cost(circuit, observable, simulator="pauli", **kw)
    v0, g0 = exact.value_and_gradient(thetas, x=x)
    v1, g1 = pauli.value_and_gradient(thetas, x=x)
    np.testing.assert_allclose(v1, v0, atol=1e-10)
    np.testing.assert_allclose(g1, g0, atol=1e-10)
    np.testing.assert_allclose(pauli(thetas, x=x), v0, atol=1e-10)
    assert pauli.evaluations == exact.evaluations + len(np.atleast_2d(thetas))
    assert pauli.pauli_program.settings.discarded.max() == 0.0


@pytest.mark.parametrize("n", [3, 6, 9, 12])
def test_mixed_circuits_match_statevector(n):
    rng = np.random.default_rng(100 + n)
    circuit = mixed_circuit(n, rng, depth=2 if n == 12 else 3)
    thetas = rng.uniform(0, 2 * np.pi, (3, circuit.n_params))
    assert_matches_statevector(circuit, random_observable(n, rng), thetas)


@pytest.mark.parametrize("n", [4, 8, 12])
def test_course_ansatze_match_statevector(n):
    rng = np.random.default_rng(n)
    local = word("ZZ", (n // 2 - 1, n // 2), n)
    he = ansatz.hardware_efficient(n, 2, entangler="cnot")
    assert_matches_statevector(he, {local: 1.0, word("X", (0,), n): 0.5},
                               rng.uniform(0, 2 * np.pi, (2, he.n_params)))
    # random_pauli starts with fixed RY(pi/4) on every qubit: absorbed into the input state.
    rp = ansatz.random_pauli(n, 3, rng)
    assert_matches_statevector(rp, local, rng.uniform(0, 2 * np.pi, (2, rp.n_params)))
    if n <= 8:
        edges = [(q, (q + 1) % n) for q in range(n)]
        qa = ansatz.qaoa(edges, n, 2)
        assert_matches_statevector(qa, {word("ZZ", e, n): 1.0 for e in edges},
                                   rng.uniform(0, np.pi, (2, qa.n_params)))


def test_data_encoding_and_product_input():
    rng = np.random.default_rng(7)
    circuit = ansatz.data_reuploading(3, 2, 2)
    thetas = rng.uniform(0, 2 * np.pi, circuit.n_params)
    x = rng.uniform(-1, 1, 2)
    assert_matches_statevector(circuit, {"ZIZ": 1.0, "XYI": 0.3}, thetas, x=x)
    program = PauliProgram(circuit, "ZIZ", PauliPropagation())
    angles = circuit.angles(thetas, x)
    # |1> on qubit 0 equals an X gate first: same value as the circuit with a leading X.
    flipped = Circuit(3).x(0)
    for op in circuit.operations:
        flipped.append(op)
    expected = Cost(flipped, "ZIZ")(thetas, x=x)
    np.testing.assert_allclose(program.values(angles, state="100"), expected, atol=1e-12)


def test_gradient_is_one_sweep_not_parameter_shift():
    """The backward sweep and its reverse run once however many parameters there are."""
    rng = np.random.default_rng(3)
    circuit = ansatz.hardware_efficient(8, 3)
    cost = Cost(circuit, word("ZZ", (3, 4), 8), simulator="pauli")
    program = cost.pauli_program
    calls = []
    sweep = program._sweep
    program._sweep = lambda *a: calls.append(1) or sweep(*a)
    cost.gradient(rng.uniform(0, 2 * np.pi, circuit.n_params))
    assert len(calls) == 1


def test_light_cone_at_100_qubits():
    n = 100
    circuit = ansatz.hardware_efficient(n, 2)
    rng = np.random.default_rng(11)
    theta = rng.uniform(0, 2 * np.pi, circuit.n_params)
    cost = Cost(circuit, word("ZZ", (49, 50), n), simulator="pauli")
    value, grad = cost.value_and_gradient(theta)
    assert cost.pauli_program.settings.peak_terms < 200
    # Parameters outside the backward light cone (qubits 46..53 for 2 CZ layers) do nothing.
    cone = np.zeros(n, dtype=bool)
    cone[46:54] = True
    assert np.all(grad.reshape(2, 2, n)[:, :, ~cone] == 0)
    # Inside, the one-sweep gradient equals central differences of the value.
    for k in (circuit.n_params - 51, 49, 250):
        e = np.zeros_like(theta)
        e[k] = 1e-5
        fd = (cost(theta + e) - cost(theta - e)) / 2e-5
        assert abs(fd - grad[k]) < 1e-8
    assert -1 <= value <= 1


@pytest.mark.parametrize("noise", [Depolarizing(0.02), Dephasing(0.05)], ids=["depol", "deph"])
def test_exact_noisy_propagation_matches_density(noise):
    rng = np.random.default_rng(5)
    circuit = mixed_circuit(4, rng)
    obs = random_observable(4, rng)
    thetas = rng.uniform(0, 2 * np.pi, (2, circuit.n_params))
    v0, g0 = Cost(circuit, obs, noise=noise).value_and_gradient(thetas)
    v1, g1 = Cost(circuit, obs, noise=noise, simulator="pauli").value_and_gradient(thetas)
    np.testing.assert_allclose(v1, v0, atol=1e-10)
    np.testing.assert_allclose(g1, g0, atol=1e-10)


def test_truncated_noisy_propagation_within_reported_bound():
    """Depolarizing noise after every layer at n = 8: the truncated estimate is within the
    discarded weight of the density-matrix value, the error is not zero (the truncation does
    drop something, so the check could fail) and the bound is below the trivial one."""
    n = 8
    circuit = ansatz.hardware_efficient(n, 4)
    noise = NoiseModel().add(Depolarizing(0.2), gates="layer")
    rng = np.random.default_rng(8)
    thetas = rng.uniform(0, 2 * np.pi, (4, circuit.n_params))
    obs = {word("ZZ", (3, 4), n): 1.0, word("X", (0,), n): 0.5}
    exact = Cost(circuit, obs, noise=noise)(thetas)
    for sim in (PauliPropagation(max_weight=3), PauliPropagation(min_coefficient=1e-3),
                PauliPropagation(max_weight=4, min_coefficient=1e-4)):
        values = Cost(circuit, obs, noise=noise, simulator=sim)(thetas)
        error = np.abs(values - exact)
        assert np.all(error <= sim.discarded + 1e-12), (sim, error, sim.discarded)
        assert error.max() > 1e-6
        assert sim.discarded.max() < 1.0  # the bound says something (|C| <= 1.5 anyway)


def test_truncated_gradient_is_gradient_of_truncated_value():
    """With a weight limit the dropped set does not depend on theta, so the one-sweep
    gradient equals finite differences of the truncated value; and batched rows equal single
    rows under a coefficient threshold (the threshold acts per row)."""
    rng = np.random.default_rng(9)
    circuit = ansatz.hardware_efficient(6, 3)
    obs = word("ZZ", (2, 3), 6)
    cost = Cost(circuit, obs, simulator=PauliPropagation(max_weight=2))
    theta = rng.uniform(0, 2 * np.pi, circuit.n_params)
    _, grad = cost.value_and_gradient(theta)
    for k in (0, 7, 20, circuit.n_params - 1):
        e = np.zeros_like(theta)
        e[k] = 1e-5
        assert abs((cost(theta + e) - cost(theta - e)) / 2e-5 - grad[k]) < 1e-8
    thresholded = Cost(circuit, obs, simulator=PauliPropagation(min_coefficient=0.05))
    thetas = rng.uniform(0, 2 * np.pi, (3, circuit.n_params))
    batch = thresholded.value_and_gradient(thetas)
    for s in range(3):
        single = thresholded.value_and_gradient(thetas[s])
        np.testing.assert_allclose(batch[0][s], single[0], atol=1e-13)
        np.testing.assert_allclose(batch[1][s], single[1], atol=1e-13)


def test_term_limit_refuses_quickly():
    circuit = ansatz.random_pauli(12, 12, np.random.default_rng(0))
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"reached \d+ terms .* more than max_terms=2000"):
        Cost(circuit, "Z" * 12, simulator=PauliPropagation(max_terms=2000))(
            np.ones(circuit.n_params))
    assert time.perf_counter() - start < 30  # generous: shared machines; typically < 1 s


def test_refusals():
    he = ansatz.hardware_efficient(3, 1)
    t_mid = Circuit(2).rx(0).gate(T_GATE, 0, "T").cz(0, 1)
    with pytest.raises(ValueError, match="the fixed gate T maps"):
        Cost(t_mid, "ZZ", simulator="pauli")
    with pytest.raises(ValueError, match="only by Pauli channels"):
        Cost(he, "ZZI", noise=AmplitudeDamping(0.1), simulator="pauli")
    with pytest.raises(ValueError, match="readout"):
        Cost(he, "ZZI", noise=NoiseModel(Depolarizing(0.01), readout=0.02), simulator="pauli")
    with pytest.raises(ValueError, match="exact expectation values"):
        Cost(he, "ZZI", shots=100, simulator="pauli")
    with pytest.raises(ValueError, match="max_dim is an option of simulator='lie'"):
        Cost(he, "ZZI", simulator="pauli", max_dim=10)
    with pytest.raises(ValueError, match="simulator must be one of"):
        Cost(he, "ZZI", simulator="paulis")
    with pytest.raises(TypeError, match="simulator='pauli' needs the observable as Pauli"):
        Cost(he, np.ones((8, 8)), simulator="pauli")
    for bad, message in [(dict(max_weight=0), "max_weight"), (dict(max_weight=2.5), "max_weight"),
                         (dict(max_weight=True), "max_weight"),
                         (dict(min_coefficient=-1e-3), "min_coefficient"),
                         (dict(min_coefficient=float("nan")), "min_coefficient"),
                         (dict(max_terms=0), "max_terms")]:
        with pytest.raises(ValueError, match=message):
            PauliPropagation(**bad)
    with pytest.raises(ValueError, match="angles must have shape"):
        PauliProgram(he, "ZZI", PauliPropagation()).values(np.zeros((1, 2)))


def test_weight_limit_applies_to_the_observable():
    """A term of the observable above max_weight is dropped at once and counted as
    discarded; the rest is propagated exactly (no gate raises the weight here)."""
    circuit = Circuit(4).rz(0).rz(1).rz(2).rz(3)
    sim = PauliPropagation(max_weight=2)
    cost = Cost(circuit, {"ZZZI": 0.7, "ZIII": -0.4}, simulator=sim)
    assert cost(np.ones(4)) == pytest.approx(-0.4)
    assert sim.discarded[0] == pytest.approx(0.7)
