"""Sphinx extension: the theme's and myst-nb's markup, corrected where it fails WCAG 2.1 AA.

axe-core (``tests/a11ycheck.py``) finds these in the HTML that Jupyter Book 1's stack writes;
each is fixed at the source of the markup, on every page:

* the search button and the colour-mode button of pydata-sphinx-theme name themselves
  differently from what they show (2.5.3 Label in Name): the course's copies of the two
  templates (``book/_ext/templates``) come first on the template path;
* the sidebar's expand/collapse toggles are ``<summary>`` elements with only an icon (4.1.2
  Name, Role, Value): they get ``aria-label="Sections"``;
* myst-nb's "Show code cell source" toggles are labelled "Toggle hidden content", which is not
  what they show (2.5.3): the label goes, and the visible text names them;
* docutils writes a citation list as ``role="list"`` holding ``role="doc-biblioentry"`` items, a
  list without list items (1.3.1 Info and Relationships; the role is also deprecated): the
  items become ``role="listitem"``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from markupsafe import Markup

TEMPLATES = Path(__file__).parent / "templates"

_ICON_ONLY_SUMMARY = re.compile(r'<summary>(\s*<span class="toctree-toggle")')
_CELL_TOGGLE_LABEL = re.compile(r'(<summary)\s+aria-label="Toggle hidden content"')
_BIBLIOENTRY = re.compile(r'role="doc-biblioentry"')


def label_toggles(html: str) -> str:
    """Give the sidebar's icon-only ``<summary>`` toggles a name."""
    return _ICON_ONLY_SUMMARY.sub(r'<summary aria-label="Sections">\1', html)


def fix_body(html: str) -> str:
    """The page body with the cell toggles' and citation lists' markup corrected."""
    html = _CELL_TOGGLE_LABEL.sub(r"\1", html)
    return _BIBLIOENTRY.sub('role="listitem"', html)


def _fix_page(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    if "body" in context:
        context["body"] = fix_body(context["body"])
    toctree = context.get("generate_toctree_html")
    if toctree is not None and not getattr(toctree, "qnn_labelled", False):
        def labelled(*args: Any, **kwargs: Any) -> Markup:
            return Markup(label_toggles(str(toctree(*args, **kwargs))))

        labelled.qnn_labelled = True
        context["generate_toctree_html"] = labelled


def _prepend_templates(app: Any, config: Any) -> None:
    if str(TEMPLATES) not in config.templates_path:
        config.templates_path.insert(0, str(TEMPLATES))


def setup(app: Any) -> dict[str, Any]:
    app.connect("config-inited", _prepend_templates)
    # after pydata-sphinx-theme has put its toctree functions into the context
    app.connect("html-page-context", _fix_page, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
