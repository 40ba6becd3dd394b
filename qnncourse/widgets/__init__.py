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

from qnncourse.widgets import dla, framework, landscape, noise, plateau, race, static
from qnncourse.widgets.dla import DlaData, DlaVarianceData, dla_explorer
from qnncourse.widgets.framework import Control, Explorer
from qnncourse.widgets.landscape import LandscapeData, landscape_explorer
from qnncourse.widgets.noise import noise_explorer
from qnncourse.widgets.plateau import PlateauData, plateau_explorer
from qnncourse.widgets.race import RaceData, optimizer_race
from qnncourse.widgets.static import EXPLORERS, static_explorer

__all__ = [
    "EXPLORERS",
    "Control",
    "DlaData",
    "DlaVarianceData",
    "Explorer",
    "LandscapeData",
    "PlateauData",
    "RaceData",
    "dla",
    "dla_explorer",
    "framework",
    "landscape",
    "landscape_explorer",
    "noise",
    "noise_explorer",
    "optimizer_race",
    "plateau",
    "plateau_explorer",
    "race",
    "static",
    "static_explorer",
]
