r"""Circuits that travel: the library's circuits, observables and noise models in Qiskit and
PennyLane, and back.

* :func:`to_qiskit` / :func:`from_qiskit`: a :class:`~qnncourse.circuit.Circuit` as a Qiskit
  ``QuantumCircuit`` whose angles are a ``ParameterVector`` ``theta`` (and ``x`` for encodings), and
  back; :func:`to_qasm3` its OpenQASM 3 text; :func:`to_qiskit_observable` an observable as a
  ``SparsePauliOp``; :func:`to_qiskit_noise` a :class:`~qnncourse.noise.NoiseModel` as a Qiskit
  Aer ``NoiseModel``.
* :func:`to_pennylane`: a function that applies the circuit's gates inside a PennyLane QNode;
  :func:`to_pennylane_observable` the observable as a PennyLane operator.

Qubit order. The library's qubit 0 is the *leftmost* tensor factor (QuTiP's order: the basis
index of :math:`b_0 b_1\dots b_{n-1}` is :math:`\sum_q b_q 2^{n-1-q}`); Qiskit's qubit 0 is the
*rightmost* (:math:`\sum_q b_q 2^q`). Qubit ``i`` stays qubit ``i`` (so a layout on physical
qubits reads the same), and what depends on the order is converted: a Pauli label ``"ZIX"``
(``Z`` on qubit 0) is Qiskit's ``"XIZ"``, a fixed gate's matrix and a channel's Kraus matrices
on several qubits have their tensor factors reversed, and a state vector of ours equals
``Statevector(qc).reverse_qargs()``. PennyLane's wire 0 is the leftmost factor, like ours.

Rotations :math:`R_P(\theta) = e^{-i\theta P/2}` are Qiskit's ``rx``/``ry``/``rz``,
``rxx``/``ryy``/``rzz``, or a ``PauliEvolutionGate`` with time :math:`\theta/2` for other words,
and PennyLane's ``RX``/``RY``/``RZ``/``PauliRot`` (same sign and factor 1/2 everywhere).

Qiskit and PennyLane are optional: install them with ``pip install qnncourse[qiskit]`` or
``pip install qnncourse[pennylane]``; they are imported on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

from qnncourse.circuit import Circuit
from qnncourse.operation import Operation
from qnncourse.paulis import PauliSum, as_pauli_sum

__all__ = [
    "device_subset",
    "from_qiskit",
    "to_pennylane",
    "to_pennylane_observable",
    "to_qasm3",
    "to_qiskit",
    "to_qiskit_noise",
    "to_qiskit_observable",
]

_EXTRA = {"qiskit": "qiskit", "qiskit_aer": "qiskit", "pennylane": "pennylane"}
_ONE_QUBIT_ROTATIONS = {"X": "rx", "Y": "ry", "Z": "rz"}
_TWO_QUBIT_ROTATIONS = {"XX": "rxx", "YY": "ryy", "ZZ": "rzz"}
_NAMED_FIXED = {"H": "h", "X": "x", "CZ": "cz", "CNOT": "cx"}
# Gates of from_qiskit: Qiskit name -> our Pauli word of the rotation it is.
_FROM_ROTATIONS = {"rx": "X", "ry": "Y", "rz": "Z", "rxx": "XX", "ryy": "YY", "rzz": "ZZ"}
_FROM_FIXED = {"h": "H", "x": "X", "cz": "CZ", "cx": "CNOT"}
# sqrt(X), IBM's native pulse: kept as a fixed gate named "SX" (device noise knows it).
_SX = np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]]) / 2


def _require(module: str) -> Any:
    """Import an optional dependency, or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        extra = _EXTRA[module.split(".")[0]]
        raise ImportError(f"{module} is needed for this conversion but is not installed: "
                          f"pip install qnncourse[{extra}]") from err


def _reverse_factors(matrix: np.ndarray) -> np.ndarray:
    """The same operator on ``k`` qubits with the order of its tensor factors reversed."""
    k = int(round(np.log2(matrix.shape[0])))
    if k == 1:
        return matrix
    axes = list(range(k))[::-1]
    tensor = matrix.reshape((2,) * 2 * k).transpose(axes + [k + a for a in axes])
    return tensor.reshape(matrix.shape)


def _check_circuit(circuit: object) -> Circuit:
    if not isinstance(circuit, Circuit):
        raise TypeError(f"circuit must be a qnncourse Circuit, got {type(circuit).__name__}")
    return circuit


