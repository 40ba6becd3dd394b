r"""Quantum channels, built with QuTiP: depolarizing, dephasing, amplitude damping, thermal
relaxation.

A channel is a completely positive trace-preserving map :math:`\mathcal{E}`; each one here gives
its Kraus operators (:meth:`Channel.kraus`, :math:`\mathcal{E}(\rho) = \sum_k K_k \rho K_k^\dagger`)
and its superoperator (:meth:`Channel.superoperator`) as ``qutip.Qobj``. Pauli matrices come
from :mod:`qnncourse.paulis` (the library's one Pauli kernel).

References
----------
M. A. Nielsen, I. L. Chuang, *Quantum Computation and Quantum Information*, section 8.3
(depolarizing, phase damping and amplitude damping channels).
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from numbers import Real

import numpy as np
import qutip

from qnncourse._validation import check_probability
from qnncourse.paulis import PauliString

__all__ = ["AmplitudeDamping", "Channel", "Dephasing", "Depolarizing", "ThermalRelaxation"]


@functools.lru_cache(maxsize=8)
def _pauli_basis(n_qubits: int) -> tuple[np.ndarray, ...]:
    """All ``4**n_qubits`` Pauli words as dense matrices, identity first, order ``I, X, Y, Z``
    per qubit with qubit 0 leftmost."""
    words = tuple(PauliString("".join(letters)).to_matrix()
                  for letters in itertools.product("IXYZ", repeat=n_qubits))
    for matrix in words:
        matrix.setflags(write=False)  # cached and shared
    return words


def _check_time(value: object, name: str, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"ThermalRelaxation {name} must be a real number, "
                        f"got {type(value).__name__}")
    value = float(value)
    if math.isnan(value) or value < 0 or (positive and value == 0):
        kind = "a positive time" if positive else "a non-negative time"
        raise ValueError(f"ThermalRelaxation {name} must be {kind}, got {value}")
    return value


class Channel:
    r"""A quantum channel on ``n_qubits`` qubits, given by its Kraus operators.

    .. math:: \mathcal{E}(\rho) = \sum_k K_k \rho K_k^\dagger, \qquad
              \sum_k K_k^\dagger K_k = I.

    Subclasses implement :meth:`kraus_matrices`; everything else follows from it. Instances are
    immutable and compare by value.
    """

    n_qubits: int = 1

    def kraus_matrices(self) -> tuple[np.ndarray, ...]:
        """The Kraus operators as dense ``(2**k, 2**k)`` numpy arrays (what the simulator uses)."""
        raise NotImplementedError

    def kraus(self) -> list[qutip.Qobj]:
        """The Kraus operators as ``qutip.Qobj`` with dims ``[[2]*k, [2]*k]``."""
        dims = [[2] * self.n_qubits, [2] * self.n_qubits]
        return [qutip.Qobj(k, dims=dims) for k in self.kraus_matrices()]

    def superoperator(self) -> qutip.Qobj:
        r"""The channel as a QuTiP superoperator (column-stacking ``super`` representation), so that
        ``vector_to_operator(S @ operator_to_vector(rho))`` is :math:`\mathcal{E}(\rho)`."""
        return qutip.kraus_to_super(self.kraus())

    def __call__(self, rho: qutip.Qobj) -> qutip.Qobj:
        """Apply the channel to a density matrix ``rho`` (a ``qutip.Qobj`` on ``k`` qubits)."""
        if not isinstance(rho, qutip.Qobj) or not rho.isoper:
            raise TypeError(f"{self!r} acts on a density matrix (qutip.Qobj operator), "
                            f"got {type(rho).__name__}")
        if rho.shape != (2**self.n_qubits, 2**self.n_qubits):
            raise ValueError(f"{self!r} acts on {self.n_qubits} qubit(s), "
                             f"rho has shape {rho.shape}")
        rho = qutip.Qobj(rho.full(), dims=[[2] * self.n_qubits] * 2)
        return qutip.vector_to_operator(self.superoperator() @ qutip.operator_to_vector(rho))

    def pauli_transfer_matrix(self) -> np.ndarray:
        r"""Real matrix :math:`R_{ij} = 2^{-k}\,\mathrm{Tr}[P_i\,\mathcal{E}(P_j)]` over the Pauli
        words in the order ``I, X, Y, Z`` (tensor products with qubit 0 leftmost).

        A Pauli channel (depolarizing, dephasing) has a diagonal :math:`R` with
        :math:`R_{00} = 1`; its other diagonal entries are the factors :math:`q_P` by which the
        channel shrinks each Pauli component, the "noise parameters" of Wang et al. (2021).
        """
        basis = _pauli_basis(self.n_qubits)
        kraus = self.kraus_matrices()
        dim = 2**self.n_qubits
        images = [sum(k @ p @ k.conj().T for k in kraus) for p in basis]
        return np.array([[np.trace(pi @ img).real / dim for img in images] for pi in basis])


@dataclass(frozen=True)
class Depolarizing(Channel):
    r"""Depolarizing channel: with probability ``p`` the qubits are replaced by the maximally mixed
    state.

    .. math::

       \mathcal{E}(\rho) &= (1-p)\,\rho + p\,\frac{I}{2^k} \otimes \mathrm{Tr}_k\,\rho, \\
       K_0 &= \sqrt{1 - \tfrac{4^k-1}{4^k}p}\; I,\quad K_P = \sqrt{p/4^k}\; P \ (P \ne I).

    Every non-identity Pauli component shrinks by :math:`1-p` (``p = 1`` erases the state).

    Conventions elsewhere (one qubit): Qiskit's ``depolarizing_error(param, 1)`` uses the same
    :math:`\lambda` = ``p``. PennyLane's ``qml.DepolarizingChannel(p_pl)`` applies X, Y, Z each
    with probability :math:`p_{pl}/3`, i.e. :math:`(1-\tfrac43 p_{pl})\rho + \tfrac43 p_{pl} I/2`:
    ``p = 4 * p_pl / 3`` and ``p_pl = 3 * p / 4``.

    Parameters
    ----------
    p : float
        Depolarizing probability in [0, 1].
    n_qubits : int
        Number of qubits the channel acts on jointly (default 1). With ``n_qubits`` equal to
        the circuit width it is the global depolarizing channel.

    References
    ----------
    Nielsen & Chuang, eq. (8.102); Qiskit ``qiskit_aer.noise.depolarizing_error``; PennyLane
    ``qml.DepolarizingChannel``.
    """

    p: float
    n_qubits: int = 1

    def __post_init__(self) -> None:
        check_probability(self.p, "p", "Depolarizing")
        if isinstance(self.n_qubits, bool) or not isinstance(self.n_qubits, int) \
                or self.n_qubits < 1:
            raise ValueError(f"Depolarizing n_qubits must be a positive int, got {self.n_qubits!r}")

    def kraus_matrices(self) -> tuple[np.ndarray, ...]:
        d2 = 4**self.n_qubits
        words = _pauli_basis(self.n_qubits)
        first = math.sqrt(1 - (d2 - 1) / d2 * self.p) * words[0]
        return (first, *(math.sqrt(self.p / d2) * m for m in words[1:]))


@dataclass(frozen=True)
class Dephasing(Channel):
    r"""Dephasing (phase-flip) channel on one qubit.

    .. math:: \mathcal{E}(\rho) = (1-p)\,\rho + p\,Z\rho Z, \qquad
              K_0 = \sqrt{1-p}\,I,\ K_1 = \sqrt{p}\,Z.

    Populations are untouched; coherences :math:`\rho_{01}` shrink by :math:`1-2p`
    (``p = 1/2`` erases them). Same convention as PennyLane's ``qml.PhaseFlip(p)`` and Qiskit's
    ``pauli_error([("Z", p), ("I", 1 - p)])``.

    Parameters
    ----------
    p : float
        Phase-flip probability in [0, 1].

    References
    ----------
    Nielsen & Chuang, section 8.3.3 and 8.3.6.
    """

    p: float

    def __post_init__(self) -> None:
        check_probability(self.p, "p", "Dephasing")

    def kraus_matrices(self) -> tuple[np.ndarray, ...]:
        return (math.sqrt(1 - self.p) * np.eye(2, dtype=complex),
                math.sqrt(self.p) * PauliString("Z").to_matrix())


@dataclass(frozen=True)
class AmplitudeDamping(Channel):
    r"""Amplitude damping on one qubit: decay :math:`|1\rangle \to |0\rangle` with probability
    ``gamma``.

    .. math:: K_0 = \begin{pmatrix}1 & 0\\ 0 & \sqrt{1-\gamma}\end{pmatrix},\quad
              K_1 = \begin{pmatrix}0 & \sqrt{\gamma}\\ 0 & 0\end{pmatrix}.

    The population of :math:`|1\rangle` shrinks by :math:`1-\gamma`, coherences by
    :math:`\sqrt{1-\gamma}`; :math:`|0\rangle\langle 0|` is the fixed point. Not unital, so not
    a Pauli channel. Same convention as PennyLane's ``qml.AmplitudeDamping(gamma)`` and Qiskit's
    ``amplitude_damping_error(gamma)``.

    Parameters
    ----------
    gamma : float
        Decay probability in [0, 1].

    References
    ----------
    Nielsen & Chuang, eq. (8.108).
    """

    gamma: float

    def __post_init__(self) -> None:
        check_probability(self.gamma, "gamma", "AmplitudeDamping")

    def kraus_matrices(self) -> tuple[np.ndarray, ...]:
        g = self.gamma
        return (np.array([[1, 0], [0, math.sqrt(1 - g)]], dtype=complex),
                np.array([[0, math.sqrt(g)], [0, 0]], dtype=complex))


@functools.lru_cache(maxsize=256)
def _thermal_superoperator(t1: float, t2: float, gate_time: float) -> qutip.Qobj:
    """Propagator of the relaxation master equation over ``gate_time``, integrated once."""
    identity = qutip.to_super(qutip.qeye(2))
    if gate_time == 0:
        return identity
    # |0><1| lowers |1> to |0>; qutip.sigmam() would lower |0> to |1> (spin-up = basis 0).
    lower = qutip.destroy(2)
    dephasing_rate = max(0.0, 1 / t2 - 1 / (2 * t1))
    collapse = [math.sqrt(1 / t1) * lower, math.sqrt(dephasing_rate / 2) * qutip.sigmaz()]
    liouvillian = qutip.liouvillian(qutip.qzero(2), collapse)
    # Evolving the identity superoperator gives the propagator itself: one integration, reused
    # for every gate (QuTiP 5 mesolve is slow on tiny problems, so never call it per gate).
    result = qutip.mesolve(liouvillian, identity, [0.0, gate_time],
                           options={"atol": 1e-12, "rtol": 1e-10})
    return result.states[-1]


@dataclass(frozen=True)
class ThermalRelaxation(Channel):
    r"""Thermal relaxation of one qubit (to :math:`|0\rangle`) during a gate of duration
    ``gate_time``, from the Lindblad master equation

    .. math:: \dot\rho = \frac{1}{T_1}\,\mathcal{D}[\sigma_-]\rho
              + \frac{\gamma_\phi}{2}\,\mathcal{D}[Z]\rho, \qquad
              \gamma_\phi = \frac{1}{T_2} - \frac{1}{2T_1},

    with :math:`\sigma_- = |0\rangle\langle 1|` and
    :math:`\mathcal{D}[L]\rho = L\rho L^\dagger - \tfrac12\{L^\dagger L, \rho\}`. Then
    :math:`\rho_{11}(t) = \rho_{11}(0)\,e^{-t/T_1}` and
    :math:`|\rho_{01}(t)| = |\rho_{01}(0)|\,e^{-t/T_2}`. A non-negative pure-dephasing rate
    requires :math:`T_2 \le 2T_1`.

    The equation is integrated once with ``qutip.mesolve`` (on the identity superoperator, which
    yields the propagator) and cached; the Kraus operators come from ``qutip.to_kraus``.

    Parameters
    ----------
    t1, t2 : float
        Relaxation and coherence times (positive, ``numpy.inf`` allowed, ``t2 <= 2 * t1``).
    gate_time : float
        Duration of the gate (non-negative, same unit as ``t1`` and ``t2``).

    References
    ----------
    H.-P. Breuer, F. Petruccione, *The Theory of Open Quantum Systems* (2002), section 3.4.
    """

    t1: float
    t2: float
    gate_time: float

    def __post_init__(self) -> None:
        t1 = _check_time(self.t1, "t1", positive=True)
        t2 = _check_time(self.t2, "t2", positive=True)
        _check_time(self.gate_time, "gate_time", positive=False)
        if math.isinf(self.gate_time):
            raise ValueError("ThermalRelaxation gate_time must be finite, got inf")
        if t2 > 2 * t1:
            raise ValueError(f"ThermalRelaxation needs t2 <= 2*t1 (a negative pure-dephasing rate "
                             f"is unphysical), got t2={t2} > 2*t1={2 * t1}")

    def superoperator(self) -> qutip.Qobj:
        return _thermal_superoperator(float(self.t1), float(self.t2), float(self.gate_time))

    def kraus(self) -> list[qutip.Qobj]:
        return qutip.to_kraus(self.superoperator())

    def kraus_matrices(self) -> tuple[np.ndarray, ...]:
        return tuple(k.full() for k in self.kraus())
