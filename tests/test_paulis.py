"""Pauli strings and sums against QuTiP's matrices."""

import itertools

import numpy as np
import pytest
import qutip

from qnncourse import paulis
from qnncourse.paulis import (
    PauliString,
    PauliSum,
    as_pauli_sum,
    pack,
    packed_sum_bracket,
    packed_terms,
    unpack,
)

SINGLE = {"I": qutip.qeye(2), "X": qutip.sigmax(), "Y": qutip.sigmay(), "Z": qutip.sigmaz()}


def qutip_string(label: str) -> np.ndarray:
    """The oracle: a tensor product built by QuTiP."""
    return qutip.tensor([SINGLE[c] for c in label]).full()


def random_labels(n_qubits, count, seed):
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list("IXYZ"), size=n_qubits)) for _ in range(count)]


class TestPauliString:
    def test_symplectic_bits(self):
        p = PauliString("IXYZ")
        assert p.x.tolist() == [False, True, True, False]
        assert p.z.tolist() == [False, False, True, True]
        assert p.support == (1, 2, 3)
        assert p.weight == 3
        assert p.n_qubits == 4
        assert PauliString("ZIZ").is_diagonal and not PauliString("ZXI").is_diagonal

    @pytest.mark.parametrize("label", ["X", "Y", "Z", "I", "ZI", "XYZ", "YIZX"])
    def test_matrix_matches_qutip(self, label):
        np.testing.assert_allclose(PauliString(label).to_matrix(), qutip_string(label))

    def test_to_qobj_has_qubit_dims(self):
        q = PauliString("XZ", 0.5).to_qobj()
        assert q.dims == [[2, 2], [2, 2]]
        np.testing.assert_allclose(q.full(), 0.5 * qutip_string("XZ"))

    @pytest.mark.parametrize("a,b", list(itertools.product("IXYZ", repeat=2)),
                             ids=lambda v: v)
    def test_single_qubit_products(self, a, b):
        product = PauliString(a) * PauliString(b)
        np.testing.assert_allclose(product.to_matrix(), qutip_string(a) @ qutip_string(b))

    @pytest.mark.parametrize("seed", range(5))
    def test_products_and_commutators_of_random_strings(self, seed):
        a, b = random_labels(4, 2, seed)
        pa, pb = PauliString(a, 0.5), PauliString(b, -2j)
        ma, mb = 0.5 * qutip_string(a), -2j * qutip_string(b)
        np.testing.assert_allclose((pa * pb).to_matrix(), ma @ mb)
        np.testing.assert_allclose((pa @ pb).to_matrix(), ma @ mb)
        np.testing.assert_allclose(pa.commutator(pb).to_matrix(), ma @ mb - mb @ ma)
        assert pa.commutes_with(pb) == np.allclose(ma @ mb, mb @ ma)

    def test_xy_is_iz(self):
        assert PauliString("X") * PauliString("Y") == PauliString("Z", 1j)
        assert PauliString("Y") * PauliString("X") == PauliString("Z", -1j)

    def test_commuting_commutator_is_zero(self):
        zero = PauliString("ZZ").commutator(PauliString("XX"))
        assert zero.coeff == 0

    def test_scalars(self):
        assert 2 * PauliString("X") == PauliString("X", 2)
        assert PauliString("X") * 3j == PauliString("X", 3j)
        assert -PauliString("Y") == PauliString("Y", -1)

    def test_embed(self):
        assert PauliString.embed("ZX", (2, 0), 3) == PauliString("XIZ")

    def test_repr_and_str(self):
        assert repr(PauliString("XZ")) == "PauliString('XZ')"
        assert repr(PauliString("XZ", 0.5)) == "PauliString('XZ', 0.5)"
        assert str(PauliString("XZ", -2j)) == "-2j XZ"

    @pytest.mark.parametrize("label,match", [
        ("XQZ", "Pauli label 'XQZ' has letters 'Q'; allowed are I, X, Y, Z"),
        ("", "a Pauli label must have at least one letter"),
    ])
    def test_bad_labels(self, label, match):
        with pytest.raises(ValueError, match=match):
            PauliString(label)

    def test_size_mismatch(self):
        with pytest.raises(ValueError, match="different numbers of qubits: 2 .* and 3"):
            PauliString("XZ") * PauliString("XZI")

    def test_nan_coefficient(self):
        with pytest.raises(ValueError, match="coefficient must be finite"):
            PauliString("X", float("nan"))


