"""The book as a printed book: `make pdf` builds _build/pdf/book.pdf (run in `make site-test`).

The checks read the built PDF (pypdf for its pages, outline, links and named destinations;
pdftotext for its text) and would each fail on a web page printed by a browser: page 1 carries
the title, the contents list page numbers, every chapter starts a page and its pages carry a
running head, every link resolves inside the PDF or points at a public address, hidden cells
stay hidden and an explorer prints as one captioned frame.
"""

from __future__ import annotations

import os
import re
import subprocess
from functools import cache
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

pytestmark = pytest.mark.browser  # `make site-test` runs these, after `make pdf`

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("QNN_SITE", ROOT / "_build" / "html"))
PDF = Path(os.environ.get("QNN_PDF", ROOT / "_build" / "pdf" / "book.pdf"))


def _toc_files(numbered: bool, sections: bool = True) -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = []
    for part in toc["parts"]:
        if bool(part.get("numbered")) != numbered:
            continue
        for chapter in part["chapters"]:
            files.append(chapter["file"])
            if sections:
                files += [s["file"] for s in chapter.get("sections", [])]
    return files


def _title(file: str) -> str:
    path = next(p for p in (ROOT / file).parent.glob(Path(file).name + ".*")
                if p.suffix in (".md", ".ipynb", ".rst"))
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        text = "\n".join(line.strip().strip('",').replace("\\n", "")
                         for line in text.splitlines())
    found = re.search(r"^# (.+?)\s*$", text, re.M) or re.search(r"^(.+)\n=+$", text, re.M)
    return found.group(1).strip()


def _chapter_titles() -> list[str]:
    """The numbered chapters, in order (not their sections that are files of their own)."""
    return [_title(f) for f in _toc_files(numbered=True, sections=False)]


@cache
def _reader():
    pypdf = pytest.importorskip("pypdf")
    if not PDF.exists():
        pytest.fail(f"no {PDF}: run `make pdf` first")
    return pypdf.PdfReader(str(PDF))


@cache
def _pages_text() -> list[str]:
    """Each page's text (pdftotext, which `make pdf` installs with poppler-utils)."""
    _reader()
    out = subprocess.run(["pdftotext", "-layout", str(PDF), "-"], capture_output=True,
                         text=True, check=True).stdout
    return out.split("\f")[:len(_reader().pages)]


def _flat(text: str) -> str:
    return " ".join(text.split())


def _outline() -> list[tuple[int, str, int]]:
    """The PDF's bookmarks as (depth, title, page index)."""
    reader = _reader()
    found = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                found.append((depth, item.title, reader.get_destination_page_number(item)))

    walk(reader.outline, 0)
    return found


def _chapter_starts() -> dict[str, int]:
    """Each numbered chapter's first page (index), from the bookmarks."""
    outline = _outline()
    starts = {}
    for title in _chapter_titles():
        match = [page for _, t, page in outline if _flat(t).endswith(_flat(title))]
        assert match, f"chapter {title!r} is not in the PDF's bookmarks"
        starts[title] = match[0]
    return starts


def test_the_first_page_is_a_title_page():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    first = _flat(_pages_text()[0])
    assert _flat(config["title"]) in first, first[:300]
    assert "CC BY 4.0" in first and "MIT" in first, "the licence is on the title page"
    assert re.search(r"Built on \d{4}-\d\d-\d\d", first), "the date it was built"
    assert len(first.split()) > len(config["title"].split()) + 8, "more than a title: subtitle"


def test_the_contents_list_every_chapter_with_its_page_number():
    pages = _pages_text()
    # the contents: from the page headed so to the first page the bookmarks point at
    first = next(i for i, text in enumerate(pages) if text.split()[:1] == ["CONTENTS"]
                 or "Contents" in text.split()[:3])
    toc = "\n".join(pages[first:min(page for _, _, page in _outline())])
    starts = _chapter_starts()
    for title, page in starts.items():
        words = title.split()
        # the entry's title (possibly wrapped), a dot leader or space, then the page number
        entry = r"\s+".join(map(re.escape, words)) + r"[\s.]*?(\d+)\s*$"
        found = re.search(entry, toc, re.M)
        assert found, f"the contents have no page number for {title!r}"
        # ... and it is the number printed on the chapter's first page
        assert found.group(1) == _reader().page_labels[page], (title, found.group(1), page)


