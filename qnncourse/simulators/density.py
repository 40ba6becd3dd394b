r"""Batched density-matrix simulator: circuits interleaved with noise channels.

A batch of ``S`` density matrices on ``n`` qubits is an array of shape ``(S, 2**n, 2**n)``.
Internally it is stored *transposed*, ``stored[s] = rho[s].T``, and read as a batch of
``2n``-qubit registers (column bits first, then row bits). A gate
:math:`\rho \mapsto U\rho U^\dagger` is then :math:`U` on the row bits and :math:`\bar U` on
the column bits, both applied by the statevector simulator's
:func:`~qnncourse.simulators.statevector.apply_operation`, so there is one gate implementation in
the library. A ``k``-qubit channel acts as its ``4**k x 4**k`` transfer matrix
:math:`\sum_k \bar K_k \otimes K_k` on the (column, row) bit pairs of its qubits.

Gradients use the adjoint method for density matrices: a forward pass keeps the state after
every rotation; a backward pass evolves the observable in the Heisenberg picture through the
adjoint channels, :math:`O \mapsto U^\dagger O U` and
:math:`O \mapsto \sum_k K_k^\dagger O K_k`. For a rotation :math:`R_P(a) = e^{-iaP/2}` with
state :math:`\rho_k` right after it and Heisenberg observable :math:`O_k` there,

.. math:: \frac{\partial C}{\partial a} = -\tfrac{i}{2}\,\mathrm{Tr}\big(O_k [P, \rho_k]\big)
          = \mathrm{Re}\,\mathrm{Tr}\big(O_k\, R_P(\pi)\, \rho_k\big),
   \qquad R_P(\pi) = -iP.

The cost is about three noisy circuit passes for all parameters at once, against ``2p`` for the
parameter-shift rule; the channels may be any parameter-independent CPTP maps.

References
----------
T. Jones, J. Gacon, "Efficient calculation of gradients in classical simulations of variational
quantum algorithms", arXiv:2009.02823 (2020) (the adjoint method for pure states).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qnncourse._validation import check_memory, format_bytes, memory_limit
from qnncourse.circuit import Operation
from qnncourse.simulators import statevector
from qnncourse.simulators.statevector import apply_operation

try:
    from qnncourse.simulators import kernels, superop
except ImportError:  # pragma: no cover - numba is a dependency, this is a safety net
    kernels = superop = None

__all__ = ["ChannelStep", "DensityProgram", "adjoint_gradient", "expectation", "run_angles"]

_BYTES_PER_ENTRY = 16  # complex128
# Completeness sum_k K^dag K = I is checked to this tolerance (to_kraus of an integrated
# master equation is accurate to ~1e-10).
_CPTP_ATOL = 1e-8


@dataclass(frozen=True)
class ChannelStep:
    """A channel given by its Kraus matrices, applied to ``qubits`` right after operation
    ``after`` of the circuit (channels after the same operation act in list order)."""

    after: int
    qubits: tuple[int, ...]
    kraus: tuple[np.ndarray, ...]


def _transfer_matrix(kraus: Sequence[np.ndarray]) -> np.ndarray:
    r"""The channel on the stored (transposed) layout: :math:`\sum_k \bar K_k \otimes K_k`,
    column index of :math:`\rho` major, row index minor."""
    return sum(np.kron(k.conj(), k) for k in kraus)


class DensityProgram:
    """A circuit with its noise channels, prepared once for repeated simulation.

    Parameters
    ----------
    circuit : Circuit
    steps : sequence of ChannelStep
        The channels, e.g. from ``NoiseModel.channel_steps(circuit)``.

    Raises
    ------
    ValueError
        If a step names an operation or qubit the circuit does not have, its Kraus matrices
        have the wrong size or are not trace preserving, or one density matrix of the circuit's
        width would not fit in memory.
    """

    def __init__(self, circuit, steps: Sequence[ChannelStep] = ()) -> None:
        n = circuit.n_qubits
        dim = 2**n
        check_memory(_BYTES_PER_ENTRY * dim * dim,
                     f"a {n}-qubit density matrix (4**{n} = {dim * dim} complex numbers)")
        self.circuit = circuit
        self.n_qubits = n
        n_ops = len(circuit.operations)
        self._after: list[list[tuple[tuple[int, ...], np.ndarray, np.ndarray]]] = [
            [] for _ in range(n_ops)]
        for step in steps:
            self._check_step(step, n, n_ops)
            transfer = _transfer_matrix(step.kraus)
            # Drop rounding-level entries (e.g. from to_kraus) so sparse kernels skip them.
            transfer[np.abs(transfer) < 1e-15] = 0
            # Heisenberg picture: the adjoint channel has Kraus operators K^dag.
            self._after[step.after].append((tuple(step.qubits), transfer,
                                            np.ascontiguousarray(transfer.conj().T)))
        # Each gate acts on the stored array as on a 2n-qubit register (column bits first):
        # U on the row bits n+q, conj(U) on the column bits q. Its inverse (Heisenberg picture)
        # likewise. Rotations conjugate by a sign of the angle, fixed gates by their matrix.
        self._gates = [self._register_ops(op, n) for op in circuit.operations]
        self.n_channels = len(steps)
        compiled = kernels is not None and statevector.uses_compiled(2 * n)
        self._lowered = self._lower() if compiled else None
        # The fast path: each qubit's gates and channels fused into one superoperator pass
        # (None when a gate acts on 3+ qubits or a channel on 2+: then the path above).
        self.fused = superop.SuperopProgram.build(circuit, steps) if compiled else None

    def _lower(self) -> dict | None:
        """Each gate's two register operations (forward and inverse) and each one-qubit
        channel (a 4x4 transfer matrix on the column and row bit of its qubit, i.e. a
        two-qubit "gate" on the register) lowered once for the compiled kernels."""
        n = self.n_qubits
        lowered: dict = {"gates": [], "inverse": [], "channels": {}}
        for row_op, col_op, _, row_inv, col_inv in self._gates:
            forward = kernels.lower([row_op, col_op], 2 * n)
            inverse = kernels.lower([row_inv, col_inv], 2 * n)
            if forward is None or inverse is None:
                return None
            lowered["gates"].append(forward)
            lowered["inverse"].append(inverse)
        for steps in self._after:
            for qubits, transfer, adjoint in steps:
                for matrix in (transfer, adjoint):
                    if len(qubits) == 1:
                        op = Operation("fixed", (qubits[0], n + qubits[0]), matrix=matrix)
                        lowered["channels"][id(matrix)] = kernels.lower([op], 2 * n)
        return lowered

    @staticmethod
    def _check_step(step: ChannelStep, n: int, n_ops: int) -> None:
        if not isinstance(step, ChannelStep):
            raise TypeError(f"steps must be ChannelStep objects, got {type(step).__name__}")
        if not 0 <= step.after < n_ops:
            raise ValueError(f"a channel follows operation {step.after}, the circuit has "
                             f"{n_ops} operations")
        for q in step.qubits:
            if not 0 <= q < n:
                raise ValueError(f"a channel acts on qubit {q}, the circuit has {n} qubits "
                                 f"(0..{n - 1})")
        if len(set(step.qubits)) != len(step.qubits) or not step.qubits:
            raise ValueError(f"a channel's qubits must be distinct and non-empty, got "
                             f"{step.qubits}")
        dim = 2 ** len(step.qubits)
        for k in step.kraus:
            if np.shape(k) != (dim, dim):
                raise ValueError(f"a channel on {len(step.qubits)} qubit(s) needs ({dim}, {dim}) "
                                 f"Kraus matrices, got shape {np.shape(k)}")
        error = np.max(np.abs(sum(k.conj().T @ k for k in step.kraus) - np.eye(dim)))
        if error > _CPTP_ATOL:
            raise ValueError(f"the channel after operation {step.after} on qubits {step.qubits} "
                             f"is not trace preserving: max |sum K^dag K - I| = {error:.3g}")

    @staticmethod
    def _register_ops(op, n: int) -> tuple:
        r"""``(row_op, col_op, col_sign, row_inverse, col_inverse)`` for one operation.

        For a rotation, :math:`\overline{R_P(a)} = R_P(-(-1)^{n_Y} a)` (:math:`\bar Y = -Y`), so
        ``col_sign`` multiplies the angle; for a fixed gate the matrices are conjugated.
        """
        rows = tuple(n + q for q in op.qubits)
        row_op = dataclasses.replace(op, qubits=rows)
        if op.kind == "fixed":
            u = op.matrix
            return (row_op, dataclasses.replace(op, matrix=u.conj()), 1.0,
                    dataclasses.replace(row_op, matrix=u.conj().T),
                    dataclasses.replace(op, matrix=u.T))
        sign = -((-1.0) ** op.pauli.count("Y"))
        return row_op, op, sign, row_op, op

    # -- kernels on the stored layout ------------------------------------------------------
    def _register(self, rho: np.ndarray) -> np.ndarray:
        return rho.reshape((rho.shape[0],) + (2,) * (2 * self.n_qubits))

    def _sandwich(self, rho: np.ndarray, k: int, angles: np.ndarray | None,
                  inverse: bool = False) -> np.ndarray:
        r"""Gate ``k`` (or its inverse) as :math:`U\rho U^\dagger` on a batch in stored layout
        (any Hermitian batch: states or Heisenberg observables); may reuse ``rho``."""
        row_op, col_op, sign, row_inv, col_inv = self._gates[k]
        if self._lowered is not None:
            lowered = self._lowered["inverse" if inverse else "gates"][k]
            rows = rho.shape[0]
            flat = np.ascontiguousarray(rho).reshape(rows, -1)
            if angles is None:
                zeros = np.zeros((rows, 2))
                return kernels.run(lowered, flat, zeros, zeros).reshape(rho.shape)
            a = -angles if inverse else angles
            both = np.stack([a, sign * a], axis=1)
            return kernels.run(lowered, flat, np.cos(0.5 * both), np.sin(0.5 * both)
                               ).reshape(rho.shape)
        if angles is None:
            reg = apply_operation(self._register(rho), row_inv if inverse else row_op, None)
            reg = apply_operation(reg, col_inv if inverse else col_op, None)
        else:
            a = -angles if inverse else angles
            reg = apply_operation(self._register(rho), row_op, a)
            reg = apply_operation(reg, col_op, sign * a)
        return reg.reshape(rho.shape)

    def _channel(self, rho: np.ndarray, qubits: tuple[int, ...], transfer: np.ndarray
                 ) -> np.ndarray:
        n = self.n_qubits
        if self._lowered is not None and id(transfer) in self._lowered["channels"]:
            rows = rho.shape[0]
            flat = np.ascontiguousarray(rho).reshape(rows, -1)
            zeros = np.zeros((rows, 1))
            return kernels.run(self._lowered["channels"][id(transfer)], flat, zeros, zeros
                               ).reshape(rho.shape)
        if len(qubits) == 1:
            return self._channel_one(rho, qubits[0], transfer)
        tensor = self._register(rho)
        # stored index order: column bits (axes 1..n), then row bits (axes n+1..2n).
        axes = [1 + q for q in qubits] + [1 + n + q for q in qubits]
        moved = np.moveaxis(tensor, axes, range(-len(axes), 0))
        front = moved.shape[:-len(axes)]
        out = (moved.reshape(front + (-1,)) @ transfer.T).reshape(moved.shape)
        return np.ascontiguousarray(np.moveaxis(out, range(-len(axes), 0), axes)
                                    ).reshape(rho.shape)

    def _channel_one(self, rho: np.ndarray, q: int, transfer: np.ndarray) -> np.ndarray:
        """A one-qubit channel as a few scaled copies of quarter views (its 4x4 transfer matrix
        is sparse: 6 non-zeros for a Pauli channel), much faster than a 4x4 matmul."""
        n = self.n_qubits
        view = rho.reshape(rho.shape[0], 2**q, 2, 2 ** (n - 1), 2, 2 ** (n - 1 - q))
        parts = [view[:, :, c, :, r, :] for c in (0, 1) for r in (0, 1)]  # index 2c + r
        out = np.empty_like(view)
        scratch = None
        for i, (c, r) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
            dst = out[:, :, c, :, r, :]
            terms = [(j, transfer[i, j]) for j in range(4) if transfer[i, j] != 0]
            if not terms:
                dst[...] = 0
                continue
            np.multiply(parts[terms[0][0]], terms[0][1], out=dst)
            for j, t in terms[1:]:
                scratch = np.empty_like(dst) if scratch is None else scratch
                np.multiply(parts[j], t, out=scratch)
                dst += scratch
        return out.reshape(rho.shape)

    def _initial(self, n_draws: int) -> np.ndarray:
        dim = 2**self.n_qubits
        rho = np.zeros((n_draws, dim, dim), dtype=complex)
        rho[:, 0, 0] = 1.0
        return rho

    def _gate_angles(self, angles: np.ndarray, k: int) -> np.ndarray | None:
        return None if self.circuit.operations[k].kind == "fixed" else angles[:, k]

    def _forward(self, angles: np.ndarray, keep: bool) -> tuple[np.ndarray, list]:
        """Run the noisy circuit; with ``keep``, also return the state right after each
        rotation (before its channels), as the adjoint method needs them."""
        rho = self._initial(angles.shape[0])
        kept = []
        for k, op in enumerate(self.circuit.operations):
            rho = self._sandwich(rho, k, self._gate_angles(angles, k))
            if keep and op.kind == "rotation":
                kept.append(rho.copy())
            for qubits, transfer, _ in self._after[k]:
                rho = self._channel(rho, qubits, transfer)
        return rho, kept

    # -- chunking ----------------------------------------------------------------------------
    def _chunk_size(self, n_draws: int, matrices_per_draw: int) -> int:
        """How many draws to simulate at once so that the batch fits the memory budget."""
        dim = 2**self.n_qubits
        per_draw = _BYTES_PER_ENTRY * dim * dim * matrices_per_draw
        check_memory(per_draw, f"simulating one draw of the {self.n_qubits}-qubit noisy circuit "
                               f"({matrices_per_draw} density matrices of "
                               f"{format_bytes(_BYTES_PER_ENTRY * dim * dim)})")
        return int(max(1, min(n_draws, memory_limit() // per_draw)))


def _check_angles(program: DensityProgram, angles: np.ndarray) -> np.ndarray:
    angles = np.asarray(angles, dtype=float)
    n_ops = len(program.circuit.operations)
    if angles.ndim != 2 or angles.shape[1] != n_ops:
        raise ValueError(f"angles must have shape (S, {n_ops}) (one per operation, from "
                         f"circuit.angles), got {angles.shape}")
    return angles


def _prepare_observable(program: DensityProgram, observable: np.ndarray) -> np.ndarray:
    """The observable as a ``(2**n,)`` diagonal or a dense Hermitian matrix."""
    dim = 2**program.n_qubits
    observable = np.asarray(observable)
    if observable.shape == (dim,):
        return observable.astype(complex)
    if observable.shape != (dim, dim):
        raise ValueError(f"the observable must be a ({dim},) diagonal or a ({dim}, {dim}) "
                         f"matrix for {program.n_qubits} qubits, got shape {observable.shape}")
    return observable.astype(complex)


def _trace_with(observable: np.ndarray, stored: np.ndarray) -> np.ndarray:
    r""":math:`\mathrm{Re\,Tr}(O\rho)` for a batch in stored layout (``stored = rho.T``); ``O``
    a diagonal vector or a matrix."""
    if observable.ndim == 1:
        return np.einsum("i,sii->s", observable, stored).real
    return np.einsum("ij,sij->s", observable, stored).real


def run_angles(program: DensityProgram, angles: np.ndarray) -> np.ndarray:
    """Final density matrices, shape ``(S, 2**n, 2**n)``, for operation angles ``(S, n_ops)``."""
    angles = _check_angles(program, angles)
    dim = 2**program.n_qubits
    check_memory(_BYTES_PER_ENTRY * dim * dim * angles.shape[0] * 2,
                 f"{angles.shape[0]} density matrices on {program.n_qubits} qubits")
    if program.fused is not None:
        return program.fused.states(angles)
    stored, _ = program._forward(angles, keep=False)
    return stored.transpose(0, 2, 1)


def expectation(program: DensityProgram, observable: np.ndarray, angles: np.ndarray
                ) -> np.ndarray:
    r""":math:`\mathrm{Tr}(O\rho(a))` for each row of ``angles``, shape ``(S,)``.

    ``observable`` is a ``(2**n,)`` diagonal or a ``(2**n, 2**n)`` Hermitian matrix. Large
    batches are simulated in chunks that fit the memory budget.
    """
    angles = _check_angles(program, angles)
    matrix = _prepare_observable(program, observable)
    if program.fused is not None:
        return program.fused.values(matrix, angles)
    chunk = program._chunk_size(angles.shape[0], 4)
    values = [_trace_with(matrix, program._forward(angles[i:i + chunk], keep=False)[0])
              for i in range(0, angles.shape[0], chunk)]
    return np.concatenate(values)


def adjoint_gradient(program: DensityProgram, observable: np.ndarray, angles: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Values ``(S,)`` and derivatives by every operation angle ``(S, n_ops)`` (zero for fixed
    gates and encodings), by the adjoint method; ``circuit.chain_rule`` turns the latter into
    parameter gradients."""
    angles = _check_angles(program, angles)
    matrix = _prepare_observable(program, observable)
    if program.fused is not None:
        return program.fused.values_and_gradients(matrix, angles)
    if matrix.ndim == 1:
        matrix = np.diag(matrix)
    n_rotations = sum(op.kind == "rotation" for op in program.circuit.operations)
    chunk = program._chunk_size(angles.shape[0], n_rotations + 5)
    values, grads = [], []
    for i in range(0, angles.shape[0], chunk):
        v, g = _adjoint_chunk(program, matrix, angles[i:i + chunk])
        values.append(v)
        grads.append(g)
    return np.concatenate(values), np.concatenate(grads)