def _qiskit_instruction(op, angle):
    """The Qiskit gate of one operation with angle ``angle`` (a number or parameter)."""
    lib = _require("qiskit.circuit.library")
    if op.kind == "fixed":
        name = _NAMED_FIXED.get(op.name)
        if name is not None:
            return {"h": lib.HGate, "x": lib.XGate, "cz": lib.CZGate, "cx": lib.CXGate}[name]()
        return lib.UnitaryGate(_reverse_factors(op.matrix), label=op.name)
    if op.pauli in _ONE_QUBIT_ROTATIONS:
        return {"rx": lib.RXGate, "ry": lib.RYGate, "rz": lib.RZGate}[
            _ONE_QUBIT_ROTATIONS[op.pauli]](angle)
    if op.pauli in _TWO_QUBIT_ROTATIONS:
        return {"rxx": lib.RXXGate, "ryy": lib.RYYGate, "rzz": lib.RZZGate}[
            _TWO_QUBIT_ROTATIONS[op.pauli]](angle)
    sparse = _require("qiskit.quantum_info").SparsePauliOp(op.pauli[::-1])
    return lib.PauliEvolutionGate(sparse, time=angle / 2)


def to_qiskit(circuit: Circuit) -> Any:
    r"""The circuit as a Qiskit ``QuantumCircuit`` with parameters ``theta[j]`` (and ``x[f]``).

    Trainable rotation ``k`` reads ``theta[param_index]`` (a ``ParameterVector`` named
    ``"theta"`` of length ``n_params``); an encoding reads ``scale * x[feature_index]``
    (``ParameterVector`` ``"x"``). Qubit ``i`` is Qiskit's qubit ``i`` (see the module
    docstring for the order of amplitudes). Bind values with ``qc.assign_parameters(values)``
    (``theta`` comes before ``x`` in
    ``qc.parameters``, sorted by index) or by name.

    Examples
    --------
    >>> from qnncourse import Circuit
    >>> qc = to_qiskit(Circuit(2).ry(0).cz(0, 1).rx(1))   # doctest: +SKIP
    >>> [i.operation.name for i in qc.data]               # doctest: +SKIP
    ['ry', 'cz', 'rx']
    """
    circuit = _check_circuit(circuit)
    qiskit = _require("qiskit")
    theta = qiskit.circuit.ParameterVector("theta", circuit.n_params)
    x = qiskit.circuit.ParameterVector("x", circuit.n_features) if circuit.n_features else None
    qc = qiskit.QuantumCircuit(circuit.n_qubits)
    for op in circuit.operations:
        angle = None
        if op.kind == "rotation":
            angle = theta[op.param_index]
        elif op.kind == "encoding":
            angle = op.scale * x[op.feature_index]
        qc.append(_qiskit_instruction(op, angle), list(op.qubits))
    return qc


def _angle_source(angle, gate_name: str):
    """Classify a Qiskit angle: ``("number", value)``, ``("param", p)``, ``("feature", (f, s))``.

    An expression in one parameter counts when it is linear without offset: ``1 * p`` is the
    parameter ``p`` (PauliEvolutionGate's time doubled gives such expressions), ``s * x[f]``
    with ``x`` a ``ParameterVector`` named ``"x"`` an encoding.
    """
    circuit_lib = _require("qiskit.circuit")
    if not isinstance(angle, circuit_lib.ParameterExpression):
        return "number", float(angle)
    params = list(angle.parameters)
    if len(params) == 1:
        p = params[0]
        scale = angle.gradient(p)
        linear = not isinstance(scale, circuit_lib.ParameterExpression) and \
            abs(complex(angle.assign(p, 0.0).numeric())) == 0
        vector = getattr(p, "vector", None)
        if linear and vector is not None and vector.name == "x":
            return "feature", (p.index, float(scale))
        if linear and abs(float(scale) - 1) < 1e-12:
            return "param", p
    raise ValueError(f"{gate_name} has angle {angle}: only a plain parameter (trainable), "
                     "a number (fixed gate) or scale * x[f] (encoding) can be converted")


