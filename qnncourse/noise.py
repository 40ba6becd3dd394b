r"""Noise channels and noise models, built with QuTiP.

A channel is a completely positive trace-preserving map :math:`\mathcal{E}`; each one here gives
its Kraus operators (:meth:`Channel.kraus`, :math:`\mathcal{E}(\rho) = \sum_k K_k \rho K_k^\dagger`)
and its superoperator (:meth:`Channel.superoperator`) as ``qutip.Qobj``. A :class:`NoiseModel`
says which channel follows which gate, plus the readout error of the final measurement;
``Cost(circuit, observable, noise=...)`` simulates it with density matrices
(:mod:`qnncourse.simulators.density`).

:func:`noisy_gradient_decay` measures how noise flattens gradients with depth, the
noise-induced barren plateau of Wang et al. (2021), and :func:`wang_gradient_bound` evaluates
their bound.

References
----------
S. Wang, E. Fontana, M. Cerezo, K. Sharma, A. Sone, L. Cincio, P. J. Coles, "Noise-induced barren
plateaus in variational quantum algorithms", Nat. Commun. 12, 6961 (2021),
https://doi.org/10.1038/s41467-021-27045-6

M. A. Nielsen, I. L. Chuang, *Quantum Computation and Quantum Information*, section 8.3
(depolarizing, phase damping and amplitude damping channels).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import qutip

from qnncourse._validation import as_rng
from qnncourse.observables import as_observable
from qnncourse.simulators import density
from qnncourse.simulators.density import ChannelStep
from qnncourse.simulators.statevector import adjoint_from_angles

__all__ = [
    "AmplitudeDamping",
    "Channel",
    "Dephasing",
    "Depolarizing",
    "NoiseModel",
    "NoisyGradientDecay",
    "ThermalRelaxation",
    "as_noise_model",
    "noisy_gradient_decay",
    "wang_gradient_bound",
]

_PAULI_MATRICES = {
    "I": np.eye(2, dtype=complex),
    "X": np.array([[0, 1], [1, 0]], dtype=complex),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=complex),
    "Z": np.array([[1, 0], [0, -1]], dtype=complex),
}


def _pauli_basis(n_qubits: int) -> list[tuple[str, np.ndarray]]:
    """All ``4**n_qubits`` Pauli words as ``(label, matrix)``, identity first, qubit 0 leftmost."""
    words = []
    for letters in itertools.product("IXYZ", repeat=n_qubits):
        matrix = functools.reduce(np.kron, (_PAULI_MATRICES[c] for c in letters))
        words.append(("".join(letters), matrix))
    return words


def _check_probability(value: object, name: str, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{owner} {name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not 0.0 <= value <= 1.0:  # also rejects nan
        raise ValueError(f"{owner} {name} must be a probability in [0, 1], got {value}")
    return value


def _check_index(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
        raise ValueError(f"{what} must be a non-negative int, got {value!r}")
    return int(value)


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
        basis = [m for _, m in _pauli_basis(self.n_qubits)]
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
        _check_probability(self.p, "p", "Depolarizing")
        if isinstance(self.n_qubits, bool) or not isinstance(self.n_qubits, int) \
                or self.n_qubits < 1:
            raise ValueError(f"Depolarizing n_qubits must be a positive int, got {self.n_qubits!r}")

    def kraus_matrices(self) -> tuple[np.ndarray, ...]:
        d2 = 4**self.n_qubits
        words = _pauli_basis(self.n_qubits)
        first = math.sqrt(1 - (d2 - 1) / d2 * self.p) * words[0][1]
        return (first, *(math.sqrt(self.p / d2) * m for _, m in words[1:]))


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
        _check_probability(self.p, "p", "Dephasing")

    def kraus_matrices(self) -> tuple[np.ndarray, ...]:
        return (math.sqrt(1 - self.p) * _PAULI_MATRICES["I"],
                math.sqrt(self.p) * _PAULI_MATRICES["Z"])


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
        _check_probability(self.gamma, "gamma", "AmplitudeDamping")

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


# ---------------------------------------------------------------------------------------------
# Noise models
# ---------------------------------------------------------------------------------------------

_GATE_CLASSES = {"all": None, "one-qubit": 1, "two-qubit": 2, "layer": None}


@dataclass(frozen=True)
class _Rule:
    """One line of a noise model: ``channel`` (or a channel per qubit) after selected gates."""

    channels: Mapping[int, Channel] | Channel
    gates: str | frozenset[str]

    def selects(self, op) -> bool:
        if isinstance(self.gates, frozenset):
            return op.name.lower() in self.gates
        # "layer" rules are placed by NoiseModel.channel_steps, not per gate.
        arity = _GATE_CLASSES[self.gates]
        return arity is None or len(op.qubits) == arity

    def channel_on(self, qubit: int) -> Channel | None:
        if isinstance(self.channels, Channel):
            return self.channels
        return self.channels.get(qubit)


def _readout_pair(value: object, where: str) -> tuple[float, float]:
    if isinstance(value, tuple | list) and len(value) == 2:
        return (_check_probability(value[0], "p01", f"readout error of {where}"),
                _check_probability(value[1], "p10", f"readout error of {where}"))
    p = _check_probability(value, "probability", f"readout error of {where}")
    return (p, p)


class NoiseModel:
    r"""Which channel follows which gates, and the readout error of the final measurement.

    Parameters
    ----------
    channel : Channel, optional
        Shortcut for ``NoiseModel().add(channel)``: ``channel`` after every gate.
    readout : float, sequence or mapping, optional
        Bit-flip probabilities of the measurement. A float applies to every qubit; a sequence
        has one entry per qubit; a mapping ``{qubit: entry}`` names some qubits. An entry is a
        symmetric flip probability ``p`` or a pair ``(p01, p10)`` with
        ``p01 = P(read 1 | qubit in 0)`` and ``p10 = P(read 0 | qubit in 1)``.

    Notes
    -----
    Channels follow a gate in the order the rules were added. A one-qubit channel acts on each
    qubit the gate touches (``qubits=`` restricts which); a ``k``-qubit channel acts jointly on
    the ``k`` qubits of a ``k``-qubit gate.

    Readout error acts on measurement outcomes, so it is defined for observables diagonal in the
    computational basis, :math:`O = \sum_b o_b |b\rangle\langle b|`. With the per-qubit
    confusion matrix :math:`M_q = \begin{pmatrix}1-p_{01} & p_{10}\\ p_{01} & 1-p_{10}
    \end{pmatrix}` (column = true bit, row = read bit) the measured distribution is
    :math:`(\bigotimes_q M_q)\,p`, so the expectation value is that of the diagonal observable
    :math:`o' = (\bigotimes_q M_q)^{T} o`. For symmetric flips :math:`Z_q \to (1-2p_q) Z_q`.
    Non-diagonal observables are rejected: measure them by rotating into the computational basis
    inside the circuit.

    Examples
    --------
    >>> model = NoiseModel(readout=0.02)
    >>> model = model.add(Depolarizing(0.001), gates="one-qubit")
    >>> model = model.add(Depolarizing(0.01), gates="two-qubit")
    >>> model = model.add({0: AmplitudeDamping(0.02), 1: AmplitudeDamping(0.05)})
    """

    def __init__(self, channel: Channel | None = None, *, readout=None) -> None:
        self._rules: list[_Rule] = []
        self._readout = self._parse_readout(readout)
        if channel is not None:
            self.add(channel)

    @staticmethod
    def _parse_readout(readout) -> dict[int, tuple[float, float]] | tuple[float, float] | None:
        if readout is None:
            return None
        if isinstance(readout, Mapping):
            return {_check_index(q, "readout qubit"): _readout_pair(v, f"qubit {q}")
                    for q, v in readout.items()}
        if isinstance(readout, Sequence) and not isinstance(readout, str):
            return {q: _readout_pair(v, f"qubit {q}") for q, v in enumerate(readout)}
        return _readout_pair(readout, "every qubit")

    def add(self, channel: Channel | Mapping[int, Channel], *, gates: str | Iterable[str] = "all",
            qubits: Iterable[int] | None = None) -> NoiseModel:
        """Add a channel after the selected gates; returns the model (so calls chain).

        Parameters
        ----------
        channel : Channel or mapping qubit -> Channel
            The channel, or one single-qubit channel per qubit (per-qubit rates; qubits not in
            the mapping stay noiseless).
        gates : str or iterable of str
            ``"all"``, ``"one-qubit"``, ``"two-qubit"``, gate names (``"cz"``,
            ``{"rx", "ry"}``, compared with ``Operation.name`` ignoring case), or ``"layer"``:
            after the last gate of every circuit layer, on *every* qubit (a full noise layer,
            the setting of Wang et al. 2021; an ``n``-qubit channel then acts on all qubits
            jointly, e.g. global depolarizing).
        qubits : iterable of int, optional
            Only these qubits get the (single-qubit) channel.
        """
        if isinstance(channel, Mapping):
            for q, ch in channel.items():
                _check_index(q, "noise qubit")
                if not isinstance(ch, Channel) or ch.n_qubits != 1:
                    raise TypeError(f"per-qubit noise needs single-qubit Channels, got {ch!r} "
                                    f"for qubit {q}")
            channels: Mapping[int, Channel] | Channel = dict(channel)
        elif isinstance(channel, Channel):
            channels = channel
        else:
            raise TypeError(f"channel must be a Channel or a mapping qubit -> Channel, "
                            f"got {type(channel).__name__}")
        if qubits is not None:
            if isinstance(channels, Mapping):
                raise ValueError("give per-qubit channels either as a mapping or with qubits=, "
                                 "not both")
            if channels.n_qubits != 1:
                raise ValueError(f"qubits= selects qubits for single-qubit channels, "
                                 f"{channels!r} acts on {channels.n_qubits} qubits")
            channels = {_check_index(q, "noise qubit"): channels for q in qubits}
        if isinstance(gates, str) and gates not in _GATE_CLASSES:
            gates = [gates]
        if not isinstance(gates, str):
            gates = list(gates)
            if not gates or not all(isinstance(g, str) for g in gates):
                raise ValueError("gates must be 'all', 'one-qubit', 'two-qubit', 'layer' or "
                                 f"gate names, got {gates!r}")
            gates = frozenset(g.lower() for g in gates)
        self._rules.append(_Rule(channels, gates))
        return self

    @property
    def has_readout_error(self) -> bool:
        return self._readout is not None

    def __repr__(self) -> str:
        parts = [f"{r.channels!r} after {r.gates if isinstance(r.gates, str) else sorted(r.gates)}"
                 for r in self._rules]
        if self._readout is not None:
            parts.append(f"readout {self._readout}")
        return f"NoiseModel({'; '.join(parts) or 'noiseless'})"

    def channel_steps(self, circuit) -> list[ChannelStep]:
        """The channels this model puts into ``circuit``, in order, for the density simulator.

        Raises ``ValueError`` if the model names a qubit the circuit does not have, or puts a
        ``k``-qubit channel after a gate on a different number of qubits.
        """
        n = circuit.n_qubits
        for rule in self._rules:
            if isinstance(rule.channels, Mapping):
                for q, ch in rule.channels.items():
                    if q >= n:
                        raise ValueError(f"the noise model puts {ch!r} on qubit {q}, the circuit "
                                         f"has {n} qubits (0..{n - 1})")
        self._readout_matrices(n)  # validates the readout qubits as well
        layer_ends = self._layer_ends(circuit)
        steps = []
        for index, op in enumerate(circuit.operations):
            for rule in self._rules:
                if rule.gates == "layer":
                    if index in layer_ends:
                        steps += self._place(rule, index, tuple(range(n)),
                                             f"layer {op.layer}")
                elif rule.selects(op):
                    steps += self._place(rule, index, tuple(op.qubits), f"gate {op.name}")
        return steps

    def _layer_ends(self, circuit) -> set[int]:
        """Index of the last operation of each layer, if a rule needs full noise layers."""
        if not any(rule.gates == "layer" for rule in self._rules):
            return set()
        last = {op.layer: k for k, op in enumerate(circuit.operations) if op.layer is not None}
        if not last:
            raise ValueError("gates='layer' needs a circuit with layers (built with new_layer(), "
                             "as the ansatz builders do); this circuit has none")
        return set(last.values())

    @staticmethod
    def _place(rule: _Rule, index: int, targets: tuple[int, ...], where: str
               ) -> list[ChannelStep]:
        if isinstance(rule.channels, Channel) and rule.channels.n_qubits > 1:
            ch = rule.channels
            if len(targets) != ch.n_qubits:
                raise ValueError(f"{ch!r} acts on {ch.n_qubits} qubits and cannot follow {where} "
                                 f"on qubits {targets}; select gates with {ch.n_qubits} qubits "
                                 f"(e.g. gates='two-qubit')")
            return [ChannelStep(index, targets, ch.kraus_matrices())]
        return [ChannelStep(index, (q,), ch.kraus_matrices())
                for q in targets if (ch := rule.channel_on(q)) is not None]

    def _readout_matrices(self, n_qubits: int) -> list[np.ndarray] | None:
        if self._readout is None:
            return None
        if isinstance(self._readout, tuple):
            pairs = dict.fromkeys(range(n_qubits), self._readout)
        else:
            pairs = self._readout
            bad = [q for q in pairs if q >= n_qubits]
            if bad:
                raise ValueError(f"the noise model has a readout error on qubit {bad[0]}, the "
                                 f"circuit has {n_qubits} qubits (0..{n_qubits - 1})")
        matrices = []
        for q in range(n_qubits):
            p01, p10 = pairs.get(q, (0.0, 0.0))
            matrices.append(np.array([[1 - p01, p10], [p01, 1 - p10]]))
        return matrices

    def readout_diagonal(self, diagonal: np.ndarray) -> np.ndarray:
        r"""The diagonal observable :math:`o' = (\bigotimes_q M_q)^T o` whose noiseless expectation
        value equals that of ``diagonal`` under this model's readout error."""
        diagonal = np.asarray(diagonal, dtype=float)
        n = int(round(math.log2(diagonal.size)))
        if diagonal.ndim != 1 or diagonal.size != 2**n:
            raise ValueError(f"diagonal must be a vector of length 2**n, got shape "
                             f"{diagonal.shape}")
        matrices = self._readout_matrices(n)
        if matrices is None:
            return diagonal
        o = diagonal.reshape((2,) * n)
        for q, m in enumerate(matrices):
            # o'[.., t, ..] = sum_m M[m, t] o[.., m, ..]
            o = np.moveaxis(np.tensordot(m.T, o, axes=([1], [q])), 0, q)
        return o.reshape(-1)


