r"""Error mitigation: zero-noise extrapolation and probabilistic error cancellation.

Both estimate the noiseless value :math:`C_0 = \mathrm{Tr}(O\,U\rho_0U^\dagger)` of a noisy
:class:`~qnncourse.cost.Cost` from noisy executions only, and both pay for it in shots.
Everything goes through ``Cost``: a mitigated estimate runs other circuits (folded, or with
Pauli corrections) under the cost's own noise model via :meth:`Cost.with_circuit`, and charges
every execution to the cost's evaluation counter (:meth:`Cost.charge`).

Zero-noise extrapolation (ZNE)
    Unitary folding replaces a gate :math:`G` by :math:`G (G^\dagger G)^k`: the same unitary,
    :math:`2k+1` times the noise when every gate carries its own noise (the folded copies get
    the noise of the gate they copy). Folding all gates ("local") or the whole circuit
    ("global", :math:`U (U^\dagger U)^k` and then the last gates once more for fractional
    scales) gives noise scale factors :math:`\lambda = 1 + 2m/d` (``m`` folds of ``d`` gates).
    The values :math:`C(\lambda_i)` are extrapolated to :math:`\lambda = 0`: Richardson
    (the polynomial through all points, :math:`C(0) \approx \sum_i C(\lambda_i)
    \prod_{j\ne i} \lambda_j/(\lambda_j - \lambda_i)`), a least-squares line, or an
    exponential :math:`C(\lambda) = a\,e^{-b\lambda}` (exact for global depolarizing noise).
    The estimator's variance is :math:`\sum_i w_i^2\,\sigma_i^2` with the extrapolation
    weights :math:`w_i`, which grow with the scales and their number.
    (Temme, Bravyi, Gambetta 2017; Giurgica-Tiron et al. 2020.)

Probabilistic error cancellation (PEC) for Pauli noise
    A Pauli channel :math:`\mathcal{E}(\rho) = \sum_Q p_Q\,Q\rho Q` scales Pauli :math:`P` by
    :math:`f_P = \sum_Q p_Q \chi_{PQ}` (:math:`\chi_{PQ} = \pm 1` as :math:`P, Q` commute or
    anticommute). Its inverse is the quasi-probability mixture
    :math:`\mathcal{E}^{-1}(\rho) = \sum_Q q_Q\,Q\rho Q` with
    :math:`q_Q = 4^{-k}\sum_P \chi_{PQ}/f_P`, some :math:`q_Q < 0`. Sampling :math:`Q` with
    probability :math:`|q_Q|/\gamma`, :math:`\gamma = \sum_Q |q_Q|`, after every noisy gate and
    weighting the outcome by :math:`\gamma_{\rm tot}\prod \mathrm{sign}(q_Q)`,
    :math:`\gamma_{\rm tot} = \prod_{\rm gates}\gamma`, is an unbiased estimator of
    :math:`C_0` whose variance is :math:`\gamma_{\rm tot}^2` times that of one shot: the number
    of shots for a given error grows by :math:`\gamma_{\rm tot}^2`, exponentially in the number
    of noisy gates. For depolarizing noise :math:`f = 1-p` on one qubit gives
    :math:`\gamma = (2+p)/(2(1-p))`. A Pauli channel commutes with Pauli conjugation, so the
    correction :math:`Q` is merged into the gate before the channel (:math:`Q G`, same name and
    qubits, so the noise model gives it the same noise). (Temme, Bravyi, Gambetta 2017.)

Takagi et al. (2022) and Quek et al. (2024) prove that *any* mitigation of this kind needs a
number of samples exponential in depth (for local depolarizing noise, the rate of
distinguishability loss sets it), so mitigation cannot remove a noise-induced barren plateau at
a polynomial cost.

References
----------
K. Temme, S. Bravyi, J. M. Gambetta, "Error mitigation for short-depth quantum circuits",
Phys. Rev. Lett. 119, 180509 (2017), arXiv:1612.02058.
T. Giurgica-Tiron, Y. Hindy, R. LaRose, A. Mari, W. J. Zeng, "Digital zero noise extrapolation
for quantum error mitigation", IEEE QCE 2020, arXiv:2005.10921.
R. Takagi, S. Endo, S. Minagawa, M. Gu, "Fundamental limits of quantum error mitigation",
npj Quantum Inf. 8 (2022), doi:10.1038/s41534-022-00618-z.
Y. Quek, D. Stilck França, S. Khatri, J. J. Meyer, J. Eisert, "Exponentially tighter bounds on
limitations of quantum error mitigation", Nat. Phys. 20 (2024), doi:10.1038/s41567-024-02536-7.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qnncourse._validation import as_rng
from qnncourse.circuit import Circuit
from qnncourse.noise.model import as_noise_model
from qnncourse.paulis import PauliString

__all__ = ["MitigatedValue", "extrapolate", "extrapolation_weights", "fold_gates", "pec",
           "pec_circuit", "pec_overhead", "pauli_quasi_probabilities", "zne"]

_FOLDINGS = ("global", "local")
_EXTRAPOLATIONS = ("richardson", "linear", "exponential")
# A channel is a Pauli channel when its Pauli transfer matrix is diagonal to this tolerance.
_PAULI_ATOL = 1e-10


@dataclass(frozen=True)
class MitigatedValue:
    """A mitigated estimate: ``value`` with its standard error (``0`` when exact), the noisy
    values it came from, the shots and circuit executions it used, and (PEC) the overhead."""

    value: float
    std_error: float
    noisy_values: tuple[float, ...]
    scales: tuple[float, ...]
    shots: int
    executions: int
    gamma: float = 1.0


# -- circuits frozen at theta ---------------------------------------------------------------
def _frozen(circuit: Circuit, theta: np.ndarray) -> list[tuple]:
    """``(name, qubits, matrix, layer)`` of every operation at ``theta``: rotations become
    fixed gates with the same name, so noise rules by name or gate class still select them."""
    angles = circuit.angles(theta)
    if angles.shape[0] != 1:
        raise ValueError("mitigation takes a single theta, not a batch")
    out = []
    for k, op in enumerate(circuit.operations):
        matrix = op.matrix if op.kind == "fixed" else op.rotation_matrix(angles[0, k])
        out.append((op.name, tuple(op.qubits), np.asarray(matrix, dtype=complex), op.layer))
    return out


def _build(n: int, gates: Sequence[tuple]) -> Circuit:
    circuit = Circuit(n)
    layer = object()
    for name, qubits, matrix, op_layer in gates:
        if op_layer is not None and op_layer != layer:
            circuit.new_layer()
            layer = op_layer
        circuit.gate(matrix, qubits, name)
    return circuit


def fold_gates(circuit: Circuit, theta: np.ndarray, scale: float, *, method: str = "global",
               rng: np.random.Generator | int | None = None) -> Circuit:
    r"""``circuit`` at ``theta`` with its noise scaled by ``scale`` through unitary folding.

    With ``d`` gates, ``m = round((scale - 1) d / 2)`` gate folds :math:`G \to G G^\dagger G`
    are made. ``"global"``: the whole circuit :math:`U \to U (U^\dagger U)^{\lfloor m/d\rfloor}`,
    then the last ``m mod d`` gates once more (Giurgica-Tiron et al. 2020, their eq. 3);
    ``"local"``: every gate folded :math:`\lfloor m/d\rfloor` times and ``m mod d`` gates
    chosen at random (``rng``) once more. Returns a circuit of fixed gates (no parameters)
    whose gates keep the original names, so the cost's noise model applies to every copy.
    """
    if method not in _FOLDINGS:
        raise ValueError(f"method must be one of {_FOLDINGS}, got {method!r}")
    if isinstance(scale, bool) or not np.isfinite(scale) or scale < 1:
        raise ValueError(f"scale must be a noise scale factor >= 1, got {scale!r}")
    gates = _frozen(circuit, theta)
    d = len(gates)
    if d == 0:
        raise ValueError("the circuit has no gates to fold")
    folds = int(round((scale - 1) * d / 2))
    whole, extra = divmod(folds, d)

    def dagger(g):
        return (g[0], g[1], g[2].conj().T, g[3])

    if method == "global":
        out = list(gates)
        inverse = [dagger(g) for g in reversed(gates)]
        for _ in range(whole):
            out += inverse + gates
        tail = gates[d - extra:]
        out += [dagger(g) for g in reversed(tail)] + tail
    else:
        chosen = set(as_rng(rng).choice(d, size=extra, replace=False).tolist())
        out = []
        for i, g in enumerate(gates):
            out.append(g)
            for _ in range(whole + (i in chosen)):
                out += [dagger(g), g]
    return _build(circuit.n_qubits, out)


# -- extrapolation ----------------------------------------------------------------------------
def _check_points(scales, values) -> tuple[np.ndarray, np.ndarray]:
    scales = np.asarray(scales, dtype=float)
    values = np.asarray(values, dtype=float)
    if scales.ndim != 1 or scales.shape != values.shape:
        raise ValueError(f"scales and values must be 1-D of the same length, got shapes "
                         f"{scales.shape} and {values.shape}")
    if len(np.unique(scales)) != len(scales) or len(scales) < 2:
        raise ValueError(f"extrapolation needs at least 2 distinct scales, got {scales.tolist()}")
    return scales, values


def extrapolation_weights(scales: Sequence[float], method: str = "richardson") -> np.ndarray:
    r"""Weights :math:`w_i` with :math:`C(0) \approx \sum_i w_i C(\lambda_i)` for the linear
    extrapolations (``"richardson"``: :math:`w_i = \prod_{j\ne i}\lambda_j/(\lambda_j -
    \lambda_i)`; ``"linear"``: the intercept of the least-squares line). The standard error of
    the estimate is :math:`\sqrt{\sum_i w_i^2\sigma_i^2}`."""
    scales, _ = _check_points(scales, np.zeros(len(scales)))
    if method == "richardson":
        return np.array([np.prod([lj / (lj - li) for j, lj in enumerate(scales) if j != i])
                         for i, li in enumerate(scales)])
    if method == "linear":
        design = np.stack([np.ones_like(scales), scales], axis=1)
        return np.linalg.pinv(design)[0]
    raise ValueError(f"extrapolation weights exist for 'richardson' and 'linear', got {method!r}")


def extrapolate(scales: Sequence[float], values: Sequence[float],
                method: str = "richardson") -> float:
    r"""The zero-noise value from values at noise scales: ``"richardson"``, ``"linear"`` or
    ``"exponential"`` (:math:`a e^{-b\lambda}` fitted to :math:`\log|C|`, all values of one
    sign; returns :math:`a`)."""
    if method not in _EXTRAPOLATIONS:
        raise ValueError(f"method must be one of {_EXTRAPOLATIONS}, got {method!r}")
    scales, values = _check_points(scales, values)
    if method != "exponential":
        return float(extrapolation_weights(scales, method) @ values)
    sign = np.sign(values[0])
    if sign == 0 or np.any(np.sign(values) != sign):
        raise ValueError(f"exponential extrapolation needs values of one sign, got "
                         f"{values.tolist()}")
    slope, intercept = np.polyfit(scales, np.log(np.abs(values)), 1)
    return float(sign * np.exp(intercept))


# -- measurement ------------------------------------------------------------------------------
def _diagonal(cost) -> np.ndarray:
    obs = cost.observable
    if not getattr(obs, "is_diagonal", False):
        raise ValueError("shots are sampled in the computational basis: the observable must be "
                         "diagonal (rotate into that basis inside the circuit)")
    if cost.noise is not None and cost.noise.has_readout_error:
        return cost.noise.readout_diagonal(obs.diagonal)
    return obs.diagonal


def _probabilities(cost) -> np.ndarray:
    """Outcome probabilities in the computational basis of the cost's (noisy) state."""
    rho = cost.state(np.zeros(cost.n_params))
    probs = np.clip(np.real(np.diag(rho.full())), 0, None)
    return probs / probs.sum()