def from_qiskit(qc: Any) -> Circuit:
    r"""A Qiskit ``QuantumCircuit`` of supported gates as a :class:`~qnncourse.circuit.Circuit`.

    Supported: ``rx, ry, rz, rxx, ryy, rzz`` (angle a ``Parameter`` → trainable rotation, a
    number → fixed gate, ``s * x[f]`` of a ``ParameterVector`` named ``"x"`` → encoding),
    ``PauliEvolutionGate`` of one Pauli string, ``h, x, sx, cz, cx``, ``unitary``; barriers are
    skipped. Parameters become the circuit's parameters in order of first use (for circuits
    from :func:`to_qiskit`, the order of ``theta``); gates sharing one ``Parameter`` share it.
    The global phase is dropped (it changes no expectation value).

    Raises
    ------
    ValueError
        Naming the first unsupported gate (e.g. measurements, ``u``, ``ccx``), or an angle that
        is not one of the forms above.
    """
    qiskit = _require("qiskit")
    if not isinstance(qc, qiskit.QuantumCircuit):
        raise TypeError(f"qc must be a qiskit QuantumCircuit, got {type(qc).__name__}")
    circuit = Circuit(qc.num_qubits)
    index: dict[Any, int] = {}
    supported = sorted([*_FROM_ROTATIONS, *_FROM_FIXED, "sx", "PauliEvolution", "unitary",
                        "barrier"])
    for position, instruction in enumerate(qc.data):
        gate = instruction.operation
        qubits = tuple(qc.find_bit(q).index for q in instruction.qubits)
        where = f"gate {position} ({gate.name} on qubits {list(qubits)})"
        if gate.name == "barrier":
            continue
        if gate.name in _FROM_FIXED:
            getattr(circuit, {"H": "h", "X": "x", "CZ": "cz", "CNOT": "cnot"}[
                _FROM_FIXED[gate.name]])(*qubits)
            continue
        if gate.name == "sx":
            circuit.gate(_SX, qubits, "SX")
            continue
        if gate.name == "unitary":
            circuit.gate(_reverse_factors(np.asarray(gate.to_matrix())), qubits,
                         gate.label or "U")
            continue
        if gate.name in _FROM_ROTATIONS:
            word, angle = _FROM_ROTATIONS[gate.name], gate.params[0]
        elif gate.name == "PauliEvolution":
            operator = gate.operator
            if isinstance(operator, list) or len(operator) != 1 or \
                    abs(operator.coeffs[0].imag) > 1e-12:
                raise ValueError(f"{where}: only the evolution of one Pauli string is supported")
            # exp(-i t c P) = R_P(2 c t); Qiskit's label is right-to-left.
            word = operator.paulis[0].to_label()[::-1]
            angle = 2 * float(operator.coeffs[0].real) * gate.params[0]
            kept = [(p, q) for p, q in zip(word, qubits, strict=True) if p != "I"]
            word, qubits = "".join(p for p, _ in kept), tuple(q for _, q in kept)
        else:
            raise ValueError(f"from_qiskit: unsupported {where}; supported gates are "
                             f"{', '.join(supported)} (transpile to them first)")
        kind, value = _angle_source(angle, where)
        if kind == "number":
            matrix = Operation("rotation", qubits, pauli=word).rotation_matrix(value)
            circuit.gate(matrix, qubits, f"R{word}({value:.3g})")
        elif kind == "feature":
            circuit.encode(word, qubits, value[0], scale=value[1])
        else:
            circuit.pauli_rotation(word, qubits, param=index.get(value))
            index.setdefault(value, circuit.n_params - 1)
    return circuit


def to_qasm3(circuit: Circuit) -> str:
    """OpenQASM 3 text of the circuit (``input float[64]`` angles ``theta`` and ``x``).

    Gates without an OpenQASM 3 standard-library name (``rxx``, Pauli evolutions, fixed
    unitaries) are written as gate definitions by Qiskit's exporter.
    """
    qasm3 = _require("qiskit.qasm3")
    return qasm3.dumps(to_qiskit(circuit))


def to_qiskit_observable(observable: Any, n_qubits: int) -> Any:
    """A Pauli-sum observable (label, dict, :class:`~qnncourse.paulis.PauliSum`) or a Hermitian
    matrix / ``qutip.Qobj`` as Qiskit's ``SparsePauliOp`` (labels reversed to Qiskit's order)."""
    quantum_info = _require("qiskit.quantum_info")
    try:
        terms = as_pauli_sum(observable)
    except TypeError:
        matrix = observable.full() if hasattr(observable, "full") else np.asarray(observable)
        if matrix.shape != (2**n_qubits, 2**n_qubits):
            raise ValueError(f"observable has shape {matrix.shape}, {n_qubits} qubits need "
                             f"({2**n_qubits}, {2**n_qubits})") from None
        return quantum_info.SparsePauliOp.from_operator(_reverse_factors(matrix)).simplify()
    if terms.n_qubits != n_qubits:
        raise ValueError(f"observable acts on {terms.n_qubits} qubits, the circuit has "
                         f"{n_qubits}")
    return quantum_info.SparsePauliOp([label[::-1] for label in terms.terms],
                                      np.array(list(terms.terms.values()), dtype=complex))


