"""The Fubini–Study metric (quantum geometric tensor) of a parameterised pure state.

For :math:`|\\psi(\\theta)\\rangle = U(\\theta)|0\\rangle` the metric is

.. math::

    g_{ij} = \\operatorname{Re}\\left[\\langle\\partial_i\\psi|\\partial_j\\psi\\rangle
             - \\langle\\partial_i\\psi|\\psi\\rangle\\langle\\psi|\\partial_j\\psi\\rangle\\right]
           = \\tfrac14 F_{ij},

one quarter of the quantum Fisher information :math:`F` (PennyLane's convention; Stokes,
Izaac, Killoran & Carleo, *Quantum* 4, 269 (2020), doi:10.22331/q-2020-05-25-269). Its rank is
the number of independent directions the circuit can move the state in; Larocca et al.,
*Nat. Comput. Sci.* 3, 542 (2023), show it saturates, once the circuit has enough parameters,
at a value at most :math:`\\min(\\dim\\mathfrak{g}, 2^{n+1} - 2)` for pure states
(overparameterisation).

Every derivative :math:`|\\partial_j\\psi\\rangle` is computed exactly by the statevector
simulator's building blocks: since :math:`\\partial_a R_P(a) = -\\tfrac{i}{2} P R_P(a)` and
:math:`-iP = R_P(\\pi)`, the derivative by the angle of rotation :math:`k` is the circuit with
:math:`\\tfrac12 R_P(\\pi)` inserted after that rotation. One forward sweep carries
:math:`|\\psi\\rangle` and every derivative started so far as one batch, then :math:`g` is a Gram
matrix.
"""

from __future__ import annotations

import numpy as np

from qnncourse._validation import check_memory
from qnncourse.circuit import Circuit
from qnncourse.simulators.statevector import apply_operation

__all__ = ["metric_circuits", "metric_tensor", "parameter_blocks", "qfi_rank"]

_APPROX = (None, "block-diag", "diag")


def _as_circuit(cost_or_circuit) -> Circuit:
    """The circuit of a ``Circuit``, ``Cost`` or ``Loss``; noisy costs are rejected."""
    if isinstance(cost_or_circuit, Circuit):
        return cost_or_circuit
    circuit = getattr(cost_or_circuit, "circuit", None)
    if not isinstance(circuit, Circuit):
        raise ValueError("cost_or_circuit must be a Circuit or a Cost, got "
                         f"{type(cost_or_circuit).__name__}")
    if getattr(cost_or_circuit, "noise", None) is not None:
        raise ValueError("the metric is defined here for pure states, but the cost has a noise "
                         "model; pass cost.circuit to get the metric of the noiseless state")
    return circuit


def _single_angles(circuit: Circuit, theta, x) -> np.ndarray:
    """Operation angles for one ``theta`` (and ``x``), shape ``(len(circuit),)``."""
    angles = circuit.angles(theta, x)
    if angles.shape[0] != 1:
        raise ValueError(f"the metric takes a single theta of shape ({circuit.n_params},), got "
                         f"a batch of {angles.shape[0]}")
    return angles[0]


def _angle_gram(circuit: Circuit, angles: np.ndarray) -> np.ndarray:
    """Metric with respect to the angle of every rotation operation, shape ``(m, m)``."""
    n = circuit.n_qubits
    rotations = [k for k, op in enumerate(circuit.operations) if op.kind == "rotation"]
    m = len(rotations)
    check_memory(16 * (m + 1) * 2**n, f"{m + 1} states of {n} qubits for the metric tensor")
    # Row 0 is |psi>; row r + 1 becomes d|psi>/da_r when rotation r is reached. Only rows
    # already started are simulated, so the sweep costs about m/2 circuit runs.
    states = np.zeros((m + 1,) + (2,) * n, dtype=complex)
    states[(0,) * (n + 1)] = 1.0
    active = 1
    for k, op in enumerate(circuit.operations):
        batch = None if op.kind == "fixed" else np.full(active, angles[k])
        states[:active] = apply_operation(states[:active], op, batch)
        if op.kind == "rotation":
            # d/da R_P(a) = -i/2 P R_P(a), and -iP = R_P(pi); copy, as apply_operation may
            # overwrite its input.
            states[active] = 0.5 * apply_operation(states[:1].copy(), op, np.array([np.pi]))[0]
            active += 1
    flat = states.reshape(m + 1, -1)
    psi, derivs = flat[0], flat[1:]
    overlaps = derivs.conj() @ psi  # <d_a psi|psi>
    return (derivs.conj() @ derivs.T).real - np.outer(overlaps, overlaps.conj()).real