def _sample(probs: np.ndarray, shots: int, rng: np.random.Generator,
            diagonal: np.ndarray) -> float:
    """Mean of ``shots`` outcomes of the diagonal observable drawn from ``probs``."""
    return float(rng.multinomial(shots, probs) @ diagonal / shots)


def _check_shots(shots) -> int | None:
    if shots is None:
        return None
    if isinstance(shots, bool) or not isinstance(shots, int | np.integer) or shots < 1:
        raise ValueError(f"shots must be None (exact) or a positive int, got {shots!r}")
    return int(shots)


def _check_noisy(cost) -> None:
    if cost.noise is None:
        raise ValueError("error mitigation needs a noisy cost: build it with Cost(..., noise=...)")


def zne(cost, theta: np.ndarray, *, scales: Sequence[float] = (1, 3, 5),
        folding: str = "global", extrapolation: str = "richardson", shots: int | None = None,
        rng: np.random.Generator | int | None = None) -> MitigatedValue:
    """Zero-noise extrapolation of ``cost`` at ``theta``: one folded circuit per scale (exact
    values, or ``shots`` measurements of each), extrapolated to zero noise."""
    _check_noisy(cost)
    shots = _check_shots(shots)
    _check_points(scales, np.zeros(len(scales)))
    if extrapolation not in _EXTRAPOLATIONS:
        raise ValueError(f"extrapolation must be one of {_EXTRAPOLATIONS}, got {extrapolation!r}")
    rng = as_rng(rng)
    diagonal = _diagonal(cost) if shots is not None else None
    values = []
    for scale in scales:
        folded = cost.with_circuit(fold_gates(cost.circuit, theta, scale, method=folding,
                                              rng=rng))
        values.append(float(folded([])) if shots is None
                      else _sample(_probabilities(folded), shots, rng, diagonal))
    cost.charge(len(scales))
    value = extrapolate(scales, values, extrapolation)
    std = 0.0
    if shots is not None and extrapolation != "exponential":
        spread = np.ptp(diagonal) / 2  # a bound on one shot's standard deviation
        std = float(spread * np.linalg.norm(extrapolation_weights(scales, extrapolation))
                    / np.sqrt(shots))
    return MitigatedValue(value, std, tuple(values), tuple(float(s) for s in scales),
                          0 if shots is None else shots * len(scales), len(scales))