def as_noise_model(noise: Channel | NoiseModel | None) -> NoiseModel | None:
    """Normalise the ``noise=`` argument of ``Cost``: a channel means "after every gate"."""
    if noise is None or isinstance(noise, NoiseModel):
        return noise
    if isinstance(noise, Channel):
        return NoiseModel(noise)
    raise TypeError(f"noise must be a Channel, a NoiseModel or None, got {type(noise).__name__}")


# ---------------------------------------------------------------------------------------------
# Noise-induced barren plateaus
# ---------------------------------------------------------------------------------------------


def _pauli_noise_parameter(channel: Channel) -> float:
    """Wang et al.'s ``q`` for a single-qubit Pauli channel: the largest factor by which it
    shrinks a non-identity Pauli component; ``nan`` for any other channel."""
    if channel.n_qubits != 1:
        return math.nan
    ptm = channel.pauli_transfer_matrix()
    if np.max(np.abs(ptm - np.diag(np.diag(ptm)))) > 1e-12:
        return math.nan  # not a Pauli channel (e.g. amplitude damping is not unital)
    return float(np.max(np.abs(np.diag(ptm)[1:])))


def wang_gradient_bound(observable, n_qubits: int, q: float, n_noise_layers: int) -> float:
    r"""Wang et al.'s bound on every partial derivative of a noisy cost.

    For a circuit of rotations :math:`R_P(\theta) = e^{-i\theta P/2}` interleaved with
    :math:`M` full layers of single-qubit Pauli noise (each qubit's channel shrinks every
    non-identity Pauli component by at most :math:`q`),

    .. math:: \left|\frac{\partial C}{\partial\theta_j}\right|
              \le \sqrt{8\ln 2}\;\|\eta_j\|_1\; g\; n^{1/2}\, q^{M}
              = g\,\sqrt{2\ln 2\; n}\; q^{M},

    at every :math:`\theta`: Theorem 1 of Wang et al. (2021), there written with
    :math:`q^{L+1}` for :math:`L` unitary layers framed by :math:`L+1` noise layers, specialised
    here to a single observable (:math:`C = \mathrm{Tr}[O\rho]`) and to our rotations, whose
    generator :math:`P/2` has Pauli coefficients of 1-norm :math:`\|\eta_j\|_1 = 1/2`.
    :math:`g = (\lambda_{\max}(O) - \lambda_{\min}(O))/2` is the spectral half-width of the
    observable (shifting :math:`O` by a multiple of the identity leaves every gradient
    unchanged, so this is the smallest operator norm that the bound's argument can use).

    Why: by the parameter-shift rule :math:`\partial_j C = \tfrac12\mathrm{Tr}[O(\sigma_+ -
    \sigma_-)]` with :math:`\sigma_\pm` the noisy output states at :math:`\theta_j \pm \pi/2`;
    each layer of local Pauli noise contracts the relative entropy to :math:`I/2^n` by
    :math:`q^2`, which starts at most at :math:`n` bits, and Pinsker's inequality turns that
    into :math:`\|\sigma_\pm - I/2^n\|_1 \le \sqrt{2\ln 2\, n}\, q^{M}`.

    Parameters
    ----------
    observable : anything :func:`~qnncourse.observables.as_observable` accepts
    n_qubits : int
    q : float
        Noise parameter in [0, 1] (``1 - p`` for ``Depolarizing(p)``).
    n_noise_layers : int
        Number :math:`M` of full noise layers in the circuit.

    References
    ----------
    Wang et al., Nat. Commun. 12, 6961 (2021), Theorem 1, https://doi.org/10.1038/s41467-021-27045-6
    """
    q = _check_probability(q, "q", "wang_gradient_bound")
    if isinstance(n_noise_layers, bool) or not isinstance(n_noise_layers, Integral) \
            or n_noise_layers < 0:
        raise ValueError(f"n_noise_layers must be a non-negative int, got {n_noise_layers!r}")
    obs = as_observable(observable, n_qubits)
    spectrum = obs.diagonal if obs.is_diagonal else np.linalg.eigvalsh(obs.matrix())
    half_width = (float(np.max(spectrum)) - float(np.min(spectrum))) / 2
    return half_width * math.sqrt(2 * math.log(2) * n_qubits) * q**n_noise_layers


