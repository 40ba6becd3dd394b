"""Simulators: ``statevector`` (pure states, batched over parameter draws, adjoint gradients),
``density`` (density matrices and channels) and ``lie`` (g-sim in the Pauli basis of a small
invariant space, for ``Cost(..., simulator="lie")``)."""