# -- probabilistic error cancellation ---------------------------------------------------------
def _labels(k: int) -> list[str]:
    return ["".join(w) for w in itertools.product("IXYZ", repeat=k)]


def pauli_quasi_probabilities(kraus: Sequence[np.ndarray]) -> tuple[tuple[str, ...], np.ndarray]:
    r"""Labels and quasi-probabilities :math:`q_Q` of the inverse of a Pauli channel given by
    its Kraus matrices (see the module docstring); raises ``ValueError`` if the channel is not
    a Pauli channel (e.g. amplitude damping) or not invertible (:math:`f_P = 0`)."""
    dim = np.shape(kraus[0])[0]
    k = int(round(np.log2(dim)))
    labels = _labels(k)
    paulis = [PauliString(lab).to_matrix() for lab in labels]
    ptm = np.array([[np.trace(p @ sum(m @ q @ m.conj().T for m in kraus)).real / dim
                     for q in paulis] for p in paulis])
    off = np.max(np.abs(ptm - np.diag(np.diag(ptm))))
    if off > _PAULI_ATOL:
        raise ValueError(f"PEC here inverts Pauli channels; this channel's Pauli transfer "
                         f"matrix has off-diagonal entries up to {off:.3g} (not a Pauli channel)")
    f = np.diag(ptm)
    if np.min(np.abs(f)) < 1e-12:
        raise ValueError("the Pauli channel erases a Pauli component (f_P = 0): it has no "
                         "inverse to cancel")
    chi = np.array([[1.0 if PauliString(a).commutes_with(PauliString(b)) else -1.0
                     for b in labels] for a in labels])
    return tuple(labels), chi @ (1 / f) / dim**2