def test_every_chapter_starts_a_page_with_a_running_head():
    pages = _pages_text()
    starts = _chapter_starts()
    assert len(starts) >= 6
    for title, page in starts.items():
        lines = [line for line in pages[page].splitlines() if line.strip()]
        head = _flat(" ".join(lines[:4])).lower()
        assert _flat(title).lower() in head, f"{title!r} does not open page {page + 1}: {head}"
        # the chapter's following pages carry its title in the running head
        next_page = [line for line in pages[page + 1].splitlines() if line.strip()]
        assert _flat(title)[:30].lower() in _flat(next_page[0]).lower(), (
            f"page {page + 2} has no running head with {title!r}: {next_page[0]!r}")
    # the chapters come first: the library reference follows every chapter
    reference = [p for _, t, p in _outline() if t.strip().endswith("Library reference")]
    assert reference and reference[0] > max(starts.values())


def _links():
    """Every link annotation: ('uri', address) or ('dest', destination name or array)."""
    found = []
    for page in _reader().pages:
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/Subtype") != "/Link":
                continue
            action = annot.get("/A")
            if action is not None:
                action = action.get_object()
                if action.get("/S") == "/URI":
                    found.append(("uri", str(action["/URI"])))
                elif action.get("/S") == "/GoTo":
                    found.append(("dest", action["/D"]))
                else:
                    found.append(("other", str(action.get("/S"))))
            elif "/Dest" in annot:
                found.append(("dest", annot["/Dest"]))
    return found


def test_every_link_resolves_in_the_pdf_or_is_public():
    links = _links()
    named = _reader().named_destinations
    internal = [d for kind, d in links if kind == "dest"]
    external = [u for kind, u in links if kind == "uri"]
    assert len(internal) > 200, "citations, equations, sections and API names link inside"
    dead = [str(d) for d in internal if isinstance(d, str) and d not in named]
    assert dead == [], f"{len(dead)} internal links to no destination, e.g. {dead[:5]}"
    assert [kind for kind, _ in links if kind == "other"] == []
    bad = []
    for uri in external:
        parts = urlparse(uri)
        if parts.scheme == "mailto":
            continue
        host = (parts.hostname or "").lower()
        if (parts.scheme not in ("http", "https") or not host or "." not in host
                or host in ("localhost", "127.0.0.1", "0.0.0.0") or host.endswith(".local")):
            bad.append(uri)
    assert bad == [], f"links to no public address: {sorted(set(bad))[:10]}"
    flat = _flat(" ".join(_pages_text()))
    assert "??" not in flat, "an unresolved LaTeX reference prints as ??"


def test_hidden_cells_stay_hidden():
    starts = sorted(_chapter_starts().values())
    exercises = min(page for _, title, page in _outline() if page > starts[-1])
    flat = _flat(" ".join(_pages_text()[starts[0]:exercises]))
    for site_only in ("Show code cell source", "Hide code cell source", "Show code cell output",
                      "no Python runs in this page"):
        assert site_only not in flat
    # a cell tagged remove-input on the site shows its output only: the explorers' calls
    assert "static_explorer(" not in flat


def _explorer_count() -> int:
    """Explorers in the numbered chapters (a chapter may hold several)."""
    return sum((ROOT / f).with_suffix(".md").read_text(encoding="utf-8").count("static_explorer(")
               for f in _toc_files(numbered=True))


