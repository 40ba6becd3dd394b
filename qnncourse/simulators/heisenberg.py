r"""What the Heisenberg-picture simulators (g-sim, Pauli propagation) read from their inputs.

Both evolve a Pauli-sum observable backwards through a circuit and read it on a product input
state, so both need the observable's real Pauli coefficients (:func:`observable_terms`, with
diagonal operators expanded into Z strings by :func:`walsh_z_terms`) and the Bloch vectors of
the input (:func:`product_state`), whose products give :math:`\langle Q\rangle` for every
string :math:`Q` (:func:`string_expectations`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import qutip

from qnncourse.observables import Observable
from qnncourse.paulis import PauliString, PauliSum, as_pauli_sum, unpack_bits

__all__ = ["MAX_DIAGONAL_QUBITS", "observable_terms", "product_state", "string_expectations",
           "walsh_z_terms"]

#: Coefficients this small relative to the largest are dropped from a Z-string expansion.
REAL_ATOL = 1e-12
#: Diagonal observables given as vectors are expanded into Z strings up to this many qubits.
MAX_DIAGONAL_QUBITS = 20


def walsh_z_terms(diagonal: np.ndarray, n: int) -> dict[str, float]:
    """Z-string expansion of a diagonal operator: :math:`d = \\sum_S c_S Z_S` (fast
    Walsh–Hadamard transform, :math:`O(n 2^n)`)."""
    c = np.asarray(diagonal, dtype=float).reshape((2,) * n).copy()
    for q in range(n):
        a = np.take(c, 0, axis=q)
        b = np.take(c, 1, axis=q)
        c = np.stack([(a + b) / 2, (a - b) / 2], axis=q)
    flat = c.reshape(-1)
    out = {}
    for index in np.flatnonzero(np.abs(flat) > REAL_ATOL * max(1.0, np.abs(flat).max())):
        bits = format(index, f"0{n}b")  # qubit 0 is the most significant bit
        out["".join("Z" if b == "1" else "I" for b in bits)] = float(flat[index])
    return out


def observable_terms(observable: object, n: int, who: str = "this simulator",
                     ) -> dict[str, float]:
    """Real Pauli coefficients of ``observable`` on ``n`` qubits, validated."""
    if isinstance(observable, PauliSum | PauliString | str | Mapping):
        ps = as_pauli_sum(observable)
        if ps.n_qubits != n:
            raise ValueError(f"observable acts on {ps.n_qubits} qubits, the circuit has {n}")
        terms = {}
        for label, coeff in ps.terms.items():
            c = complex(coeff)
            if abs(c.imag) > 1e-10 * max(1.0, abs(c.real)):
                raise ValueError(f"observable is not Hermitian: the coefficient of {label!r} "
                                 f"is {coeff!r}; a Hermitian Pauli sum has real coefficients")
            if c.real:
                terms[label] = c.real
        return terms
    diagonal = None
    if isinstance(observable, Observable):
        if observable.n_qubits != n:
            raise ValueError(f"observable acts on {observable.n_qubits} qubits, the circuit "
                             f"has {n}")
        if observable.is_diagonal:
            diagonal = observable.diagonal
    elif isinstance(observable, qutip.Qobj) and observable.isoper:
        if observable.shape != (2**n, 2**n):
            raise ValueError(f"observable has shape {observable.shape}, the circuit has {n} "
                             "qubits")
        d = observable.diag()
        if (observable - qutip.qdiags(d, 0, dims=observable.dims)).norm() == 0:
            diagonal = np.real(d)
    else:
        raise TypeError(f"{who} needs the observable as Pauli strings (a label, dict, "
                        "PauliString or PauliSum) or a diagonal Qobj/Observable, got "
                        f"{type(observable).__name__}")
    if diagonal is None:
        raise ValueError(f"{who} needs the observable as Pauli strings: give it as a "
                         "PauliSum (a non-diagonal matrix is not expanded)")
    if n > MAX_DIAGONAL_QUBITS:
        raise ValueError(f"a diagonal observable on {n} qubits is not expanded into Z strings "
                         f"(at most {MAX_DIAGONAL_QUBITS}); give it as a PauliSum")
    return walsh_z_terms(diagonal, n)


def product_state(state: object, n_qubits: int) -> np.ndarray:
    """Bloch vectors ``(n, 3)`` of a product input state.

    Parameters
    ----------
    state : None, str or array
        ``None`` for :math:`|0\\dots0\\rangle`; a string with one character per qubit from
        ``0 1 + - r l`` (:math:`|{\\pm}\\rangle` are the X eigenstates, ``r``/``l`` the Y
        eigenstates); or an array ``(n, 2)`` of single-qubit kets, qubit 0 first.
    n_qubits : int

    Returns
    -------
    numpy.ndarray
        Rows :math:`(\\langle X\\rangle, \\langle Y\\rangle, \\langle Z\\rangle)` per qubit.
    """
    table = {"0": (0, 0, 1), "1": (0, 0, -1), "+": (1, 0, 0), "-": (-1, 0, 0),
             "r": (0, 1, 0), "l": (0, -1, 0)}
    if state is None:
        return np.tile([0.0, 0.0, 1.0], (n_qubits, 1))
    if isinstance(state, str):
        if len(state) != n_qubits or set(state) - set(table):
            raise ValueError(f"state as a string needs {n_qubits} characters from '01+-rl', "
                             f"got {state!r}")
        return np.array([table[c] for c in state], dtype=float)
    kets = np.asarray(state, dtype=complex)
    if kets.shape != (n_qubits, 2):
        raise ValueError(f"state must be None, a string over '01+-rl' or an array of shape "
                         f"({n_qubits}, 2) of single-qubit kets, got shape {kets.shape}")
    norms = np.linalg.norm(kets, axis=1)
    if not np.all(np.isfinite(norms)) or np.any(norms == 0):
        raise ValueError("state has a zero or non-finite single-qubit ket")
    a, b = (kets / norms[:, None]).T
    return np.stack([2 * (a.conj() * b).real, 2 * (a.conj() * b).imag,
                     np.abs(a) ** 2 - np.abs(b) ** 2], axis=1)


def string_expectations(x: np.ndarray, z: np.ndarray, bloch: np.ndarray) -> np.ndarray:
    r""":math:`\langle Q_j\rangle = \prod_q \langle\sigma_{j,q}\rangle` of packed strings
    ``(x, z)`` in the product state with Bloch vectors ``bloch`` ``(n, 3)``."""
    n = len(bloch)
    if np.array_equal(bloch, np.tile([0.0, 0.0, 1.0], (n, 1))):
        # |0...0>: 1 for strings of I and Z, 0 for any X or Y (no unpacking needed).
        return (~np.any(x, axis=1)).astype(float)
    xb, zb = unpack_bits(x, n), unpack_bits(z, n)
    # Letter per (string, qubit): 0 = I, 1 = X, 2 = Z, 3 = Y; factor 1, <X>, <Z>, <Y>.
    factors = np.concatenate([np.ones((n, 1)), bloch[:, [0]], bloch[:, [2]], bloch[:, [1]]],
                             axis=1)
    letter = xb.astype(np.int64) + 2 * zb.astype(np.int64)
    return np.prod(factors[np.arange(n)[None, :], letter], axis=1)
