"""One step of a :class:`~qnncourse.circuit.Circuit`: a rotation, a fixed gate or an encoding.

:class:`Operation` is immutable; a circuit is a list of them. Rotations are
:math:`R_P(\\theta) = e^{-i\\theta P/2}` about a Pauli word on the operation's qubits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qnncourse.paulis import PauliString

__all__ = ["Operation"]


@dataclass(frozen=True, eq=False)
class Operation:
    """One step of a :class:`Circuit`.

    Attributes
    ----------
    kind : {"rotation", "fixed", "encoding"}
        Trainable rotation, parameter-free gate, or rotation by a scaled input feature.
    qubits : tuple of int
        The qubits acted on, in the order of ``pauli`` / of the matrix's tensor factors.
    pauli : str or None
        The Pauli word on ``qubits`` (rotations and encodings), e.g. ``"ZZ"``.
    matrix : numpy.ndarray or None
        The ``(2**k, 2**k)`` unitary of a fixed gate on ``k`` qubits.
    param_index : int or None
        Which entry of ``theta`` drives a rotation (several rotations may share one).
    feature_index : int or None
        Which entry of ``x`` drives an encoding.
    scale : float
        Encoding angle is ``scale * x[feature_index]``.
    name : str
        Short display name (``"RX"``, ``"CZ"``, ...).
    layer : int or None
        Layer tag set by the ansatz builders (``None`` outside any layer), used by layerwise
        training to select the parameters of the first layers.
    """

    kind: str
    qubits: tuple[int, ...]
    pauli: str | None = None
    matrix: np.ndarray | None = None
    param_index: int | None = None
    feature_index: int | None = None
    scale: float = 1.0
    name: str = ""
    layer: int | None = None

    def generator(self, n_qubits: int) -> PauliString:
        """The full-width Pauli string :math:`P` of a rotation or encoding."""
        if self.pauli is None:
            raise ValueError(f"a {self.kind} operation ({self.name}) has no Pauli generator")
        return PauliString.embed(self.pauli, self.qubits, n_qubits)

    def rotation_matrix(self, angle: float) -> np.ndarray:
        """:math:`R_P(a) = \\cos\\tfrac a2\\,I - i\\sin\\tfrac a2\\,P` on the operation's qubits,
        ``(2**k, 2**k)``: a rotation or encoding frozen at ``angle``."""
        if self.pauli is None:
            raise ValueError(f"a {self.kind} operation ({self.name}) has no rotation angle")
        pauli = PauliString(self.pauli).to_matrix()
        return np.cos(angle / 2) * np.eye(len(pauli)) - 1j * np.sin(angle / 2) * pauli

    def __str__(self) -> str:
        where = ",".join(map(str, self.qubits))
        if self.kind == "rotation":
            return f"{self.name}(θ{self.param_index}) q{where}"
        if self.kind == "encoding":
            scale = "" if self.scale == 1 else f"{self.scale:g}·"
            return f"{self.name}({scale}x{self.feature_index}) q{where}"
        return f"{self.name} q{where}"
