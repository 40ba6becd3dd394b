r"""Compiled (numba) kernels for the fused density-matrix path of :mod:`.superop`.

A density matrix :math:`\rho` on ``n`` qubits is held as its row-major vector
:math:`\mathrm{vec}(\rho)` of :math:`4^n` entries, real and imaginary parts in two float arrays
(as in :mod:`.kernels`: LLVM vectorises loops over separate arrays, not over interleaved
complex numbers). Entry index :math:`r\,2^n + c` has the row bit of qubit ``q`` at position
:math:`2n-1-q` and its column bit at :math:`n-1-q`. Every step of a program is a
:math:`4\times 4` matrix :math:`M` acting on two index bits ``hi > lo`` (sub-index
``2 b_hi + b_lo``):

.. math:: v_{i + o_a} \leftarrow \sum_b M_{ab}\, v_{i + o_b},
   \qquad o = (0, 2^{lo}, 2^{hi}, 2^{hi} + 2^{lo}),

for every ``i`` with both bits clear. A one-qubit superoperator (gates and channels of one
qubit, fused) is such a step on the qubit's (row, column) bits; a two-qubit gate is two steps,
:math:`U` on the row bits and :math:`\bar U` on the column bits. Diagonal steps scale only the
entries whose factor is not 1 (a CZ touches a quarter of the entries).

The backward sweep of the adjoint method evolves the observable through the adjoint steps and
reduces, per step, the :math:`4\times 4` matrix
:math:`G_{ab} = \sum_i \overline{O_{i+o_a}}\,\rho_{i+o_b}` from which every derivative inside
the step follows (see :mod:`.superop`); the state before each step is either un-computed
through the inverse steps (:func:`backward`) or recorded from a checkpoint
(:func:`record`, :func:`backward_from_records`).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["backward", "backward_from_records", "diagonal_of", "forward", "record", "split"]

_jit = numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract", "nsz", "arcp"})


@_jit
def _dense(re, im, hi, lo, mr, mi):
    """Apply the 4x4 matrix ``mr + i mi`` on bits ``hi > lo`` in place."""
    size = re.shape[0]
    bl = 1 << lo
    bh = 1 << hi
    a00, a01, a02, a03 = mr[0, 0], mr[0, 1], mr[0, 2], mr[0, 3]
    a10, a11, a12, a13 = mr[1, 0], mr[1, 1], mr[1, 2], mr[1, 3]
    a20, a21, a22, a23 = mr[2, 0], mr[2, 1], mr[2, 2], mr[2, 3]
    a30, a31, a32, a33 = mr[3, 0], mr[3, 1], mr[3, 2], mr[3, 3]
    b00, b01, b02, b03 = mi[0, 0], mi[0, 1], mi[0, 2], mi[0, 3]
    b10, b11, b12, b13 = mi[1, 0], mi[1, 1], mi[1, 2], mi[1, 3]
    b20, b21, b22, b23 = mi[2, 0], mi[2, 1], mi[2, 2], mi[2, 3]
    b30, b31, b32, b33 = mi[3, 0], mi[3, 1], mi[3, 2], mi[3, 3]
    for top in range(size >> (hi + 1)):
        for mid in range(1 << (hi - lo - 1)):
            base = (top << (hi + 1)) | (mid << (lo + 1))
            for i in range(base, base + bl):
                x0, x1, x2, x3 = re[i], re[i + bl], re[i + bh], re[i + bh + bl]
                y0, y1, y2, y3 = im[i], im[i + bl], im[i + bh], im[i + bh + bl]
                re[i] = (a00 * x0 - b00 * y0 + a01 * x1 - b01 * y1
                         + a02 * x2 - b02 * y2 + a03 * x3 - b03 * y3)
                im[i] = (a00 * y0 + b00 * x0 + a01 * y1 + b01 * x1
                         + a02 * y2 + b02 * x2 + a03 * y3 + b03 * x3)
                re[i + bl] = (a10 * x0 - b10 * y0 + a11 * x1 - b11 * y1
                              + a12 * x2 - b12 * y2 + a13 * x3 - b13 * y3)
                im[i + bl] = (a10 * y0 + b10 * x0 + a11 * y1 + b11 * x1
                              + a12 * y2 + b12 * x2 + a13 * y3 + b13 * x3)
                re[i + bh] = (a20 * x0 - b20 * y0 + a21 * x1 - b21 * y1
                              + a22 * x2 - b22 * y2 + a23 * x3 - b23 * y3)
                im[i + bh] = (a20 * y0 + b20 * x0 + a21 * y1 + b21 * x1
                              + a22 * y2 + b22 * x2 + a23 * y3 + b23 * x3)
                re[i + bh + bl] = (a30 * x0 - b30 * y0 + a31 * x1 - b31 * y1
                                   + a32 * x2 - b32 * y2 + a33 * x3 - b33 * y3)
                im[i + bh + bl] = (a30 * y0 + b30 * x0 + a31 * y1 + b31 * x1
                                   + a32 * y2 + b32 * x2 + a33 * y3 + b33 * x3)


@_jit
def _diagonal(re, im, hi, lo, mr, mi):
    """Apply the diagonal of ``mr + i mi`` on bits ``hi > lo``, skipping factors equal to 1."""
    size = re.shape[0]
    bl = 1 << lo
    bh = 1 << hi
    for a in range(4):
        dr, di = mr[a, a], mi[a, a]
        if dr == 1.0 and di == 0.0:
            continue
        off = (bh if a >= 2 else 0) + (bl if a % 2 == 1 else 0)
        for top in range(size >> (hi + 1)):
            for mid in range(1 << (hi - lo - 1)):
                base = ((top << (hi + 1)) | (mid << (lo + 1))) + off
                for i in range(base, base + bl):
                    x, y = re[i], im[i]
                    re[i] = dr * x - di * y
                    im[i] = dr * y + di * x


@_jit
def _step(re, im, hi, lo, diag, mr, mi):
    if diag:
        _diagonal(re, im, hi, lo, mr, mi)
    else:
        _dense(re, im, hi, lo, mr, mi)


@_jit
def _reduce(ore, oim, re, im, hi, lo, g):
    r"""``g[a, b] = sum_i conj(O[i + o_a]) rho[i + o_b]`` (complex, shape (4, 4)).

    One pass: each group of four entries of ``O`` and of ``rho`` is read once and feeds all 16
    products (a loop per ``(a, b)`` reads the arrays 16 times)."""
    size = re.shape[0]
    bl = 1 << lo
    bh = 1 << hi
    acc = np.zeros((4, 4, 2))
    for top in range(size >> (hi + 1)):
        for mid in range(1 << (hi - lo - 1)):
            base = (top << (hi + 1)) | (mid << (lo + 1))
            for a in range(2):  # two halves of the rows of G: 16 accumulators in registers
                oa0 = bh * a
                oa1 = bh * a + bl
                s00r = s00i = s01r = s01i = s02r = s02i = s03r = s03i = 0.0
                s10r = s10i = s11r = s11i = s12r = s12i = s13r = s13i = 0.0
                for i in range(base, base + bl):
                    pr0, pi0 = ore[i + oa0], oim[i + oa0]
                    pr1, pi1 = ore[i + oa1], oim[i + oa1]
                    qr0, qi0 = re[i], im[i]
                    qr1, qi1 = re[i + bl], im[i + bl]
                    qr2, qi2 = re[i + bh], im[i + bh]
                    qr3, qi3 = re[i + bh + bl], im[i + bh + bl]
                    s00r += pr0 * qr0 + pi0 * qi0
                    s00i += pr0 * qi0 - pi0 * qr0
                    s01r += pr0 * qr1 + pi0 * qi1
                    s01i += pr0 * qi1 - pi0 * qr1
                    s02r += pr0 * qr2 + pi0 * qi2
                    s02i += pr0 * qi2 - pi0 * qr2
                    s03r += pr0 * qr3 + pi0 * qi3
                    s03i += pr0 * qi3 - pi0 * qr3
                    s10r += pr1 * qr0 + pi1 * qi0
                    s10i += pr1 * qi0 - pi1 * qr0
                    s11r += pr1 * qr1 + pi1 * qi1
                    s11i += pr1 * qi1 - pi1 * qr1
                    s12r += pr1 * qr2 + pi1 * qi2
                    s12i += pr1 * qi2 - pi1 * qr2
                    s13r += pr1 * qr3 + pi1 * qi3
                    s13i += pr1 * qi3 - pi1 * qr3
                r0 = 2 * a
                acc[r0, 0, 0] += s00r
                acc[r0, 0, 1] += s00i
                acc[r0, 1, 0] += s01r
                acc[r0, 1, 1] += s01i
                acc[r0, 2, 0] += s02r
                acc[r0, 2, 1] += s02i
                acc[r0, 3, 0] += s03r
                acc[r0, 3, 1] += s03i
                acc[r0 + 1, 0, 0] += s10r
                acc[r0 + 1, 0, 1] += s10i
                acc[r0 + 1, 1, 0] += s11r
                acc[r0 + 1, 1, 1] += s11i
                acc[r0 + 1, 2, 0] += s12r
                acc[r0 + 1, 2, 1] += s12i
                acc[r0 + 1, 3, 0] += s13r
                acc[r0 + 1, 3, 1] += s13i
    for a in range(4):
        for b in range(4):
            g[a, b] = complex(acc[a, b, 0], acc[a, b, 1])


@_jit
def _forward(re, im, bits, diag, mr, mi, start, stop):
    for s in range(start, stop):
        _step(re, im, bits[s, 0], bits[s, 1], diag[s], mr[s], mi[s])


@_jit
def _backward(re, im, ore, oim, bits, diag, inv_r, inv_i, adj_r, adj_i, need, g):
    for s in range(bits.shape[0] - 1, -1, -1):
        hi, lo = bits[s, 0], bits[s, 1]
        _step(re, im, hi, lo, diag[s], inv_r[s], inv_i[s])
        if need[s]:
            _reduce(ore, oim, re, im, hi, lo, g[s])
        if s > 0:
            _step(ore, oim, hi, lo, diag[s], adj_r[s], adj_i[s])


@_jit
def _record(re, im, bits, diag, mr, mi, need, start, stop, rec_re, rec_im):
    k = 0
    for s in range(start, stop):
        if need[s]:
            rec_re[k, :] = re
            rec_im[k, :] = im
            k += 1
        _step(re, im, bits[s, 0], bits[s, 1], diag[s], mr[s], mi[s])


@_jit
def _backward_from_records(ore, oim, rec_re, rec_im, bits, diag, adj_r, adj_i, need, g,
                           start, stop):
    k = 0
    for s in range(start, stop):
        if need[s]:
            k += 1
    for s in range(stop - 1, start - 1, -1):
        hi, lo = bits[s, 0], bits[s, 1]
        if need[s]:
            k -= 1
            _reduce(ore, oim, rec_re[k], rec_im[k], hi, lo, g[s])
        if s > 0:
            _step(ore, oim, hi, lo, diag[s], adj_r[s], adj_i[s])


def forward(re: np.ndarray, im: np.ndarray, bits: np.ndarray, diag: np.ndarray,
            mr: np.ndarray, mi: np.ndarray, start: int = 0, stop: int | None = None) -> None:
    """Steps ``start`` to ``stop - 1`` (default: every step) on the state ``re + i im`` (one
    row) in place; ``bits`` ``(m, 2)`` holds ``(hi, lo)``, ``diag`` marks diagonal steps,
    ``mr``/``mi`` ``(m, 4, 4)`` the matrices."""
    _forward(re, im, bits, diag, mr, mi, start, bits.shape[0] if stop is None else stop)


def backward(re: np.ndarray, im: np.ndarray, ore: np.ndarray, oim: np.ndarray,
             bits: np.ndarray, diag: np.ndarray, inverse: np.ndarray, adjoint: np.ndarray,
             need: np.ndarray, g: np.ndarray) -> None:
    """The adjoint sweep over one row, from the last step: ``rho`` (``re, im``, the final
    state) goes back through the ``inverse`` steps, ``O`` (``ore, oim``) through the
    ``adjoint`` steps (complex ``(m, 4, 4)``); ``g[s]`` receives the reduction of step ``s``
    where ``need[s]``. Both states are overwritten."""
    _backward(re, im, ore, oim, bits, diag, inverse.real.copy(), inverse.imag.copy(),
              adjoint.real.copy(), adjoint.imag.copy(), need, g)


def record(re: np.ndarray, im: np.ndarray, bits: np.ndarray, diag: np.ndarray,
           mr: np.ndarray, mi: np.ndarray, need: np.ndarray, start: int, stop: int,
           rec_re: np.ndarray, rec_im: np.ndarray) -> None:
    """Like :func:`forward` over steps ``start`` to ``stop - 1``, keeping the state *before* each
    step ``s`` with ``need[s]`` in the next row of ``rec_re``/``rec_im`` (``(K, 4**n)``, ``K``
    at least the number of such steps): only those steps' reductions read a state."""
    _record(re, im, bits, diag, mr, mi, need, start, stop, rec_re, rec_im)


