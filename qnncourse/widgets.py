r"""Five explorers: live ipywidgets views over the library, and their kernel-free static form.

Each explorer is a thin view: a handful of controls, a pure compute step that calls the library
(:mod:`qnncourse.cost`, :mod:`qnncourse.plateaus`, :mod:`qnncourse.noise`,
:mod:`qnncourse.optim`, :mod:`qnncourse.lie`) and is cached on the control values, a figure and
a text readout. Nothing here re-implements a computation of the library.

=============================  ===========================================================
explorer                       shows
=============================  ===========================================================
:func:`landscape_explorer`     the cost along one or two parameters, the two parameter-shift
                               points on the sinusoid and the exact derivative
:func:`plateau_explorer`       :math:`\operatorname{Var}[\partial_1 C]` against :math:`n`
                               with its interval, the fitted slope and the slope's interval
:func:`noise_explorer`         gradients shrinking with depth under noise, beside Wang et
                               al.'s bound
:func:`optimizer_race`         GD, Adam, SPSA and QNG: cost against circuit evaluations
:func:`dla_explorer`           the DLA dimension against :math:`n` for a generator family,
                               or the variance the DLA predicts beside the measured one
=============================  ===========================================================

A live explorer (:class:`Explorer`, an ``ipywidgets.VBox``) computes in a background thread,
so the kernel never freezes; a progress bar shows multi-step work (a scan over qubit counts,
one run per optimizer) and a newer setting cancels older work between steps. At the default
sizes a change answers in about a second or less (``benchmarks/bench_widgets.py`` measures it).
``explorer.wait()`` blocks until the current result is shown and returns it (for tests and
scripts); ``explorer.set(name=value, ...)`` moves controls from code.

In the static book
------------------
A reader of the rendered HTML has no kernel. myst-nb does keep the widget state of an executed
cell and html-manager draws working-looking sliders from it, but no Python runs: moving one
changes its own readout and nothing else. So the book never shows a live explorer. It shows
:func:`static_explorer` instead: the explorer's figures and readouts precomputed at build time
over a small grid of control values, switched by plain ``<select>`` / ``<input type=range>``
controls and a few lines of inline JavaScript (no kernel, no widget manager, nothing loaded
from elsewhere), under a caption that says so and says how to run it live.

The pattern in a chapter is two cells and a sentence::

    To run the explorer live, open this page as a notebook (the launch button at the top, or
    ``jupyter lab book/02_gradients.md``) and run the cell below.

    ```{code-cell} ipython3
    :tags: [skip-execution]
    from qnncourse import widgets
    widgets.landscape_explorer()
    ```

    ```{code-cell} ipython3
    :tags: [remove-input]
    widgets.static_explorer("landscape", notebook="book/02_gradients.md",
                            theta=[k * np.pi / 4 for k in range(-4, 5)],
                            cost=["local", "global"])
    ```

The live cell is tagged ``skip-execution``, not executed with its output removed: an executed
widget cell stores widget state in the notebook even when its output is removed, and myst-nb
then loads require.js and html-manager's 3.6 MB ``embed-amd.js`` on the page to draw nothing.
The static cell builds no widget at all, so the page carries no widget state.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import io
import itertools
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import ipywidgets
import numpy as np
from IPython.display import HTML
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter

from qnncourse import ansatz, lie, noise, observables, optim, plateaus
from qnncourse.cost import Cost

__all__ = [
    "EXPLORERS",
    "Control",
    "Explorer",
    "dla_explorer",
    "landscape_explorer",
    "noise_explorer",
    "optimizer_race",
    "plateau_explorer",
    "static_explorer",
]

Progress = Callable[[int, int], None]

# Static explorers embed every frame in the page: refuse grids that would make it heavy.
_MAX_STATIC_FRAMES = 48
_MAX_STATIC_BYTES = 1_500_000
# Rendered frames a live explorer keeps (about 30 kB each).
_MAX_LIVE_FRAMES = 64


class _Superseded(Exception):
    """Raised inside a computation when a newer control setting has made it pointless."""


# ---------------------------------------------------------------------------------------------
# Controls and explorer specifications
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Control:
    """One control of an explorer.

    Attributes
    ----------
    name : str
        Keyword of the compute step.
    label : str
        What the reader sees.
    options : tuple of (label, value)
        The allowed values (hashable), in display order.
    default : Any
        One of the values (for ``kind="range"`` a pair ``(lo, hi)`` of them).
    kind : {"dropdown", "slider", "range"}
        How the live explorer shows it.
    """

    name: str
    label: str
    options: tuple[tuple[str, Any], ...]
    default: Any
    kind: str = "dropdown"

    @property
    def values(self) -> tuple:
        return tuple(value for _, value in self.options)

    def label_of(self, value: Any) -> str:
        if self.kind == "range":
            lo, hi = value
            return f"{self.label_of_single(lo)}–{self.label_of_single(hi)}"
        return self.label_of_single(value)

    def label_of_single(self, value: Any) -> str:
        return next(label for label, v in self.options if v == value)

    def check(self, value: Any) -> Any:
        """Return ``value`` if the control allows it, else raise ``ValueError`` naming both."""
        allowed = self.values
        if self.kind == "range":
            ok = (isinstance(value, (tuple, list)) and len(value) == 2
                  and all(v in allowed for v in value)
                  and allowed.index(value[0]) < allowed.index(value[1]))
            if not ok:
                raise ValueError(f"{self.name} must be a pair (lo, hi) with lo < hi from "
                                 f"{list(allowed)}, got {value!r}")
            return tuple(value)
        for v in allowed:
            # A float within rounding of an allowed one is that one (math.pi / 4 for the
            # option pi/4 as computed here).
            if v == value or (isinstance(v, float) and isinstance(value, (int, float))
                              and not isinstance(value, bool)
                              and math.isclose(v, value, rel_tol=1e-9, abs_tol=1e-12)):
                return v
        raise ValueError(f"{self.name} must be one of {list(allowed)}, got {value!r}")


@dataclass(frozen=True)
class _Spec:
    """What an explorer is: its controls, its compute step and how to show the result."""

    name: str
    title: str
    controls: tuple[Control, ...]
    compute: Callable[..., Any]          # compute(progress, **values) -> data
    draw: Callable[[Figure, Any], None]  # draw(fig, data)
    readout: Callable[[Any], str]        # readout(data) -> plain text
    figsize: tuple[float, float] = (7.5, 3.2)

    def control(self, name: str) -> Control:
        for c in self.controls:
            if c.name == name:
                return c
        raise ValueError(f"the {self.name} explorer has no control {name!r}; its controls are "
                         f"{[c.name for c in self.controls]}")

    def check_values(self, values: dict) -> dict:
        """Defaults overridden by ``values``, every value checked."""
        for name in values:
            self.control(name)
        return {c.name: c.check(values.get(c.name, c.default)) for c in self.controls}


def _no_progress(done: int, total: int) -> None:
    return None


def _png(spec: _Spec, data: Any, dpi: int) -> bytes:
    """Render ``data`` with ``spec.draw`` to PNG bytes (no pyplot: safe off the main thread)."""
    # Fixed margins (a draw function may adjust them): a layout engine would draw the figure
    # twice, doubling the latency.
    fig = Figure(figsize=spec.figsize, dpi=dpi)
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.15, top=0.9, wspace=0.3)
    FigureCanvasAgg(fig)
    spec.draw(fig, data)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _check_dpi(dpi: Any) -> None:
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not 30 <= dpi <= 200:
        raise ValueError(f"dpi must be an int from 30 to 200, got {dpi!r}")


def _pi_label(k: int, d: int) -> str:
    """``k*pi/d`` as a short label: 0, π/4, −3π/4, π."""
    g = math.gcd(k, d)
    k, d = k // g, d // g
    if k == 0:
        return "0"
    sign = "−" if k < 0 else ""
    num = "" if abs(k) == 1 else str(abs(k))
    return f"{sign}{num}π" + ("" if d == 1 else f"/{d}")


def _ints(values: Sequence[int]) -> tuple[tuple[str, int], ...]:
    return tuple((str(v), v) for v in values)


# ---------------------------------------------------------------------------------------------
# Landscape
# ---------------------------------------------------------------------------------------------
_LANDSCAPE_CIRCUITS = {
    "hardware-efficient": lambda: ansatz.hardware_efficient(3, 2),
    "random Pauli": lambda: ansatz.random_pauli(3, 4, rng=7),
}
_N_LANDSCAPE_PARAMS = 12  # both circuits above have 12 parameters
_THETA_STEPS = tuple((_pi_label(k, 8), k * math.pi / 8) for k in range(-8, 9))


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
    observable = observables.local_cost(n) if cost == "local" else observables.global_cost(n)
    theta0 = np.random.default_rng(2024).uniform(-math.pi, math.pi, c.n_params)
    return Cost(c, observable), theta0


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
    ax.legend(fontsize=7, loc="best")
    ax.set_title(f"{d.circuit}, {d.cost} cost", fontsize=9)
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
        ax2.set_title("the cost in a plane of two parameters", fontsize=9)


def _landscape_readout(d: LandscapeData) -> str:
    i = d.param
    return (
        f"C at θ_{i} = {d.x:+.3f}: {d.value:.4f}\n"
        f"parameter shift: [C(θ_{i} + π/2) − C(θ_{i} − π/2)] / 2 = "
        f"({d.shift_values[0]:.4f} − {d.shift_values[1]:.4f}) / 2 = {d.shift_derivative:+.6f}\n"
        f"library parameter-shift gradient: {d.library_shift:+.6f}   "
        f"exact (adjoint) derivative: {d.exact:+.6f}   "
        f"difference {abs(d.shift_derivative - d.exact):.1e}"
    )


_LANDSCAPE = _Spec(
    name="landscape",
    title="Cost landscape and the parameter-shift rule",
    controls=(
        Control("circuit", "circuit", tuple((k, k) for k in _LANDSCAPE_CIRCUITS),
                "hardware-efficient"),
        Control("cost", "cost", (("local", "local"), ("global", "global")), "local"),
        Control("param", "parameter i", _ints(range(_N_LANDSCAPE_PARAMS)), 0),
        Control("param2", "second parameter j",
                (("none", None),) + _ints(range(_N_LANDSCAPE_PARAMS)), None),
        Control("theta", "θ_i", _THETA_STEPS, math.pi / 4, kind="slider"),
    ),
    compute=lambda progress, **v: _landscape_data(**v),
    draw=_draw_landscape,
    readout=_landscape_readout,
)


# ---------------------------------------------------------------------------------------------
# Barren plateaus
# ---------------------------------------------------------------------------------------------
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
    observable = observables.local_cost(n) if cost == "local" else observables.global_cost(n)
    return Cost(builders[ansatz_name](), observable)


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
                  progress: Progress = _no_progress) -> PlateauData:
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
    ax.set_yscale("log")
    ax.set_xlabel("qubits n")
    ax.set_ylabel("gradient variance")
    ax.set_xticks(d.n_qubits)
    depth = "" if d.ansatz == "tensor-product RX" else f", {d.depth} layers"
    ax.set_title(f"{d.ansatz}{depth}, {d.cost} cost", fontsize=9)
    ax.legend(fontsize=7)


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


_PLATEAU = _Spec(
    name="plateau",
    title="Barren plateaus: gradient variance against qubits",
    controls=(
        Control("ansatz", "ansatz", tuple((a, a) for a in _PLATEAU_ANSATZE),
                "hardware-efficient"),
        Control("cost", "cost", (("global", "global"), ("local", "local")), "global"),
        Control("depth", "layers", _ints((1, 2, 3, 4, 6, 8, 12, 16)), 4, kind="slider"),
        Control("qubits", "qubits", _ints(range(2, 11)), (2, 8), kind="range"),
        Control("samples", "draws", _ints((100, 200, 500)), 200),
    ),
    compute=lambda progress, **v: _plateau_data(progress=progress, **v),
    draw=_draw_plateau,
    readout=_plateau_readout,
    figsize=(6.4, 3.4),
)


# ---------------------------------------------------------------------------------------------
# Noise
# ---------------------------------------------------------------------------------------------
_CHANNELS = {
    "depolarizing": noise.Depolarizing,
    "dephasing": noise.Dephasing,
    "amplitude damping": noise.AmplitudeDamping,
}
_NOISE_SAMPLES = 16


@functools.lru_cache(maxsize=128)
def _noise_data(channel: str = "depolarizing", rate: float = 0.05, depth: int = 6,
                qubits: int = 3, seed: int = 0) -> noise.NoisyGradientDecay:
    """:func:`~qnncourse.noise.noisy_gradient_decay` of the hardware-efficient ansatz with the
    local cost, noise after every layer, depths ``1..depth``."""
    return noise.noisy_gradient_decay(
        functools.partial(ansatz.hardware_efficient, qubits), observables.local_cost(qubits),
        list(range(1, depth + 1)), [rate], channel=_CHANNELS[channel], placement="layer",
        n_samples=_NOISE_SAMPLES, rng=seed,
    )


@dataclass(frozen=True)
class NoiseView:
    """The decay measured for one channel and rate, with the settings that produced it."""

    channel: str
    rate: float
    qubits: int
    decay: noise.NoisyGradientDecay


def _draw_noise(fig: Figure, v: NoiseView) -> None:
    d = v.decay
    ax, ax2 = fig.subplots(1, 2)
    clean = d.mean_abs[0] / d.suppression[0]
    ax.plot(d.depths, clean, "o-", color="C0", label="mean |∂C|, noiseless")
    ax.plot(d.depths, d.mean_abs[0], "s-", color="C1", label="mean |∂C|, noisy")
    ax.plot(d.depths, d.max_abs[0], "^:", color="C2", label="max |∂C|, noisy")
    if np.all(np.isfinite(d.bound[0])):
        ax.plot(d.depths, d.bound[0], "--", color="C3", label="Wang et al. bound")
    ax.set_yscale("log")
    ax.set_xlabel("layers L")
    ax.set_ylabel("gradient size")
    ax.legend(fontsize=7)
    ax.set_title(f"{v.channel}, rate {v.rate:g}, {v.qubits} qubits", fontsize=9)
    ax2.plot(d.depths, d.suppression[0], "s", color="C1", label="noisy / noiseless")
    ax2.plot(d.depths, d.suppression[0][0] * d.decay[0] ** (d.depths - d.depths[0]), "-",
             color="C1", label=f"fit r^L, r = {d.decay[0]:.3f}")
    if np.isfinite(d.wang_q[0]):
        ax2.plot(d.depths, d.wang_q[0] ** d.depths, "--", color="C3",
                 label=f"q^L, q = {d.wang_q[0]:.3f}")
    ax2.set_yscale("log")
    for axis in (ax2.yaxis.set_major_formatter, ax2.yaxis.set_minor_formatter):
        axis(FormatStrFormatter("%.2g"))
    ax2.set_xlabel("layers L")
    ax2.set_ylabel("suppression by noise")
    ax2.legend(fontsize=7)


def _noise_readout(v: NoiseView) -> str:
    d = v.decay
    q = d.wang_q[0]
    line = (f"gradients shrink by r = {d.decay[0]:.4f} per layer from noise alone "
            f"({_NOISE_SAMPLES} draws per depth)")
    if np.isfinite(q):
        held = bool(np.all(d.max_abs[0] <= d.bound[0]))
        line += (f"; Wang et al.'s q = {q:.4f}. Largest gradient within the bound at every "
                 f"depth: {'yes' if held else 'NO'}")
    else:
        line += "; Wang et al.'s theorem needs a unital Pauli channel, so no bound is drawn"
    return line


_NOISE = _Spec(
    name="noise",
    title="Noise-induced barren plateaus",
    controls=(
        Control("channel", "channel", tuple((k, k) for k in _CHANNELS), "depolarizing"),
        Control("rate", "rate", tuple((f"{r:g}", r) for r in (0.01, 0.02, 0.05, 0.1, 0.2)),
                0.05, kind="slider"),
        Control("depth", "max layers", _ints(range(3, 11)), 6, kind="slider"),
        Control("qubits", "qubits", _ints((2, 3, 4)), 3),
    ),
    compute=lambda progress, **v: NoiseView(v["channel"], v["rate"], v["qubits"],
                                            _noise_data(**v)),
    draw=_draw_noise,
    readout=_noise_readout,
    figsize=(8.0, 3.2),
)


# ---------------------------------------------------------------------------------------------
# Optimizer race
# ---------------------------------------------------------------------------------------------
_RACE_PROBLEMS = {
    "3 qubits, local cost": (lambda: ansatz.hardware_efficient(3, 2), observables.local_cost,
                             None),
    "4 qubits, global cost": (lambda: ansatz.hardware_efficient(4, 2), observables.global_cost,
                              None),
    "3 qubits, local cost, 100 shots": (lambda: ansatz.hardware_efficient(3, 2),
                                        observables.local_cost, 100),
}
_RACERS = ("GD", "Adam", "SPSA", "QNG")


def _racer(name: str, scale: float, seed: int) -> optim.Optimizer:
    return {
        "GD": lambda: optim.GradientDescent(lr=0.2 * scale),
        "Adam": lambda: optim.Adam(lr=0.1 * scale),
        "SPSA": lambda: optim.SPSA(a=0.2 * scale, c=0.1, rng=seed),
        "QNG": lambda: optim.QNG(lr=0.1 * scale),
    }[name]()


def _race_problem(problem: str, seed: int) -> tuple[Cost, Cost, np.ndarray]:
    """The cost the optimizer sees, an exact twin to score it, and the seeded start."""
    build, observable, shots = _RACE_PROBLEMS[problem]
    circuit = build()
    obs = observable(circuit.n_qubits)
    theta0 = np.random.default_rng(seed).uniform(0, 2 * math.pi, circuit.n_params)
    return Cost(circuit, obs, shots=shots, rng=seed), Cost(circuit, obs), theta0


@dataclass(frozen=True)
class RaceRun:
    """One optimizer's run: circuit evaluations spent and the exact cost at each iterate."""

    name: str
    evaluations: np.ndarray
    costs: np.ndarray
    result: optim.TrainResult


