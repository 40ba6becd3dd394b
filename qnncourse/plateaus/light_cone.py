r"""The backward light cone of an observable: the only part of a circuit its value depends on.

Walking the circuit from its end, a gate that touches a qubit of the cone adds all its qubits to
the cone; gates outside it commute with everything after them that matters and drop out, as do
single-qubit channels on qubits outside it (a channel is trace preserving, so on a qubit the
observable never sees it changes nothing). For a local observable on a circuit of
nearest-neighbour layers the cone grows by about one qubit per layer, so the value of a deep
``n``-qubit circuit at depth :math:`M < n` is that of a circuit of about :math:`M` qubits
(the argument of Cerezo et al., *Nat. Commun.* 12, 1791, 2021, for local costs).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from qnncourse.circuit import Circuit

__all__ = ["light_cone"]


def light_cone(circuit: Circuit, qubits: Iterable[int]) -> tuple[Circuit, np.ndarray, list[int]]:
    """The part of ``circuit`` inside the backward light cone of ``qubits``.

    Returns
    -------
    reduced : Circuit
        The gates inside the cone, in order, on the cone's qubits renumbered ``0..k-1`` in
        increasing order (layer tags kept). Its trainable parameters are those of the kept
        rotations, in order of first use.
    params : numpy.ndarray of int
        For each parameter of ``reduced``, its index in the original ``theta``; the derivative
        by every other parameter is zero.
    cone : list of int
        The original qubits of the cone, ``cone[i]`` being ``reduced``'s qubit ``i``.

    An observable on ``qubits`` (renumbered the same way) has the same value on ``reduced``
    as on ``circuit``, noiseless or with single-qubit noise after gates or layers; encodings
    are kept as encodings of the same features.
    """
    if not isinstance(circuit, Circuit):
        raise TypeError(f"circuit must be a qnncourse Circuit, got {type(circuit).__name__}")
    cone = set()
    for q in qubits:
        if isinstance(q, bool) or not isinstance(q, int | np.integer) or \
                not 0 <= q < circuit.n_qubits:
            raise ValueError(f"qubits: {q!r} is not a qubit of the circuit "
                             f"(0..{circuit.n_qubits - 1})")
        cone.add(int(q))
    if not cone:
        raise ValueError("qubits must name at least one qubit")
    kept = []
    for op in reversed(circuit.operations):
        if cone.intersection(op.qubits):
            cone.update(op.qubits)
            kept.append(op)
    order = sorted(cone)
    relabel = {q: i for i, q in enumerate(order)}
    reduced, mapping = Circuit(len(order)), {}
    layer = None
    for op in reversed(kept):
        while op.layer is not None and (layer is None or layer < op.layer):
            reduced.new_layer()
            layer = reduced.n_layers - 1
        qs = tuple(relabel[q] for q in op.qubits)
        if op.kind == "rotation":
            reduced.pauli_rotation(op.pauli, qs, param=mapping.get(op.param_index))
            mapping.setdefault(op.param_index, reduced.n_params - 1)
        elif op.kind == "encoding":
            reduced.encode(op.pauli, qs, op.feature_index, scale=op.scale)
        else:
            reduced.gate(op.matrix, qs, op.name)
    params = np.array(sorted(mapping, key=mapping.get), dtype=int)
    return reduced, params, order
