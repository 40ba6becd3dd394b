"""The smallest text of a figure, recorded in its PNG for the site's figure-size test."""

import base64
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

from qnncourse import figure_text  # noqa: E402


def _png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def test_smallest_text_counts_only_what_is_drawn():
    fig, (a, b) = plt.subplots(1, 2)
    a.plot([1, 2], [1, 2])
    a.set_title("small", fontsize=7)
    b.set_xlabel("hidden", fontsize=5)
    b.set_visible(False)  # the 5 pt label of a hidden axes is not drawn
    a.tick_params(labelsize=8)
    assert figure_text.smallest_text_pt(fig) == 7
    a.set_title("")
    assert figure_text.smallest_text_pt(fig) == 8
    plt.close(fig)
    empty = Figure()
    empty.add_subplot().axis("off")
    assert figure_text.smallest_text_pt(empty) is None
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure, got str"):
        figure_text.smallest_text_pt("figure")


def test_the_mark_survives_a_png_reader():
    fig = Figure(figsize=(2, 1))
    fig.add_subplot().plot([0, 1])
    png = _png(fig)
    assert figure_text.text_px_of_png(png) is None
    marked = figure_text.mark_png(png, 12.5)
    assert figure_text.text_px_of_png(marked) == 12.5
    image = Image.open(io.BytesIO(marked))
    image.load()  # the chunk's CRC is checked here
    assert image.text[figure_text.TEXT_PX_KEY] == "12.50"
    assert image.size == Image.open(io.BytesIO(png)).size


@pytest.mark.parametrize(("data", "px", "message"), [
    (b"GIF89a", 10, "not a PNG"), (None, 0, "text_px must be positive, got 0")])
def test_mark_png_bad_input(data, px, message):
    png = data if data is not None else _png(Figure(figsize=(1, 1)))
    with pytest.raises(ValueError, match=message):
        figure_text.mark_png(png, px)


def test_the_notebook_formatter_marks_each_figure_at_its_display_size():
    """IPython's PNG formatter returns (base64, metadata) for a retina figure; the wrapper
    keeps both and adds pt * dpi / 72 of the smallest text."""
    def previous(fig):
        return base64.b64encode(_png(fig)).decode("ascii"), {"width": 300, "height": 200}

    wrapped = figure_text._figure_png_formatter(previous)
    fig = Figure(figsize=(3, 2), dpi=100)
    ax = fig.add_subplot()
    ax.plot([0, 1])
    ax.tick_params(labelsize=9)
    ax.set_xlabel("x", fontsize=12)
    data, metadata = wrapped(fig)
    assert metadata == {"width": 300, "height": 200}
    assert figure_text.text_px_of_png(base64.b64decode(data)) == pytest.approx(9 * 100 / 72,
                                                                               abs=0.01)
    assert wrapped.qnncourse_text_size


def test_outside_ipython_nothing_is_installed():
    assert figure_text.record_text_size() is False