def to_qiskit_noise(model: Any, circuit: Circuit) -> Any:
    r"""A :class:`~qnncourse.noise.NoiseModel` as a Qiskit Aer ``NoiseModel`` for the gates of
    :func:`to_qiskit(circuit) <to_qiskit>`.

    Aer attaches noise to an instruction name (a fixed unitary's label) on given qubits, so the
    circuit fixes which names and qubits occur. For each, the channels the library puts after
    that gate (:meth:`NoiseModel.channel_steps`) are composed into one ``QuantumError`` from
    their Kraus matrices (factors reversed to Qiskit's order); readout error becomes Aer's
    ``ReadoutError`` with rows ``[P(0|b), P(1|b)]`` for prepared bit ``b``. Simulated with
    ``AerSimulator(method="density_matrix", noise_model=...)``, the values equal the library's.

    Raises
    ------
    ValueError
        If the noise after a gate depends on more than its name and qubits (a ``gates="layer"``
        rule puts noise on qubits the gate does not touch), which Aer cannot express.
    """
    noise = _require("qiskit_aer.noise")
    quantum_info = _require("qiskit.quantum_info")
    circuit = _check_circuit(circuit)
    steps_after: dict[int, list] = {}
    for step in model.channel_steps(circuit):
        steps_after.setdefault(step.after, []).append(step)
    errors: dict[tuple[str, tuple[int, ...]], tuple] = {}
    for k, op in enumerate(circuit.operations):
        steps = steps_after.get(k, [])
        outside = [s for s in steps if not set(s.qubits) <= set(op.qubits)]
        if outside:
            raise ValueError(f"the model puts noise on qubits {outside[0].qubits} after {op.name} "
                             f"on {op.qubits}; Aer attaches noise to a gate's own qubits only")
        instruction = _qiskit_instruction(op, 0.0)
        key = (instruction.label or instruction.name if instruction.name == "unitary"
               else instruction.name, tuple(op.qubits))
        signature = tuple((s.qubits, tuple(m.tobytes() for m in s.kraus)) for s in steps)
        if key in errors and errors[key][0] != signature:
            raise ValueError(f"{op.name} on qubits {op.qubits} gets different noise at different "
                             "places of the circuit (a gates='layer' rule?); Aer attaches one "
                             "error per gate name and qubits")
        errors[key] = (signature, steps)
    aer_model = noise.NoiseModel()
    for (name, qubits), (_, steps) in errors.items():
        if not steps:
            continue
        total = noise.QuantumError(quantum_info.Kraus([np.eye(2 ** len(qubits), dtype=complex)]))
        for step in steps:
            error = noise.QuantumError(quantum_info.Kraus(
                [_reverse_factors(np.asarray(m)) for m in step.kraus]))
            total = total.compose(error, qargs=[qubits.index(q) for q in step.qubits])
        aer_model.add_quantum_error(total, name, list(qubits))
    readout = model.readout_confusion(circuit.n_qubits)
    if readout is not None:
        for q, confusion in enumerate(readout):
            # ours: column = true bit, row = read bit; Aer: row = prepared, column = read.
            aer_model.add_readout_error(noise.ReadoutError(confusion.T), [q])
    return aer_model


