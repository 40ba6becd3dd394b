"""The book's configuration: what `make book` relies on, checked without building."""

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import accessible  # noqa: E402
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
        f for f in files
        if not any((ROOT / f).with_suffix(s).exists() for s in (".md", ".ipynb", ".rst"))
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


# The one entry without a DOI: the online article the course tests and corrects.
SOURCE_ARTICLE = "dissanayaka2026convergence"


def test_every_reference_has_a_doi():
    entries = _bib_entries()
    assert len(entries) >= 8
    no_doi = [key for key, body in entries.items() if not re.search(r"doi\s*=\s*\{10\.", body)]
    assert no_doi == [SOURCE_ARTICLE]


def test_the_source_article_is_cited_on_the_landing_page_and_above_the_errata():
    intro = (ROOT / "book" / "intro.md").read_text()
    assert f"{{cite:t}}`{SOURCE_ARTICLE}`" in intro
    outlook = (ROOT / "book" / "08_outlook.md").read_text()
    errata = outlook.index("## Errata of the source article")
    table = outlook.index("```{list-table}", errata)
    assert SOURCE_ARTICLE in outlook[errata:table]


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


def test_thebe_configuration_is_removed_from_pages():
    """sphinx-thebe's files and its per-page configuration (a default Binder repository that is
    not the course's) leave the page; other scripts, stylesheets and raw HTML stay."""
    from docutils import nodes
    from docutils.utils import new_document

    scripts = [_Script(None, body='const THEBE_JS_URL = "https://unpkg.com/thebe"'),
               _Script("sphinx-thebe.js"), _Script("mathjax2-shim.js")]
    css = [_Script("sphinx-thebe.css"), _Script("qnncourse.css")]
    context = {"script_files": list(scripts), "css_files": list(css)}
    selfcontained._drop_thebe_files(None, "page", "page.html", context, None)
    assert context["script_files"] == scripts[2:] and context["css_files"] == css[1:]

    doctree = new_document("page")
    kept = nodes.raw(text="<p>a figure</p>", format="html")
    doctree += [nodes.raw(text='<script type="text/x-thebe-config">{binderOptions: '
                               '{repo: "binder-examples/jupyter-stacks-datascience"}}</script>',
                          format="html"),
                nodes.raw(text="<script>kernelName = 'python3'</script>", format="html"), kept]
    selfcontained._drop_thebe_nodes(None, doctree, "page")
    assert list(doctree.findall(nodes.raw)) == [kept]


def test_accessible_markup_fixes():
    """The sidebar's icon-only toggles get a name, a toggle with visible text keeps its own;
    code-cell toggles lose the label that differs from their text; citation lists get list
    items (the browser test runs axe-core on the built pages)."""
    icon = '<summary><span class="toctree-toggle" role="presentation"><i></i></span></summary>'
    titled = '<summary><p class="caption">Chapters</p><span class="toctree-toggle"></span>'
    assert accessible.label_toggles(icon).startswith('<summary aria-label="Sections"><span')
    assert accessible.label_toggles(titled) == titled
    body = ('<summary aria-label="Toggle hidden content"><p>Show code cell source</p></summary>'
            '<div role="list" class="citation-list"><div class="citation" '
            'role="doc-biblioentry">[1] A. Author</div></div>')
    fixed = accessible.fix_body(body)
    assert "Toggle hidden content" not in fixed and fixed.startswith("<summary><p>Show")
    assert 'role="listitem"' in fixed and "doc-biblioentry" not in fixed
    assert accessible.TEMPLATES.joinpath("search-button-field.html").exists()


def test_binder_installs_the_pinned_requirements_and_the_library():
    requirements = (ROOT / "binder" / "requirements.txt").read_text().split()
    assert "../requirements.txt" in requirements  # via -r: the same exact pins as the build
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    post_build = ROOT / "binder" / "postBuild"
    assert post_build.stat().st_mode & 0o111, "binder/postBuild must be executable"
    assert re.search(r"^pip install .*-e \.$", post_build.read_text(), re.M)


