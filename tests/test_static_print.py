"""The printed form of a static explorer: one frame with its caption, for the book's PDF."""

import base64
import io
import math
import re

from IPython.core.formatters import DisplayFormatter
from PIL import Image

from qnncourse import widgets
from qnncourse.widgets.static import PRINT_FRAME_KEY


def test_the_printed_form_is_the_opening_frame_with_a_caption():
    thetas = [-math.pi / 4, math.pi / 4]
    explorer = widgets.static_explorer("landscape", notebook="book/02_gradients.md",
                                       theta=thetas, cost=["local", "global"], param=3)
    data, metadata = DisplayFormatter().format(explorer)
    # the site (and Jupyter) show the HTML; LaTeX, which has no HTML, picks the PNG
    assert data["text/html"] == explorer.data
    frame = Image.open(io.BytesIO(data["image/png"]))
    # the frame the page opens on (theta = pi/4, local cost), at the page's pixel density
    opening = re.search(r'class="qnn-static-frame"[^>]*src="data:image/png;base64,([^"]+)"',
                        explorer.data).group(1)
    shown = Image.open(io.BytesIO(base64.b64decode(opening)))
    assert frame.size == shown.size
    assert frame.convert("RGB").tobytes() == shown.convert("RGB").tobytes()
    assert metadata["image/png"]["width"] == round(widgets.EXPLORERS["landscape"].figsize[0] * 96)
    assert round(frame.info["dpi"][0]) == 192
    # the caption says what it shows and where the live explorer is
    assert frame.info[PRINT_FRAME_KEY] == widgets.EXPLORERS["landscape"].title
    caption = frame.info["Description"]
    assert "θᵢ = π/4, cost = local" in caption
    assert "one of the 4 frames" in caption and "jupyter lab book/02_gradients.md" in caption


def test_a_frame_without_a_notebook_says_where_to_run_it():
    explorer = widgets.static_explorer("noise", rate=[0.01, 0.05])
    frame = Image.open(io.BytesIO(DisplayFormatter().format(explorer)[0]["image/png"]))
    assert "on this chapter's source" in frame.info["Description"]
    assert "one of the 2 frames" in frame.info["Description"]
