r"""Noise of a real device, from its calibration: which native gates each circuit gate becomes, and
what each native gate does to the qubits it acts on.

A device's calibration (IBM's backends report it, and ``qiskit_ibm_runtime.fake_provider`` ships
offline snapshots such as ``FakeTorino``) gives, per physical qubit, :math:`T_1`, :math:`T_2`
and the readout error, and per native gate its error :math:`e` (one minus the average gate
fidelity, from randomized benchmarking) and its duration :math:`t`. :func:`calibration` reads
these numbers for the physical qubits a circuit is placed on; :class:`DeviceGateNoise` turns them
into one channel after each gate of a :class:`~qnncourse.circuit.Circuit`, built from the
library's QuTiP channels.

Each native gate :math:`g` on qubits :math:`Q` is followed by

.. math:: \mathcal{N}_g = \Big(\bigotimes_{q\in Q}\mathcal{T}_{T_1^q,T_2^q}(t_g)\Big)\circ
          \mathcal{D}_{p_g}^{(|Q|)},

depolarizing noise :math:`\mathcal{D}_p` on the :math:`k=|Q|` qubits jointly
(:class:`~qnncourse.noise.Depolarizing`), then thermal relaxation for the gate's duration on each
qubit (:class:`~qnncourse.noise.ThermalRelaxation`). The depolarizing probability makes the
average infidelity of the pair equal the reported error: with :math:`F_T` the average gate
fidelity of the relaxation alone and :math:`d = 2^k`,

.. math:: p_g = \frac{d\,(e_g - (1 - F_T))}{d F_T - 1}\quad(0\text{ if } e_g \le 1 - F_T),

the construction of Qiskit Aer's ``NoiseModel.from_backend`` (Georgopoulos, Emary, Zuliani,
*Phys. Rev. A* 104, 062432, 2021, describe the same model), so the two can be compared.

How a circuit gate compiles to native gates (the rule of :func:`native_gates`, matching what
Qiskit's transpiler produces for generic angles on IBM's ``sx, rz, x, cz`` / ``ecr`` devices):

* :math:`R_Z` rotations and diagonal one-qubit gates: ``rz`` is *virtual* (a change of frame, no
  duration, no error), so no noise at all;
* :math:`R_X`, :math:`R_Y` and every other non-diagonal one-qubit gate:
  :math:`U = R_Z\,\sqrt X\,R_Z\,\sqrt X\,R_Z`, two ``sx``; the Hadamard needs one ``sx``; the
  Pauli :math:`X` is the native ``x``, a fixed gate named ``SX`` the native ``sx`` (so a circuit
  already transpiled to native gates, read with :func:`qnncourse.interop.from_qiskit`, gets each
  native gate's noise right after it, with no approximation (i));
* ``CZ``: one ``cz`` (``cz`` devices) or one ``ecr`` and two ``sx`` per qubit (``ecr`` devices);
* ``CNOT``: the ``CZ`` above plus two ``sx`` on the target (Hadamards around it);
* two-qubit Pauli rotations :math:`R_{PP'}`: two of the native two-qubit gates and four ``sx``
  on the second qubit (:math:`\mathrm{CNOT}\,R_Z\,\mathrm{CNOT}`).

What is approximated: (i) the noise of all native gates of a circuit gate is applied after the
whole gate (the channels are moved past the virtual ``rz`` and the ``sx`` between them; the
depolarizing part commutes with them, the relaxation part does not, an error of order
:math:`t_g/T_1` per move); (ii) the transpiler's merging of neighbouring one-qubit gates
(e.g. :math:`R_Y R_Z` is two ``sx`` in both descriptions, but a CNOT's Hadamard merged into a
rotation saves one) and special angles (:math:`R_Y(\pi/2)` may need one ``sx``) are not modelled;
(iii) no idle noise while other qubits are busy, no crosstalk, no leakage, no drift; (iv)
two-qubit gates must act on coupled physical qubits (no routing: a ``ValueError`` names the pair).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import qutip

from qnncourse.noise.channels import Channel, Depolarizing, ThermalRelaxation

__all__ = [
    "DeviceCalibration",
    "DeviceGateNoise",
    "GateSequenceChannel",
    "NativeGate",
    "QubitCalibration",
    "calibration",
    "depolarizing_for_error",
    "effective_pauli_parameter",
    "line_of_qubits",
    "native_gates",
    "reordering_bound",
]

_TWO_QUBIT_NATIVE = ("cz", "ecr")


@dataclass(frozen=True)
class QubitCalibration:
    """Calibration of one physical qubit: times in seconds, readout flip probabilities
    ``p01 = P(read 1 | prepared 0)`` and ``p10 = P(read 0 | prepared 1)``."""

    physical: int
    t1: float
    t2: float
    p01: float
    p10: float


@dataclass(frozen=True)
class NativeGate:
    """One native gate on circuit qubits ``qubits``: its reported error and duration (s)."""

    name: str
    qubits: tuple[int, ...]
    error: float
    duration: float


@dataclass(frozen=True)
class DeviceCalibration:
    """The calibration of the physical qubits a circuit runs on, indexed by circuit qubit.

    ``one_qubit[(name, q)]`` is the native one-qubit gate ``name`` (``"sx"`` or ``"x"``) on
    circuit qubit ``q``; ``two_qubit[(a, b)]`` the native two-qubit gate on the coupled pair
    (both orders are keys; for a directed ``ecr`` both name the one direction the device has).
    """

    backend_name: str
    physical: tuple[int, ...]
    qubits: tuple[QubitCalibration, ...]
    one_qubit: dict[tuple[str, int], NativeGate]
    two_qubit: dict[tuple[int, int], NativeGate]
    two_qubit_name: str

    @property
    def n_qubits(self) -> int:
        return len(self.physical)

    @property
    def readout(self) -> dict[int, tuple[float, float]]:
        """``{circuit qubit: (p01, p10)}``, the ``readout=`` argument of ``NoiseModel``."""
        return {q: (c.p01, c.p10) for q, c in enumerate(self.qubits)}


def _check_physical(qubits: object, n_device: int, name: str) -> tuple[int, ...]:
    if isinstance(qubits, str) or not isinstance(qubits, Sequence) or not qubits:
        raise ValueError(f"qubits must be a non-empty list of physical qubits of {name}, "
                         f"got {qubits!r}")
    out = []
    for q in qubits:
        if isinstance(q, bool) or not isinstance(q, Integral) or not 0 <= q < n_device:
            raise ValueError(f"qubits: {q!r} is not a physical qubit of {name} "
                             f"(0..{n_device - 1})")
        out.append(int(q))
    if len(set(out)) != len(out):
        raise ValueError(f"qubits lists a physical qubit twice: {out}")
    return tuple(out)


def _t2_clipped(t1: float, t2: float) -> float:
    # Reported T2 can exceed 2 T1 within calibration noise; the channel needs T2 <= 2 T1
    # (Aer clips the same way).
    return min(t2, 2 * t1)


def calibration(backend, qubits: Sequence[int]) -> DeviceCalibration:
    """Read the calibration of ``qubits`` (physical indices; circuit qubit ``i`` is
    ``qubits[i]``) from a Qiskit ``BackendV2`` such as ``FakeTorino()``.

    Raises ``ValueError`` for a qubit the device does not have, a qubit without ``T1``/``T2``,
    ``sx`` or readout data, or a device whose two-qubit native gate is neither ``cz`` nor ``ecr``.
    """
    target = getattr(backend, "target", None)
    if target is None or not hasattr(target, "qubit_properties"):
        raise TypeError(f"backend must be a Qiskit BackendV2 with a target (e.g. "
                        f"qiskit_ibm_runtime.fake_provider.FakeTorino()), got "
                        f"{type(backend).__name__}")
    name = getattr(backend, "name", type(backend).__name__)
    physical = _check_physical(qubits, target.num_qubits, name)
    two_name = next((g for g in _TWO_QUBIT_NATIVE if g in target.operation_names), None)
    if two_name is None:
        raise ValueError(f"{name}'s native gates {sorted(target.operation_names)} have no cz or "
                         "ecr; only those two-qubit gates are modelled")
    cal_qubits, one = [], {}
    for i, p in enumerate(physical):
        props = target.qubit_properties[p] if target.qubit_properties else None
        measure = target["measure"].get((p,)) if "measure" in target.operation_names else None
        if props is None or props.t1 is None or props.t2 is None or measure is None:
            raise ValueError(f"{name} reports no T1/T2 or readout calibration for qubit {p}")
        p01 = getattr(measure, "prob_meas1_prep0", None)
        p10 = getattr(measure, "prob_meas0_prep1", None)
        if p01 is None or p10 is None:
            p01 = p10 = measure.error
        cal_qubits.append(QubitCalibration(p, float(props.t1), _t2_clipped(props.t1, props.t2),
                                           float(p01), float(p10)))
        for gate in ("sx", "x"):
            prop = target[gate].get((p,)) if gate in target.operation_names else None
            if prop is None or prop.error is None or prop.duration is None:
                raise ValueError(f"{name} reports no {gate} calibration on qubit {p}")
            one[(gate, i)] = NativeGate(gate, (i,), float(prop.error), float(prop.duration))
    two = {}
    index = {p: i for i, p in enumerate(physical)}
    for pair, prop in target[two_name].items():
        if pair is None or prop is None or not all(p in index for p in pair):
            continue
        a, b = index[pair[0]], index[pair[1]]
        gate = NativeGate(two_name, (a, b), float(prop.error), float(prop.duration))
        two[(a, b)] = gate
        two.setdefault((b, a), gate)
    return DeviceCalibration(name, physical, tuple(cal_qubits), one, two, two_name)


def line_of_qubits(backend, n: int) -> list[int]:
    """A line of ``n`` physical qubits, each coupled to the next by the native two-qubit gate,
    with the smallest sum of two-qubit and readout errors (depth-first search from every qubit,
    keeping the best path; deterministic).

    Raises ``ValueError`` if the device has no such line.
    """
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    target = backend.target
    two_name = next((g for g in _TWO_QUBIT_NATIVE if g in target.operation_names), None)
    if two_name is None:
        raise ValueError(f"{backend.name} has no cz or ecr gate")
    edges: dict[int, dict[int, float]] = {}
    for pair, prop in target[two_name].items():
        if pair is not None and prop is not None and prop.error is not None:
            a, b = pair
            edges.setdefault(a, {})[b] = min(prop.error, edges.get(a, {}).get(b, 1.0))
            edges.setdefault(b, {})[a] = min(prop.error, edges.get(b, {}).get(a, 1.0))
    readout = {q: (target["measure"][(q,)].error or 0.0) for q in edges}
    best: tuple[float, list[int]] = (np.inf, [])

    def extend(path: list[int], score: float) -> None:
        nonlocal best
        if score >= best[0]:
            return
        if len(path) == n:
            best = (score, list(path))
            return
        for nxt, err in sorted(edges[path[-1]].items()):
            if nxt not in path:
                path.append(nxt)
                extend(path, score + err + readout[nxt])
                path.pop()

    for start in sorted(edges):
        extend([start], readout[start])
    if not best[1]:
        raise ValueError(f"{backend.name} has no line of {n} coupled qubits")
    return best[1]


def native_gates(op, cal: DeviceCalibration) -> list[NativeGate]:
    """The native gates one :class:`~qnncourse.operation.Operation` compiles to (rule in the
    module docstring), with their calibrated errors and durations.

    Raises ``ValueError`` for a gate without a rule (three or more qubits, a two-qubit gate
    other than ``CZ``, ``CNOT`` or a Pauli rotation) or a two-qubit gate on uncoupled qubits.
    """
    qubits = tuple(op.qubits)
    if len(qubits) == 1:
        q = qubits[0]
        if op.kind == "fixed":
            matrix = op.matrix
            if np.allclose(matrix, np.diag(np.diag(matrix)), atol=1e-12):
                return []
            if op.name.upper() == "X":
                return [cal.one_qubit[("x", q)]]
            n_sx = 1 if op.name.upper() in ("H", "SX") else 2
        else:
            n_sx = 0 if op.pauli == "Z" else 2
        return [cal.one_qubit[("sx", q)]] * n_sx
    if len(qubits) > 2:
        raise ValueError(f"no native-gate rule for {op.name} on {len(qubits)} qubits {qubits}; "
                         "device noise covers one- and two-qubit gates")
    a, b = qubits
    two = cal.two_qubit.get((a, b))
    if two is None:
        raise ValueError(f"{op.name} acts on circuit qubits {qubits} = physical "
                         f"{cal.physical[a]}, {cal.physical[b]} of {cal.backend_name}, which are "
                         f"not coupled by {cal.two_qubit_name}; place the circuit on coupled "
                         "qubits (e.g. line_of_qubits) since routing is not modelled")
    # ecr devices dress the two-qubit gate with one-qubit gates on both qubits.
    dress = ([cal.one_qubit[("sx", a)], cal.one_qubit[("sx", b)]] * 2
             if cal.two_qubit_name == "ecr" else [])
    name = op.name.upper()
    if op.kind == "fixed" and name == "CZ":
        return [two, *dress]
    if op.kind == "fixed" and name == "CNOT":
        return [two, *dress] + [cal.one_qubit[("sx", b)]] * 2
    if op.kind in ("rotation", "encoding"):
        return [two, two, *dress, *dress] + [cal.one_qubit[("sx", b)]] * 4
    raise ValueError(f"no native-gate rule for the two-qubit gate {op.name}; rules exist for CZ, "
                     "CNOT and two-qubit Pauli rotations")


def _average_fidelity(superop: qutip.Qobj, dim: int) -> float:
    r""":math:`F = (d\,F_{pro} + 1)/(d+1)` with process fidelity :math:`F_{pro} =
    \mathrm{Tr}\,S/d^2` (Nielsen 2002; the trace of the superoperator is basis independent)."""
    return float((np.trace(superop.full()).real / dim + 1) / (dim + 1))


def depolarizing_for_error(error: float, relaxation_fidelity: float, n_qubits: int) -> float:
    r"""Depolarizing probability :math:`p` such that depolarizing then relaxation has average gate
    infidelity ``error``: :math:`p = d\,(e - (1-F_T))/(d F_T - 1)`, clipped to
    :math:`[0, 4^k/(4^k-1)]` like Aer (0 when relaxation alone exceeds the reported error), and
    to 1, the largest probability :class:`~qnncourse.noise.Depolarizing` accepts."""
    dim = 2**n_qubits
    error = min(float(error), dim / (dim + 1))
    if error <= 1 - relaxation_fidelity:
        return 0.0
    p = dim * (error - (1 - relaxation_fidelity)) / (dim * relaxation_fidelity - 1)
    return float(min(p, 1.0))


def _embed(superop: qutip.Qobj, position: int, k: int) -> qutip.Qobj:
    """A one-qubit superoperator acting on ``position`` of ``k`` qubits."""
    parts = [qutip.to_super(qutip.qeye(2))] * k
    parts[position] = superop
    return parts[0] if k == 1 else qutip.super_tensor(*parts)


class GateSequenceChannel(Channel):
    r"""The noise of a sequence of native gates on the qubits of one circuit gate: the channels
    :math:`\mathcal{N}_{g_m}\circ\dots\circ\mathcal{N}_{g_1}` composed into one channel (Kraus
    operators from its superoperator, ``qutip.to_kraus``: at most :math:`4^k`).

    Parameters
    ----------
    gates : sequence of NativeGate
        In order of application; their ``qubits`` are circuit qubits among ``qubits``.
    qubits : tuple of int
        The circuit gate's qubits (first = leftmost tensor factor).
    cal : DeviceCalibration
    """

    def __init__(self, gates: Sequence[NativeGate], qubits: tuple[int, ...],
                 cal: DeviceCalibration) -> None:
        self.gates = tuple(gates)
        self.qubits = tuple(qubits)
        self.n_qubits = len(self.qubits)
        self.depolarizing: list[float] = []
        total = qutip.to_super(qutip.qeye([2] * self.n_qubits))
        for gate in self.gates:
            relax = [ThermalRelaxation(cal.qubits[q].t1, cal.qubits[q].t2, gate.duration)
                     .superoperator() for q in gate.qubits]
            # Aer's rule: the depolarizing part carries what relaxation leaves of the error.
            fidelity = _average_fidelity(functools.reduce(qutip.super_tensor, relax),
                                         2 ** len(gate.qubits))
            p = depolarizing_for_error(gate.error, fidelity, len(gate.qubits))
            self.depolarizing.append(p)
            dep = Depolarizing(p, len(gate.qubits)).superoperator()
            # A two-qubit gate covers both qubits of the circuit gate; k-qubit depolarizing is
            # symmetric under exchanging them, so the order of gate.qubits does not matter.
            step = (dep if len(gate.qubits) == self.n_qubits
                    else _embed(dep, self.qubits.index(gate.qubits[0]), self.n_qubits))
            for q, r in zip(gate.qubits, relax, strict=True):
                step = _embed(r, self.qubits.index(q), self.n_qubits) @ step
            total = step @ total
        self._super = total
        self._kraus = tuple(k.full() for k in qutip.to_kraus(total))

    def superoperator(self) -> qutip.Qobj:
        return self._super

    def kraus_matrices(self) -> tuple[np.ndarray, ...]:
        return self._kraus

    def __repr__(self) -> str:
        names = "·".join(g.name for g in self.gates)
        return f"GateSequenceChannel({names} on {self.qubits})"


class DeviceGateNoise:
    """The calibrated noise after each gate of a circuit (one :class:`GateSequenceChannel` per
    gate that compiles to native gates; virtual gates get none), cached per gate."""

    def __init__(self, cal: DeviceCalibration) -> None:
        self.calibration = cal
        self._cache: dict[tuple, GateSequenceChannel | None] = {}

    def channel_after(self, op) -> GateSequenceChannel | None:
        """The channel after ``op`` on ``op.qubits``, or ``None`` for a noiseless gate."""
        bad = [q for q in op.qubits if q >= self.calibration.n_qubits]
        if bad:
            raise ValueError(f"{op.name} acts on qubit {bad[0]}, but the device noise was read "
                             f"for {self.calibration.n_qubits} qubits "
                             f"{list(self.calibration.physical)}")
        gates = native_gates(op, self.calibration)
        key = (tuple(op.qubits), tuple((g.name, g.qubits) for g in gates))
        if key not in self._cache:
            self._cache[key] = (GateSequenceChannel(gates, tuple(op.qubits), self.calibration)
                                if gates else None)
        return self._cache[key]

    def __repr__(self) -> str:
        cal = self.calibration
        return f"DeviceGateNoise({cal.backend_name}, qubits={list(cal.physical)})"


def _sx_superoperator() -> qutip.Qobj:
    sx = np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]]) / 2
    return qutip.to_super(qutip.Qobj(sx))


def reordering_bound(circuit, cal: DeviceCalibration) -> float:
    r"""Upper bound on :math:`|C_\text{model} - C_\text{native}|/\lVert O\rVert_\infty` from
    approximation (i) of the module docstring: moving each native gate's noise to the end of its
    circuit gate.

    Depolarizing noise commutes with every unitary on its qubits and relaxation commutes with the
    virtual ``rz``, so the only moves that change anything take a relaxation channel
    :math:`\mathcal{T}` past a later ``sx`` :math:`\mathcal{S}` of the same gate. Each such move
    changes the final state by at most :math:`\lVert\mathcal{S}\mathcal{T} -
    \mathcal{T}\mathcal{S}\rVert_\diamond \le \lVert J(\mathcal{S}\mathcal{T} -
    \mathcal{T}\mathcal{S})\rVert_1` (Choi matrix :math:`J`; Watrous, *The Theory of Quantum
    Information*, 2018, section 3.3), and the moves add up by the triangle inequality. The native
    gates are taken in the order :func:`native_gates` lists them.
    """
    sx = _sx_superoperator()
    total = 0.0
    for op in circuit.operations:
        gates = native_gates(op, cal)
        for m, gate in enumerate(gates):
            for q in gate.qubits:
                moves = sum(1 for g in gates[m + 1:] if g.name == "sx" and g.qubits == (q,))
                if moves:
                    relax = ThermalRelaxation(cal.qubits[q].t1, cal.qubits[q].t2,
                                              gate.duration).superoperator()
                    commutator = qutip.to_choi(sx @ relax - relax @ sx)
                    total += moves * float(np.abs(np.linalg.eigvalsh(commutator.full())).sum())
    return total


def effective_pauli_parameter(circuit, cal: DeviceCalibration) -> float:
    r"""The device's effective per-layer noise parameter :math:`q` for Wang et al.'s bound.

    Depolarizing noise on :math:`k` qubits with average gate infidelity :math:`e` shrinks every
    non-identity Pauli component by :math:`1 - \frac{d}{d-1}e` (:math:`d = 2^k`). Charging each
    native gate's whole reported error this way, a qubit's Pauli components shrink in one
    layer by the product of these factors over the native gates of that layer that touch it;
    :math:`q` is the largest product over the qubits (the slowest contraction, as the bound
    needs), and the geometric mean over the circuit's layers (built with ``new_layer``).

    This treats the calibrated noise as local depolarizing noise of the same strength: the
    :math:`T_1` part is not unital, which Wang et al.'s theorem does not cover.
    """
    if circuit.n_layers < 1:
        raise ValueError("effective_pauli_parameter needs a circuit with layers (new_layer(), as "
                         "the ansatz builders make)")
    factors = np.ones((circuit.n_layers, circuit.n_qubits))
    for op in circuit.operations:
        if op.layer is None:
            continue
        for gate in native_gates(op, cal):
            dim = 2 ** len(gate.qubits)
            for q in gate.qubits:
                factors[op.layer, q] *= 1 - dim / (dim - 1) * gate.error
    per_layer = factors.max(axis=1)
    return float(np.exp(np.mean(np.log(per_layer))))
