r"""The course's figure style and the standard figures the chapters share.

Every figure of the book is drawn with :func:`use_style` (one palette, readable sizes, light
grids). The standard figures draw the library's result objects exactly as they are, so a
reader can check a plotted point against the printed number:

* :func:`plot_variance_scan`: a :class:`~qnncourse.plateaus.VarianceScan` as
  :math:`\operatorname{Var}_\theta[\partial_k C]` against :math:`n` on a log scale, each
  point with its confidence interval, and the fitted line
  :math:`e^{a + b n}` labelled with the slope :math:`b` and its interval [McClean2018]_;
* :func:`plot_design_scan`: a :class:`~qnncourse.plateaus.DesignScan` as the ratio of the frame
  potential to its Haar value against depth (1 for a state 2-design);
* :func:`plot_closed_form`: a formula's curve, drawn the same way in every chapter (dashed,
  dark), so measured points and theory are told apart at a glance.

References
----------
.. [McClean2018] J. R. McClean, S. Boixo, V. N. Smelyanskiy, R. Babbush and H. Neven, "Barren
   plateaus in quantum neural network training landscapes", Nat. Commun. 9, 4812 (2018),
   https://doi.org/10.1038/s41467-018-07090-4
"""

from __future__ import annotations

from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from qnncourse.plateaus import DesignScan, VarianceScan

__all__ = [
    "COLORS",
    "STYLE",
    "plot_closed_form",
    "plot_design_scan",
    "plot_variance_scan",
    "use_style",
]

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")
THEORY_COLOR = "#333333"

STYLE: dict[str, Any] = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "font.size": 11,
    "axes.titlesize": 11,
    "axes.labelsize": 11,
    "legend.fontsize": 10,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.markersize": 5,
    "errorbar.capsize": 3,
    "axes.prop_cycle": mpl.cycler(color=list(COLORS)),
}


def use_style() -> None:
    """Apply the course's figure style (:data:`STYLE`) to matplotlib's ``rcParams``."""
    mpl.rcParams.update(STYLE)


def _axes(ax: Axes | None) -> Axes:
    if ax is None:
        return plt.gca()
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def plot_variance_scan(scan: VarianceScan, ax: Axes | None = None, *, label: str | None = None,
                       color: str | None = None, fit: bool = True) -> Axes:
    r"""Gradient variance against the number of qubits, with intervals and the fitted slope.

    Each point is ``scan.variances[i]`` at ``scan.n_qubits[i]`` with an error bar from
    ``scan.ci[i, 0]`` to ``scan.ci[i, 1]``. With ``fit=True`` the fitted line
    :math:`\exp(a + b\,n)` of ``scan.fit`` is drawn over the scanned range and the legend
    names the slope :math:`b = d\ln\operatorname{Var}/dn` with its confidence interval.

    Parameters
    ----------
    scan : VarianceScan
        From :func:`qnncourse.plateaus.variance_scan`.
    ax : matplotlib Axes, optional
        Default: the current axes.
    label : str, optional
        Legend entry of the points (e.g. ``"global cost"``).
    color : str, optional
        Default: the next colour of the axes' cycle.
    fit : bool
        Draw the fitted line (leave it out for a decay that is not exponential).

    Returns
    -------
    matplotlib Axes
    """
    if not isinstance(scan, VarianceScan):
        raise TypeError(f"scan must be a VarianceScan (from qnncourse.plateaus.variance_scan), "
                        f"got {type(scan).__name__}")
    ax = _axes(ax)
    n, var, ci = scan.n_qubits, scan.variances, scan.ci
    yerr = np.vstack([var - ci[:, 0], ci[:, 1] - var])
    points = ax.errorbar(n, var, yerr=yerr, fmt="o", color=color, label=label)
    if fit:
        grid = np.linspace(n.min(), n.max(), 50)
        lo, hi = scan.fit.slope_ci
        ax.plot(grid, np.exp(scan.fit.intercept + scan.fit.slope * grid), "-", lw=1.2,
                color=points.lines[0].get_color(), alpha=0.8,
                label=f"fit: slope {scan.fit.slope:.3f} [{lo:.3f}, {hi:.3f}]")
    ax.set_yscale("log")
    ax.set_xlabel("number of qubits $n$")
    k = scan.results[0].param
    ax.set_ylabel(rf"$\mathrm{{Var}}_\theta[\partial C/\partial\theta_{{{k}}}]$")
    return ax


def plot_design_scan(scan: DesignScan, ax: Axes | None = None, *, label: str | None = None,
                     color: str | None = None) -> Axes:
    r"""Frame potential over its Haar value, :math:`F^{(t)}/F^{(t)}_\mathrm{Haar}`, against depth.

    Each point is ``potential.ratio`` with an error bar of ``potential.stderr /
    potential.haar`` either side; the dashed line at 1 is the Haar value, reached exactly by a
    state :math:`t`-design. The y axis is logarithmic.

    Parameters
    ----------
    scan : DesignScan
        From :func:`qnncourse.plateaus.two_design_depth`.
    ax : matplotlib Axes, optional
    label, color : str, optional

    Returns
    -------
    matplotlib Axes
    """
    if not isinstance(scan, DesignScan):
        raise TypeError(f"scan must be a DesignScan (from qnncourse.plateaus.two_design_depth), "
                        f"got {type(scan).__name__}")
    ax = _axes(ax)
    ratio = np.array([fp.ratio for fp in scan.potentials])
    err = np.array([fp.stderr / fp.haar for fp in scan.potentials])
    ax.errorbar(scan.depths, ratio, yerr=err, fmt="o-", color=color, label=label)
    if not any(line.get_gid() == "haar" for line in ax.lines):
        ax.axhline(1.0, ls="--", color=THEORY_COLOR, lw=1, gid="haar",
                   label="Haar value (state 2-design)")
    ax.set_yscale("log")
    ax.set_xlabel("depth (layers)")
    ax.set_ylabel(rf"$F^{{({scan.potentials[0].t})}} / F^{{({scan.potentials[0].t})}}"
                  r"_\mathrm{Haar}$")
    return ax


def plot_closed_form(ax: Axes | None, x: Any, y: Any, label: str | None,
                     **kwargs: Any) -> Axes:
    """A closed-form curve ``y(x)``, drawn dashed in the course's theory colour.

    ``label=None`` leaves the curve out of the legend; ``kwargs`` go to ``Axes.plot`` (e.g.
    ``marker`` for a formula known only at integers).
    """
    ax = _axes(ax)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D of the same length, got shapes {x.shape} and "
                         f"{y.shape}")
    style = {"ls": "--", "color": THEORY_COLOR, "lw": 1.2} | kwargs
    ax.plot(x, y, label=label, **style)
    return ax
