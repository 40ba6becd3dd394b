"""Optimizers and the training loop for parametrized circuits.

The package has three modules, one concept each:

* :mod:`qnncourse.optim.optimizers`: :class:`GradientDescent`, :class:`Adam`, :class:`SPSA`,
  :class:`QNG` (each ``step(cost, theta) -> (new_theta, info)``);
* :mod:`qnncourse.optim.training`: :func:`train` and its record :class:`TrainResult`;
* :mod:`qnncourse.optim.layerwise`: :func:`train_layerwise` (Skolik et al. 2021).

``qnncourse.optim.metric_circuits`` is a documented re-export of
:func:`qnncourse.metric.metric_circuits`, where metric accounting now lives.
"""

from qnncourse.metric import metric_circuits
from qnncourse.optim.layerwise import LayerwiseResult, train_layerwise
from qnncourse.optim.optimizers import QNG, SPSA, Adam, GradientDescent, Optimizer
from qnncourse.optim.training import BestPoint, TrainResult, train

__all__ = [
    "Optimizer",
    "GradientDescent",
    "Adam",
    "SPSA",
    "QNG",
    "TrainResult",
    "BestPoint",
    "train",
    "LayerwiseResult",
    "train_layerwise",
    "metric_circuits",
]
