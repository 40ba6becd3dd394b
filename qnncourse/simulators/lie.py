r"""g-sim: simulation in the Heisenberg picture, inside the observable's invariant Pauli space.

For a circuit whose trainable gates are Pauli rotations :math:`R_P(\theta) = e^{-i\theta P/2}`,
the Heisenberg-evolved observable :math:`U^\dagger O U` never leaves the smallest space
:math:`V` of operators that contains :math:`O` and is mapped into itself by every
:math:`\mathrm{ad}_P = i[P, \cdot\,]`. When :math:`O`'s terms are Pauli strings, :math:`V` is
spanned by Pauli strings: the bracket of two strings is :math:`\pm 2` times a string or zero.
:math:`V` is the observable's module of the dynamical Lie algebra; when :math:`O` lies in the
DLA :math:`\mathfrak g` it is contained in :math:`\mathfrak g` (Somma et al. 2006; Goh et al.
2023). Its dimension, not :math:`4^n`, sets the cost.

In the basis :math:`\{Q_j\}` of :math:`V` a rotation acts on pairs: if :math:`Q` anticommutes
with :math:`P`, :math:`iPQ = s\,Q'` is another basis string (:math:`s = \pm 1`) and

.. math::

    R_P(\theta)^\dagger Q\, R_P(\theta) = \cos\theta\, Q + s \sin\theta\, Q',

while strings that commute with :math:`P` are left alone. So a gate costs :math:`O(\dim V)`
work (in practice the number of strings it does not commute with). The state enters through
:math:`r_j = \mathrm{Tr}(\rho\, Q_j)`: because :math:`\mathrm{ad}_P` is antisymmetric in the
Hilbert–Schmidt inner product, the orthogonal complement of :math:`V` is invariant too, and
the projection of :math:`\rho` onto :math:`V` evolves by the transposed (inverse) rotation,

.. math::

    r_j \mapsto \cos\theta\, r_j + s_j \sin\theta\, r_{j'},\qquad
    C = \sum_j o_j r_j + o_I ,

with :math:`O = o_I I + \sum_j o_j Q_j`. A product input state gives
:math:`r_j = \prod_q \langle \sigma_{j,q}\rangle`, a product of Bloch-vector components
(for :math:`|0\dots0\rangle`, 1 for strings of ``I`` and ``Z`` and 0 otherwise).

Gradients use the adjoint method in the same coordinates: with :math:`o` the Heisenberg
observable right after rotation :math:`k` and :math:`r` the state there,

.. math::

    \frac{\partial C}{\partial \theta_k} = \mathrm{Tr}\Big(O_k\,\big(-\tfrac{i}{2}\big)
    [P, \rho_k]\Big) = \sum_{j:\ \{P, Q_j\} = 0} o_j\, s_j\, r_{j'} ,

and one backward sweep undoes every gate on :math:`o` and :math:`r` together (both transform
by the same orthogonal matrix), so a value and all gradients cost about three sweeps.

Clifford fixed gates map Pauli strings to signed Pauli strings and are supported: with
:math:`R_P(\theta) F = F R_{F^\dagger P F}(\theta)` they are moved to the observable's end of
the circuit, where they conjugate :math:`O` and the generators of the rotations after them
(a sign :math:`F^\dagger P F = -P'` flips the angle). Other fixed gates are refused.

Noise by Pauli channels (depolarizing, dephasing: :math:`\mathcal E^\dagger(Q) = \lambda_Q Q`)
is supported on circuits without fixed gates: a channel multiplies each coordinate by its
:math:`\lambda_Q`, in both pictures, and the backward sweep divides :math:`r` by it again.
Other channels (amplitude damping) and readout error are refused.

References
----------
R. Somma, H. Barnum, G. Ortiz and E. Knill, "Efficient solvability of Hamiltonians and limits
on the power of some quantum computational models", Phys. Rev. Lett. 97, 190501 (2006),
doi:10.1103/PhysRevLett.97.190501.
M. L. Goh, M. Larocca, L. Cincio, M. Cerezo and F. Sauvage, "Lie-algebraic classical
simulations for quantum computing", arXiv:2308.01432 (2023), doi:10.48550/arXiv.2308.01432.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qnncourse._validation import check_count, check_memory
from qnncourse.circuit import Circuit
from qnncourse.paulis import (
    PackedClifford,
    PauliSum,
    anticommuting,
    bits_to_labels,
    bracket_signs,
    labels_to_bits,
    local_words,
    pauli_channel_factors,
    row_keys,
)
from qnncourse.simulators.heisenberg import observable_terms, product_state, string_expectations

__all__ = ["DEFAULT_MAX_DIM", "LieProgram", "adjoint_gradient", "expectation", "product_state"]

#: Largest invariant space built by default (strings); beyond it the closure stops.
DEFAULT_MAX_DIM = 50_000
# How errors name this simulator.
_WHO = "simulator='lie'"
# Frontier strings bracketed with all generators at once in the closure.
_PAIR_BLOCK = 2**21


# --------------------------------------------------------------------------------------------
# The program: invariant space, per-operation actions, observable coordinates
# --------------------------------------------------------------------------------------------
class LieProgram:
    """A circuit and an observable compiled for g-sim.

    Moves the Clifford fixed gates to the observable's end (conjugating the later generators
    and the observable by them), builds the smallest space spanned by Pauli strings that
    contains the observable's strings and is closed under brackets with every generator, then
    the index pairs each distinct generator rotates.

    Parameters
    ----------
    circuit : Circuit
        Rotations and encodings about Pauli strings; fixed gates must be Clifford.
    observable : Pauli label, dict, PauliString, PauliSum, or a diagonal Qobj/Observable
    max_dim : int
        Stop with ``ValueError`` as soon as the space exceeds this many strings.
    channels : sequence of ChannelStep, optional
        Pauli channels (``after``, ``qubits``, ``kraus``), as
        :meth:`qnncourse.noise.NoiseModel.channel_steps` returns them.

    Attributes
    ----------
    dim : int
        Dimension of the invariant space (number of basis strings); the strings themselves
        are :attr:`labels`.

    Examples
    --------
    The transverse-field Ising generators on 4 qubits with :math:`O = Z_0Z_1` stay in
    :math:`\\mathfrak{so}(8)`, of dimension 28:

    >>> c = Circuit(4)
    >>> for q in range(4):
    ...     _ = c.rx(q)
    >>> for q in range(3):
    ...     _ = c.pauli_rotation("ZZ", (q, q + 1))
    >>> LieProgram(c, "ZZII").dim
    28
    """

    def __init__(self, circuit: Circuit, observable: object, *,
                 max_dim: int = DEFAULT_MAX_DIM, channels: Sequence = ()) -> None:
        if not isinstance(circuit, Circuit):
            raise TypeError(f"circuit must be a qnncourse Circuit, got {type(circuit).__name__}")
        self.max_dim = check_count("max_dim", max_dim)
        n = circuit.n_qubits
        self.circuit = circuit
        self.n_qubits = n
        terms = observable_terms(observable, n, _WHO)
        self.observable = PauliSum(terms) if terms else PauliSum({"I" * n: 0.0})
        identity = "I" * n
        self.constant = float(terms.pop(identity, 0.0))
        ops = circuit.operations
        words = max(1, -(-n // 64))
        empty = np.zeros((0, words), dtype=np.uint64)
        # Clifford fixed gates are moved to the observable's end of the circuit:
        # R_P(a) F = F R_{F^dag P F}(a), and F^dag P F = sigma P' is a signed string, so every
        # rotation becomes one about P' by sigma * a, and O becomes F_tot^dag O F_tot.
        labels, columns, maps = [], [], []
        for k, op in enumerate(ops):
            if op.kind == "fixed":
                maps.append((len(labels), PackedClifford(op.matrix, op.qubits, op.name, _WHO)))
            else:
                chars = ["I"] * n
                for letter, q in zip(op.pauli, op.qubits, strict=True):
                    chars[q] = letter
                labels.append("".join(chars))
                columns.append(k)
        rx, rz = labels_to_bits(labels, n) if labels else (empty, empty)
        sx, sz = labels_to_bits(list(terms), n) if terms else (empty, empty)
        rsign = np.ones(len(labels))
        coeffs = np.array(list(terms.values()), dtype=float)
        # Latest gate first: a rotation's generator is conjugated by the fixed gates before
        # it, the most recent one first; the observable by all of them.
        for first_after, cmap in reversed(maps):
            if first_after < len(labels):
                ix, iz, sg = cmap.apply(rx[first_after:], rz[first_after:])
                rx[first_after:], rz[first_after:] = ix, iz
                rsign[first_after:] *= sg
            if len(sx):
                sx, sz, sg = cmap.apply(sx, sz)
                coeffs = coeffs * sg
        if len(rx):
            gen_keys, first, inverse = np.unique(row_keys(rx, rz), return_index=True,
                                                 return_inverse=True)
            gx, gz = rx[first], rz[first]
        else:
            gx, gz, inverse = empty, empty, np.zeros(0, dtype=np.int64)
        self._x, self._z = self._closure(sx, sz, gx, gz)
        self.dim = len(self._x)
        keys = row_keys(self._x, self._z)
        self._order = np.argsort(keys)
        self._sorted = keys[self._order]
        self.coefficients = np.zeros(self.dim)
        if len(sx):
            self.coefficients[self._lookup(sx, sz)] = coeffs
        rotations, stored = [], 0
        for g in range(len(gx)):
            rotations.append(self._rotation(gx[g:g + 1], gz[g:g + 1]))
            stored += sum(a.nbytes for a in rotations[-1])
            check_memory(stored, f"the index pairs of {g + 1} generators on a space of "
                                 f"dimension {self.dim}")
        self.n_generators = len(rotations)
        self.n_operations = len(ops)
        self._columns = np.array(columns, dtype=np.int64)
        self._signs = rsign
        self._steps = [rotations[g] for g in np.ravel(inverse)]
        self._noise = self._noise_steps(channels, maps)

    # -- construction --------------------------------------------------------------------
    def _noise_steps(self, channels: Sequence, maps: list) -> list[list[tuple]]:
        """Per number ``j`` of rotations done, the Pauli channels applied then: ``(rows,
        factors)`` with :math:`Q_{rows} \\mapsto \\lambda\\,Q_{rows}` (both pictures)."""
        out: list[list[tuple]] = [[] for _ in range(len(self._steps) + 1)]
        if len(channels) and maps:
            raise ValueError("simulator='lie' with noise needs a circuit without fixed gates "
                             "(the Clifford gates are moved past the channels otherwise); use "
                             "simulator='auto'")
        for step in channels:
            where = f"on qubits {tuple(step.qubits)} after operation {step.after}"
            lam = pauli_channel_factors(step.kraus, where, _WHO)
            if np.min(np.abs(lam)) < 1e-6:
                raise ValueError(f"the channel {where} erases a Pauli string completely "
                                 f"(factor {np.min(np.abs(lam)):.3g}); the adjoint gradient "
                                 "cannot undo it: use simulator='auto'")
            factor = lam[local_words(self._x, self._z, tuple(step.qubits))]
            rows = np.flatnonzero(factor != 1.0)
            done = int(np.searchsorted(self._columns, step.after, side="right"))
            out[done].append((rows, factor[rows][:, None]))
        return out

    def _closure(self, sx, sz, gx, gz) -> tuple[np.ndarray, np.ndarray]:
        """Breadth-first closure, one level at a time and vectorised; stops as soon as more
        than ``max_dim`` strings are found."""
        n, max_dim = self.n_qubits, self.max_dim
        words = sx.shape[1]
        seen: set[bytes] = set()
        xs, zs = [], []
        fx, fz = sx, sz
        while len(fx):
            # First occurrence of each candidate not seen before (set membership on raw bytes).
            fresh = {}
            for i, key in enumerate(row_keys(fx, fz).tolist()):
                if key not in seen and key not in fresh:
                    fresh[key] = i
            if len(seen) + len(fresh) > max_dim:
                raise ValueError(
                    f"the invariant space of the observable under the circuit's generators has "
                    f"more than max_dim={max_dim} Pauli strings (stopped at dimension "
                    f"{len(seen) + len(fresh)} on {n} qubits): g-sim is not efficient for this "
                    f"circuit; use the statevector simulator or raise max_dim")
            if not fresh:
                break
            seen.update(fresh)
            rows = np.fromiter(fresh.values(), dtype=np.int64, count=len(fresh))
            fx, fz = fx[rows], fz[rows]
            xs.append(fx)
            zs.append(fz)
            new_x, new_z = [], []
            block = max(1, _PAIR_BLOCK // max(1, len(gx) * words))
            for lo in range(0, len(fx), block):
                bx, bz = fx[lo:lo + block], fz[lo:lo + block]
                if len(gx):
                    a, b = np.nonzero(anticommuting(bx[:, None, :], bz[:, None, :],
                                                    gx[None], gz[None]))
                    new_x.append(bx[a] ^ gx[b])
                    new_z.append(bz[a] ^ gz[b])
            fx = np.concatenate(new_x) if new_x else np.zeros((0, words), dtype=np.uint64)
            fz = np.concatenate(new_z) if new_z else np.zeros((0, words), dtype=np.uint64)
        if not xs:
            empty = np.zeros((0, words), dtype=np.uint64)
            return empty, empty
        return np.concatenate(xs), np.concatenate(zs)

    def _lookup(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Basis index of each string ``(x, z)`` (all must be in the basis)."""
        keys = row_keys(x, z)
        pos = np.searchsorted(self._sorted, keys)
        pos = np.minimum(pos, len(self._sorted) - 1)
        if not np.all(self._sorted[pos] == keys):
            raise RuntimeError("internal error: a string outside the closed space was reached")
        return self._order[pos]

    def _rotation(self, px: np.ndarray, pz: np.ndarray) -> tuple:
        """``(idx, swapped, s2)`` for one generator: rows ``idx = [J, K]`` of the pairs with
        :math:`iPQ_J = s\\,Q_K`, ``swapped = [K, J]``, ``s2 = [-s, s]`` as a column."""
        check_memory(8 * self.dim, "the anticommutation mask of one generator")
        anti = np.flatnonzero(anticommuting(self._x, self._z, px, pz))
        partner = self._lookup(self._x[anti] ^ px, self._z[anti] ^ pz)
        s = bracket_signs(px, pz, self._x[anti], self._z[anti])
        half = anti < partner
        j, k, s = anti[half], partner[half], s[half]
        return (np.concatenate([j, k]), np.concatenate([k, j]),
                np.concatenate([-s, s])[:, None])

    @property
    def labels(self) -> list[str]:
        """The basis Pauli strings, in the order of :attr:`coefficients`."""
        return bits_to_labels(self._x, self._z, self.n_qubits)

    def state_coordinates(self, state: object = None) -> np.ndarray:
        """:math:`r_j = \\langle Q_j\\rangle` in a product state (see :func:`product_state`)."""
        return string_expectations(self._x, self._z, product_state(state, self.n_qubits))

    def __repr__(self) -> str:
        return (f"LieProgram(n_qubits={self.n_qubits}, dim={self.dim}, "
                f"generators={self.n_generators}, operations={len(self._steps)})")

    # -- sweeps --------------------------------------------------------------------------
    def _check(self, angles: np.ndarray) -> np.ndarray:
        """Rotation angles ``(rotations, S)`` (signed as the moved Clifford gates require)."""
        angles = np.asarray(angles, dtype=float)
        if angles.ndim != 2 or angles.shape[1] != self.n_operations:
            raise ValueError(f"angles must have shape (S, {self.n_operations}), got "
                             f"{angles.shape}")
        return angles[:, self._columns].T * self._signs[:, None]

    def _start(self, n_rows: int, state: object, copies: int) -> np.ndarray:
        r0 = self.state_coordinates(state)
        check_memory(8 * self.dim * copies * n_rows,
                     f"{n_rows} coordinate vectors of dimension {self.dim}")
        return np.repeat(r0[:, None], n_rows, axis=1)

    def _forward(self, r: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
        """Schrödinger sweep on ``r`` ``(dim, S)``: :math:`r \\mapsto M_k r` for every gate."""
        for rows, factor in self._noise[0]:
            r[rows] *= factor
        for k, (idx, swapped, s2) in enumerate(self._steps):
            # r_J <- c r_J + s sin r_K,  r_K <- c r_K - s sin r_J
            r[idx] = cos[k] * r[idx] - (s2 * sin[k]) * r[swapped]
            for rows, factor in self._noise[k + 1]:
                r[rows] *= factor
        return r

    def values(self, angles: np.ndarray, state: object = None) -> np.ndarray:
        """Expectation value per row of operation ``angles`` ``(S, len(circuit))``."""
        a = self._check(angles)
        r = self._forward(self._start(a.shape[1], state, 1), np.cos(a), np.sin(a))
        return self.coefficients @ r + self.constant

    def values_and_gradients(self, angles: np.ndarray, state: object = None,
                             ) -> tuple[np.ndarray, np.ndarray]:
        """Values ``(S,)`` and derivatives by every operation angle ``(S, len(circuit))``."""
        a = self._check(angles)
        n_rows = a.shape[1]
        cos, sin = np.cos(a), np.sin(a)
        r = self._forward(self._start(n_rows, state, 3), cos, sin)
        values = self.coefficients @ r + self.constant
        # Columns [o | r]: the backward sweep undoes each gate on both with one update.
        both = np.concatenate([np.repeat(self.coefficients[:, None], n_rows, axis=1), r],
                              axis=1)
        cos2, sin2 = np.concatenate([cos, cos], axis=1), np.concatenate([sin, sin], axis=1)
        grads = np.zeros((len(self._steps), n_rows))
        for k in range(len(self._steps) - 1, -1, -1):
            # A Pauli channel: o <- lambda o (Heisenberg), r <- r / lambda (undone).
            for rows, factor in reversed(self._noise[k + 1]):
                both[rows, :n_rows] *= factor
                both[rows, n_rows:] /= factor
            idx, swapped, s2 = self._steps[k]
            g, gs = both[idx], both[swapped]
            # dC/da = sum over pairs s (o_J r_K - o_K r_J) = -sum over rows s2 o (swapped r)
            grads[k] = -np.einsum("p,ps,ps->s", s2[:, 0], g[:, :n_rows], gs[:, n_rows:])
            both[idx] = cos2[k] * g + (s2 * sin2[k]) * gs
        out = np.zeros((n_rows, self.n_operations))
        out[:, self._columns] = (grads * self._signs[:, None]).T
        return values, out


def _program_for(circuit: Circuit, observable: object, max_dim: int) -> LieProgram:
    if isinstance(observable, LieProgram):
        if observable.circuit is not circuit:
            raise ValueError("the LieProgram passed as observable was compiled for another "
                             "circuit; build one for this circuit")
        return observable
    return LieProgram(circuit, observable, max_dim=max_dim)


def expectation(circuit: Circuit, observable: object, thetas: np.ndarray,
                x: np.ndarray | None = None, *, state: object = None,
                max_dim: int = DEFAULT_MAX_DIM) -> np.ndarray:
    """:math:`\\mathrm{Tr}(U\\rho U^\\dagger O)` by g-sim for a batch of parameters.

    Parameters
    ----------
    circuit : Circuit
    observable : Pauli label, dict, PauliString, PauliSum, or LieProgram
        A prepared :class:`LieProgram` of this circuit is reused as it is.
    thetas : array, shape ``(n_params,)`` or ``(S, n_params)``
    x : array, optional
        Inputs of the encoding gates.
    state : None, str or array
        Product input state (see :func:`product_state`); ``None`` is :math:`|0\\dots0\\rangle`.
    max_dim : int
        Largest invariant space built (see :class:`LieProgram`).

    Returns
    -------
    numpy.ndarray
        Shape ``(S,)`` (``S = 1`` for a single ``thetas``), computed as :math:`C = \\sum_j o_j
        r_j + o_I`.
    """
    program = _program_for(circuit, observable, max_dim)
    return program.values(circuit.angles(thetas, x), state)


def adjoint_gradient(circuit: Circuit, observable: object, thetas: np.ndarray,
                     x: np.ndarray | None = None, *, state: object = None,
                     max_dim: int = DEFAULT_MAX_DIM) -> tuple[np.ndarray, np.ndarray]:
    """Values ``(S,)`` and gradients ``(S, n_params)`` by g-sim and the adjoint method.

    Arguments as for :func:`expectation`. The derivative by rotation :math:`k` is
    :math:`\\sum_j o_j s_j r_{j'}` over the basis strings that anticommute with its generator
    (module docstring); rotations sharing a parameter add up (``Circuit.chain_rule``).
    """
    program = _program_for(circuit, observable, max_dim)
    values, angle_grads = program.values_and_gradients(circuit.angles(thetas, x), state)
    return values, circuit.chain_rule(angle_grads)