def pec_overhead(cost, noise=None) -> float:
    r""":math:`\gamma_{\rm tot} = \prod \gamma` over every channel of the cost's noise model
    on its circuit; the shots PEC needs for a given error grow by :math:`\gamma_{\rm tot}^2`.

    ``cost`` is a noisy :class:`~qnncourse.cost.Cost`, or a :class:`~qnncourse.circuit.Circuit`
    with its ``noise`` (a Channel or NoiseModel), which skips building a simulator."""
    if isinstance(cost, Circuit):
        if noise is None:
            raise ValueError("pec_overhead(circuit, noise) needs the noise model")
        steps = as_noise_model(noise).channel_steps(cost)
    else:
        _check_noisy(cost)
        steps = cost.noise.channel_steps(cost.circuit)
    gammas: dict[bytes, float] = {}  # one gamma per distinct channel
    total = 1.0
    for step in steps:
        key = b"".join(np.ascontiguousarray(m).tobytes() for m in step.kraus)
        if key not in gammas:
            gammas[key] = float(np.sum(np.abs(pauli_quasi_probabilities(step.kraus)[1])))
        total *= gammas[key]
    return total


def pec_circuit(circuit: Circuit, theta: np.ndarray, steps: Sequence, choice: Sequence[str]
                ) -> Circuit:
    """``circuit`` at ``theta`` with the Pauli correction ``choice[i]`` (a label on the qubits
    of channel step ``steps[i]``) merged into the gate that channel follows."""
    if len(choice) != len(steps):
        raise ValueError(f"choice has {len(choice)} Pauli labels, there are {len(steps)} "
                         f"channel steps")
    gates = [list(g) for g in _frozen(circuit, theta)]
    for step, label in zip(steps, choice, strict=True):
        name, qubits, matrix, _ = gates[step.after]
        if not set(step.qubits) <= set(qubits):
            raise ValueError(f"PEC merges corrections into gates: the channel on qubits "
                             f"{step.qubits} after gate {name} on {qubits} acts elsewhere")
        word = ["I"] * len(qubits)
        for q, letter in zip(step.qubits, label, strict=True):
            word[qubits.index(q)] = letter
        gates[step.after][2] = PauliString("".join(word)).to_matrix() @ matrix
    return _build(circuit.n_qubits, [tuple(g) for g in gates])


