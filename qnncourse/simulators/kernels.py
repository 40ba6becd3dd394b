"""Compiled (numba) gate kernels behind the statevector and density simulators.

The numpy code in :mod:`qnncourse.simulators.statevector` is the readable reference; this
module does the same work in one pass over the state per gate, without temporaries the size
of the state, and runs a whole circuit (forward pass or adjoint sweep) in one compiled call.

A circuit is first lowered to a :class:`Program`: flat integer/complex arrays, one row per
operation. Basis index ``r`` has qubit ``q`` at bit ``n - 1 - q``. A Pauli word :math:`P` with
bit masks :math:`x` (X or Y) and :math:`z` (Z or Y) and :math:`n_Y` letters Y acts as

.. math::

    (P\\psi)_r = (-i)^{n_Y}\\,(-1)^{|r \\wedge z|}\\,\\psi_{r \\oplus x},

so a rotation :math:`R_P(a) = \\cos\\tfrac a2 - i\\sin\\tfrac a2 P` updates the pair
:math:`(r, r \\oplus x)` in place from the two old amplitudes. The adjoint sweep of Jones & Gacon
(arXiv:2009.02823) fuses, per rotation, the derivative
:math:`\\mathrm{Re}\\langle\\lambda|(-iP)|\\psi\\rangle` with un-computing the gate on
:math:`\\psi` and :math:`\\lambda`: one read and one write of each array per rotation.

Fixed gates on one or two qubits are a gather of the ``2**k`` amplitudes of each block, a small
matrix product and a scatter; a diagonal fixed gate touches only the entries that are not 1
(a CZ writes a quarter of the state). Gates on more than two qubits are not lowered
(:func:`lower` returns ``None``) and the simulator uses its numpy path.

Large registers can run each gate's loop on all cores (``prange``) when :data:`PARALLEL` is
set (or the environment has ``QNNCOURSE_THREADS=1``); small ones always stay serial, where
starting threads would cost more than the gate. These kernels run only where
:data:`qnncourse.simulators.statevector.KERNELS` is ``"compiled"`` (opt-in): a child forked
from a process that has run them aborts when it runs them itself ("fork() called from a process
already using GNU OpenMP"), and :func:`qnncourse.plateaus.variance_scan`'s process pool forks.
Functions are compiled on first use and cached on disk (``cache=True``), so later processes
load them instead of compiling.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass

import numba
import numpy as np
from numba import prange

__all__ = ["PARALLEL", "PARALLEL_MAX_LOAD", "PARALLEL_MIN_AMPLITUDES", "Program",
           "adjoint_sweep", "apply", "lower", "run"]

# Multi-threaded gates are opt-in (see the module docstring: a process that has used them must
# not fork).
PARALLEL = os.environ.get("QNNCOURSE_THREADS") == "1"
# Registers with at least this many amplitudes (per state) use the multi-threaded kernels.
# Below it a gate takes well under a millisecond and waking threads would dominate.
PARALLEL_MIN_AMPLITUDES = 2**17
# ... but only while the machine has idle cores: above this load average per core, threads
# that wait for each other at every gate run several times slower than one thread (measured
# 10x slower at n = 16 with a load of 12 on 2 cores).
PARALLEL_MAX_LOAD = 0.75

_ROTATION, _DIAGONAL, _DENSE = 0, 1, 2


@dataclass(frozen=True)
class Program:
    """A circuit lowered to flat arrays (one entry per operation), see :func:`lower`.

    ``kind``: 0 Pauli rotation, 1 diagonal fixed gate, 2 dense fixed gate. For rotations,
    ``xmask``/``zmask`` and ``phase`` :math:`(-i)^{n_Y}`; for fixed gates ``nsub`` (2 or 4)
    sub-indices with bit ``offset`` each, the gate bits in ``bits`` (two entries, the second
    ``-1`` for one qubit) and the matrix (forward in ``matrix``, inverse in ``inverse``, padded
    to 4x4).
    """

    n_qubits: int
    kind: np.ndarray
    xmask: np.ndarray
    zmask: np.ndarray
    phase: np.ndarray
    nsub: np.ndarray
    bits: np.ndarray
    offset: np.ndarray
    matrix: np.ndarray
    inverse: np.ndarray


def _bit(q: int, n: int) -> int:
    return n - 1 - q


def lower(operations, n: int) -> Program | None:
    """Lower a sequence of :class:`~qnncourse.circuit.Operation` on ``n`` qubits to a
    :class:`Program`, or ``None`` if an operation is a fixed gate on more than two qubits."""
    m = len(operations)
    kind = np.zeros(m, dtype=np.int64)
    xmask = np.zeros(m, dtype=np.int64)
    zmask = np.zeros(m, dtype=np.int64)
    phase = np.ones(m, dtype=np.complex128)
    nsub = np.zeros(m, dtype=np.int64)
    bits = np.full((m, 2), -1, dtype=np.int64)
    offset = np.zeros((m, 4), dtype=np.int64)
    matrix = np.zeros((m, 4, 4), dtype=np.complex128)
    inverse = np.zeros((m, 4, 4), dtype=np.complex128)
    for k, op in enumerate(operations):
        if op.kind != "fixed":
            n_y = 0
            for letter, q in zip(op.pauli, op.qubits, strict=True):
                b = 1 << _bit(q, n)
                if letter in "XY":
                    xmask[k] |= b
                if letter in "ZY":
                    zmask[k] |= b
                n_y += letter == "Y"
            phase[k] = (-1j) ** n_y
            continue
        k_qubits = len(op.qubits)
        if k_qubits > 2:
            return None
        u = np.asarray(op.matrix, dtype=np.complex128)
        size = 2**k_qubits
        nsub[k] = size
        positions = [_bit(q, n) for q in op.qubits]
        bits[k, :k_qubits] = sorted(positions)
        for j in range(size):
            # sub-index j: bit of the gate's first qubit most significant (tensor order).
            offset[k, j] = sum(((j >> (k_qubits - 1 - i)) & 1) << p
                               for i, p in enumerate(positions))
        matrix[k, :size, :size] = u
        inverse[k, :size, :size] = u.conj().T
        kind[k] = _DIAGONAL if np.count_nonzero(u - np.diag(np.diag(u))) == 0 else _DENSE
    return Program(n, kind, xmask, zmask, phase, nsub, bits, offset, matrix, inverse)


# --------------------------------------------------------------------------------------------
# Kernels on one state (a row of the batch). Written once; jitted serial and parallel below.
# --------------------------------------------------------------------------------------------
def _parity(v):
    v ^= v >> 32
    v ^= v >> 16
    v ^= v >> 8
    v ^= v >> 4
    v ^= v >> 2
    v ^= v >> 1
    return v & 1


def _insert_zero(j, b):
    """``j`` with a 0 bit inserted at position ``b``."""
    return ((j >> b) << (b + 1)) | (j & ((1 << b) - 1))


def _top_bit(x):
    t = 0
    while (x >> (t + 1)) != 0:
        t += 1
    return t


def _layout(xmask, zmask):
    """``(t, zrest, flip)`` of a non-diagonal word: its top X bit ``t`` (pairs are the indices
    with bit ``t`` clear and their partner ``r ^ x``), the Z bits whose sign varies within a
    pair's first index, and the sign :math:`\\phi(r \\oplus x)/\\phi(r)`."""
    t = _top_bit(xmask)
    return t, zmask & ~(1 << t), 1.0 - 2.0 * _parity(xmask & zmask)