@functools.lru_cache(maxsize=256)
def _race_run(problem: str, racer: str, budget: int, scale: float, seed: int) -> RaceRun:
    """:func:`~qnncourse.optim.train` until ``budget`` circuit evaluations are spent."""
    cost, exact, theta0 = _race_problem(problem, seed)
    result = optim.train(cost, theta0, _racer(racer, scale, seed), budget, progress=False,
                         callback=lambda k, theta, info: info["evaluations"] >= budget)
    # Score every iterate with the exact cost: the optimizer itself may only see shot
    # estimates, and SPSA never evaluates the cost at its iterates at all.
    return RaceRun(racer, result.evaluations, np.asarray(exact(result.thetas)), result)


@dataclass(frozen=True)
class RaceData:
    problem: str
    budget: int
    runs: tuple[RaceRun, ...]


def _race_data(problem: str = "3 qubits, local cost", budget: int = 400, scale: float = 1.0,
               seed: int = 0, progress: Progress = _no_progress) -> RaceData:
    """The four runs behind :func:`optimizer_race`, from the same start."""
    runs = []
    for k, racer in enumerate(_RACERS):
        progress(k, len(_RACERS))
        runs.append(_race_run(problem, racer, budget, scale, seed))
    progress(len(_RACERS), len(_RACERS))
    return RaceData(problem, budget, tuple(runs))


