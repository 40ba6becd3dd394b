"""Tests for qnncourse.lie: known dimensions, exact arithmetic, cross-checks with dense algebra."""

import itertools

import numpy as np
import pytest
import qutip

from qnncourse import lie
from qnncourse.circuit import Circuit
from qnncourse.paulis import PauliString, PauliSum, pack, packed_bracket, unpack
from qnncourse.symbolic import exact_closure

_QUTIP = {"I": qutip.qeye(2), "X": qutip.sigmax(), "Y": qutip.sigmay(), "Z": qutip.sigmaz()}


def _qobj(terms: dict) -> np.ndarray:
    """Dense matrix of a Pauli sum built with QuTiP (independent of qnncourse.paulis)."""
    return sum(c * qutip.tensor(*(_QUTIP[ch] for ch in label)).full()
               for label, c in terms.items())


def _word(n: int, placed: dict[int, str]) -> str:
    return "".join(placed.get(q, "I") for q in range(n))


def _tfim(n: int, with_y: bool = False) -> list[str]:
    """{X_i, Z_i Z_{i+1}} on an open chain, optionally with {Y_i}."""
    gens = [_word(n, {i: "X"}) for i in range(n)]
    gens += [_word(n, {i: "Z", i + 1: "Z"}) for i in range(n - 1)]
    if with_y:
        gens += [_word(n, {i: "Y"}) for i in range(n)]
    return gens


def test_bracket_of_pauli_strings_matches_qutip():
    # i[P_a, P_b] = 2 s P_c for every pair of two-qubit Pauli strings.
    labels = ["".join(t) for t in itertools.product("IXYZ", repeat=2)]
    for a, b in itertools.product(labels, repeat=2):
        key, s = packed_bracket(pack(a), pack(b), 2)
        expected = 1j * (_qobj({a: 1}) @ _qobj({b: 1}) - _qobj({b: 1}) @ _qobj({a: 1}))
        got = 2 * s * _qobj({unpack(key, 2): 1}) if s else np.zeros((4, 4))
        np.testing.assert_allclose(got, expected, atol=1e-12, err_msg=f"{a}, {b}")


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_open_tfim_chain_gives_so_2n(n):
    algebra = lie.closure(_tfim(n))
    assert algebra.dim == n * (2 * n - 1)
    assert algebra.is_pauli and algebra.n_qubits == n


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_adding_y_gives_su_2n(n):
    assert lie.dimension(_tfim(n, with_y=True)) == 4**n - 1


def test_so_2n_at_twelve_qubits():
    assert lie.dimension(_tfim(12)) == 12 * 23


@pytest.mark.parametrize("gens, dim", [
    (["XII", "IXI", "IIX"], 3),  # commuting: abelian, one dimension per generator
    (["II", "XI"], 2),  # the identity is a centre of dimension one
    (["X", "Z"], 3),  # su(2)
    (["XX", "YY", "ZZ"], 3),  # commuting two-qubit strings
    (["XY", "YX"], 2),  # XY and YX commute
    (["XZ", "ZX"], 2),  # two anticommuting factors: XZ and ZX commute
    (["XZ", "YI"], 3),  # anticommuting pair with bracket ZZ: su(2)
])
def test_small_cases_by_hand(gens, dim):
    assert lie.dimension(gens) == dim


@pytest.mark.parametrize("gens", [
    ["XI", "IX", "ZZ"],
    ["XII", "IXI", "IIX", "ZZI", "IZZ", "ZIZ"],  # periodic 3-qubit TFIM terms
    ["XXI", "IXX", "ZII", "IZI", "IIZ"],
    [{"XI": 1, "IX": 1}, {"ZZ": 1}],
    [{"XII": 1, "IXI": 1, "IIX": 1}, {"ZZI": 1, "IZZ": 1}],
    [{"XXI": 1, "YYI": 1, "ZZI": 1}, {"IXX": 1, "IYY": 1, "IZZ": 1}],  # Heisenberg bonds
    [{"XXI": 1, "YYI": 1, "ZZI": 1}, {"IXX": 1, "IYY": 1, "IZZ": 1}, {"ZII": 0.5, "IIZ": -1}],
    [{"XI": 0.3, "ZZ": -1.7}, {"IY": 2, "ZX": 0.1}],
])
def test_dimension_matches_dense_exact_closure(gens):
    assert lie.dimension(gens) == len(exact_closure(gens))