def pec(cost, theta: np.ndarray, *, samples: int, shots: int = 1,
        rng: np.random.Generator | int | None = None) -> MitigatedValue:
    r"""Probabilistic error cancellation of ``cost`` at ``theta`` for Pauli noise: ``samples``
    circuits drawn from the quasi-probability decomposition, each measured ``shots`` times;
    the estimate is the mean of :math:`\gamma_{\rm tot}\,\mathrm{sign}\cdot` outcome and its
    standard error the sample standard deviation over :math:`\sqrt{\text{samples}}`."""
    _check_noisy(cost)
    samples = _check_shots(samples)
    shots = _check_shots(shots)
    if samples is None or samples < 2:
        raise ValueError(f"samples must be an int >= 2, got {samples!r}")
    rng = as_rng(rng)
    steps = cost.noise.channel_steps(cost.circuit)
    tables = [pauli_quasi_probabilities(step.kraus) for step in steps]
    gammas = np.array([np.sum(np.abs(q)) for _, q in tables])
    gamma = float(np.prod(gammas))
    diagonal = _diagonal(cost)
    picks = np.array([rng.choice(len(q), size=samples, p=np.abs(q) / g)
                      for (_, q), g in zip(tables, gammas, strict=True)]).reshape(len(steps), -1)
    signs = np.prod([np.sign(q)[picks[i]] for i, (_, q) in enumerate(tables)], axis=0) \
        if steps else np.ones(samples)
    estimates = np.empty(samples)
    noisy = {}
    for s in range(samples):
        key = tuple(picks[:, s])
        if key not in noisy:  # identical corrections: one circuit, simulated once
            choice = [tables[i][0][j] for i, j in enumerate(key)]
            noisy[key] = _probabilities(cost.with_circuit(pec_circuit(cost.circuit, theta, steps,
                                                                      choice)))
        estimates[s] = gamma * signs[s] * _sample(noisy[key], shots, rng, diagonal)
    cost.charge(samples)
    return MitigatedValue(float(estimates.mean()), float(estimates.std(ddof=1) / np.sqrt(samples)),
                          (), (), samples * shots, samples, gamma)