class TestPauliSum:
    def test_parse_dict_and_drop_zero_terms(self):
        h = PauliSum({"ZZI": 0.5, "XII": 1, "IIY": 0})
        assert h.terms == {"ZZI": 0.5, "XII": 1.0}
        assert h.n_qubits == 3
        assert repr(h) == "PauliSum({'ZZI': 0.5, 'XII': 1.0})"
        assert str(h) == "0.5 ZZI + 1 XII"

    def test_repeated_labels_add(self):
        h = PauliSum([PauliString("XX", 1), PauliString("XX", 2), PauliString("ZZ", -1)])
        assert h.terms == {"XX": 3.0, "ZZ": -1.0}

    def test_label_and_string(self):
        assert PauliSum("XZ").terms == {"XZ": 1.0}
        assert as_pauli_sum(PauliString("XZ", 2)).terms == {"XZ": 2.0}

    def test_algebra_matches_matrices(self):
        a = PauliSum({"ZZI": 0.5, "XII": 1, "IYX": -0.3})
        b = PauliSum({"XZI": 2.0, "IIZ": 0.7})
        ma, mb = a.to_matrix(), b.to_matrix()
        np.testing.assert_allclose(ma, 0.5 * qutip_string("ZZI") + qutip_string("XII")
                                   - 0.3 * qutip_string("IYX"))
        np.testing.assert_allclose((a + b).to_matrix(), ma + mb)
        np.testing.assert_allclose((a - b).to_matrix(), ma - mb)
        np.testing.assert_allclose((2.5 * a).to_matrix(), 2.5 * ma)
        np.testing.assert_allclose((a * b).to_matrix(), ma @ mb)
        np.testing.assert_allclose(a.commutator(b).to_matrix(), ma @ mb - mb @ ma)
        np.testing.assert_allclose(a.to_qobj().full(), ma)

    def test_hermitian(self):
        assert PauliSum({"XY": 1.0, "ZZ": -2}).is_hermitian()
        assert not PauliSum({"XY": 1j}).is_hermitian()

    def test_cancellation_gives_empty_sum(self):
        s = PauliSum("XZ") - PauliSum("XZ")
        assert s.terms == {}
        assert str(s) == "0"
        assert np.all(s.to_matrix() == 0)

    def test_equality(self):
        assert PauliSum({"XZ": 1, "ZZ": 2}) == PauliSum({"ZZ": 2, "XZ": 1})
        assert PauliSum({"XZ": 1}) != PauliSum({"XZ": 1.5})

    def test_mixed_sizes_rejected(self):
        with pytest.raises(ValueError, match=r"different numbers of qubits: \[2, 3\]"):
            PauliSum({"XZ": 1, "XZI": 1})
        with pytest.raises(ValueError, match="different numbers of qubits: 2 and 3"):
            PauliSum("XZ") + PauliSum("XZI")

    def test_bad_types(self):
        with pytest.raises(TypeError, match="must be PauliStrings, got int"):
            PauliSum([1, 2])
        with pytest.raises(TypeError, match="expected a Pauli label"):
            as_pauli_sum(3.0)
        with pytest.raises(ValueError, match="needs at least one term"):
            PauliSum({})


class TestPackedKernel:
    """The packed integer form that the Lie closure runs on, against QuTiP's matrices."""

    @pytest.mark.parametrize("n_qubits", [1, 3, 4, 5, 8, 9, 13])
    def test_unpack_inverts_pack(self, n_qubits):
        for label in random_labels(n_qubits, 50, seed=n_qubits):
            assert unpack(pack(label), n_qubits) == label

    @staticmethod
    def random_sum(n_qubits, count, rng):
        labels = random_labels(n_qubits, count, seed=int(rng.integers(2**31)))
        return {pack(label): int(c) for label, c in
                zip(labels, rng.integers(-5, 6, size=count), strict=True) if c}

    @staticmethod
    def matrix(terms, n_qubits):
        out = np.zeros((2**n_qubits, 2**n_qubits), dtype=complex)
        for key, c in terms.items():
            out += c * qutip_string(unpack(key, n_qubits))
        return out

    @pytest.mark.parametrize(("n_qubits", "count", "pairs"),
                             [(3, 6, "loop"), (4, 24, "loop"), (4, 24, "array")])
    def test_sum_bracket_is_half_i_commutator(self, n_qubits, count, pairs, monkeypatch):
        """24 x 24 = 576 pairs take the numpy path unless the threshold is raised."""
        if pairs == "loop":
            monkeypatch.setattr(paulis, "_ARRAY_BRACKET_PAIRS", 10**9)
        rng = np.random.default_rng(count)
        a, b = self.random_sum(n_qubits, count, rng), self.random_sum(n_qubits, count, rng)
        got = packed_sum_bracket(packed_terms(a, n_qubits), packed_terms(b, n_qubits), n_qubits)
        assert all(isinstance(c, int) and c for c in got.values())
        ma, mb = self.matrix(a, n_qubits), self.matrix(b, n_qubits)
        np.testing.assert_allclose(self.matrix(got, n_qubits), 0.5j * (ma @ mb - mb @ ma),
                                   atol=1e-9)

    def test_coefficients_too_large_for_int64_stay_exact(self):
        """Past the int64 bound the numpy path declines and Python integers give the exact
        product: scaling one operand by 2**50 scales every coefficient by 2**50."""
        rng = np.random.default_rng(7)
        a, b = self.random_sum(4, 24, rng), self.random_sum(4, 24, rng)
        ta, tb = packed_terms(a, 4), packed_terms(b, 4)
        big = packed_terms({k: c * 2**50 for k, c in a.items()}, 4)
        small = packed_sum_bracket(ta, tb, 4)
        assert packed_sum_bracket(big, tb, 4) == {k: c * 2**50 for k, c in small.items()}