def backward_from_records(ore: np.ndarray, oim: np.ndarray, rec_re: np.ndarray,
                          rec_im: np.ndarray, bits: np.ndarray, diag: np.ndarray,
                          adj_r: np.ndarray, adj_i: np.ndarray, need: np.ndarray,
                          g: np.ndarray, start: int, stop: int) -> None:
    """The adjoint sweep over steps ``stop - 1`` down to ``start`` with the states before each
    step taken from :func:`record` instead of un-computed: ``O`` (``ore, oim``, overwritten)
    goes back through the adjoint steps (``adj_r + i adj_i``), ``g[s]`` receives the reduction
    of step ``s`` where ``need[s]``."""
    _backward_from_records(ore, oim, rec_re, rec_im, bits, diag, adj_r, adj_i, need, g,
                           start, stop)


@_jit
def _split_into(v, re, im):
    for i in range(v.shape[0]):
        re[i] = v[i].real
        im[i] = v[i].imag


def split(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Real and imaginary parts of a complex vector as two new contiguous arrays."""
    re = np.empty(v.shape[0])
    im = np.empty(v.shape[0])
    _split_into(np.ascontiguousarray(v), re, im)
    return re, im


def diagonal_of(re: np.ndarray, im: np.ndarray, dim: int) -> np.ndarray:
    """The diagonal :math:`\\rho_{ii}` (complex) of the row-major vector ``re + i im``."""
    return re[:: dim + 1] + 1j * im[:: dim + 1]
