"""Exact sympy matrices of Pauli strings, sums and operators, and the checks on them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Number

import numpy as np
import sympy

from qnncourse.paulis import PauliString, PauliSum, as_pauli_sum

__all__ = ["check_hermitian", "embed", "exact_number", "kron", "to_sympy"]

_PAULI = {
    "I": sympy.Matrix([[1, 0], [0, 1]]),
    "X": sympy.Matrix([[0, 1], [1, 0]]),
    "Y": sympy.Matrix([[0, -sympy.I], [sympy.I, 0]]),
    "Z": sympy.Matrix([[1, 0], [0, -1]]),
}


def exact_number(value) -> sympy.Expr:
    """A sympy number for ``value``: sympy input as it is, floats as the decimal their repr shows.

    Known surds are recognised (``0.7071067811865476`` becomes :math:`\\sqrt{2}/2`), so a
    Hadamard gate given as a float matrix becomes exact.
    """
    if isinstance(value, sympy.Basic):
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, complex):
        return exact_number(value.real) + sympy.I * exact_number(value.imag)
    if isinstance(value, int):
        return sympy.Integer(value)
    if not isinstance(value, Number) or not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    surd = sympy.nsimplify(value, [sympy.sqrt(2), sympy.sqrt(3)], tolerance=1e-15)
    if abs(float(surd) - value) <= 1e-15 * max(1.0, abs(value)):
        return surd
    return sympy.Rational(repr(float(value)))


def kron(*factors: sympy.Matrix) -> sympy.Matrix:
    out = sympy.Matrix([[1]])
    for f in factors:
        out = sympy.Matrix(sympy.BlockMatrix([[out[i, j] * f for j in range(out.cols)]
                                              for i in range(out.rows)]))
    return out


def to_sympy(obj) -> sympy.Matrix:
    """An exact sympy matrix for a Pauli label, ``PauliString``, ``PauliSum``, array or ``Qobj``.

    Float entries are read exactly as described in :func:`_exact_number`.
    """
    if isinstance(obj, sympy.MatrixBase):
        return sympy.Matrix(obj)
    if isinstance(obj, str | PauliString | PauliSum | dict):
        total = None
        for label, coeff in as_pauli_sum(obj).terms.items():
            term = exact_number(coeff) * kron(*(_PAULI[c] for c in label))
            total = term if total is None else total + term
        return total
    if hasattr(obj, "full"):  # qutip.Qobj
        obj = obj.full()
    array = np.asarray(obj)
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"cannot read a matrix from {type(obj).__name__} with shape "
                         f"{array.shape}")
    return sympy.Matrix(array.shape[0], array.shape[1],
                        [exact_number(v) for v in array.ravel()])


def check_hermitian(m: sympy.Matrix, what: str) -> None:
    if m.rows != m.cols:
        raise ValueError(f"{what} must be square, got shape {m.shape}")
    if not (m - m.H).applyfunc(sympy.simplify).is_zero_matrix:
        raise ValueError(f"{what} is not Hermitian")


def embed(matrix: sympy.Matrix, qubits: Sequence[int], n: int) -> sympy.Matrix:
    """``matrix`` acting on ``qubits`` (in that order) of ``n`` qubits, identity elsewhere."""
    k = len(qubits)
    dim = 2**n
    out = sympy.zeros(dim, dim)
    for i in range(dim):
        bits = [(i >> (n - 1 - q)) & 1 for q in range(n)]
        row = sum(bits[q] << (k - 1 - t) for t, q in enumerate(qubits))
        for col in range(2**k):
            if matrix[row, col] == 0:
                continue
            new = list(bits)
            for t, q in enumerate(qubits):
                new[q] = (col >> (k - 1 - t)) & 1
            j = sum(b << (n - 1 - q) for q, b in enumerate(new))
            out[i, j] = matrix[row, col]
    return out