# ---------------------------------------------------------------------------------------------
# The vectorised kernel on packed rows (used by g-sim, Pauli propagation, the Lie closure)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [3, 64, 70])
def test_packed_rows_against_string_algebra(n):
    """Anticommutation, signs of iPQ and weights of packed rows (one and two words) agree
    with PauliString products; labels survive the round trip."""
    rng = np.random.default_rng(n)
    labels = ["".join(rng.choice(list("IXYZ"), size=n)) for _ in range(40)]
    x, z = paulis.labels_to_bits(labels, n)
    assert paulis.bits_to_labels(x, z, n) == labels
    p_label = labels[0]
    px, pz = x[:1], z[:1]
    anti = paulis.anticommuting(x, z, px, pz)
    signs = paulis.bracket_signs(px, pz, x, z)
    p = PauliString(p_label)
    for i, label in enumerate(labels):
        q = PauliString(label)
        assert anti[i] == (not p.commutes_with(q))
        if anti[i]:
            product = p * q  # PQ = (s / i) R with iPQ = s R
            assert 1j * product.coeff == signs[i]
            assert paulis.bits_to_labels(x[i:i + 1] ^ px, z[i:i + 1] ^ pz, n) == [product.label]
    weights = paulis.string_weights(x, z)
    assert weights.tolist() == [sum(c != "I" for c in label) for label in labels]


def test_match_rows_finds_equal_strings():
    n = 70
    a = random_labels(n, 30, seed=1)
    b = a[5:15] + random_labels(n, 20, seed=2)
    i, j = paulis.match_rows(*paulis.labels_to_bits(a, n), *paulis.labels_to_bits(b, n))
    assert sorted(zip(i.tolist(), j.tolist(), strict=True)) == [(5 + k, k) for k in range(10)]
    short_a, short_b = ["XZ", "YY", "IZ"], ["IZ", "ZZ", "XZ"]
    i, j = paulis.match_rows(*paulis.labels_to_bits(short_a, 2),
                             *paulis.labels_to_bits(short_b, 2))
    assert sorted(zip(i.tolist(), j.tolist(), strict=True)) == [(0, 2), (2, 0)]


def test_packed_clifford_against_conjugation():
    """F^dag Q F by the word tables equals the matrix conjugation (QuTiP oracle), on qubits
    in two different words."""
    n = 70
    cnot = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=complex)
    gate = paulis.PackedClifford(cnot, (66, 3), "CNOT")
    labels = random_labels(n, 25, seed=3)
    x2, z2, sign = gate.apply(*paulis.labels_to_bits(labels, n))
    for label, image, s in zip(labels, paulis.bits_to_labels(x2, z2, n), sign, strict=True):
        local = label[66] + label[3]
        conj = cnot.conj().T @ qutip_string(local) @ cnot
        expected = image[66] + image[3]
        np.testing.assert_allclose(conj, s * qutip_string(expected), atol=1e-12)
        rest = [k for k in range(n) if k not in (3, 66)]
        assert [image[k] for k in rest] == [label[k] for k in rest]
    t_gate = np.diag([1, np.exp(1j * np.pi / 4)])
    with pytest.raises(ValueError, match="the fixed gate T maps X to a sum of 2"):
        paulis.PackedClifford(t_gate, (0,), "T", "simulator='pauli'")


def test_pauli_channel_factors():
    p = 0.3
    kraus = [np.sqrt(1 - 3 * p / 4) * np.eye(2)] + [np.sqrt(p / 4) * qutip_string(c)
                                                     for c in "XYZ"]
    factors = paulis.pauli_channel_factors(kraus, "here")
    np.testing.assert_allclose(factors, [1, 1 - p, 1 - p, 1 - p])  # I X Z Y
    gamma = 0.2
    damping = [np.array([[1, 0], [0, np.sqrt(1 - gamma)]]),
               np.array([[0, np.sqrt(gamma)], [0, 0]])]
    with pytest.raises(ValueError, match="only by Pauli channels"):
        paulis.pauli_channel_factors(damping, "here")
