r"""Identity-block initialization (Grant et al. 2019).

A deep random circuit starts on a barren plateau. Grant et al. build the circuit from blocks
:math:`U_b = V(\phi_b)^\dagger V(\theta_b)` and draw only :math:`\theta_b` at random, setting
the mirror's parameters so that every block is the identity: the circuit starts at
:math:`U = I`, where gradients of a shallow circuit (not of a 2-design) are seen, and training
moves away from there.

Here a block is any :class:`~qnncourse.circuit.Circuit` :math:`V(\theta)`. Its mirror applies
the adjoints of :math:`V`'s operations in reverse order, each rotation
:math:`R_P(\theta_j)^\dagger = R_P(-\theta_j)` with a parameter of its own (so the mirror is
trainable), fixed gates :math:`G^\dagger`, encodings with the opposite scale. With
:math:`\phi = -\theta` the block is exactly the identity.

References
----------
.. [Grant2019] E. Grant, L. Wossnig, M. Ostaszewski and M. Benedetti, "An initialization
   strategy for addressing barren plateaus in parametrized quantum circuits", Quantum 3, 214
   (2019), https://doi.org/10.22331/q-2019-12-09-214
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from qnncourse._validation import as_rng, check_count
from qnncourse.circuit import Circuit
from qnncourse.ensemble import random_parameters

__all__ = ["IdentityBlocks", "identity_blocks"]


class IdentityBlocks(NamedTuple):
    """A circuit of identity blocks and the initial parameters that make it the identity."""

    circuit: Circuit
    theta0: np.ndarray


def _allocate(circuit: Circuit, mapping: dict[int, int], source: int) -> int | None:
    """Parameter of ``circuit`` standing for block parameter ``source``: new on first use."""
    if source in mapping:
        return mapping[source]
    mapping[source] = circuit.n_params
    return None  # pauli_rotation(param=None) adds exactly that new parameter


def identity_blocks(block: Circuit, n_blocks: int, rng: Any = None) -> IdentityBlocks:
    r"""Repeat ``block`` and its mirror ``n_blocks`` times, initialised to the identity.

    The returned circuit is :math:`\prod_b V(\phi_b)^\dagger V(\theta_b)` with layers tagged
    ``2b`` (:math:`V`) and ``2b + 1`` (the mirror); its parameters are, block by block,
    :math:`\theta_b` (in ``block``'s parameter order) and then :math:`\phi_b` (in order of
    first use in the mirror). ``theta0`` draws :math:`\theta_b \sim U[0, 2\pi)^p` and sets
    :math:`\phi_b = -\theta_b` [Grant2019]_.

    Parameters
    ----------
    block : Circuit
        :math:`V(\theta)`; shared parameters are allowed (the mirror shares them alike).
    n_blocks : int
        Positive.
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    IdentityBlocks
        ``(circuit, theta0)``.
    """
    if not isinstance(block, Circuit):
        raise TypeError(f"block must be a Circuit, got {type(block).__name__}")
    n_blocks = check_count("n_blocks", n_blocks)
    if block.n_params == 0:
        raise ValueError("block has no trainable parameters; identity blocks need some")
    rng = as_rng(rng)
    circuit = Circuit(block.n_qubits)
    theta0 = []
    for _ in range(n_blocks):
        forward: dict[int, int] = {}
        circuit.new_layer()
        for op in block.operations:
            param = _allocate(circuit, forward, op.param_index) if op.kind == "rotation" else None
            circuit.append(op, param=param)
        mirror: dict[int, int] = {}
        circuit.new_layer()
        for op in reversed(block.operations):
            param = _allocate(circuit, mirror, op.param_index) if op.kind == "rotation" else None
            circuit.append(op, param=param, adjoint=True)
        theta = random_parameters(block.n_params, 1, rng)[0]
        # forward[j] / mirror[j] are the circuit's parameters for block parameter j.
        values = np.empty(len(forward) + len(mirror))
        first = min(forward.values())
        for j, index in forward.items():
            values[index - first] = theta[j]
        for j, index in mirror.items():
            values[index - first] = -theta[j]
        theta0.append(values)
    return IdentityBlocks(circuit, np.concatenate(theta0))
