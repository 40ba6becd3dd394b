"""Simulators: ``statevector`` (pure states, batched over parameter draws, adjoint gradients),
``density`` (density matrices and channels), ``lie`` (g-sim in the Pauli basis of a small
invariant space, for ``Cost(..., simulator="lie")``) and ``pauli`` (Pauli propagation, exact
or truncated, for ``Cost(..., simulator="pauli")`` or ``simulator=PauliPropagation(...)``);
``heisenberg`` holds what the last two read from their inputs."""

from qnncourse.simulators.pauli import PauliPropagation

__all__ = ["PauliPropagation"]
