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

The state is held as two float arrays, real and imaginary parts (converted on entry and
exit of each call): with interleaved complex numbers LLVM left the loops scalar, with separate
arrays it vectorises them, about three times faster per gate at 18 qubits. The pairs of a
one-qubit word are the two halves of each block of ``2**(t+1)`` amplitudes, taken as slices.

Fixed gates on one or two qubits are a gather of the ``2**k`` amplitudes of each block, a small
matrix product and a scatter; a diagonal fixed gate touches only the entries that are not 1
(a CZ writes a quarter of the state). Gates on more than two qubits are not lowered
(:func:`lower` returns ``None``) and the simulator uses its numpy path.

Every kernel is built twice. The serial build never starts numba's threading layer. The
threaded build runs each gate's loop on all cores (``prange``) for registers of at least
:data:`PARALLEL_MIN_AMPLITUDES` amplitudes while the machine has idle cores; it runs on numba's
workqueue layer, which (unlike GNU OpenMP) lets a process that has used it fork, as
:func:`qnncourse.plateaus.variance_scan`'s process pool does, and one threaded call runs at a
time because that layer is not re-entrant. ``QNNCOURSE_THREADS=0`` (or :data:`PARALLEL` set to
``False``) keeps every gate on one thread.
:func:`qnncourse.simulators.statevector.uses_compiled` decides which registers run here at all.
Functions are compiled on first use and cached on disk
(``cache=True``), so later processes load them instead of compiling.
"""

from __future__ import annotations

import os
import threading
import types
from contextlib import contextmanager
from dataclasses import dataclass

import numba
import numpy as np
from numba import prange

__all__ = ["PARALLEL", "PARALLEL_MAX_LOAD", "PARALLEL_MIN_AMPLITUDES", "Program",
           "adjoint_sweep", "apply", "lower", "run"]

# Threads run on numba's workqueue layer, the one whose processes may fork (variance_scan's
# pool forks; GNU OpenMP aborts a forked child of a process whose thread pool has started).
# It is chosen here unless NUMBA_THREADING_LAYER says otherwise; with any other layer the
# threaded build is not used. QNNCOURSE_THREADS=0 keeps every gate on one thread.
if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"
PARALLEL = os.environ.get("QNNCOURSE_THREADS", "1") != "0"
# Registers with at least this many amplitudes (per state) use the multi-threaded kernels.
# Below it waking the threads at every gate costs more than they save (measured: n = 18 took
# 0.27 s threaded against 0.19 s serial, n = 20 0.81 s against 1.36 s).
PARALLEL_MIN_AMPLITUDES = 2**19
# ... but only while the machine has idle cores: above this load average per core, threads
# that wait for each other at every gate run several times slower than one thread (measured
# 10x slower at n = 16 with a load of 12 on 2 cores).
PARALLEL_MAX_LOAD = 0.75
# The workqueue layer must not be entered by two threads at once: one threaded call at a time.
_LAUNCH = threading.Lock()

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


def _cmul(ar, ai, x, y):
    """:math:`(a_r + i a_i)(x + i y)` as a (real, imaginary) pair."""
    return ar * x - ai * y, ar * y + ai * x


def _mix(r0, j0, r1, j1, k0, k1, m):
    """:math:`(p_0, p_1) \\leftarrow (m_{00}p_0 + m_{01}p_1,\\; m_{10}p_0 + m_{11}p_1)` for
    :math:`p_0 = r_0[k_0] + i j_0[k_0]`, :math:`p_1 = r_1[k_1] + i j_1[k_1]`; ``m`` holds the
    real and imaginary parts ``(m00r, m00i, m01r, m01i, m10r, m10i, m11r, m11i)``."""
    x0, y0, x1, y1 = r0[k0], j0[k0], r1[k1], j1[k1]
    a, b = _cmul(m[0], m[1], x0, y0)
    c, d = _cmul(m[2], m[3], x1, y1)
    e, f = _cmul(m[4], m[5], x0, y0)
    g, h = _cmul(m[6], m[7], x1, y1)
    r0[k0] = a + c
    j0[k0] = b + d
    r1[k1] = e + g
    j1[k1] = f + h


def _mix_pairs(re, im, t, xmask, m):
    """:func:`_mix` on every pair ``(i0, i0 ^ xmask)`` with bit ``t`` (the top bit of
    ``xmask``) clear in ``i0``. For a one-qubit word the partner is ``i0 + 2**t``: the two
    halves of each block of ``2**(t+1)`` are taken as separate slices (for ``t < 3`` with the
    block size a constant), a shape LLVM vectorises."""
    dim = re.shape[0]
    block = 1 << t
    if xmask != block:
        for j in prange(dim >> 1):
            i0 = _insert_zero(j, t)
            _mix(re, im, re, im, i0, i0 ^ xmask, m)
    elif t == 0:
        for j in prange(dim >> 1):
            _mix(re, im, re, im, 2 * j, 2 * j + 1, m)
    elif t == 1:
        for j in prange(dim >> 1):
            i0 = (j >> 1) * 4 + (j & 1)
            _mix(re, im, re, im, i0, i0 + 2, m)
    elif t == 2:
        for j in prange(dim >> 1):
            i0 = (j >> 2) * 8 + (j & 3)
            _mix(re, im, re, im, i0, i0 + 4, m)
    else:
        for hi in prange(dim >> (t + 1)):
            base = hi << (t + 1)
            r0, r1 = re[base:base + block], re[base + block:base + 2 * block]
            j0, j1 = im[base:base + block], im[base + block:base + 2 * block]
            for lo in range(block):
                _mix(r0, j0, r1, j1, lo, lo, m)


def _rotate(re, im, xmask, zmask, phase, c, s):
    """In place: :math:`\\psi \\leftarrow c\\,\\psi - i s\\,P\\psi` (``s = -sin`` inverts)."""
    dim = re.shape[0]
    if xmask == 0:
        # diagonal: (c - i s sigma) psi with sigma = (-1)^{|r & z|}; for one Z the pairs
        # (bit clear, bit set) take c - i s and c + i s, in the vectorised pair loops
        if zmask != 0 and zmask & (zmask - 1) == 0:
            _mix_pairs(re, im, _top_bit(zmask), zmask, (c, -s, 0.0, 0.0, 0.0, 0.0, c, s))
            return
        for r in prange(dim):
            ss = s * (1.0 - 2.0 * _parity(r & zmask))
            x, y = re[r], im[r]
            re[r] = c * x + ss * y
            im[r] = c * y - ss * x
        return
    t, zrest, flip = _layout(xmask, zmask)
    a = complex(0.0, -s) * phase                     # -i s (-i)^nY
    if zrest == 0:
        # constant phases (every one-qubit word): c p0 + a p1, c p1 + a flip p0
        _mix_pairs(re, im, t, xmask,
                   (c, 0.0, a.real, a.imag, flip * a.real, flip * a.imag, c, 0.0))
        return
    for j in prange(dim >> 1):
        i0 = _insert_zero(j, t)
        sa = (1.0 - 2.0 * _parity(i0 & zrest)) * a
        _mix(re, im, re, im, i0, i0 ^ xmask,
             (c, 0.0, sa.real, sa.imag, flip * sa.real, flip * sa.imag, c, 0.0))


def _fixed(re, im, kind, nsub, b0, b1, off, u):
    """In place: a fixed gate on one (``b1 < 0``) or two qubits, given by its 4x4-padded
    matrix ``u`` over sub-indices with bit offsets ``off``; a diagonal gate (``kind`` 1)
    touches only the sub-indices whose entry is not 1."""
    dim = re.shape[0]
    blocks = dim >> (1 if nsub == 2 else 2)
    if kind == 1:
        for a in range(nsub):
            d = u[a, a]
            if d == 1.0:
                continue
            for j in prange(blocks):
                i = _insert_zero(j, b0) if nsub == 2 else _insert_zero(_insert_zero(j, b0), b1)
                r = i + off[a]
                re[r], im[r] = _cmul(d.real, d.imag, re[r], im[r])
        return
    if nsub == 2:
        _mix_pairs(re, im, b0, 1 << b0,
                   (u[0, 0].real, u[0, 0].imag, u[0, 1].real, u[0, 1].imag,
                    u[1, 0].real, u[1, 0].imag, u[1, 1].real, u[1, 1].imag))
        return
    for j in prange(blocks):
        i = _insert_zero(_insert_zero(j, b0), b1)
        k0, k1, k2, k3 = i + off[0], i + off[1], i + off[2], i + off[3]
        x0, x1, x2, x3 = re[k0], re[k1], re[k2], re[k3]
        y0, y1, y2, y3 = im[k0], im[k1], im[k2], im[k3]
        for a in range(4):
            k = i + off[a]
            p0, q0 = _cmul(u[a, 0].real, u[a, 0].imag, x0, y0)
            p1, q1 = _cmul(u[a, 1].real, u[a, 1].imag, x1, y1)
            p2, q2 = _cmul(u[a, 2].real, u[a, 2].imag, x2, y2)
            p3, q3 = _cmul(u[a, 3].real, u[a, 3].imag, x3, y3)
            re[k] = p0 + p1 + p2 + p3
            im[k] = q0 + q1 + q2 + q3


def _adjoint_mix(r0, j0, r1, j1, s0, t0, s1, t1, k0, k1, c, s, g):
    r"""One pair of the adjoint step (:math:`\psi` in ``r, j``, :math:`\lambda` in ``s, t``,
    :math:`(-iP\psi)_{k_0} = g_0\psi_{k_1}`, :math:`(-iP\psi)_{k_1} = g_1\psi_{k_0}`,
    ``g = (g0r, g0i, g1r, g1i)``): returns
    :math:`\mathrm{Re}(\bar\lambda_{k_0}(-iP\psi)_{k_0} + \bar\lambda_{k_1}(-iP\psi)_{k_1})`
    and applies :math:`c - s(-iP)` to both states."""
    x0, y0, x1, y1 = r0[k0], j0[k0], r1[k1], j1[k1]
    l0x, l0y, l1x, l1y = s0[k0], t0[k0], s1[k1], t1[k1]
    q0x, q0y = _cmul(g[0], g[1], x1, y1)
    q1x, q1y = _cmul(g[2], g[3], x0, y0)
    m0x, m0y = _cmul(g[0], g[1], l1x, l1y)
    m1x, m1y = _cmul(g[2], g[3], l0x, l0y)
    r0[k0] = c * x0 - s * q0x
    j0[k0] = c * y0 - s * q0y
    r1[k1] = c * x1 - s * q1x
    j1[k1] = c * y1 - s * q1y
    s0[k0] = c * l0x - s * m0x
    t0[k0] = c * l0y - s * m0y
    s1[k1] = c * l1x - s * m1x
    t1[k1] = c * l1y - s * m1y
    return l0x * q0x + l0y * q0y + l1x * q1x + l1y * q1y


def _adjoint_pairs(re, im, lre, lim, t, xmask, c, s, g):
    """:func:`_adjoint_mix` over every pair, in the loop shapes of :func:`_mix_pairs`."""
    dim = re.shape[0]
    block = 1 << t
    acc = 0.0
    if xmask != block:
        for j in prange(dim >> 1):
            i0 = _insert_zero(j, t)
            acc += _adjoint_mix(re, im, re, im, lre, lim, lre, lim, i0, i0 ^ xmask, c, s, g)
    elif t == 0:
        for j in prange(dim >> 1):
            acc += _adjoint_mix(re, im, re, im, lre, lim, lre, lim, 2 * j, 2 * j + 1, c, s, g)
    elif t == 1:
        for j in prange(dim >> 1):
            i0 = (j >> 1) * 4 + (j & 1)
            acc += _adjoint_mix(re, im, re, im, lre, lim, lre, lim, i0, i0 + 2, c, s, g)
    elif t == 2:
        for j in prange(dim >> 1):
            i0 = (j >> 2) * 8 + (j & 3)
            acc += _adjoint_mix(re, im, re, im, lre, lim, lre, lim, i0, i0 + 4, c, s, g)
    else:
        for hi in prange(dim >> (t + 1)):
            base = hi << (t + 1)
            upper = base + block
            r0, r1 = re[base:upper], re[upper:upper + block]
            j0, j1 = im[base:upper], im[upper:upper + block]
            s0, s1 = lre[base:upper], lre[upper:upper + block]
            t0, t1 = lim[base:upper], lim[upper:upper + block]
            part = 0.0
            for lo in range(block):
                part += _adjoint_mix(r0, j0, r1, j1, s0, t0, s1, t1, lo, lo, c, s, g)
            acc += part
    return acc


def _adjoint_rotation(re, im, lre, lim, xmask, zmask, phase, c, s):
    r"""One step of the adjoint sweep for a rotation: returns
    :math:`\mathrm{Re}\langle\lambda|(-iP)|\psi\rangle` and, in the same pass, applies
    :math:`R_P^\dagger` (``c + i s P``) to ``psi`` and ``lam``."""
    dim = re.shape[0]
    if xmask == 0:
        # -iP = -i sigma: the derivative is sigma Im(conj(l) p); R^dagger = c + i s sigma
        acc = 0.0
        for r in prange(dim):
            sigma = 1.0 - 2.0 * _parity(r & zmask)
            x, y, lx, ly = re[r], im[r], lre[r], lim[r]
            acc += sigma * (lx * y - ly * x)
            ss = s * sigma
            re[r] = c * x - ss * y
            im[r] = c * y + ss * x
            lre[r] = c * lx - ss * ly
            lim[r] = c * ly + ss * lx
        return acc
    t, zrest, flip = _layout(xmask, zmask)
    g = -1j * phase                  # -i (-i)^nY: (-iP psi)_{i0} = g sigma psi_{i1}
    if zrest == 0:
        return _adjoint_pairs(re, im, lre, lim, t, xmask, c, s,
                              (g.real, g.imag, flip * g.real, flip * g.imag))
    acc = 0.0
    for j in prange(dim >> 1):
        i0 = _insert_zero(j, t)
        sg = (1.0 - 2.0 * _parity(i0 & zrest)) * g
        acc += _adjoint_mix(re, im, re, im, lre, lim, lre, lim, i0, i0 ^ xmask, c, s,
                            (sg.real, sg.imag, flip * sg.real, flip * sg.imag))
    return acc


def _run(re, im, kind, xmask, zmask, phase, nsub, bits, offset, matrix, cos_half, sin_half,
         start, stop):
    """Operations ``start:stop`` on every row of the state ``re + i im`` ``(S, 2**n)``, in
    place."""
    for row in range(re.shape[0]):
        x = re[row]
        y = im[row]
        for k in range(start, stop):
            if kind[k] == 0:
                _rotate(x, y, xmask[k], zmask[k], phase[k], cos_half[row, k], sin_half[row, k])
            else:
                _fixed(x, y, kind[k], nsub[k], bits[k, 0], bits[k, 1], offset[k], matrix[k])


def _sweep(re, im, lre, lim, kind, xmask, zmask, phase, nsub, bits, offset, inverse, cos_half,
           sin_half, grads):
    """The adjoint sweep over all operations, from the last: derivatives into ``grads``
    ``(S, n_ops)`` (rotations only); the states are overwritten."""
    n_ops = kind.shape[0]
    for row in range(re.shape[0]):
        x, y, lx, ly = re[row], im[row], lre[row], lim[row]
        for k in range(n_ops - 1, -1, -1):
            if kind[k] == 0:
                grads[row, k] = _adjoint_rotation(x, y, lx, ly, xmask[k], zmask[k], phase[k],
                                                  cos_half[row, k], sin_half[row, k])
            elif k > 0:
                _fixed(x, y, kind[k], nsub[k], bits[k, 0], bits[k, 1], offset[k], inverse[k])
                _fixed(lx, ly, kind[k], nsub[k], bits[k, 0], bits[k, 1], offset[k],
                       inverse[k])


def _specialised(func, suffix: str, replace: dict):
    """A copy of ``func`` named ``<name><suffix>`` whose global names in ``replace`` are bound
    to other objects. numba resolves a function's globals when it compiles it and caches it
    under its qualified name, so one Python source gives a serial and a threaded build, each
    cached on its own."""
    scope = dict(func.__globals__)
    scope.update(replace)
    copy = types.FunctionType(func.__code__, scope, func.__name__ + suffix, func.__defaults__)
    copy.__qualname__ = copy.__name__
    copy.__module__ = func.__module__
    return copy


# The helpers are inlined. Each gate kernel is built twice: serial (``prange`` is ``range``; no
# threading layer is ever started, so a process that used it may fork) and threaded (all of
# numba's threads over the amplitudes). The drivers ``_run`` and ``_sweep`` loop over the
# operations and call the build of their own kind.
_inline = numba.njit(inline="always", cache=True)
_parity = _inline(_parity)
_insert_zero = _inline(_insert_zero)
_top_bit = _inline(_top_bit)
_layout = _inline(_layout)
_cmul = _inline(_cmul)
_mix = _inline(_mix)
_mix_pairs = _inline(_mix_pairs)
_adjoint_mix = _inline(_adjoint_mix)
_adjoint_pairs = _inline(_adjoint_pairs)
# Reassociation lets LLVM vectorise the derivative's sum; results differ from the numpy
# path in the last bits only (the tests compare at 1e-12).
_FASTMATH = {"reassoc", "contract", "nsz", "arcp"}
_BUILDS = {}
for _suffix, _options in (("_serial", {}), ("_threaded", {"parallel": True})):
    _jit = numba.njit(cache=True, nogil=True, fastmath=_FASTMATH, **_options)
    _gates = {f.__name__: _jit(_specialised(f, _suffix, {}))
              for f in (_rotate, _fixed, _adjoint_rotation)}
    _driver = numba.njit(cache=True, nogil=True)
    _BUILDS[bool(_options)] = (_driver(_specialised(_run, _suffix, _gates)),
                               _driver(_specialised(_sweep, _suffix, _gates)))
del _suffix, _options, _jit, _gates, _driver


def _workqueue() -> bool:
    """Whether threaded kernels would run on the workqueue layer (started or configured)."""
    try:
        return numba.threading_layer() == "workqueue"
    except ValueError:  # no parallel code has run yet: the configured layer will start
        return numba.config.THREADING_LAYER == "workqueue"


def _use_threads(dim: int) -> bool:
    if (not PARALLEL or dim < PARALLEL_MIN_AMPLITUDES or numba.config.NUMBA_NUM_THREADS < 2
            or not _workqueue()):
        return False
    try:
        load = os.getloadavg()[0] / (os.cpu_count() or 1)
    except OSError:  # no load average on this platform
        return True
    return load < PARALLEL_MAX_LOAD


@contextmanager
def _launch(threaded: bool):
    """Hold :data:`_LAUNCH` around a threaded call (the serial build needs no lock)."""
    if not threaded:
        yield
        return
    with _LAUNCH:
        yield


def _split_rows(psi, re, im):
    for row in range(psi.shape[0]):
        for i in range(psi.shape[1]):
            v = psi[row, i]
            re[row, i] = v.real
            im[row, i] = v.imag


def _merge_rows(psi, re, im):
    for row in range(psi.shape[0]):
        for i in range(psi.shape[1]):
            psi[row, i] = complex(re[row, i], im[row, i])


_split_rows = numba.njit(cache=True, nogil=True)(_split_rows)
_merge_rows = numba.njit(cache=True, nogil=True)(_merge_rows)


def _split(psi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Real and imaginary parts as two contiguous arrays, in one pass: the kernels work on
    them, since separate arrays let LLVM vectorise a gate's loop (interleaved complex numbers
    did not)."""
    re = np.empty(psi.shape)
    im = np.empty(psi.shape)
    _split_rows(psi, re, im)
    return re, im


