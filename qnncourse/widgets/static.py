"""The static (kernel-free) form of an explorer: precomputed frames switched by plain HTML.

See the package docstring of :mod:`qnncourse.widgets` for why the book shows this form.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import math
from typing import Any

from IPython.display import HTML
from PIL import Image, PngImagePlugin

from qnncourse.figure_text import mark_png, smallest_text_pt
from qnncourse.widgets import dla, landscape, noise, plateau, race
from qnncourse.widgets.framework import (
    Control,
    ExplorerSpec,
    FrameRenderer,
    check_dpi,
    no_progress,
)

__all__ = ["EXPLORERS", "PRINT_FRAME_KEY", "StaticExplorer", "static_explorer"]

EXPLORERS = {m.SPEC.name: m.SPEC for m in (landscape, plateau, noise, race, dla)}
"""The explorers by name, as :func:`static_explorer` takes them."""

# Static explorers embed every frame in the page: refuse grids that would make it heavy.
_MAX_STATIC_FRAMES = 48
_MAX_STATIC_BYTES = 1_500_000
PRINT_FRAME_KEY = "qnncourse-explorer"
"""The PNG text key that marks an explorer's printed frame (its value is the explorer's title;
the caption is under the standard key ``Description``): the book's LaTeX build
(``book/_ext/printbook.py``) prints such an image with its caption."""

# Frames are rendered at this multiple of their displayed size, so that they stay crisp on
# high-DPI screens (the <img> carries the displayed width and height).
_PIXEL_DENSITY = 2

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


def _frame_png(renderer: FrameRenderer, data: Any) -> bytes:
    """The frame as a 256-colour palette PNG.

    Plots are a few flat colours plus antialiasing ramps: an adaptive palette keeps them
    visually identical and the embedded page about three times smaller than RGBA.
    """
    png = renderer.render(data, compress_level=1)  # re-encoded below
    image = Image.open(io.BytesIO(png)).convert("RGB")
    buffer = io.BytesIO()
    image.quantize(256, method=Image.Quantize.FASTOCTREE).save(buffer, format="png",
                                                               optimize=True)
    # the size of the frame's smallest text on the page, for the site's figure-size test
    pt = smallest_text_pt(renderer.figure)
    css_dpi = renderer.dpi / _PIXEL_DENSITY
    return buffer.getvalue() if pt is None else mark_png(buffer.getvalue(), pt * css_dpi / 72)


def _static_html(spec: ExplorerSpec, swept: list[Control], choices: list[list[Any]],
                 start: tuple[int, ...], frames: dict[str, dict], notebook: str | None,
                 dpi: int) -> str:
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
    width, height = (round(inches * dpi) for inches in spec.figsize)
    # Pure ASCII (character references outside the scripts), so the page's encoding is moot.
    return (
        f'<div class="qnn-static-explorer" id="{uid}" data-explorer="{spec.name}">'
        f"<style>{_STATIC_CSS}</style>"
        f"<p><b>{html.escape(spec.title)}</b></p>"
        f'<div class="qnn-static-controls">{"".join(parts)}</div>'
        f'<img class="qnn-static-frame" width="{width}" height="{height}" '
        f'src="data:image/png;base64,{first["png"]}" '
        f'alt="{html.escape(first["text"])}">'
        f'<pre class="qnn-static-readout">{html.escape(first["text"])}</pre>'
        f'<p class="qnn-static-caption">{caption}</p>'
        f'<script type="application/json" class="qnn-static-data">{payload}</script>'
        f"<script>{_STATIC_JS}</script>"
        "</div>"
    ).encode("ascii", "xmlcharrefreplace").decode("ascii")


class StaticExplorer(HTML):
    """An explorer's kernel-free page (``text/html``) and, for print, one frame (``image/png``).

    A page reader (Jupyter, the book's site) shows the HTML, whose controls switch between the
    precomputed frames; a printed book cannot switch frames, so it shows the opening frame as
    a PNG whose text chunks carry the caption (key :data:`PRINT_FRAME_KEY` with the title and
    ``Description`` with the caption).
    """

    def __init__(self, page: str, frame_png: bytes, width: int) -> None:
        super().__init__(page)
        self.frame_png = frame_png
        self.width = width

    def _repr_png_(self) -> tuple[bytes, dict]:
        return self.frame_png, {"width": self.width}


def _print_frame(spec: ExplorerSpec, png: str, settings: str, n_frames: int,
                 notebook: str | None, dpi: int) -> bytes:
    """The opening frame as a PNG at print resolution, tagged with its title and caption."""
    where = f"jupyter lab {notebook}" if notebook else "jupyter lab on this chapter's source"
    caption = (f"{spec.title}, printed at one setting ({settings}). This is one of the "
               f"{n_frames} frames the web version of the book switches between; to explore "
               f"every setting live, run the explorer cell in {where}.")
    info = PngImagePlugin.PngInfo()
    info.add_itxt(PRINT_FRAME_KEY, spec.title)
    info.add_itxt("Description", caption)
    image = Image.open(io.BytesIO(base64.b64decode(png)))
    buffer = io.BytesIO()
    image.save(buffer, format="png", pnginfo=info, dpi=(_PIXEL_DENSITY * dpi,) * 2)
    return buffer.getvalue()


def static_explorer(name: str, *, notebook: str | None = None, dpi: int = 96,
                    **grid: Any) -> StaticExplorer:
    """An explorer's kernel-free form: precomputed frames switched by plain HTML controls.

    Parameters
    ----------
    name : {"landscape", "plateau", "noise", "race", "dla"}
        The explorer (see :data:`EXPLORERS`).
    notebook : str, optional
        The chapter's source path, for the caption's "run it live" instruction.
    dpi : int
        Displayed size of the frames in CSS pixels per inch of the explorer's figure size
        (96: 1 pt of text is 4/3 px, so the 9 pt legends are 12 px). Frames are rendered at
        twice that, for high-DPI screens, and shown at ``figsize * dpi`` pixels.
    **grid
        Per control, either a *list* of values to sweep (the reader switches between them) or a
        single value to fix (for a range control, a tuple is one value). Controls not named
        keep their defaults.

    Returns
    -------
    StaticExplorer
        An :class:`IPython.display.HTML` whose ``data`` is a ``<div class="qnn-static-explorer">``
        with the controls, the frames (PNG data URIs), their readouts, a caption saying they are
        precomputed and how to run them live, and a few lines of inline JavaScript; nothing is
        loaded from elsewhere. Its ``image/png`` form is the opening frame with a caption, for
        print.

    Raises
    ------
    ValueError
        For an unknown explorer or control, a value the control does not offer, more than
        48 frames, or frames totalling more than 1.5 MB.
    """
    if name not in EXPLORERS:
        raise ValueError(f"unknown explorer {name!r}; the explorers are {list(EXPLORERS)}")
    spec = EXPLORERS[name]
    check_dpi(dpi)
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
    renderer = FrameRenderer(spec, _PIXEL_DENSITY * dpi)
    for index in itertools.product(*(range(len(options)) for options in choices)):
        values = spec.check_values({**fixed, **{c.name: options[i] for c, options, i in
                                                zip(swept, choices, index, strict=True)}})
        data = spec.compute(no_progress, **values)
        png = base64.b64encode(_frame_png(renderer, data)).decode("ascii")
        size += len(png)
        frames[",".join(map(str, index))] = {"png": png, "text": spec.readout(data)}
    if size > _MAX_STATIC_BYTES:
        raise ValueError(f"the {n_frames} frames take {size / 1e6:.2f} MB, the limit is "
                         f"{_MAX_STATIC_BYTES / 1e6:.1f} MB: sweep fewer values or lower dpi")
    # Open on the explorer's default setting where the grid has it.
    start = tuple(options.index(c.default) if c.default in options else 0
                  for c, options in zip(swept, choices, strict=True))
    key = ",".join(map(str, start))
    settings = ", ".join(f"{c.label} = {c.label_of(options[i])}"
                         for c, options, i in zip(swept, choices, start, strict=True))
    frame = _print_frame(spec, frames[key]["png"], settings or "its default setting", n_frames,
                         notebook, dpi)
    return StaticExplorer(_static_html(spec, swept, choices, start, frames, notebook, dpi),
                          frame, round(spec.figsize[0] * dpi))