@dataclass(frozen=True)
class NoisyGradientDecay:
    r"""Result of :func:`noisy_gradient_decay`; arrays are indexed ``[rate, depth]``.

    Attributes
    ----------
    depths, rates : numpy.ndarray
    mean_abs : numpy.ndarray
        Mean of :math:`|\partial_j C|` over parameters ``j`` and parameter draws.
    variance : numpy.ndarray
        Variance over draws of :math:`\partial_j C`, averaged over ``j``.
    max_abs : numpy.ndarray
        Largest :math:`|\partial_j C|` seen (to hold against the bound, which is worst-case).
    suppression : numpy.ndarray
        ``mean_abs`` divided by the noiseless mean :math:`|\partial_j C|` on the *same* draws:
        the part of the decay due to noise alone.
    decay : numpy.ndarray
        Per-layer factor :math:`r` of the fit ``suppression ~ A r**depth`` (least squares on
        the logarithm), one per rate.
    wang_q : numpy.ndarray
        Wang et al.'s per-layer factor :math:`q` for each rate (``nan`` when their theorem does
        not apply: noise after gates instead of in full layers, or a non-Pauli channel).
    bound : numpy.ndarray
        :func:`wang_gradient_bound` at each depth (``nan`` where ``wang_q`` is).
    """

    depths: np.ndarray
    rates: np.ndarray
    mean_abs: np.ndarray
    variance: np.ndarray
    max_abs: np.ndarray
    suppression: np.ndarray
    decay: np.ndarray
    wang_q: np.ndarray
    bound: np.ndarray = field(repr=False)

    def __str__(self) -> str:
        lines = [f"{'rate':>8} {'depth':>6} {'mean|dC|':>10} {'Var(dC)':>10} {'noise x':>9} "
                 f"{'max|dC|':>10} {'Wang bound':>11}"]
        for r, rate in enumerate(self.rates):
            for d, depth in enumerate(self.depths):
                lines.append(f"{rate:>8.4g} {depth:>6d} {self.mean_abs[r, d]:>10.3e} "
                             f"{self.variance[r, d]:>10.3e} {self.suppression[r, d]:>9.4f} "
                             f"{self.max_abs[r, d]:>10.3e} {self.bound[r, d]:>11.3e}")
        for rate, decay, q in zip(self.rates, self.decay, self.wang_q, strict=True):
            lines.append(f"rate {rate:.4g}: gradients shrink by {decay:.4f} per layer "
                         f"(Wang et al.: q = {q:.4f})")
        return "\n".join(lines)