def _merge(psi: np.ndarray, re: np.ndarray, im: np.ndarray) -> np.ndarray:
    _merge_rows(psi, re, im)
    return psi


def _arrays(program: Program):
    return (program.kind, program.xmask, program.zmask, program.phase, program.nsub,
            program.bits, program.offset)


def run(program: Program, psi: np.ndarray, cos_half: np.ndarray, sin_half: np.ndarray,
        start: int = 0, stop: int | None = None) -> np.ndarray:
    """Apply operations ``start:stop`` to every row of ``psi`` (``(S, 2**n)``, complex,
    C-contiguous) in place; ``cos_half``/``sin_half`` are ``(S, n_ops)`` (any values for
    fixed gates). Returns ``psi``."""
    stop = len(program.kind) if stop is None else stop
    threaded = _use_threads(psi.shape[1])
    drive, _ = _BUILDS[threaded]
    re, im = _split(psi)
    with _launch(threaded):
        drive(re, im, *_arrays(program), program.matrix, cos_half, sin_half, start, stop)
    return _merge(psi, re, im)


def adjoint_sweep(program: Program, psi: np.ndarray, lam: np.ndarray, cos_half: np.ndarray,
                  sin_half: np.ndarray) -> np.ndarray:
    r"""Derivatives ``(S, n_ops)`` by every rotation angle (0 for fixed gates) from the final
    states ``psi`` and :math:`\lambda = O\psi`; both arrays are overwritten."""
    grads = np.zeros(cos_half.shape)
    threaded = _use_threads(psi.shape[1])
    _, sweep = _BUILDS[threaded]
    with _launch(threaded):
        sweep(*_split(psi), *_split(lam), *_arrays(program), program.inverse, cos_half,
              sin_half, grads)
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
