r"""Pauli propagation: the observable, as a Pauli sum, pushed backwards through the circuit.

In the Heisenberg picture the cost is :math:`C = \mathrm{Tr}(\rho_0\, U^\dagger O U)`, and
:math:`U^\dagger O U` is built gate by gate from the last gate to the first, as a sum
:math:`\sum_j c_j Q_j` of Pauli strings. A rotation :math:`R_P(\theta) = e^{-i\theta P/2}`
leaves every string that commutes with :math:`P` alone and splits each anticommuting one in two,

.. math::

    R_P(\theta)^\dagger Q\, R_P(\theta) = \cos\theta\, Q + \sin\theta\, iPQ ,
    \qquad iPQ = s\,Q' ,\ s = \pm 1 ,

where :math:`Q'` may already be in the sum (its coefficients add). A Clifford fixed gate maps
each string to a signed string (:class:`~qnncourse.paulis.PackedClifford`); a Pauli channel
(depolarizing, dephasing) multiplies each string by its factor :math:`\lambda_Q`
(:func:`~qnncourse.paulis.pauli_channel_factors`). The value is read on the product input
state: :math:`\langle Q\rangle = \prod_q \langle\sigma_q\rangle`, which on
:math:`|0\dots0\rangle` is 1 for strings of ``I`` and ``Z`` and 0 otherwise. Nothing is
approximated: the number of terms is at most :math:`2^{\#\text{rotations}}` and
:math:`4^n`, and in practice limited by the backward light cone of the observable, which is
why a 2-layer circuit with a local observable costs the same at 10 and at 100 qubits (the
strings never leave the light cone). Encoding gates are rotations by the data angle.

Gradients: one reverse sweep
----------------------------
Every step of the propagation is linear in the coefficient vector, :math:`c \mapsto M_k c`
(:math:`M_k` depends on :math:`\theta_k` only), and :math:`C = r^\top M_1 \cdots M_L c_O` with
:math:`r_j = \langle Q_j\rangle`. The backward (Heisenberg) sweep records, for each rotation,
the strings it split, their partners and their coefficients before the split; a second sweep
then carries the row vector :math:`\lambda^\top = r^\top M_1 \cdots M_{k-1}` forwards through
the recorded steps (reverse-mode differentiation of the propagation; :math:`\lambda` is the
input state restricted to the strings the propagation reached), and

.. math::

    \frac{\partial C}{\partial \theta_k} = \lambda^\top \frac{\partial M_k}{\partial\theta_k}
    c_{(k)} = \sum_{Q \text{ split}} c_Q \big(-\sin\theta_k\,\lambda_Q + s_Q \cos\theta_k\,
    \lambda_{Q'}\big).

So value and all gradients cost two sweeps, :math:`O(\sum_k m_k)` work and memory for sums of
:math:`m_k` terms at step :math:`k` (only the split terms are stored), instead of the
:math:`2p` further propagations of the parameter-shift rule. Under truncation the gradient is
the exact gradient of the truncated estimate (the dropped set held fixed).

Truncation and its error
------------------------
:class:`PauliPropagation` can drop, after each gate, the strings of weight above ``max_weight``
and the coefficients below ``min_coefficient`` in magnitude. Every map after the drop is a
unitary conjugation or a unital channel, which never increases the operator norm, and
:math:`|\langle Q\rangle| \le 1`; so the error of the estimate is at most the sum of the
magnitudes dropped,

.. math:: |C - \tilde C| \le \sum_{\text{dropped}} |c_Q| ,

which is reported as :attr:`PauliPropagation.discarded` after each evaluation: a deterministic
bound for this :math:`\theta` (the same one-norm of the truncated coefficients that Qiskit's
``pauli-prop`` returns), usually far from tight. The papers bound the error on average
instead. Angrisani et al. (2024) prove that for circuits whose layers are drawn from a
distribution invariant under single-qubit rotations, dropping the strings above a weight
cut-off gives a small mean squared error over the parameters except on a small fraction of
circuits, in time polynomial in :math:`n` and depth. With noise the damping of high-weight
strings does the work: Fontana et al. (2023) (LOWESA, independent parameters, Pauli noise)
show an error that decays exponentially in the noise rate and the weight cut-off, and
Schuster et al. (2024) an error small on average over input states for any circuit under
constant noise. ``max_weight`` is that cut-off; ``min_coefficient`` is the coefficient
threshold that PauliPropagation.jl (Rudolph et al. 2025) and ``pauli-prop`` offer beside it.

References
----------
A. Angrisani, A. Schmidhuber, M. S. Rudolph, M. Cerezo, Z. Holmes and H.-Y. Huang,
"Classically estimating observables of noiseless quantum circuits" (2024), arXiv:2409.01706.
M. S. Rudolph, T. Jones, Y. Teng, A. Angrisani and Z. Holmes, "Pauli propagation: a
computational framework for simulating quantum systems" (2025), arXiv:2505.21606.
E. Fontana, M. S. Rudolph, R. Duncan, I. Rungger and C. Cîrstoiu, "Classical simulations of
noisy variational quantum circuits" (2023), arXiv:2306.05400; npj Quantum Information,
doi:10.1038/s41534-024-00955-1.
T. Schuster, C. Yin, X. Gao and N. Y. Yao, "A polynomial-time classical algorithm for noisy
quantum circuits" (2024), arXiv:2407.12768.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np

from qnncourse._validation import check_memory
from qnncourse.circuit import Circuit
from qnncourse.paulis import (
    PackedClifford,
    PauliSum,
    anticommuting,
    bracket_signs,
    labels_to_bits,
    local_words,
    match_rows,
    pack_bits,
    pauli_channel_factors,
    string_weights,
)
from qnncourse.simulators.heisenberg import observable_terms, product_state, string_expectations

__all__ = ["DEFAULT_MAX_TERMS", "PauliProgram", "PauliPropagation"]

#: Largest Pauli sum propagated by default; beyond it the propagation stops with ValueError.
DEFAULT_MAX_TERMS = 200_000
_WHO = "simulator='pauli'"


def _mask(qubits: Sequence[int], n: int) -> np.ndarray:
    """Packed bit mask ``(W,)`` of ``qubits``."""
    bits = np.zeros((1, n), dtype=bool)
    bits[0, list(qubits)] = True
    return pack_bits(bits, max(1, -(-n // 64)))[0]


class PauliPropagation:
    """Pauli-propagation simulator settings, for ``Cost(..., simulator=PauliPropagation(...))``.

    ``Cost(..., simulator="pauli")`` is ``PauliPropagation()``: exact, no truncation. See the
    module docstring for the method, the gradient and the error bound.

    Parameters
    ----------
    max_weight : int, optional
        Drop every string acting on more than this many qubits (in the observable, and after
        each gate among the strings it changed).
    min_coefficient : float
        Drop coefficients smaller than this in magnitude (after each gate; in a batch, per
        parameter row).
    max_terms : int
        Stop with ``ValueError`` (giving the size reached) when the sum has more terms.

    Attributes
    ----------
    discarded : numpy.ndarray or None
        After each evaluation, per parameter row, :math:`\\sum_{\\text{dropped}} |c_Q|`: a
        bound on :math:`|C - \\tilde C|` (0 when exact).
    peak_terms : int or None
        The largest number of terms the last evaluation held.

    Examples
    --------
    >>> from qnncourse.ansatz import hardware_efficient
    >>> from qnncourse.cost import Cost
    >>> sim = PauliPropagation(max_weight=2)
    >>> cost = Cost(hardware_efficient(6, 2), "IIZZII", simulator=sim)
    >>> value = cost(np.full(24, 0.3))
    >>> bool(abs(value - Cost(hardware_efficient(6, 2), "IIZZII")(np.full(24, 0.3)))
    ...      <= sim.discarded[0])
    True
    """

    def __init__(self, max_weight: int | None = None, min_coefficient: float = 0.0,
                 max_terms: int = DEFAULT_MAX_TERMS) -> None:
        if max_weight is not None and (isinstance(max_weight, bool)
                                       or not isinstance(max_weight, Integral) or max_weight < 1):
            raise ValueError(f"max_weight must be None (no limit) or a positive int, got "
                             f"{max_weight!r}")
        if (isinstance(min_coefficient, bool) or not isinstance(min_coefficient, Real)
                or not np.isfinite(min_coefficient) or min_coefficient < 0):
            raise ValueError(f"min_coefficient must be a finite number >= 0, got "
                             f"{min_coefficient!r}")
        if isinstance(max_terms, bool) or not isinstance(max_terms, Integral) or max_terms < 1:
            raise ValueError(f"max_terms must be a positive int, got {max_terms!r}")
        self.max_weight = None if max_weight is None else int(max_weight)
        self.min_coefficient = float(min_coefficient)
        self.max_terms = int(max_terms)
        self.discarded: np.ndarray | None = None
        self.peak_terms: int | None = None

    @property
    def truncates(self) -> bool:
        """Whether anything may be dropped (otherwise the propagation is exact)."""
        return self.max_weight is not None or self.min_coefficient > 0

    def compile(self, circuit: Circuit, observable: object,
                channels: Sequence = ()) -> PauliProgram:
        """A :class:`PauliProgram` of ``circuit`` and ``observable`` with these settings."""
        return PauliProgram(circuit, observable, self, channels)

    def __repr__(self) -> str:
        return (f"PauliPropagation(max_weight={self.max_weight}, min_coefficient="
                f"{self.min_coefficient:g}, max_terms={self.max_terms})")


class PauliProgram:
    """A circuit and a Pauli-sum observable prepared for Pauli propagation.

    Single-qubit fixed gates that come first on their qubit may be any unitary (they are
    folded into the product input state); later fixed gates must be Clifford.

    Parameters
    ----------
    circuit : Circuit
    observable : Pauli label, dict, PauliString, PauliSum, or a diagonal Qobj/Observable
    simulator : PauliPropagation
        Truncation settings; every sweep updates their ``discarded`` and ``peak_terms``.
    channels : sequence of ChannelStep, optional
        The noise, from :meth:`qnncourse.noise.NoiseModel.channel_steps` (Pauli channels).
    """

    def __init__(self, circuit: Circuit, observable: object, simulator: PauliPropagation,
                 channels: Sequence = ()) -> None:
        if not isinstance(circuit, Circuit):
            raise TypeError(f"circuit must be a qnncourse Circuit, got {type(circuit).__name__}")
        if not isinstance(simulator, PauliPropagation):
            raise TypeError(f"simulator must be a PauliPropagation, got "
                            f"{type(simulator).__name__}")
        n = circuit.n_qubits
        self.circuit, self.n_qubits, self.settings = circuit, n, simulator
        terms = observable_terms(observable, n, _WHO)
        self.observable = PauliSum(terms) if terms else PauliSum({"I" * n: 0.0})
        labels = list(terms) or ["I" * n]
        self._x0, self._z0 = labels_to_bits(labels, n)
        self._c0 = np.array([terms.get(label, 0.0) for label in labels], dtype=float)
        ops = circuit.operations
        self.n_operations = len(ops)
        after: dict[int, list] = {}
        for step in channels:
            where = f"on qubits {tuple(step.qubits)} after operation {step.after}"
            factors = pauli_channel_factors(step.kraus, where, _WHO)
            after.setdefault(int(step.after), []).append(
                ("channel", tuple(step.qubits), factors, _mask(step.qubits, n)))
        # The backward sweep: the last operation first; a channel after operation k acts on the
        # observable before that operation does (it came after it in the circuit).
        self._steps: list[tuple] = []
        self._input_maps = self._leading_gates(ops, after)
        for k in range(len(ops) - 1, -1, -1):
            self._steps += reversed(after.get(k, []))
            op = ops[k]
            if k in self._input_maps:
                continue
            if op.kind == "fixed":
                self._steps.append(("clifford", PackedClifford(op.matrix, op.qubits, op.name,
                                                               _WHO), _mask(op.qubits, n)))
            else:
                chars = ["I"] * n
                for letter, q in zip(op.pauli, op.qubits, strict=True):
                    chars[q] = letter
                px, pz = labels_to_bits(["".join(chars)], n)
                self._steps.append(("rotation", k, px, pz, (px | pz)[0]))
        # The backward light cone, known before any angle: a step whose qubits the sum cannot
        # have reached yet (a superset of its support is tracked) is dropped once and for all.
        reach = np.bitwise_or.reduce(self._x0 | self._z0, axis=0)
        active = []
        for step in self._steps:
            if (reach & step[-1]).any():
                active.append(step)
                if step[0] != "channel":
                    reach |= step[-1]
        self._steps = active

    @staticmethod
    def _leading_gates(ops, after) -> dict[int, tuple[int, np.ndarray]]:
        """Single-qubit fixed gates that act before anything else on their qubit (and before
        any channel): they only change the product input state, so any unitary is allowed
        there (McClean et al.'s :math:`R_Y(\\pi/4)` layer). ``{operation: (qubit, R)}`` with
        :math:`R` the gate's rotation of the Bloch vector,
        :math:`R_{ij} = \\tfrac12\\mathrm{Tr}(\\sigma_i F \\sigma_j F^\\dagger)`."""
        sigma = [np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]),
                 np.array([[1, 0], [0, -1]])]
        touched: set[int] = set()
        out = {}
        for k, op in enumerate(ops):
            if op.kind == "fixed" and len(op.qubits) == 1 and op.qubits[0] not in touched:
                f = op.matrix
                out[k] = (op.qubits[0], np.array([[np.trace(a @ f @ b @ f.conj().T).real / 2
                                                   for b in sigma] for a in sigma]))
            else:
                touched.update(op.qubits)
            for step in after.get(k, []):
                touched.update(step[1])
        return out

    def _bloch(self, state: object) -> np.ndarray:
        """Bloch vectors of the input after the absorbed leading gates."""
        bloch = product_state(state, self.n_qubits)
        for q, rotation in self._input_maps.values():  # in circuit order
            bloch[q] = rotation @ bloch[q]
        return bloch

    def __repr__(self) -> str:
        return (f"PauliProgram(n_qubits={self.n_qubits}, operations={self.n_operations}, "
                f"{self.settings!r})")

    # -- the backward sweep --------------------------------------------------------------
    def _truncate(self, x, z, c, rows, discarded, tape):
        """Drop, among ``rows``, the strings over ``max_weight`` and the coefficients below
        ``min_coefficient``; returns the kept ``(x, z, c)``."""
        settings = self.settings
        drop = np.zeros(len(rows), dtype=bool)
        if settings.max_weight is not None:
            drop |= string_weights(x[rows], z[rows]) > settings.max_weight
        mask_rows = mask = None
        if settings.min_coefficient > 0:
            small = np.abs(c[rows]) < settings.min_coefficient
            drop |= small.all(axis=1)
            partial = small.any(axis=1) & ~drop
            if partial.any():  # in a batch: zero the small entries of the rows kept
                mask_rows, mask = rows[partial], ~small[partial]
                discarded += np.abs(c[mask_rows] * ~mask).sum(axis=0)
                c[mask_rows] *= mask
        if not drop.any() and mask is None:
            return x, z, c
        gone = rows[drop]
        discarded += np.abs(c[gone]).sum(axis=0)
        keep = np.ones(len(x), dtype=bool)
        keep[gone] = False
        if tape is not None:
            tape.append(("keep", keep, mask_rows, mask))
        return x[keep], z[keep], c[keep]

    def _sweep(self, angles: np.ndarray, tape: list | None, state: object):
        """Propagate the observable through every operation; returns the final sum, the
        expectations of its strings and the discarded weight per row."""
        angles = np.asarray(angles, dtype=float)
        if angles.ndim != 2 or angles.shape[1] != self.n_operations:
            raise ValueError(f"angles must have shape (S, {self.n_operations}), got "
                             f"{angles.shape}")
        n_rows = len(angles)
        cos, sin = np.cos(angles.T), np.sin(angles.T)
        x, z = self._x0.copy(), self._z0.copy()
        c = np.repeat(self._c0[:, None], n_rows, axis=1)
        discarded = np.zeros(n_rows)
        settings = self.settings
        peak, stored, checked, checked_tape = len(x), 0, 0, 0
        if settings.truncates:  # the observable itself is held to the same limits
            x, z, c = self._truncate(x, z, c, np.arange(len(x)), discarded, tape)
        # A superset of the qubits the sum acts on: a step outside it changes nothing (the
        # light cone), and is skipped without touching the terms.
        support = np.bitwise_or.reduce(x | z, axis=0)
        for done, step in enumerate(self._steps):
            if not (support & step[-1]).any():
                continue
            if step[0] == "rotation":
                _, k, px, pz, mask = step
                anti = np.flatnonzero(anticommuting(x, z, px, pz))
                if not len(anti):
                    continue
                ax, az = x[anti], z[anti]
                nx, nz = ax ^ px, az ^ pz
                s = bracket_signs(px, pz, ax, az)[:, None]
                ca = c[anti]
                # iPQ_a = s Q' lands on a split string (both anticommute with P) or is new.
                hit, source = match_rows(ax, az, nx, nz)
                fresh = np.ones(len(anti), dtype=bool)
                fresh[source] = False
                m = len(x)
                dest = np.empty(len(anti), dtype=np.int64)
                dest[source] = anti[hit]
                dest[fresh] = m + np.arange(np.count_nonzero(fresh))
                x = np.concatenate([x, nx[fresh]])
                z = np.concatenate([z, nz[fresh]])
                c = np.concatenate([c, np.zeros((len(x) - m, n_rows))])
                c[anti] = ca * cos[k]
                c[dest] += ca * (s * sin[k])  # dest has no repeats
                support |= mask
                if tape is not None:
                    tape.append(("rotation", k, anti, dest, s, ca, m))
                    stored += ca.nbytes + 24 * len(anti)
                    if stored > checked_tape:
                        check_memory(stored, f"the propagation record of {done + 1} "
                                             f"operations (for the gradient)")
                        checked_tape = 2 * stored
                if settings.truncates:
                    x, z, c = self._truncate(x, z, c, np.concatenate([anti, np.arange(m, len(x))]),
                                             discarded, tape)
            elif step[0] == "clifford":
                rows = np.flatnonzero(((x | z) & step[2]).any(axis=1))
                x[rows], z[rows], sign = step[1].apply(x[rows], z[rows])
                c[rows] *= sign[:, None]
                support |= step[2]
                if tape is not None:
                    tape.append(("sign", rows, sign))
                if settings.max_weight is not None:
                    x, z, c = self._truncate(x, z, c, np.arange(len(x)), discarded, tape)
            else:
                factor = step[2][local_words(x, z, step[1])]
                c *= factor[:, None]
                if tape is not None:
                    tape.append(("scale", factor))
                if settings.min_coefficient > 0:
                    x, z, c = self._truncate(x, z, c, np.arange(len(x)), discarded, tape)
            peak = max(peak, len(x))
            if len(x) > settings.max_terms:
                raise ValueError(
                    f"Pauli propagation reached {len(x)} terms after {done + 1} of "
                    f"{len(self._steps)} steps on {self.n_qubits} qubits, more than max_terms="
                    f"{settings.max_terms}: the exact propagation is not efficient for this "
                    f"circuit and observable; truncate with PauliPropagation(max_weight=..., "
                    f"min_coefficient=...) or raise max_terms")
            if len(x) > checked:  # reading the free memory costs a file read: only on growth
                check_memory(c.nbytes, f"a Pauli sum of {len(x)} terms for {n_rows} parameter "
                                       f"rows")
                checked = 2 * len(x)
        settings.discarded, settings.peak_terms = discarded, peak
        r = string_expectations(x, z, self._bloch(state))
        return c, r

    def values(self, angles: np.ndarray, state: object = None) -> np.ndarray:
        """Expectation per row of operation ``angles`` ``(S, len(circuit))``."""
        c, r = self._sweep(angles, None, state)
        return r @ c

    def values_and_gradients(self, angles: np.ndarray, state: object = None,
                             ) -> tuple[np.ndarray, np.ndarray]:
        """Values ``(S,)`` and derivatives by every operation angle ``(S, len(circuit))``,
        by one backward propagation and one reverse sweep over its record."""
        tape: list = []
        c, r = self._sweep(angles, tape, state)
        angles = np.asarray(angles, dtype=float)
        cos, sin = np.cos(angles.T), np.sin(angles.T)
        lam = np.repeat(r[:, None], len(angles), axis=1)
        grads = np.zeros((self.n_operations, len(angles)))
        for record in reversed(tape):
            if record[0] == "rotation":
                _, k, anti, dest, s, ca, m = record
                la, ld = lam[anti], lam[dest]
                grads[k] = np.sum(ca * (cos[k] * s * ld - sin[k] * la), axis=0)
                lam = lam[:m]
                lam[anti] = cos[k] * la + (s * sin[k]) * ld
            elif record[0] == "scale":
                lam = lam * record[1][:, None]
            elif record[0] == "sign":
                lam[record[1]] *= record[2][:, None]
            else:
                _, keep, mask_rows, mask = record
                full = np.zeros((len(keep), lam.shape[1]))
                full[keep] = lam
                if mask is not None:
                    full[mask_rows] *= mask
                lam = full
        return r @ c, grads.T