def test_each_explorer_prints_as_one_captioned_frame():
    pages = _pages_text()
    # page -> explorers captioned on it (two small frames can share a page)
    captioned = {i: _flat(text).count("printed at one setting") for i, text in enumerate(pages)
                 if "printed at one setting" in _flat(text)}
    assert sum(captioned.values()) == _explorer_count() > 0
    for i, count in captioned.items():
        text = _flat(pages[i])
        assert text.count("frames the web version of the book switches between") == count
        assert text.count("jupyter lab book/") >= count
        assert len(_reader().pages[i].images) >= count, (
            f"page {i + 1}: {count} captions but fewer frames")
    flat = _flat(" ".join(pages))
    assert "Precomputed." not in flat, "the site's explorer (controls and caption) is not printed"


def test_the_library_reference_is_a_short_appendix():
    outline = _outline()
    reference = next(p for _, t, p in outline if t.strip().endswith("Library reference"))
    after = [p for _, t, p in outline if p > reference and _flat(t).endswith("Bibliography")]
    end = after[0] if after else len(_pages_text())
    pages = _pages_text()[reference:end]
    # The chapters come first and carry the book; the old web printout's reference was 46 %.
    share = len(pages) / len(_pages_text())
    assert share <= 0.25, f"the library reference takes {len(pages)} pages ({share:.0%})"
    text = _flat(" ".join(pages))
    assert "qnncourse.Circuit" in text or "class qnncourse.circuit.Circuit" in text
    # summaries, not the full entries: no parameter lists
    assert text.count("Parameters") <= 2


def _bib_titles() -> dict[str, str]:
    """Key -> title of each entry of book/references.bib (braces and TeX markup dropped)."""
    text = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    titles = {}
    for entry in re.split(r"\n@", text):
        key = re.match(r"\s*@?\w+\s*\{\s*([^,\s]+)", entry)
        start = re.search(r"\btitle\s*=\s*\{", entry)
        if not key or not start:
            continue
        depth, i = 1, start.end()
        while depth and i < len(entry):
            depth += {"{": 1, "}": -1}.get(entry[i], 0)
            i += 1
        titles[key.group(1)] = entry[start.end():i - 1]
    return titles


def _letters(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", re.sub(r"\\[a-zA-Z]+|-\n", "", text).lower())


def test_the_bibliography_lists_each_work_once():
    """A paper cited by a chapter and by a docstring is listed once: the docstrings' citations
    stay under their entries in the library reference, as on the site."""
    outline = _outline()
    start = next(p for _, t, p in outline if _flat(t).endswith("Bibliography"))
    # the running heads carry the book's title, which is also the source article's
    title = yaml.safe_load((ROOT / "_config.yml").read_text())["title"].strip()
    bibliography = _letters(" ".join(line for page in _pages_text()[start:]
                                     for line in page.splitlines() if line.strip() != title))
    counts = {key: bibliography.count(_letters(title)) for key, title in _bib_titles().items()}
    twice = {key: n for key, n in counts.items() if n > 1}
    assert twice == {}, f"listed more than once in the bibliography: {twice}"
    found = sum(n == 1 for n in counts.values())
    assert found >= 0.8 * len(counts), f"only {found} of {len(counts)} titles were found"
    # the docstrings' labels ([Sweke2020]) are not in the bibliography, but in the reference
    assert not re.search(r"\[[A-Z][a-z]+20\d\d[a-z]?\]", " ".join(_pages_text()[start:]))


def test_the_site_links_the_pdf():
    """The download menu of each page links the book's PDF, and the link resolves."""
    from sitecheck import html_pages

    assert (SITE / "book.pdf").read_bytes() == PDF.read_bytes()
    pages = [p for p in html_pages(SITE) if p.startswith(("book/", "exercises/"))]
    assert pages
    for page in pages:
        links = re.findall(r'<a href="([^"]*book\.pdf)"', (SITE / page).read_text("utf-8"))
        assert links, f"{page}: no link to the book's PDF"
        assert ((SITE / page).parent / links[0]).resolve() == (SITE / "book.pdf").resolve()
