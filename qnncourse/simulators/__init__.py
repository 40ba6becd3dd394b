"""Simulators: ``statevector`` (pure states, batched over parameter draws, adjoint gradients)."""