def _draw_race(fig: Figure, d: RaceData) -> None:
    ax = fig.subplots()
    for k, run in enumerate(d.runs):
        ax.plot(run.evaluations, run.costs, "-", color=f"C{k}", label=run.name,
                marker="." if run.costs.size < 60 else None)
    ax.set_xlabel("circuit evaluations")
    ax.set_ylabel("cost (exact)")
    ax.set_xlim(0, d.budget * 1.05)
    ax.set_title(d.problem, fontsize=9)
    ax.legend(fontsize=8)


def _race_readout(d: RaceData) -> str:
    parts = [f"{run.name} {run.costs[-1]:.4f} ({run.result.steps} steps, "
             f"{int(run.evaluations[-1])} evaluations)" for run in d.runs]
    best = min(d.runs, key=lambda run: run.costs[-1])
    return ("final exact cost: " + "; ".join(parts) + f"\nlowest after {d.budget} evaluations: "
            f"{best.name}")


_RACE = _Spec(
    name="race",
    title="Optimizer race: cost against circuit evaluations",
    controls=(
        Control("problem", "problem", tuple((k, k) for k in _RACE_PROBLEMS),
                "3 qubits, local cost"),
        Control("budget", "evaluations", _ints((200, 400, 800, 1600)), 400, kind="slider"),
        Control("scale", "step size ×", tuple((f"{s:g}", s) for s in (0.5, 1.0, 2.0, 4.0)),
                1.0, kind="slider"),
        Control("seed", "start (seed)", _ints((0, 1, 2)), 0),
    ),
    compute=lambda progress, **v: _race_data(progress=progress, **v),
    draw=_draw_race,
    readout=_race_readout,
    figsize=(6.4, 3.4),
)


