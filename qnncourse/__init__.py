"""qnncourse: companion library of the course *Convergence of Quantum Neural Networks*.

``import qnncourse as qc`` gives the main names directly (``qc.Circuit``, ``qc.Cost``,
``qc.train`` ...) and every module by its concept (``qc.ansatz``, ``qc.observables``,
``qc.noise``, ``qc.lie``, ``qc.metric``, ``qc.plateaus`` ...). Conventions: a rotation is
:math:`R_P(\\theta) = e^{-i\\theta P/2}` for a Pauli string :math:`P`; qubit 0 is the leftmost
tensor factor (QuTiP's order); every function that samples takes ``rng``.
"""

from qnncourse import (
    ansatz,
    convergence,
    ensemble,
    gradients,
    initialization,
    interop,
    lie,
    metric,
    noise,
    observables,
    optim,
    paulis,
    plateaus,
    symbolic,
)
from qnncourse.circuit import Circuit, Operation
from qnncourse.cost import Cost, Loss
from qnncourse.initialization import identity_blocks
from qnncourse.noise import (
    AmplitudeDamping,
    Dephasing,
    Depolarizing,
    NoiseModel,
    ThermalRelaxation,
)
from qnncourse.observables import global_cost, local_cost, pauli_sum
from qnncourse.optim import (
    QNG,
    SPSA,
    Adam,
    GradientDescent,
    LayerwiseResult,
    TrainResult,
    train,
    train_layerwise,
)
from qnncourse.paulis import PauliString, PauliSum
from qnncourse.plateaus import noisy_gradient_decay

__all__ = [
    "QNG",
    "SPSA",
    "Adam",
    "AmplitudeDamping",
    "Circuit",
    "Cost",
    "Dephasing",
    "Depolarizing",
    "GradientDescent",
    "LayerwiseResult",
    "Loss",
    "NoiseModel",
    "Operation",
    "PauliString",
    "PauliSum",
    "ThermalRelaxation",
    "TrainResult",
    "ansatz",
    "convergence",
    "ensemble",
    "global_cost",
    "gradients",
    "identity_blocks",
    "initialization",
    "interop",
    "lie",
    "local_cost",
    "metric",
    "noise",
    "noisy_gradient_decay",
    "observables",
    "optim",
    "pauli_sum",
    "paulis",
    "plateaus",
    "symbolic",
    "train",
    "train_layerwise",
]

__version__ = "0.1.0"