def _adjoint_chunk(program: DensityProgram, matrix: np.ndarray, angles: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    rho, kept = program._forward(angles, keep=True)
    values = _trace_with(matrix, rho)
    del rho
    n_draws = angles.shape[0]
    grads = np.zeros(angles.shape)
    # Heisenberg observable in stored layout: O^T, which for Hermitian O is conj(O).
    obs = np.repeat(matrix.T[None], n_draws, axis=0)
    ops = program.circuit.operations
    for k in range(len(ops) - 1, -1, -1):
        for qubits, _, adjoint in reversed(program._after[k]):
            obs = program._channel(obs, qubits, adjoint)
        if ops[k].kind == "rotation":
            state = kept.pop()
            # R_P(pi) rho_k = -i P rho_k (acting on the row bits), stored as its transpose.
            minus_i_p_rho = apply_operation(program._register(state), program._gates[k][0],
                                            np.full(n_draws, np.pi)).reshape(state.shape)
            # Tr(O A) with O = conj(obs) and A^T stored: sum_ij conj(obs)_ij A^T_ij.
            grads[:, k] = np.einsum("sij,sij->s", obs.conj(), minus_i_p_rho).real
        if k > 0:  # the observable is not needed before the first gate
            obs = program._sandwich(obs, k, program._gate_angles(angles, k), inverse=True)
    return values, grads