# ---------------------------------------------------------------------------------------------
# Dynamical Lie algebras
# ---------------------------------------------------------------------------------------------
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


# The exact closure of sums of Pauli strings is slow beyond this (Heisenberg, n = 7: ~35 s).
_DLA_MAX_QUBITS = {"Heisenberg: X_iX_i+1 + Y_iY_i+1 + Z_iZ_i+1": 6}


@functools.lru_cache(maxsize=256)
def _dla_dimension(family: str, n: int) -> int:
    """:func:`qnncourse.lie.dimension` of a family on ``n`` qubits."""
    return lie.dimension(_DLA_FAMILIES[family](n))


@dataclass(frozen=True)
class DlaData:
    family: str
    n_qubits: np.ndarray
    dims: np.ndarray
    capped_at: int | None = None  # the family's largest n, when the range asked for more


def _dla_data(family: str = "transverse-field Ising: X_i, Z_iZ_i+1",
              qubits: tuple[int, int] = (2, 5), progress: Progress = _no_progress) -> DlaData:
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
                       progress: Progress = _no_progress) -> DlaVarianceData:
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
    ax.set_yscale("log")
    ax.set_xticks(n)
    ax.set_xlabel("qubits n")
    ax.set_ylabel("DLA dimension")
    ax.set_title(d.family, fontsize=9)
    ax.legend(fontsize=7)


