"""The explorer framework: controls, explorer specifications, rendering, the live explorer.

An explorer is an :class:`ExplorerSpec`: a few :class:`Control` objects, a pure compute step
``compute(progress, **values) -> data`` that calls the library, ``draw(fig, data)`` and
``readout(data) -> str``. :class:`Explorer` shows one live (ipywidgets, computing in a
background thread); :func:`qnncourse.widgets.static.static_explorer` precomputes it for the
kernel-free book. The explorers themselves are one module each in this package.
"""

from __future__ import annotations

import functools
import html
import io
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import ipywidgets
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatterSciNotation, LogLocator

from qnncourse import observables

__all__ = [
    "LEGEND_PT",
    "TITLE_PT",
    "Control",
    "Explorer",
    "ExplorerSpec",
    "FrameRenderer",
    "Progress",
    "Superseded",
    "check_dpi",
    "cost_observable",
    "int_options",
    "log_scale",
    "no_progress",
    "pi_label",
    "render_png",
    "subscript",
]

Progress = Callable[[int, int], None]

# Text sizes in points. A frame is shown at ``dpi`` CSS pixels per inch (96 in the book, 90
# live), so 9 pt is 11-12 px: no smaller than the book's footnotes (tick labels are 10 pt).
LEGEND_PT = 9
TITLE_PT = 10

# Rendered frames a live explorer keeps (about 30 kB each).
_MAX_LIVE_FRAMES = 64


class Superseded(Exception):
    """Raised inside a computation when a newer control setting has made it pointless."""


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
class ExplorerSpec:
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


def no_progress(done: int, total: int) -> None:
    return None


class FrameRenderer:
    """Draws one explorer's frames into a single reused Figure (no pyplot: thread-safe).

    Reusing the Figure keeps its Agg renderer, and with it matplotlib's per-renderer caches of
    text extents and parsed math labels: every frame after the first skips that work. One
    renderer per thread (the live explorer has one worker; the static exporter is serial).
    """

    def __init__(self, spec: ExplorerSpec, dpi: int) -> None:
        self.spec = spec
        self.dpi = dpi
        self.figure = Figure(figsize=spec.figsize, dpi=dpi)
        FigureCanvasAgg(self.figure)

    def render(self, data: Any, *, compress_level: int = 6) -> bytes:
        """``spec.draw(figure, data)`` as PNG bytes (``compress_level`` 0-9 of zlib)."""
        fig = self.figure
        fig.clear()
        # Fixed margins (a draw function may adjust them): a layout engine would draw the
        # figure twice, doubling the latency.
        fig.subplots_adjust(left=0.1, right=0.97, bottom=0.15, top=0.9, wspace=0.3)
        self.spec.draw(fig, data)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=self.dpi,
                    pil_kwargs={"compress_level": compress_level})
        return buffer.getvalue()


def render_png(spec: ExplorerSpec, data: Any, dpi: int) -> bytes:
    """Render ``data`` with ``spec.draw`` to PNG bytes (a fresh :class:`FrameRenderer`)."""
    return FrameRenderer(spec, dpi).render(data)


_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


