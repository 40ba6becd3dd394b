"""Sphinx extension: back matter. A proof index that lists titles, not internal labels, and
the whole book as a PDF in every page's download menu.

sphinx-proof's index ("Proof Index", ``prf-prf.html``) names each definition and theorem by its
label (``thm-ch2-shift``), which means nothing to a reader. This extension records each
proof-like block's title when its page is read and lists the index under those titles
("Parameter-shift rule"), with the kind of block (theorem, definition ...) beside it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from docutils import nodes
from sphinx_proof.domain import ProofDomain, ProofIndex


def _titles(env: Any) -> dict[str, str]:
    if not hasattr(env, "qnn_proof_titles"):
        env.qnn_proof_titles = {}
    return env.qnn_proof_titles


def _record_titles(app: Any, doctree: nodes.document) -> None:
    titles = _titles(app.env)
    for node in doctree.findall(nodes.Admonition):
        label, realtype = node.get("label"), node.get("realtype")
        if not label or not realtype or not node.children:
            continue
        if isinstance(node.children[0], nodes.title):
            # sphinx-proof's title is " (%t)": keep the %t
            text = node.children[0].astext().strip()
            if text.startswith("(") and text.endswith(")"):
                text = text[1:-1].strip()
            titles[label] = text


def _purge(app: Any, env: Any, docname: str) -> None:
    proofs = getattr(env, "proof_list", {})
    for label in [k for k in _titles(env) if proofs.get(k, {}).get("docname") == docname]:
        del _titles(env)[label]


def _merge(app: Any, env: Any, docnames: Any, other: Any) -> None:
    _titles(env).update(getattr(other, "qnn_proof_titles", {}))


# `make pdf` prints the book to _build/pdf/book.pdf and copies it here, the site's root.
BOOK_PDF = "book.pdf"


def _add_book_pdf(app: Any, pagename: str, templatename: str, context: dict, doctree: Any):
    """Add the book's PDF to the theme's download menu (beside the page's own files)."""
    for button in context.get("header_buttons", []):
        if button.get("label") == "download-buttons":
            button["buttons"].append({
                "type": "link",
                "url": context["pathto"](BOOK_PDF, 1),
                "text": "book (PDF)",
                "tooltip": "Download the whole book as a PDF",
                "icon": "fas fa-book",
                "label": "download-book-pdf-button",
            })


class TitledProofIndex(ProofIndex):
    """The proof index, one entry per block under its title (its label when it has none)."""

    def generate(self, docnames=None):
        content: dict[str, list] = defaultdict(list)
        titles = getattr(self.domain.env, "qnn_proof_titles", {})
        for anchor, values in getattr(self.domain.env, "proof_list", {}).items():
            name = titles.get(anchor) or anchor
            kind = values["realtype"]
            content[name[0].upper()].append(
                (name, 0, values["docname"], anchor, "", "", kind))
        return sorted((k, sorted(v)) for k, v in content.items()), True


def setup(app: Any) -> dict[str, Any]:
    # the domain lists its index classes; sphinx-proof offers no other way to replace its index
    ProofDomain.indices = [TitledProofIndex]
    app.connect("doctree-read", _record_titles)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("html-page-context", _add_book_pdf, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
