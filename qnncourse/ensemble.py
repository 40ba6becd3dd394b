r"""The course's parameter ensemble: :math:`\theta \sim U[0, 2\pi)^p`.

Every random parameter draw of the library (plateau statistics, design checks, noise-induced
decay, identity-block initialization, the explorers) comes from :func:`random_parameters`, so
the ensemble is defined in one place. It is the ensemble of McClean et al. (2018): for
rotations :math:`e^{-i\theta P/2}`, uniform angles on :math:`[0, 2\pi)` make each rotation an
equal mixture of :math:`\pm P` branches, which is what the barren-plateau averages assume.

References
----------
J. R. McClean, S. Boixo, V. N. Smelyanskiy, R. Babbush and H. Neven, "Barren plateaus in
quantum neural network training landscapes", Nat. Commun. 9, 4812 (2018),
doi:10.1038/s41467-018-07090-4
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qnncourse._validation import as_rng, check_count, check_memory

__all__ = ["THETA_HIGH", "THETA_LOW", "random_parameters"]

THETA_LOW = 0.0
THETA_HIGH = 2 * np.pi


def random_parameters(n_params: int, n_samples: int, rng: Any = None) -> np.ndarray:
    r"""Draw ``n_samples`` parameter vectors uniformly from :math:`[0, 2\pi)^{p}`.

    .. math:: \theta_{s,j} \sim U[0, 2\pi) \quad \text{independently}.

    Parameters
    ----------
    n_params : int
        :math:`p` (may be 0).
    n_samples : int
        Number of draws (positive).
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    numpy.ndarray, shape (n_samples, n_params)

    Examples
    --------
    >>> theta = random_parameters(3, 1000, rng=0)
    >>> theta.shape, bool(theta.min() >= 0 and theta.max() < 2 * np.pi)
    ((1000, 3), True)
    """
    n_params = check_count("n_params", n_params, allow_zero=True)
    n_samples = check_count("n_samples", n_samples)
    check_memory(8 * n_params * n_samples, f"{n_samples} x {n_params} parameter draws")
    return as_rng(rng).uniform(THETA_LOW, THETA_HIGH, size=(n_samples, n_params))
