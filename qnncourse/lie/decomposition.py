"""A dynamical Lie algebra split into its centre and simple ideals, and the g-purity.

These are the quantities of the Lie-algebraic theory of barren plateaus (Ragone et al. 2024,
doi:10.1038/s41467-024-49909-3; Fontana et al. 2024, doi:10.1038/s41467-024-49910-w).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph

from qnncourse._validation import as_rng, check_memory
from qnncourse.lie.closure import Ideal, LieAlgebra, closure
from qnncourse.paulis import (
    anticommuting,
    bracket_signs,
    labels_to_bits,
    pack,
    packed_anticommute,
    packed_product,
    unpack,
)

__all__ = ["Decomposition", "decompose", "purity"]


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
    twins = [r for r in component if not any(packed_anticommute(p ^ r, g, n) for g in gens)]
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
                key, de = packed_product(key, u, n)
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
            image, de = packed_product(key, q, n)
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
    keys = [pack(next(iter(e))) for e in algebra.elements]
    gens = keys[: algebra.n_generators]
    central = [k for k in keys if not any(packed_anticommute(k, g, n) for g in gens)]
    seen = set(central)
    scale = 2.0 ** (-n / 2)
    labels = algebra.labels
    def to_rows(vectors: list[dict[int, float]]) -> list[dict[str, float]]:
        return [{unpack(k, n): c for k, c in v.items()} for v in vectors]

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
                    if packed_anticommute(a, g, n) and (a ^ g) not in seen:
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
    x, z = labels_to_bits(labels, n)
    a, b = np.nonzero(anticommuting(x[:, None], z[:, None], x[None, :], z[None, :]))
    xc, zc = x[a, 0] ^ x[b, 0], z[a, 0] ^ z[b, 0]
    sign = bracket_signs(x[a], z[a], x[b], z[b])
    index = {(int(kx), int(kz)): i for i, (kx, kz) in enumerate(zip(x[:, 0], z[:, 0],
                                                                     strict=True))}
    c = np.array([index.get((int(kx), int(kz)), -1) for kx, kz in zip(xc, zc, strict=True)],
                 dtype=int)
    keep = c >= 0
    return a[keep], b[keep], c[keep], sign[keep]


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
    # The common kernel of the ad(g): the right singular vectors of the stacked matrices
    # with zero singular value. (Not the eigenvalues of sum_g ad(g)^T ad(g): they are squared
    # singular values, and a zero one comes out near eps * top, far above tol**2 * top.)
    _, sv, vt = np.linalg.svd(np.vstack(gen_ads), full_matrices=False)
    top = sv.max(initial=0.0)
    zero = sv <= tol * top if top > 0 else np.ones(sv.size, dtype=bool)
    rank = int(np.sum(~zero))
    semi, centre = vt[~zero].T, vt[zero].T  # columns: algebra coordinates

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