def _rotate(psi, xmask, zmask, phase, c, s):
    """In place: :math:`\\psi \\leftarrow c\\,\\psi - i s\\,P\\psi` (``s = -sin`` inverts)."""
    dim = psi.shape[0]
    if xmask == 0:
        # diagonal: one phase c -+ i s per amplitude
        plus = complex(c, -s)
        minus = complex(c, s)
        for r in prange(dim):
            if _parity(r & zmask):
                psi[r] *= minus
            else:
                psi[r] *= plus
        return
    t, zrest, flip = _layout(xmask, zmask)
    ms = complex(0.0, -s) * phase                    # -i s (-i)^nY
    if zrest == 0:
        # constant phases: blocks of 2**t consecutive pairs, an inner loop LLVM vectorises
        a0 = ms
        a1 = ms * flip
        block = 1 << t
        for hi in prange(dim >> (t + 1)):
            base = hi << (t + 1)
            for lo in range(block):
                i0 = base + lo
                i1 = i0 ^ xmask
                p0 = psi[i0]
                p1 = psi[i1]
                psi[i0] = c * p0 + a0 * p1
                psi[i1] = c * p1 + a1 * p0
    else:
        for j in prange(dim >> 1):
            i0 = _insert_zero(j, t)
            i1 = i0 ^ xmask
            a0 = ms * (1.0 - 2.0 * _parity(i0 & zrest))
            p0 = psi[i0]
            p1 = psi[i1]
            psi[i0] = c * p0 + a0 * p1
            psi[i1] = c * p1 + (a0 * flip) * p0


