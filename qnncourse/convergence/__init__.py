r"""Convergence theory of gradient descent on circuit costs, one module per concept.

* :mod:`~qnncourse.convergence.rates`: the convex :math:`O(1/T)` rate near a minimum, the
  Hessian by shifted gradients, sampled Lipschitz estimates (chapter 4);
* :mod:`~qnncourse.convergence.smoothness`: the smoothness constant :math:`L` derived from the
  circuit and the observable, and the Hessian sampled over :math:`\theta`;
* :mod:`~qnncourse.convergence.stationarity`: the nonconvex guarantee
  :math:`\min_t\|\nabla C\|^2 \le 2(C(\theta_0) - C^*)/(\eta T)`;
* :mod:`~qnncourse.convergence.descent`: gradient descent (and shot-based SGD) from many
  starts at once;
* :mod:`~qnncourse.convergence.shots`: shot variance of parameter-shift gradients and the
  noise floor of constant-step SGD;
* :mod:`~qnncourse.convergence.kernel`: the quantum neural tangent kernel and the relative
  rate :math:`\lambda = K/(C - C^*)`;
* :mod:`~qnncourse.convergence.traps`: the ansatz's own minimum and a census of the local
  minima (traps) that descent finds from random starts;
* :mod:`~qnncourse.convergence.overparam`: the threshold :math:`M_c` from QFI ranks at many
  points;
* :mod:`~qnncourse.convergence.warmstart`: gradient variance in a ball around a warm start;
* :mod:`~qnncourse.convergence.estimates`: rates and success probabilities with intervals.

Every name is re-exported here, so ``qc.convergence.X`` works for all of them.
"""

from qnncourse.convergence import (
    descent,
    estimates,
    kernel,
    overparam,
    rates,
    shots,
    smoothness,
    stationarity,
    traps,
    warmstart,
)
from qnncourse.convergence.descent import BatchDescent, batch_descent
from qnncourse.convergence.estimates import (
    LogLinearFit,
    log_linear_fit,
    mean_interval,
    wilson_interval,
)
from qnncourse.convergence.kernel import (
    KernelForecast,
    KernelTrace,
    kernel_forecast,
    kernel_trace,
    qntk,
    relative_rate,
)
from qnncourse.convergence.overparam import RankProfile, rank_profile
from qnncourse.convergence.rates import (
    LipschitzEstimate,
    RateCheck,
    convex_rate_check,
    hessian,
    lipschitz_estimate,
)
from qnncourse.convergence.shots import noise_floor, shift_gradient_variance
from qnncourse.convergence.smoothness import (
    SampledCurvature,
    SmoothnessBound,
    maximised_curvature,
    pauli_coefficients,
    sampled_curvature,
    smoothness_constant,
)
from qnncourse.convergence.stationarity import (
    StationarityCheck,
    stationarity_bound,
    stationarity_check,
)
from qnncourse.convergence.traps import (
    AnsatzMinimum,
    MinimaCensus,
    ansatz_minimum,
    distinct_values,
    minima_census,
    polish,
)
from qnncourse.convergence.warmstart import LocalVariance, local_gradient_variance

__all__ = [
    "KernelForecast",
    "kernel_forecast",
    "RankProfile",
    "rank_profile",
    "overparam",
    "maximised_curvature",
    "LocalVariance",
    "local_gradient_variance",
    "warmstart",
    "AnsatzMinimum",
    "ansatz_minimum",
    "polish",
    "BatchDescent",
    "KernelTrace",
    "LipschitzEstimate",
    "LogLinearFit",
    "MinimaCensus",
    "RateCheck",
    "SampledCurvature",
    "SmoothnessBound",
    "StationarityCheck",
    "batch_descent",
    "convex_rate_check",
    "descent",
    "distinct_values",
    "estimates",
    "hessian",
    "kernel",
    "kernel_trace",
    "lipschitz_estimate",
    "log_linear_fit",
    "mean_interval",
    "minima_census",
    "noise_floor",
    "pauli_coefficients",
    "qntk",
    "rates",
    "relative_rate",
    "sampled_curvature",
    "shift_gradient_variance",
    "shots",
    "smoothness",
    "smoothness_constant",
    "stationarity",
    "stationarity_bound",
    "stationarity_check",
    "traps",
    "wilson_interval",
]
