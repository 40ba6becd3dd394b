"""Barren plateaus, measured and predicted.

The package has four modules, one concept each:

* :mod:`~qnncourse.plateaus.statistics`: gradient variances with honest intervals, scans across
  qubit counts, slope fits (:func:`gradient_variance`, :func:`variance_scan`,
  :func:`exponential_fit`, :func:`variance_interval`);
* :mod:`~qnncourse.plateaus.designs`: Haar sampling and frame potentials
  (:func:`haar_states`, :func:`frame_potential`, :func:`two_design_depth`);
* :mod:`~qnncourse.plateaus.lie_variance`: the variance a deep circuit must have, from its
  dynamical Lie algebra (:func:`lie_variance`, :func:`lie_variance_check`);
* :mod:`~qnncourse.plateaus.noise_induced`: how noise flattens gradients
  (:func:`noisy_gradient_decay`, :func:`wang_gradient_bound`).

Parameters are always drawn from :func:`qnncourse.ensemble.random_parameters` (re-exported
here), uniform on :math:`[0, 2\\pi)^p`. All analysis goes through
:class:`~qnncourse.circuit.Circuit` and :class:`~qnncourse.cost.Cost`.
"""

from qnncourse.ensemble import random_parameters
from qnncourse.plateaus.designs import (
    DesignScan,
    FramePotential,
    frame_potential,
    haar_frame_potential,
    haar_states,
    haar_unitaries,
    two_design_depth,
)
from qnncourse.plateaus.lie_variance import (
    LieComponent,
    LieVariance,
    LieVarianceCheck,
    lie_variance,
    lie_variance_check,
)
from qnncourse.plateaus.noise_induced import (
    NoisyGradientDecay,
    noisy_gradient_decay,
    pauli_noise_parameter,
    wang_gradient_bound,
)
from qnncourse.plateaus.statistics import (
    ExponentialFit,
    GradientVariance,
    VarianceScan,
    exponential_fit,
    gradient_variance,
    variance_interval,
    variance_scan,
)

# Grouped by concept; the submodule ``lie_variance`` shares its name with its main function,
# which is what ``plateaus.lie_variance`` means here (as before the split).
__all__ = [
    "GradientVariance", "gradient_variance", "variance_interval", "ExponentialFit",
    "exponential_fit", "VarianceScan", "variance_scan",
    "haar_states", "haar_unitaries", "FramePotential", "frame_potential",
    "haar_frame_potential", "DesignScan", "two_design_depth",
    "LieComponent", "LieVariance", "LieVarianceCheck", "lie_variance", "lie_variance_check",
    "NoisyGradientDecay", "noisy_gradient_decay", "pauli_noise_parameter",
    "wang_gradient_bound",
    "random_parameters",
]
