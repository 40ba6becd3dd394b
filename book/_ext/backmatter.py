"""Sphinx extension: back matter. A proof index that lists titles, not internal labels; and a
bibliography labelled author-year
("McClean et al. 2018"), like the citations in the text, instead of pybtex's alpha labels
("MBS+18").

sphinx-proof's index ("Proof Index", ``prf-prf.html``) names each definition and theorem by its
label (``thm-ch2-shift``), which means nothing to a reader. This extension records each
proof-like block's title when its page is read and lists the index under those titles
("Parameter-shift rule"), with the kind of block (theorem, definition ...) beside it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from docutils import nodes
from pybtex.markup import LaTeXParser
from pybtex.plugin import register_plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle
from sphinx_proof.domain import ProofDomain, ProofIndex


def _plain(latex: str) -> str:
    return LaTeXParser(latex).parse().render_as("text")


class AuthorYearLabels(BaseLabelStyle):
    """``Surname Year``, ``Surname and Other Year`` or ``Surname et al. Year``; a letter
    (2018a, 2018b) separates works that would share a label."""

    def format_labels(self, sorted_entries):
        labels = []
        for entry in sorted_entries:
            persons = entry.persons.get("author") or entry.persons.get("editor") or []
            names = [_plain(" ".join(p.last_names)) for p in persons]
            if not names:
                who = _plain(entry.fields.get("title", "Anon."))[:30]
            elif len(names) == 1:
                who = names[0]
            elif len(names) == 2:
                who = f"{names[0]} and {names[1]}"
            else:
                who = f"{names[0]} et al."
            labels.append(f"{who} {entry.fields.get('year', 'n.d.')}")
        for label in list(labels):
            same = [i for i, other in enumerate(labels) if other == label]
            if len(same) > 1:
                for letter, i in zip("abcdefghij", same, strict=False):
                    labels[i] = f"{label}{letter}"
        yield from labels


class AuthorYearStyle(PlainStyle):
    """pybtex's plain style (sorted by author, year, title) with author-year labels."""

    default_label_style = "qnn-author-year"


register_plugin("pybtex.style.labels", "qnn-author-year", AuthorYearLabels)
register_plugin("pybtex.style.formatting", "qnn-author-year", AuthorYearStyle)


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
    return {"parallel_read_safe": True, "parallel_write_safe": True}
