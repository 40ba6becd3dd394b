"""Measuring a Pauli sum on hardware: qubit-wise commuting groups, one product basis per group.

A quantum computer cannot sample a sum of non-commuting Pauli strings in its eigenbasis (that
basis is entangled and unknown in general). What it does is split
:math:`O = c_0 I + \\sum_P c_P P` into groups of strings that *commute qubit-wise* (on every
qubit the strings act with the same Pauli or with the identity), rotate each qubit into the
basis its group needs (:math:`X`: a Hadamard; :math:`Y`: :math:`HS^\\dagger`), measure in the
computational basis, and read every string of the group off the same outcomes. With :math:`N`
shots per group, the estimate

.. math:: \\hat O = c_0 + \\sum_g \\frac1N \\sum_{s=1}^{N} o_g(b_s^{(g)}), \\qquad
          o_g(b) = \\sum_{P \\in g} c_P \\prod_{q \\in \\mathrm{supp}\\,P} (-1)^{b_q},

is unbiased with variance :math:`\\sum_g \\mathrm{Var}_\\psi(O_g)/N`, where
:math:`O_g = \\sum_{P\\in g} c_P P`. Sampling :math:`O` in its own eigenbasis (the default shot
model of :class:`~qnncourse.cost.Cost`) has variance :math:`\\mathrm{Var}_\\psi(O)/N` from one
circuit; the two differ by the covariances between groups, and grouping costs one circuit per
group.

References
----------
Kandala et al., Nature 549, 242 (2017), doi:10.1038/nature23879 (qubit-wise commuting groups);
Verteletskyi, Yen & Izmaylov, J. Chem. Phys. 152, 124114 (2020), doi:10.1063/1.5141458
(grouping as a graph-colouring problem; the greedy colouring used here).
"""

from __future__ import annotations

import numpy as np

from qnncourse._validation import as_rng
from qnncourse.paulis import PauliString, PauliSum, as_pauli_sum

__all__ = ["GroupedMeasurement", "MEASUREMENTS", "as_measurement", "qubitwise_commute",
           "qubitwise_commuting_groups"]

MEASUREMENTS = ("eigenbasis", "qwc")

_H = np.array([[1, 1], [1, -1]], dtype=complex) / np.sqrt(2)
# rotations U with U P U^dag = Z: measuring Z after U measures P
_TO_Z = {"X": _H, "Y": _H @ np.diag([1, -1j]), "Z": np.eye(2, dtype=complex)}


def qubitwise_commute(a: str, b: str) -> bool:
    """Whether two Pauli labels commute qubit-wise: on every qubit equal letters or an ``I``.

    >>> qubitwise_commute("XZI", "XIZ"), qubitwise_commute("XX", "YY")
    (True, False)
    """
    if len(a) != len(b):
        raise ValueError(f"labels of different lengths: {a!r} ({len(a)}) and {b!r} ({len(b)})")
    return all(p == q or p == "I" or q == "I" for p, q in zip(a, b, strict=True))


def qubitwise_commuting_groups(observable) -> list[PauliSum]:
    """Partition the non-identity terms of a Pauli sum into qubit-wise commuting groups.

    Greedy colouring: terms in order of decreasing :math:`|c_P|`, each into the first group
    whose members it commutes with qubit-wise, else into a new group. Not always the fewest
    groups (that is a minimum clique cover, NP-hard in general), but every group can be measured
    in one product basis.

    Parameters
    ----------
    observable : str, dict, PauliString or PauliSum
        Hermitian Pauli sum (see :func:`qnncourse.paulis.as_pauli_sum`).

    Returns
    -------
    list of PauliSum
        The groups; the identity term is left out (it needs no measurement).

    Examples
    --------
    >>> groups = qubitwise_commuting_groups({"ZZ": 1.0, "XI": 0.5, "IX": 0.5, "ZI": 0.2})
    >>> [sorted(g.terms) for g in groups]
    [['ZI', 'ZZ'], ['IX', 'XI']]
    """
    ps = _as_sum(observable)
    identity = "I" * ps.n_qubits
    terms = sorted(((label, c) for label, c in ps.terms.items() if label != identity),
                   key=lambda item: (-abs(item[1]), item[0]))
    groups: list[dict[str, complex]] = []
    for label, coeff in terms:
        for group in groups:
            if all(qubitwise_commute(label, other) for other in group):
                group[label] = coeff
                break
        else:
            groups.append({label: coeff})
    return [PauliSum(group) for group in groups]


def _as_sum(observable) -> PauliSum:
    if not isinstance(observable, str | dict | PauliString | PauliSum):
        raise TypeError(f"grouped measurement needs the observable as a Pauli sum (a label, a "
                        f"dict, a PauliString or a PauliSum), got {type(observable).__name__}")
    ps = as_pauli_sum(observable)
    if not ps.is_hermitian():
        raise ValueError(f"observable must be Hermitian (real coefficients), got {ps.terms}")
    return ps