def _draw_dla_variance(fig: Figure, d: DlaVarianceData) -> None:
    fig.subplots_adjust(left=0.16)  # room for log tick labels such as 3x10^-2
    ax = fig.subplots()
    n = d.n_qubits
    ax.plot(n, d.predicted, "s--", color="C1", label=r"predicted $\sum_\alpha P(\rho)P(O)/"
            r"\dim\mathfrak{g}_\alpha$")
    ax.errorbar(n, d.measured, yerr=np.abs(d.ci - d.measured[:, None]).T, fmt="o", color="C0",
                capsize=3, label=f"measured, depth {d.depth}, {d.n_samples} draws (95%)")
    ax.set_yscale("log")
    ax.set_xticks(n)
    ax.set_xlabel("qubits n")
    ax.set_ylabel(rf"Var$[\langle {d.observable}\rangle]$, $\rho=|0\ldots0\rangle$")
    ax.set_title(d.family, fontsize=9)
    ax.legend(fontsize=7)


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
    lines = [f"O = {d.observable}, rho = |0...0>, {d.n_samples} circuits of depth {d.depth}:"]
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


_DLA = _Spec(
    name="dla",
    title="Dynamical Lie algebra dimension against qubits",
    controls=(
        Control("family", "generators", tuple((k, k) for k in _DLA_FAMILIES),
                "transverse-field Ising: X_i, Z_iZ_i+1"),
        Control("qubits", "qubits", _ints(range(2, 8)), (2, 5), kind="range"),
        Control("view", "view", (("DLA dimension", "dimension"),
                                 ("predicted vs measured variance", "variance")), "dimension"),
    ),
    compute=_dla_compute,
    draw=_draw_dla,
    readout=_dla_readout,
    figsize=(6.4, 3.4),
)

EXPLORERS = {spec.name: spec for spec in (_LANDSCAPE, _PLATEAU, _NOISE, _RACE, _DLA)}
"""The explorers by name, as :func:`static_explorer` takes them."""


