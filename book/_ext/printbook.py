"""Sphinx extension: the book as a printed book (``make pdf``: Jupyter Book's LaTeX builder).

For the LaTeX builder only (the site is untouched):

* the title page carries the title, the subtitle, the authors, the licence and the date and
  commit it was built from;
* an explorer (:func:`qnncourse.widgets.static_explorer`) prints as its opening frame with a
  caption: myst-nb picks the explorer's ``image/png`` form (the site shows its ``text/html``
  form), and the PNG's text chunks carry the caption (``qnncourse-explorer`` and
  ``Description``), which is set under the image, the two kept on one page;
* the library reference is an appendix of signatures and one-paragraph summaries (with the
  formula that follows the summary, when there is one): the full entries, with parameters,
  returns and notes, stay on the site;
* the Reference part (running the code, notation, library reference, bibliography) comes
  after ``\\appendix``, lettered A, B, ...

For the HTML builder: the site's download menu links ``book.pdf`` only when ``make pdf`` has
built it (``_build/pdf/book.pdf``, copied to the site's root here), so ``make book`` alone
leaves no dead link.
"""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from docutils import nodes
from PIL import Image
from sphinx import addnodes
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

# The PNG text key set by qnncourse.widgets.static (kept literal: this extension runs in the
# Sphinx process and must not import the library's plotting stack).
EXPLORER_KEY = "qnncourse-explorer"
# The toctree caption whose part becomes the appendix.
APPENDIX_PART = "Reference"
REFERENCE_DOC = "book/library_reference"
BIBLIOGRAPHY_DOC = "book/bibliography"
INTRODUCTION = "Introduction"
BOOK_PDF = "book.pdf"

SUBTITLE = "A course in trainability, tested by code"
LICENCE = (r"Text licensed under CC BY 4.0 (\url{https://creativecommons.org/licenses/by/4.0/}),"
           r" code under the MIT licence.")


def _built_from(srcdir: Path) -> str:
    """The date and commit the PDF is built from (the date alone outside a git checkout)."""
    today = datetime.date.today().isoformat()
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=srcdir,
                                capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"Built on {today}"
    return f"Built on {today} from commit {commit}"


def _latex_escape(text: str) -> str:
    for char, repl in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"),
                       ("#", r"\#"), ("_", r"\_"), ("{", r"\{"), ("}", r"\}"),
                       ("~", r"\textasciitilde{}"), ("^", r"\textasciicircum{}")):
        text = text.replace(char, repl)
    return text


