"""The book's configuration: what `make book` relies on, checked without building."""

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import selfcontained  # noqa: E402


def _toc_files(node) -> list[str]:
    files = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("file", "root"):
                files.append(value)
            else:
                files += _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            files += _toc_files(item)
    return files


def test_every_toc_entry_exists():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = _toc_files(toc)
    assert files, "the toc lists no files"
    missing = [
        f for f in files if not any((ROOT / f).with_suffix(s).exists() for s in (".md", ".ipynb"))
    ]
    assert missing == []


def test_jupyter_book_is_pinned_to_1x():
    pins = dict(
        line.split("==", 1)
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    assert pins["jupyter-book"].startswith("1."), pins["jupyter-book"]
    assert pins["qutip"].startswith("5."), pins["qutip"]
    unpinned = [
        line
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#") and "==" not in line
    ]
    assert unpinned == []


def _bib_entries() -> dict[str, str]:
    text = (ROOT / "book" / "references.bib").read_text()
    return {m.group(1): m.group(2) for m in re.finditer(r"@\w+\{([^,]+),(.*?)\n\}", text, re.S)}


def test_every_reference_has_a_doi():
    entries = _bib_entries()
    assert len(entries) >= 8
    no_doi = [key for key, body in entries.items() if not re.search(r"doi\s*=\s*\{10\.", body)]
    assert no_doi == []


def test_every_doi_of_the_article_is_cited_or_corrected():
    """The article's reference list: each DOI is in the bibliography, except the one that is
    wrong (Larocca et al. 2023), which the errata correct."""
    article = next((ROOT.parent / "shared" / "seed").glob("*.txt"), None)
    if article is None:  # the source article lives beside the repository, not in it
        return
    bib = (ROOT / "book" / "references.bib").read_text().lower()
    dois = set(re.findall(r"doi\.org/(10\.\S+)", article.read_text()))
    assert len(dois) == 8
    missing = sorted(d for d in dois if d.rstrip(".").lower() not in bib)
    assert missing == ["10.1038/s43588-023-00497-6"]


def test_config_serves_scripts_locally():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    sphinx = config["sphinx"]["config"]
    assert not sphinx["mathjax_path"].startswith("http")
    assert all(not path.startswith("http") for path in sphinx["nb_ipywidgets_js"])
    assert config["execute"]["execute_notebooks"] == "cache"
    assert config["only_build_toc_files"] is True


class _Script:
    def __init__(self, filename, priority=500, **attributes):
        self.filename, self.priority, self.attributes = filename, priority, attributes


def test_duplicate_inline_scripts_are_dropped():
    body = "const THEBE_JS_URL = 'x'"
    scripts = [_Script(None, body=body), _Script("a.js"), _Script("", body=body), _Script("a.js")]
    context = {"script_files": scripts}
    selfcontained._deduplicate_scripts(None, "page", "page.html", context, None)
    assert context["script_files"] == scripts[:2]


def test_different_inline_scripts_are_kept():
    scripts = [_Script(None, body="let a = 1"), _Script(None, body="let b = 2")]
    context = {"script_files": scripts}
    selfcontained._deduplicate_scripts(None, "page", "page.html", context, None)
    assert context["script_files"] == scripts
