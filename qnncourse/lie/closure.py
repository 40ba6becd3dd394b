"""The two exact closures (Pauli strings; sums of Pauli strings) and the algebra they span.

See :mod:`qnncourse.lie` for the algorithms and why they are exact.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph

from qnncourse._validation import check_memory
from qnncourse.lie.generators import parse_generators
from qnncourse.paulis import (
    PackedTerm,
    PauliString,
    PauliSum,
    as_pauli_sum,
    pack,
    packed_bracket,
    packed_sum_bracket,
    packed_terms,
    unpack,
)

__all__ = ["Ideal", "LieAlgebra", "closure", "dimension", "operator_traces"]

# A Lie-algebra element while the closure runs: Pauli key -> exact real coefficient.
_Vector = dict[int, Fraction]


def _pauli_closure(keys: list[int], n: int) -> tuple[list[int], int]:
    """BFS closure of Pauli strings (coefficients are irrelevant: the span is of the strings).

    Returns the basis keys, the distinct generators first, and the number of those.
    """
    gens = list(dict.fromkeys(keys))
    seen = set(gens)
    basis = list(gens)
    frontier = list(gens)
    while frontier:
        new = []
        for a in frontier:
            for g in gens:
                c, s = packed_bracket(g, a, n)
                if s and c not in seen:
                    seen.add(c)
                    new.append(c)
        basis.extend(new)
        frontier = new
    return basis, len(gens)


def _primitive(v: dict[int, int]) -> dict[int, int]:
    """``v`` divided by the gcd of its (integer) coefficients, first coefficient positive."""
    gcd = math.gcd(*v.values())
    if v[min(v)] < 0:
        gcd = -gcd
    return {k: c // gcd for k, c in v.items()} if gcd != 1 else v


def _integer_vector(v: _Vector) -> dict[int, int]:
    """The rational vector ``v`` scaled to coprime integers (same line, so same span)."""
    lcm = math.lcm(*(c.denominator for c in v.values()))
    if lcm == 1:
        return _primitive({k: c.numerator for k, c in v.items()})
    return _primitive({k: c.numerator * (lcm // c.denominator) for k, c in v.items()})


@dataclass
class _Echelon:
    """Exact row echelon form over the integers (fraction-free elimination).

    Rows are primitive integer vectors keyed by Pauli string, each with a positive pivot at its
    smallest key; a vector is reduced by cross-multiplication,
    :math:`v \\leftarrow (r_p/g)\\,v - (v_p/g)\\,r` with :math:`g = \\gcd(r_p, v_p)`, which
    never leaves the integers and spans the same rational space as the rational echelon form
    (Bareiss-style, doi:10.1090/S0025-5718-1968-0226829-0). Integer arithmetic is what makes it
    fast: no fraction normalisation per operation.
    """

    rows: dict[int, dict[int, int]] = field(default_factory=dict)  # pivot key -> row
    order: dict[int, int] = field(default_factory=dict)  # pivot key -> insertion index

    def reduce(self, v: dict[int, int]) -> dict[int, int]:
        """Return the (primitive) remainder of ``v`` after elimination; empty iff ``v`` is in
        the span."""
        rows, order = self.rows, self.order
        # Eliminate pivots in insertion order: row p has zeros at every earlier pivot, so a
        # subtraction never brings back a pivot already eliminated.
        heap = [(order[k], k) for k in v if k in rows]
        if not heap:
            return _primitive(v)
        v = dict(v)
        heapq.heapify(heap)
        while heap:
            _, p = heapq.heappop(heap)
            coeff = v.get(p)
            if not coeff:
                continue
            row = rows[p]
            pivot = row[p]
            if pivot != 1:
                g = math.gcd(pivot, coeff)
                scale, coeff = pivot // g, coeff // g
                if scale != 1:
                    v = {k: c * scale for k, c in v.items()}
            for k, c in row.items():
                new = v.get(k, 0) - coeff * c
                if new:
                    if k not in v and k in rows:
                        heapq.heappush(heap, (order[k], k))
                    v[k] = new
                else:
                    v.pop(k, None)
        return _primitive(v) if v else v

    def add(self, remainder: dict[int, int]) -> None:
        pivot = min(remainder)
        self.order[pivot] = len(self.order)
        self.rows[pivot] = remainder  # primitive, positive at the pivot (see _primitive)


def _sum_closure(gens: list[_Vector], n: int) -> tuple[list[_Vector], list[dict[int, int]]]:
    """Exact BFS closure of Pauli sums; returns the independent generators and the rest of
    the basis (integer vectors).

    Everything runs on integer vectors: each generator is scaled to coprime integers (the
    algebra only depends on the lines they span), brackets of integer sums stay integer, and
    the independence test is fraction-free elimination (:class:`_Echelon`).
    """
    echelon = _Echelon()
    kept: list[_Vector] = []
    independent: list[list[PackedTerm]] = []
    for g in gens:
        ints = _integer_vector(g)
        rem = echelon.reduce(ints)
        if rem:
            echelon.add(rem)
            kept.append(g)
            independent.append(packed_terms(ints, n))
    # First round: the generators with each other, each pair once ([A, B] = -[B, A]).
    new = _new_elements(((g, a) for j, a in enumerate(independent) for g in independent[:j]),
                        echelon, n)
    brackets: list[dict[int, int]] = []
    while new:
        brackets.extend(new)
        frontier = [packed_terms(v, n) for v in new]
        new = _new_elements(((g, a) for a in frontier for g in independent), echelon, n)
    return kept, brackets


def _new_elements(pairs, echelon: _Echelon, n: int) -> list[dict[int, int]]:
    """Bracket each pair ``(g, a)``; keep (and add to ``echelon``) what is not yet spanned."""
    new = []
    for g, a in pairs:
        c = packed_sum_bracket(g, a, n)
        if c:
            rem = echelon.reduce(c)
            if rem:
                echelon.add(rem)
                # The remainder, not the bracket itself, joins the basis: same span (it
                # differs by elements already in the basis, whose brackets are taken too) and
                # usually far fewer terms to bracket next round.
                new.append(rem)
    return new


# --------------------------------------------------------------------------------------------
# Subspaces of Hermitian operators with an orthonormal basis
# --------------------------------------------------------------------------------------------


def operator_traces(operator, labels: tuple[str, ...], n: int) -> np.ndarray:
    """:math:`\\mathrm{Tr}(P_a H)` for every label ``a``, validating ``operator`` first."""
    if isinstance(operator, str | PauliString | PauliSum | dict):
        h = as_pauli_sum(operator)
        if h.n_qubits != n:
            raise ValueError(f"operator acts on {h.n_qubits} qubits, the algebra on {n}")
        if not h.is_hermitian():
            raise ValueError("operator is not Hermitian: purity is defined for Hermitian "
                             "operators")
        return np.array([2.0**n * complex(h.terms.get(label, 0)).real for label in labels])
    matrix = operator.full() if hasattr(operator, "full") else np.asarray(operator)
    if matrix.shape != (2**n, 2**n):
        raise ValueError(f"operator has shape {matrix.shape}, the algebra acts on {n} qubits "
                         f"({2**n} x {2**n})")
    if not np.allclose(matrix, matrix.conj().T, atol=1e-10):
        raise ValueError("operator is not Hermitian: purity is defined for Hermitian operators")
    # Tr(P M) without forming P: row j of P has one entry, at column j ^ x, equal to
    # (-i)^{#Y} (-1)^{|j & z|} (qubit 0 is the most significant bit).
    rows = np.arange(2**n)
    traces = np.empty(len(labels))
    for k, label in enumerate(labels):
        x = int("".join("1" if c in "XY" else "0" for c in label), 2)
        z = int("".join("1" if c in "YZ" else "0" for c in label), 2)
        signs = 1 - 2 * (np.bitwise_count(rows & z) & 1).astype(float)
        phase = (-1j) ** label.count("Y")
        traces[k] = (phase * np.dot(signs, matrix[rows ^ x, rows])).real
    return traces


@dataclass(frozen=True, eq=False)
class Ideal:
    """A subspace of Hermitian operators with a Hilbert–Schmidt-orthonormal basis.

    Used for the simple ideals and the centre of a :class:`Decomposition`.

    Attributes
    ----------
    n_qubits : int
    labels : tuple of str
        Pauli labels, the columns of :attr:`coefficients`.
    coefficients : scipy.sparse.csr_array
        Shape ``(dim, len(labels))``: row :math:`j` is :math:`B_j = \\sum_a c_{ja} P_a` with
        :math:`\\mathrm{Tr}(B_i B_j) = \\delta_{ij}`.
    """

    n_qubits: int
    labels: tuple[str, ...]
    coefficients: scipy.sparse.csr_array

    @property
    def dim(self) -> int:
        """Real dimension."""
        return self.coefficients.shape[0]

    @property
    def basis(self) -> list[PauliSum]:
        """The HS-orthonormal Hermitian basis :math:`B_j` as ``PauliSum`` objects."""
        rows = self.coefficients.tocsr()
        return [PauliSum({self.labels[a]: float(c) for a, c in
                          zip(rows.indices[rows.indptr[j]:rows.indptr[j + 1]],
                              rows.data[rows.indptr[j]:rows.indptr[j + 1]], strict=True)})
                for j in range(self.dim)]

    def purity(self, operator) -> float:
        """:math:`\\sum_j \\mathrm{Tr}(B_j H)^2`, see :func:`purity`."""
        traces = operator_traces(operator, self.labels, self.n_qubits)
        return float(np.sum((self.coefficients @ traces) ** 2))

    def __repr__(self) -> str:
        return f"Ideal(dim={self.dim}, n_qubits={self.n_qubits})"


@dataclass(frozen=True, eq=False)
class LieAlgebra:
    """A real Lie algebra of Hermitian operators on ``n_qubits`` qubits, with an exact basis.

    Attributes
    ----------
    n_qubits : int
        Number of qubits the operators act on.
    elements : tuple of dict
        The basis: element ``j`` is :math:`\\sum_a c_{ja} P_a` with ``elements[j] = {label: c}``
        and exact :class:`fractions.Fraction` coefficients. The generators that are linearly
        independent come first, then nested brackets scaled to coprime integers.
    n_generators : int
        How many of the first elements are the (independent) generators.
    is_pauli : bool
        True when every basis element is a single Pauli string (then the basis is already
        orthogonal in the Hilbert–Schmidt inner product).
    """

    n_qubits: int
    elements: tuple[dict[str, Fraction], ...]
    n_generators: int
    is_pauli: bool

    @property
    def dim(self) -> int:
        """Real dimension of the algebra."""
        return len(self.elements)

    @cached_property
    def labels(self) -> tuple[str, ...]:
        """The Pauli labels that occur in the basis, sorted: the columns of :attr:`coefficients`."""
        return tuple(sorted({label for e in self.elements for label in e}))

    @cached_property
    def coefficients(self) -> scipy.sparse.csr_array:
        """The basis as a sparse ``(dim, len(labels))`` float matrix over :attr:`labels`."""
        column = {label: j for j, label in enumerate(self.labels)}
        rows, cols, vals = [], [], []
        for i, e in enumerate(self.elements):
            for label, c in e.items():
                rows.append(i)
                cols.append(column[label])
                vals.append(float(c))
        return scipy.sparse.csr_array((vals, (rows, cols)), shape=(self.dim, len(self.labels)))

    @property
    def basis(self) -> list[PauliSum]:
        """The exact basis as :class:`~qnncourse.paulis.PauliSum` objects (float coefficients)."""
        return [PauliSum({label: float(c) for label, c in e.items()}) for e in self.elements]

    @cached_property
    def orthonormal(self) -> Ideal:
        """The algebra with a Hilbert–Schmidt-orthonormal Hermitian basis.

        Since :math:`\\operatorname{Tr}(P_a P_b) = 2^n \\delta_{ab}`, this is an orthonormal basis
        of the row space of :attr:`coefficients` scaled by :math:`2^{-n/2}`: the Pauli strings
        themselves when :attr:`is_pauli`, else a QR factorisation. The dimension is already
        known exactly, so the floating-point QR only orthogonalises, it decides no rank.
        """
        scale = 2.0 ** (-self.n_qubits / 2)
        if self.is_pauli:
            signs = self.coefficients.copy()
            signs.data = np.sign(signs.data) * scale
            return Ideal(self.n_qubits, self.labels, signs)
        check_memory(8 * self.dim * len(self.labels), f"the {self.dim}-dimensional basis")
        q, _ = np.linalg.qr(self.coefficients.toarray().T)
        return Ideal(self.n_qubits, self.labels, scipy.sparse.csr_array(scale * q[:, : self.dim].T))

    def __repr__(self) -> str:
        kind = "Pauli strings" if self.is_pauli else "Pauli sums"
        return f"LieAlgebra(dim={self.dim}, n_qubits={self.n_qubits}, basis of {kind})"


def closure(generators) -> LieAlgebra:
    """Basis of the dynamical Lie algebra generated by ``generators``.

    Parameters
    ----------
    generators : Circuit, str, PauliString, PauliSum, or a sequence of them
        Hermitian generators :math:`H_l`. A :class:`~qnncourse.circuit.Circuit` contributes
        one generator per parameter as ``circuit.generators()`` does (a parameter shared by
        several rotations, as in QAOA, gives their sum), but taken in the frame where the fixed
        gates are moved to the end, :math:`P \\to F^\\dagger P F`: without that, a CZ between
        two layers of single-qubit rotations would be invisible to the algebra. Encoding
        rotations count as generators too.

    Returns
    -------
    LieAlgebra
        The algebra :math:`\\mathfrak{g} = \\langle iH_1, \\dots, iH_L \\rangle_{\\mathrm{Lie}}`
        with an exact basis (see the module docstring for the algorithms).

    Raises
    ------
    ValueError
        If a generator is not a Pauli string or ``PauliSum``, is not Hermitian, or the
        generators act on different numbers of qubits.

    Examples
    --------
    The transverse-field Ising generators on an open chain of 3 qubits give
    :math:`\\mathfrak{so}(6)`, of dimension :math:`n(2n-1) = 15`:

    >>> closure(["XII", "IXI", "IIX", "ZZI", "IZZ"]).dim
    15
    """
    n, gens = parse_generators(generators)
    if all(len(g) == 1 for g in gens):
        keys = [pack(next(iter(g))) for g in gens]
        basis_keys, n_gens = _pauli_closure(keys, n)
        elements = tuple({unpack(k, n): Fraction(1)} for k in basis_keys)
        return LieAlgebra(n, elements, n_gens, is_pauli=True)
    vectors = [{pack(label): c for label, c in g.items()} for g in gens]
    kept, brackets = _sum_closure(vectors, n)
    elements = tuple([{unpack(k, n): c for k, c in sorted(v.items())} for v in kept]
                     + [{unpack(k, n): Fraction(c) for k, c in sorted(v.items())}
                        for v in brackets])
    return LieAlgebra(n, elements, len(kept), is_pauli=all(len(e) == 1 for e in elements))


def dimension(generators) -> int:
    """Real dimension of the dynamical Lie algebra of ``generators`` (see :func:`closure`)."""
    return closure(generators).dim
