r"""The overparameterization threshold :math:`M_c` from QFI ranks at many points.

Larocca et al. [Larocca2023]_ call a circuit overparameterized once the rank of its quantum
Fisher information (QFI) has reached its largest value :math:`R_\infty` over all depths; the
number of parameters where that first happens is :math:`M_c`. Measured at *one* random point
with a fixed relative cut (say :math:`10^{-8}`), the rank is fragile: near the threshold a
genuine eigenvalue can be smaller than the cut, and one unlucky point can lower the rank.
:func:`rank_profile` therefore

* computes the QFI spectrum at ``n_points`` random points per depth;
* pools all relative eigenvalues :math:`\lambda_k/\lambda_1` and puts the cut in the middle
  (geometrically) of the widest empty gap of their logarithms, above the rounding floor: the
  separation between "zero" and "non-zero" is read off the data, not fixed in advance;
* reports, per depth, the rank at each point, and :math:`M_c` as the fewest parameters at
  which the *typical* rank (the median over the points) reaches :math:`R_\infty`.

References
----------
.. [Larocca2023] M. Larocca, N. Ju, D. García-Martín, P. J. Coles and M. Cerezo, "Theory of
   overparametrization in quantum neural networks", Nat. Comput. Sci. 3, 542 (2023),
   doi:10.1038/s43588-023-00467-6
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qnncourse._validation import as_rng, check_count
from qnncourse.metric import metric_tensor

__all__ = ["RankProfile", "rank_profile"]

# Relative eigenvalues below this are rounding noise of a double-precision eigensolver.
_FLOOR = 1e-13


@dataclass(frozen=True, repr=False)
class RankProfile:
    r"""QFI ranks at many points for a sequence of circuits (:func:`rank_profile`).

    Attributes
    ----------
    n_params : numpy.ndarray, shape (D,)
        Parameters of each circuit.
    ranks : numpy.ndarray, shape (D, n_points)
        Rank at each point: relative eigenvalues above ``cut``.
    spectra : list of numpy.ndarray
        Relative eigenvalues :math:`\lambda_k/\lambda_1`, shape ``(n_points, p)`` per circuit,
        decreasing.
    cut : float
        The relative threshold, in the widest gap of the pooled log-spectrum.
    gap : tuple of float
        The two relative eigenvalues that bound that gap.
    """

    n_params: np.ndarray
    ranks: np.ndarray
    spectra: list
    cut: float
    gap: tuple[float, float]

    @property
    def typical(self) -> np.ndarray:
        """Median rank over the points, per circuit."""
        return np.median(self.ranks, axis=1)

    @property
    def r_inf(self) -> int:
        r""":math:`R_\infty`, the largest typical rank."""
        return int(self.typical.max())

    @property
    def critical(self) -> int:
        """:math:`M_c`: fewest parameters whose typical rank is :math:`R_\\infty`."""
        return int(self.n_params[int(np.argmax(self.typical >= self.r_inf))])

    def share_at(self, rank: int) -> np.ndarray:
        """Fraction of the points whose rank equals ``rank``, per circuit."""
        return np.mean(self.ranks == rank, axis=1)

    def __repr__(self) -> str:
        return (f"RankProfile({len(self.n_params)} circuits, {self.ranks.shape[1]} points each:"
                f" R_inf = {self.r_inf}, M_c = {self.critical}, cut {self.cut:.1e} in the gap "
                f"[{self.gap[0]:.1e}, {self.gap[1]:.1e}])")


def rank_profile(circuits: Sequence[Any], n_points: int, rng: Any = None) -> RankProfile:
    r"""QFI ranks of each circuit at ``n_points`` uniform random points (module docstring).

    Parameters
    ----------
    circuits : sequence of Circuit or Cost
        Typically one ansatz at increasing depth.
    n_points : int
        Points per circuit, drawn uniformly from :math:`[0, 2\pi)^p`.
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    RankProfile

    Examples
    --------
    Two :math:`R_X` on one qubit add nothing to one: the rank stays 1, and :math:`M_c = 1`.

    >>> from qnncourse.circuit import Circuit
    >>> profile = rank_profile([Circuit(1).rx(0), Circuit(1).rx(0).rx(0)], 5, rng=0)
    >>> profile.ranks.tolist(), profile.critical
    ([[1, 1, 1, 1, 1], [1, 1, 1, 1, 1]], 1)
    """
    circuits = list(circuits)
    if not circuits:
        raise ValueError("circuits must hold at least one circuit")
    n_points = check_count("n_points", n_points)
    rng = as_rng(rng)
    spectra, n_params = [], []
    for circuit in circuits:
        p = circuit.n_params
        if p < 1:
            raise ValueError(f"every circuit needs parameters, got one with {p}")
        rows = []
        for theta in rng.uniform(0, 2 * np.pi, (n_points, p)):
            eig = np.linalg.eigvalsh(metric_tensor(circuit, theta))[::-1]
            rows.append(np.maximum(eig / eig[0], _FLOOR) if eig[0] > 0 else np.full(p, _FLOOR))
        spectra.append(np.array(rows))
        n_params.append(p)
    logs = np.unique(np.log10(np.concatenate([s.ravel() for s in spectra])))
    if logs.size < 2:  # every eigenvalue equal: no gap to find, all are non-zero
        lo, hi = _FLOOR, 1.0
    else:
        k = int(np.argmax(np.diff(logs)))
        lo, hi = 10 ** logs[k], 10 ** logs[k + 1]
    cut = float(np.sqrt(lo * hi))
    ranks = np.array([np.sum(s > cut, axis=1) for s in spectra])
    return RankProfile(np.array(n_params), ranks, spectra, cut, (float(lo), float(hi)))
