"""Sphinx extension: keep the rendered book self-contained and its console clean.

Sphinx 7.4 can list the same script twice in a page's ``script_files`` (inline scripts
included); sphinx-thebe's ``const THEBE_JS_URL = ...`` then throws "already been declared" in
every page. De-duplicating the list on ``html-page-context`` removes the error without touching
any theme. It also adds the course's stylesheet (``book/_ext/static/qnncourse.css``).
"""

from __future__ import annotations

from typing import Any


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


def setup(app: Any) -> dict[str, Any]:
    # Run late, after the theme and myst-nb have added their scripts.
    app.connect("html-page-context", _deduplicate_scripts, priority=900)
    app.add_js_file("mathjax2-shim.js", defer="defer")
    app.add_css_file("qnncourse.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
