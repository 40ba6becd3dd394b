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

Figures are drawn at the size the site shows them: the text column of a page read at 1280 px
is 672 CSS px wide, and a notebook shows a figure at ``figure.dpi`` (100) px per inch, so a
figure is at most :data:`COLUMN_WIDTH` inches wide (:func:`column_figsize`); a wider one would
be shrunk, and its 11 pt labels with it. :func:`log_axis` labels a log axis without the
overlapping minor labels matplotlib writes on an axis spanning less than a decade. The colour
maps are :data:`SEQUENTIAL` and :data:`DIVERGING`, both readable with the common colour-vision
deficiencies (checked in the tests by simulating them).

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
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from qnncourse.figure_text import record_text_size
from qnncourse.plateaus import DesignScan, VarianceScan

__all__ = [
    "COLORS",
    "COLUMN_WIDTH",
    "DIVERGING",
    "SEQUENTIAL",
    "STYLE",
    "column_figsize",
    "log_axis",
    "plot_closed_form",
    "plot_design_scan",
    "plot_variance_scan",
    "use_style",
]

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")
THEORY_COLOR = "#333333"
SEQUENTIAL = "cividis"
"""Colour map of a magnitude: lightness rises monotonically, also as seen with a deficiency."""
DIVERGING = "RdBu"
"""Colour map of a signed quantity (ColorBrewer's red-blue: both sides stay apart and their
lightness falls away from the white middle, also as seen with a colour-vision deficiency)."""

FIGURE_DPI = 100
COLUMN_WIDTH = 6.7
"""Widest figure, in inches at :data:`FIGURE_DPI`: the 672 px column of a page at 1280 px."""

STYLE: dict[str, Any] = {
    "figure.figsize": (COLUMN_WIDTH, 4.0),
    "figure.dpi": FIGURE_DPI,
    "image.cmap": SEQUENTIAL,
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
    """Apply the course's figure style (:data:`STYLE`) to matplotlib's ``rcParams``.

    In a notebook it also marks each figure's PNG with the size of its smallest text
    (:func:`qnncourse.figure_text.record_text_size`), which the site's browser test reads.
    """
    mpl.rcParams.update(STYLE)
    record_text_size()


def column_figsize(height: float = 4.0, fraction: float = 1.0) -> tuple[float, float]:
    """``(width, height)`` in inches of a figure ``fraction`` of the text column wide.

    >>> column_figsize(3.0)
    (6.7, 3.0)
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1] of the column width, got {fraction}")
    if not height > 0:
        raise ValueError(f"height must be positive (inches), got {height}")
    return (round(COLUMN_WIDTH * fraction, 3), float(height))


def _short_number(value: float, _pos: Any = None) -> str:
    """A tick value in few characters: 0.3, 20, 5e-05."""
    return f"{value:.3g}".replace("e-0", "e-").replace("e+0", "e")


def log_axis(ax: Axes, which: str = "y") -> Axes:
    """Put one axis of ``ax`` on a log scale whose labels never overlap.

    Over two decades or more only the powers of ten are labelled (minor ticks stay
    unlabelled); over less, where matplotlib labels crowded minor ticks in scientific notation
    ("3×10⁻¹4×10⁻¹..."), the ticks are 1, 2 and 5 times powers of ten with short labels
    ("0.2", "0.5"), or every multiple on a very short range. The choice is made at draw time,
    from the limits then in force.
    """
    ax = _axes(ax)
    if which not in ("x", "y"):
        raise ValueError(f"which must be 'x' or 'y', got {which!r}")
    axis = ax.yaxis if which == "y" else ax.xaxis
    (ax.set_yscale if which == "y" else ax.set_xscale)("log")
    axis.set_major_locator(_DecadeOrSteps())
    axis.set_minor_formatter(NullFormatter())
    axis.set_major_formatter(FuncFormatter(_log_label))
    return ax


def _log_label(value: float, _pos: Any = None) -> str:
    exponent = np.log10(value) if value > 0 else np.nan
    if np.isfinite(exponent) and abs(exponent - round(exponent)) < 1e-9 and abs(exponent) > 2:
        return rf"$10^{{{int(round(exponent))}}}$"
    return _short_number(value)


class _DecadeOrSteps(LogLocator):
    """Log ticks that fit the axis: powers of ten where they give three ticks or more, else
    1-2-5 (or 1-2-3-5, or every integer) times them, thinned so that no two are closer than
    the axis has room for (matplotlib's ``Axis.get_tick_space`` labels); on a range too short
    for two of those, evenly spaced round numbers."""

    _SUBS = ((1.0,), (1.0, 2.0, 5.0), (1.0, 2.0, 3.0, 5.0), tuple(np.arange(1.0, 10.0)))

    def __init__(self) -> None:
        super().__init__(base=10.0)

    def tick_values(self, vmin: float, vmax: float) -> np.ndarray:
        lo, hi = sorted((vmin, vmax))
        self.set_params(subs=(1.0,))
        if lo <= 0:
            return super().tick_values(lo, hi)
        room = max(int(self.axis.get_tick_space()), 2) if self.axis is not None else 9
        best = np.array([])
        for subs in self._SUBS:
            self.set_params(subs=subs)
            ticks = super().tick_values(lo, hi)
            inside = ticks[(ticks >= lo * (1 - 1e-9)) & (ticks <= hi * (1 + 1e-9))]
            kept = _spaced(inside, lo, hi, 1 / room)
            if len(kept) >= 3:
                return kept
            if len(kept) > len(best):
                best = kept
        self.set_params(subs=(1.0,))
        if len(best) >= 2:
            return best
        return MaxNLocator(nbins=max(room - 1, 1), steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)


def _spaced(ticks: np.ndarray, lo: float, hi: float, gap: float) -> np.ndarray:
    """The ticks, from the lowest up, that sit at least ``gap`` (a fraction of the log axis)
    above the previous one kept."""
    kept: list[float] = []
    for tick in ticks:
        if not kept or np.log(tick / kept[-1]) / np.log(hi / lo) >= gap:
            kept.append(tick)
    return np.array(kept)


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
    log_axis(ax, "y")
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
    log_axis(ax, "y")
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
