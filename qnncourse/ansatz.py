"""Circuit families from the barren-plateau and QNN literature.

Every builder returns a :class:`~qnncourse.circuit.Circuit` whose operations carry a ``layer``
tag, and draws any random choices layer by layer: the same arguments and seed with fewer
layers give a circuit whose operations and parameters are a prefix of the deeper one's (what
layerwise training needs, Skolik et al. 2021, https://doi.org/10.1007/s42484-020-00036-4).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from numbers import Integral

import numpy as np

from qnncourse._validation import as_rng
from qnncourse.circuit import Circuit

__all__ = [
    "alternating_layered",
    "data_reuploading",
    "hardware_efficient",
    "qaoa",
    "random_pauli",
    "tensor_product_rx",
]

_ROTATIONS = ("rx", "ry", "rz")
_ENTANGLERS = ("cz", "cnot")


def _check_count(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _ladder(circuit: Circuit, qubits: Sequence[int], entangler: str) -> None:
    """Nearest-neighbour two-qubit gates ``(q0, q1), (q1, q2), ...`` along ``qubits``."""
    for a, b in zip(qubits[:-1], qubits[1:], strict=True):
        getattr(circuit, entangler)(a, b)


def tensor_product_rx(n: int) -> Circuit:
    """One :math:`R_X(\\theta_j)` per qubit: :math:`V(\\theta) = \\bigotimes_j R_X(\\theta_j)`.

    Cerezo et al. 2021 (https://doi.org/10.1038/s41467-021-21728-w) use it to show that the
    global cost :math:`1 - \\prod_j \\cos^2(\\theta_j/2)` has a barren plateau while the local
    cost :math:`1 - \\frac1n\\sum_j \\cos^2(\\theta_j/2)` does not, on the same circuit.
    """
    n = _check_count(n, "n", 1)
    circuit = Circuit(n).new_layer()
    for q in range(n):
        circuit.rx(q)
    return circuit


def random_pauli(n: int, layers: int, rng: np.random.Generator | int | None = None) -> Circuit:
    """McClean et al. 2018's random circuit (https://doi.org/10.1038/s41467-018-07090-4).

    A fixed :math:`R_Y(\\pi/4)` on every qubit, then per layer a rotation about a uniformly
    random axis (:math:`X`, :math:`Y` or :math:`Z`) on each qubit followed by a ladder of CZ
    gates between neighbours.
    """
    n = _check_count(n, "n", 1)
    layers = _check_count(layers, "layers", 0)
    rng = as_rng(rng)
    circuit = Circuit(n)
    angle = np.pi / 8  # RY(pi/4) = cos(pi/8) I - i sin(pi/8) Y
    ry_pi_4 = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    for q in range(n):
        circuit.gate(ry_pi_4, q, "RY(π/4)")
    for _ in range(layers):
        circuit.new_layer()
        for q, axis in enumerate(rng.integers(3, size=n)):
            getattr(circuit, _ROTATIONS[axis])(q)
        _ladder(circuit, range(n), "cz")
    return circuit


def hardware_efficient(n: int, layers: int, rotations: Iterable[str] = ("ry", "rz"),
                       entangler: str = "cz") -> Circuit:
    """Hardware-efficient ansatz: per layer each rotation in ``rotations`` on every qubit, then
    a nearest-neighbour ladder of ``entangler`` (``"cz"`` or ``"cnot"``) gates.

    Parameter order within a layer: first rotation on qubits ``0..n-1``, then the second, ...
    """
    n = _check_count(n, "n", 1)
    layers = _check_count(layers, "layers", 0)
    rotations = tuple(rotations)
    bad = [r for r in rotations if r not in _ROTATIONS]
    if not rotations or bad:
        raise ValueError(f"rotations must be a non-empty sequence of {_ROTATIONS}, got "
                         f"{rotations}")
    if entangler not in _ENTANGLERS:
        raise ValueError(f"entangler must be one of {_ENTANGLERS}, got {entangler!r}")
    circuit = Circuit(n)
    for _ in range(layers):
        circuit.new_layer()
        for rotation in rotations:
            for q in range(n):
                getattr(circuit, rotation)(q)
        _ladder(circuit, range(n), entangler)
    return circuit


def alternating_layered(n: int, layers: int, block_size: int = 2) -> Circuit:
    """Alternating layered ansatz of Cerezo et al. 2021 (their Fig. 4).

    Each layer tiles the qubits with blocks of ``block_size`` neighbours; odd layers shift the
    tiling by ``block_size // 2`` (a brick wall), so information spreads by a block per layer
    and the light cone of a local cost stays narrow for shallow circuits. Each block is an
    :math:`R_Y` on every one of its qubits followed by a CZ ladder inside the block. Qubits not
    covered by a whole block in a shifted layer stay idle.
    """
    n = _check_count(n, "n", 1)
    layers = _check_count(layers, "layers", 0)
    block_size = _check_count(block_size, "block_size", 2)
    if block_size > n:
        raise ValueError(f"block_size={block_size} is larger than the number of qubits n={n}")
    circuit = Circuit(n)
    for layer in range(layers):
        circuit.new_layer()
        offset = 0 if layer % 2 == 0 else block_size // 2
        for start in range(offset, n - block_size + 1, block_size):
            block = range(start, start + block_size)
            for q in block:
                circuit.ry(q)
            _ladder(circuit, block, "cz")
    return circuit


def qaoa(edges: Iterable[tuple[int, int]], n: int, p: int) -> Circuit:
    """QAOA for MaxCut on a graph (Farhi et al. 2014, https://arxiv.org/abs/1411.4028).

    :math:`H^{\\otimes n}`, then ``p`` rounds of
    :math:`\\prod_{(a,b)\\in E} R_{ZZ}^{(a,b)}(\\gamma_k)\\;\\prod_q R_X^{(q)}(\\beta_k)`,
    i.e. :math:`e^{-i\\gamma_k\\sum_E Z_aZ_b/2}\\,e^{-i\\beta_k\\sum_q X_q/2}`. All edges share
    :math:`\\gamma_k` and all qubits share :math:`\\beta_k`: parameters are
    ``[gamma_1, beta_1, gamma_2, beta_2, ...]`` and :meth:`Circuit.generators` returns the two
    sums :math:`\\sum_E Z_aZ_b` and :math:`\\sum_q X_q`.
    """
    n = _check_count(n, "n", 2)
    p = _check_count(p, "p", 0)
    edges = [tuple(edge) for edge in edges]
    if not edges:
        raise ValueError("qaoa needs at least one edge")
    for edge in edges:
        if len(edge) != 2:
            raise ValueError(f"each edge must be a pair of qubits, got {edge}")
    circuit = Circuit(n)
    for q in range(n):
        circuit.h(q)
    for _ in range(p):
        circuit.new_layer()
        gamma = circuit.n_params
        circuit.pauli_rotation("ZZ", edges[0])
        for edge in edges[1:]:
            circuit.pauli_rotation("ZZ", edge, param=gamma)
        beta = circuit.n_params
        circuit.rx(0)
        for q in range(1, n):
            circuit.rx(q, param=beta)
    return circuit


def data_reuploading(n: int, layers: int, n_features: int) -> Circuit:
    """Data re-uploading classifier (Pérez-Salinas et al. 2020,
    https://doi.org/10.22331/q-2020-02-06-226).

    Each layer encodes the input again, then trains: feature slots ``j = 0 .. max(n,
    n_features) - 1`` put :math:`x_{j \\bmod n_f}` on qubit :math:`j \\bmod n` as an
    :math:`R_X` (first pass over the qubits) or :math:`R_Z` (second pass, when there are more
    features than qubits); then :math:`R_Y` and :math:`R_Z` on every qubit and a CZ ladder.
    """
    n = _check_count(n, "n", 1)
    layers = _check_count(layers, "layers", 0)
    n_features = _check_count(n_features, "n_features", 1)
    circuit = Circuit(n)
    for _ in range(layers):
        circuit.new_layer()
        for slot in range(max(n, n_features)):
            axis = "X" if (slot // n) % 2 == 0 else "Z"
            circuit.encode(axis, slot % n, slot % n_features)
        for rotation in ("ry", "rz"):
            for q in range(n):
                getattr(circuit, rotation)(q)
        _ladder(circuit, range(n), "cz")
    return circuit