@pytest.mark.parametrize("n", [2, 3, 4])
def test_uniform_tfim_sums_have_dimension_n_squared(n):
    # {sum X_i, sum Z_i Z_{i+1}} on an open chain: n^2 (checked densely for n <= 3 above and
    # against PennyLane in benchmarks/bench_lie.py).
    x_sum = PauliSum({_word(n, {i: "X"}): 1.0 for i in range(n)})
    zz_sum = PauliSum({_word(n, {i: "Z", i + 1: "Z"}): 1.0 for i in range(n - 1)})
    algebra = lie.closure([x_sum, zz_sum])
    assert algebra.dim == n * n
    assert not algebra.is_pauli


def test_exact_arithmetic_separates_nearly_parallel_generators():
    # X and X + 1e-10 Z are independent and generate su(2); a float rank test with any usual
    # tolerance would see one direction and report dimension 1.
    assert lie.dimension([{"X": 1.0}, {"X": 1.0, "Z": 1e-10}]) == 3


def test_basis_is_closed_under_brackets_and_hermitian():
    gens = [{"XI": 1, "IX": 1}, {"ZZ": 1}, {"ZI": 0.5}]
    algebra = lie.closure(gens)
    mats = [_qobj({label: float(c) for label, c in e.items()}) for e in algebra.elements]
    flat = np.array([m.ravel() for m in mats]).T
    for m in mats:
        np.testing.assert_allclose(m, m.conj().T, atol=1e-12)
    for a, b in itertools.product(mats, repeat=2):
        bracket = (1j * (a @ b - b @ a)).ravel()
        coeffs = np.linalg.lstsq(flat, bracket, rcond=None)[0]
        np.testing.assert_allclose(flat @ coeffs, bracket, atol=1e-9)


@pytest.mark.parametrize("gens", [["XI", "IX", "ZZ"], [{"XI": 1, "IX": 1}, {"ZZ": 1}],
                                  [{"XX": 0.3, "ZI": 1}, {"YZ": 1, "IX": -2}]])
def test_orthonormal_basis_is_hs_orthonormal_and_spans(gens):
    algebra = lie.closure(gens)
    ortho = [_qobj(b.terms) for b in algebra.orthonormal.basis]
    gram = np.array([[np.trace(a @ b) for b in ortho] for a in ortho])
    np.testing.assert_allclose(gram, np.eye(algebra.dim), atol=1e-12)
    # Every exact basis element is a combination of the orthonormal ones.
    flat = np.array([m.ravel() for m in ortho]).T
    for e in algebra.basis:
        v = _qobj(e.terms).ravel()
        np.testing.assert_allclose(flat @ (flat.conj().T @ v), v, atol=1e-10)


def test_generator_types_and_circuits_agree():
    circuit = Circuit(2).rx(0).rx(1).pauli_rotation("ZZ", (0, 1))
    as_strings = lie.closure(["XI", "IX", "ZZ"])
    assert lie.dimension(circuit) == as_strings.dim == 6
    assert lie.dimension([PauliString("XI", 2.0), PauliSum({"IX": -1}), {"ZZ": 0.5}]) == 6
    assert set(as_strings.labels) == {"XI", "IX", "ZZ", "YZ", "ZY", "YY"}


