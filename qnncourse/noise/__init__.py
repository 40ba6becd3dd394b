r"""Noise channels and noise models, built with QuTiP.

* :mod:`qnncourse.noise.channels`: :class:`Depolarizing`, :class:`Dephasing`,
  :class:`AmplitudeDamping`, :class:`ThermalRelaxation` (all :class:`Channel`);
* :mod:`qnncourse.noise.model`: :class:`NoiseModel` (which channel after which gates, readout
  error) and :func:`as_noise_model`.

The noise-induced barren plateau analysis lives in :mod:`qnncourse.plateaus.noise_induced`;
``noise.noisy_gradient_decay``, ``noise.wang_gradient_bound`` and ``noise.NoisyGradientDecay``
remain available here as documented re-exports.
"""

from qnncourse.noise.channels import (
    AmplitudeDamping,
    Channel,
    Dephasing,
    Depolarizing,
    ThermalRelaxation,
)
from qnncourse.noise.model import NoiseModel, as_noise_model

__all__ = [
    "AmplitudeDamping",
    "Channel",
    "Dephasing",
    "Depolarizing",
    "NoiseModel",
    "NoisyGradientDecay",
    "ThermalRelaxation",
    "as_noise_model",
    "noisy_gradient_decay",
    "wang_gradient_bound",
]

_MOVED = {"NoisyGradientDecay", "noisy_gradient_decay", "wang_gradient_bound"}


def __getattr__(name: str):
    # The analysis builds Costs, and cost imports this package: importing it at the top would
    # be a cycle (noise -> plateaus.noise_induced -> cost -> noise), so it is loaded on first use.
    if name in _MOVED:
        from qnncourse.plateaus import noise_induced

        return getattr(noise_induced, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