# ---------------------------------------------------------------------------------------------
# The live explorer
# ---------------------------------------------------------------------------------------------
def _control_widget(control: Control, value: Any) -> ipywidgets.Widget:
    style = {"description_width": "initial"}
    if control.kind == "range":
        return ipywidgets.SelectionRangeSlider(options=control.options, value=value,
                                               description=control.label, style=style,
                                               continuous_update=False)
    if control.kind == "slider":
        return ipywidgets.SelectionSlider(options=control.options, value=value,
                                          description=control.label, style=style,
                                          continuous_update=False)
    return ipywidgets.Dropdown(options=control.options, value=value, description=control.label,
                               style=style)


class Explorer(ipywidgets.VBox):
    """A live explorer: controls, a progress bar, the figure and a readout.

    Every change of a control recomputes in a background thread (one worker, so requests are
    served in order; a request that a newer one has overtaken stops at its next step and shows
    nothing). Results are cached on the control values.

    Attributes
    ----------
    controls : dict of str to ipywidgets.Widget
    data : object
        The result currently shown (``None`` before the first one).
    image : ipywidgets.Image
        The figure, as PNG.
    readout : ipywidgets.HTML
        The text readout.
    """

    def __init__(self, spec: _Spec, values: dict, *, dpi: int = 90) -> None:
        values = spec.check_values(values)
        _check_dpi(dpi)
        self.spec = spec
        self.dpi = dpi
        self.controls = {c.name: _control_widget(c, values[c.name]) for c in spec.controls}
        self.progress = ipywidgets.IntProgress(value=0, min=0, max=1, description="working",
                                               layout=ipywidgets.Layout(visibility="hidden"))
        self.image = ipywidgets.Image(format="png")
        self.readout = ipywidgets.HTML()
        self.data = None
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._generation = 0
        self._future: Future | None = None
        # Rendered frames by control values: going back to a setting costs no drawing at all.
        self._frames: OrderedDict[tuple, tuple[Any, bytes, str]] = OrderedDict()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"qnn-{spec.name}")
        super().__init__([
            ipywidgets.HTML(f"<b>{html.escape(spec.title)}</b>"),
            ipywidgets.HBox(list(self.controls.values()),
                            layout=ipywidgets.Layout(flex_flow="row wrap")),
            self.progress, self.image, self.readout,
        ])
        for widget in self.controls.values():
            widget.observe(self._on_change, names="value")
        self.update()

    @property
    def values(self) -> dict:
        """The current control values."""
        return {name: w.value for name, w in self.controls.items()}

    def set(self, **values: Any) -> Explorer:
        """Move controls from code (checked first); recomputes once. Returns the explorer."""
        checked = self.spec.check_values({**self.values, **values})
        for name in values:  # one update for all of them, not one per control
            self.controls[name].unobserve(self._on_change, names="value")
            self.controls[name].value = checked[name]
            self.controls[name].observe(self._on_change, names="value")
        self.update()
        return self

    def _on_change(self, change: dict) -> None:
        self.update()

    def update(self) -> None:
        """Recompute for the current control values, in the background."""
        with self._lock:
            self._generation += 1
            generation = self._generation
            self._future = self._worker.submit(self._run, generation, self.values)

    def _check_current(self, generation: int) -> None:
        if generation != self._generation:
            raise _Superseded

    def _run(self, generation: int, values: dict) -> None:
        def progress(done: int, total: int) -> None:
            self._check_current(generation)
            self.progress.max, self.progress.value = max(total, 1), done

        try:
            self._check_current(generation)
            self.progress.layout.visibility = "visible"
            key = tuple(values.items())
            if key in self._frames:
                self._frames.move_to_end(key)
            else:
                data = self.spec.compute(progress, **values)
                self._frames[key] = (data, _png(self.spec, data, self.dpi),
                                     self.spec.readout(data))
                if len(self._frames) > _MAX_LIVE_FRAMES:
                    self._frames.popitem(last=False)
            data, png, text = self._frames[key]
            self._check_current(generation)
            self.data, self.error = data, None
            self.image.value = png
            self.readout.value = f"<pre>{html.escape(text)}</pre>"
        except _Superseded:
            return
        except Exception as exc:  # shown to the reader; wait() re-raises it
            self.error = exc
            self.readout.value = (f"<pre style='color:#b00'>{html.escape(type(exc).__name__)}: "
                                  f"{html.escape(str(exc))}</pre>")
        finally:
            if generation == self._generation:
                self.progress.layout.visibility = "hidden"

    def wait(self, timeout: float | None = 60.0) -> Any:
        """Block until the latest request is shown; return its data (re-raise its error)."""
        while True:
            future = self._future
            future.result(timeout)
            if future is self._future:
                break
        if self.error is not None:
            raise self.error
        return self.data

    def png(self) -> bytes:
        """The figure currently shown, as PNG bytes."""
        return bytes(self.image.value)


