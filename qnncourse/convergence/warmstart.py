r"""Gradients near a warm start: the variance of a derivative in a ball around a point.

Uniformly random angles put a deep circuit on a barren plateau (chapter 3). Starting near a
chosen point changes that: Zhang et al. [Zhang2022]_ prove that with Gaussian angles of
suitably small variance around the identity, the gradient norm decays at most polynomially in
the number of qubits and layers; Puig et al. [Puig2025]_ prove for warm starts
of iterative variational simulation that the loss variance is at worst polynomially small in a
region around the start whose width shrinks with the system size; Park and Killoran
[Park2023]_ give parameter conditions under which the Hamiltonian variational ansatz is close
to a local-Hamiltonian time evolution and has no barren plateau. All three are statements about
a *region*: the guarantee holds for :math:`\sigma` below a scale and is lost beyond it.

:func:`local_gradient_variance` measures that directly: for each radius :math:`\sigma`, it
draws :math:`\theta = \theta_0 + \sigma\xi`, :math:`\xi \sim N(0, I)`, and returns
:math:`\operatorname{Var}[\partial_k C(\theta)]` with a confidence interval (Bonett's, from
:func:`qnncourse.plateaus.variance_interval`). Large :math:`\sigma` recovers the uniform
(plateau) value.

References
----------
.. [Zhang2022] K. Zhang, L. Liu, M.-H. Hsieh and D. Tao, "Escaping from the barren plateau via
   Gaussian initializations in deep variational quantum circuits", NeurIPS 35 (2022),
   arXiv:2203.09376
.. [Puig2025] R. Puig, M. Drudis, S. Thanasilp and Z. Holmes, "Variational quantum simulation:
   a case study for understanding warm starts", PRX Quantum 6, 010317 (2025),
   doi:10.1103/PRXQuantum.6.010317
.. [Park2023] C.-Y. Park and N. Killoran, "Hamiltonian variational ansatz without barren
   plateaus", arXiv:2302.08529 (2023)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from qnncourse._validation import as_rng, check_count
from qnncourse.convergence._checks import check_plain_cost, check_thetas, shares_parameters
from qnncourse.plateaus import variance_interval

__all__ = ["LocalVariance", "local_gradient_variance"]


@dataclass(frozen=True, repr=False)
class LocalVariance:
    r"""Variance of :math:`\partial_k C` in Gaussian balls of radii ``radii`` around a point.

    Attributes
    ----------
    radii : numpy.ndarray, shape (R,)
    variance : numpy.ndarray, shape (R,)
    ci : numpy.ndarray, shape (R, 2)
        95 % intervals (Bonett).
    param : int
    """

    radii: np.ndarray
    variance: np.ndarray
    ci: np.ndarray
    param: int

    def __repr__(self) -> str:
        pairs = ", ".join(f"{r:g}: {v:.3g}" for r, v in zip(self.radii, self.variance, strict=True))
        return f"LocalVariance(d C/d theta_{self.param}; radius: Var = {pairs})"


def local_gradient_variance(cost: Any, centre: Any, radii: Any, n_samples: int,
                            param: int = 0, rng: Any = None) -> LocalVariance:
    r""":math:`\operatorname{Var}_{\xi\sim N(0,I)}[\partial_k C(\theta_0 + \sigma\xi)]` for each
    :math:`\sigma` in ``radii`` (module docstring).

    Parameters
    ----------
    cost : Cost
    centre : array_like, shape (p,)
        :math:`\theta_0`, e.g. zeros (the identity for circuits of rotations) or a previous
        solution.
    radii : array_like of float
        Standard deviations :math:`\sigma > 0`.
    n_samples : int
        Draws per radius (at least 10).
    param : int
        :math:`k`.
    rng : numpy.random.Generator or int, optional

    Examples
    --------
    One :math:`R_X` measured with :math:`Z`: :math:`\partial C = -\sin\theta`, and near
    :math:`\theta_0 = 0`, :math:`\operatorname{Var}[\sin(\sigma\xi)] \approx \sigma^2`:

    >>> from qnncourse.circuit import Circuit
    >>> from qnncourse.cost import Cost
    >>> res = local_gradient_variance(Cost(Circuit(1).rx(0), "Z"), [0.0], [0.01], 2000, rng=0)
    >>> bool(abs(res.variance[0] / 1e-4 - 1) < 0.1)
    True
    """
    check_plain_cost(cost, "local_gradient_variance")
    centre, batched = check_thetas(cost, centre, "centre")
    if batched:
        raise ValueError(f"centre must be one point, shape ({cost.n_params},), got shape "
                         f"{centre.shape}")
    radii = np.atleast_1d(np.asarray(radii, dtype=float))
    if radii.ndim != 1 or radii.size == 0 or not np.all(np.isfinite(radii) & (radii > 0)):
        raise ValueError(f"radii must be positive finite numbers, got {radii!r}")
    n_samples = check_count("n_samples", n_samples)
    if n_samples < 10:
        raise ValueError(f"n_samples must be at least 10, got {n_samples}")
    if isinstance(param, bool) or not isinstance(param, int | np.integer):
        raise TypeError(f"param must be an int, got {type(param).__name__}")
    if not 0 <= param < cost.n_params:
        raise ValueError(f"param {param} is out of range for a cost with {cost.n_params} "
                         "parameters")
    rng = as_rng(rng)
    noise = rng.standard_normal((n_samples, cost.n_params))
    thetas = (centre[None, None, :] + radii[:, None, None] * noise[None]).reshape(-1,
                                                                                cost.n_params)
    if shares_parameters(cost.circuit) or cost.noise is not None:
        grads = np.asarray(cost.gradient(thetas), dtype=float)[:, param]
    else:
        # One parameter per rotation: the exact two-term shift rule for this derivative
        # alone, two evaluations per draw instead of a full gradient.
        shift = np.zeros(cost.n_params)
        shift[param] = np.pi / 2
        values = np.asarray(cost(np.concatenate([thetas + shift, thetas - shift])), dtype=float)
        grads = (values[: len(thetas)] - values[len(thetas):]) / 2
    grads = grads.reshape(radii.size, n_samples)
    var = grads.var(axis=1, ddof=1)
    ci = np.array([variance_interval(g) for g in grads])
    return LocalVariance(radii, var, ci, int(param))