def parameter_blocks(circuit: Circuit) -> list[list[int]]:
    """Groups of parameters whose metric entries the ``"block-diag"`` approximation keeps.

    If the circuit's rotations carry layer tags (:attr:`Operation.layer`, set by the ansatz
    builders), a block is the parameters of one layer. Otherwise a block is, as in PennyLane,
    a maximal run of rotations none of which depends causally on another: a rotation starts a
    new block when it touches a qubit that a rotation of the current block has already
    influenced (directly or through the gates that followed it).
    """
    ops = circuit.operations
    rotations = [op for op in ops if op.kind == "rotation"]
    if rotations and all(op.layer is not None for op in rotations):
        label_of = dict(enumerate(circuit.param_layers.tolist()))
    else:
        label_of, block, touched = {}, 0, set()
        for op in ops:
            if op.kind == "rotation":
                if touched & set(op.qubits):
                    block, touched = block + 1, set()
                touched |= set(op.qubits)
                label_of.setdefault(op.param_index, block)
            elif touched & set(op.qubits):
                touched |= set(op.qubits)
    blocks: dict[int, list[int]] = {}
    for j in range(circuit.n_params):
        blocks.setdefault(label_of[j], []).append(j)
    return list(blocks.values())


def metric_circuits(circuit: Circuit, approx: str | None) -> int:
    r"""Circuit executions charged for one metric tensor, following PennyLane's accounting.

    PennyLane's ``qml.metric_tensor`` groups parameters into layers by rotation depth
    (:attr:`Circuit.param_depths`: a rotation is one layer after the latest rotation it depends
    on) and runs one circuit per layer: the circuit up to that layer, measured in the
    eigenbases of the layer's generators, gives every metric entry within the layer. An entry
    between two parameters in different layers needs one Hadamard-test circuit more. So the
    charge is the number of layers plus the number of kept cross-layer pairs:

    * ``"diag"``: no pairs;
    * ``"block-diag"``: the pairs inside each block of :func:`parameter_blocks` (none when
      blocks are layers; an ansatz layer holding ``RY`` then ``RZ`` on a qubit spans two
      layers and pays its cross pairs);
    * ``None``: every cross-layer pair.

    Parameters
    ----------
    circuit : Circuit
    approx : {None, "block-diag", "diag"}

    Examples
    --------
    >>> metric_circuits(Circuit(2).ry(0).ry(1).cz(0, 1).ry(0).ry(1), None)   # 2 layers + 4 pairs
    6
    """
    if not isinstance(circuit, Circuit):
        raise TypeError(f"circuit must be a Circuit, got {type(circuit).__name__}")
    if approx not in _APPROX:
        raise ValueError(f"approx must be None, 'block-diag' or 'diag', got {approx!r}")
    depths = circuit.param_depths
    if approx == "diag":
        blocks = []
    elif approx == "block-diag":
        blocks = parameter_blocks(circuit)
    else:
        blocks = [list(range(circuit.n_params))]
    cross_pairs = 0
    for block in blocks:
        in_block = depths[block]
        cross_pairs += int(np.sum(in_block[:, None] < in_block[None, :]))
    return len(set(depths.tolist())) + cross_pairs


