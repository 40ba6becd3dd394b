r"""Layerwise learning: grow the circuit one layer at a time, then train all parameters.

References
----------
.. [Skolik2021] A. Skolik, J. R. McClean, M. Mohseni, P. van der Smagt and M. Leib,
   "Layerwise learning for quantum neural networks", Quantum Mach. Intell. 3, 5 (2021),
   doi:10.1007/s42484-020-00036-4
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from qnncourse._validation import check_cost, check_count, check_theta
from qnncourse.optim.optimizers import Optimizer
from qnncourse.optim.training import train

__all__ = ["LayerwiseResult", "train_layerwise"]


@dataclass(frozen=True, repr=False)
class LayerwiseResult:
    """The record of :func:`train_layerwise`: one :class:`TrainResult` per phase.

    Attributes
    ----------
    phases : list of TrainResult
        The layer phases, then the joint phase. A layer phase's costs are those of the circuit
        truncated after that layer (later layers absent), as in [Skolik2021]_.
    trained : list of numpy.ndarray
        For each phase, the indices (into the full ``theta``) of the parameters it trained.
    final_theta : numpy.ndarray
        Parameters of the full circuit at the end.
    """

    phases: list
    trained: list
    final_theta: np.ndarray

    @property
    def final_cost(self) -> float:
        return self.phases[-1].final_cost

    @property
    def evaluations(self) -> np.ndarray:
        """Cumulative circuit executions over all phases, one entry per record."""
        totals, offset = [], 0
        for phase in self.phases:
            totals.append(phase.evaluations + offset)
            offset += int(phase.evaluations[-1])
        return np.concatenate(totals)

    @property
    def costs(self) -> np.ndarray:
        """All phases' recorded costs, concatenated (see the caveat on layer phases)."""
        return np.concatenate([phase.costs for phase in self.phases])

    def __repr__(self) -> str:
        return (
            f"LayerwiseResult({len(self.phases) - 1} layer phases + joint phase, final cost "
            f"{self.final_cost:.6g}, {int(self.evaluations[-1])} circuit evaluations)"
        )


def train_layerwise(
    cost: Any,
    theta0: Any,
    optimizer: Optimizer,
    steps_per_layer: int,
    joint_steps: int,
    *,
    progress: bool = True,
    tol: float | None = None,
    target: float | None = None,
    monitor_every: int | None = None,
) -> LayerwiseResult:
    r"""Layerwise learning [Skolik2021]_: grow the circuit one layer at a time, then train all.

    Layers are the ``layer`` tags of ``cost.circuit``'s operations (set by the ansatz builders;
    untagged operations count as a layer ``-1`` before the others). Phase :math:`\ell` trains
    the circuit truncated after layer :math:`\ell` through ``cost.with_circuit``, with the
    rotations of earlier layers frozen into fixed gates at their trained angles, so the cost's
    counter charges only gradients of the parameters being trained. The joint phase then
    trains every parameter of the full circuit.

    Parameters
    ----------
    cost : Cost
        The full circuit's cost; must provide ``circuit`` and ``with_circuit``.
    theta0 : array_like, shape (p,)
        Initial parameters of the full circuit (Skolik et al. start new layers at zero).
    optimizer : Optimizer
        Reset at the start of every phase.
    steps_per_layer, joint_steps : int
        Steps of each layer phase and of the joint phase.
    progress, tol, monitor_every
        As in :func:`train`, for every phase.
    target : float, optional
        As in :func:`train`, for the joint phase only (the layer phases see another cost).
    """
    check_cost(cost)
    if not hasattr(cost, "circuit") or not hasattr(cost, "with_circuit"):
        raise TypeError(
            f"train_layerwise needs a cost with circuit and with_circuit, got {type(cost).__name__}"
        )
    theta = check_theta(cost, theta0, "theta0")
    steps_per_layer = check_count("steps_per_layer", steps_per_layer, allow_zero=True)
    joint_steps = check_count("joint_steps", joint_steps, allow_zero=True)
    keys = cost.circuit.param_layers
    options = {"progress": progress, "tol": tol, "monitor_every": monitor_every}
    phases, trained = [], []
    for layer in np.unique(keys):
        circuit, params = cost.circuit.truncated(int(layer), theta)
        result = train(cost.with_circuit(circuit), theta[params], optimizer, steps_per_layer,
                       **options)
        theta[params] = result.final_theta
        phases.append(result)
        trained.append(params)
    result = train(cost, theta, optimizer, joint_steps, target=target, **options)
    phases.append(result)
    trained.append(np.arange(cost.n_params))
    return LayerwiseResult(phases, trained, result.final_theta.copy())