def device_subset(backend: Any, qubits: list[int]) -> Any:
    """The device restricted to physical ``qubits``, renumbered ``0..k-1`` in that order: a
    Qiskit ``BackendV2`` whose target keeps those qubits' properties (``T1``, ``T2``) and the
    calibrations (error, duration) of every gate and measurement among them.

    Aer builds its noise model from every calibrated gate of a backend (about 1000 on a
    133-qubit device, tens of seconds), and runs carry that model along; on the subset both are
    quick, and ``AerSimulator.from_backend(device_subset(backend, qubits))`` simulates a circuit
    laid out on ``qubits`` with the same channels as ``AerSimulator.from_backend(backend)``.
    """
    qiskit = _require("qiskit")
    from qiskit.providers import BackendV2, Options
    from qiskit.transpiler import Target

    full = backend.target
    index = {int(p): i for i, p in enumerate(qubits)}
    if len(index) != len(qubits) or not all(0 <= p < full.num_qubits for p in index):
        raise ValueError(f"qubits must be distinct physical qubits of {backend.name} "
                         f"(0..{full.num_qubits - 1}), got {list(qubits)}")
    target = Target(description=f"{backend.name} on {list(qubits)}", num_qubits=len(qubits),
                    dt=full.dt, granularity=full.granularity, min_length=full.min_length,
                    pulse_alignment=full.pulse_alignment,
                    acquire_alignment=full.acquire_alignment,
                    qubit_properties=[full.qubit_properties[p] for p in qubits])
    for name in full.operation_names:
        operation = full.operation_from_name(name)
        if not isinstance(operation, qiskit.circuit.Instruction) or name in (
                "for_loop", "if_else", "switch_case", "while_loop"):
            continue
        props = {tuple(index[p] for p in pair): prop for pair, prop in full[name].items()
                 if pair is not None and all(p in index for p in pair)}
        if props:
            target.add_instruction(operation, props, name=name)

    class Subset(BackendV2):
        """A calibration snapshot of some qubits of a device (for simulation only)."""

        @property
        def target(self):
            return target

        @property
        def max_circuits(self):
            return None

        @classmethod
        def _default_options(cls):
            return Options()

        def run(self, run_input, **options):
            raise NotImplementedError("a device subset is for building simulators "
                                      "(AerSimulator.from_backend), not for running")

    return Subset(name=f"{backend.name}_subset")


def to_pennylane(circuit: Circuit) -> Callable[..., None]:
    r"""A function ``apply(theta, x=None)`` that applies the circuit's gates to wires
    ``0..n-1``; call it inside a QNode. Differentiable: ``theta`` and ``x`` may be autograd,
    torch or jax arrays.

    Examples
    --------
    >>> import pennylane as qml                          # doctest: +SKIP
    >>> apply = to_pennylane(circuit)                    # doctest: +SKIP
    >>> @qml.qnode(qml.device("default.qubit", wires=circuit.n_qubits))
    ... def f(theta):
    ...     apply(theta)
    ...     return qml.expval(to_pennylane_observable("ZZ"))   # doctest: +SKIP
    """
    circuit = _check_circuit(circuit)
    qml = _require("pennylane")
    ops = circuit.operations

    def apply(theta, x=None) -> None:
        if len(theta) != circuit.n_params:
            raise ValueError(f"theta has {len(theta)} values, the circuit has "
                             f"{circuit.n_params} parameters")
        if (x is None) != (circuit.n_features == 0):
            raise ValueError(f"the circuit encodes {circuit.n_features} features; pass x with "
                             "that many values (and no x without encodings)")
        for op in ops:
            wires = list(op.qubits)
            if op.kind == "fixed":
                named = {"H": qml.Hadamard, "X": qml.PauliX, "CZ": qml.CZ, "CNOT": qml.CNOT}
                if op.name in named:
                    named[op.name](wires=wires)
                else:
                    qml.QubitUnitary(op.matrix, wires=wires)
                continue
            angle = theta[op.param_index] if op.kind == "rotation" \
                else op.scale * x[op.feature_index]
            single = {"X": qml.RX, "Y": qml.RY, "Z": qml.RZ}
            if op.pauli in single:
                single[op.pauli](angle, wires=wires)
            else:
                qml.PauliRot(angle, op.pauli, wires=wires)

    return apply


def to_pennylane_observable(observable: Any) -> Any:
    """A Pauli-sum observable as a PennyLane operator (wire ``i`` = qubit ``i``), e.g. for
    ``qml.expval``."""
    qml = _require("pennylane")
    terms: PauliSum = as_pauli_sum(observable)
    letters = {"X": qml.PauliX, "Y": qml.PauliY, "Z": qml.PauliZ}
    coeffs, ops = [], []
    for label, coeff in terms.terms.items():
        factors = [letters[p](i) for i, p in enumerate(label) if p != "I"]
        ops.append(qml.prod(*factors) if len(factors) > 1
                   else factors[0] if factors else qml.Identity(0))
        coeffs.append(complex(coeff).real)
    return qml.dot(coeffs, ops) if len(ops) > 1 else coeffs[0] * ops[0]