def metric_tensor(cost_or_circuit, theta, approx: str | None = None, *, x=None) -> np.ndarray:
    """Fubini–Study metric :math:`g(\\theta)` of the circuit's output state (= QFI / 4).

    .. math::

        g_{ij} = \\operatorname{Re}\\left[\\langle\\partial_i\\psi|\\partial_j\\psi\\rangle
            - \\langle\\partial_i\\psi|\\psi\\rangle\\langle\\psi|\\partial_j\\psi\\rangle\\right]

    (Stokes et al. 2020; Meyer, *Quantum* 5, 539 (2021), doi:10.22331/q-2021-09-09-539).

    Parameters
    ----------
    cost_or_circuit : Circuit or Cost
        The circuit (a noiseless ``Cost``/``Loss`` contributes its circuit). Parameters shared
        by several rotations get the sum of their derivatives (chain rule).
    theta : array, shape ``(n_params,)``
    approx : {None, "block-diag", "diag"}
        ``None``: the exact metric. ``"block-diag"``: only the blocks of
        :func:`parameter_blocks` (each block exact, as in PennyLane). ``"diag"``: only the
        diagonal, :math:`g_{jj} = \\operatorname{Var}(P_j)/4` for a parameter used once. All
        three are computed from the exact metric, so their cost is that of the exact one.
    x : array, optional
        Input features, for circuits with encoding gates.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_params, n_params)``, real symmetric positive semidefinite.

    Examples
    --------
    >>> c = Circuit(1).rx(0).rz(0)
    >>> metric_tensor(c, [np.pi / 2, 0.3]).round(6) + 0.0   # + 0.0: no signed zeros
    array([[0.25, 0.  ],
           [0.  , 0.25]])
    """
    if approx not in _APPROX:
        raise ValueError(f"approx must be None, 'block-diag' or 'diag', got {approx!r}")
    circuit = _as_circuit(cost_or_circuit)
    angles = _single_angles(circuit, theta, x)
    gram = _angle_gram(circuit, angles)
    # The Gram matrix is by rotation angles; Circuit.chain_rule (the one place that maps
    # angle derivatives to parameters) applied to both indices gives the metric by parameters.
    cols, _ = circuit.rotation_columns()
    by_angle = np.zeros((len(circuit), len(circuit)))
    by_angle[np.ix_(cols, cols)] = gram
    metric = circuit.chain_rule(circuit.chain_rule(by_angle).T)
    if approx == "diag":
        return np.diag(np.diag(metric))
    if approx == "block-diag":
        mask = np.zeros_like(metric, dtype=bool)
        for block in parameter_blocks(circuit):
            mask[np.ix_(block, block)] = True
        return np.where(mask, metric, 0.0)
    return metric


def qfi_rank(cost_or_circuit, theta, tol: float = 1e-8, *, x=None) -> int:
    """Rank of the quantum Fisher information (equivalently of the metric) at ``theta``.

    The eigenvalues :math:`\\lambda_1 \\ge \\dots \\ge \\lambda_p` are sorted and divided by
    :math:`\\lambda_1`. Every cut :math:`r` whose discarded eigenvalues are all below ``tol``
    (:math:`\\lambda_{r+1} \\le \\mathrm{tol}\\,\\lambda_1`) is a candidate, and the rank is the
    candidate with the largest gap :math:`\\log(\\lambda_r/\\lambda_{r+1})`, relative
    eigenvalues being floored at :math:`p\\,\\epsilon_{\\mathrm{mach}}` (below that they are
    rounding noise). The cut then falls in the clear gap above the numerically zero
    eigenvalues, even when a genuine eigenvalue is smaller than ``tol``. Look at the spectrum
    (``numpy.linalg.eigvalsh(metric_tensor(...))``) when the gap is not clear.

    Parameters
    ----------
    cost_or_circuit : Circuit or Cost
    theta : array, shape ``(n_params,)``
    tol : float
        Relative threshold, in ``(0, 1)``.
    x : array, optional
        Input features, for circuits with encoding gates.
    """
    if not 0 < tol < 1:
        raise ValueError(f"tol must be in (0, 1), got {tol}")
    eig = np.linalg.eigvalsh(metric_tensor(cost_or_circuit, theta, x=x))[::-1]
    if eig[0] <= 0:
        return 0
    # Below p * machine epsilon (relative) an eigenvalue is rounding noise: floor it there,
    # so that gaps between noise values (1e-17 vs -1e-18) cannot win over the real gap.
    rel = np.maximum(eig / eig[0], eig.size * np.finfo(float).eps)
    if rel[-1] > tol:
        return len(rel)
    # gaps[r - 1] is the gap after the r-th eigenvalue, log(rel[r-1] / rel[r]).
    gaps = np.log(rel[:-1] / rel[1:])
    return int(np.argmax(np.where(rel[1:] <= tol, gaps, -np.inf)) + 1)
