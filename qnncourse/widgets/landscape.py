"""The landscape explorer: the cost along one or two parameters, with the parameter-shift rule."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from qnncourse import ansatz
from qnncourse.cost import Cost
from qnncourse.ensemble import random_parameters
from qnncourse.widgets.framework import (
    LEGEND_PT,
    TITLE_PT,
    Control,
    Explorer,
    ExplorerSpec,
    cost_observable,
    int_options,
    pi_label,
    subscript,
)

__all__ = ["SPEC", "LandscapeData", "landscape_explorer"]

_LANDSCAPE_CIRCUITS = {
    "hardware-efficient": lambda: ansatz.hardware_efficient(3, 2),
    "random Pauli": lambda: ansatz.random_pauli(3, 4, rng=7),
}
_N_LANDSCAPE_PARAMS = 12  # both circuits above have 12 parameters
_THETA_STEPS = tuple((pi_label(k, 8), k * math.pi / 8) for k in range(-8, 9))


@dataclass(frozen=True)
class LandscapeData:
    r"""The cost along parameter ``param`` through ``theta0`` (and optionally a second one).

    Attributes
    ----------
    xs, curve : numpy.ndarray
        :math:`C` along :math:`\theta_i \in [-\pi, \pi]`, the other parameters at ``theta0``.
    x, value : float
        The chosen :math:`\theta_i` and :math:`C` there.
    shifts, shift_values : numpy.ndarray
        :math:`\theta_i \pm \pi/2` and :math:`C` there.
    shift_derivative : float
        :math:`[C(\theta_i + \pi/2) - C(\theta_i - \pi/2)]/2` from those two values.
    library_shift, exact : float
        ``cost.gradient(..., method="parameter-shift")`` and the adjoint (exact) gradient,
        component ``param``.
    grid : tuple of numpy.ndarray or None
        ``(ys, values)`` with ``values[a, b]`` the cost at :math:`\theta_i = x_b`,
        :math:`\theta_j = y_a`, when a second parameter is chosen.
    """

    circuit: str
    cost: str
    param: int
    param2: int | None
    theta0: np.ndarray
    xs: np.ndarray
    curve: np.ndarray
    x: float
    value: float
    shifts: np.ndarray
    shift_values: np.ndarray
    shift_derivative: float
    library_shift: float
    exact: float
    grid: tuple[np.ndarray, np.ndarray] | None


def _landscape_cost(circuit: str, cost: str) -> tuple[Cost, np.ndarray]:
    """The cost and the point ``theta0`` (seeded) that the landscape is cut through."""
    c = _LANDSCAPE_CIRCUITS[circuit]()
    n = c.n_qubits
    theta0 = random_parameters(c.n_params, 1, rng=2024)[0]  # the shared ensemble
    return Cost(c, cost_observable(cost, n)), theta0


@functools.lru_cache(maxsize=128)
def _landscape_data(circuit: str = "hardware-efficient", cost: str = "local", param: int = 0,
                    param2: int | None = None, theta: float = 0.0) -> LandscapeData:
    """Compute the landscape view; every number comes from :class:`~qnncourse.cost.Cost`."""
    c, theta0 = _landscape_cost(circuit, cost)
    xs = np.linspace(-math.pi, math.pi, 121)
    line = np.tile(theta0, (xs.size, 1))
    line[:, param] = xs
    point = theta0.copy()
    point[param] = theta
    shifts = np.array([theta + math.pi / 2, theta - math.pi / 2])
    shifted = np.tile(point, (2, 1))
    shifted[:, param] = shifts
    shift_values = np.asarray(c(shifted))
    grid = None
    if param2 is not None and param2 != param:
        ys = np.linspace(-math.pi, math.pi, 41)
        xx = np.linspace(-math.pi, math.pi, 41)
        plane = np.tile(point, (ys.size * xx.size, 1))
        plane[:, param] = np.tile(xx, ys.size)
        plane[:, param2] = np.repeat(ys, xx.size)
        grid = (ys, np.asarray(c(plane)).reshape(ys.size, xx.size))
    return LandscapeData(
        circuit=circuit, cost=cost, param=param, param2=param2, theta0=theta0, xs=xs,
        curve=np.asarray(c(line)), x=theta, value=float(c(point)), shifts=shifts,
        shift_values=shift_values,
        shift_derivative=float((shift_values[0] - shift_values[1]) / 2),
        library_shift=float(c.gradient(point, method="parameter-shift")[param]),
        exact=float(c.gradient(point)[param]), grid=grid,
    )


def _draw_landscape(fig: Figure, d: LandscapeData) -> None:
    axes = fig.subplots(1, 2 if d.grid is not None else 1, squeeze=False)[0]
    ax = axes[0]
    ax.plot(d.xs, d.curve, color="C0", label=rf"$C$ along $\theta_{{{d.param}}}$")
    # The cost has period 2 pi in each parameter: draw a shift point that leaves the window at
    # its image inside it.
    shown = (d.shifts + math.pi) % (2 * math.pi) - math.pi
    ax.plot(shown, d.shift_values, "o", color="C1", label=r"shift points $\theta\pm\pi/2$")
    ax.plot([d.x], [d.value], "o", color="k")
    tangent = np.array([d.x - 0.8, d.x + 0.8])
    ax.plot(tangent, d.value + d.exact * (tangent - d.x), color="C3",
            label=f"exact slope {d.exact:+.3f}")
    ax.set_xlabel(rf"$\theta_{{{d.param}}}$")
    ax.set_ylabel(r"cost $C(\theta)$")
    ax.set_xlim(-math.pi, math.pi)
    ax.set_xticks([-math.pi, -math.pi / 2, 0, math.pi / 2, math.pi],
                  ["−π", "−π/2", "0", "π/2", "π"])
    ax.legend(fontsize=LEGEND_PT, loc="best")
    ax.set_title(f"{d.circuit}, {d.cost} cost", fontsize=TITLE_PT)
    if d.grid is not None:
        fig.subplots_adjust(right=0.9)
        ys, values = d.grid
        ax2 = axes[1]
        image = ax2.contourf(np.linspace(-math.pi, math.pi, values.shape[1]), ys, values, 20,
                             cmap="viridis")
        fig.colorbar(image, ax=ax2, label="cost")
        ax2.plot([d.x], [d.theta0[d.param2]], "o", color="w", markeredgecolor="k")
        ax2.set_xlabel(rf"$\theta_{{{d.param}}}$")
        ax2.set_ylabel(rf"$\theta_{{{d.param2}}}$")
        ax2.set_title("the cost in a plane of two parameters", fontsize=TITLE_PT)


def _landscape_readout(d: LandscapeData) -> str:
    theta = "θ" + subscript(d.param)
    return (
        f"C at {theta} = {d.x:+.3f}: {d.value:.4f}\n"
        f"parameter shift: [C({theta} + π/2) − C({theta} − π/2)] / 2 = "
        f"({d.shift_values[0]:.4f} − {d.shift_values[1]:.4f}) / 2 = {d.shift_derivative:+.6f}\n"
        f"library parameter-shift gradient: {d.library_shift:+.6f}   "
        f"exact (adjoint) derivative: {d.exact:+.6f}   "
        f"difference {abs(d.shift_derivative - d.exact):.1e}"
    )


SPEC = ExplorerSpec(
    name="landscape",
    title="Cost landscape and the parameter-shift rule",
    controls=(
        Control("circuit", "circuit", tuple((k, k) for k in _LANDSCAPE_CIRCUITS),
                "hardware-efficient"),
        Control("cost", "cost", (("local", "local"), ("global", "global")), "local"),
        Control("param", "parameter i", int_options(range(_N_LANDSCAPE_PARAMS)), 0),
        Control("param2", "second parameter j",
                (("none", None),) + int_options(range(_N_LANDSCAPE_PARAMS)), None),
        Control("theta", "θ" + subscript("i"), _THETA_STEPS, math.pi / 4, kind="slider"),
    ),
    compute=lambda progress, **v: _landscape_data(**v),
    draw=_draw_landscape,
    readout=_landscape_readout,
)


def landscape_explorer(*, dpi: int = 90, **values: Any) -> Explorer:
    r"""The cost along one parameter (or a plane of two), with the parameter-shift rule.

    For a rotation :math:`R_P(\theta_i) = e^{-i\theta_i P/2}` the cost is a sinusoid in
    :math:`\theta_i`, so :math:`\partial_i C = [C(\theta_i + \pi/2) - C(\theta_i - \pi/2)]/2`
    exactly (Mitarai et al. 2018; Schuld et al. 2019). The figure marks the two shift points on
    the curve and draws the tangent with the exact (adjoint) slope; the readout sets the
    two-point derivative beside :meth:`Cost.gradient` with ``method="parameter-shift"`` and
    the adjoint gradient.

    Controls (keyword arguments set their initial values): ``circuit``
    (``"hardware-efficient"`` 3 qubits × 2 layers, ``"random Pauli"`` 3 qubits × 4 layers;
    12 parameters each), ``cost`` (``"local"``, ``"global"``), ``param`` (0–11), ``param2``
    (``None`` or 0–11: adds the plane of two parameters), ``theta`` (:math:`k\pi/8`,
    :math:`k = -8..8`). The other parameters sit at a fixed random point.
    """
    return Explorer(SPEC, values, dpi=dpi)
