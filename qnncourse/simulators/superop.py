r"""Fused superoperators: the fast path of the density-matrix simulator.

A noisy circuit acts on :math:`\mathrm{vec}(\rho)` (row-major) by superoperators. A one-qubit
gate :math:`U` on qubit ``q`` is :math:`U \otimes \bar U` on the qubit's (row, column) index
bits, a one-qubit channel with Kraus operators :math:`K_k` is its transfer matrix
:math:`T = \sum_k K_k \otimes \bar K_k` there, so all the gates and channels of one qubit
between two of its two-qubit gates multiply into **one** :math:`4\times 4` matrix: one pass over
the :math:`4^n` entries instead of one per gate and per channel. A two-qubit gate is :math:`U`
on its row bits and :math:`\bar U` on its column bits (two passes; diagonal ones such as CZ touch
a quarter of the entries). The passes are the compiled kernels of :mod:`.superop_kernels`,
a whole circuit per call.

For a Pauli rotation :math:`R_P(a) = \cos\tfrac a2 - i\sin\tfrac a2 P` every factor is a
trigonometric polynomial,

.. math:: F(a) = F_0 + \cos\tfrac a2\,F_1 + \sin\tfrac a2\,F_2 + \cos a\,F_3 + \sin a\,F_4,

(one-qubit superoperators use :math:`F_0, F_3, F_4`, row or column parts of two-qubit
rotations :math:`F_1, F_2`), so steps and their derivatives are evaluated for a whole batch of
angles with a few small matrix products.

Gradients (adjoint method). With step matrices :math:`M_1, \dots, M_m` and the Heisenberg
observable :math:`\tilde O_s = M_{s+1}^\dagger \cdots M_m^\dagger\,\mathrm{vec}(O)`,
:math:`C = \langle \tilde O_s, M_s \rho_{s-1}\rangle`, so the derivative by an angle inside step
:math:`s` is :math:`\mathrm{Re}\sum_{ab} (\partial M_s)_{ab} G^{(s)}_{ab}` with the
:math:`4\times 4` reduction :math:`G^{(s)}_{ab} = \sum_{\text{rest}}
\overline{(\tilde O_s)_{a,\text{rest}}}\,(\rho_{s-1})_{b,\text{rest}}`: one reduction per step
gives the derivatives of all its gates. The backward sweep needs every :math:`\rho_{s-1}`, and
storing all of them (:math:`4^n` numbers each, a thousand steps for 10 qubits and 32 layers)
does not fit. Two ways round it:

* *un-computing*, :math:`\rho_{s-1} = M_s^{-1}\rho_s`: no storage at all, stable when the
  channels are far from singular. It is used when the product of the channels' condition
  numbers, a bound on how much rounding errors can grow, stays below
  :data:`MAX_AMPLIFICATION` (:attr:`SuperopProgram.invertible`);
* *checkpointing* (Griewank 1992) otherwise: the forward pass keeps the state at the start of
  every segment of :math:`K \approx \sqrt m` steps; the backward sweep re-runs each segment
  from its checkpoint, recording the :math:`K` states inside it, and consumes them. As many
  passes as un-computing (one forward, one re-run, one adjoint) for :math:`2\sqrt m` stored
  states, and no rounding error beyond the forward pass's however strongly the channels
  contract (deep circuits under amplitude damping, whose condition numbers multiply past
  :math:`10^{20}`).

References
----------
T. Jones, J. Gacon, arXiv:2009.02823 (2020) (adjoint differentiation, un-computing the
state); A. Griewank, "Achieving logarithmic growth of temporal and spatial complexity in reverse
automatic differentiation", Optim. Methods Softw. 1, 35-54 (1992) (checkpointing); C. J. Wood,
J. D. Biamonte, D. G. Cory, "Tensor networks and graphical calculus for open
quantum systems", Quantum Inf. Comput. 15, 759 (2015) (vectorisation and superoperators).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from qnncourse._validation import check_memory
from qnncourse.simulators import superop_kernels as sk

__all__ = ["MAX_AMPLIFICATION", "SuperopProgram"]

# Gradients un-compute the state through inverse channels only while the product of the
# channels' condition numbers stays below this (rounding errors grow by at most this factor:
# 1e4 x 1e-16 keeps the gradients good to ~1e-12); beyond it they checkpoint.
MAX_AMPLIFICATION = 1e4
# sub-index 2 b_hi + b_lo: swapping the two bits of a 4x4 matrix
_SWAP = np.array([0, 2, 1, 3])
_EYE4 = np.eye(4, dtype=complex)


class _Step:
    """One 4x4 pass on index bits ``(hi, lo)``: a product of factors, applied first to last.
    A factor is a constant matrix or ``(op_index, coefficients (5, 4, 4), is_rotation)``."""

    def __init__(self, hi: int, lo: int) -> None:
        self.swap = hi < lo
        self.hi, self.lo = max(hi, lo), min(hi, lo)
        self.factors: list = []

    def add(self, factor) -> None:
        if self.swap:  # store matrices in the (hi, lo) sub-index order of the kernels
            if isinstance(factor, np.ndarray):
                factor = factor[np.ix_(_SWAP, _SWAP)]
            else:
                k, coeffs, rot = factor
                factor = (k, coeffs[:, _SWAP][:, :, _SWAP], rot)
        self.factors.append(factor)

    def is_diagonal(self) -> bool:
        mats = [f if isinstance(f, np.ndarray) else f[1] for f in self.factors]
        return all(np.count_nonzero(m * (1 - np.eye(4))) == 0 for m in mats)


def _trig(angles: np.ndarray) -> np.ndarray:
    """``(S, 5)`` basis values ``1, cos(a/2), sin(a/2), cos a, sin a``."""
    return np.stack([np.ones_like(angles), np.cos(angles / 2), np.sin(angles / 2),
                     np.cos(angles), np.sin(angles)], axis=-1)


def _trig_derivative(angles: np.ndarray) -> np.ndarray:
    return np.stack([np.zeros_like(angles), -np.sin(angles / 2) / 2, np.cos(angles / 2) / 2,
                     -np.sin(angles), np.cos(angles)], axis=-1)


def _one_qubit_coefficients(op) -> np.ndarray:
    """``U(a) (x) conj(U(a)) = F0 + cos(a) F3 + sin(a) F4`` for a one-qubit rotation."""
    def sup(a):
        u = op.rotation_matrix(a)
        return np.kron(u, u.conj())
    m0, m_pi, m_half = sup(0.0), sup(np.pi), sup(np.pi / 2)
    coeffs = np.zeros((5, 4, 4), dtype=complex)
    coeffs[0] = (m0 + m_pi) / 2
    coeffs[3] = (m0 - m_pi) / 2
    coeffs[4] = m_half - coeffs[0]
    return coeffs


class SuperopProgram:
    """A noisy circuit compiled into fused :math:`4\\times4` steps (see the module docstring).

    Build it with :meth:`build`, which returns ``None`` for circuits this path does not cover
    (a gate on three or more qubits, a channel on two or more); the density simulator then
    uses its general path.
    """

    def __init__(self, n_qubits: int, steps: list[_Step], n_ops: int,
                 amplification: float) -> None:
        self.n_qubits = n_qubits
        self.n_ops = n_ops
        self._steps = steps
        self.amplification = amplification
        self.bits = np.array([[s.hi, s.lo] for s in steps], dtype=np.int64).reshape(-1, 2)
        self.diag = np.array([s.is_diagonal() for s in steps], dtype=np.bool_)
        self.need = np.array([any(not isinstance(f, np.ndarray) and f[2] for f in s.factors)
                              for s in steps], dtype=np.bool_)
        self._tabulate()

    def _tabulate(self) -> None:
        """One table of factors (entry 0 the identity, then the constant matrices, then the
        angle-dependent ones) and, per step, the table entries of its factors padded with the
        identity to a common length, so a batch of steps multiplies out in a few calls."""
        constants = [_EYE4]
        op_index, coeffs, places, rotation = [], [], [], []
        entries = []
        for s, step in enumerate(self._steps):
            row = []
            for j, f in enumerate(step.factors):
                if isinstance(f, np.ndarray):
                    row.append(("c", len(constants)))
                    constants.append(np.asarray(f, dtype=complex))
                else:
                    row.append(("a", len(op_index)))
                    op_index.append(f[0])
                    coeffs.append(f[1])
                    places.append((s, j))
                    rotation.append(f[2])
            entries.append(row)
        n_const = len(constants)
        width = max((len(r) for r in entries), default=1)
        self._index = np.zeros((len(self._steps), width), dtype=np.int64)
        for s, row in enumerate(entries):
            for j, (kind, i) in enumerate(row):
                self._index[s, j] = i if kind == "c" else n_const + i
        self._constants = np.array(constants)
        self._op_index = np.array(op_index, dtype=np.int64)
        self._coeffs = np.array(coeffs).reshape(-1, 5, 4, 4)
        self._places = np.array(places, dtype=np.int64).reshape(-1, 2)
        self._rotation = np.array(rotation, dtype=np.bool_)

    @property
    def invertible(self) -> bool:
        """Whether the backward sweep may un-compute states (see :data:`MAX_AMPLIFICATION`)."""
        return self.amplification < MAX_AMPLIFICATION

    @classmethod
    def build(cls, circuit, channel_steps: Sequence) -> SuperopProgram | None:
        """Fuse ``circuit`` and its channels (``ChannelStep``-like: ``after``, ``qubits``,
        ``kraus``), or ``None`` if an operation or channel is outside this path."""
        n = circuit.n_qubits
        after: dict[int, list] = {}
        for step in channel_steps:
            if len(step.qubits) != 1:
                return None
            after.setdefault(step.after, []).append(step)
        pending: dict[int, _Step] = {}
        steps: list[_Step] = []
        amplification = 1.0

        def flush(q: int) -> None:
            if q in pending:
                steps.append(pending.pop(q))

        for k, op in enumerate(circuit.operations):
            qubits = tuple(op.qubits)
            if len(qubits) == 1:
                q = qubits[0]
                step = pending.setdefault(q, _Step(2 * n - 1 - q, n - 1 - q))
                if op.kind == "fixed":
                    step.add(np.kron(op.matrix, np.conj(op.matrix)))
                else:
                    step.add((k, _one_qubit_coefficients(op), op.kind == "rotation"))
            elif len(qubits) == 2:
                q1, q2 = qubits
                flush(q1)
                flush(q2)
                for hi, lo, conj in ((2 * n - 1 - q1, 2 * n - 1 - q2, False),
                                     (n - 1 - q1, n - 1 - q2, True)):
                    step = _Step(hi, lo)
                    if op.kind == "fixed":
                        step.add(np.conj(op.matrix) if conj else np.asarray(op.matrix, complex))
                    else:
                        coeffs = np.zeros((5, 4, 4), dtype=complex)
                        for j, a in ((1, 0.0), (2, np.pi)):
                            u = op.rotation_matrix(a)
                            coeffs[j] = u.conj() if conj else u
                        step.add((k, coeffs, op.kind == "rotation"))
                    steps.append(step)
            else:
                return None
            for channel in after.get(k, ()):
                q = channel.qubits[0]
                transfer = sum(np.kron(m, m.conj()) for m in channel.kraus)
                amplification *= np.linalg.cond(transfer)
                pending.setdefault(q, _Step(2 * n - 1 - q, n - 1 - q)).add(transfer)
        for q in sorted(pending):
            flush(q)
        return cls(n, steps, len(circuit.operations), float(amplification))

    # -- step matrices -------------------------------------------------------------------------
    def _matrices(self, angles: np.ndarray, derivatives: bool = False):
        """Step matrices ``(S, m, 4, 4)`` per row of ``angles`` and, with ``derivatives``,
        ``(op_index (R,), step (R,), dM (S, R, 4, 4))`` for every rotation factor."""
        rows = angles.shape[0]
        a = angles[:, self._op_index]                                      # (S, F)
        varying = np.einsum("sfj,fjab->sfab", _trig(a), self._coeffs)
        table = np.concatenate([np.broadcast_to(self._constants, (rows,) + self._constants.shape),
                                varying], axis=1)
        width = self._index.shape[1]
        product = np.broadcast_to(_EYE4, (rows, len(self._steps), 4, 4))
        prefixes = []
        for j in range(width):
            prefixes.append(product)
            product = table[:, self._index[:, j]] @ product
        if not derivatives:
            return product, None
        suffixes = [None] * width
        suffix = np.broadcast_to(_EYE4, product.shape)
        for j in range(width - 1, -1, -1):
            suffixes[j] = suffix
            suffix = suffix @ table[:, self._index[:, j]]
        keep = np.flatnonzero(self._rotation)
        steps, places = self._places[keep, 0], self._places[keep, 1]
        d = np.einsum("sfj,fjab->sfab", _trig_derivative(a[:, keep]), self._coeffs[keep])
        pre = np.stack([prefixes[j][:, s] for s, j in zip(steps, places, strict=True)], axis=1) \
            if len(keep) else np.zeros((rows, 0, 4, 4), dtype=complex)
        suf = np.stack([suffixes[j][:, s] for s, j in zip(steps, places, strict=True)], axis=1) \
            if len(keep) else np.zeros((rows, 0, 4, 4), dtype=complex)
        return product, (self._op_index[keep], steps, suf @ d @ pre)

    # -- simulation ----------------------------------------------------------------------------
    def _check(self, angles: np.ndarray, arrays: int) -> None:
        check_memory(8 * arrays * 4**self.n_qubits,
                     f"{arrays // 2} fused density matrices on {self.n_qubits} qubits")

    def _initial(self) -> tuple[np.ndarray, np.ndarray]:
        """vec(|0...0><0...0|) as real and imaginary parts."""
        re = np.zeros(4**self.n_qubits)
        re[0] = 1.0
        return re, np.zeros(4**self.n_qubits)

    def _final(self, mats: np.ndarray, row: int) -> tuple[np.ndarray, np.ndarray]:
        re, im = self._initial()
        m = np.ascontiguousarray(mats[row])
        sk.forward(re, im, self.bits, self.diag, m.real.copy(), m.imag.copy())
        return re, im

    def states(self, angles: np.ndarray) -> np.ndarray:
        """Final density matrices ``(S, 2**n, 2**n)`` for operation angles ``(S, n_ops)``."""
        dim = 2**self.n_qubits
        self._check(angles, 2 + 2 * angles.shape[0])
        mats = np.ascontiguousarray(self._matrices(angles)[0])
        out = np.empty((angles.shape[0], dim, dim), dtype=complex)
        for row in range(angles.shape[0]):
            re, im = self._final(mats, row)
            out[row] = (re + 1j * im).reshape(dim, dim)
        return out

    def values(self, observable: np.ndarray, angles: np.ndarray) -> np.ndarray:
        r""":math:`\mathrm{Tr}(O\rho)` per row; ``observable`` a ``(2**n,)`` diagonal or a
        ``(2**n, 2**n)`` Hermitian matrix."""
        self._check(angles, 2)
        mats = np.ascontiguousarray(self._matrices(angles)[0])
        return np.array([self._trace(observable, *self._final(mats, row))
                         for row in range(angles.shape[0])])

    def _trace(self, observable: np.ndarray, re: np.ndarray, im: np.ndarray) -> float:
        dim = 2**self.n_qubits
        if observable.ndim == 1:
            return float(np.dot(observable.real, sk.diagonal_of(re, im, dim).real))
        # Tr(O rho) = sum_ij O_ij rho_ji = <vec(O), vec(rho)> for Hermitian O
        flat = observable.reshape(-1)
        return float(np.dot(flat.real, re) + np.dot(flat.imag, im))

    def values_and_gradients(self, observable: np.ndarray, angles: np.ndarray
                             ) -> tuple[np.ndarray, np.ndarray]:
        """Values ``(S,)`` and derivatives by every operation angle ``(S, n_ops)`` (zero for
        fixed gates and encodings), by the adjoint sweep of the module docstring (un-computing
        the states when :attr:`invertible`, checkpointing them otherwise)."""
        m = len(self._steps)
        every = max(1, math.isqrt(m))
        # vectors of 4**n floats held at once: un-computing 4 (state and observable, real and
        # imaginary parts); checkpointing also the checkpoints and one segment's records
        self._check(angles, 4 if self.invertible else 4 + 2 * (-(-m // every) + every))
        dim = 2**self.n_qubits
        mats, (ops, steps, derivs) = self._matrices(angles, derivatives=True)
        mats = np.ascontiguousarray(mats)
        inverse = np.linalg.inv(mats) if self.invertible else None
        adjoint = np.conj(np.swapaxes(mats, -1, -2))
        values = np.empty(angles.shape[0])
        grads = np.zeros(angles.shape)
        g = np.zeros((m, 4, 4), dtype=complex)
        for row in range(angles.shape[0]):
            if observable.ndim == 1:
                o_re = np.zeros(dim * dim)
                o_re[:: dim + 1] = observable.real
                o_im = np.zeros(dim * dim)
            else:
                o_re, o_im = sk.split(observable.reshape(-1))
            adj = np.ascontiguousarray(adjoint[row])
            g[:] = 0
            if inverse is None:
                values[row] = self._checkpointed(observable, mats[row], adj, o_re, o_im, g,
                                                 every)
            else:
                re, im = self._final(mats, row)
                values[row] = self._trace(observable, re, im)
                sk.backward(re, im, o_re, o_im, self.bits, self.diag,
                            np.ascontiguousarray(inverse[row]), adj, self.need, g)
            # dC/da = Re sum_ab dM_ab G_ab, summed over the factors of each operation
            np.add.at(grads[row], ops, np.einsum("rab,rab->r", derivs[row], g[steps]).real)
        return values, grads

    def _checkpointed(self, observable: np.ndarray, mats: np.ndarray, adjoint: np.ndarray,
                      o_re: np.ndarray, o_im: np.ndarray, g: np.ndarray, every: int) -> float:
        """One row's value, and its reductions into ``g``, by checkpointing (module
        docstring): ``mats`` and ``adjoint`` are the row's ``(m, 4, 4)`` step matrices."""
        m = len(self._steps)
        mr, mi = mats.real.copy(), mats.imag.copy()
        re, im = self._initial()
        checkpoints = []
        for start in range(0, m, every):
            checkpoints.append((re.copy(), im.copy()))
            sk.forward(re, im, self.bits, self.diag, mr, mi, start, min(start + every, m))
        value = self._trace(observable, re, im)
        rec_re = np.empty((every, 4**self.n_qubits))
        rec_im = np.empty((every, 4**self.n_qubits))
        adj_r, adj_i = adjoint.real.copy(), adjoint.imag.copy()
        for start in range((len(checkpoints) - 1) * every, -1, -every):
            re, im = checkpoints.pop()
            stop = min(start + every, m)
            sk.record(re, im, self.bits, self.diag, mr, mi, self.need, start, stop, rec_re, rec_im)
            sk.backward_from_records(o_re, o_im, rec_re, rec_im, self.bits, self.diag,
                                     adj_r, adj_i, self.need, g, start, stop)
        return value
