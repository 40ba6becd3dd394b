r"""The size of a figure's text on the page, recorded in the figure's PNG.

A reader sees a figure's labels at

.. math::

    \text{px} = \text{pt} \cdot \frac{\text{dpi}}{72} \cdot s,

where pt is the font size matplotlib drew with, dpi the CSS pixels per inch of figure the page
gives the image (a notebook shows a figure at ``figure.dpi`` pixels per inch, whatever density
the PNG was rendered at) and :math:`s` the factor by which the text column shrinks it. The
first two factors are known only where the figure is drawn, the last only in the browser; so
the figure's PNG carries ``pt * dpi / 72`` of its smallest text in a ``tEXt`` chunk
(:data:`TEXT_PX_KEY`), and the site's browser test multiplies it by the measured :math:`s` and
asks for at least 9 px (WCAG 2.1 asks for text a reader can enlarge; labels drawn into a
picture cannot be, so they are drawn large enough to start with).

:func:`record_text_size` installs this for the figures of an IPython kernel (the book's
chapters call it through :func:`qnncourse.plotting.use_style`); the kernel-free explorers of
:mod:`qnncourse.widgets` mark their frames with :func:`mark_png`.
"""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.figure import Figure

__all__ = ["TEXT_PX_KEY", "mark_png", "record_text_size", "smallest_text_pt", "text_px_of_png"]

TEXT_PX_KEY = "qnncourse:smallest-text-px"
"""The ``tEXt`` keyword of a PNG's smallest text height, in CSS px at the intended size."""

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class _TextSizes(RendererAgg):
    """An Agg renderer that notes the size of every text it draws."""

    def __init__(self, width: float, height: float, dpi: float) -> None:
        super().__init__(width, height, dpi)
        self.sizes: list[float] = []

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):  # noqa: ANN001
        if s.strip():
            self.sizes.append(prop.get_size_in_points())
        super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)


def smallest_text_pt(fig: Figure) -> float | None:
    """Font size in points of the smallest text drawn in ``fig`` (``None`` for no text).

    The figure is drawn once on a recording renderer: what counts is what matplotlib actually
    draws (tick labels of hidden axes or outside the view are not drawn, so they do not count).
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    width, height = fig.bbox.size
    renderer = _TextSizes(max(int(width), 1), max(int(height), 1), fig.dpi)
    fig.draw(renderer)
    return min(renderer.sizes) if renderer.sizes else None


def mark_png(png: bytes, text_px: float) -> bytes:
    """``png`` with a ``tEXt`` chunk :data:`TEXT_PX_KEY` = ``text_px`` (before ``IEND``)."""
    if not png.startswith(_PNG_SIGNATURE):
        raise ValueError("not a PNG: the data do not start with the PNG signature")
    if not (text_px > 0):
        raise ValueError(f"text_px must be positive, got {text_px}")
    body = TEXT_PX_KEY.encode("latin-1") + b"\0" + f"{text_px:.2f}".encode("latin-1")
    chunk = (struct.pack(">I", len(body)) + b"tEXt" + body
             + struct.pack(">I", zlib.crc32(b"tEXt" + body) & 0xFFFFFFFF))
    end = png.rfind(b"IEND") - 4  # the length field before the IEND type
    if end < len(_PNG_SIGNATURE):
        raise ValueError("not a PNG: no IEND chunk")
    return png[:end] + chunk + png[end:]


def text_px_of_png(png: bytes) -> float | None:
    """The :data:`TEXT_PX_KEY` value written by :func:`mark_png`, or ``None``."""
    if not png.startswith(_PNG_SIGNATURE):
        raise ValueError("not a PNG: the data do not start with the PNG signature")
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        if kind == b"tEXt":
            key, _, value = png[pos + 8:pos + 8 + length].partition(b"\0")
            if key.decode("latin-1") == TEXT_PX_KEY:
                return float(value)
        pos += 12 + length
    return None


def _figure_png_formatter(previous: Any) -> Any:
    """Wrap IPython's PNG formatter of figures: same image and metadata, plus the mark."""

    def formatter(fig: Figure) -> Any:
        out = previous(fig)
        if out is None:
            return None
        data, metadata = out if isinstance(out, tuple) else (out, None)
        pt = smallest_text_pt(fig)
        if pt is None:
            return out
        raw = base64.b64decode(data) if isinstance(data, str) else data
        marked = mark_png(raw, pt * fig.dpi / 72)
        if isinstance(data, str):
            marked = base64.b64encode(marked).decode("ascii")
        return marked if metadata is None else (marked, metadata)

    formatter.qnncourse_text_size = True
    return formatter


def record_text_size() -> bool:
    """In an IPython kernel, mark every figure's PNG with its smallest text (see the module).

    Loads the kernel's matplotlib backend first (IPython sets up its figure formatters when the
    backend loads, which would replace the wrapper), so it closes any open pyplot figures.
    Returns whether a formatter was wrapped: ``False`` outside IPython or when the kernel shows
    figures in another format than PNG.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of the course
        return False
    shell = get_ipython()
    if shell is None:
        return False
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    plt.switch_backend(mpl.get_backend())
    png = shell.display_formatter.formatters["image/png"]
    try:
        previous = png.lookup_by_type(Figure)
    except KeyError:
        return False
    if not getattr(previous, "qnncourse_text_size", False):
        png.for_type(Figure, _figure_png_formatter(previous))
    return True
