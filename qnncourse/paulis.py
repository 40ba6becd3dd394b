"""Pauli strings and sums of them, in the binary symplectic form.

A Pauli string on :math:`n` qubits is :math:`c\\,P_0 \\otimes P_1 \\otimes \\dots \\otimes
P_{n-1}` with :math:`P_q \\in \\{I, X, Y, Z\\}`; qubit 0 is the leftmost tensor factor (QuTiP's
order), so ``"ZI"`` is :math:`Z \\otimes I`. Each factor is stored as two bits
:math:`(x_q, z_q)`: :math:`I=(0,0)`, :math:`X=(1,0)`, :math:`Z=(0,1)`, :math:`Y=(1,1)`, which
makes products and commutation checks exact integer arithmetic (no floating-point rank tests,
see Aaronson & Gottesman 2004, https://doi.org/10.1103/PhysRevA.70.052328).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from numbers import Number

import numpy as np
import qutip
import scipy.sparse as sp

from qnncourse._validation import check_memory

__all__ = [
    "PackedClifford",
    "PauliString",
    "PauliSum",
    "anticommuting",
    "as_pauli_sum",
    "bits_to_labels",
    "bracket_signs",
    "clifford_images",
    "labels_to_bits",
    "local_words",
    "match_rows",
    "pack",
    "pack_bits",
    "packed_anticommute",
    "packed_bracket",
    "packed_product",
    "packed_sum_bracket",
    "packed_terms",
    "pauli_channel_factors",
    "popcount",
    "product_phase",
    "row_keys",
    "string_weights",
    "unpack",
    "unpack_bits",
    "word_labels",
]

_LETTERS = "IXYZ"
# (x, z) bits of each letter, and back.
_BITS = {"I": (0, 0), "X": (1, 0), "Z": (0, 1), "Y": (1, 1)}
_FROM_BITS = {bits: letter for letter, bits in _BITS.items()}
# Tolerance below which a coefficient counts as zero (sums drop such terms).
_ATOL = 1e-12


# ---------------------------------------------------------------------------------------------
# The packed symplectic kernel: a string as one int, key = x | (z << n), bit q of x (of z) the
# X (Z) part on qubit q. PauliString's algebra and the Lie closures of ``lie`` both use it.
# ---------------------------------------------------------------------------------------------
def pack(label: str) -> int:
    """The packed key of a Pauli label: ``x | (z << n)`` with bit ``q`` for qubit ``q``.

    >>> pack("XZ"), unpack(pack("XZ"), 2)
    (9, 'XZ')
    """
    n = len(label)
    x = z = 0
    for q, char in enumerate(label):
        xb, zb = _BITS[char]
        x |= xb << q
        z |= zb << q
    return x | (z << n)


# The labels of 4 qubits, indexed by x | (z << 4): unpack reads a key four qubits at a time.
_QUADS = tuple("".join(_FROM_BITS[((x >> q) & 1, (z >> q) & 1)] for q in range(4))
               for z in range(16) for x in range(16))


def unpack(key: int, n: int) -> str:
    """The label of a packed key on ``n`` qubits (inverse of :func:`pack`)."""
    mask = (1 << n) - 1
    x, z = key & mask, key >> n
    if n <= 4:
        return _QUADS[x | (z << 4)][:n]
    if n <= 8:
        return (_QUADS[(x & 15) | ((z & 15) << 4)] + _QUADS[(x >> 4) | ((z >> 4) << 4)])[:n]
    return "".join(_QUADS[((x >> q) & 15) | (((z >> q) & 15) << 4)]
                   for q in range(0, n, 4))[:n]


def packed_product(a: int, b: int, n: int) -> tuple[int, int]:
    """Return ``(key, e)`` with :math:`P_a P_b = i^{e} P_{key}`, ``e`` in ``0..3``.

    With :math:`P = i^{x \\cdot z} X^x Z^z` (so :math:`Y = iXZ`), :math:`c = a \\oplus b` and

    .. math:: e = |x_a z_a| + |x_b z_b| - |x_c z_c| + 2 |z_a x_b| \\bmod 4

    (moving :math:`Z^{z_a}` past :math:`X^{x_b}` costs :math:`(-1)^{|z_a x_b|}`); the strings
    commute iff ``e`` is even (Aaronson & Gottesman 2004, doi:10.1103/PhysRevA.70.052328).

    >>> key, e = packed_product(pack("X"), pack("Y"), 1)   # XY = iZ
    >>> unpack(key, 1), e
    ('Z', 1)
    """
    mask = (1 << n) - 1
    xa, za, xb, zb = a & mask, a >> n, b & mask, b >> n
    c = a ^ b
    xc, zc = c & mask, c >> n
    e = ((xa & za).bit_count() + (xb & zb).bit_count() - (xc & zc).bit_count()
         + 2 * (za & xb).bit_count()) % 4
    return c, e


def packed_anticommute(a: int, b: int, n: int) -> bool:
    """Whether two packed strings anticommute: their symplectic product is odd."""
    mask = (1 << n) - 1
    return ((a & mask & (b >> n)).bit_count() + ((a >> n) & b & mask).bit_count()) % 2 == 1


def packed_bracket(a: int, b: int, n: int) -> tuple[int, int]:
    """Return ``(key, s)`` with :math:`i[P_a, P_b] = 2 s P_{key}` and ``s`` in ``{-1, 0, 1}``.

    Anticommuting strings have :math:`P_a P_b = i^e P_c` with ``e`` odd (see
    :func:`packed_product`), so :math:`i[P_a, P_b] = 2i\\,P_aP_b = 2 i^{e+1} P_c`.
    """
    if not packed_anticommute(a, b, n):
        return 0, 0
    c, e = packed_product(a, b, n)
    return c, (-1 if e == 1 else 1)


# One term of an integer Pauli sum ready for brackets: (key, x, z, |x & z|, coefficient).
PackedTerm = tuple[int, int, int, int, int]


def packed_terms(terms: Mapping[int, int], n: int) -> list[PackedTerm]:
    """The terms ``{key: coefficient}`` of an integer Pauli sum, split for
    :func:`packed_sum_bracket` (split once, bracketed many times)."""
    mask = (1 << n) - 1
    out = []
    for key, coeff in terms.items():
        x, z = key & mask, key >> n
        out.append((key, x, z, (x & z).bit_count(), coeff))
    return out


def packed_sum_bracket(a: Sequence[PackedTerm], b: Sequence[PackedTerm], n: int,
                       ) -> dict[int, int]:
    """Half the bracket :math:`\\tfrac{i}{2}[A, B]` of two Hermitian Pauli sums with integer
    coefficients, as ``{key: coefficient}`` without zero terms (an integer Pauli sum again).

    Term by term this is :func:`packed_bracket`: an anticommuting pair with
    :math:`P_a P_b = i^e P_{a \\oplus b}` contributes :math:`-c_a c_b` if :math:`e = 1` and
    :math:`+c_a c_b` if :math:`e = 3`, with :math:`e` as in :func:`packed_product`, computed
    here from the split terms of :func:`packed_terms` without a call per pair (the Lie closure
    of Pauli sums spends its time here). Products of many terms go to numpy.

    >>> xx, zi = packed_terms({pack("XX"): 1}, 2), packed_terms({pack("ZI"): 3}, 2)
    >>> {unpack(k, 2): c for k, c in packed_sum_bracket(xx, zi, 2).items()}   # i[XX, ZI]/2 = 3 YX
    {'YX': 3}
    """
    if len(a) * len(b) >= _ARRAY_BRACKET_PAIRS and n <= 31:
        result = _array_sum_bracket(a, b, n)
        if result is not None:
            return result
    out: dict[int, int] = {}
    get = out.get
    for ka, xa, za, ya, ca in a:
        for kb, xb, zb, yb, cb in b:
            zx = (za & xb).bit_count()
            if (zx + (xa & zb).bit_count()) & 1 == 0:
                continue  # commuting strings: zero bracket
            c = ka ^ kb
            if (ya + yb - ((xa ^ xb) & (za ^ zb)).bit_count() + 2 * zx) & 3 == 1:
                out[c] = get(c, 0) - ca * cb
            else:
                out[c] = get(c, 0) + ca * cb
    return {k: v for k, v in out.items() if v}


# Products of sums with at least this many pairs of strings are bracketed with numpy.
_ARRAY_BRACKET_PAIRS = 256


def _array_sum_bracket(a: Sequence[PackedTerm], b: Sequence[PackedTerm], n: int,
                       ) -> dict[int, int] | None:
    """:func:`packed_sum_bracket` on all pairs at once with int64 arrays (keys need
    ``2n <= 62`` bits), or ``None`` if the coefficients could overflow int64 (then the
    Python-integer loop, which cannot, is used)."""
    ca = [t[4] for t in a]
    cb = [t[4] for t in b]
    bound = max(map(abs, ca)) * max(map(abs, cb)) * len(a) * len(b)
    if bound >= 2**62:
        return None
    ta = np.array([t[:4] for t in a], dtype=np.int64)
    tb = np.array([t[:4] for t in b], dtype=np.int64)
    ka, xa, za, ya = (col[:, None] for col in ta.T)
    kb, xb, zb, yb = (col[None, :] for col in tb.T)
    anti = anticommuting(xa[..., None], za[..., None], xb[..., None], zb[..., None])
    if not anti.any():
        return {}
    keys = (ka ^ kb)[anti]
    e = product_phase(xa[..., None], za[..., None], xb[..., None], zb[..., None], ya, yb)[anti]
    coeffs = (np.array(ca, dtype=np.int64)[:, None] * np.array(cb, dtype=np.int64)[None, :])[anti]
    coeffs = np.where(e == 1, -coeffs, coeffs)
    order = np.argsort(keys, kind="stable")
    keys, coeffs = keys[order], coeffs[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    sums = np.add.reduceat(coeffs, starts)
    keep = sums != 0
    return dict(zip(keys[starts][keep].tolist(), sums[keep].tolist(), strict=True))


# ---------------------------------------------------------------------------------------------
# The vectorised kernel: many strings as arrays ``x, z`` of shape (m, W) uint64 words, bit q % 64
# of word q // 64 for qubit q. g-sim, Pauli propagation and the Lie closure's numpy bracket all
# use these functions (an int key ``x | (z << n)`` of the scalar kernel is a one-word row).
# ---------------------------------------------------------------------------------------------
def pack_bits(bits: np.ndarray, words: int) -> np.ndarray:
    """Bool array ``(m, n)`` -> ``(m, words)`` uint64, bit ``q % 64`` of word ``q // 64``."""
    m, n = bits.shape
    padded = np.zeros((m, 64 * words), dtype=bool)
    padded[:, :n] = bits
    return np.packbits(padded, axis=1, bitorder="little").view("<u8").astype(np.uint64)


