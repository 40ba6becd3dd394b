"""Dynamical Lie algebras (DLAs) of parameterised circuits.

The DLA of a circuit whose gates are :math:`e^{-i\\theta_l H_l/2}` is the real Lie algebra

.. math::

    \\mathfrak{g} = \\langle iH_1, \\dots, iH_L\\rangle_{\\mathrm{Lie}}
    = \\operatorname{span}_{\\mathbb{R}}\\{iH_l,\\ [iH_j, iH_k],\\ [iH_j, [iH_k, iH_l]], \\dots\\},

(Larocca et al., *Nat. Comput. Sci.* 3, 542 (2023), doi:10.1038/s43588-023-00467-6). We store
its elements by their Hermitian parts :math:`H` (so the bracket is :math:`i[A, B]`) as real
combinations of Pauli strings.

Two exact algorithms, chosen automatically:

* **Pauli strings only.** The bracket of two Pauli strings is :math:`\\pm 2` times a Pauli string
  or zero, so the DLA is spanned by the Pauli strings reached and no linear algebra is needed.
  A Pauli string is stored as its binary symplectic form, the bit vectors :math:`(x, z)` packed
  into one Python integer; two strings anticommute iff the symplectic product
  :math:`x_a \\cdot z_b + z_a \\cdot x_b` is odd.
* **Sums of Pauli strings.** Elements are sparse vectors over Pauli labels with
  :class:`fractions.Fraction` coefficients, and linear independence is decided by exact row
  reduction over :math:`\\mathbb{Q}`. Floating-point Gram–Schmidt is known to give wrong
  dimensions here (PennyLane issues 6018, 6065). Float coefficients are read as the decimal
  number their ``repr`` shows (``0.1`` is :math:`1/10`), which is exact for every coefficient a
  person types.

Both run the breadth-first closure that brackets only *new* elements with the generators
(PennyLane issue 6414): the span :math:`W` it returns contains the generators and satisfies
:math:`[H_l, W] \\subseteq W`, so it contains every left-normed bracket
:math:`[H_{j_1}, [H_{j_2}, [\\dots, H_{j_k}]]]`, and those span the Lie algebra.

:func:`decompose` splits a DLA into its centre and simple ideals and :func:`purity` measures
how much of an observable lies in each: the quantities of the Lie-algebraic theory of barren
plateaus (Ragone et al. 2024; Fontana et al. 2024).
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property, lru_cache
from numbers import Rational

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph

from qnncourse._validation import as_rng, check_memory
from qnncourse.circuit import Circuit
from qnncourse.paulis import PauliString, PauliSum, as_pauli_sum

__all__ = [
    "Decomposition",
    "Ideal",
    "LieAlgebra",
    "closure",
    "decompose",
    "dimension",
    "purity",
]

_HERMITIAN_ATOL = 1e-12
_BITS = {"I": (0, 0), "X": (1, 0), "Z": (0, 1), "Y": (1, 1)}
_CHARS = {bits: char for char, bits in _BITS.items()}

# A Lie-algebra element while the closure runs: Pauli key -> exact real coefficient.
_Vector = dict[int, Fraction]


# --------------------------------------------------------------------------------------------
# Binary symplectic Pauli strings: key = x | (z << n), bit q of x (z) is the X (Z) part on qubit q.
# --------------------------------------------------------------------------------------------
def _label_to_key(label: str) -> int:
    n = len(label)
    x = z = 0
    for q, char in enumerate(label):
        xb, zb = _BITS[char]
        x |= xb << q
        z |= zb << q
    return x | (z << n)


def _key_to_label(key: int, n: int) -> str:
    mask = (1 << n) - 1
    x, z = key & mask, key >> n
    return "".join(_CHARS[((x >> q) & 1, (z >> q) & 1)] for q in range(n))


def _product(a: int, b: int, n: int) -> tuple[int, int]:
    """Return ``(key, e)`` with :math:`P_a P_b = i^{e} P_{key}`, ``e`` in ``0..3``.

    With :math:`P = i^{x \\cdot z} X^x Z^z` (so :math:`Y = iXZ`), :math:`c = a \\oplus b` and
    :math:`e = |x_a z_a| + |x_b z_b| - |x_c z_c| + 2 |z_a x_b| \\bmod 4` (moving
    :math:`Z^{z_a}` past :math:`X^{x_b}` costs :math:`(-1)^{|z_a x_b|}`). The strings commute
    iff ``e`` is even.
    """
    mask = (1 << n) - 1
    xa, za, xb, zb = a & mask, a >> n, b & mask, b >> n
    c = a ^ b
    xc, zc = c & mask, c >> n
    e = ((xa & za).bit_count() + (xb & zb).bit_count() - (xc & zc).bit_count()
         + 2 * (za & xb).bit_count()) % 4
    return c, e


def _anticommute(a: int, b: int, n: int) -> bool:
    mask = (1 << n) - 1
    return ((a & mask & (b >> n)).bit_count() + ((a >> n) & b & mask).bit_count()) % 2 == 1


def _bracket(a: int, b: int, n: int) -> tuple[int, int]:
    """Return ``(key, s)`` with :math:`i[P_a, P_b] = 2 s P_{key}` and ``s`` in ``{-1, 0, 1}``.

    Anticommuting strings have :math:`P_a P_b = i^e P_c` with ``e`` odd (see :func:`_product`),
    so :math:`i[P_a, P_b] = 2i\\,P_aP_b = 2 i^{e+1} P_c`.
    """
    if not _anticommute(a, b, n):
        return 0, 0
    c, e = _product(a, b, n)
    return c, (-1 if e == 1 else 1)


# --------------------------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------------------------
def _exact(value: float, where: str) -> Fraction:
    """The rational a coefficient denotes: exact for rationals, the ``repr`` decimal for floats."""
    if isinstance(value, Rational):
        return Fraction(value.numerator, value.denominator)
    if not math.isfinite(value):
        raise ValueError(f"{where} has a non-finite coefficient {value!r}")
    return Fraction(repr(float(value)))


def _conjugate(terms: dict[str, complex], op) -> dict[str, complex]:
    """:math:`G^\\dagger H G` for a fixed gate ``G`` of a circuit, term by term on its qubits."""
    out: dict[str, complex] = {}
    for label, coeff in terms.items():
        word = "".join(label[q] for q in op.qubits)
        for new_word, c in _conjugate_word(op.matrix.tobytes(), op.matrix.shape[0], word):
            chars = list(label)
            for q, char in zip(op.qubits, new_word, strict=True):
                chars[q] = char
            new = "".join(chars)
            out[new] = out.get(new, 0) + coeff * c
    return out


@lru_cache(maxsize=4096)
def _conjugate_word(matrix_bytes: bytes, dim: int, word: str) -> tuple[tuple[str, float], ...]:
    """Pauli expansion of :math:`M^\\dagger W M` for a local Pauli word ``W``."""
    m = np.frombuffer(matrix_bytes, dtype=complex).reshape(dim, dim)
    conj = m.conj().T @ PauliString(word).to_matrix() @ m
    out = []
    for letters in itertools.product("IXYZ", repeat=len(word)):
        local = "".join(letters)
        c = np.trace(PauliString(local).to_matrix() @ conj).real / dim
        # Fixed gates are float matrices: round so that exact Clifford images stay exact.
        c = round(c, 12)
        if c:
            out.append((local, c))
    return tuple(out)


def _circuit_generators(circuit: Circuit) -> list[dict[str, complex]]:
    """Generators of a circuit in the frame where every fixed gate is moved to the end.

    :math:`R_P(\\theta) F = F R_{F^\\dagger P F}(\\theta)`, so with :math:`F` the product of the
    fixed gates before a rotation, the circuit is a fixed unitary times rotations about
    :math:`F^\\dagger P F`, and the DLA is generated by those (for Clifford gates they are
    Pauli strings again). Rotations sharing a parameter add up; encoding rotations count as
    generators too (the family of unitaries as both :math:`\\theta` and :math:`x` vary).
    """
    ops = circuit.operations
    per_param: dict[tuple[str, int], dict[str, complex]] = {}
    for t, op in enumerate(ops):
        if op.kind == "fixed":
            continue
        terms = {op.generator(circuit.n_qubits).label: 1.0}
        for fixed in reversed([o for o in ops[:t] if o.kind == "fixed"]):
            terms = _conjugate(terms, fixed)
        # As circuit.generators(): rotations that share a parameter (commuting, as in QAOA)
        # contribute their sum.
        key = (op.kind, op.param_index if op.kind == "rotation" else t)
        total = per_param.setdefault(key, {})
        for label, c in terms.items():
            total[label] = total.get(label, 0) + c
    return list(per_param.values())


def _as_generator_list(generators) -> list:
    if isinstance(generators, Circuit):
        if generators.n_params + generators.n_features == 0:
            raise ValueError("the circuit has no trainable parameters, so it has no generators")
        return _circuit_generators(generators)
    if isinstance(generators, (str, PauliString, PauliSum, dict)):
        return [generators]
    if not isinstance(generators, Iterable):
        raise ValueError("generators must be a Circuit, a Pauli string or PauliSum, or a "
                         f"sequence of them; got {type(generators).__name__}")
    gens = list(generators)
    if not gens:
        raise ValueError("generators is empty: give at least one Pauli string or PauliSum")
    return gens


def _generator_terms(gen, i: int) -> tuple[int, dict[str, Fraction]]:
    """Validate one generator; return its qubit count and exact Hermitian Pauli expansion."""
    where = f"generator {i}"
    if isinstance(gen, str):
        raw, n = {gen: 1}, len(gen)
    elif isinstance(gen, PauliString):
        raw, n = {gen.label: gen.coeff}, gen.n_qubits
    elif isinstance(gen, PauliSum):
        raw, n = dict(gen.terms), gen.n_qubits
    elif isinstance(gen, dict) and gen:
        raw, n = dict(gen), len(next(iter(gen)))
    else:
        raise ValueError(f"{where} is not a Pauli string or PauliSum: got {type(gen).__name__} "
                         "(write a matrix as a PauliSum first)")
    terms: dict[str, Fraction] = {}
    for label, coeff in raw.items():
        if not isinstance(label, str) or not label or set(label) - set("IXYZ"):
            raise ValueError(f"{where} has the label {label!r}; a Pauli label is a non-empty "
                             "string over I, X, Y, Z")
        if len(label) != n:
            raise ValueError(f"{where} mixes labels on {len(label)} and {n} qubits")
        c = complex(coeff)
        if abs(c.imag) > _HERMITIAN_ATOL * max(1.0, abs(c.real)):
            raise ValueError(f"{where} is not Hermitian: the coefficient of {label!r} is {coeff!r}"
                             "; a Hermitian Pauli sum has real coefficients")
        value = coeff.real if isinstance(coeff, complex) else coeff
        if isinstance(value, np.generic):
            value = value.item()
        exact = _exact(value, where)
        if exact:
            terms[label] = exact
    return n, terms


def _parse(generators) -> tuple[int, list[dict[str, Fraction]]]:
    """Qubit count and the non-zero generators, validated (see :func:`closure`)."""
    parsed = [_generator_terms(g, i) for i, g in enumerate(_as_generator_list(generators))]
    n_qubits = parsed[0][0]
    for i, (n, _) in enumerate(parsed):
        if n != n_qubits:
            raise ValueError(f"generator {i} acts on {n} qubits, generator 0 on {n_qubits}; "
                             "all generators need the same number of qubits")
    return n_qubits, [terms for _, terms in parsed if terms]


# --------------------------------------------------------------------------------------------
# The two closures
# --------------------------------------------------------------------------------------------
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
                c, s = _bracket(g, a, n)
                if s and c not in seen:
                    seen.add(c)
                    new.append(c)
        basis.extend(new)
        frontier = new
    return basis, len(gens)


def _vector_bracket(a: dict[int, int], b: dict[int, int], n: int,
                    table: dict[tuple[int, int], tuple[int, int]]) -> dict[int, int]:
    """Half the bracket, :math:`\\tfrac{i}{2}[A, B]`, of two Hermitian Pauli sums with integer
    coefficients (an integer Pauli sum again). ``table`` memoises string brackets: the same
    pairs of strings recur in many elements of a closure. Large products of sums go to
    :func:`_array_bracket`."""
    if len(a) * len(b) >= _ARRAY_BRACKET_PAIRS and n <= 31:
        result = _array_bracket(a, b, n)
        if result is not None:
            return result
    out: dict[int, int] = {}
    get = out.get
    mask = (1 << n) - 1
    for ka, ca in a.items():
        xa, za = ka & mask, ka >> n
        for kb, cb in b.items():
            # commuting strings have a zero bracket: skip them before any lookup
            if ((xa & (kb >> n)).bit_count() + (za & kb & mask).bit_count()) & 1 == 0:
                continue
            pair = (ka, kb)
            found = table.get(pair)
            if found is None:
                found = table[pair] = _bracket(ka, kb, n)
            c, s = found
            if s:
                out[c] = get(c, 0) + s * ca * cb
    return {k: v for k, v in out.items() if v}


# Products of sums with at least this many pairs of strings are bracketed with numpy.
_ARRAY_BRACKET_PAIRS = 256


def _array_bracket(a: dict[int, int], b: dict[int, int], n: int) -> dict[int, int] | None:
    """:func:`_vector_bracket` on all pairs at once with int64 numpy arrays (keys need
    ``2n <= 62`` bits), or ``None`` if the coefficients could overflow int64 (then the
    Python-integer loop, which cannot, is used). Same sign rule as :func:`_bracket`."""
    ca = np.fromiter(a.values(), dtype=object, count=len(a))
    cb = np.fromiter(b.values(), dtype=object, count=len(b))
    bound = int(np.max(np.abs(ca))) * int(np.max(np.abs(cb))) * len(a) * len(b)
    if bound >= 2**62:
        return None
    mask = (1 << n) - 1
    ka = np.fromiter(a.keys(), dtype=np.int64, count=len(a))[:, None]
    kb = np.fromiter(b.keys(), dtype=np.int64, count=len(b))[None, :]
    xa, za, xb, zb = ka & mask, ka >> n, kb & mask, kb >> n
    count = np.bitwise_count
    anti = ((count(xa & zb) + count(za & xb)) & 1).astype(bool)
    keys = (ka ^ kb)[anti]
    xc, zc = keys & mask, keys >> n
    e = (np.broadcast_to(count(xa & za), anti.shape)[anti]
         + np.broadcast_to(count(xb & zb), anti.shape)[anti] - count(xc & zc)
         + 2 * np.broadcast_to(count(za & xb), anti.shape)[anti]) % 4
    coeffs = (ca.astype(np.int64)[:, None] * cb.astype(np.int64)[None, :])[anti]
    coeffs = np.where(e == 1, -coeffs, coeffs)
    if keys.size == 0:
        return {}
    order = np.argsort(keys, kind="stable")
    keys, coeffs = keys[order], coeffs[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    sums = np.add.reduceat(coeffs, starts)
    keep = sums != 0
    return dict(zip(keys[starts][keep].tolist(), sums[keep].tolist(), strict=True))


def _primitive(v: dict[int, int]) -> dict[int, int]:
    """``v`` divided by the gcd of its (integer) coefficients, first coefficient positive."""
    gcd = math.gcd(*v.values())
    if v[min(v)] < 0:
        gcd = -gcd
    return {k: c // gcd for k, c in v.items()} if gcd != 1 else v


def _integer_vector(v: _Vector) -> dict[int, int]:
    """The rational vector ``v`` scaled to coprime integers (same line, so same span)."""
    lcm = math.lcm(*(c.denominator for c in v.values()))
    return _primitive({k: int(c * lcm) for k, c in v.items()})


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
        v = dict(v)
        # Eliminate pivots in insertion order: row p has zeros at every earlier pivot, so a
        # subtraction never brings back a pivot already eliminated.
        heap = [(self.order[k], k) for k in v if k in self.rows]
        heapq.heapify(heap)
        rows, order = self.rows, self.order
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


def _sum_closure(gens: list[_Vector], n: int) -> tuple[list[_Vector], int]:
    """Exact BFS closure of Pauli sums; returns the basis (independent generators first) and
    the number of independent generators.

    Everything runs on integer vectors: each generator is scaled to coprime integers (the
    algebra only depends on the lines they span), brackets of integer sums stay integer, and
    the independence test is fraction-free elimination (:class:`_Echelon`).
    """
    echelon = _Echelon()
    basis: list[_Vector] = []
    independent_gens: list[dict[int, int]] = []
    frontier: list[dict[int, int]] = []
    table: dict[tuple[int, int], tuple[int, int]] = {}
    for g in gens:
        ints = _integer_vector(g)
        rem = echelon.reduce(ints)
        if rem:
            echelon.add(rem)
            basis.append(g)
            independent_gens.append(ints)
            frontier.append(ints)
    while frontier:
        new = []
        for a in frontier:
            for g in independent_gens:
                c = _vector_bracket(g, a, n, table)
                if c:
                    rem = echelon.reduce(c)
                    if rem:
                        echelon.add(rem)
                        # The remainder, not the bracket itself, joins the basis: same span
                        # (it differs by elements already in the basis, whose brackets are
                        # taken too) and usually far fewer terms to bracket next round.
                        new.append(rem)
        basis.extend({k: Fraction(c) for k, c in v.items()} for v in new)
        frontier = new
    return basis, len(independent_gens)


# --------------------------------------------------------------------------------------------
# Subspaces of Hermitian operators with an orthonormal basis
# --------------------------------------------------------------------------------------------
def _operator_traces(operator, labels: tuple[str, ...], n: int) -> np.ndarray:
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
        traces = _operator_traces(operator, self.labels, self.n_qubits)
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
    n, gens = _parse(generators)
    if all(len(g) == 1 for g in gens):
        keys = [_label_to_key(next(iter(g))) for g in gens]
        basis_keys, n_gens = _pauli_closure(keys, n)
        elements = tuple({_key_to_label(k, n): Fraction(1)} for k in basis_keys)
        return LieAlgebra(n, elements, n_gens, is_pauli=True)
    vectors = [{_label_to_key(label): c for label, c in g.items()} for g in gens]
    basis, n_gens = _sum_closure(vectors, n)
    elements = tuple({_key_to_label(k, n): c for k, c in sorted(v.items())} for v in basis)
    return LieAlgebra(n, elements, n_gens, is_pauli=all(len(e) == 1 for e in elements))


def dimension(generators) -> int:
    """Real dimension of the dynamical Lie algebra of ``generators`` (see :func:`closure`)."""
    return closure(generators).dim


# --------------------------------------------------------------------------------------------
# Decomposition into centre and simple ideals
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Decomposition:
    """:math:`\\mathfrak{g} = \\mathfrak{z} \\oplus \\mathfrak{g}_1 \\oplus \\dots \\oplus
    \\mathfrak{g}_k`: the centre and the simple ideals of a DLA (largest first).

    A DLA is the Lie algebra of a compact group, hence reductive: the direct sum of its centre
    and of simple ideals, orthogonal in the Hilbert–Schmidt inner product.
    """

    algebra: LieAlgebra
    centre: Ideal
    simple: tuple[Ideal, ...]

    @property
    def dims(self) -> tuple[int, ...]:
        """Dimensions of the simple ideals."""
        return tuple(i.dim for i in self.simple)

    def __repr__(self) -> str:
        return (f"Decomposition(dim={self.algebra.dim}: centre {self.centre.dim}, simple ideals "
                f"of dimensions {self.dims})")


def _rows_ideal(n: int, labels: tuple[str, ...], rows: list[dict[str, float]]) -> Ideal:
    column = {label: j for j, label in enumerate(labels)}
    r, c, v = [], [], []
    for i, row in enumerate(rows):
        for label, value in row.items():
            r.append(i)
            c.append(column[label])
            v.append(value)
    return Ideal(n, labels, scipy.sparse.csr_array((v, (r, c)), shape=(len(rows), len(labels))))


def _split_pauli_component(component: list[int], gens: list[int], n: int,
                           ) -> list[list[dict[int, float]]]:
    """Split a connected component of a Pauli algebra into its simple ideals (exact).

    Let :math:`P` be a string of the component :math:`\\mathfrak{h}`. A map :math:`C` that
    commutes with :math:`\\mathrm{ad}(\\mathfrak{h})` is fixed by :math:`w = CP` (``P``
    generates the ideal), and :math:`w` must be annihilated by whatever annihilates ``P``: it
    lies in the span of the *twins* :math:`R` of :math:`P`, the strings with the same
    commutation relations with :math:`\\mathfrak{h}`. Conversely each twin gives one:
    :math:`U = PR` commutes with :math:`\\mathfrak{h}`, so :math:`X \\mapsto UX` does. The
    commutant is therefore spanned by the :math:`k` products :math:`U`, a group
    :math:`\\cong \\mathbb{Z}_2^m` of commuting symmetries, and (the adjoint representation of
    a compact simple algebra being absolutely irreducible) its :math:`k = 2^m` joint
    eigenspaces are the simple ideals. For the two-qubit Ising chain
    :math:`U = XX` and the ideals are spanned by :math:`X_0 \\pm X_1, \\dots`.
    """
    scale = 2.0 ** (-n / 2)
    p = component[0]
    twins = [r for r in component if not any(_anticommute(p ^ r, g, n) for g in gens)]
    if len(twins) == 1:
        return [[{key: scale} for key in component]]
    independent: list[int] = []
    span = {0}
    for u in (p ^ r for r in twins):
        if u not in span:
            independent.append(u)
            span |= {s ^ u for s in span}
    k = 2 ** len(independent)
    if k != len(twins):
        raise RuntimeError(f"internal error: {len(twins)} twins do not form a group")
    # The operators U_c = prod_i U_i^{c_i} with their phases i^e.
    group = []
    for c in range(k):
        key, e = 0, 0
        for i, u in enumerate(independent):
            if (c >> i) & 1:
                key, de = _product(key, u, n)
                e += de
        group.append((key, e))
    ideals: list[list[dict[int, float]]] = [[] for _ in range(k)]
    assigned: set[int] = set()
    norm = scale / math.sqrt(k)
    for q in component:
        if q in assigned:
            continue
        orbit = []
        for key, e in group:
            image, de = _product(key, q, n)
            # U_c Q is Hermitian (U_c commutes with Q), so the phase is real: +-1.
            orbit.append((image, 1 - ((e + de) % 4)))
            assigned.add(image)
        for chi in range(k):
            ideals[chi].append({image: norm * sign * (-1) ** (chi & c).bit_count()
                                for c, (image, sign) in enumerate(orbit)})
    return ideals


def _pauli_decomposition(algebra: LieAlgebra) -> tuple[Ideal, list[Ideal]]:
    """Centre and simple ideals of an algebra spanned by Pauli strings, exactly.

    The centre is spanned by the strings that commute with every generator (the bracket with
    a string maps distinct strings to distinct strings, so no combination of
    non-commuting strings can be central). The remaining strings fall into the connected
    components of bracketing with the generators; each spans an ideal (a string reached from
    ``P`` anticommutes with its predecessor, and strings of different components commute), which
    :func:`_split_pauli_component` splits into simple ideals.
    """
    n = algebra.n_qubits
    keys = [_label_to_key(next(iter(e))) for e in algebra.elements]
    gens = keys[: algebra.n_generators]
    central = [k for k in keys if not any(_anticommute(k, g, n) for g in gens)]
    seen = set(central)
    scale = 2.0 ** (-n / 2)
    labels = algebra.labels
    def to_rows(vectors: list[dict[int, float]]) -> list[dict[str, float]]:
        return [{_key_to_label(k, n): c for k, c in v.items()} for v in vectors]

    simple = []
    for start in keys:
        if start in seen:
            continue
        seen.add(start)
        component, frontier = [start], [start]
        while frontier:
            new = []
            for a in frontier:
                for g in gens:
                    if _anticommute(a, g, n) and (a ^ g) not in seen:
                        seen.add(a ^ g)
                        new.append(a ^ g)
            component.extend(new)
            frontier = new
        members = set(component)
        inside = [g for g in gens if g in members]
        for vectors in _split_pauli_component(component, inside, n):
            simple.append(_rows_ideal(n, labels, to_rows(vectors)))
    centre = _rows_ideal(n, labels, to_rows([{k: scale} for k in central]))
    return centre, simple


def _structure(labels: tuple[str, ...], n: int) -> tuple[np.ndarray, ...]:
    """All pairs of labels whose bracket lands on a label: ``(a, b, c, s)`` with
    :math:`i[P_a, P_b] = 2 s P_c`, vectorised over the pairs."""
    m = len(labels)
    if n > 64:
        raise ValueError(f"decompose() splits algebras of Pauli sums on at most 64 qubits, this "
                         f"one acts on {n}")
    check_memory(8 * 8 * m * m, f"the structure constants of {m} Pauli labels")
    keys = [_label_to_key(label) for label in labels]
    mask = (1 << n) - 1
    x = np.array([k & mask for k in keys], dtype=np.uint64)
    z = np.array([k >> n for k in keys], dtype=np.uint64)
    xa, za, xb, zb = x[:, None], z[:, None], x[None, :], z[None, :]
    anti = (np.bitwise_count(xa & zb) + np.bitwise_count(za & xb)) % 2 == 1
    a, b = np.nonzero(anti)
    xc, zc = x[a] ^ x[b], z[a] ^ z[b]
    e = (np.bitwise_count(x[a] & z[a]).astype(int) + np.bitwise_count(x[b] & z[b])
         - np.bitwise_count(xc & zc) + 2 * np.bitwise_count(z[a] & x[b])) % 4
    ckey = xc.astype(object) | (zc.astype(object) << n)
    index = {k: i for i, k in enumerate(keys)}
    c = np.array([index.get(int(k), -1) for k in ckey], dtype=int)
    keep = c >= 0
    return a[keep], b[keep], c[keep], np.where(e[keep] == 1, -1.0, 1.0)


def _general_decomposition(algebra: LieAlgebra, rng: np.random.Generator,
                           tol: float = 1e-8) -> tuple[Ideal, list[Ideal]]:
    """Centre and simple ideals of any DLA, from its root system (floating point, verified).

    In an HS-orthonormal basis every :math:`\\mathrm{ad}(X)` is a real antisymmetric matrix.
    The centre is the common kernel of the generators' :math:`\\mathrm{ad}`, the semisimple
    part :math:`\\mathfrak{s}` its orthogonal complement. For a random :math:`X \\in
    \\mathfrak{s}` the kernel of :math:`\\mathrm{ad}(X)` is a Cartan subalgebra
    :math:`\\mathfrak{t}`, the other eigenvectors of :math:`i\\,\\mathrm{ad}(X)` are root vectors,
    and :math:`\\alpha(H) = v^\\dagger i\\,\\mathrm{ad}(H) v` gives each root on
    :math:`\\mathfrak{t}`. Roots of different simple ideals are orthogonal and the roots of one
    simple ideal are connected by non-orthogonality (its Dynkin diagram is connected), so the
    connected components of the root graph are the simple ideals. Each ideal found is checked
    to be invariant under every generator; a failed check (an unlucky :math:`X`) retries.
    """
    n = algebra.n_qubits
    labels = algebra.labels
    unit = algebra.orthonormal.coefficients.toarray() * 2.0 ** (n / 2)  # rows orthonormal
    a, b, c, s = _structure(labels, n)
    factor = 2.0 ** (1 - n / 2)

    def ad(y: np.ndarray) -> np.ndarray:
        """ad of the element with normalised label coordinates ``y``, in the algebra basis."""
        m = np.zeros((len(labels), len(labels)))
        np.add.at(m, (c, b), factor * s * y[a])
        return unit @ m @ unit.T

    gens = algebra.coefficients.toarray()[: algebra.n_generators]
    gen_ads = [ad(g) for g in gens]
    # The common kernel of the ad(g) is the kernel of sum_g ad(g)^T ad(g) (PSD); its
    # eigenvalues are squared singular values, hence the squared tolerance.
    lam, vecs = np.linalg.eigh(sum(g.T @ g for g in gen_ads))
    top = lam.max(initial=0.0)
    zero = lam <= (tol**2) * top if top > 0 else np.ones(lam.size, dtype=bool)
    rank = int(np.sum(~zero))
    semi, centre = vecs[:, ~zero], vecs[:, zero]  # columns: algebra coordinates

    def to_rows(cols: np.ndarray) -> list[dict[str, float]]:
        """Columns in algebra coordinates -> HS-orthonormal rows over the Pauli labels."""
        return [{labels[j]: v * 2.0 ** (-n / 2) for j, v in enumerate(unit.T @ col)
                 if abs(v) > 1e-14} for col in cols.T]

    centre_ideal = _rows_ideal(n, labels, to_rows(centre))
    if rank == 0:
        return centre_ideal, []
    for _ in range(5):
        x = semi @ rng.normal(size=rank)
        bx = semi.T @ ad(unit.T @ x) @ semi
        w, v = np.linalg.eigh(1j * bx)
        scale = np.abs(w).max()
        cartan = v[:, np.abs(w) <= tol * scale]
        # ad(X) is real, so its kernel has a real orthonormal basis.
        cartan = np.linalg.svd(np.hstack([cartan.real, cartan.imag]), full_matrices=False)[0]
        cartan = cartan[:, : int(np.sum(np.abs(w) <= tol * scale))]
        roots_v = v[:, w > tol * scale]
        h_ads = [semi.T @ ad(unit.T @ (semi @ h)) @ semi for h in cartan.T]
        # alpha(H_j) = v^dagger (i ad(H_j)) v for every root vector v (a column of roots_v).
        alpha = np.array([np.real(1j * np.sum(roots_v.conj() * (h @ roots_v), axis=0))
                          for h in h_ads]).T.reshape(roots_v.shape[1], len(h_ads))
        norms = np.linalg.norm(alpha, axis=1)
        link = np.abs(alpha @ alpha.T) > tol * np.outer(norms, norms)
        n_comp, comp = scipy.sparse.csgraph.connected_components(link, directed=False)
        spaces = []
        for i in range(n_comp):
            r = roots_v[:, comp == i]
            h = cartan @ alpha[comp == i].T
            space = np.hstack([r.real, r.imag, h])
            u, sv, _ = np.linalg.svd(space, full_matrices=False)
            dim = 2 * r.shape[1] + np.linalg.matrix_rank(alpha[comp == i], tol=tol * norms.max())
            spaces.append(semi @ u[:, :dim])
        # An ideal is invariant: ad(g) maps its span into itself, for every generator g.
        if sum(sp.shape[1] for sp in spaces) == rank and all(
                np.linalg.norm(g @ sp - sp @ (sp.T @ g @ sp)) <= 1e-6 * max(1.0, np.abs(g).max())
                for sp in spaces for g in gen_ads):
            return centre_ideal, [_rows_ideal(n, labels, to_rows(sp)) for sp in spaces]
    raise RuntimeError("could not split the semisimple part into invariant ideals after 5 "
                       "random Cartan elements; please report the generators")


def decompose(generators, *, rng=None) -> Decomposition:
    """Split a dynamical Lie algebra into its centre and simple ideals.

    .. math::

        \\mathfrak{g} = \\mathfrak{z}(\\mathfrak{g}) \\oplus \\mathfrak{g}_1 \\oplus \\dots
        \\oplus \\mathfrak{g}_k,

    each part with a Hilbert–Schmidt-orthonormal Hermitian basis. This is the structure behind
    the Lie-algebraic theory of barren plateaus (Ragone et al., *Nat. Commun.* 15, 7172 (2024),
    doi:10.1038/s41467-024-49909-3; Fontana et al., same issue, 7171): the variance of a cost
    is a sum over the simple ideals of purities (:func:`purity`) divided by dimensions.

    Parameters
    ----------
    generators : LieAlgebra or anything :func:`closure` accepts
    rng : numpy.random.Generator or int, optional
        Only used for algebras that are not spanned by Pauli strings, to draw the Cartan
        element of the root-system split; the ideals do not depend on it (their bases may).

    Returns
    -------
    Decomposition

    Notes
    -----
    Algebras spanned by Pauli strings are split exactly and fast (see
    :func:`_pauli_decomposition`): :math:`\\mathfrak{so}(24)` (dimension 276) and
    :math:`\\mathfrak{su}(2^6)` (dimension 4095) take well under a second. Other algebras use
    the root system of a random Cartan subalgebra in floating point
    (:func:`_general_decomposition`), with every ideal checked to be invariant.

    Examples
    --------
    The Ising chain on two qubits gives :math:`\\mathfrak{so}(4) \\cong \\mathfrak{su}(2)
    \\oplus \\mathfrak{su}(2)`, whose ideals are not spanned by Pauli strings:

    >>> d = decompose(["XI", "IX", "ZZ"])
    >>> d.centre.dim, d.dims
    (0, (3, 3))
    >>> sorted(d.simple[0].basis[0].terms)
    ['IX', 'XI']
    """
    algebra = generators if isinstance(generators, LieAlgebra) else closure(generators)
    if algebra.is_pauli:
        centre, simple = _pauli_decomposition(algebra)
    else:
        centre, simple = _general_decomposition(algebra, as_rng(rng))
    simple.sort(key=lambda ideal: -ideal.dim)
    return Decomposition(algebra, centre, tuple(simple))


def purity(operator, space) -> float:
    """The :math:`\\mathfrak{h}`-purity of a Hermitian operator, :math:`\\sum_j
    \\mathrm{Tr}(B_j H)^2`.

    With :math:`\\{B_j\\}` an HS-orthonormal Hermitian basis of :math:`\\mathfrak{h}` this is
    :math:`\\mathrm{Tr}(H_{\\mathfrak{h}}^2)`, the squared norm of the orthogonal projection of
    :math:`H` onto :math:`\\mathfrak{h}` (Ragone et al. 2024, Eq. 6). It is basis-independent,
    adds up over the orthogonal parts of a :class:`Decomposition`, and equals
    :math:`\\mathrm{Tr}(H^2)` when :math:`H \\in \\mathfrak{h}`.

    Parameters
    ----------
    operator : Pauli label, PauliString, PauliSum, dict, ndarray or Qobj
        Hermitian :math:`H` on the algebra's qubits.
    space : Ideal or LieAlgebra
        A simple ideal, the centre, or a whole algebra.
    """
    if isinstance(space, LieAlgebra):
        space = space.orthonormal
    if not isinstance(space, Ideal):
        raise ValueError(f"space must be an Ideal or a LieAlgebra, got {type(space).__name__}")
    return space.purity(operator)