class GroupedMeasurement:
    """Shot estimates of a Pauli sum measured group by group (qubit-wise commuting groups).

    Parameters
    ----------
    observable : str, dict, PauliString or PauliSum
    n_qubits : int
        Must match the observable's labels.

    Examples
    --------
    >>> m = GroupedMeasurement({"ZZ": 1.0, "XX": 1.0}, 2)
    >>> m.n_groups
    2
    >>> bell = np.array([[1, 0, 0, 1]]) / np.sqrt(2)  # <ZZ> = <XX> = 1, no shot noise
    >>> m.expectation(bell).round(12) + 0.0, m.shot_variance(bell).round(12) + 0.0
    (array([2.]), array([0.]))
    """

    def __init__(self, observable, n_qubits: int) -> None:
        ps = _as_sum(observable)
        if ps.n_qubits != n_qubits:
            raise ValueError(f"observable acts on {ps.n_qubits} qubits, the circuit has "
                             f"{n_qubits}")
        self.n_qubits = n_qubits
        self.source = ps
        self.constant = float(complex(ps.terms.get("I" * n_qubits, 0.0)).real)
        self.groups = qubitwise_commuting_groups(ps)
        outcomes = np.arange(2**n_qubits, dtype=np.int64)
        self._bases: list[str] = []
        self._values: list[np.ndarray] = []
        for group in self.groups:
            basis = ["Z"] * n_qubits
            values = np.zeros(2**n_qubits)
            for label, coeff in group.terms.items():
                mask = 0
                for q, letter in enumerate(label):
                    if letter != "I":
                        basis[q] = letter
                        mask |= 1 << (n_qubits - 1 - q)  # qubit 0 is the leading bit
                parity = np.bitwise_count(outcomes & mask) & 1
                values += complex(coeff).real * (1.0 - 2.0 * parity)
            self._bases.append("".join(basis))
            self._values.append(values)

    @property
    def n_groups(self) -> int:
        """Number of groups: circuits run per estimate."""
        return len(self.groups)

    @property
    def bases(self) -> list[str]:
        """The measurement basis of each group, one letter per qubit."""
        return list(self._bases)

    def _check_states(self, psi: np.ndarray) -> np.ndarray:
        psi = np.asarray(psi, dtype=complex)
        psi = psi.reshape(psi.shape[0], -1) if psi.ndim > 1 else psi[None, :]
        if psi.shape[1] != 2**self.n_qubits:
            raise ValueError(f"states must have 2**{self.n_qubits} = {2**self.n_qubits} "
                             f"amplitudes, got {psi.shape[1]}")
        return psi

    def probabilities(self, psi: np.ndarray) -> list[np.ndarray]:
        """Outcome probabilities ``(S, 2**n)`` of each group's measurement, for states
        ``psi`` of shape ``(S, 2**n)``."""
        psi = self._check_states(psi)
        n, rows = self.n_qubits, psi.shape[0]
        out = []
        for basis in self._bases:
            phi = psi.reshape((rows,) + (2,) * n)
            for q, letter in enumerate(basis):
                if letter != "Z":
                    phi = np.moveaxis(np.tensordot(_TO_Z[letter], phi, axes=([1], [q + 1])),
                                      0, q + 1)
            phi = phi.reshape(rows, -1)
            out.append(phi.real**2 + phi.imag**2)
        return out

    def expectation(self, psi: np.ndarray) -> np.ndarray:
        """Exact :math:`\\langle O\\rangle` per state, read from the group measurements."""
        probs = self.probabilities(psi)
        return self.constant + sum(p @ v for p, v in zip(probs, self._values, strict=True))

    def shot_variance(self, psi: np.ndarray) -> np.ndarray:
        """Variance of one shot per group, :math:`\\sum_g \\mathrm{Var}_\\psi(O_g)`, per state:
        the estimate from ``N`` shots per group has this variance divided by ``N``."""
        total = 0.0
        for p, v in zip(self.probabilities(psi), self._values, strict=True):
            total = total + p @ v**2 - (p @ v) ** 2
        return np.maximum(total, 0.0)

    def estimate(self, psi: np.ndarray, shots: int,
                 rng: np.random.Generator | int | None = None) -> np.ndarray:
        """Shot estimate of :math:`\\langle O\\rangle` per state, ``shots`` per group."""
        if isinstance(shots, bool) or not isinstance(shots, int | np.integer) or shots < 1:
            raise ValueError(f"shots must be a positive int, got {shots!r}")
        rng = as_rng(rng)
        total = np.full(self._check_states(psi).shape[0], self.constant)
        for p, v in zip(self.probabilities(psi), self._values, strict=True):
            p = np.clip(p, 0.0, None)
            counts = rng.multinomial(int(shots), p / p.sum(axis=1, keepdims=True))
            total += counts @ v / shots
        return total

    def __repr__(self) -> str:
        return f"GroupedMeasurement(n_qubits={self.n_qubits}, bases={self._bases})"


def as_measurement(measurement: str, observable, n_qubits: int) -> GroupedMeasurement | None:
    """The measurement scheme for a cost: ``None`` for ``"eigenbasis"`` (sample :math:`O` in its
    own eigenbasis, one circuit per value), a :class:`GroupedMeasurement` for ``"qwc"``."""
    if measurement not in MEASUREMENTS:
        raise ValueError(f"measurement must be one of {MEASUREMENTS}, got {measurement!r}")
    if measurement == "eigenbasis":
        return None
    return GroupedMeasurement(observable, n_qubits)