def test_launch_buttons_open_files_that_exist():
    """Binder opens the chapter's own file (a MyST notebook); Colab, which opens only .ipynb
    files, has no button."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    launch = config["launch_buttons"]
    assert launch.get("binderhub_url") and not launch.get("colab_url")
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    for f in _toc_files(toc):
        assert any((ROOT / f).with_suffix(s).exists() for s in (".md", ".ipynb", ".rst"))


def tracked_files() -> list[Path]:
    """The repository's tracked files: caches, build output and virtual environments (which
    may hold the checkout's own path, and so its name) are not the project's text."""
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [ROOT / name for name in out.stdout.decode().split("\0") if name]


def test_the_repository_url_is_written_once():
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    owner_repo = url.removeprefix("https://github.com/")
    hits = []
    for path in tracked_files():
        rel = path.relative_to(ROOT)
        if (rel.parts[0] == "vendor" or not path.is_file()
                or path.suffix not in {".md", ".yml", ".py", ".ipynb", ".txt", ".toml", ".cfg",
                                       ".rst", ""}):
            continue
        if owner_repo in path.read_text(errors="ignore"):
            hits.append(str(rel))
    assert hits == ["_config.yml"]
    assert "repository.url" in (ROOT / "README.md").read_text()


def test_the_test_summary_adds_up_every_stage(tmp_path, capsys):
    sys.path.insert(0, str(ROOT / ".ci"))
    import summary

    (tmp_path / "unit.xml").write_text(
        '<testsuites><testsuite tests="10" failures="1" errors="1" skipped="2"/></testsuites>')
    (tmp_path / "unit.rc").write_text("1")
    (tmp_path / "lint.rc").write_text("0")
    (tmp_path / "book.rc").write_text("2")  # no XML: one check, failed
    (tmp_path / "site-test.rc").write_text("1")  # crashed before any test ran
    (tmp_path / "site-test.xml").write_text('<testsuite tests="0" failures="0" errors="0"/>')
    status = summary.main([str(tmp_path), "lint", "unit", "book", "site-test", "exercises"])
    last = capsys.readouterr().out.splitlines()[-1]
    # lint 1 passed; unit 6 passed, 2 failed, 2 skipped; book 1 failed; site-test 1 failed;
    # exercises left no result at all: 1 failed
    assert last == "7 passed, 5 failed, 2 skipped"
    assert status == 1
    for stage in ("unit", "book", "site-test", "exercises"):
        (tmp_path / f"{stage}.xml").unlink(missing_ok=True)
        (tmp_path / f"{stage}.rc").write_text("0")
    assert summary.main([str(tmp_path), "lint", "unit", "book", "site-test", "exercises"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "5 passed, 0 failed, 0 skipped"


def printed_tables(source: str) -> list[str]:
    """The ``print(...)`` calls inside a ``for`` or ``while`` loop of a code cell's source:
    a table printed row by row, which wraps in the site's narrow output box (CONTRIBUTING.md
    asks for ``qnncourse.tables.Table`` instead). Cell magics and shell lines are skipped."""
    import ast

    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    tree = ast.parse("\n".join(lines))
    found = []
    for loop in ast.walk(tree):
        if isinstance(loop, (ast.For, ast.While)):
            found += [f"line {call.lineno}: print(...) in a loop" for call in ast.walk(loop)
                      if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "print"]
    return found


def test_the_table_check_catches_a_table_printed_row_by_row():
    assert printed_tables("for n in ns:\n    print(n, n ** 2)") == ["line 2: print(...) in a loop"]
    assert printed_tables("while go:\n    if x:\n        print(x)\n") != []
    table = "rows = [(n, n ** 2) for n in ns]\nprint('done')\nTable(['n'], rows)"
    assert printed_tables(table) == []


def test_no_chapter_prints_a_table_row_by_row():
    import jupytext

    chapters = [p for p in tracked_files()
                if p.relative_to(ROOT).parts[0] == "book" and p.suffix == ".md"]
    assert len(chapters) >= 8
    found = []
    for path in chapters:
        notebook = jupytext.read(path)
        if notebook.metadata.get("kernelspec") is None:
            continue  # a plain page, not a notebook
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "code":
                found += [f"{path.relative_to(ROOT)} cell {index}: {problem}"
                          for problem in printed_tables(cell.source)]
    assert found == []