def noisy_gradient_decay(circuit_factory: Callable[[int], object], observable,
                         depths: Sequence[int], rates: Sequence[float], *,
                         channel: Callable[[float], Channel] = Depolarizing,
                         placement: str = "layer", n_samples: int = 20,
                         rng: np.random.Generator | int | None = None) -> NoisyGradientDecay:
    r"""Measure how noise shrinks gradients with depth: the noise-induced barren plateau.

    For each depth :math:`L` it draws ``n_samples`` parameter vectors uniformly in
    :math:`[0, 2\pi)` (the same draws for every rate), computes the exact noisy gradients
    (adjoint method on density matrices), and compares them with the noiseless ones. The
    per-layer decay of the noise-induced suppression is fitted and set beside Wang et al.'s
    :math:`q`: their Theorem 1 bounds every gradient by :math:`\propto q^{M}` for :math:`M`
    noise layers (see :func:`wang_gradient_bound`), so the measured factor should not exceed
    :math:`q`. With a global depolarizing channel after each layer the suppression is exactly
    :math:`(1-p)^L`.

    Parameters
    ----------
    circuit_factory : callable
        ``circuit_factory(depth)`` returns the circuit of that depth, e.g.
        ``lambda L: ansatz.hardware_efficient(4, L)``.
    observable : anything :func:`~qnncourse.observables.as_observable` accepts
    depths : sequence of int
        At least two distinct positive depths.
    rates : sequence of float
        Noise rates, each passed to ``channel``.
    channel : callable
        ``channel(rate)`` returns the channel (default :class:`Depolarizing`).
    placement : {"layer", "gate"}
        ``"layer"``: after each circuit layer on every qubit, the setting of Wang et al.
        (the circuits must carry layer tags, as the ansatz builders' do); ``"gate"``: after
        every gate on the qubits it acts on, as ``Cost(..., noise=channel)`` does (no bound).
    n_samples : int
        Parameter draws per depth (at least 2).
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    NoisyGradientDecay
        Its ``str`` is a table.

    References
    ----------
    Wang et al., Nat. Commun. 12, 6961 (2021), https://doi.org/10.1038/s41467-021-27045-6
    """
    depths_arr = np.asarray(depths)
    if depths_arr.ndim != 1 or depths_arr.dtype.kind not in "iu" or np.any(depths_arr < 1) \
            or len(set(depths_arr.tolist())) < 2:
        raise ValueError(f"depths must be at least two distinct positive ints, got {depths!r}")
    rates_arr = np.asarray(rates, dtype=float)
    if rates_arr.ndim != 1 or rates_arr.size == 0:
        raise ValueError(f"rates must be a non-empty sequence of numbers, got {rates!r}")
    if placement not in ("layer", "gate"):
        raise ValueError(f"placement must be 'layer' or 'gate', got {placement!r}")
    if isinstance(n_samples, bool) or not isinstance(n_samples, Integral) or n_samples < 2:
        raise ValueError(f"n_samples must be an int >= 2, got {n_samples!r}")
    channels = [channel(float(rate)) for rate in rates_arr]  # validates the rates
    rng = as_rng(rng)
    wang_q = np.array([_pauli_noise_parameter(ch) if placement == "layer" else math.nan
                       for ch in channels])
    shape = (len(rates_arr), len(depths_arr))
    mean_abs, variance, max_abs, suppression, bound = (np.empty(shape) for _ in range(5))
    gates = "layer" if placement == "layer" else "all"
    for d, depth in enumerate(depths_arr.tolist()):
        circuit = circuit_factory(depth)
        obs = as_observable(observable, circuit.n_qubits)
        thetas = rng.uniform(0, 2 * np.pi, (n_samples, circuit.n_params))
        angles = circuit.angles(thetas)
        _, clean = adjoint_from_angles(circuit, obs, angles)
        clean_mean = np.mean(np.abs(circuit.chain_rule(clean)))
        matrix = obs.diagonal if obs.is_diagonal else obs.matrix()
        for r, ch in enumerate(channels):
            model = NoiseModel().add(ch, gates=gates)
            program = density.DensityProgram(circuit, model.channel_steps(circuit))
            _, grads = density.adjoint_gradient(program, matrix, angles)
            grads = circuit.chain_rule(grads)
            mean_abs[r, d] = np.mean(np.abs(grads))
            variance[r, d] = np.mean(np.var(grads, axis=0, ddof=1))
            max_abs[r, d] = np.max(np.abs(grads))
            suppression[r, d] = mean_abs[r, d] / clean_mean
            bound[r, d] = (math.nan if math.isnan(wang_q[r]) else wang_gradient_bound(
                obs, circuit.n_qubits, wang_q[r], circuit.n_layers))
    decay = np.array([np.exp(np.polyfit(depths_arr, np.log(row), 1)[0]) if np.all(row > 0)
                      else math.nan for row in suppression])
    return NoisyGradientDecay(depths_arr, rates_arr, mean_abs, variance, max_abs, suppression,
                              decay, wang_q, bound)