def test_shared_parameters_give_pauli_sum_generators():
    # QAOA-style sharing: parameter 1 drives the X rotations on both qubits, so the generators
    # are ZZ and X0 + X1.
    circuit = Circuit(2).pauli_rotation("ZZ", (0, 1)).rx(0)
    circuit.rx(1, param=1)
    assert lie.dimension(circuit) == lie.dimension([{"XI": 1, "IX": 1}, "ZZ"]) == 4


def test_coefficients_matrix_matches_elements():
    algebra = lie.closure([{"XI": 1, "IX": 1}, {"ZZ": 1}])
    dense = algebra.coefficients.toarray()
    assert dense.shape == (algebra.dim, len(algebra.labels))
    for row, e in zip(dense, algebra.elements, strict=True):
        assert {algebra.labels[j]: v for j, v in enumerate(row) if v} == {
            k: float(c) for k, c in e.items()}


@pytest.mark.parametrize("gens, message", [
    ([PauliSum({"XY": 1j})], "generator 0 is not Hermitian: the coefficient of 'XY' is 1j"),
    (["XI", PauliSum({"ZZ": 1, "XY": 0.5 + 0.5j})], "generator 1 is not Hermitian"),
    ([np.eye(2)], "generator 0 is not a Pauli string or PauliSum: got ndarray"),
    ([qutip.sigmax()], "generator 0 is not a Pauli string or PauliSum: got Qobj"),
    (["XI", "XYZ"], "generator 1 acts on 3 qubits, generator 0 on 2"),
    ([{"XA": 1}], "generator 0 has the label 'XA'"),
    ([], "generators is empty"),
    (3, "generators must be a Circuit"),
])
def test_bad_input_is_named(gens, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        lie.closure(gens)


def test_circuit_without_parameters_is_rejected():
    with pytest.raises(ValueError, match="the circuit has no trainable parameters"):
        lie.closure(Circuit(2).h(0))


def test_fixed_gates_are_moved_out_of_the_generators():
    # One layer of RY, RZ then CZ: the CZ comes last, so su(2) + su(2). A second layer sees
    # the rotations conjugated by CZ (e.g. Y0 -> Y0 Z1) and reaches su(4).
    one = Circuit(2).ry(0).rz(0).ry(1).rz(1).cz(0, 1)
    two = one.copy().ry(0).rz(0).ry(1).rz(1)
    assert lie.dimension(one) == 6
    assert lie.dimension(two) == 15
    # RX on qubit 1 after CNOT(0 -> 1) is X1 (CNOT commutes with X on its target), while RZ
    # on qubit 1 becomes Z0 Z1.
    gens = lie.generators._circuit_generators(Circuit(2).cnot(0, 1).rx(1).rz(1))
    assert gens == [{"IX": 1.0}, {"ZZ": 1.0}]
    # A non-Clifford fixed gate turns a Pauli string into a sum: T^dagger X T.
    t_gate = np.diag([1, np.exp(1j * np.pi / 4)])
    gens = lie.generators._circuit_generators(Circuit(1).gate(t_gate, 0).rx(0))
    assert gens[0] == pytest.approx({"X": 2**-0.5, "Y": -(2**-0.5)})


# --------------------------------------------------------------------------------------------
# decompose() and purity()
# --------------------------------------------------------------------------------------------
def _dense(ideal) -> list[np.ndarray]:
    return [_qobj(b.terms) for b in ideal.basis]


def _coords(mats: list[np.ndarray], target: list[np.ndarray]) -> np.ndarray:
    """HS coordinates of ``target`` matrices in the orthonormal ``mats`` (rows: targets)."""
    return np.array([[np.trace(m @ t).real for m in mats] for t in target])


def _commutant_dim(mats: list[np.ndarray]) -> int:
    """dim of {C : [C, ad(B)] = 0 for all B} for the adjoint action on span(mats) (dense)."""
    ads = [_coords(mats, [1j * (b @ m - m @ b) for m in mats]).T for b in mats]
    d = len(mats)
    eye = np.eye(d)
    system = np.vstack([np.kron(a, eye) - np.kron(eye, a.T) for a in ads])
    return d * d - np.linalg.matrix_rank(system, tol=1e-8)


def _check_decomposition(d):
    """Independent checks with dense QuTiP matrices: orthonormal parts that add up to the
    algebra, ideals invariant under the algebra and commuting with each other, a centre that
    commutes with everything, and simple ideals whose adjoint commutant is one-dimensional."""
    algebra = [_qobj(b.terms) for b in d.algebra.basis]
    parts = [_dense(d.centre)] + [_dense(i) for i in d.simple]
    everything = [m for part in parts for m in part]
    np.testing.assert_allclose(_coords(everything, everything), np.eye(d.algebra.dim),
                               atol=1e-10)
    # The parts span the algebra.
    flat = np.array([m.ravel() for m in everything]).T
    for g in algebra:
        np.testing.assert_allclose(flat @ (flat.conj().T @ g.ravel()), g.ravel(), atol=1e-9)
    for z in parts[0]:
        for g in algebra:
            np.testing.assert_allclose(z @ g - g @ z, 0, atol=1e-10)
    for i, ideal in enumerate(parts[1:]):
        proj = np.array([m.ravel() for m in ideal]).T
        for g, m in itertools.product(algebra, ideal):
            bracket = (1j * (g @ m - m @ g)).ravel()
            np.testing.assert_allclose(proj @ (proj.conj().T @ bracket), bracket, atol=1e-9)
        for other in parts[i + 2:]:
            for a, b in itertools.product(ideal, other):
                np.testing.assert_allclose(a @ b - b @ a, 0, atol=1e-10)
        assert len(ideal) >= 3 and _commutant_dim(ideal) == 1


@pytest.mark.parametrize("gens, centre, dims", [
    (["XI", "IX", "ZZ"], 0, (3, 3)),  # so(4) = su(2) + su(2), ideals not Pauli-spanned
    (["XI", "IX", "ZI", "IZ"], 0, (3, 3)),  # local su(2) on each qubit
    (["II", "XI", "ZI"], 1, (3,)),  # u(1) + su(2)
    (["XII", "IXI", "IIX", "ZZI", "IZZ"], 0, (15,)),  # so(6), simple
    (["XI", "IX", "ZZ", "YI", "IY"], 0, (15,)),  # su(4)
    (["XIX", "ZII", "IZI"], 1, (3,)),  # su(2) spanned by XIX, YIX, ZII; IZI central
    ([{"XI": 1, "IX": 1}, {"ZZ": 1}], 1, (3,)),  # uniform TFIM sums: u(1) + su(2)
    ([{"XII": 1, "IXI": 1, "IIX": 1}, {"ZZI": 1, "IZZ": 1}], 1, (8,)),  # u(1) + su(3)
    # Heisenberg bonds S1.S2, S2.S3: u(1) on the spin-3/2 sector + su(2) on the multiplicity
    # space of the two spin-1/2 sectors.
    ([{"XXI": 1, "YYI": 1, "ZZI": 1}, {"IXX": 1, "IYY": 1, "IZZ": 1}], 1, (3,)),
    ([{"XI": 0.3, "ZZ": -1.7}, {"IY": 2, "ZX": 0.1}], 0, (3, 3)),
    # u(1) + su(4), and the QAOA ring mixer and cost on 4 qubits: a central direction whose
    # eigenvalue test once fell below the rounding of eigh and was taken for semisimple.
    ([{"XIII": 1, "IXII": 1, "IIXI": 1, "IIIX": 1}, {"ZZII": 1, "IZZI": 1, "IIZZ": 1}],
     1, (15,)),
    ([{"XIII": 1, "IXII": 1, "IIXI": 1, "IIIX": 1},
      {"ZZII": 1, "IZZI": 1, "IIZZ": 1, "ZIIZ": 1}], 2, (3, 3, 3)),
])
def test_decompose_known_structures(gens, centre, dims):
    d = lie.decompose(gens, rng=0)
    assert (d.centre.dim, d.dims) == (centre, dims)
    _check_decomposition(d)


def test_two_qubit_ising_ideals_are_not_spanned_by_pauli_strings():
    d = lie.decompose(["XI", "IX", "ZZ"])
    for ideal in d.simple:
        assert all(len(b.terms) == 2 for b in ideal.basis)
    # The two ideals are the +-1 eigenspaces of multiplication by the parity XX: one holds
    # (X0 + X1) / 2^(3/2), the other (X0 - X1) / 2^(3/2), up to sign.
    ratios = []
    for ideal in d.simple:
        (element,) = [b.terms for b in ideal.basis if "XI" in b.terms]
        assert abs(element["XI"]) == pytest.approx(2**-1.5)
        ratios.append(element["IX"] / element["XI"])
    assert sorted(ratios) == pytest.approx([-1.0, 1.0])


def test_pauli_and_general_paths_find_the_same_ideals():
    for gens in (["XI", "IX", "ZZ"], ["XI", "IX", "ZI", "IZ"], ["II", "XI", "ZI"],
                 ["XIX", "ZII", "IZI"]):
        algebra = lie.closure(gens)
        exact = lie.decompose(algebra)
        centre, simple = lie.decomposition._general_decomposition(algebra, np.random.default_rng(3))
        assert centre.dim == exact.centre.dim

        def projectors(ideals):
            out = []
            for ideal in ideals:
                q = ideal.coefficients.toarray()
                out.append(q.T @ q)
            return out

        ours = projectors(exact.simple)
        theirs = projectors(simple)
        assert len(ours) == len(theirs)
        for p in ours:
            assert any(np.allclose(p, t, atol=1e-9) for t in theirs)


def test_decompose_large_pauli_algebras():
    so24 = lie.decompose(_tfim(12))
    assert (so24.centre.dim, so24.dims) == (0, (276,))
    su64 = lie.decompose(_tfim(6, with_y=True))
    assert (su64.centre.dim, su64.dims) == (0, (4095,))


def test_purity_adds_up_and_is_tr_h_squared_inside_the_algebra():
    d = lie.decompose(["XI", "IX", "ZZ"])
    # X_0 = ((X0 + X1) + (X0 - X1)) / 2 splits evenly: Tr(X0^2) = 4 = 2 + 2.
    assert [lie.purity("XI", ideal) for ideal in d.simple] == pytest.approx([2.0, 2.0])
    assert lie.purity("XI", d.algebra) == pytest.approx(4.0)
    # XX commutes with the algebra and is orthogonal to it.
    assert lie.purity("XX", d.algebra) == pytest.approx(0.0, abs=1e-12)
    h = PauliSum({"ZZ": 0.5, "XI": -1.0, "YY": 0.25, "XX": 2.0})
    parts = sum(lie.purity(h, ideal) for ideal in d.simple) + lie.purity(h, d.centre)
    assert parts == pytest.approx(lie.purity(h, d.algebra))
    assert lie.purity(h.to_qobj(), d.simple[0]) == pytest.approx(lie.purity(h, d.simple[0]))
    assert lie.purity(h, d.algebra) == pytest.approx(4 * (0.25 + 1.0 + 0.0625))


@pytest.mark.parametrize("operator, space, message", [
    (PauliSum({"XI": 1j}), None, "operator is not Hermitian"),
    ("XII", None, "operator acts on 3 qubits, the algebra on 2"),
    (np.eye(8), None, r"operator has shape \(8, 8\), the algebra acts on 2 qubits"),
    (np.array([[0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]), None,
     "operator is not Hermitian"),
    ("XI", "so(4)", "space must be an Ideal or a LieAlgebra, got str"),
])
def test_purity_bad_input(operator, space, message):
    algebra = lie.closure(["XI", "IX", "ZZ"])
    with pytest.raises(ValueError, match=message):
        lie.purity(operator, algebra if space is None else space)
