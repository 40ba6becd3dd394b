"""Sphinx extension: the library reference, generated from ``__all__`` and the docstrings.

The directive ``.. qnncourse-reference::`` (used by ``book/library_reference.rst``) walks the
package ``qnncourse`` and every public module below it, whatever the current layout of modules
and sub-packages, and writes one section per module that has an ``__all__``: the module's
docstring, a summary table of every name in its ``__all__``, and the entries of the objects it
defines. A name a module re-exports (``qnncourse.Cost`` is ``qnncourse.cost.Cost``) is listed
in its table and linked to the one entry, so no object is documented twice. Sphinx's autodoc,
autosummary and napoleon (numpydoc-style sections) render the entries; their ``.. math::``
blocks are typeset by the site's MathJax.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

PACKAGE = "qnncourse"


def public_modules(package: str = PACKAGE) -> list[ModuleType]:
    """The package and every module below it with no ``_private`` part in its dotted name."""
    root = importlib.import_module(package)
    found = [root]
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        found.append(importlib.import_module(info.name))
    return found


@dataclass
class ModuleEntry:
    """One module's section: every name of its ``__all__`` with the entry it links to, and
    the objects documented here (``(kind, name)`` with kind ``function``/``class``/``data``)."""

    module: str
    names: list[tuple[str, str]] = field(default_factory=list)  # (name, target dotted path)
    documented: list[tuple[str, str]] = field(default_factory=list)


def _kind(obj: Any) -> str:
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "data"


def reference_plan(modules: list[ModuleType]) -> list[ModuleEntry]:
    """Which module documents each public object, and what every ``__all__`` links to.

    An object is documented in the module that defines it (its ``__module__``) when that
    module exports it; otherwise in the shallowest module that exports it. Every other export
    of the same object links to that entry.
    """
    with_all = sorted((m for m in modules if hasattr(m, "__all__")),
                      key=lambda m: (m.__name__.count("."), m.__name__))
    exporters: dict[int, list[tuple[ModuleType, str]]] = {}
    objects: dict[int, Any] = {}
    for module in with_all:
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.ismodule(obj):
                continue
            # equal constants (small ints, strings) may be one object: key them by name too
            key = id(obj) if _kind(obj) != "data" else hash((id(obj), name))
            exporters.setdefault(key, []).append((module, name))
            objects[key] = obj
    home: dict[tuple[str, str], str] = {}  # (module, name) -> dotted path of its entry
    entries = {m.__name__: ModuleEntry(m.__name__) for m in with_all}
    for key, places in exporters.items():
        obj = objects[key]
        defining = getattr(obj, "__module__", None) if _kind(obj) != "data" else None
        owner = next(((m, n) for m, n in places if m.__name__ == defining
                      and n == getattr(obj, "__name__", n)), places[0])
        target = f"{owner[0].__name__}.{owner[1]}"
        entries[owner[0].__name__].documented.append((_kind(obj), owner[1]))
        for module, name in places:
            home[(module.__name__, name)] = target
    for module in with_all:
        for name in module.__all__:
            obj = getattr(module, name)
            target = obj.__name__ if inspect.ismodule(obj) else home[(module.__name__, name)]
            entries[module.__name__].names.append((name, target))
    return [entries[m.__name__] for m in with_all]


def reference_rst(plan: list[ModuleEntry]) -> list[str]:
    """The reStructuredText of the reference: one section per module."""
    lines: list[str] = []
    for entry in plan:
        title = f"``{entry.module}``"
        # autosummary's names are full paths, so no current module while it runs
        lines += [title, "-" * len(title), "", f".. automodule:: {entry.module}",
                  "   :no-members:", "", ".. currentmodule:: None", ""]
        if entry.names:
            lines += [".. autosummary::", "   :nosignatures:", ""]
            lines += [f"   ~{target}" for _, target in entry.names]
            lines.append("")
        for kind, name in entry.documented:
            directive = {"class": "autoclass", "function": "autofunction", "data": "autodata"}
            lines += [f".. {directive[kind]}:: {entry.module}.{name}"]
            if kind == "class":
                lines += ["   :members:"]
            if kind == "data":
                lines += ["   :no-value:"]
            lines.append("")
    return lines


def _drop_type_docstring(app: Any, what: str, name: str, obj: Any, options: Any,
                         lines: list[str]) -> None:
    """A constant without its own documentation would show its type's docstring (``dict``'s,
    for a dict): show nothing instead."""
    if what in ("data", "attribute") and lines and not inspect.isclass(obj) and not callable(obj):
        own = type(obj).__doc__
        if isinstance(own, str) and " ".join(lines).split() == own.split():
            lines[:] = []


_CITATION = re.compile(r"^\s*\.\. \[([A-Za-z][\w.-]*)\]", re.M)


def _one_definition_per_citation(app: Any, what: str, name: str, obj: Any, options: Any,
                                 lines: list[str]) -> None:
    """Keep the first definition of each docstring citation (``.. [McClean2018] ...``) and drop
    the later ones: citation labels are global to the site, so two modules citing the same
    paper would collide, and every ``[McClean2018]_`` links to the one kept entry. The labels
    stay author-year, like the chapters' citations."""
    seen: dict[str, str] = app.env.temp_data.setdefault("qnncourse_citations", {})
    keep: list[str] = []
    dropping = False
    for line in lines:
        match = _CITATION.match(line)
        if match:
            label = match.group(1)
            dropping = seen.setdefault(label, name) != name
        elif dropping and line.strip() and not line[:1].isspace():
            dropping = False
        if not dropping:
            keep.append(line)
    # a "References" heading left with nothing under it goes too
    while keep and not keep[-1].strip():
        keep.pop()
    if keep and keep[-1].strip() in (".. rubric:: References", ":References:"):
        keep.pop()
    lines[:] = keep


class ReferenceDirective(SphinxDirective):
    """``.. qnncourse-reference::``: the whole library reference, one section per module."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        rst = StringList()
        for i, line in enumerate(reference_rst(reference_plan(public_modules()))):
            rst.append(line, "<qnncourse-reference>", i)
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, rst, container)
        return container.children


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("qnncourse-reference", ReferenceDirective)
    app.connect("autodoc-process-docstring", _drop_type_docstring)
    app.connect("autodoc-process-docstring", _one_definition_per_citation)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