def _config_latex(app: Any, config: Any) -> None:
    """Title page, running heads and page layout (runs before sphinx-jupyterbook-latex adds
    its preamble to ``latex_elements``)."""
    # \title and \author, which Sphinx sets from latex_documents (Jupyter Book fills in its
    # title only after this event)
    title, author = r"\csname @title\endcsname", r"\csname @author\endcsname"
    built = _latex_escape(_built_from(Path(app.srcdir)))
    elements = config.latex_elements
    elements.setdefault("papersize", "a4paper")
    elements.setdefault("pointsize", "11pt")
    # A4 with margins a book has (the jupyterBook class sets 17.5 cm lines, too long to read).
    elements.setdefault("geometry", r"\usepackage[a4paper,hmargin=2.2cm,top=2.6cm,"
                                    r"bottom=2.6cm,headheight=14pt]{geometry}")
    elements.setdefault("maketitle", "\n".join([
        r"\begin{titlepage}\centering",
        r"\vspace*{0.22\textheight}",
        rf"{{\Huge\bfseries {title}\par}}\vspace{{1.2em}}",
        rf"{{\Large {_latex_escape(SUBTITLE)}\par}}\vspace{{2.5em}}",
        rf"{{\large {author}\par}}\vfill",
        rf"{{\small {LICENCE}\par}}\vspace{{0.6em}}",
        rf"{{\small {built}\par}}",
        r"\end{titlepage}",
    ]))
    elements.setdefault("extraclassoptions", "openany")
    # No index at the back: the contents and the PDF's bookmarks find a chapter, and the
    # library reference is in source order (an index would also need Debian's xindy).
    elements.setdefault("makeindex", "")
    elements.setdefault("printindex", "")
    config.latex_domain_indices = False
    # Code at 9 pt: most lines of the chapters (up to 99 characters) fit the line; longer ones
    # wrap at a space or punctuation, with Sphinx's continuation marks.
    elements.setdefault("fvset", r"\fvset{fontsize=\footnotesize}")
    elements["preamble"] = elements.get("preamble", "") + "\n".join([
        "",
        r"% qnncourse (book/_ext/printbook.py): a running head with the chapter on every page",
        r"\makeatletter",
        r"\fancypagestyle{normal}{\fancyhf{}",
        r"  \fancyhead[L]{\nouppercase{\small\itshape\leftmark}}",
        r"  \fancyhead[R]{\small\thepage}",
        rf"  \fancyfoot[C]{{\footnotesize {title}}}",
        r"  \renewcommand{\headrulewidth}{0.4pt}\renewcommand{\footrulewidth}{0pt}}",
        r"% the bibliography continues its chapter (the book's bibliography page) instead of",
        r"% opening a chapter of its own",
        r"\renewenvironment{sphinxthebibliography}[1]",
        r"  {\let\chapter\@gobbletwo\begin{thebibliography}{#1}}{\end{thebibliography}}",
        r"\makeatother",
        r"\setcounter{tocdepth}{1}",
        "",
    ])


class ExplorerFrames(SphinxPostTransform):
    """An explorer's printed frame: the image, centred, and its caption, on one page."""

    default_priority = 450  # after myst-nb has chosen the output's mime type
    formats = ("latex",)

    def run(self, **kwargs: Any) -> None:
        for image in list(self.document.findall(nodes.image)):
            uri = image.get("uri", "")
            if not uri.endswith(".png"):
                continue
            path = Path(self.app.srcdir, uri)
            if not path.is_file():
                continue
            with Image.open(path) as frame:
                title, caption = frame.info.get(EXPLORER_KEY), frame.info.get("Description")
            if not title or not caption:
                continue
            image["align"] = "center"
            image["alt"] = caption
            box = nodes.container(classes=["qnn-print-explorer"])
            box += nodes.raw("", r"\par\noindent\begin{minipage}{\linewidth}", format="latex")
            box += image.deepcopy()
            box += nodes.raw("", r"\small", format="latex")
            box += nodes.paragraph("", caption, classes=["qnn-print-caption"])
            box += nodes.raw("", r"\end{minipage}\par\medskip", format="latex")
            image.replace_self(box)


# Operators that are macros in LaTeX (\mathop...): ``T_\max`` is fine for MathJax but LaTeX
# needs ``T_{\max}``.
_BARE_OPERATOR = re.compile(r"([_^])\s*(\\(?:max|min|sup|inf|lim|log|ln|exp|det|arg|dim|ker|"
                            r"deg|gcd|Pr|sin|cos|tan|sinh|cosh|tanh)(?![A-Za-z]))")


class BracedOperators(SphinxPostTransform):
    r"""``x_\max`` becomes ``x_{\max}`` in print (as MathJax reads it)."""

    default_priority = 450
    formats = ("latex",)

    def run(self, **kwargs: Any) -> None:
        for node in list(self.document.findall(lambda n: isinstance(n, (nodes.math,
                                                                        nodes.math_block)))):
            text = node.astext()
            fixed = _BARE_OPERATOR.sub(r"\1{\2}", text)
            if fixed != text:
                node.children = [nodes.Text(fixed)]