def _fixed(psi, kind, nsub, b0, b1, off, u):
    """In place: a fixed gate on one (``b1 < 0``) or two qubits, given by its 4x4-padded
    matrix ``u`` over sub-indices with bit offsets ``off``."""
    dim = psi.shape[0]
    if nsub == 2:
        if kind == 1:
            d0 = u[0, 0]
            d1 = u[1, 1]
            for j in prange(dim >> 1):
                i0 = _insert_zero(j, b0)
                if d0 != 1.0:
                    psi[i0 + off[0]] *= d0
                if d1 != 1.0:
                    psi[i0 + off[1]] *= d1
            return
        u00, u01, u10, u11 = u[0, 0], u[0, 1], u[1, 0], u[1, 1]
        for j in prange(dim >> 1):
            i0 = _insert_zero(j, b0)
            p0 = psi[i0 + off[0]]
            p1 = psi[i0 + off[1]]
            psi[i0 + off[0]] = u00 * p0 + u01 * p1
            psi[i0 + off[1]] = u10 * p0 + u11 * p1
        return
    if kind == 1:
        d0, d1, d2, d3 = u[0, 0], u[1, 1], u[2, 2], u[3, 3]
        for j in prange(dim >> 2):
            i = _insert_zero(_insert_zero(j, b0), b1)
            if d0 != 1.0:
                psi[i + off[0]] *= d0
            if d1 != 1.0:
                psi[i + off[1]] *= d1
            if d2 != 1.0:
                psi[i + off[2]] *= d2
            if d3 != 1.0:
                psi[i + off[3]] *= d3
        return
    for j in prange(dim >> 2):
        i = _insert_zero(_insert_zero(j, b0), b1)
        p0 = psi[i + off[0]]
        p1 = psi[i + off[1]]
        p2 = psi[i + off[2]]
        p3 = psi[i + off[3]]
        for a in range(4):
            psi[i + off[a]] = u[a, 0] * p0 + u[a, 1] * p1 + u[a, 2] * p2 + u[a, 3] * p3


def _adjoint_rotation(psi, lam, xmask, zmask, phase, c, s):
    """One step of the adjoint sweep for a rotation: returns
    :math:`\\mathrm{Re}\\langle\\lambda|(-iP)|\\psi\\rangle` and, in the same pass, applies
    :math:`R_P^\\dagger` (``c + i s P``) to ``psi`` and ``lam``."""
    dim = psi.shape[0]
    acc = 0.0
    if xmask == 0:
        plus = complex(c, s)       # c + i s (+1)
        minus = complex(c, -s)     # c + i s (-1)
        for r in prange(dim):
            p = psi[r]
            lr = lam[r]
            w = lr.real * p.imag - lr.imag * p.real      # Im(conj(l) p)
            if _parity(r & zmask):
                acc += -w
                psi[r] = p * minus
                lam[r] = lr * minus
            else:
                acc += w
                psi[r] = p * plus
                lam[r] = lr * plus
        return acc
    t, zrest, flip = _layout(xmask, zmask)
    g = -1j * phase                  # -i (-i)^nY: (-iP psi)_{i0} = g f0 psi_{i1}
    if zrest == 0:
        # constant phases (every one-qubit word): blocks of 2**t consecutive pairs
        g0 = g
        g1 = g * flip
        block = 1 << t
        for hi in prange(dim >> (t + 1)):
            base = hi << (t + 1)
            part = 0.0
            for lo in range(block):
                i0 = base + lo
                i1 = i0 ^ xmask
                p0 = psi[i0]
                p1 = psi[i1]
                l0 = lam[i0]
                l1 = lam[i1]
                q0 = g0 * p1
                q1 = g1 * p0
                part += (l0.real * q0.real + l0.imag * q0.imag + l1.real * q1.real
                         + l1.imag * q1.imag)
                psi[i0] = c * p0 - s * q0
                psi[i1] = c * p1 - s * q1
                lam[i0] = c * l0 - s * (g0 * l1)
                lam[i1] = c * l1 - s * (g1 * l0)
            acc += part
        return acc
    for j in prange(dim >> 1):
        i0 = _insert_zero(j, t)
        i1 = i0 ^ xmask
        f0 = 1.0 - 2.0 * _parity(i0 & zrest)
        g0 = g * f0
        g1 = g0 * flip
        p0 = psi[i0]
        p1 = psi[i1]
        l0 = lam[i0]
        l1 = lam[i1]
        q0 = g0 * p1                 # (-iP psi)_{i0}
        q1 = g1 * p0
        acc += (l0.real * q0.real + l0.imag * q0.imag + l1.real * q1.real
                + l1.imag * q1.imag)
        # R^dagger = c + i s P = c - s (-iP)
        psi[i0] = c * p0 - s * q0
        psi[i1] = c * p1 - s * q1
        lam[i0] = c * l0 - s * (g0 * l1)
        lam[i1] = c * l1 - s * (g1 * l0)
    return acc


