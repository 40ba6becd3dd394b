"""Parametrised quantum circuits: a list of Pauli rotations, fixed gates and data encodings.

Conventions (shared by the whole library):

* a trainable rotation about a Pauli string :math:`P` is :math:`R_P(\\theta) =
  e^{-i\\theta P/2} = \\cos\\tfrac{\\theta}{2}\\,I - i\\sin\\tfrac{\\theta}{2}\\,P`;
* qubit 0 is the leftmost tensor factor (QuTiP's order); the basis index of the bit string
  :math:`b_0 b_1 \\dots b_{n-1}` is :math:`\\sum_q b_q 2^{n-1-q}`;
* an encoding rotation :math:`R_P(s\\,x_f)` takes its angle from feature :math:`f` of the input
  :math:`x`, scaled by :math:`s`; it has no trainable parameter.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import qutip

from qnncourse._validation import check_memory, check_qubit
from qnncourse.operation import Operation
from qnncourse.paulis import PauliString, PauliSum

__all__ = ["Circuit", "Operation"]

_SQRT1_2 = 1 / np.sqrt(2)
_H = np.array([[_SQRT1_2, _SQRT1_2], [_SQRT1_2, -_SQRT1_2]], dtype=complex)
_X = np.array([[0, 1], [1, 0]], dtype=complex)
_CZ = np.diag([1, 1, 1, -1]).astype(complex)
_CNOT = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=complex)
# Largest deviation from unitarity accepted for a user-supplied gate.
_UNITARY_ATOL = 1e-9


class Circuit:
    """A parametrised circuit on ``n_qubits`` qubits, built gate by gate.

    Builder methods return the circuit, so calls chain. Each trainable rotation adds one
    parameter, in call order, unless ``param=`` names an existing one to share.

    Parameters
    ----------
    n_qubits : int
        Number of qubits (at least 1).

    Examples
    --------
    >>> c = Circuit(2).ry(0).ry(1).cz(0, 1).pauli_rotation("XX", (0, 1))
    >>> c
    Circuit(n_qubits=2, n_params=3, n_features=0, n_layers=0, operations=4)
    >>> [str(g) for g in c.generators()]
    ['YI', 'IY', 'XX']
    """

    def __init__(self, n_qubits: int) -> None:
        if isinstance(n_qubits, bool) or not isinstance(n_qubits, Integral) or n_qubits < 1:
            raise ValueError(f"n_qubits must be a positive int, got {n_qubits!r}")
        self._n_qubits = int(n_qubits)
        self._ops: list[Operation] = []
        self._n_params = 0
        self._n_features = 0
        self._layer: int | None = None
        self._n_layers = 0

    # -- properties ------------------------------------------------------------------------
    @property
    def n_qubits(self) -> int:
        """Number of qubits."""
        return self._n_qubits

    @property
    def n_params(self) -> int:
        """Number of trainable parameters (length of ``theta``)."""
        return self._n_params

    @property
    def n_features(self) -> int:
        """Number of input features read by encodings (length of ``x``; 0 if none)."""
        return self._n_features

    @property
    def n_layers(self) -> int:
        """Number of layers opened with :meth:`new_layer`."""
        return self._n_layers

    @property
    def operations(self) -> tuple[Operation, ...]:
        """The operations in order of application."""
        return tuple(self._ops)

    @property
    def param_layers(self) -> np.ndarray:
        """Layer tag of each parameter (``-1`` outside any layer), shape ``(n_params,)``.

        The one parameter→layer map of the library (layerwise training, the block-diagonal
        metric and the chapters use it). A parameter shared by rotations of two different
        layers has no layer: that is a ``ValueError`` naming it.
        """
        layers = np.full(self._n_params, -2, dtype=int)
        for op in self._ops:
            if op.kind != "rotation":
                continue
            key = -1 if op.layer is None else op.layer
            if layers[op.param_index] not in (-2, key):
                raise ValueError(f"parameter {op.param_index} drives rotations in layers "
                                 f"{layers[op.param_index]} and {key}; a parameter must belong to "
                                 "one layer")
            layers[op.param_index] = key
        return layers

    @property
    def param_depths(self) -> np.ndarray:
        """Rotation depth of each parameter (PennyLane's "parametrized layers"), from 1.

        A rotation sits one step after the latest rotation it depends on (through shared
        qubits, also via fixed gates in between), so rotations of equal depth can be measured
        together; a shared parameter takes the depth of its first rotation.
        """
        depth = np.zeros(self._n_qubits, dtype=int)
        depth_of: dict[int, int] = {}
        for op in self._ops:
            qubits = list(op.qubits)
            reached = int(depth[qubits].max()) + (op.kind == "rotation")
            if op.kind == "rotation":
                depth_of.setdefault(op.param_index, reached)
            depth[qubits] = reached
        return np.array([depth_of[j] for j in range(self._n_params)], dtype=int)

    def __len__(self) -> int:
        return len(self._ops)

    # -- building --------------------------------------------------------------------------
    def new_layer(self) -> Circuit:
        """Start a new layer: the operations added from now on carry its ``layer`` tag."""
        self._layer = self._n_layers
        self._n_layers += 1
        return self

    def _qubits(self, qubits: int | tuple[int, ...] | list[int], what: str) -> tuple[int, ...]:
        if isinstance(qubits, Integral) and not isinstance(qubits, bool):
            qubits = (qubits,)
        if not isinstance(qubits, tuple | list) or not qubits:
            raise TypeError(f"{what} needs a qubit index or a non-empty tuple of them, "
                            f"got {qubits!r}")
        checked = tuple(check_qubit(q, self._n_qubits) for q in qubits)
        for q in set(checked):
            if checked.count(q) > 1:
                raise ValueError(f"{what} acts on qubit {q} twice; its qubits must differ, "
                                 f"got {checked}")
        return checked

    def _word(self, pauli: str, qubits, what: str) -> tuple[str, tuple[int, ...]]:
        """Check a Pauli word on qubits; a full-width label may omit ``qubits``."""
        if not isinstance(pauli, str):
            raise TypeError(f"{what} needs a Pauli word such as 'ZZ', got {pauli!r}")
        if qubits is None:
            if len(pauli) != self._n_qubits:
                raise ValueError(f"{what}: without qubits the label must have one letter per "
                                 f"qubit ({self._n_qubits}), got {pauli!r}")
            qubits = tuple(range(self._n_qubits))
        qubits = self._qubits(qubits, what)
        PauliString(pauli)  # validates the letters
        if len(pauli) != len(qubits):
            raise ValueError(f"{what}: Pauli word {pauli!r} has {len(pauli)} letters but "
                             f"{len(qubits)} qubits were given: {qubits}")
        kept = [(p, q) for p, q in zip(pauli, qubits, strict=True) if p != "I"]
        if not kept:
            raise ValueError(f"{what}: Pauli word {pauli!r} is the identity; rotating by it "
                             "is only a global phase")
        return "".join(p for p, _ in kept), tuple(q for _, q in kept)

    def _add(self, op: Operation) -> Circuit:
        self._ops.append(op)
        return self

    def pauli_rotation(self, pauli: str, qubits: int | tuple[int, ...] | None = None, *,
                       param: int | None = None) -> Circuit:
        """Trainable :math:`R_P(\\theta) = e^{-i\\theta P/2}` with ``P = pauli`` on ``qubits``.

        Parameters
        ----------
        pauli : str
            Pauli word, one letter per qubit in ``qubits`` (``I`` letters are dropped); with
            ``qubits=None`` a full-width label such as ``"ZIZ"``.
        qubits : int or tuple of int, optional
            Where the word acts.
        param : int, optional
            Reuse parameter ``param`` instead of adding a new one (e.g. QAOA's shared angles);
            the rotations sharing it must commute, so that together they are
            :math:`e^{-i\\theta G/2}` with :math:`G` the sum of their Pauli strings.
        """
        word, qubits = self._word(pauli, qubits, "pauli_rotation")
        if param is None:
            index = self._n_params
            self._n_params += 1
        else:
            if isinstance(param, bool) or not isinstance(param, Integral):
                raise TypeError(f"param must be an int index, got {param!r}")
            if not 0 <= param < self._n_params:
                raise ValueError(f"param={param} does not name an existing parameter "
                                 f"(the circuit has {self._n_params})")
            index = int(param)
            # Compared letter by letter on the qubits both act on: embedding and packing every
            # earlier string made building a 100-qubit QAOA quadratic in its size.
            mine = dict(zip(qubits, word, strict=True))
            for op in self._ops:
                if op.param_index == index and sum(
                        mine.get(q, letter) != letter
                        for q, letter in zip(op.qubits, op.pauli, strict=True)) % 2:
                    new = PauliString.embed(word, qubits, self._n_qubits)
                    raise ValueError(
                        f"param={index}: {new.label} does not commute with "
                        f"{op.generator(self._n_qubits).label}, which already uses it; only "
                        "commuting rotations can share a parameter (one generator, their sum)")
        name = f"R{word}"
        return self._add(Operation("rotation", qubits, pauli=word, param_index=index,
                                   name=name, layer=self._layer))

    def rx(self, q: int, *, param: int | None = None) -> Circuit:
        """Trainable :math:`R_X(\\theta)` on qubit ``q``."""
        return self.pauli_rotation("X", q, param=param)

    def ry(self, q: int, *, param: int | None = None) -> Circuit:
        """Trainable :math:`R_Y(\\theta)` on qubit ``q``."""
        return self.pauli_rotation("Y", q, param=param)

    def rz(self, q: int, *, param: int | None = None) -> Circuit:
        """Trainable :math:`R_Z(\\theta)` on qubit ``q``."""
        return self.pauli_rotation("Z", q, param=param)

    def encode(self, pauli: str, qubits: int | tuple[int, ...], feature: int, *,
               scale: float = 1.0) -> Circuit:
        """Encoding rotation :math:`R_P(s\\,x_f)`: angle ``scale * x[feature]``, not trainable."""
        word, qubits = self._word(pauli, qubits, "encode")
        if isinstance(feature, bool) or not isinstance(feature, Integral) or feature < 0:
            raise ValueError(f"feature must be a non-negative int index, got {feature!r}")
        if not isinstance(scale, Real) or not np.isfinite(scale):
            raise ValueError(f"scale must be a finite real number, got {scale!r}")
        self._n_features = max(self._n_features, int(feature) + 1)
        return self._add(Operation("encoding", qubits, pauli=word, feature_index=int(feature),
                                   scale=float(scale), name=f"R{word}", layer=self._layer))

    def gate(self, unitary: np.ndarray | qutip.Qobj, qubits: int | tuple[int, ...],
             name: str | None = None) -> Circuit:
        """Fixed gate: a ``(2**k, 2**k)`` unitary on ``k`` qubits (first = leftmost factor)."""
        qubits = self._qubits(qubits, name or "gate")
        matrix = unitary.full() if isinstance(unitary, qutip.Qobj) else np.asarray(unitary)
        dim = 2 ** len(qubits)
        if matrix.shape != (dim, dim):
            raise ValueError(f"gate on {len(qubits)} qubit(s) needs a ({dim}, {dim}) matrix, "
                             f"got shape {matrix.shape}")
        matrix = matrix.astype(complex)
        if not np.all(np.isfinite(matrix)):
            raise ValueError("gate matrix contains NaN or infinite entries")
        error = np.max(np.abs(matrix @ matrix.conj().T - np.eye(dim)))
        if error > _UNITARY_ATOL:
            raise ValueError(f"gate matrix is not unitary: max |U U† - I| = {error:.3g}")
        matrix.setflags(write=False)
        return self._add(Operation("fixed", qubits, matrix=matrix, name=name or "U",
                                   layer=self._layer))

    def h(self, q: int) -> Circuit:
        """Hadamard on qubit ``q``."""
        return self.gate(_H, q, "H")

    def x(self, q: int) -> Circuit:
        """Pauli X (bit flip) on qubit ``q``."""
        return self.gate(_X, q, "X")

    def cz(self, a: int, b: int) -> Circuit:
        """Controlled-Z between qubits ``a`` and ``b`` (symmetric)."""
        return self.gate(_CZ, (a, b), "CZ")

    def cnot(self, control: int, target: int) -> Circuit:
        """CNOT with ``control`` and ``target``."""
        return self.gate(_CNOT, (control, target), "CNOT")

    def copy(self) -> Circuit:
        """An independent copy (operations are immutable and shared)."""
        other = Circuit(self._n_qubits)
        other._ops = list(self._ops)
        other._n_params, other._n_features = self._n_params, self._n_features
        other._layer, other._n_layers = self._layer, self._n_layers
        return other

    # -- surgery ---------------------------------------------------------------------------
    def append(self, op: Operation, *, param: int | None = None,
               adjoint: bool = False) -> Circuit:
        """Append a copy of ``op`` (taken from any circuit), or of its adjoint.

        Parameters
        ----------
        op : Operation
        param : int, optional
            For a rotation: the existing parameter that drives the copy (``None`` adds a new
            one). A rotation's adjoint is the same rotation on its own parameter, whose value
            the caller sets to minus the original, so ``adjoint`` leaves rotations unchanged.
        adjoint : bool
            Append :math:`G^\\dagger` for a fixed gate and the opposite scale for an encoding.
        """
        if not isinstance(op, Operation):
            raise TypeError(f"op must be an Operation, got {type(op).__name__}")
        if param is not None and op.kind != "rotation":
            raise ValueError(f"param={param!r} was given for a {op.kind} operation ({op.name}); "
                             "only rotations have parameters")
        if op.kind == "rotation":
            return self.pauli_rotation(op.pauli, op.qubits, param=param)
        if op.kind == "encoding":
            scale = -op.scale if adjoint else op.scale
            return self.encode(op.pauli, op.qubits, op.feature_index, scale=scale)
        if adjoint:
            return self.gate(op.matrix.conj().T, op.qubits, f"{op.name}†")
        return self.gate(op.matrix, op.qubits, op.name)

    def truncated(self, layer: int, theta: np.ndarray) -> tuple[Circuit, np.ndarray]:
        """The circuit up to ``layer``, the rotations of earlier layers frozen at ``theta``.

        Operations of later layers are dropped; rotations of layers before ``layer`` become
        fixed gates :math:`R_P(\\theta_j)`; those of ``layer`` stay trainable (untagged
        operations count as layer ``-1``, before every other).

        Returns
        -------
        circuit : Circuit
        params : numpy.ndarray of int
            For each parameter of ``circuit``, its index into the full ``theta``.
        """
        if isinstance(layer, bool) or not isinstance(layer, Integral):
            raise TypeError(f"layer must be an int, got {type(layer).__name__}")
        theta = self.check_theta(theta)
        if theta.ndim != 1:
            raise ValueError(f"theta must be one parameter vector of shape ({self._n_params},), "
                             f"got shape {theta.shape}")
        self.param_layers  # noqa: B018  (checks that every parameter has one layer)
        out, mapping = Circuit(self._n_qubits), {}
        for op in self._ops:
            key = -1 if op.layer is None else op.layer
            if key > layer:
                continue
            if op.kind == "rotation" and key < layer:
                angle = theta[op.param_index]
                out.gate(op.rotation_matrix(angle), op.qubits, f"{op.name}({angle:.3g})")
                continue
            param = None
            if op.kind == "rotation":
                param = mapping.get(op.param_index)
                mapping.setdefault(op.param_index, out.n_params)
            out.append(op, param=param)
        return out, np.array(sorted(mapping, key=mapping.get), dtype=int)

    def repeat(self, depth: int) -> Circuit:
        """``depth`` copies of this circuit in sequence, each with fresh parameters.

        Copy :math:`r` reads parameters ``r * n_params + j``; each copy is one layer.
        """
        if isinstance(depth, bool) or not isinstance(depth, Integral) or depth < 1:
            raise ValueError(f"depth must be a positive int, got {depth!r}")
        out = Circuit(self._n_qubits)
        for r in range(int(depth)):
            out.new_layer()
            for op in self._ops:
                param = None
                if op.kind == "rotation":
                    target = r * self._n_params + op.param_index
                    param = None if target == out.n_params else target
                out.append(op, param=param)
        return out

    # -- generators and parameters ---------------------------------------------------------
    def generators(self) -> list[PauliString | PauliSum]:
        """One full-width generator per parameter, in parameter order.

        A parameter used by one rotation has the :class:`PauliString` of that rotation; a
        parameter shared by several (commuting) rotations, as in QAOA, has their
        :class:`PauliSum`.
        """
        found: list[list[PauliString]] = [[] for _ in range(self._n_params)]
        for op in self._ops:
            if op.kind == "rotation":
                found[op.param_index].append(op.generator(self._n_qubits))
        return [terms[0] if len(terms) == 1 else PauliSum(terms) for terms in found]

    def check_theta(self, theta: object) -> np.ndarray:
        """``theta`` as a float array of shape ``(n_params,)`` or ``(S, n_params)``, checked."""
        array = np.asarray(theta)
        if array.dtype.kind == "c":
            raise ValueError("theta must be real, got complex values")
        if array.dtype.kind not in "iuf":
            raise ValueError(f"theta must be an array of real numbers, got dtype {array.dtype}")
        array = array.astype(float)
        if array.ndim == 0 or array.ndim > 2:
            raise ValueError(f"theta must have shape ({self._n_params},) or (S, {self._n_params})"
                             f", got shape {array.shape}")
        if array.shape[-1] != self._n_params:
            if array.ndim == 1:
                raise ValueError(f"theta has {array.shape[0]} values, the circuit has "
                                 f"{self._n_params} parameters")
            raise ValueError(f"theta has shape {array.shape}: {array.shape[1]} values per row, "
                             f"the circuit has {self._n_params} parameters")
        bad = np.argwhere(~np.isfinite(array))
        if bad.size:
            raise ValueError(f"theta contains NaN or infinite values (first at index "
                             f"{tuple(int(i) for i in bad[0])})")
        return array

    def check_x(self, x: object) -> np.ndarray | None:
        """Input features as a float array ``(n_features,)`` or ``(S, n_features)``, checked."""
        if self._n_features == 0:
            if x is not None:
                raise ValueError("x was given but the circuit has no encoding gates")
            return None
        if x is None:
            raise ValueError(f"the circuit encodes {self._n_features} features: pass x with "
                             f"shape ({self._n_features},) or (S, {self._n_features})")
        array = np.asarray(x)
        if array.dtype.kind not in "iuf":
            raise ValueError(f"x must be an array of real numbers, got dtype {array.dtype}")
        array = array.astype(float)
        if array.ndim not in (1, 2) or array.shape[-1] != self._n_features:
            raise ValueError(f"x has shape {array.shape}, the circuit encodes "
                             f"{self._n_features} features")
        if not np.all(np.isfinite(array)):
            raise ValueError("x contains NaN or infinite values")
        return array

    def angles(self, theta: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        """The angle of every operation: ``theta[param_index]`` or ``scale * x[feature_index]``.

        Parameters
        ----------
        theta : array, shape ``(n_params,)`` or ``(S, n_params)``
        x : array, shape ``(n_features,)`` or ``(S, n_features)``, optional
            Required when the circuit has encodings. A single ``theta`` and a batch of ``x``
            (or the reverse) broadcast against each other.

        Returns
        -------
        numpy.ndarray
            Shape ``(S, len(circuit))`` (fixed gates get angle 0); ``S = 1`` when neither input
            is batched. Simulators take these rows, and shift rules perturb single columns.
        """
        theta = self.check_theta(theta)
        x = self.check_x(x)
        theta2 = np.atleast_2d(theta)
        x2 = None if x is None else np.atleast_2d(x)
        n_rows = theta2.shape[0] if x2 is None else max(theta2.shape[0], x2.shape[0])
        if x2 is not None and theta.ndim == 2 and x.ndim == 2 and theta2.shape[0] != x2.shape[0]:
            raise ValueError(f"theta has {theta2.shape[0]} rows but x has {x2.shape[0]}; "
                             "batched theta and x must have the same number of rows")
        out = np.zeros((n_rows, len(self._ops)))
        cols, params = self.rotation_columns()
        out[:, cols] = theta2[:, params]
        if x2 is not None:
            enc = [(k, op.feature_index, op.scale) for k, op in enumerate(self._ops)
                   if op.kind == "encoding"]
            k_idx, f_idx, scales = (np.array(v) for v in zip(*enc, strict=True))
            out[:, k_idx] = x2[:, f_idx] * scales
        return out

    def is_batched(self, theta: np.ndarray, x: np.ndarray | None = None) -> bool:
        """Whether ``theta`` or ``x`` carries a leading batch axis."""
        return np.ndim(theta) == 2 or (x is not None and np.ndim(x) == 2)

    def rotation_columns(self) -> tuple[np.ndarray, np.ndarray]:
        """Indices (in :attr:`operations`) of the trainable rotations, and the parameter each
        one reads; shift rules perturb these columns of :meth:`angles`."""
        pairs = [(k, op.param_index) for k, op in enumerate(self._ops) if op.kind == "rotation"]
        if not pairs:
            return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
        cols, params = zip(*pairs, strict=True)
        return np.array(cols), np.array(params)

    def chain_rule(self, angle_gradient: np.ndarray) -> np.ndarray:
        """Turn derivatives by operation angles ``(S, len(circuit))`` into ``(S, n_params)``.

        :math:`\\partial C/\\partial\\theta_j = \\sum_{k:\\,j_k = j} \\partial C/\\partial a_k`
        over the rotations ``k`` that read parameter ``j``.
        """
        cols, params = self.rotation_columns()
        if np.array_equal(params, np.arange(self._n_params)):
            return angle_gradient[:, cols]
        out = np.zeros((angle_gradient.shape[0], self._n_params))
        np.add.at(out.T, params, angle_gradient[:, cols].T)
        return out

    # -- dense forms -----------------------------------------------------------------------
    def unitary(self, theta: np.ndarray, x: np.ndarray | None = None) -> qutip.Qobj:
        """The circuit's unitary as a :class:`qutip.Qobj` with dims ``[[2]*n, [2]*n]``."""
        # Local import: the simulator builds on Circuit, so importing it at the top is a cycle.
        from qnncourse.simulators.statevector import run_angles

        angles = self.angles(theta, x)
        if angles.shape[0] != 1:
            raise ValueError("unitary() takes a single theta (and x), not a batch")
        dim = 2**self._n_qubits
        check_memory(2 * 16 * dim * dim, f"the {self._n_qubits}-qubit unitary ({dim} x {dim})")
        # Columns of U are the images of the basis states: run all 2^n of them as one batch.
        basis = np.eye(dim, dtype=complex).reshape((dim,) + (2,) * self._n_qubits)
        images = run_angles(self, np.repeat(angles, dim, axis=0), psi0=basis)
        return qutip.Qobj(images.reshape(dim, dim).T, dims=[[2] * self._n_qubits] * 2)

    def state(self, theta: np.ndarray, x: np.ndarray | None = None) -> qutip.Qobj:
        """The output ket :math:`U(\\theta)|0\\dots0\\rangle` as a :class:`qutip.Qobj`."""
        if self.angles(theta, x).shape[0] != 1:
            raise ValueError("state() takes a single theta (and x), not a batch")
        psi = self.states(np.atleast_2d(theta), None if x is None else np.atleast_2d(x))
        return qutip.Qobj(psi.reshape(-1, 1), dims=[[2] * self._n_qubits, [1] * self._n_qubits])

    def states(self, thetas: np.ndarray, x: np.ndarray | None = None,
               psi0: np.ndarray | None = None) -> np.ndarray:
        """Output states of a batch, :math:`U(\\theta_s)|\\psi_0\\rangle`, shape ``(S, 2**n)``.

        ``psi0`` is one initial ket of ``2**n`` amplitudes (default :math:`|0\\dots0\\rangle`).
        """
        # Local import: the simulator builds on Circuit, so importing it at the top is a cycle.
        from qnncourse.simulators.statevector import run_angles

        angles = self.angles(thetas, x)
        dim = 2**self._n_qubits
        if psi0 is not None:
            psi0 = np.asarray(psi0, dtype=complex).reshape(-1)
            if psi0.shape != (dim,) or not np.isclose(np.linalg.norm(psi0), 1.0):
                raise ValueError(f"psi0 must be a normalised ket of {dim} amplitudes, got "
                                 f"{psi0.size} amplitudes of norm {np.linalg.norm(psi0):.3g}")
        return np.asarray(run_angles(self, angles, psi0=psi0)).reshape(len(angles), dim)

    # -- display ---------------------------------------------------------------------------
    def __repr__(self) -> str:
        return (f"Circuit(n_qubits={self._n_qubits}, n_params={self._n_params}, "
                f"n_features={self._n_features}, n_layers={self._n_layers}, "
                f"operations={len(self._ops)})")

    def __str__(self) -> str:
        lines = [repr(self)]
        for k, op in enumerate(self._ops):
            layer = "" if op.layer is None else f"   layer {op.layer}"
            lines.append(f"  {k:>3}  {op}{layer}")
        return "\n".join(lines)