def _explorer(name: str, dpi: int, values: dict) -> Explorer:
    return Explorer(EXPLORERS[name], values, dpi=dpi)


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
    return _explorer("landscape", dpi, values)


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
    return _explorer("plateau", dpi, values)


def noise_explorer(*, dpi: int = 90, **values: Any) -> Explorer:
    r"""How noise after every layer shrinks gradients with depth, beside Wang et al.'s bound.

    :func:`qnncourse.noise.noisy_gradient_decay` on the hardware-efficient ansatz with the
    local cost: mean and largest :math:`|\partial_j C|` per depth, the noiseless mean on the
    same draws, the bound :math:`g\sqrt{2\ln 2\,n}\,q^{L}` of
    :func:`qnncourse.noise.wang_gradient_bound` (Wang et al. 2021, for Pauli channels), and the
    fitted per-layer suppression :math:`r` against :math:`q`.

    Controls: ``channel`` (``"depolarizing"``, ``"dephasing"``, ``"amplitude damping"``),
    ``rate`` (0.01, 0.02, 0.05, 0.1, 0.2), ``depth`` (the largest depth, 3–10), ``qubits``
    (2, 3, 4).
    """
    return _explorer("noise", dpi, values)


def optimizer_race(*, dpi: int = 90, **values: Any) -> Explorer:
    r"""Gradient descent, Adam, SPSA and QNG from the same start, per circuit evaluation.

    Each optimizer runs through :func:`qnncourse.optim.train` until it has spent the budget of
    circuit evaluations (``cost.evaluations``, plus QNG's metric circuits); every iterate is
    scored with the exact cost, so a shot-based problem is judged fairly and SPSA, which never
    evaluates its own iterates, can be drawn at all.

    Controls: ``problem`` (``"3 qubits, local cost"``, ``"4 qubits, global cost"``,
    ``"3 qubits, local cost, 100 shots"``; hardware-efficient, 2 layers), ``budget``
    (evaluations: 200, 400, 800, 1600), ``scale`` (all step sizes × 0.5, 1, 2, 4; base GD 0.2,
    Adam 0.1, SPSA a = 0.2, QNG 0.1), ``seed`` (the random start: 0, 1, 2).
    """
    return _explorer("race", dpi, values)


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
    return _explorer("dla", dpi, values)


# ---------------------------------------------------------------------------------------------
# The static form
# ---------------------------------------------------------------------------------------------
_STATIC_JS = """
(function () {
  var root = document.currentScript.parentNode;
  var data = JSON.parse(root.querySelector('script.qnn-static-data').textContent);
  var inputs = Array.prototype.slice.call(root.querySelectorAll('[data-qnn-control]'));
  var img = root.querySelector('img.qnn-static-frame');
  var readout = root.querySelector('pre.qnn-static-readout');
  function show() {
    var key = inputs.map(function (el) {
      var i = Number(el.value);
      var out = root.querySelector('output[data-for="' + el.id + '"]');
      if (out) { out.textContent = data.labels[el.getAttribute('data-qnn-control')][i]; }
      return i;
    }).join(',');
    var frame = data.frames[key];
    img.src = 'data:image/png;base64,' + frame.png;
    img.alt = frame.text;
    readout.textContent = frame.text;
  }
  inputs.forEach(function (el) {
    el.addEventListener('input', show);
    el.addEventListener('change', show);
  });
  show();
})();
"""

_STATIC_CSS = (
    ".qnn-static-explorer{border:1px solid #ccc;border-radius:6px;padding:.6em;margin:1em 0}"
    ".qnn-static-explorer label{margin-right:1.2em;white-space:nowrap}"
    ".qnn-static-explorer img{max-width:100%;height:auto;display:block;margin:.4em 0}"
    ".qnn-static-explorer pre{white-space:pre-wrap;font-size:.8em;margin:.3em 0}"
    ".qnn-static-explorer .qnn-static-caption{font-size:.85em;color:#555;margin:.3em 0 0}"
)


