"""Sphinx extension: keep the rendered book self-contained and its console clean.

Sphinx 7.4 can list the same script twice in a page's ``script_files`` (inline scripts
included); an inline ``const`` declared twice then throws "already been declared" in every page.
De-duplicating the list on ``html-page-context`` removes the error without touching any theme.

Jupyter Book always loads sphinx-thebe, which writes a Thebe configuration into every page (a
script naming its default Binder repository, ``binder-examples/jupyter-stacks-datascience``, a
kernel name, a loader script and a stylesheet) even with ``launch_buttons: thebe: false``. The
book has no live-code button, so all of it is removed from the pages.

It also adds the course's stylesheet (``book/_ext/static/qnncourse.css``).
"""

from __future__ import annotations

from typing import Any

from docutils import nodes

# What sphinx-thebe adds: raw HTML in each doctree, and files in every page's head.
_THEBE_RAW = ("text/x-thebe-config", "kernelName = ")
_THEBE_FILES = ("sphinx-thebe.js", "sphinx-thebe.css")


def _deduplicate_scripts(app: Any, pagename: str, templatename: str, context: dict, doctree: Any):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, tuple]] = set()
    unique = []
    for script in scripts:
        # Two entries are the same script when file and attributes (inline body included)
        # agree; an inline script's filename is sometimes None and sometimes "".
        key = (
            str(getattr(script, "filename", script) or ""),
            tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items())),
        )
        if key in seen:
            continue
        seen.add(key)
        unique.append(script)
    context["script_files"] = unique


def _drop_thebe_nodes(app: Any, doctree: Any, docname: str) -> None:
    for node in list(doctree.findall(nodes.raw)):
        if any(marker in node.astext() for marker in _THEBE_RAW):
            node.parent.remove(node)


def _drop_thebe_files(app: Any, pagename: str, templatename: str, context: dict,
                      doctree: Any) -> None:
    def is_thebe(entry: Any) -> bool:
        name = str(getattr(entry, "filename", entry) or "")
        body = str(getattr(entry, "attributes", {}).get("body", ""))
        return name.endswith(_THEBE_FILES) or "THEBE_JS_URL" in body

    for key in ("script_files", "css_files"):
        if context.get(key):
            context[key] = [entry for entry in context[key] if not is_thebe(entry)]


def setup(app: Any) -> dict[str, Any]:
    # Run late, after the theme, myst-nb and sphinx-thebe have added their scripts and nodes.
    app.connect("html-page-context", _deduplicate_scripts, priority=900)
    app.connect("html-page-context", _drop_thebe_files, priority=900)
    app.connect("doctree-resolved", _drop_thebe_nodes, priority=900)
    app.add_js_file("mathjax2-shim.js", defer="defer")
    app.add_css_file("qnncourse.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
