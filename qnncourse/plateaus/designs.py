r"""Haar-random states and unitaries, frame potentials, and the depth at which a circuit
family's output states look like a 2-design.

A Haar-random state of dimension :math:`d` is a normalised vector of :math:`d` independent
standard complex Gaussians: the Gaussian's density depends only on the norm, so its direction
is unitarily invariant. Drawing it costs :math:`O(d)` memory and time, against
:math:`O(d^2)` (memory) and :math:`O(d^3)` (time) for the first column of a Haar unitary.

References
----------
.. [McClean2018] J. R. McClean, S. Boixo, V. N. Smelyanskiy, R. Babbush and H. Neven, "Barren
   plateaus in quantum neural network training landscapes", Nat. Commun. 9, 4812 (2018),
   doi:10.1038/s41467-018-07090-4
.. [Gross2007] D. Gross, K. Audenaert and J. Eisert, "Evenly distributed unitaries: on the
   structure of unitary designs", J. Math. Phys. 48, 052104 (2007), doi:10.1063/1.2716992
.. [Mezzadri2007] F. Mezzadri, "How to generate random matrices from the classical compact
   groups", Notices Amer. Math. Soc. 54, 592 (2007), arXiv:math-ph/0609050
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import qutip

from qnncourse._validation import as_rng, check_count, check_memory
from qnncourse.circuit import Circuit
from qnncourse.ensemble import random_parameters

__all__ = [
    "haar_states",
    "haar_unitaries",
    "FramePotential",
    "frame_potential",
    "haar_frame_potential",
    "DesignScan",
    "two_design_depth",
]


def haar_states(n_qubits: int, n_samples: int, rng: Any = None) -> np.ndarray:
    r"""Haar-random pure states of ``n_qubits`` qubits, in :math:`O(2^n)` each.

    .. math:: |\psi\rangle = z/\|z\|, \qquad z_k = a_k + i b_k,\ a_k, b_k \sim N(0, 1)

    The only array allocated is the output (``16 * 2**n * n_samples`` bytes, checked first):
    the Gaussians are written straight into it.

    Returns
    -------
    numpy.ndarray, shape (n_samples, 2**n_qubits), complex

    Examples
    --------
    >>> psi = haar_states(3, 4, rng=0)
    >>> psi.shape, np.allclose(np.linalg.norm(psi, axis=1), 1)
    ((4, 8), True)
    """
    n_qubits = check_count("n_qubits", n_qubits)
    n_samples = check_count("n_samples", n_samples)
    d = 2 ** n_qubits
    check_memory(16 * d * n_samples, f"{n_samples} Haar states of {n_qubits} qubits "
                 f"({n_samples} x {d} complex)")
    rng = as_rng(rng)
    out = np.empty((n_samples, d), dtype=complex)
    # Real and imaginary parts interleaved in memory: one call fills both, no temporary.
    rng.standard_normal(out=out.view(np.float64))
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def haar_unitaries(n_qubits: int, n_samples: int, rng: Any = None) -> np.ndarray:
    """Haar-random unitaries on ``n_qubits`` qubits, drawn with ``qutip.rand_unitary``
    (QR of a complex Gaussian matrix with the phases fixed [Mezzadri2007]_).

    Returns
    -------
    numpy.ndarray, shape (n_samples, 2**n_qubits, 2**n_qubits), complex
    """
    n_qubits = check_count("n_qubits", n_qubits)
    n_samples = check_count("n_samples", n_samples)
    d = 2 ** n_qubits
    # The output, plus QuTiP's Gaussian matrix, its QR factors and the Qobj copy of one draw.
    check_memory(16 * d * d * (n_samples + 4),
                 f"{n_samples} Haar unitaries of {n_qubits} qubits ({d} x {d} complex each)")
    rng = as_rng(rng)
    return np.array(
        [qutip.rand_unitary(d, distribution="haar", seed=rng).full() for _ in range(n_samples)]
    )


def haar_frame_potential(dim: int, t: int = 2) -> float:
    r"""Frame potential of Haar-random states, :math:`F^{(t)}_\mathrm{Haar} = 1/\binom{d+t-1}{t}`.

    For :math:`t = 2`: :math:`2/(d(d+1))`. Any ensemble has :math:`F^{(t)} \ge
    F^{(t)}_\mathrm{Haar}`, with equality exactly for state :math:`t`-designs [Gross2007]_.
    """
    dim = check_count("dim", dim)
    t = check_count("t", t)
    return 1.0 / math.comb(dim + t - 1, t)


@dataclass(frozen=True, repr=False)
class FramePotential:
    r"""Estimated frame potential :math:`F^{(t)} = \mathbb{E}|\langle\psi|\phi\rangle|^{2t}`.

    Attributes
    ----------
    value : float
        U-statistic over all pairs of distinct states (unbiased).
    stderr : float
        Standard error from the Hoeffding decomposition of the U-statistic's variance.
    haar : float
        The Haar value :math:`1/\binom{d+t-1}{t}`.
    t : int
    """

    value: float
    stderr: float
    haar: float
    t: int

    @property
    def ratio(self) -> float:
        """``value / haar``: 1 for a state t-design, larger otherwise."""
        return self.value / self.haar

    def __repr__(self) -> str:
        return (
            f"FramePotential(t={self.t}: {self.value:.4g} ± {self.stderr:.2g}, "
            f"Haar {self.haar:.4g}, ratio {self.ratio:.3f})"
        )


def frame_potential(states: Any, t: int = 2) -> FramePotential:
    r"""Frame potential of an ensemble of pure states, from samples.

    .. math::
        \hat F^{(t)} = \binom{S}{2}^{-1} \sum_{i<j} |\langle\psi_i|\psi_j\rangle|^{2t}

    Parameters
    ----------
    states : array_like, shape (S, d)
        At least 3 normalised state vectors (rows).
    t : int
    """
    psi = np.asarray(states)
    if psi.ndim != 2 or psi.shape[0] < 3:
        raise ValueError(f"states must have shape (S, d) with S >= 3, got shape {psi.shape}")
    t = check_count("t", t)
    norms = np.linalg.norm(psi, axis=1)
    if not np.allclose(norms, 1.0, atol=1e-8):
        raise ValueError(f"states must be normalised; norms range from {norms.min()} to "
                         f"{norms.max()}")
    S = psi.shape[0]
    check_memory(8 * S * S, f"the {S} x {S} overlap matrix")
    overlaps = np.abs(psi.conj() @ psi.T) ** (2 * t)
    pairs = overlaps[np.triu_indices(S, k=1)]
    value = pairs.mean()
    np.fill_diagonal(overlaps, 0.0)
    rows = overlaps.sum(axis=1) / (S - 1)
    # Hoeffding: Var(U) = [4 (S-2) z1 + 2 z2] / (S (S-1)) with z2 = Var h(a, b) and
    # z1 = Cov(h(a, b), h(a, c)); Var(row mean) = z1 + (z2 - z1)/(S - 1) gives z1. Near a design
    # z1 -> 0 (the ensemble is unitarily invariant) and a jackknife would overstate the error.
    z2 = pairs.var(ddof=1)
    z1 = max((rows.var(ddof=1) - z2 / (S - 1)) * (S - 1) / (S - 2), 0.0)
    stderr = math.sqrt((4 * (S - 2) * z1 + 2 * z2) / (S * (S - 1)))
    return FramePotential(float(value), stderr, haar_frame_potential(psi.shape[1], t), t)


@dataclass(frozen=True, repr=False)
class DesignScan:
    """Frame potentials of a circuit family's output states across depths.

    Attributes
    ----------
    depths : numpy.ndarray
    potentials : list of FramePotential
    """

    depths: np.ndarray
    potentials: list

    def design_depth(self, rel_tol: float = 0.05) -> int | None:
        """First depth whose frame potential is within ``rel_tol`` of the Haar value."""
        for depth, fp in zip(self.depths, self.potentials, strict=True):
            if fp.value <= (1 + rel_tol) * fp.haar:
                return int(depth)
        return None

    def __repr__(self) -> str:
        lines = [f"{'depth':>5}  {'F2':>10}  {'stderr':>8}  {'F2/Haar':>8}"]
        for depth, fp in zip(self.depths, self.potentials, strict=True):
            lines.append(f"{depth:>5}  {fp.value:>10.4g}  {fp.stderr:>8.2g}  {fp.ratio:>8.3f}")
        return "\n".join(lines)


def two_design_depth(
    circuit_factory: Callable[[int], Any],
    depths: Sequence[int],
    n_samples: int,
    rng: Any = None,
    *,
    t: int = 2,
) -> DesignScan:
    r"""Frame potential of :math:`U(\theta)|0\rangle`, :math:`\theta \sim U[0,2\pi)^p`, per depth.

    This is the *state* design check: the output states form a state :math:`t`-design exactly
    when :math:`F^{(t)}` equals :math:`F^{(t)}_\mathrm{Haar}` (:func:`haar_frame_potential`);
    the depth where the ratio reaches about 1 is where the circuit family becomes
    2-design-like and, by [McClean2018]_, has a barren plateau.

    Parameters
    ----------
    circuit_factory : callable
        ``circuit_factory(depth) -> Circuit``.
    depths : sequence of int
    n_samples : int
        States per depth (at least 3; a few hundred for a tight estimate).
    rng : numpy.random.Generator or int, optional
    t : int
    """
    depth_list = [check_count("depths entry", d, allow_zero=True) for d in depths]
    if not depth_list:
        raise ValueError("depths must not be empty")
    n_samples = check_count("n_samples", n_samples)
    if n_samples < 3:
        raise ValueError(f"n_samples must be at least 3, got {n_samples}")
    rng = as_rng(rng)
    potentials = []
    for depth in depth_list:
        circuit = circuit_factory(depth)
        if not isinstance(circuit, Circuit):
            raise TypeError(f"circuit_factory({depth}) must return a Circuit, got "
                            f"{type(circuit).__name__}")
        thetas = random_parameters(circuit.n_params, n_samples, rng)
        states = circuit.states(thetas)
        potentials.append(frame_potential(states, t))
    return DesignScan(np.array(depth_list), potentials)
