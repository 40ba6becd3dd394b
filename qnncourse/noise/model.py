r"""Noise models: which channel follows which gates, and the readout error of the measurement.

``Cost(circuit, observable, noise=...)`` simulates a model with density matrices
(:mod:`qnncourse.simulators.density`); :meth:`NoiseModel.channel_steps` is what it hands over.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from qnncourse._validation import check_index, check_probability
from qnncourse.noise import device
from qnncourse.noise.channels import Channel
from qnncourse.simulators.density import ChannelStep

__all__ = ["NoiseModel", "as_noise_model"]

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
        return (check_probability(value[0], "p01", f"readout error of {where}"),
                check_probability(value[1], "p10", f"readout error of {where}"))
    p = check_probability(value, "probability", f"readout error of {where}")
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
    >>> from qnncourse.noise import AmplitudeDamping, Depolarizing
    >>> model = NoiseModel(readout=0.02)
    >>> model = model.add(Depolarizing(0.001), gates="one-qubit")
    >>> model = model.add(Depolarizing(0.01), gates="two-qubit")
    >>> model = model.add({0: AmplitudeDamping(0.02), 1: AmplitudeDamping(0.05)})
    """

    def __init__(self, channel: Channel | None = None, *, readout=None) -> None:
        self._rules: list[_Rule | device.DeviceGateNoise] = []
        self._readout = self._parse_readout(readout)
        if channel is not None:
            self.add(channel)

    @staticmethod
    def _parse_readout(readout) -> dict[int, tuple[float, float]] | tuple[float, float] | None:
        if readout is None:
            return None
        if isinstance(readout, Mapping):
            return {check_index(q, "readout qubit"): _readout_pair(v, f"qubit {q}")
                    for q, v in readout.items()}
        if isinstance(readout, Sequence) and not isinstance(readout, str):
            return {q: _readout_pair(v, f"qubit {q}") for q, v in enumerate(readout)}
        return _readout_pair(readout, "every qubit")

    @classmethod
    def from_backend(cls, backend, qubits: Sequence[int], *, readout: bool = True
                     ) -> NoiseModel:
        r"""The noise of a real device's calibration, for a circuit placed on physical ``qubits``.

        Circuit qubit ``i`` runs on physical qubit ``qubits[i]``. Each gate of the circuit is
        followed by the noise of the native gates it compiles to (:mod:`qnncourse.noise.device`:
        ``rz`` is virtual and noiseless, :math:`R_X`/:math:`R_Y` are two ``sx``, ``CZ`` one
        ``cz``, ``CNOT`` a ``cz`` and two ``sx``): per native gate, depolarizing noise matched
        to the reported gate error, then thermal relaxation with the qubits' :math:`T_1`,
        :math:`T_2` for the gate's duration. ``readout=True`` adds each qubit's measured
        readout error (``P(1|0)``, ``P(0|1)``). The approximations (noise moved to the end of
        each gate, no idle noise, no routing) are listed in :mod:`qnncourse.noise.device`.

        Parameters
        ----------
        backend : qiskit BackendV2
            E.g. ``qiskit_ibm_runtime.fake_provider.FakeTorino()`` (an offline calibration
            snapshot) or a real backend from ``QiskitRuntimeService``.
        qubits : sequence of int
            Physical qubits, one per circuit qubit; two-qubit gates must act on coupled ones
            (:func:`qnncourse.noise.device.line_of_qubits` finds a good line).
        readout : bool
            Include the readout error.

        Examples
        --------
        >>> from qiskit_ibm_runtime.fake_provider import FakeTorino   # doctest: +SKIP
        >>> model = NoiseModel.from_backend(FakeTorino(), qubits=[0, 1, 2])  # doctest: +SKIP
        """
        cal = device.calibration(backend, qubits)
        model = cls(readout=cal.readout if readout else None)
        model._rules.append(device.DeviceGateNoise(cal))
        return model

    @property
    def device(self) -> device.DeviceGateNoise | None:
        """The calibrated gate noise of :meth:`from_backend` (``None`` for other models)."""
        return next((r for r in self._rules if isinstance(r, device.DeviceGateNoise)), None)

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
                check_index(q, "noise qubit")
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
            channels = {check_index(q, "noise qubit"): channels for q in qubits}
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
        parts = [repr(r) if isinstance(r, device.DeviceGateNoise) else
                 f"{r.channels!r} after {r.gates if isinstance(r.gates, str) else sorted(r.gates)}"
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
        gate_rules = [r for r in self._rules if isinstance(r, _Rule)]
        for rule in gate_rules:
            if isinstance(rule.channels, Mapping):
                for q, ch in rule.channels.items():
                    if q >= n:
                        raise ValueError(f"the noise model puts {ch!r} on qubit {q}, the circuit "
                                         f"has {n} qubits (0..{n - 1})")
        self._readout_matrices(n)  # validates the readout qubits as well
        self._check_gate_names(circuit)
        layer_ends = self._layer_ends(circuit)
        steps = []
        for index, op in enumerate(circuit.operations):
            for rule in self._rules:
                if isinstance(rule, device.DeviceGateNoise):
                    channel = rule.channel_after(op)
                    if channel is not None:
                        steps.append(ChannelStep(index, tuple(op.qubits),
                                                 channel.kraus_matrices()))
                elif rule.gates == "layer":
                    if index in layer_ends:
                        steps += self._place(rule, index, tuple(range(n)),
                                             f"layer {op.layer}")
                elif rule.selects(op):
                    steps += self._place(rule, index, tuple(op.qubits), f"gate {op.name}")
        return steps

    def _check_gate_names(self, circuit) -> None:
        """A gate name that no gate of the circuit carries is a typo, not "no noise there"."""
        names = {op.name.lower() for op in circuit.operations}
        for rule in self._rules:
            if isinstance(rule, _Rule) and isinstance(rule.gates, frozenset) \
                    and not rule.gates <= names:
                unknown = sorted(rule.gates - names)
                raise ValueError(
                    f"gates={unknown[0]!r} selects no gate of this circuit: gates must be one of "
                    f"{sorted(_GATE_CLASSES)} or gate names of the circuit {sorted(names)}, "
                    f"got {sorted(rule.gates)}")

    def _layer_ends(self, circuit) -> set[int]:
        """Index of the last operation of each layer, if a rule needs full noise layers."""
        if not any(isinstance(rule, _Rule) and rule.gates == "layer" for rule in self._rules):
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

    def readout_confusion(self, n_qubits: int) -> list[np.ndarray] | None:
        r"""The confusion matrix :math:`M_q` of each of ``n_qubits`` qubits (column = true bit, row
        = read bit), or ``None`` without readout error."""
        return self._readout_matrices(n_qubits)

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
