"""The DLA explorer: dimension of the dynamical Lie algebra, or the variance it predicts."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from qnncourse import ansatz, lie, plateaus
from qnncourse.widgets.framework import (
    LEGEND_PT,
    TITLE_PT,
    Control,
    Explorer,
    ExplorerSpec,
    Progress,
    int_options,
    log_scale,
    no_progress,
    subscript,
)

__all__ = ["SPEC", "DlaData", "DlaVarianceData", "dla_explorer"]

def _chain(words: Sequence[str], n: int) -> list[str]:
    """Every word placed on every window of consecutive qubits of an open chain."""
    return [("I" * i + w + "I" * (n - i - len(w))) for w in words for i in range(n - len(w) + 1)]


_DLA_FAMILIES = {
    "transverse-field Ising: X_i, Z_iZ_i+1": lambda n: _chain(["X", "ZZ"], n),
    "Ising with both fields: X_i, Z_i, Z_iZ_i+1": lambda n: _chain(["X", "Z", "ZZ"], n),
    "XY chain: X_iX_i+1, Y_iY_i+1": lambda n: _chain(["XX", "YY"], n),
    "Heisenberg: X_iX_i+1 + Y_iY_i+1 + Z_iZ_i+1": lambda n: [
        {a: 1.0, b: 1.0, c: 1.0} for a, b, c in zip(*(_chain([p], n) for p in ("XX", "YY", "ZZ")),
                                                    strict=True)],
    "hardware-efficient circuit, 2 layers": lambda n: ansatz.hardware_efficient(n, 2),
}




def _plain(text: str) -> str:
    """``X_iX_i+1`` and ``X_0`` as the reader should see them in plain text: XᵢXᵢ₊₁, X₀."""
    return re.sub(r"_(i\+1|i|\d+)", lambda m: subscript(m.group(1)), text)


# The exact closure of sums of Pauli strings is slow beyond this (Heisenberg, n = 7: ~35 s).
_DLA_MAX_QUBITS = {"Heisenberg: X_iX_i+1 + Y_iY_i+1 + Z_iZ_i+1": 6}


@functools.lru_cache(maxsize=256)
def _dla_dimension(family: str, n: int) -> int:
    """:func:`qnncourse.lie.dimension` of a family on ``n`` qubits."""
    return lie.dimension(_DLA_FAMILIES[family](n))


@dataclass(frozen=True)
class DlaData:
    r"""DLA dimensions of one generator family: ``dims[k]`` is :math:`\dim\mathfrak g` on
    ``n_qubits[k]`` qubits (see :func:`qnncourse.lie.dla_dimension`)."""

    family: str
    n_qubits: np.ndarray
    dims: np.ndarray
    capped_at: int | None = None  # the family's largest n, when the range asked for more


def _dla_data(family: str = "transverse-field Ising: X_i, Z_iZ_i+1",
              qubits: tuple[int, int] = (2, 5), progress: Progress = no_progress) -> DlaData:
    """DLA dimensions of ``family`` for each qubit count in ``qubits`` (inclusive, at most
    the family's entry in ``_DLA_MAX_QUBITS``)."""
    top = _DLA_MAX_QUBITS.get(family, qubits[1])
    ns = list(range(qubits[0], min(qubits[1], top) + 1))
    dims = []
    for k, n in enumerate(ns):
        progress(k, len(ns))
        dims.append(_dla_dimension(family, n))
    progress(len(ns), len(ns))
    return DlaData(family, np.array(ns), np.array(dims), top if qubits[1] > top else None)


# The variance view: families of Pauli-string generators (the deep circuit is one rotation per
# generator per layer), each with an observable inside its algebra; rho = |0...0>.
_VARIANCE_OBSERVABLES = {
    "transverse-field Ising: X_i, Z_iZ_i+1": "X",
    "Ising with both fields: X_i, Z_i, Z_iZ_i+1": "X",
}
_VARIANCE_MAX_QUBITS = 5
# At depth 40 (the library's default) su(32) (both fields, n = 5) is still sampled with a
# visible bias above the prediction; at 60 it is inside the interval, and 500 draws keep a scan
# near half a second.
_VARIANCE_DEPTH = 60
_VARIANCE_SAMPLES = 500
_VARIANCE_SEED = 2024


@functools.lru_cache(maxsize=64)
def _dla_variance_point(family: str, n: int) -> plateaus.LieVarianceCheck:
    """:func:`qnncourse.plateaus.lie_variance_check` of a family on ``n`` qubits, O = X_0."""
    observable = _VARIANCE_OBSERVABLES[family].ljust(n, "I")
    return plateaus.lie_variance_check(_DLA_FAMILIES[family](n), None, observable,
                                       depth=_VARIANCE_DEPTH, n_samples=_VARIANCE_SAMPLES,
                                       rng=_VARIANCE_SEED)


@dataclass(frozen=True)
class DlaVarianceData:
    r"""The Lie-algebraic variance law checked by sampling, per qubit count: ``predicted`` is
    :math:`\mathrm{Var}\,C` from :func:`qnncourse.plateaus.lie_variance` (Ragone et al. 2024),
    ``measured`` the sample variance over ``n_samples`` random parameter vectors of a circuit
    ``depth`` layers deep, with its 95 % interval ``ci``."""

    family: str
    observable: str
    n_qubits: np.ndarray
    dims: np.ndarray
    predicted: np.ndarray
    measured: np.ndarray
    ci: np.ndarray  # (len(n_qubits), 2): the measured variance's 95% interval
    depth: int
    n_samples: int
    capped_at: int | None = None


def _dla_variance_data(family: str = "transverse-field Ising: X_i, Z_iZ_i+1",
                       qubits: tuple[int, int] = (2, 5),
                       progress: Progress = no_progress) -> DlaVarianceData:
    r"""Predicted (:func:`qnncourse.plateaus.lie_variance`) and measured variance of
    :math:`\langle X_0\rangle` for each qubit count in ``qubits`` (at most 5)."""
    if family not in _VARIANCE_OBSERVABLES:
        raise ValueError(f"the variance view needs a family of Pauli-string generators with "
                         f"X_0 in its algebra, one of {list(_VARIANCE_OBSERVABLES)}; got "
                         f"{family!r}")
    ns = list(range(qubits[0], min(qubits[1], _VARIANCE_MAX_QUBITS) + 1))
    checks = []
    for k, n in enumerate(ns):
        progress(k, len(ns))
        checks.append(_dla_variance_point(family, n))
    progress(len(ns), len(ns))
    return DlaVarianceData(
        family, "X_0", np.array(ns), np.array([c.predicted.dla_dimension for c in checks]),
        np.array([c.predicted.value for c in checks]), np.array([c.measured for c in checks]),
        np.array([c.ci for c in checks]), _VARIANCE_DEPTH, _VARIANCE_SAMPLES,
        _VARIANCE_MAX_QUBITS if qubits[1] > _VARIANCE_MAX_QUBITS else None)


def _draw_dla(fig: Figure, d: DlaData | DlaVarianceData) -> None:
    if isinstance(d, DlaVarianceData):
        _draw_dla_variance(fig, d)
        return
    ax = fig.subplots()
    n = d.n_qubits
    ax.plot(n, 4.0**n - 1, "--", color="0.5", label=r"$4^n-1$: $\mathfrak{su}(2^n)$")
    ax.plot(n, n * (2 * n - 1), ":", color="0.3", label=r"$n(2n-1)$: $\mathfrak{so}(2n)$")
    ax.plot(n, d.dims, "o-", color="C0", label=r"$\dim\mathfrak{g}$")
    log_scale(ax)
    ax.set_xticks(n)
    ax.set_xlabel("qubits n")
    ax.set_ylabel("DLA dimension")
    ax.set_title(_plain(d.family), fontsize=TITLE_PT)
    ax.legend(fontsize=LEGEND_PT)


def _draw_dla_variance(fig: Figure, d: DlaVarianceData) -> None:
    fig.subplots_adjust(left=0.16)  # room for log tick labels such as 3x10^-2
    ax = fig.subplots()
    n = d.n_qubits
    ax.plot(n, d.predicted, "s--", color="C1", label=r"predicted $\sum_\alpha P(\rho)P(O)/"
            r"\dim\mathfrak{g}_\alpha$")
    ax.errorbar(n, d.measured, yerr=np.abs(d.ci - d.measured[:, None]).T, fmt="o", color="C0",
                capsize=3, label=f"measured, depth {d.depth}, {d.n_samples} draws (95%)")
    log_scale(ax)
    ax.set_xticks(n)
    ax.set_xlabel("qubits n")
    ax.set_ylabel(rf"Var$[\langle {d.observable}\rangle]$, $\rho=|0\ldots0\rangle$")
    ax.set_title(_plain(d.family), fontsize=TITLE_PT)
    ax.legend(fontsize=LEGEND_PT)


def _dla_readout(d: DlaData | DlaVarianceData) -> str:
    if isinstance(d, DlaVarianceData):
        return _dla_variance_readout(d)
    dims = ", ".join(f"n={n}: {g}" for n, g in zip(d.n_qubits, d.dims, strict=True))
    lines = [f"dim g: {dims}"]
    if d.n_qubits.size > 1:
        ratios = d.dims[1:] / d.dims[:-1]
        # Growth like n^k has log-log slope k; exponential growth has a slope that keeps rising.
        slopes = np.diff(np.log(d.dims)) / np.diff(np.log(d.n_qubits))
        lines.append(f"growth per added qubit: ×{', ×'.join(f'{r:.2f}' for r in ratios)}; "
                     f"log-log slope {', '.join(f'{s:.2f}' for s in slopes)} "
                     "(settles for polynomial growth, keeps rising for exponential)")
    if d.capped_at is not None:
        lines.append(f"this family is computed up to n = {d.capped_at} only (its exact closure "
                     "takes much longer beyond)")
    return "\n".join(lines)


def _dla_variance_readout(d: DlaVarianceData) -> str:
    lines = [f"O = {_plain(d.observable)}, ρ = |0…0⟩, {d.n_samples} circuits of depth {d.depth}:"]
    for n, g, p, m, (lo, hi) in zip(d.n_qubits, d.dims, d.predicted, d.measured, d.ci,
                                    strict=True):
        verdict = "covers" if lo <= p <= hi else "misses"
        lines.append(f"n={n}: dim g = {g}, predicted {p:.4g}, measured {m:.4g} "
                     f"[{lo:.4g}, {hi:.4g}] ({verdict} the prediction)")
    if d.capped_at is not None:
        lines.append(f"the variance view is computed up to n = {d.capped_at} only")
    return "\n".join(lines)


def _dla_compute(progress: Progress, view: str, **values: Any) -> DlaData | DlaVarianceData:
    step = _dla_data if view == "dimension" else _dla_variance_data
    return step(progress=progress, **values)


SPEC = ExplorerSpec(
    name="dla",
    title="Dynamical Lie algebra dimension against qubits",
    controls=(
        Control("family", "generators", tuple((_plain(k), k) for k in _DLA_FAMILIES),
                "transverse-field Ising: X_i, Z_iZ_i+1"),
        Control("qubits", "qubits", int_options(range(2, 8)), (2, 5), kind="range"),
        Control("view", "view", (("DLA dimension", "dimension"),
                                 ("predicted vs measured variance", "variance")), "dimension"),
    ),
    compute=_dla_compute,
    draw=_draw_dla,
    readout=_dla_readout,
    figsize=(6.4, 3.4),
)


def dla_explorer(*, dpi: int = 90, **values: Any) -> Explorer:
    r"""Dimension of the dynamical Lie algebra of a generator family against qubit count.

    :func:`qnncourse.lie.dimension` for each :math:`n`, against :math:`4^n - 1`
    (:math:`\mathfrak{su}(2^n)`, the controllable case with a barren plateau) and
    :math:`n(2n-1)` (:math:`\mathfrak{so}(2n)`, the free-fermion case) (Larocca et al. 2022;
    Ragone et al. 2024).

    With ``view="variance"`` it shows instead, for each :math:`n` up to 5, the variance of
    :math:`C = \langle X_0\rangle` from :math:`\rho = |0\dots0\rangle` that the DLA predicts
    for a deep circuit, :func:`qnncourse.plateaus.lie_variance` (Ragone et al. 2024, Theorem 1),
    beside the variance measured on 500 random circuits of 60 layers with its 95 % interval,
    :func:`qnncourse.plateaus.lie_variance_check` (seeded): :math:`\mathfrak{so}(2n)` keeps it
    polynomially small, :math:`\mathfrak{su}(2^n)` makes it fall like :math:`2^{-n}`.

    Controls: ``family`` (transverse-field Ising, Ising with both fields, XY chain,
    Heisenberg chain, hardware-efficient circuit; the variance view takes the two Ising
    families, whose generators are Pauli strings with :math:`X_0` in their algebra),
    ``qubits`` (a range within 2–7), ``view`` (``"dimension"``, the default, or
    ``"variance"``).
    """
    return Explorer(SPEC, values, dpi=dpi)