def _summary(content: nodes.Element, keep: tuple[type, ...] = (), members: bool = True) -> None:
    """Keep an entry's first paragraph, the formulas right after it, its citations (so every
    citation reference still resolves), its documented members (summarised in turn) when
    ``members``, and children of the ``keep`` types; drop the rest."""
    kept: list[nodes.Node] = []
    seen_paragraph = after_summary = False
    for child in content.children:
        if isinstance(child, addnodes.desc):
            # a member without a line of its own (a dataclass field) is in the signature
            # already; a function's numpydoc "Methods" section is not a list of members
            documented = any(isinstance(c, addnodes.desc_content) and c.children
                             for c in child.children)
            if members and (documented or not isinstance(content, addnodes.desc_content)):
                _summaries(child)
                kept.append(child)
        elif isinstance(child, (nodes.citation, *keep)):
            kept.append(child)
        elif not seen_paragraph and isinstance(child, nodes.paragraph):
            kept.append(child)
            seen_paragraph = after_summary = True
        elif after_summary and isinstance(child, nodes.math_block):
            kept.append(child)
        else:
            after_summary = False
    content.children = []
    content.extend(kept)


def _summaries(desc: addnodes.desc) -> None:
    members = desc.get("objtype") in ("class", "exception")
    for content in [c for c in desc.children if isinstance(c, addnodes.desc_content)]:
        _summary(content, members=members)


class ShortReference(SphinxPostTransform):
    """The library reference in print: signatures and one-paragraph summaries."""

    default_priority = 450
    formats = ("latex",)

    def run(self, **kwargs: Any) -> None:
        for start in self.document.findall(addnodes.start_of_file):
            if start.get("docname") != REFERENCE_DOC:
                continue
            for desc in [d for d in start.findall(addnodes.desc)
                         if not isinstance(d.parent, addnodes.desc_content)]:
                _summaries(desc)
            # autosummary tables repeat the entries' summaries: the entries are enough in print
            for table in [t for t in start.findall(nodes.table)
                          if "autosummary" in " ".join(t.get("classes", []))]:
                table.parent.remove(table)
            for spec in list(start.findall(addnodes.tabular_col_spec)):
                spec.parent.remove(spec)
            # each module's docstring: its first paragraph (and formula); no sub-sections
            chapter = next(start.findall(nodes.section))
            # set a size smaller than the chapters, as a reference is
            chapter.insert(1, nodes.raw("", r"\begingroup\small", format="latex"))
            chapter += nodes.raw("", r"\endgroup", format="latex")
            for module in [s for s in chapter.children if isinstance(s, nodes.section)]:
                for inner in [s for s in module.children if isinstance(s, nodes.section)
                              and not any(s.findall(addnodes.desc))]:
                    module.remove(inner)
                _summary(module, keep=(nodes.title, nodes.target, addnodes.index,
                                       nodes.section))
            _citations_in_place(self.document, start)


def _citations_in_place(document: nodes.document, start: addnodes.start_of_file) -> None:
    """The docstrings' citations stay under their entries, as on the site, instead of joining
    the book's bibliography (where a paper cited by the chapters and by a docstring would be
    listed twice): each becomes a paragraph "[label] text" with its anchor, and each reference
    to it a link to that anchor."""
    labels = {}
    for citation in list(start.findall(nodes.citation)):
        label = citation[0].astext()
        labels[citation["ids"][0]] = label
        paragraph = nodes.paragraph("", "", nodes.Text(f"[{label}] "),
                                    classes=["qnn-print-citation"])
        for child in citation.children[1:]:
            paragraph.extend(child.children if isinstance(child, nodes.paragraph) else [child])
        citation.replace_self([nodes.target("", "", ids=list(citation["ids"])), paragraph])
    for ref in list(document.findall(nodes.citation_reference)):
        if ref.get("docname") == REFERENCE_DOC and ref.get("refname") in labels:
            ref.replace_self(nodes.reference(
                "", f"[{labels[ref['refname']]}]", internal=True,
                refuri=f"%{REFERENCE_DOC}#{ref['refname']}"))