def unpack_bits(packed: np.ndarray, n: int) -> np.ndarray:
    """Inverse of :func:`pack_bits`: ``(m, W)`` uint64 -> bool ``(m, n)``."""
    raw = np.ascontiguousarray(packed.astype("<u8")).view(np.uint8)
    return np.unpackbits(raw, axis=1, bitorder="little")[:, :n].astype(bool)


def labels_to_bits(labels: Sequence[str], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Packed ``(x, z)`` arrays ``(m, ceil(n/64))`` of ``m`` labels of length ``n``.

    >>> x, z = labels_to_bits(["XZ", "YI"], 2)
    >>> x.ravel().tolist(), z.ravel().tolist()
    ([1, 1], [2, 1])
    """
    codes = np.frombuffer("".join(labels).encode(), dtype=np.uint8).reshape(len(labels), n)
    x = (codes == ord("X")) | (codes == ord("Y"))
    z = (codes == ord("Z")) | (codes == ord("Y"))
    words = max(1, -(-n // 64))
    return pack_bits(x, words), pack_bits(z, words)


def bits_to_labels(x: np.ndarray, z: np.ndarray, n: int) -> list[str]:
    """Labels of packed rows (inverse of :func:`labels_to_bits`)."""
    xb, zb = unpack_bits(x, n), unpack_bits(z, n)
    table = np.array([ord("I"), ord("X"), ord("Z"), ord("Y")], dtype=np.uint8)
    codes = table[xb.astype(np.uint8) + 2 * zb.astype(np.uint8)]
    return [row.tobytes().decode() for row in codes]


def popcount(a: np.ndarray) -> np.ndarray:
    """Bits set per row, summed over the last axis (of words), as int64."""
    counts = np.bitwise_count(a)
    if a.shape[-1] == 1:  # one word: no reduction to pay for (the Lie closure's int keys)
        return counts[..., 0].astype(np.int64)
    return counts.sum(axis=-1, dtype=np.int64)


def string_weights(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Weight (number of non-identity letters) of each packed string."""
    return popcount(x | z)


def anticommuting(x: np.ndarray, z: np.ndarray, px: np.ndarray, pz: np.ndarray) -> np.ndarray:
    """Whether strings ``(x, z)`` and ``(px, pz)`` anticommute (odd symplectic product),
    broadcast over the leading axes."""
    # Only the parity of the symplectic product matters: XOR the words first, count once.
    t = (x & pz) ^ (z & px)
    t = t[..., 0] if t.shape[-1] == 1 else np.bitwise_xor.reduce(t, axis=-1)
    return (np.bitwise_count(t) & 1).astype(bool)


def product_phase(xa: np.ndarray, za: np.ndarray, xb: np.ndarray, zb: np.ndarray,
                  ya: np.ndarray | None = None, yb: np.ndarray | None = None) -> np.ndarray:
    """``e`` in ``0..3`` with :math:`P_aP_b = i^e P_{a\\oplus b}`, broadcast (the formula of
    :func:`packed_product`); ``ya``, ``yb`` are the Y counts :math:`|x z|` if already known."""
    ya = popcount(xa & za) if ya is None else ya
    yb = popcount(xb & zb) if yb is None else yb
    return (ya + yb - popcount((xa ^ xb) & (za ^ zb)) + 2 * popcount(za & xb)) & 3


def bracket_signs(px: np.ndarray, pz: np.ndarray, qx: np.ndarray, qz: np.ndarray,
                  ) -> np.ndarray:
    """:math:`s = \\pm 1` in :math:`iPQ = s\\,P_{p \\oplus q}` for anticommuting ``P`` and rows
    ``Q`` (``e`` odd: :math:`iP Q = i^{e+1}\\,\\cdot`, so ``+1`` for ``e = 3``, ``-1`` for
    ``e = 1``)."""
    return np.where(product_phase(px, pz, qx, qz) == 1, -1.0, 1.0)


def row_keys(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """One opaque, comparable key per string: the row ``(x, z)`` viewed as raw bytes."""
    both = np.ascontiguousarray(np.concatenate([x, z], axis=1))
    return both.view(f"V{both.shape[1] * 8}").ravel()


def match_rows(x1: np.ndarray, z1: np.ndarray, x2: np.ndarray, z2: np.ndarray,
               ) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(i, j)`` with row ``i`` of ``(x1, z1)`` equal to row ``j`` of ``(x2, z2)``;
    the rows of each set must be distinct. One lexicographic sort of both sets together."""
    words = x1.shape[1]
    both = np.concatenate([np.concatenate([x1, z1], axis=1),
                           np.concatenate([x2, z2], axis=1)])
    if words == 1 and both.max(initial=0) < 2**32:  # one uint64 key: x | z << 32
        order = np.argsort(both[:, 0] | (both[:, 1] << np.uint64(32)), kind="stable")
    else:
        order = np.lexsort(both.T[::-1])
    ordered = both[order]
    equal = np.flatnonzero(np.all(ordered[1:] == ordered[:-1], axis=1))
    first, second = order[equal], order[equal + 1]
    # Within a set rows are distinct, so each equal neighbour pair has one row of each set.
    i = np.minimum(first, second)
    j = np.maximum(first, second) - len(x1)
    return i, j


def local_words(x: np.ndarray, z: np.ndarray, qubits: Sequence[int]) -> np.ndarray:
    """Index :math:`\\sum_i (x_i + 2 z_i)\\,4^i` of each string's word on ``qubits``."""
    word, bit = np.divmod(np.asarray(qubits, dtype=np.int64), 64)
    shift = bit.astype(np.uint64)
    xb = ((x[:, word] >> shift) & np.uint64(1)).astype(np.int64)
    zb = ((z[:, word] >> shift) & np.uint64(1)).astype(np.int64)
    return ((xb + 2 * zb) << (2 * np.arange(len(word)))).sum(axis=1)


def word_labels(k: int) -> list[str]:
    """The :math:`4^k` words on ``k`` qubits in the order of :func:`local_words`."""
    letters = "IXZY"  # index x + 2z
    return ["".join(letters[(w >> (2 * i)) & 3] for i in range(k)) for w in range(4**k)]


@lru_cache(maxsize=256)
def _clifford_table(matrix_bytes: bytes, k: int, name: str, who: str,
                    ) -> tuple[np.ndarray, np.ndarray]:
    m = np.frombuffer(matrix_bytes, dtype=complex).reshape(2**k, 2**k)
    words = word_labels(k)
    mats = [PauliString(word).to_matrix() for word in words]
    image = np.empty(4**k, dtype=np.int64)
    sign = np.empty(4**k)
    for w, word in enumerate(words):
        conj = m.conj().T @ mats[w] @ m
        coeffs = np.array([np.trace(p @ conj) / 2**k for p in mats])
        big = np.flatnonzero(np.abs(coeffs) > 1e-9)
        if (len(big) != 1 or abs(abs(coeffs[big[0]]) - 1) > 1e-9
                or abs(coeffs[big[0]].imag) > 1e-9):
            raise ValueError(
                f"{who} supports fixed gates only when they are Clifford (map Pauli strings to "
                f"Pauli strings); the fixed gate {name} maps {word} to a sum of {len(big)} "
                f"Pauli words")
        image[w], sign[w] = big[0], np.sign(coeffs[big[0]].real)
    return image, sign


def clifford_images(matrix: np.ndarray, name: str, who: str = "this simulator",
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Images :math:`F^\\dagger W F = \\sigma W'` of the :math:`4^k` words of a ``k``-qubit gate.

    Returns the image index (as in :func:`local_words`) and the sign per word; raises
    ``ValueError`` naming the gate if some image is not one signed word (not Clifford).
    """
    matrix = np.ascontiguousarray(matrix, dtype=complex)
    k = int(np.log2(matrix.shape[0]))
    return _clifford_table(matrix.tobytes(), k, name, who)


class PackedClifford:
    """A Clifford gate on ``qubits`` acting on packed strings: :math:`Q \\mapsto F^\\dagger Q F`.

    >>> h = np.array([[1, 1], [1, -1]]) / np.sqrt(2)
    >>> x, z = labels_to_bits(["XZ", "YI"], 2)
    >>> x2, z2, sign = PackedClifford(h, (0,), "H").apply(x, z)
    >>> bits_to_labels(x2, z2, 2), sign.tolist()
    (['ZZ', 'YI'], [1.0, -1.0])
    """

    def __init__(self, matrix: np.ndarray, qubits: Sequence[int], name: str,
                 who: str = "this simulator") -> None:
        self.qubits = tuple(int(q) for q in qubits)
        self.image, self.sign = clifford_images(matrix, name, who)
        # Where each gate qubit sits in the packed words (fixed, so worked out once).
        word, bit = np.divmod(np.asarray(self.qubits, dtype=np.int64), 64)
        self._word, self._shift = word, bit.astype(np.uint64)
        self._place = 2 * np.arange(len(word))
        self._groups = [(int(w), word == w,
                         ~np.bitwise_or.reduce(np.uint64(1) << self._shift[word == w]))
                        for w in np.unique(word)]

    def apply(self, x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Images ``(x', z')`` and signs of the strings ``(x, z)``."""
        word, shift, place = self._word, self._shift, self._place
        xs, zs = x[:, word], z[:, word]
        local = ((((xs >> shift) & np.uint64(1)) + ((zs >> shift) & np.uint64(1)) * 2)
                 .astype(np.int64) << place).sum(axis=1)
        new = self.image[local][:, None]
        # New x and z bits of every string on each gate qubit, moved to that qubit's place.
        nx = ((new >> place) & 1).astype(np.uint64) << shift
        nz = ((new >> (place + 1)) & 1).astype(np.uint64) << shift
        x2, z2 = x.copy(), z.copy()
        for w, on, clear in self._groups:
            x2[:, w] = (x2[:, w] & clear) | np.bitwise_or.reduce(nx[:, on], axis=1)
            z2[:, w] = (z2[:, w] & clear) | np.bitwise_or.reduce(nz[:, on], axis=1)
        return x2, z2, self.sign[local]


def pauli_channel_factors(kraus: Sequence[np.ndarray], where: str,
                          who: str = "this simulator") -> np.ndarray:
    """:math:`\\lambda_w` with :math:`\\sum_K K^\\dagger P_w K = \\lambda_w P_w` for the
    :math:`4^k` local words (order of :func:`local_words`).

    Raises ``ValueError`` if the channel is not a Pauli channel (its Pauli transfer matrix is
    not diagonal, e.g. amplitude damping).
    """
    k = int(np.log2(kraus[0].shape[0]))
    out = np.empty(4**k)
    for w, word in enumerate(word_labels(k)):
        p = PauliString(word).to_matrix()
        image = sum(m.conj().T @ p @ m for m in kraus)
        out[w] = np.trace(p @ image).real / 2**k
        if np.abs(image - out[w] * p).max() > 1e-10:
            raise ValueError(
                f"{who} supports noise only by Pauli channels (which scale each Pauli string); "
                f"the channel {where} maps {word} to a combination of other strings (e.g. "
                f"amplitude damping); use simulator='auto'")
    return out


def _check_label(label: object) -> str:
    if not isinstance(label, str):
        raise TypeError(f"a Pauli label must be a str such as 'XZI', got {type(label).__name__}")
    if not label:
        raise ValueError("a Pauli label must have at least one letter, got ''")
    bad = sorted(set(label) - set(_LETTERS))
    if bad:
        raise ValueError(
            f"Pauli label {label!r} has letters {''.join(bad)!r}; allowed are I, X, Y, Z"
        )
    return label


def _check_coeff(coeff: object) -> complex:
    if not isinstance(coeff, Number) or isinstance(coeff, bool):
        raise TypeError(f"a Pauli coefficient must be a number, got {type(coeff).__name__}")
    value = complex(coeff)
    if not np.isfinite(value):
        raise ValueError(f"a Pauli coefficient must be finite, got {coeff}")
    return value


def _fmt(value: complex) -> str:
    """``0.5``, ``2j`` or ``(1+2j)``: the shortest readable form of a coefficient."""
    value = complex(value)
    if value.imag == 0:
        return f"{value.real:g}"
    if value.real == 0:
        return f"{value.imag:g}j"
    return f"({value:g})"


def _clean(value: complex) -> complex | float:
    """Drop a zero imaginary part so reprs read ``0.5`` rather than ``(0.5+0j)``."""
    value = complex(value)
    return value.real if value.imag == 0 else value


class PauliString:
    """A coefficient times a tensor product of single-qubit Paulis.

    Parameters
    ----------
    label : str
        One letter per qubit from ``I, X, Y, Z``; qubit 0 first.
    coeff : complex, default 1
        The scalar in front.

    Examples
    --------
    >>> PauliString("XI") * PauliString("YZ")
    PauliString('ZZ', 1j)
    >>> PauliString("XI").commutes_with(PauliString("ZZ"))
    False
    """

    __slots__ = ("label", "coeff", "x", "z")

    def __init__(self, label: str, coeff: complex = 1) -> None:
        self.label = _check_label(label)
        self.coeff = _clean(_check_coeff(coeff))
        self.x = np.array([_BITS[c][0] for c in label], dtype=bool)
        self.z = np.array([_BITS[c][1] for c in label], dtype=bool)

    @classmethod
    def from_bits(cls, x: np.ndarray, z: np.ndarray, coeff: complex = 1) -> PauliString:
        """Build from the symplectic bit vectors ``x`` and ``z``."""
        label = "".join(_FROM_BITS[(int(a), int(b))] for a, b in zip(x, z, strict=True))
        return cls(label, coeff)

    @classmethod
    def embed(cls, word: str, qubits: Iterable[int], n_qubits: int, coeff: complex = 1):
        """The full-width string with ``word[k]`` on qubit ``qubits[k]`` and ``I`` elsewhere.

        >>> PauliString.embed("ZX", (2, 0), 3)
        PauliString('XIZ')
        """
        qubits = tuple(qubits)
        _check_label(word)
        if len(word) != len(qubits):
            raise ValueError(
                f"Pauli word {word!r} has {len(word)} letters but {len(qubits)} qubits were given"
            )
        letters = ["I"] * n_qubits
        for letter, q in zip(word, qubits, strict=True):
            if not 0 <= q < n_qubits:
                raise ValueError(f"qubit index {q} is out of range for {n_qubits} qubits")
            letters[q] = letter
        return cls("".join(letters), coeff)

    # -- structure -------------------------------------------------------------------------
    @property
    def n_qubits(self) -> int:
        """Number of tensor factors."""
        return len(self.label)

    @property
    def support(self) -> tuple[int, ...]:
        """Qubits on which the string acts with a non-identity factor."""
        return tuple(int(q) for q in np.flatnonzero(self.x | self.z))

    @property
    def weight(self) -> int:
        """Number of non-identity factors."""
        return len(self.support)

    @property
    def is_diagonal(self) -> bool:
        """True when the string only has ``I`` and ``Z`` factors (diagonal in the Z basis)."""
        return not self.x.any()

    def _check_same_size(self, other: PauliString) -> None:
        if other.n_qubits != self.n_qubits:
            raise ValueError(
                f"Pauli strings act on different numbers of qubits: {self.n_qubits} "
                f"({self.label!r}) and {other.n_qubits} ({other.label!r})"
            )

    # -- algebra ---------------------------------------------------------------------------
    def commutes_with(self, other: PauliString) -> bool:
        """Whether ``self`` and ``other`` commute: the symplectic product is even."""
        self._check_same_size(other)
        return not packed_anticommute(pack(self.label), pack(other.label), self.n_qubits)

    def __mul__(self, other: object) -> PauliString | PauliSum:
        if isinstance(other, PauliString):
            return self._product(other)
        if isinstance(other, PauliSum):
            return PauliSum([self]) * other
        if isinstance(other, Number) and not isinstance(other, bool):
            return PauliString(self.label, self.coeff * _check_coeff(other))
        return NotImplemented

    __matmul__ = __mul__

    def __rmul__(self, other: object) -> PauliString:
        if isinstance(other, Number) and not isinstance(other, bool):
            return PauliString(self.label, self.coeff * _check_coeff(other))
        return NotImplemented

    def __neg__(self) -> PauliString:
        return PauliString(self.label, -self.coeff)

    def __add__(self, other: object) -> PauliSum:
        return PauliSum([self]) + other

    def __sub__(self, other: object) -> PauliSum:
        return PauliSum([self]) - other

    def _product(self, other: PauliString) -> PauliString:
        """Product with the phase tracked exactly (:func:`packed_product`)."""
        self._check_same_size(other)
        n = self.n_qubits
        key, e = packed_product(pack(self.label), pack(other.label), n)
        return PauliString(unpack(key, n), self.coeff * other.coeff * 1j**e)

    def commutator(self, other: PauliString) -> PauliString:
        """:math:`[A, B] = AB - BA`: zero (coefficient 0) if they commute, else :math:`2AB`."""
        self._check_same_size(other)
        if self.commutes_with(other):
            return PauliString("I" * self.n_qubits, 0)
        product = self._product(other)
        return PauliString(product.label, 2 * product.coeff)

    # -- dense forms -----------------------------------------------------------------------
    def bit_masks(self) -> tuple[int, int, int]:
        """Bit masks of X and Z factors (qubit q is bit ``n-1-q``) and the number of Ys."""
        weights = 1 << np.arange(self.n_qubits - 1, -1, -1, dtype=np.int64)
        return (int(weights[self.x].sum()), int(weights[self.z].sum()),
                int(np.count_nonzero(self.x & self.z)))

    def _sparse(self) -> sp.csr_matrix:
        """The matrix as CSR: one non-zero per column.

        :math:`P|c\\rangle = c_P\\, i^{n_Y} (-1)^{|c \\wedge z|}\\, |c \\oplus x\\rangle`.
        """
        dim = 2**self.n_qubits
        x_mask, z_mask, n_y = self.bit_masks()
        cols = np.arange(dim, dtype=np.int64)
        signs = 1 - 2 * (np.bitwise_count(cols & z_mask) & 1).astype(np.int8)
        values = self.coeff * (1j**n_y) * signs
        return sp.csr_matrix((values.astype(complex), (cols ^ x_mask, cols)), shape=(dim, dim))

    def to_matrix(self) -> np.ndarray:
        """Dense ``(2**n, 2**n)`` complex matrix (size checked first)."""
        dim = 2**self.n_qubits
        check_memory(16 * dim * dim, f"the dense matrix of a {self.n_qubits}-qubit Pauli string")
        return self._sparse().toarray()

    def to_qobj(self) -> qutip.Qobj:
        """:class:`qutip.Qobj` with qubit dims ``[[2]*n, [2]*n]`` (sparse storage)."""
        dims = [[2] * self.n_qubits] * 2
        return qutip.Qobj(self._sparse(), dims=dims)

    # -- protocol --------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PauliString):
            return NotImplemented
        return self.label == other.label and abs(self.coeff - other.coeff) <= _ATOL

    def __hash__(self) -> int:
        return hash((self.label, complex(self.coeff)))

    def __repr__(self) -> str:
        if self.coeff == 1:
            return f"PauliString({self.label!r})"
        return f"PauliString({self.label!r}, {self.coeff!r})"

    def __str__(self) -> str:
        return self.label if self.coeff == 1 else f"{_fmt(self.coeff)} {self.label}"


class PauliSum:
    """A linear combination :math:`\\sum_k c_k P_k` of Pauli strings on the same qubits.

    Parameters
    ----------
    terms : dict, iterable of PauliString, PauliString or str
        ``{"ZZI": 0.5, "XII": 1}``, ``[PauliString("ZZ", 2), ...]``, or a single label.
        Repeated labels are added; terms whose coefficient vanishes are dropped.

    Examples
    --------
    >>> H = PauliSum({"ZZI": 0.5, "XII": 1})
    >>> H
    PauliSum({'ZZI': 0.5, 'XII': 1.0})
    >>> H.is_hermitian()
    True
    """

    __slots__ = ("terms", "_n_qubits")

    def __init__(self, terms: Mapping[str, complex] | Iterable[PauliString] | PauliString | str,
                 ) -> None:
        if isinstance(terms, str | PauliString):
            terms = [PauliString(terms) if isinstance(terms, str) else terms]
        pairs: list[tuple[str, complex]]
        if isinstance(terms, Mapping):
            pairs = [(_check_label(label), _check_coeff(c)) for label, c in terms.items()]
        elif isinstance(terms, Iterable):
            pairs = []
            for term in terms:
                if not isinstance(term, PauliString):
                    raise TypeError(
                        f"PauliSum terms must be PauliStrings, got {type(term).__name__}"
                    )
                pairs.append((term.label, complex(term.coeff)))
        else:
            raise TypeError(
                "PauliSum takes a dict label -> coefficient, an iterable of PauliString or a "
                f"label, got {type(terms).__name__}"
            )
        if not pairs:
            raise ValueError("a PauliSum needs at least one term (use coefficient 0 for zero)")
        sizes = {len(label) for label, _ in pairs}
        if len(sizes) > 1:
            raise ValueError(f"PauliSum terms act on different numbers of qubits: {sorted(sizes)}")
        self._n_qubits = sizes.pop()
        summed: dict[str, complex] = {}
        for label, c in pairs:
            summed[label] = summed.get(label, 0) + c
        self.terms = {label: _clean(c) for label, c in summed.items() if abs(c) > _ATOL}

    # -- structure -------------------------------------------------------------------------
    @property
    def n_qubits(self) -> int:
        """Number of qubits every term acts on."""
        return self._n_qubits

    def strings(self) -> list[PauliString]:
        """The terms as :class:`PauliString` objects (coefficients included)."""
        return [PauliString(label, c) for label, c in self.terms.items()]

    def is_hermitian(self, atol: float = 1e-10) -> bool:
        """Hermitian iff every coefficient is real (Pauli strings are Hermitian and independent)."""
        return all(abs(complex(c).imag) <= atol for c in self.terms.values())

    @property
    def is_diagonal(self) -> bool:
        """True when every term has only ``I`` and ``Z`` factors."""
        return all(set(label) <= {"I", "Z"} for label in self.terms)

    # -- algebra ---------------------------------------------------------------------------
    def _coerce(self, other: object) -> PauliSum | None:
        if isinstance(other, PauliSum):
            result = other
        elif isinstance(other, PauliString | str):
            result = PauliSum(other)
        else:
            return None
        if result.n_qubits != self.n_qubits:
            raise ValueError(
                f"Pauli sums act on different numbers of qubits: {self.n_qubits} and "
                f"{result.n_qubits}"
            )
        return result

    def __add__(self, other: object) -> PauliSum:
        other_sum = self._coerce(other)
        if other_sum is None:
            return NotImplemented
        return PauliSum(self.strings() + other_sum.strings() or {"I" * self.n_qubits: 0})

    __radd__ = __add__

    def __neg__(self) -> PauliSum:
        return PauliSum({label: -c for label, c in self.terms.items()}
                        or {"I" * self.n_qubits: 0})

    def __sub__(self, other: object) -> PauliSum:
        other_sum = self._coerce(other)
        if other_sum is None:
            return NotImplemented
        return self + (-other_sum)

    def __mul__(self, other: object) -> PauliSum:
        if isinstance(other, Number) and not isinstance(other, bool):
            c = _check_coeff(other)
            return PauliSum({label: c * v for label, v in self.terms.items()}
                            or {"I" * self.n_qubits: 0})
        other_sum = self._coerce(other)
        if other_sum is None:
            return NotImplemented
        products = [a * b for a in self.strings() for b in other_sum.strings()]
        return PauliSum(products or {"I" * self.n_qubits: 0})

    __matmul__ = __mul__

    def __rmul__(self, other: object) -> PauliSum:
        if isinstance(other, Number) and not isinstance(other, bool):
            return self * other
        return NotImplemented

    def commutator(self, other: PauliSum | PauliString | str) -> PauliSum:
        """:math:`[A, B] = AB - BA`, term by term (only anticommuting pairs contribute)."""
        other_sum = self._coerce(other)
        if other_sum is None:
            raise TypeError(f"cannot take a commutator with {type(other).__name__}")
        terms = [a.commutator(b) for a in self.strings() for b in other_sum.strings()]
        return PauliSum(terms or {"I" * self.n_qubits: 0})

    # -- dense forms -----------------------------------------------------------------------
    def _sparse(self) -> sp.csr_matrix:
        dim = 2**self.n_qubits
        total = sp.csr_matrix((dim, dim), dtype=complex)
        for term in self.strings():
            total = total + term._sparse()
        return total

    def to_matrix(self) -> np.ndarray:
        """Dense ``(2**n, 2**n)`` complex matrix (size checked first)."""
        dim = 2**self.n_qubits
        check_memory(16 * dim * dim, f"the dense matrix of a {self.n_qubits}-qubit Pauli sum")
        return self._sparse().toarray()

    def to_qobj(self) -> qutip.Qobj:
        """:class:`qutip.Qobj` with qubit dims (sparse storage)."""
        return qutip.Qobj(self._sparse(), dims=[[2] * self.n_qubits] * 2)

    # -- protocol --------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PauliSum):
            return NotImplemented
        difference = self - other
        return all(abs(c) <= _ATOL for c in difference.terms.values())

    __hash__ = None  # mutable-looking container semantics: equal sums need not hash alike

    def __len__(self) -> int:
        return len(self.terms)

    def __repr__(self) -> str:
        return f"PauliSum({self.terms!r})"

    def __str__(self) -> str:
        if not self.terms:
            return "0"
        return " + ".join(f"{_fmt(c)} {label}" for label, c in self.terms.items()).replace(
            "+ -", "- "
        )


def as_pauli_sum(obj: str | PauliString | PauliSum | Mapping[str, complex]) -> PauliSum:
    """Convert a label, :class:`PauliString`, :class:`PauliSum` or dict to a :class:`PauliSum`."""
    if isinstance(obj, PauliSum):
        return obj
    if isinstance(obj, str | PauliString | Mapping):
        return PauliSum(obj)
    raise TypeError(
        "expected a Pauli label, PauliString, PauliSum or dict label -> coefficient, "
        f"got {type(obj).__name__}"
    )
