"""The plateau explorer: gradient variance against qubit count, with intervals and the slope."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from qnncourse import ansatz, plateaus
from qnncourse.cost import Cost
from qnncourse.widgets.framework import (
    LEGEND_PT,
    TITLE_PT,
    Control,
    Explorer,
    ExplorerSpec,
    Progress,
    cost_observable,
    int_options,
    log_scale,
    no_progress,
)

__all__ = ["SPEC", "PlateauData", "plateau_explorer"]

_PLATEAU_ANSATZE = ("hardware-efficient", "random Pauli", "alternating layered",
                    "tensor-product RX")


@dataclass(frozen=True)
class PlateauData:
    """Gradient variances per qubit count and the exponential fit through them (or ``None``)."""

    ansatz: str
    cost: str
    depth: int
    n_qubits: np.ndarray
    results: tuple
    fit: Any


def _plateau_cost(ansatz_name: str, cost: str, depth: int, n: int,
                  rng: np.random.Generator) -> Cost:
    """The cost of one scan point; ``rng`` also fixes the random Pauli circuit's axes."""
    builders = {
        "hardware-efficient": lambda: ansatz.hardware_efficient(n, depth),
        "random Pauli": lambda: ansatz.random_pauli(n, depth, rng=rng),
        "alternating layered": lambda: ansatz.alternating_layered(n, depth),
        "tensor-product RX": lambda: ansatz.tensor_product_rx(n),
    }
    return Cost(builders[ansatz_name](), cost_observable(cost, n))


@functools.lru_cache(maxsize=512)
def _plateau_point(ansatz_name: str, cost: str, depth: int, n: int, samples: int,
                   seed: int) -> plateaus.GradientVariance:
    r""":func:`~qnncourse.plateaus.gradient_variance` of :math:`\partial_0 C` at ``n`` qubits,
    from the generator ``default_rng([seed, n])`` (so each point is cached on its own)."""
    rng = np.random.default_rng([seed, n])
    return plateaus.gradient_variance(_plateau_cost(ansatz_name, cost, depth, n, rng),
                                      samples, 0, rng)


def _plateau_data(ansatz: str = "hardware-efficient", cost: str = "global", depth: int = 4,
                  qubits: tuple[int, int] = (2, 8), samples: int = 200, seed: int = 0,
                  progress: Progress = no_progress) -> PlateauData:
    """The scan behind :func:`plateau_explorer`: one cached point per qubit count, then
    :func:`~qnncourse.plateaus.exponential_fit` (skipped if a variance is zero)."""
    ns = list(range(qubits[0], qubits[1] + 1))
    results = []
    for k, n in enumerate(ns):
        progress(k, len(ns))
        results.append(_plateau_point(ansatz, cost, depth, n, samples, seed))
    progress(len(ns), len(ns))
    fit = None
    if all(r.ci[0] > 0 for r in results):
        fit = plateaus.exponential_fit(ns, [r.variance for r in results],
                                       [r.ci for r in results])
    return PlateauData(ansatz, cost, depth, np.array(ns), tuple(results), fit)


def _draw_plateau(fig: Figure, d: PlateauData) -> None:
    ax = fig.subplots()
    var = np.array([r.variance for r in d.results])
    ci = np.array([r.ci for r in d.results])
    ax.errorbar(d.n_qubits, var, yerr=[var - ci[:, 0], ci[:, 1] - var], fmt="o", capsize=3,
                label=f"Var[∂C/∂θ₀], 95 % interval ({d.results[0].n_samples} draws)")
    if d.fit is not None:
        n = np.linspace(d.n_qubits[0], d.n_qubits[-1], 50)
        ax.plot(n, np.exp(d.fit.intercept + d.fit.slope * n), "--", color="C3",
                label=f"fit: slope {d.fit.slope:.3f} per qubit")
    log_scale(ax)
    ax.set_xlabel("qubits n")
    ax.set_ylabel("gradient variance")
    ax.set_xticks(d.n_qubits)
    depth = "" if d.ansatz == "tensor-product RX" else f", {d.depth} layers"
    ax.set_title(f"{d.ansatz}{depth}, {d.cost} cost", fontsize=TITLE_PT)
    ax.legend(fontsize=LEGEND_PT)


def _plateau_readout(d: PlateauData) -> str:
    lines = [" ".join(f"n={n}: {r.variance:.3g}" for n, r in zip(d.n_qubits, d.results,
                                                                   strict=True))]
    if d.fit is None:
        lines.append("no fit: a variance is exactly zero (the parameter does not move the cost)")
    else:
        lo, hi = d.fit.slope_ci
        lines.append(f"d ln Var / dn = {d.fit.slope:.3f}, 95 % interval [{lo:.3f}, {hi:.3f}]: "
                     f"Var shrinks by a factor {1 / d.fit.base:.3g} per added qubit")
    if d.ansatz == "tensor-product RX":
        lines.append("(this circuit has one layer whatever the depth control says)")
    return "\n".join(lines)


SPEC = ExplorerSpec(
    name="plateau",
    title="Barren plateaus: gradient variance against qubits",
    controls=(
        Control("ansatz", "ansatz", tuple((a, a) for a in _PLATEAU_ANSATZE),
                "hardware-efficient"),
        Control("cost", "cost", (("global", "global"), ("local", "local")), "global"),
        Control("depth", "layers", int_options((1, 2, 3, 4, 6, 8, 12, 16)), 4, kind="slider"),
        Control("qubits", "qubits", int_options(range(2, 11)), (2, 8), kind="range"),
        Control("samples", "draws", int_options((100, 200, 500)), 200),
    ),
    compute=lambda progress, **v: _plateau_data(progress=progress, **v),
    draw=_draw_plateau,
    readout=_plateau_readout,
    figsize=(6.4, 3.4),
)


def plateau_explorer(*, dpi: int = 90, **values: Any) -> Explorer:
    r"""Gradient variance against qubit count, with intervals and the fitted slope.

    Each point is :func:`qnncourse.plateaus.gradient_variance` of :math:`\partial C/\partial
    \theta_0` over uniform draws (McClean et al. 2018); the line is
    :func:`qnncourse.plateaus.exponential_fit`, :math:`\ln\operatorname{Var} = a + b\,n`, whose
    slope :math:`b` and its 95 % interval the readout gives. A barren plateau is :math:`b < 0`
    with an interval that excludes 0; the local cost of a shallow circuit keeps :math:`b`
    near 0 (Cerezo et al. 2021).

    Controls: ``ansatz`` (``"hardware-efficient"``, ``"random Pauli"``,
    ``"alternating layered"``, ``"tensor-product RX"``), ``cost`` (``"global"``, ``"local"``),
    ``depth`` (layers: 1, 2, 3, 4, 6, 8, 12, 16), ``qubits`` (a range ``(lo, hi)`` within
    2–10), ``samples`` (100, 200, 500).
    """
    return Explorer(SPEC, values, dpi=dpi)