class Appendix(SphinxPostTransform):
    """``\\appendix`` before the Reference part: its chapters are lettered."""

    default_priority = 800  # after sphinx-jupyterbook-latex has arranged the parts
    formats = ("latex",)

    def run(self, **kwargs: Any) -> None:
        # sphinx-jupyterbook-latex makes each caption a part: a start_of_file "named" by the
        # caption, holding a section titled with it.
        for part in self.document.findall(addnodes.start_of_file):
            if part.get("docname") == APPENDIX_PART:
                wrapper = part.parent
                # the contents list the appendices' titles, not the library's modules
                wrapper.parent.insert(wrapper.parent.index(wrapper), nodes.raw(
                    "", "\n\\appendix\n\\addtocontents{toc}{\\protect\\setcounter{tocdepth}{0}}\n",
                    format="latex"))
                return
        if any(self.document.findall(addnodes.start_of_file)):  # the assembled book
            logger.warning("printbook: no part %r in the book for the appendix", APPENDIX_PART)


class BackMatter(SphinxPostTransform):
    """The collected bibliography under the book's bibliography page (not a chapter after
    it), and a heading for the introduction (the root document, whose title is the book's)."""

    default_priority = 800  # after Sphinx gathered the citations (750)
    formats = ("latex",)

    def run(self, **kwargs: Any) -> None:
        from sphinx.builders.latex.nodes import thebibliography

        bibliographies = list(self.document.findall(thebibliography))
        for start in self.document.findall(addnodes.start_of_file):
            if start.get("docname") == BIBLIOGRAPHY_DOC and bibliographies:
                chapter = next(start.findall(nodes.section))
                for bibliography in bibliographies:
                    bibliography.parent.remove(bibliography)
                    chapter += bibliography
                break
        for section in self.document.findall(nodes.section):
            if section.get("docname") == self.app.config.root_doc:
                title = _latex_escape(INTRODUCTION)
                section.insert(1, nodes.raw("", rf"\chapter*{{{title}}}\markboth{{{title}}}"
                                                rf"{{{title}}}\addcontentsline{{toc}}{{chapter}}"
                                                rf"{{{title}}}", format="latex"))
                break


def _latex_theme(app: Any, config: Any) -> None:
    """The class ``book/_ext/latex/qnnbook.cls`` instead of sphinx-jupyterbook-latex's (which
    sets its own on this event, at the default priority)."""
    here = Path(__file__).parent / "latex"
    config.latex_theme = "qnnbook"
    config.latex_theme_path = [*config.latex_theme_path, str(here)]
    config.latex_additional_files = [*config.latex_additional_files, str(here / "qnnbook.cls")]


def _pdf(app: Any) -> Path:
    return Path(app.outdir).parent / "pdf" / BOOK_PDF


def _pdf_config(app: Any, config: Any) -> None:
    # An html-rebuild config value: when the PDF appears (or goes), every page is rewritten,
    # with (or without) the download menu's link to it.
    config.qnncourse_book_pdf = _pdf(app).is_file()


def _add_book_pdf(app: Any, pagename: str, templatename: str, context: dict, doctree: Any):
    """Add the book's PDF to the theme's download menu (beside the page's own files)."""
    if not app.config.qnncourse_book_pdf:
        return
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


def _copy_pdf(app: Any, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html" and app.config.qnncourse_book_pdf:
        shutil.copyfile(_pdf(app), Path(app.outdir, BOOK_PDF))


def setup(app: Any) -> dict[str, Any]:
    app.add_config_value("qnncourse_book_pdf", False, "html", [bool])
    app.connect("config-inited", _config_latex, priority=400)
    app.connect("config-inited", _latex_theme, priority=600)
    app.connect("config-inited", _pdf_config)
    app.add_post_transform(ExplorerFrames)
    app.add_post_transform(ShortReference)
    app.add_post_transform(Appendix)
    app.add_post_transform(BracedOperators)
    app.add_post_transform(BackMatter)
    app.connect("html-page-context", _add_book_pdf, priority=900)
    app.connect("build-finished", _copy_pdf)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
