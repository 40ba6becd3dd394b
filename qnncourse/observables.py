"""Cost observables, and the internal :class:`Observable` the simulators apply to states.

The two costs of Cerezo et al. 2021 (https://doi.org/10.1038/s41467-021-21728-w) compare the
output state with :math:`|0\\dots0\\rangle`:

.. math::

    O_G = I - |0\\dots0\\rangle\\langle 0\\dots0|, \\qquad
    O_L = I - \\frac{1}{n}\\sum_{i=1}^{n} |0\\rangle\\langle 0|_i \\otimes I_{\\bar i}.

Both are diagonal in the computational basis; :math:`O_L`'s diagonal entry at bit string
:math:`b` is its Hamming weight over :math:`n`. Any Hermitian :class:`qutip.Qobj`, Pauli sum
(``"ZZI"``, ``{"ZZ": 1, "XI": 0.5}``, :class:`~qnncourse.paulis.PauliSum`) or Hermitian
numpy matrix is accepted wherever an observable is; :func:`as_observable` prepares it once
in the cheapest form for simulation: a diagonal vector, Pauli terms grouped by their bit-flip
pattern, a sparse matrix, or a dense matrix.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import qutip
import qutip.core.data as qdata
import scipy.sparse as sp

from qnncourse._validation import as_rng, check_memory
from qnncourse.paulis import PauliString, PauliSum, as_pauli_sum

__all__ = ["Observable", "as_observable", "global_cost", "local_cost", "pauli_sum"]

_HERM_ATOL = 1e-10
# A non-diagonal matrix is kept sparse when at most this fraction of its entries is non-zero.
_SPARSE_FRACTION = 0.125


def _check_n(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"the number of qubits must be a positive int, got {n!r}")
    check_memory(8 * 2**n, f"the diagonal of a {n}-qubit cost observable")
    return int(n)


def _hamming_weights(n: int) -> np.ndarray:
    return np.bitwise_count(np.arange(2**n, dtype=np.int64)).astype(float)


def global_cost(n: int) -> qutip.Qobj:
    """Global cost observable :math:`O_G = I - |0\\dots0\\rangle\\langle 0\\dots0|`.

    Its expectation is :math:`1 - |\\langle 0\\dots0|\\psi\\rangle|^2` (Cerezo et al. 2021).
    Returned as a diagonal :class:`qutip.Qobj` with qubit dims.
    """
    n = _check_n(n)
    diag = np.ones(2**n)
    diag[0] = 0.0
    return qutip.qdiags(diag, 0, dims=[[2] * n] * 2)


def local_cost(n: int) -> qutip.Qobj:
    """Local cost observable :math:`O_L = I - \\frac1n\\sum_i |0\\rangle\\langle0|_i`.

    Diagonal with entry :math:`|b|/n` (Hamming weight of the bit string :math:`b` over
    :math:`n`), so its expectation is the mean probability that a qubit reads 1
    (Cerezo et al. 2021).
    """
    n = _check_n(n)
    return qutip.qdiags(_hamming_weights(n) / n, 0, dims=[[2] * n] * 2)


def pauli_sum(terms: Mapping[str, float] | str | PauliString | PauliSum) -> PauliSum:
    """A Hermitian Pauli-sum observable, e.g. ``pauli_sum({"ZZI": 0.5, "XII": 1})``.

    Raises ``ValueError`` if a coefficient is not real (the sum would not be Hermitian).
    """
    result = as_pauli_sum(terms)
    if not result.is_hermitian():
        bad = {k: v for k, v in result.terms.items() if abs(complex(v).imag) > _HERM_ATOL}
        raise ValueError(f"observable is not Hermitian: complex coefficients {bad}")
    return result


class Observable:
    """An observable prepared for simulation on ``n_qubits`` qubits.

    Build it with :func:`as_observable`. ``kind`` says how it is applied to a batch of states
    ``psi`` of shape ``(..., 2**n)`` (last axis = basis index):

    * ``"diagonal"``: :math:`(O\\psi)_r = d_r\\psi_r`, one vector product;
    * ``"pauli"``: :math:`\\sum_g v^{(g)}_r\\,\\psi_{r \\oplus x_g}`, terms grouped by their X
      pattern :math:`x_g` (one permutation and one vector product per group);
    * ``"sparse"`` / ``"dense"``: a matrix product.
    """

    def __init__(self, n_qubits: int, kind: str, *, diagonal: np.ndarray | None = None,
                 groups: list[tuple[np.ndarray, np.ndarray]] | None = None,
                 matrix: np.ndarray | sp.csr_matrix | None = None,
                 source: object = None) -> None:
        self.n_qubits = n_qubits
        self.kind = kind
        self.diagonal = diagonal
        self._groups = groups or []
        self._matrix = matrix
        self._source = source
        self._eigh: tuple[np.ndarray, np.ndarray | None] | None = None

    @property
    def dim(self) -> int:
        """Hilbert-space dimension :math:`2^n`."""
        return 2**self.n_qubits

    @property
    def is_diagonal(self) -> bool:
        """Whether the observable is diagonal in the computational basis."""
        return self.kind == "diagonal"

    def apply(self, psi: np.ndarray) -> np.ndarray:
        """:math:`O\\psi` for ``psi`` of shape ``(..., 2**n)``; returns a new array."""
        if self.kind == "diagonal":
            return psi * self.diagonal
        if self.kind == "pauli":
            out = psi * self.diagonal if self.diagonal is not None else np.zeros_like(psi)
            for perm, vec in self._groups:
                out += vec * psi[..., perm]
            return out
        flat = psi.reshape(-1, self.dim)
        if self.kind == "dense":
            return (flat @ self._matrix.T).reshape(psi.shape)
        return np.ascontiguousarray((self._matrix @ flat.T).T).reshape(psi.shape)

    def expectation(self, psi: np.ndarray) -> np.ndarray:
        """:math:`\\langle\\psi|O|\\psi\\rangle` for each state in ``psi`` ``(..., 2**n)``."""
        if self.kind == "diagonal":
            return (psi.real**2 + psi.imag**2) @ self.diagonal
        return np.einsum("...i,...i->...", psi.conj(), self.apply(psi)).real

    def matrix(self) -> np.ndarray:
        """Dense ``(2**n, 2**n)`` matrix (size checked first)."""
        check_memory(16 * self.dim**2, f"the dense matrix of a {self.n_qubits}-qubit observable")
        if self.kind == "diagonal":
            return np.diag(self.diagonal.astype(complex))
        if self.kind == "pauli":
            return self.apply(np.eye(self.dim, dtype=complex)).T
        return self._matrix.toarray() if sp.issparse(self._matrix) else self._matrix.copy()

    def to_qobj(self) -> qutip.Qobj:
        """The observable as a :class:`qutip.Qobj` with qubit dims."""
        if isinstance(self._source, qutip.Qobj):
            return self._source
        if isinstance(self._source, PauliSum):
            return self._source.to_qobj()
        dims = [[2] * self.n_qubits] * 2
        if self.kind == "diagonal":
            return qutip.qdiags(self.diagonal, 0, dims=dims)
        return qutip.Qobj(self._matrix, dims=dims)

    def eigh(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Eigenvalues and eigenvectors (columns); eigenvectors ``None`` when diagonal.

        The eigenbasis is where shots are sampled: a diagonal observable is measured in the
        computational basis.
        """
        if self._eigh is None:
            if self.kind == "diagonal":
                self._eigh = (self.diagonal, None)
            else:
                self._eigh = tuple(np.linalg.eigh(self.matrix()))
        return self._eigh

    def _levels(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct eigenvalues, the eigenvalue order, and where each level starts in it."""
        values, _ = self.eigh()
        order = np.argsort(values, kind="stable")
        rounded = np.round(values[order], 12)
        starts = np.flatnonzero(np.r_[True, rounded[1:] != rounded[:-1]])
        return values[order][starts], order, starts

    def probabilities(self, psi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Outcome probabilities of measuring the observable on each state.

        Returns ``(levels, probs)``: the distinct eigenvalues ``(G,)`` and, for ``psi`` of
        shape ``(S, 2**n)``, the probability of each level ``(S, G)``.
        """
        levels, order, starts = self._levels()
        _, vectors = self.eigh()
        amplitudes = psi if vectors is None else psi @ vectors.conj()
        probs = amplitudes.real**2 + amplitudes.imag**2
        return levels, np.add.reduceat(probs[:, order], starts, axis=1)

    @staticmethod
    def estimate(levels: np.ndarray, probs: np.ndarray, shots: int,
                 rng: np.random.Generator | int | None) -> np.ndarray:
        """Shot estimate of the mean: ``shots`` multinomial samples over the levels, per row.

        .. math:: \\hat{C} = \\frac{1}{N}\\sum_{g} k_g \\lambda_g, \\qquad
                  (k_g) \\sim \\mathrm{Multinomial}(N, (p_g)),

        unbiased with variance :math:`\\mathrm{Var}(O)/N`.
        """
        rng = as_rng(rng)
        probs = np.clip(probs, 0.0, None)
        probs = probs / probs.sum(axis=1, keepdims=True)
        counts = rng.multinomial(shots, probs)
        return counts @ levels / shots

    def __repr__(self) -> str:
        return f"Observable(n_qubits={self.n_qubits}, kind={self.kind!r})"


def _from_pauli_sum(ps: PauliSum, n_qubits: int) -> Observable:
    if not ps.is_hermitian():
        bad = {k: v for k, v in ps.terms.items() if abs(complex(v).imag) > _HERM_ATOL}
        raise ValueError(f"observable is not Hermitian: complex coefficients {bad}")
    dim = 2**n_qubits
    check_memory(16 * dim * (1 + len(ps.terms)), f"the {n_qubits}-qubit Pauli-sum observable")
    rows = np.arange(dim, dtype=np.int64)
    diagonal = np.zeros(dim)
    flips: dict[int, np.ndarray] = {}
    for term in ps.strings():
        x_mask, z_mask, n_y = term.bit_masks()
        # (P psi)_r = c i^{n_Y} (-1)^{|(r xor x) and z|} psi_{r xor x}
        signs = 1.0 - 2.0 * (np.bitwise_count((rows ^ x_mask) & z_mask) & 1)
        if x_mask == 0:
            diagonal += complex(term.coeff).real * signs
        else:
            vec = flips.setdefault(x_mask, np.zeros(dim, dtype=complex))
            vec += complex(term.coeff).real * (1j**n_y) * signs
    if not flips:
        return Observable(n_qubits, "diagonal", diagonal=diagonal, source=ps)
    groups = [(rows ^ x_mask, vec) for x_mask, vec in flips.items()]
    diag = diagonal if np.any(diagonal) else None
    return Observable(n_qubits, "pauli", diagonal=diag, groups=groups, source=ps)


def _from_matrix(matrix: sp.csr_matrix | np.ndarray, n_qubits: int, source: object) -> Observable:
    dim = 2**n_qubits
    if matrix.shape != (dim, dim):
        raise ValueError(f"observable has shape {matrix.shape}, a {n_qubits}-qubit circuit "
                         f"needs ({dim}, {dim})")
    if sp.issparse(matrix):
        matrix = sp.csr_matrix(matrix, dtype=complex)
        asym = abs(matrix - matrix.conj().T)
        error = asym.max() if asym.nnz else 0.0
        off = matrix - sp.diags(matrix.diagonal())
        off.eliminate_zeros()
        is_diag = off.nnz == 0
    else:
        matrix = np.asarray(matrix, dtype=complex)
        error = np.max(np.abs(matrix - matrix.conj().T))
        is_diag = not np.any(matrix - np.diag(np.diag(matrix)))
    if not np.isfinite(error):
        raise ValueError("observable contains NaN or infinite entries")
    if error > _HERM_ATOL:
        raise ValueError(f"observable is not Hermitian: max |O - O†| = {error:.3g}")
    if is_diag:
        return Observable(n_qubits, "diagonal", diagonal=matrix.diagonal().real.copy(),
                          source=source)
    if sp.issparse(matrix) and matrix.nnz <= _SPARSE_FRACTION * dim * dim:
        return Observable(n_qubits, "sparse", matrix=matrix, source=source)
    check_memory(16 * dim * dim, f"the dense {n_qubits}-qubit observable")
    dense = matrix.toarray() if sp.issparse(matrix) else matrix
    return Observable(n_qubits, "dense", matrix=dense, source=source)


def as_observable(obj: object, n_qubits: int) -> Observable:
    """Prepare ``obj`` as an :class:`Observable` on ``n_qubits`` qubits.

    Parameters
    ----------
    obj : Observable, qutip.Qobj, PauliSum, PauliString, str, dict or numpy.ndarray
        Must be Hermitian and act on ``n_qubits`` qubits.
    n_qubits : int
        Number of qubits of the circuit it will be measured on.

    Raises
    ------
    ValueError
        If the size does not match, or the operator is not Hermitian.
    """
    if isinstance(obj, Observable):
        if obj.n_qubits != n_qubits:
            raise ValueError(f"observable acts on {obj.n_qubits} qubits, the circuit has "
                             f"{n_qubits}")
        return obj
    if isinstance(obj, PauliSum | PauliString | str | Mapping):
        ps = as_pauli_sum(obj)
        if ps.n_qubits != n_qubits:
            raise ValueError(f"observable acts on {ps.n_qubits} qubits, the circuit has "
                             f"{n_qubits}")
        return _from_pauli_sum(ps, n_qubits)
    if isinstance(obj, qutip.Qobj):
        if not obj.isoper:
            raise ValueError(f"observable must be an operator, got a Qobj of type {obj.type!r}")
        dims = obj.dims[0]
        if (dims != [2] * len(dims) or len(dims) != n_qubits) and obj.shape[0] != 2**n_qubits:
            raise ValueError(f"observable has dims {obj.dims}, a {n_qubits}-qubit circuit "
                             f"needs {[[2] * n_qubits] * 2}")
        if isinstance(obj.data, qdata.Dense):
            matrix = obj.full()
        else:
            matrix = qdata.to(qdata.CSR, obj.data).as_scipy()
        return _from_matrix(matrix, n_qubits, obj)
    if isinstance(obj, np.ndarray) or sp.issparse(obj):
        if obj.ndim != 2:
            raise ValueError(f"observable matrix must be 2-D, got shape {obj.shape}")
        return _from_matrix(obj, n_qubits, obj)
    raise TypeError(
        "observable must be a qutip.Qobj, a Pauli label/dict/PauliString/PauliSum, a numpy "
        f"matrix or an Observable, got {type(obj).__name__}"
    )
