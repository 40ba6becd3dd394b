r"""The variance a deep circuit must have, predicted from its dynamical Lie algebra.

:func:`lie_variance` evaluates the formula of [Ragone2024]_ from the DLA's simple ideals and the
purities of the state and the observable; :func:`lie_variance_check` measures the variance of
deep random circuits (through :class:`~qnncourse.cost.Cost`) and sets it beside the prediction.

References
----------
.. [Ragone2024] M. Ragone, B. N. Bakalov, F. Sauvage, A. F. Kemper, C. Ortiz Marrero,
   M. Larocca and M. Cerezo, "A Lie algebraic theory of barren plateaus for deep parameterized
   quantum circuits", Nat. Commun. 15, 7172 (2024), doi:10.1038/s41467-024-49909-3
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import qutip

from qnncourse._validation import check_count, check_memory
from qnncourse.circuit import Circuit
from qnncourse.cost import Cost
from qnncourse.ensemble import random_parameters
from qnncourse.lie import closure, decompose, purity
from qnncourse.paulis import PauliString, as_pauli_sum
from qnncourse.plateaus.statistics import variance_interval

__all__ = ["LieComponent", "LieVariance", "LieVarianceCheck", "lie_variance",
           "lie_variance_check"]


@dataclass(frozen=True)
class LieComponent:
    r"""One simple ideal :math:`\mathfrak{g}_\alpha` in :func:`lie_variance`: its dimension, the
    purities of the state and of the observable, and its share of the variance."""

    dimension: int
    state_purity: float
    observable_purity: float

    @property
    def contribution(self) -> float:
        r"""This ideal's share, :math:`P_{\mathfrak{g}_\alpha}(\rho)\, P_{\mathfrak{g}_\alpha}(O) /
        \dim \mathfrak{g}_\alpha`."""
        return self.state_purity * self.observable_purity / self.dimension


@dataclass(frozen=True, repr=False)
class LieVariance:
    r"""The variance of a deep circuit's cost predicted from its DLA [Ragone2024]_.

    Attributes
    ----------
    value : float
        :math:`\sum_\alpha P_{\mathfrak{g}_\alpha}(\rho)\, P_{\mathfrak{g}_\alpha}(O) /
        \dim\mathfrak{g}_\alpha`.
    components : tuple of LieComponent
        One row per simple ideal (largest first).
    dla_dimension : int
        :math:`\dim \mathfrak{g}`, centre included.
    centre_dimension : int
        :math:`\dim \mathfrak{z}(\mathfrak{g})`; the centre adds nothing to the variance.
    """

    value: float
    components: tuple[LieComponent, ...]
    dla_dimension: int
    centre_dimension: int

    def __repr__(self) -> str:
        rows = "\n".join(
            f"  {c.dimension:>9d}  {c.state_purity:>10.4g}  {c.observable_purity:>10.4g}  "
            f"{c.contribution:>12.4g}"
            for c in self.components
        )
        return (
            f"LieVariance(value={self.value:.6g}, dim g = {self.dla_dimension}, centre "
            f"{self.centre_dimension})\n  dim ideal  P(rho)      P(O)        P(rho)P(O)/dim\n"
            + rows
        )


def _density_matrix(state: Any, n_qubits: int) -> np.ndarray:
    """``state`` (None for |0...0>, a ket or a density matrix) as a validated dense matrix."""
    dim = 2**n_qubits
    check_memory(16 * dim * dim, f"the {dim} x {dim} density matrix of {n_qubits} qubits")
    if state is None:
        rho = np.zeros((dim, dim), dtype=complex)
        rho[0, 0] = 1.0
        return rho
    array = state.full() if isinstance(state, qutip.Qobj) else np.asarray(state, dtype=complex)
    if array.ndim == 2 and 1 in array.shape:
        array = array.reshape(-1)
    if array.shape == (dim,):
        norm = np.linalg.norm(array)
        if not np.isfinite(norm) or norm == 0:
            raise ValueError("state is a zero or non-finite vector")
        array = array / norm
        return np.outer(array, array.conj())
    if array.shape != (dim, dim):
        raise ValueError(
            f"state has shape {array.shape}; the algebra acts on {n_qubits} qubits, so a ket of "
            f"{dim} amplitudes or a {dim} x {dim} density matrix is needed"
        )
    if not np.allclose(array, array.conj().T, atol=1e-10):
        raise ValueError("state is not Hermitian: a density matrix must equal its adjoint")
    return array


def _observable_matrix(observable: Any, n_qubits: int) -> Any:
    """Pauli-type observables pass through (their purity is exact and cheap); matrices are
    checked for size here so that the message names the observable."""
    if isinstance(observable, qutip.Qobj | np.ndarray):
        matrix = observable.full() if isinstance(observable, qutip.Qobj) else observable
        if matrix.shape != (2**n_qubits, 2**n_qubits):
            raise ValueError(
                f"observable has shape {matrix.shape}; the algebra acts on {n_qubits} qubits "
                f"({2**n_qubits} x {2**n_qubits})"
            )
        return matrix
    return observable


def lie_variance(circuit_or_generators: Any, state: Any, observable: Any) -> LieVariance:
    r"""Variance of :math:`C = \mathrm{Tr}[U\rho U^\dagger O]` over a deep circuit's group.

    When the circuit is deep enough to sample its dynamical Lie group :math:`e^{\mathfrak{g}}`
    like a 2-design and :math:`O \in i\mathfrak{g}` or :math:`\rho \in i\mathfrak{g}` (each up
    to a multiple of the identity), [Ragone2024]_ (Theorem 1; also Fontana et al., Nat.
    Commun. 15, 7171 (2024)) gives exactly

    .. math::
        \operatorname{Var}_\theta[C] = \sum_\alpha
        \frac{P_{\mathfrak{g}_\alpha}(\rho)\, P_{\mathfrak{g}_\alpha}(O)}{\dim \mathfrak{g}_\alpha}

    over the simple ideals :math:`\mathfrak{g}_\alpha` of :math:`\mathfrak{g} = \mathfrak{z}
    \oplus \bigoplus_\alpha \mathfrak{g}_\alpha` (:func:`qnncourse.lie.decompose`), with the
    :math:`\mathfrak{g}_\alpha`-purity :math:`P(H) = \sum_j \mathrm{Tr}(B_j H)^2`
    (:func:`qnncourse.lie.purity`). The centre adds no variance. Expressibility
    (:math:`\dim\mathfrak{g}_\alpha`), locality of :math:`O` and entanglement of :math:`\rho`
    (through their purities) enter one formula.

    Parameters
    ----------
    circuit_or_generators : Circuit or generators
        Anything :func:`qnncourse.lie.closure` accepts.
    state : None, ket or density matrix (numpy.ndarray or qutip.Qobj)
        :math:`\rho`; ``None`` means :math:`|0\dots0\rangle\langle0\dots0|`.
    observable : Pauli label, PauliSum, dict, numpy.ndarray or qutip.Qobj
        Hermitian :math:`O`.

    Raises
    ------
    ValueError
        For a non-Hermitian state or observable, wrong sizes, a density matrix that would not
        fit in memory (the message names the bytes), or when neither :math:`O` nor
        :math:`\rho` lies in :math:`i\mathfrak{g}`: the theorem does not apply, and the message
        reports the part of each outside :math:`\mathfrak{g}`.

    Notes
    -----
    Exact where :func:`qnncourse.lie.decompose` is exact (algebras spanned by Pauli strings);
    for algebras of Pauli sums the ideals come from a floating-point root decomposition
    verified to :math:`10^{-6}`.

    Examples
    --------
    The universal case reproduces the Haar value :math:`1/(2^n+1)` for :math:`\langle Z_0\rangle`:

    >>> round(lie_variance(["XI", "ZI", "IX", "IZ", "ZZ"], None, "ZI").value, 12)
    0.2
    """
    _reject_fixed_gates(circuit_or_generators)
    algebra = closure(circuit_or_generators)
    n = algebra.n_qubits
    rho = _density_matrix(state, n)
    observable = _observable_matrix(observable, n)
    parts = decompose(algebra)
    outside = []
    for name, operator in (("observable", observable), ("state", rho)):
        norm = _traceless_norm_squared(operator)
        inside = purity(operator, parts.algebra)
        outside.append((name, norm - inside, norm))
    if all(out > 1e-9 * max(1.0, norm) for _, out, norm in outside):
        shown = "; ".join(
            f"the {name} has {out:.4g} of its squared norm {norm:.4g} (traceless part) outside g"
            for name, out, norm in outside
        )
        raise ValueError(
            "lie_variance needs the observable or the state inside i*g (up to a multiple of "
            f"the identity), but {shown}: outside it the DLA alone does not fix the variance"
        )
    components = tuple(
        LieComponent(ideal.dim, purity(rho, ideal), purity(observable, ideal))
        for ideal in parts.simple
    )
    return LieVariance(
        float(sum(c.contribution for c in components)),
        components,
        algebra.dim,
        parts.centre.dim,
    )


def _reject_fixed_gates(circuit_or_generators: Any) -> None:
    """The theorem is about circuits made of the generators' rotations only."""
    if isinstance(circuit_or_generators, Circuit) and any(
        op.kind == "fixed" for op in circuit_or_generators.operations
    ):
        raise ValueError(
            "the circuit has fixed gates: with them the cost is Tr[F^dag O F U rho U^dag] for "
            "the product F of fixed gates, and repeating the circuit conjugates its generators "
            "by powers of F, so its DLA alone does not give the deep circuit's variance; pass "
            "the generators of the deep circuit (or a circuit of rotations only)"
        )


def _traceless_norm_squared(operator: Any) -> float:
    r""":math:`\mathrm{Tr}(H^2) - \mathrm{Tr}(H)^2/d`: the squared norm of :math:`H`'s traceless
    part, which a DLA (traceless) can contain in full."""
    if isinstance(operator, qutip.Qobj):
        matrix = operator.full()
    elif isinstance(operator, np.ndarray):
        matrix = operator
    else:
        ps = as_pauli_sum(operator)
        d = 2**ps.n_qubits
        identity = complex(ps.terms.get("I" * ps.n_qubits, 0))
        return float(d * sum(abs(c) ** 2 for c in ps.terms.values()) - d * abs(identity) ** 2)
    d = matrix.shape[0]
    return float(np.sum(np.abs(matrix) ** 2) - abs(np.trace(matrix)) ** 2 / d)


@dataclass(frozen=True, repr=False)
class LieVarianceCheck:
    """Predicted (:func:`lie_variance`) against measured variance over deep random circuits."""

    predicted: LieVariance
    measured: float
    ci: tuple[float, float]
    samples: np.ndarray
    depth: int

    @property
    def agrees(self) -> bool:
        """Whether the measured 95% interval covers the prediction."""
        return bool(self.ci[0] <= self.predicted.value <= self.ci[1])

    def __repr__(self) -> str:
        lo, hi = self.ci
        return (
            f"LieVarianceCheck(predicted {self.predicted.value:.4g}, measured "
            f"{self.measured:.4g} [{lo:.4g}, {hi:.4g}] at depth {self.depth}, "
            f"dim g = {self.predicted.dla_dimension})"
        )


def _block(circuit_or_generators: Any) -> Circuit:
    """The circuit to repeat: the circuit itself, or one rotation per Pauli-string generator."""
    if isinstance(circuit_or_generators, Circuit):
        if circuit_or_generators.n_features:
            raise ValueError("the circuit has data encodings: give one without features")
        return circuit_or_generators
    gens = (
        [circuit_or_generators]
        if isinstance(circuit_or_generators, str | PauliString | dict)
        else list(circuit_or_generators)
    )
    block = Circuit(closure(gens).n_qubits)
    for g in gens:
        terms = as_pauli_sum(g).terms
        if len(terms) != 1:
            raise ValueError(
                f"a generator with {len(terms)} Pauli terms cannot be sampled as one "
                "rotation here: build a Circuit with the rotations you mean and pass it"
            )
        block.pauli_rotation(next(iter(terms)))
    return block


def _prepared(circuit: Circuit, ket: np.ndarray) -> Circuit:
    """``circuit`` preceded by a fixed gate that maps :math:`|0\\dots0\\rangle` to ``ket``.

    The gate is the Householder reflection :math:`I - 2vv^\\dagger/\\|v\\|^2`,
    :math:`v = |0\\rangle - e^{-i\\phi}|\\psi\\rangle` (:math:`\\phi` the phase of
    :math:`\\psi_0`), which sends :math:`|0\\rangle` to :math:`e^{-i\\phi}|\\psi\\rangle`: the
    same state.
    """
    dim = ket.size
    phase = np.exp(-1j * np.angle(ket[0])) if abs(ket[0]) > 0 else 1.0
    v = -phase * ket
    v[0] += 1.0
    norm2 = np.vdot(v, v).real
    prep = np.eye(dim, dtype=complex)
    if norm2 > 1e-24:
        prep -= 2 * np.outer(v, v.conj()) / norm2
    out = Circuit(circuit.n_qubits).gate(prep, tuple(range(circuit.n_qubits)), "prep")
    for op in circuit.operations:
        out.append(op, param=None if op.param_index == out.n_params else op.param_index)
    return out


def lie_variance_check(
    circuit_or_generators: Any,
    state: Any,
    observable: Any,
    *,
    depth: int = 40,
    n_samples: int = 2000,
    confidence: float = 0.95,
    rng: Any = None,
) -> LieVarianceCheck:
    r"""Measure :math:`\operatorname{Var}_\theta[C]` on deep circuits and set it beside the
    prediction of :func:`lie_variance`.

    The deep circuit repeats ``circuit_or_generators`` ``depth`` times with fresh parameters
    (for generators: one rotation :math:`e^{-i\theta P/2}` per Pauli string per repetition),
    parameters uniform in :math:`[0, 2\pi)`. The state is prepared exactly (a mixed state
    through its eigen-decomposition), so the only error is sampling, reported as the 95%
    interval of :func:`variance_interval` (Bonett's, at ``confidence``).
    """
    check_count("depth", depth)
    check_count("n_samples", n_samples)
    predicted = lie_variance(circuit_or_generators, state, observable)
    deep = _block(circuit_or_generators).repeat(depth)
    weights, kets = np.linalg.eigh(_density_matrix(state, deep.n_qubits))
    thetas = random_parameters(deep.n_params, n_samples, rng)
    values = np.zeros(n_samples)
    for w, ket in zip(weights, kets.T, strict=True):
        if w > 1e-12:
            circuit = deep if state is None else _prepared(deep, ket)
            values += w * Cost(circuit, observable)(thetas)
    ci = variance_interval(values, confidence)
    return LieVarianceCheck(predicted, float(np.var(values, ddof=1)), ci, values, depth)