def _run(psi, kind, xmask, zmask, phase, nsub, bits, offset, matrix, cos_half, sin_half,
         start, stop):
    """Operations ``start:stop`` on every row of ``psi`` ``(S, 2**n)``, in place."""
    for row in range(psi.shape[0]):
        state = psi[row]
        for k in range(start, stop):
            if kind[k] == 0:
                _rotate(state, xmask[k], zmask[k], phase[k], cos_half[row, k], sin_half[row, k])
            else:
                _fixed(state, kind[k], nsub[k], bits[k, 0], bits[k, 1], offset[k], matrix[k])


def _sweep(psi, lam, kind, xmask, zmask, phase, nsub, bits, offset, inverse, cos_half,
           sin_half, grads):
    """The adjoint sweep over all operations, from the last: derivatives into ``grads``
    ``(S, n_ops)`` (rotations only); ``psi`` and ``lam`` are overwritten."""
    n_ops = kind.shape[0]
    for row in range(psi.shape[0]):
        state = psi[row]
        co = lam[row]
        for k in range(n_ops - 1, -1, -1):
            if kind[k] == 0:
                grads[row, k] = _adjoint_rotation(state, co, xmask[k], zmask[k], phase[k],
                                                  cos_half[row, k], sin_half[row, k])
            elif k > 0:
                _fixed(state, kind[k], nsub[k], bits[k, 0], bits[k, 1], offset[k], inverse[k])
                _fixed(co, kind[k], nsub[k], bits[k, 0], bits[k, 1], offset[k], inverse[k])


# The helpers are inlined; each gate kernel is its own compiled function (threaded over the
# amplitudes), called from the serial drivers ``_run`` and ``_sweep``.
_inline = numba.njit(inline="always", cache=True)
_parity = _inline(_parity)
_insert_zero = _inline(_insert_zero)
_top_bit = _inline(_top_bit)
_layout = _inline(_layout)
_threaded = numba.njit(cache=True, nogil=True, parallel=True)
_rotate = _threaded(_rotate)
_fixed = _threaded(_fixed)
_adjoint_rotation = _threaded(_adjoint_rotation)
_run = numba.njit(cache=True, nogil=True)(_run)
_sweep = numba.njit(cache=True, nogil=True)(_sweep)


def _use_threads(dim: int) -> bool:
    if not PARALLEL or dim < PARALLEL_MIN_AMPLITUDES or numba.config.NUMBA_NUM_THREADS < 2:
        return False
    try:
        load = os.getloadavg()[0] / (os.cpu_count() or 1)
    except OSError:  # no load average on this platform
        return True
    return load < PARALLEL_MAX_LOAD


@contextmanager
def _threads(dim: int):
    """All of numba's threads for large registers on an idle machine, else one thread."""
    if _use_threads(dim):
        yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def _arrays(program: Program):
    return (program.kind, program.xmask, program.zmask, program.phase, program.nsub,
            program.bits, program.offset)


def run(program: Program, psi: np.ndarray, cos_half: np.ndarray, sin_half: np.ndarray,
        start: int = 0, stop: int | None = None) -> np.ndarray:
    """Apply operations ``start:stop`` to every row of ``psi`` (``(S, 2**n)``, complex,
    C-contiguous) in place; ``cos_half``/``sin_half`` are ``(S, n_ops)`` (any values for
    fixed gates). Returns ``psi``."""
    stop = len(program.kind) if stop is None else stop
    with _threads(psi.shape[1]):
        _run(psi, *_arrays(program), program.matrix, cos_half, sin_half, start, stop)
    return psi


def adjoint_sweep(program: Program, psi: np.ndarray, lam: np.ndarray, cos_half: np.ndarray,
                  sin_half: np.ndarray) -> np.ndarray:
    r"""Derivatives ``(S, n_ops)`` by every rotation angle (0 for fixed gates) from the final
    states ``psi`` and :math:`\lambda = O\psi`; both arrays are overwritten."""
    grads = np.zeros(cos_half.shape)
    with _threads(psi.shape[1]):
        _sweep(psi, lam, *_arrays(program), program.inverse, cos_half, sin_half, grads)
    return grads


def apply(program: Program, psi: np.ndarray, cos_half: np.ndarray | None,
          sin_half: np.ndarray | None) -> np.ndarray:
    """Apply the single operation of a one-operation ``program`` to ``psi`` ``(S, 2**n)`` in
    place; ``cos_half``/``sin_half`` are ``(S,)`` (``None`` for a fixed gate)."""
    rows = psi.shape[0]
    if cos_half is None:
        cos_half = sin_half = np.zeros((rows, 1))
    return run(program, psi, np.ascontiguousarray(cos_half, dtype=float).reshape(rows, 1),
               np.ascontiguousarray(sin_half, dtype=float).reshape(rows, 1))
