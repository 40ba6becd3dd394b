r"""Noise-induced barren plateaus: how noise flattens gradients with depth.

:func:`noisy_gradient_decay` measures the decay with ``Cost(circuit, O, noise=model)``
gradients and fits its per-layer factor; :func:`wang_gradient_bound` evaluates the bound of
Wang et al. (2021), Theorem 1, that the measured gradients must respect.

References
----------
S. Wang, E. Fontana, M. Cerezo, K. Sharma, A. Sone, L. Cincio, P. J. Coles, "Noise-induced barren
plateaus in variational quantum algorithms", Nat. Commun. 12, 6961 (2021),
doi:10.1038/s41467-021-27045-6
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np

from qnncourse._validation import as_rng, check_probability
from qnncourse.circuit import Circuit
from qnncourse.cost import Cost
from qnncourse.ensemble import random_parameters
from qnncourse.noise import Channel, Depolarizing, NoiseModel
from qnncourse.observables import as_observable

__all__ = [
    "NoisyGradientDecay",
    "noisy_gradient_decay",
    "pauli_noise_parameter",
    "wang_gradient_bound",
]


def pauli_noise_parameter(channel: Channel) -> float:
    r"""Wang et al.'s noise parameter :math:`q` of a single-qubit Pauli channel.

    .. math:: q = \max_{P \in \{X, Y, Z\}} |R_{PP}|

    the largest factor by which the channel shrinks a non-identity Pauli component (``R`` its
    Pauli transfer matrix, :meth:`Channel.pauli_transfer_matrix`). ``nan`` for a channel their
    theorem does not cover: more than one qubit, or not a Pauli channel (e.g. amplitude
    damping, which is not unital).

    Examples
    --------
    >>> round(pauli_noise_parameter(Depolarizing(0.1)), 12)
    0.9
    """
    if not isinstance(channel, Channel):
        raise TypeError(f"channel must be a Channel, got {type(channel).__name__}")
    if channel.n_qubits != 1:
        return math.nan
    ptm = channel.pauli_transfer_matrix()
    if np.max(np.abs(ptm - np.diag(np.diag(ptm)))) > 1e-12:
        return math.nan  # not a Pauli channel (e.g. amplitude damping is not unital)
    return float(np.max(np.abs(np.diag(ptm)[1:])))


def wang_gradient_bound(observable, n_qubits: int, q: float, n_noise_layers: int) -> float:
    r"""Wang et al.'s bound on every partial derivative of a noisy cost.

    For a circuit of rotations :math:`R_P(\theta) = e^{-i\theta P/2}` interleaved with
    :math:`M` full layers of single-qubit Pauli noise (each qubit's channel shrinks every
    non-identity Pauli component by at most :math:`q`),

    .. math:: \left|\frac{\partial C}{\partial\theta_j}\right|
              \le \sqrt{8\ln 2}\;\|\eta_j\|_1\; g\; n^{1/2}\, q^{M}
              = g\,\sqrt{2\ln 2\; n}\; q^{M},

    at every :math:`\theta`: Theorem 1 of Wang et al. (2021), there written with
    :math:`q^{L+1}` for :math:`L` unitary layers framed by :math:`L+1` noise layers, specialised
    here to a single observable (:math:`C = \mathrm{Tr}[O\rho]`) and to our rotations, whose
    generator :math:`P/2` has Pauli coefficients of 1-norm :math:`\|\eta_j\|_1 = 1/2`.
    :math:`g = (\lambda_{\max}(O) - \lambda_{\min}(O))/2` is the spectral half-width of the
    observable (shifting :math:`O` by a multiple of the identity leaves every gradient
    unchanged, so this is the smallest operator norm that the bound's argument can use).

    Why: by the parameter-shift rule :math:`\partial_j C = \tfrac12\mathrm{Tr}[O(\sigma_+ -
    \sigma_-)]` with :math:`\sigma_\pm` the noisy output states at :math:`\theta_j \pm \pi/2`;
    each layer of local Pauli noise contracts the relative entropy to :math:`I/2^n` by
    :math:`q^2`, which starts at most at :math:`n` bits, and Pinsker's inequality turns that
    into :math:`\|\sigma_\pm - I/2^n\|_1 \le \sqrt{2\ln 2\, n}\, q^{M}`.

    Parameters
    ----------
    observable : anything :func:`~qnncourse.observables.as_observable` accepts
    n_qubits : int
    q : float
        Noise parameter in [0, 1] (``1 - p`` for ``Depolarizing(p)``).
    n_noise_layers : int
        Number :math:`M` of full noise layers in the circuit.

    References
    ----------
    Wang et al., Nat. Commun. 12, 6961 (2021), Theorem 1, https://doi.org/10.1038/s41467-021-27045-6
    """
    q = check_probability(q, "q", "wang_gradient_bound")
    if isinstance(n_noise_layers, bool) or not isinstance(n_noise_layers, Integral) \
            or n_noise_layers < 0:
        raise ValueError(f"n_noise_layers must be a non-negative int, got {n_noise_layers!r}")
    obs = as_observable(observable, n_qubits)
    spectrum = obs.diagonal if obs.is_diagonal else np.linalg.eigvalsh(obs.matrix())
    half_width = (float(np.max(spectrum)) - float(np.min(spectrum))) / 2
    return half_width * math.sqrt(2 * math.log(2) * n_qubits) * q**n_noise_layers


@dataclass(frozen=True)
class NoisyGradientDecay:
    r"""Result of :func:`noisy_gradient_decay`; arrays are indexed ``[rate, depth]``.

    Attributes
    ----------
    depths, rates : numpy.ndarray
    mean_abs : numpy.ndarray
        Mean of :math:`|\partial_j C|` over parameters ``j`` and parameter draws.
    variance : numpy.ndarray
        Variance over draws of :math:`\partial_j C`, averaged over ``j``.
    max_abs : numpy.ndarray
        Largest :math:`|\partial_j C|` seen (to hold against the bound, which is worst-case).
    suppression : numpy.ndarray
        ``mean_abs`` divided by the noiseless mean :math:`|\partial_j C|` on the *same* draws:
        the part of the decay due to noise alone.
    decay : numpy.ndarray
        Per-layer factor :math:`r` of the fit ``suppression ~ A r**depth`` (least squares on
        the logarithm), one per rate.
    wang_q : numpy.ndarray
        Wang et al.'s per-layer factor :math:`q` for each rate (``nan`` when their theorem does
        not apply: noise after gates instead of in full layers, or a non-Pauli channel).
    bound : numpy.ndarray
        :func:`wang_gradient_bound` at each depth (``nan`` where ``wang_q`` is).
    """

    depths: np.ndarray
    rates: np.ndarray
    mean_abs: np.ndarray
    variance: np.ndarray
    max_abs: np.ndarray
    suppression: np.ndarray
    decay: np.ndarray
    wang_q: np.ndarray
    bound: np.ndarray = field(repr=False)

    def __str__(self) -> str:
        lines = [f"{'rate':>8} {'depth':>6} {'mean|dC|':>10} {'Var(dC)':>10} {'noise x':>9} "
                 f"{'max|dC|':>10} {'Wang bound':>11}"]
        for r, rate in enumerate(self.rates):
            for d, depth in enumerate(self.depths):
                lines.append(f"{rate:>8.4g} {depth:>6d} {self.mean_abs[r, d]:>10.3e} "
                             f"{self.variance[r, d]:>10.3e} {self.suppression[r, d]:>9.4f} "
                             f"{self.max_abs[r, d]:>10.3e} {self.bound[r, d]:>11.3e}")
        for rate, decay, q in zip(self.rates, self.decay, self.wang_q, strict=True):
            lines.append(f"rate {rate:.4g}: gradients shrink by {decay:.4f} per layer "
                         f"(Wang et al.: q = {q:.4f})")
        return "\n".join(lines)


def noisy_gradient_decay(circuit_factory: Callable[[int], object], observable,
                         depths: Sequence[int], rates: Sequence[float], *,
                         channel: Callable[[float], Channel] = Depolarizing,
                         placement: str = "layer", n_samples: int = 20,
                         rng: np.random.Generator | int | None = None) -> NoisyGradientDecay:
    r"""Measure how noise shrinks gradients with depth: the noise-induced barren plateau.

    For each depth :math:`L` it draws ``n_samples`` parameter vectors uniformly in
    :math:`[0, 2\pi)` (the same draws for every rate), computes the exact noisy gradients
    ``Cost(circuit, observable, noise=model).gradient(thetas)`` (adjoint method on density
    matrices), and compares them with the noiseless ones. The
    per-layer decay of the noise-induced suppression is fitted and set beside Wang et al.'s
    :math:`q`: their Theorem 1 bounds every gradient by :math:`\propto q^{M}` for :math:`M`
    noise layers (see :func:`wang_gradient_bound`), so the measured factor should not exceed
    :math:`q`. With a global depolarizing channel after each layer the suppression is exactly
    :math:`(1-p)^L`.

    Parameters
    ----------
    circuit_factory : callable
        ``circuit_factory(depth)`` returns the circuit of that depth, e.g.
        ``lambda L: ansatz.hardware_efficient(4, L)``.
    observable : anything :func:`~qnncourse.observables.as_observable` accepts
    depths : sequence of int
        At least two distinct positive depths.
    rates : sequence of float
        Noise rates, each passed to ``channel``.
    channel : callable
        ``channel(rate)`` returns the channel (default :class:`Depolarizing`).
    placement : {"layer", "gate"}
        ``"layer"``: after each circuit layer on every qubit, the setting of Wang et al.
        (the circuits must carry layer tags, as the ansatz builders' do); ``"gate"``: after
        every gate on the qubits it acts on, as ``Cost(..., noise=channel)`` does (no bound).
    n_samples : int
        Parameter draws per depth (at least 2).
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    NoisyGradientDecay
        Its ``str`` is a table.

    References
    ----------
    Wang et al., Nat. Commun. 12, 6961 (2021), https://doi.org/10.1038/s41467-021-27045-6
    """
    depths_arr = np.asarray(depths)
    if depths_arr.ndim != 1 or depths_arr.dtype.kind not in "iu" or np.any(depths_arr < 1) \
            or len(set(depths_arr.tolist())) < 2:
        raise ValueError(f"depths must be at least two distinct positive ints, got {depths!r}")
    rates_arr = np.asarray(rates, dtype=float)
    if rates_arr.ndim != 1 or rates_arr.size == 0:
        raise ValueError(f"rates must be a non-empty sequence of numbers, got {rates!r}")
    if placement not in ("layer", "gate"):
        raise ValueError(f"placement must be 'layer' or 'gate', got {placement!r}")
    if isinstance(n_samples, bool) or not isinstance(n_samples, Integral) or n_samples < 2:
        raise ValueError(f"n_samples must be an int >= 2, got {n_samples!r}")
    channels = [channel(float(rate)) for rate in rates_arr]  # validates the rates
    rng = as_rng(rng)
    wang_q = np.array([pauli_noise_parameter(ch) if placement == "layer" else math.nan
                       for ch in channels])
    shape = (len(rates_arr), len(depths_arr))
    mean_abs, variance, max_abs, suppression, bound = (np.empty(shape) for _ in range(5))
    gates = "layer" if placement == "layer" else "all"
    for d, depth in enumerate(depths_arr.tolist()):
        circuit = circuit_factory(depth)
        if not isinstance(circuit, Circuit):
            raise TypeError(f"circuit_factory({depth}) must return a Circuit, got "
                            f"{type(circuit).__name__}")
        thetas = random_parameters(circuit.n_params, n_samples, rng)
        clean_mean = np.mean(np.abs(Cost(circuit, observable).gradient(thetas)))
        for r, ch in enumerate(channels):
            model = NoiseModel().add(ch, gates=gates)
            grads = Cost(circuit, observable, noise=model).gradient(thetas)
            mean_abs[r, d] = np.mean(np.abs(grads))
            variance[r, d] = np.mean(np.var(grads, axis=0, ddof=1))
            max_abs[r, d] = np.max(np.abs(grads))
            suppression[r, d] = mean_abs[r, d] / clean_mean
            bound[r, d] = (math.nan if math.isnan(wang_q[r]) else wang_gradient_bound(
                observable, circuit.n_qubits, wang_q[r], circuit.n_layers))
    decay = np.array([np.exp(np.polyfit(depths_arr, np.log(row), 1)[0]) if np.all(row > 0)
                      else math.nan for row in suppression])
    return NoisyGradientDecay(depths_arr, rates_arr, mean_abs, variance, max_abs, suppression,
                              decay, wang_q, bound)