def _static_html(spec: _Spec, swept: list[Control], choices: list[list[Any]],
                 start: tuple[int, ...], frames: dict[str, dict], notebook: str | None) -> str:
    uid = "qnn-" + spec.name + "-" + hashlib.sha1(
        json.dumps(sorted(frames), sort_keys=True).encode()
        + json.dumps([[c.label_of(v) for v in vs] for c, vs in zip(swept, choices, strict=True)],
                     ensure_ascii=False).encode()).hexdigest()[:8]
    parts = []
    for k, (control, options, first) in enumerate(zip(swept, choices, start, strict=True)):
        cid = f"{uid}-{k}"
        label = html.escape(control.label)
        if control.kind == "dropdown":
            opts = "".join(f'<option value="{i}"{" selected" if i == first else ""}>'
                           f"{html.escape(control.label_of(v))}</option>"
                           for i, v in enumerate(options))
            parts.append(f'<label for="{cid}">{label} <select id="{cid}" '
                         f'data-qnn-control="{control.name}">{opts}</select></label>')
        else:
            parts.append(f'<label for="{cid}">{label} <input type="range" id="{cid}" '
                         f'data-qnn-control="{control.name}" min="0" max="{len(options) - 1}" '
                         f'step="1" value="{first}"> <output data-for="{cid}">'
                         f"{html.escape(control.label_of(options[first]))}</output></label>")
    data = {
        "labels": {c.name: [c.label_of(v) for v in vs] for c, vs in zip(swept, choices,
                                                                        strict=True)},
        "frames": frames,
    }
    # "</" inside a script element would end it early.
    payload = json.dumps(data).replace("</", "<\\/")
    where = (f"<code>jupyter lab {html.escape(notebook)}</code>" if notebook
             else "<code>jupyter lab</code> on this chapter's source")
    caption = (
        "<b>Precomputed.</b> These figures were computed when the book was built, for the "
        "settings offered here; no Python runs in this page. To explore every setting live, "
        "open this page as a notebook (the launch button at the top of the page, or "
        f"{where}) and run the explorer cell above."
    )
    first = frames[",".join(map(str, start))]
    # Pure ASCII (character references outside the scripts), so the page's encoding is moot.
    return (
        f'<div class="qnn-static-explorer" id="{uid}" data-explorer="{spec.name}">'
        f"<style>{_STATIC_CSS}</style>"
        f"<p><b>{html.escape(spec.title)}</b></p>"
        f'<div class="qnn-static-controls">{"".join(parts)}</div>'
        f'<img class="qnn-static-frame" src="data:image/png;base64,{first["png"]}" '
        f'alt="{html.escape(first["text"])}">'
        f'<pre class="qnn-static-readout">{html.escape(first["text"])}</pre>'
        f'<p class="qnn-static-caption">{caption}</p>'
        f'<script type="application/json" class="qnn-static-data">{payload}</script>'
        f"<script>{_STATIC_JS}</script>"
        "</div>"
    ).encode("ascii", "xmlcharrefreplace").decode("ascii")


def static_explorer(name: str, *, notebook: str | None = None, dpi: int = 72,
                    **grid: Any) -> HTML:
    """An explorer's kernel-free form: precomputed frames switched by plain HTML controls.

    Parameters
    ----------
    name : {"landscape", "plateau", "noise", "race", "dla"}
        The explorer (see :data:`EXPLORERS`).
    notebook : str, optional
        The chapter's source path, for the caption's "run it live" instruction.
    dpi : int
        Resolution of the frames (keep it small: every frame is embedded in the page).
    **grid
        Per control, either a *list* of values to sweep (the reader switches between them) or a
        single value to fix (for a range control, a tuple is one value). Controls not named
        keep their defaults.

    Returns
    -------
    IPython.display.HTML
        A ``<div class="qnn-static-explorer">`` with the controls, the frames (PNG data URIs),
        their readouts, a caption saying they are precomputed and how to run them live, and a
        few lines of inline JavaScript; nothing is loaded from elsewhere.

    Raises
    ------
    ValueError
        For an unknown explorer or control, a value the control does not offer, more than
        48 frames, or frames totalling more than 1.5 MB.
    """
    if name not in EXPLORERS:
        raise ValueError(f"unknown explorer {name!r}; the explorers are {list(EXPLORERS)}")
    spec = EXPLORERS[name]
    _check_dpi(dpi)
    fixed = {k: v for k, v in grid.items() if not isinstance(v, list)}
    swept = [spec.control(k) for k, v in grid.items() if isinstance(v, list)]
    choices = [[c.check(v) for v in grid[c.name]] for c in swept]
    spec.check_values(fixed)
    for control, options in zip(swept, choices, strict=True):
        if not options:
            raise ValueError(f"{control.name} has an empty list of values to sweep")
    n_frames = math.prod(len(options) for options in choices)
    if n_frames > _MAX_STATIC_FRAMES:
        raise ValueError(f"the grid has {n_frames} frames, the limit is {_MAX_STATIC_FRAMES}: "
                         "sweep fewer values")
    frames, size = {}, 0
    for index in itertools.product(*(range(len(options)) for options in choices)):
        values = spec.check_values({**fixed, **{c.name: options[i] for c, options, i in
                                                zip(swept, choices, index, strict=True)}})
        data = spec.compute(_no_progress, **values)
        png = base64.b64encode(_png(spec, data, dpi)).decode("ascii")
        size += len(png)
        frames[",".join(map(str, index))] = {"png": png, "text": spec.readout(data)}
    if size > _MAX_STATIC_BYTES:
        raise ValueError(f"the {n_frames} frames take {size / 1e6:.2f} MB, the limit is "
                         f"{_MAX_STATIC_BYTES / 1e6:.1f} MB: sweep fewer values or lower dpi")
    # Open on the explorer's default setting where the grid has it.
    start = tuple(options.index(c.default) if c.default in options else 0
                  for c, options in zip(swept, choices, strict=True))
    return HTML(_static_html(spec, swept, choices, start, frames, notebook))