class _UnicodeLogFormatter(LogFormatterSciNotation):
    """Log-axis labels such as 10⁻³ and 2×10⁻³ in plain Unicode: matplotlib's default writes
    them as math text, whose parsing was a third of a frame's drawing time."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        label = super().__call__(x, pos)
        match = re.fullmatch(r"\$\\mathdefault\{(?:(.*?)\\times)?(\d+)\^\{(-?\d+)\}\}\$",
                             label)
        if match is None:
            return label.replace("$\\mathdefault{", "").replace("}$", "")
        factor, base, exponent = match.groups()
        return (f"{factor}×" if factor else "") + base + exponent.translate(_SUPERSCRIPTS)


def log_scale(ax: Axes) -> None:
    """Put ``ax``'s y axis on a log scale with minor ticks at 2 and 5 and Unicode labels.

    Fewer minor ticks (two per decade instead of eight) and no math-text labels: the two
    costs that dominate drawing a log axis.

    >>> ax = Figure().subplots()
    >>> log_scale(ax)
    >>> ax.set_ylim(1e-4, 1e-1)
    (0.0001, 0.1)
    >>> ax.yaxis.get_major_formatter()(1e-3), ax.yaxis.get_major_formatter()(1.0)
    ('10⁻³', '10⁰')
    """
    ax.set_yscale("log")
    ax.yaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
    ax.yaxis.set_major_formatter(_UnicodeLogFormatter())
    ax.yaxis.set_minor_formatter(_UnicodeLogFormatter(labelOnlyBase=False))


def check_dpi(dpi: Any) -> None:
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not 30 <= dpi <= 200:
        raise ValueError(f"dpi must be an int from 30 to 200, got {dpi!r}")


def pi_label(k: int, d: int) -> str:
    """``k*pi/d`` as a short label: 0, π/4, −3π/4, π."""
    g = math.gcd(k, d)
    k, d = k // g, d // g
    if k == 0:
        return "0"
    sign = "−" if k < 0 else ""
    num = "" if abs(k) == 1 else str(abs(k))
    return f"{sign}{num}π" + ("" if d == 1 else f"/{d}")


_SUBSCRIPTS = str.maketrans("0123456789+-ij", "₀₁₂₃₄₅₆₇₈₉₊₋ᵢⱼ")


def subscript(index: int | str) -> str:
    """``index`` in Unicode subscript characters, for labels: ``"θ" + subscript(12)`` is θ₁₂.

    Plain-text labels (widget descriptions, readouts, option names) cannot render math, and
    ``θ_12`` reads as code; digits, ``+``, ``-``, ``i`` and ``j`` have subscript forms.

    >>> "θ" + subscript(3), "Z" + subscript("i") + "Z" + subscript("i+1")
    ('θ₃', 'ZᵢZᵢ₊₁')
    """
    text = str(index)
    if not set(text) <= set("0123456789+-ij"):
        raise ValueError(f"index must use only digits, +, -, i and j, got {index!r}")
    return text.translate(_SUBSCRIPTS)


@functools.lru_cache(maxsize=32)
def cost_observable(kind: str, n_qubits: int) -> observables.Observable:
    """The prepared local or global cost observable on ``n_qubits``, built once per process.

    Building and checking it (Hermiticity, diagonality) costs as much as a small scan point;
    :class:`~qnncourse.cost.Cost` takes a prepared one as it is, so explorers share these.

    >>> cost_observable("global", 3) is cost_observable("global", 3)
    True
    """
    builders = {"local": observables.local_cost, "global": observables.global_cost}
    if kind not in builders:
        raise ValueError(f"kind must be 'local' or 'global', got {kind!r}")
    return observables.as_observable(builders[kind](n_qubits), n_qubits)


def int_options(values: Sequence[int]) -> tuple[tuple[str, int], ...]:
    return tuple((str(v), v) for v in values)


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

    def __init__(self, spec: ExplorerSpec, values: dict, *, dpi: int = 90) -> None:
        values = spec.check_values(values)
        check_dpi(dpi)
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
        self._renderer = FrameRenderer(spec, dpi)  # used by the worker thread only
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
            raise Superseded

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
                # zlib level 1: the PNG goes to the local front end, size hardly matters
                self._frames[key] = (data, self._renderer.render(data, compress_level=1),
                                     self.spec.readout(data))
                if len(self._frames) > _MAX_LIVE_FRAMES:
                    self._frames.popitem(last=False)
            data, png, text = self._frames[key]
            self._check_current(generation)
            self.data, self.error = data, None
            self.image.value = png
            self.readout.value = f"<pre>{html.escape(text)}</pre>"
        except Superseded:
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
