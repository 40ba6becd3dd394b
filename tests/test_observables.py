"""Observables: the cost operators against QuTiP constructions, and every application path."""

import numpy as np
import pytest
import qutip
import scipy.sparse as sp

from qnncourse.observables import Observable, as_observable, global_cost, local_cost, pauli_sum
from qnncourse.paulis import PauliSum

P0 = qutip.basis(2, 0).proj()


def identity(n):
    return qutip.tensor([qutip.qeye(2)] * n)


@pytest.mark.parametrize("n", [1, 2, 4])
def test_global_cost_is_one_minus_projector(n):
    oracle = identity(n) - qutip.tensor([P0] * n)
    obs = global_cost(n)
    assert obs.dims == [[2] * n, [2] * n]
    assert obs.isherm
    np.testing.assert_allclose(obs.full(), oracle.full())


@pytest.mark.parametrize("n", [1, 2, 4])
def test_local_cost_is_one_minus_mean_local_projector(n):
    local = sum(qutip.tensor([P0 if q == i else qutip.qeye(2) for q in range(n)])
                for i in range(n))
    oracle = identity(n) - local / n
    np.testing.assert_allclose(local_cost(n).full(), oracle.full())
    assert local_cost(n).dims == [[2] * n, [2] * n]


def test_pauli_sum_returns_a_pauli_sum():
    h = pauli_sum({"ZZI": 0.5, "XII": 1})
    assert isinstance(h, PauliSum)
    with pytest.raises(ValueError, match=r"observable is not Hermitian: complex coefficients "
                                         r"\{'XY': 1j\}"):
        pauli_sum({"XY": 1j})


def random_states(n, count, seed):
    rng = np.random.default_rng(seed)
    psi = rng.normal(size=(count, 2**n)) + 1j * rng.normal(size=(count, 2**n))
    return psi / np.linalg.norm(psi, axis=1, keepdims=True)


OBSERVABLES = {
    "global": (lambda: global_cost(3), "diagonal"),
    "local": (lambda: local_cost(3), "diagonal"),
    "z-string": (lambda: "ZIZ", "diagonal"),
    "pauli-sum": (lambda: {"ZZI": 0.5, "XIY": -1.2, "YYI": 0.3, "IXX": 0.8}, "pauli"),
    "dense-qobj": (lambda: qutip.rand_herm([2, 2, 2], density=1.0, seed=4), "dense"),
    "sparse-qobj": (lambda: qutip.tensor(qutip.sigmax(), qutip.qeye(2), qutip.sigmaz()),
                    "sparse"),
    "numpy": (lambda: qutip.rand_herm(8, density=1.0, seed=7).full(), "dense"),
}


@pytest.mark.parametrize("key", list(OBSERVABLES))
def test_apply_and_expectation_match_qutip(key):
    make, kind = OBSERVABLES[key]
    source = make()
    obs = as_observable(source, 3)
    assert obs.kind == kind
    if isinstance(source, qutip.Qobj):
        oracle = source.full()
    elif isinstance(source, np.ndarray):
        oracle = source
    else:
        oracle = PauliSum(source).to_qobj().full()
    psi = random_states(3, 4, seed=1)
    np.testing.assert_allclose(obs.apply(psi), psi @ oracle.T, atol=1e-12)
    expected = [qutip.expect(qutip.Qobj(oracle), qutip.Qobj(p[:, None])) for p in psi]
    np.testing.assert_allclose(obs.expectation(psi), expected, atol=1e-12)
    np.testing.assert_allclose(obs.matrix(), oracle, atol=1e-12)
    np.testing.assert_allclose(obs.to_qobj().full(), oracle, atol=1e-12)


@pytest.mark.parametrize("key", list(OBSERVABLES))
def test_outcome_probabilities_reproduce_the_mean(key):
    obs = as_observable(OBSERVABLES[key][0](), 3)
    psi = random_states(3, 3, seed=2)
    levels, probs = obs.probabilities(psi)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert np.all(np.diff(levels) > 0)
    np.testing.assert_allclose(probs @ levels, obs.expectation(psi), atol=1e-12)


def test_global_cost_has_two_levels():
    levels, _ = as_observable(global_cost(4), 4).probabilities(random_states(4, 1, 0))
    assert levels.tolist() == [0.0, 1.0]


def test_apply_works_on_any_leading_shape():
    obs = as_observable({"XY": 1.0, "ZI": 0.5}, 2)
    rho = random_states(2, 4, seed=3).reshape(2, 2, 4)
    np.testing.assert_allclose(obs.apply(rho), rho @ obs.matrix().T, atol=1e-12)


def test_observable_passes_through():
    obs = as_observable("ZZ", 2)
    assert as_observable(obs, 2) is obs
    assert repr(obs) == "Observable(n_qubits=2, kind='diagonal')"


class TestBadObservables:
    def test_non_hermitian_qobj(self):
        with pytest.raises(ValueError, match=r"observable is not Hermitian: max \|O - O†\| = 1"):
            as_observable(qutip.tensor(qutip.sigmap(), qutip.qeye(2)), 2)

    def test_non_hermitian_matrix(self):
        with pytest.raises(ValueError, match="observable is not Hermitian"):
            as_observable(np.array([[0, 1], [0, 0]]), 1)

    def test_complex_pauli_coefficient(self):
        with pytest.raises(ValueError, match="observable is not Hermitian: complex coeff"):
            as_observable({"XZ": 1j}, 2)

    @pytest.mark.parametrize("source,message", [
        ("ZZI", "observable acts on 3 qubits, the circuit has 2"),
        (PauliSum({"XZZ": 1.0}), "observable acts on 3 qubits, the circuit has 2"),
        (global_cost(3), r"observable has dims \[\[2, 2, 2\], \[2, 2, 2\]\], a 2-qubit circuit "
                         r"needs \[\[2, 2\], \[2, 2\]\]"),
        (np.eye(8), r"observable has shape \(8, 8\), a 2-qubit circuit needs \(4, 4\)"),
        (as_observable("ZZZ", 3), "observable acts on 3 qubits, the circuit has 2"),
    ])
    def test_mismatched_size(self, source, message):
        with pytest.raises(ValueError, match=message):
            as_observable(source, 2)

    def test_ket_is_not_an_observable(self):
        with pytest.raises(ValueError, match="observable must be an operator, got a Qobj of "
                                             "type 'ket'"):
            as_observable(qutip.basis([2, 2]), 2)

    def test_wrong_type(self):
        with pytest.raises(TypeError, match="observable must be a qutip.Qobj"):
            as_observable(3.0, 1)

    def test_nan_entries(self):
        with pytest.raises(ValueError, match="NaN or infinite"):
            as_observable(np.array([[np.nan, 0], [0, 1]]), 1)

    def test_bad_n(self):
        with pytest.raises(ValueError, match="number of qubits must be a positive int, got 0"):
            global_cost(0)


def test_sparse_scipy_input_is_accepted():
    obs = as_observable(sp.csr_matrix(np.diag([1.0, -1.0])), 1)
    assert isinstance(obs, Observable) and obs.kind == "diagonal"
