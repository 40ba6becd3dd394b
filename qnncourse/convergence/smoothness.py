r"""The smoothness constant :math:`L` of a circuit cost, derived and sampled.

A cost is :math:`L`-smooth when :math:`\|\nabla C(a) - \nabla C(b)\| \le L\|a - b\|`, i.e.
:math:`\|\nabla^2 C(\theta)\|_2 \le L` everywhere. Every guarantee of gradient descent starts
from :math:`L`: the step :math:`\eta \le 1/L`, the descent lemma, the stationarity rate.

Derivation
----------
Write the circuit as gates :math:`R_k(a_k) = e^{-i a_k P_k/2}` (Pauli strings :math:`P_k`,
:math:`\|P_k\| = 1`) and fixed gates, with :math:`a_k = \theta_{j(k)}` (a parameter may drive
several commuting rotations, :math:`m_j` of them). Moving every generator to the input frame,
:math:`\hat P_k = V_k^\dagger P_k V_k` with :math:`V_k` the part of the circuit up to and
including gate :math:`k`, and :math:`O_H = U^\dagger O U`,

.. math::
    \frac{\partial C}{\partial a_k} = \frac{i}{2}\langle[\hat P_k, O_H]\rangle, \qquad
    \frac{\partial^2 C}{\partial a_k \partial a_l} =
    -\frac14\big\langle\big[\hat P_k, [\hat P_l, O_H]\big]\big\rangle \quad (k \le l).

(On hardware these entries are measured by the second-order shift rules of [Mari2021b]_.)

:math:`O` may be shifted by a multiple of the identity without changing a derivative, so with
the half-width :math:`g = (\lambda_{\max}(O) - \lambda_{\min}(O))/2` and two commutators of
norm at most :math:`2\|\cdot\|` each, :math:`|\partial_{a_k}\partial_{a_l} C| \le g`. Summing
over the rotations of each parameter, :math:`|H_{ij}| \le g\,m_i m_j`.

A non-negative matrix :math:`B` with :math:`|H_{ij}| \le B_{ij}` bounds the spectral norm,
:math:`\|H\|_2 = \max_{\|v\|=1}|v^\top H v| \le |v|^\top B |v| \le \|B\|_2`. Three choices:

* ``naive``: :math:`B = \|O\|\,m m^\top`, so :math:`L = \|O\| \sum_j m_j^2`
  (:math:`= p\,\|O\|` when no parameter is shared) [Sweke2020]_;
* ``halfwidth``: :math:`B = g\,m m^\top`, :math:`L = g \sum_j m_j^2`;
* ``lightcone``: expand :math:`O = c_0 I + \sum_a c_a Q_a` in Pauli strings. A rotation
  outside the backward light cone of :math:`Q_a` (the qubits that can influence its
  support) commutes with the evolved :math:`Q_a`, so it contributes nothing; with
  :math:`m_{aj}` the rotations of parameter :math:`j` inside that cone,
  :math:`B = \sum_a |c_a|\, m_a m_a^\top`.

The returned :attr:`SmoothnessBound.value` is :math:`\|\min(B_\mathrm{halfwidth},
B_\mathrm{lightcone})\|_2` (entrywise minimum: both are entrywise bounds), never larger than
either. For :math:`n` independent :math:`R_X` rotations and the local cost it is exactly
:math:`1/(2n)`, the true :math:`L`.

With noise the half-width bound still holds (the adjoint of a channel is unital and positive,
so it keeps :math:`O`'s spectrum inside :math:`[\lambda_{\min}, \lambda_{\max}]`), and so does
the light-cone bound for channels on the qubits of a gate; the light cone is computed from the
noiseless observable, so readout error (which changes the measured observable) is rejected.

References
----------
.. [Sweke2020] R. Sweke, F. Wilde, J. Meyer, M. Schuld, P. K. Faehrmann, B. Meynard-Piganeau
   and J. Eisert, "Stochastic gradient descent for hybrid quantum-classical optimization",
   Quantum 4, 314 (2020), doi:10.22331/q-2020-08-31-314
.. [Mari2021b] A. Mari, T. R. Bromley and N. Killoran, "Estimating the gradient and
   higher-order derivatives on quantum hardware", Phys. Rev. A 103, 012405 (2021),
   doi:10.1103/PhysRevA.103.012405
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from qnncourse._validation import as_rng, check_count, check_memory
from qnncourse.convergence._checks import check_plain_cost, hessian_shift
from qnncourse.convergence.rates import hessian

__all__ = [
    "SmoothnessBound",
    "smoothness_constant",
    "pauli_coefficients",
    "SampledCurvature",
    "sampled_curvature",
    "maximised_curvature",
]

_PAULI_LETTERS = "IXYZ"
_PAULIS = np.array([[[1, 0], [0, 1]], [[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]])
# Pauli coefficients smaller than this are dropped (rounding of the decomposition).
_COEFF_TOL = 1e-12


def pauli_coefficients(matrix: Any) -> dict[str, float]:
    r"""Coefficients :math:`c_P = \operatorname{Tr}(P O)/2^n` of a Hermitian :math:`O`.

    Computed qubit by qubit (:math:`O(n\,8^n)` work), dropping terms below ``1e-12``.

    Parameters
    ----------
    matrix : array_like, shape (2**n, 2**n)
        Hermitian.

    Returns
    -------
    dict
        Pauli label (qubit 0 first) to real coefficient.

    Examples
    --------
    >>> z = pauli_coefficients(np.diag([1.0, 0.0]))       # |0><0| = (I + Z)/2
    >>> {k: round(v, 6) for k, v in z.items()}
    {'I': 0.5, 'Z': 0.5}
    """
    m = np.asarray(matrix, dtype=complex)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] < 2 or m.shape[0] & (m.shape[0] - 1):
        raise ValueError(f"matrix must be square with a power-of-two side >= 2, got shape "
                         f"{m.shape}")
    if not np.allclose(m, m.conj().T, atol=1e-10):
        raise ValueError("matrix must be Hermitian")
    n = m.shape[0].bit_length() - 1
    check_memory(16 * 4**n, f"the {4**n} Pauli coefficients of a {n}-qubit observable")
    # Tensor with axes (row_0..row_{n-1}, col_0..col_{n-1}); each pass contracts the row and
    # column axes of the next qubit with P[a]_{cr} and appends the Pauli index a at the end.
    t = m.reshape([2] * (2 * n))
    for done in range(n):
        t = np.tensordot(t, _PAULIS, axes=([0, n - done], [2, 1]))
    coeffs = (t.reshape(4**n) / 2**n).real
    labels = ("".join(_PAULI_LETTERS[d] for d in np.unravel_index(i, (4,) * n))
              for i in range(4**n))
    return {label: float(c) for label, c in zip(labels, coeffs, strict=True)
            if abs(c) > _COEFF_TOL}


def _light_cone_counts(circuit: Any, support: set[int]) -> np.ndarray:
    """Rotations per parameter inside the backward light cone of ``support``."""
    counts = np.zeros(circuit.n_params)
    cone = set(support)
    for op in reversed(circuit.operations):
        if cone.isdisjoint(op.qubits):
            continue
        if op.kind == "rotation":
            counts[op.param_index] += 1
        cone.update(op.qubits)
    return counts


@dataclass(frozen=True, repr=False)
class SmoothnessBound:
    r"""Upper bounds on :math:`L = \sup_\theta \|\nabla^2 C(\theta)\|_2` (module docstring).

    Attributes
    ----------
    naive : float
        :math:`\|O\|\sum_j m_j^2` (:math:`p\,\|O\|` without shared parameters).
    halfwidth : float
        :math:`g \sum_j m_j^2`, :math:`g = (\lambda_{\max} - \lambda_{\min})/2`.
    lightcone : float
        :math:`\|\sum_a |c_a| m_a m_a^\top\|_2` from the Pauli terms of :math:`O`.
    value : float
        :math:`\|\min(B_\mathrm{halfwidth}, B_\mathrm{lightcone})\|_2`, the tightest.
    multiplicities : numpy.ndarray
        :math:`m_j`, rotations per parameter.
    """

    naive: float
    halfwidth: float
    lightcone: float
    value: float
    multiplicities: np.ndarray

    def __repr__(self) -> str:
        return (f"SmoothnessBound(L <= {self.value:.4g}; light cone {self.lightcone:.4g}, "
                f"half-width {self.halfwidth:.4g}, p||O|| {self.naive:.4g})")


def smoothness_constant(cost: Any) -> SmoothnessBound:
    r"""Derived upper bounds on the smoothness constant :math:`L` of ``cost``.

    See the module docstring for the derivation. No circuit is run.

    Parameters
    ----------
    cost : Cost
        An expectation-value cost (not a supervised ``Loss``, whose loss function adds its
        own curvature).

    Returns
    -------
    SmoothnessBound

    Examples
    --------
    Three independent :math:`R_X` rotations and the local cost have
    :math:`C = \frac12 - \frac16\sum_i\cos\theta_i`, so :math:`L = 1/6` exactly:

    >>> from qnncourse import ansatz, observables
    >>> from qnncourse.cost import Cost
    >>> bound = smoothness_constant(Cost(ansatz.tensor_product_rx(3), observables.local_cost(3)))
    >>> round(bound.value, 6), round(bound.halfwidth, 6), round(bound.naive, 6)
    (0.166667, 1.5, 3.0)
    """
    cost = check_plain_cost(cost, "smoothness_constant")
    if cost.noise is not None and cost.noise.has_readout_error:
        raise ValueError("smoothness_constant bounds the noiseless observable's curvature; "
                         "readout error changes the measured observable, pass a noise model "
                         "without it")
    circuit = cost.circuit
    m = np.zeros(circuit.n_params)
    for op in circuit.operations:
        if op.kind == "rotation":
            m[op.param_index] += 1
    levels = np.asarray(cost.observable.eigh()[0], dtype=float)
    norm, width = float(np.max(np.abs(levels))), float(np.ptp(levels) / 2)
    b_half = width * np.outer(m, m)
    b_cone = np.zeros_like(b_half)
    for label, c in pauli_coefficients(cost.observable.matrix()).items():
        support = {q for q, letter in enumerate(label) if letter != "I"}
        if support:
            counts = _light_cone_counts(circuit, support)
            b_cone += abs(c) * np.outer(counts, counts)
    spectral = (lambda b: float(np.linalg.norm(b, 2)) if b.size else 0.0)  # noqa: E731
    return SmoothnessBound(
        naive=norm * float(m @ m),
        halfwidth=width * float(m @ m),
        lightcone=spectral(b_cone),
        value=spectral(np.minimum(b_half, b_cone)),
        multiplicities=m,
    )


@dataclass(frozen=True, repr=False)
class SampledCurvature:
    r"""The largest Hessian eigenvalue (in size) met at sampled parameters.

    A lower bound on :math:`L`; compare with :func:`smoothness_constant`, an upper bound.

    Attributes
    ----------
    max_abs_eigenvalue : float
        :math:`\max_s \|\nabla^2 C(\theta_s)\|_2`.
    eigenvalues : numpy.ndarray, shape (S, p)
        Sorted Hessian eigenvalues at each sample.
    thetas : numpy.ndarray, shape (S, p)
    """

    max_abs_eigenvalue: float
    eigenvalues: np.ndarray
    thetas: np.ndarray

    @property
    def argmax(self) -> np.ndarray:
        """The sampled :math:`\\theta` where the largest eigenvalue was met."""
        return self.thetas[int(np.argmax(np.abs(self.eigenvalues).max(axis=1)))]

    def __repr__(self) -> str:
        return (f"SampledCurvature(max |Hessian eigenvalue| {self.max_abs_eigenvalue:.4g} over "
                f"{len(self.thetas)} samples)")


def sampled_curvature(cost: Any, n_samples: int, rng: Any = None) -> SampledCurvature:
    r"""Hessian spectra at ``n_samples`` points drawn uniformly from :math:`[0, 2\pi)^p`.

    Hessians come from :func:`~qnncourse.convergence.hessian` (exact :math:`\pi/2` shift rule;
    a central difference of exact gradients when parameters are shared).

    Parameters
    ----------
    cost : Cost or Loss
    n_samples : int
    rng : numpy.random.Generator or int, optional
    """
    check_plain_cost(cost, "sampled_curvature")
    n_samples = check_count("n_samples", n_samples)
    rng = as_rng(rng)
    shift = hessian_shift(cost)
    thetas = rng.uniform(0, 2 * np.pi, (n_samples, cost.n_params))
    eigs = np.array([np.linalg.eigvalsh(hessian(cost, t, shift)) for t in thetas])
    return SampledCurvature(float(np.abs(eigs).max()), eigs, thetas)


def maximised_curvature(cost: Any, n_samples: int, n_climbs: int = 3, rng: Any = None, *,
                        maxiter: int = 60) -> SampledCurvature:
    r"""The largest Hessian norm found by *maximising* :math:`\|\nabla^2 C(\theta)\|_2`.

    Sampling (:func:`sampled_curvature`) underestimates :math:`L = \sup_\theta
    \|\nabla^2 C(\theta)\|_2`, and more so the more parameters there are, since the maximum is a
    rare event. Here the ``n_climbs`` best of ``n_samples`` uniform samples are the starts of a
    local maximisation (L-BFGS-B on :math:`-\|\nabla^2 C\|_2`, gradient by finite differences
    of the exact Hessian). The result is still a lower bound on :math:`L`, but a much tighter
    one; compare it with the upper bound :func:`smoothness_constant`.

    Parameters
    ----------
    cost : Cost
    n_samples : int
    n_climbs : int
        How many of the best samples to climb from (at most ``n_samples``).
    rng : numpy.random.Generator or int, optional
    maxiter : int
        Iterations of each climb.

    Returns
    -------
    SampledCurvature
        Over the samples and the climbs' end points (``thetas`` holds both).
    """
    from scipy.optimize import minimize

    check_plain_cost(cost, "maximised_curvature")
    n_climbs = check_count("n_climbs", n_climbs)
    maxiter = check_count("maxiter", maxiter)
    sampled = sampled_curvature(cost, n_samples, rng)
    if n_climbs > sampled.thetas.shape[0]:
        raise ValueError(f"n_climbs ({n_climbs}) cannot exceed n_samples "
                         f"({sampled.thetas.shape[0]})")
    shift = hessian_shift(cost)

    def negative_norm(theta: np.ndarray) -> float:
        return -float(np.abs(np.linalg.eigvalsh(hessian(cost, theta, shift))).max())

    order = np.argsort(-np.abs(sampled.eigenvalues).max(axis=1))[:n_climbs]
    ends = [minimize(negative_norm, sampled.thetas[k], method="L-BFGS-B",
                     options={"maxiter": maxiter}).x for k in order]
    eigs = np.array([np.linalg.eigvalsh(hessian(cost, t, shift)) for t in ends])
    all_eigs = np.concatenate([sampled.eigenvalues, eigs])
    return SampledCurvature(float(np.abs(all_eigs).max()), all_eigs,
                            np.concatenate([sampled.thetas, np.array(ends)]))
