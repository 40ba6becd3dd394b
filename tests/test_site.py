"""The rendered book, opened page by page in headless Chromium (run after `make book`)."""

import os
import re
from pathlib import Path

import pytest
from a11ycheck import axe_violations, figure_problems, keyboard_problems
from sitecheck import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    check_page,
    html_pages,
    search_hits,
    serve,
)

pytestmark = pytest.mark.browser  # `make site-test` runs these, after Chromium is installed

# QNN_SITE points the test at another build (e.g. a chapter built on its own).
SITE = Path(os.environ.get("QNN_SITE", Path(__file__).resolve().parents[1] / "_build" / "html"))


@pytest.fixture(scope="module")
def browser():
    if not (SITE / "index.html").exists():
        pytest.fail(f"no built book at {SITE}: run `make book` first")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def context(browser):
    """A desktop window, 1280 px wide."""
    ctx = browser.new_context(viewport=DESKTOP)
    yield ctx
    ctx.close()


@pytest.fixture(scope="module")
def phone(browser):
    """A phone's window, 390 px wide."""
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=3, is_mobile=True)
    yield ctx
    ctx.close()


@pytest.fixture(scope="module")
def site_url():
    with serve(SITE) as url:
        yield url


def test_the_book_has_its_pages():
    pages = html_pages(SITE)
    assert "book/intro.html" in pages and "search.html" in pages
    assert len(pages) >= 4


@pytest.mark.parametrize("page", html_pages(SITE) if SITE.exists() else [])
def test_page_is_clean_and_self_contained(context, site_url, page):
    report = check_page(context, site_url + page)
    assert report.problems == [], f"{page}: " + "; ".join(report.problems)


def _pages_with_display_math() -> list[str]:
    if not SITE.exists():
        return []
    return [p for p in html_pages(SITE)
            if 'class="math notranslate' in (SITE / p).read_text(encoding="utf-8")]


@pytest.mark.parametrize("page", _pages_with_display_math())
def test_wide_equations_scroll_in_their_box_on_a_phone(phone, site_url, page):
    report = check_page(phone, site_url + page)
    assert report.cut_equations == [], f"{page}: " + "; ".join(report.problems)


def _math_page(directory: Path, tex: str, css: str = "") -> None:
    """A page with one display equation, typeset by the built site's own MathJax."""
    (directory / "_static").symlink_to(SITE / "_static")
    (directory / "index.html").write_text(
        '<!doctype html><html><head><link rel="icon" href="data:,">'
        '<script defer src="_static/mathjax/tex-chtml.js"></script>'
        f"<style>main {{ width: 600px; }} {css}</style></head><body><main>"
        f'<div class="math notranslate nohighlight">\\[{tex}\\]</div></main></body></html>')


@pytest.mark.parametrize("scrolls", [False, True])
def test_checker_catches_an_equation_wider_than_its_column(browser, tmp_path, scrolls):
    """The desktop check fails for an equation wider than the column, scrolling or not; on a
    narrow screen only an equation that is cut off (its box does not scroll) fails."""
    long_sum = " + ".join(f"\\theta_{{{k}}}^2 \\cos\\theta_{{{k + 1}}}" for k in range(30))
    _math_page(tmp_path, long_sum,
               "mjx-container[display=true] { overflow-x: auto; }" if scrolls else "")
    ctx = browser.new_context(viewport=DESKTOP)
    with serve(tmp_path) as url:
        report = check_page(ctx, url + "index.html")
    ctx.close()
    assert report.math_typeset == report.math_nodes == 1
    assert len(report.wide_equations) == 1 and report.wide_equations[0].startswith("\\theta_{0}")
    assert any("wider than the column" in p for p in report.problems)
    assert report.cut_equations == ([] if scrolls else report.wide_equations)


def test_checker_catches_a_code_line_past_its_box(context, tmp_path):
    line = "x = " + " + ".join(f"theta[{k}]" for k in range(40))
    (tmp_path / "index.html").write_text(
        '<!doctype html><html><head><link rel="icon" href="data:,"></head><body>'
        f'<main style="width: 600px"><pre style="overflow-x: auto">{line}</pre>'
        f'<pre style="white-space: pre-wrap">{line}</pre></main></body></html>')
    with serve(tmp_path) as url:
        report = check_page(context, url + "index.html")
    assert report.wide_code == [line[:60]]
    assert any("code or output line wider than its box" in p for p in report.problems)


def test_checker_passes_an_equation_that_fits(context, tmp_path):
    _math_page(tmp_path, "C(\\theta) = \\langle 0 | U^\\dagger O U | 0 \\rangle")
    with serve(tmp_path) as url:
        report = check_page(context, url + "index.html")
    assert report.math_typeset == report.math_nodes == 1
    assert report.problems == []


def test_math_pages_are_typeset(context, site_url):
    report = check_page(context, site_url + "book/intro.html")
    assert report.math_nodes > 0, "the landing page has formulas; none were found"
    assert report.math_typeset == report.math_nodes


def test_search_finds_a_word(context, site_url):
    assert search_hits(context, site_url, "gradient") > 0
    assert search_hits(context, site_url, "xyzzyplugh") == 0


def test_checker_catches_a_page_that_loads_from_a_cdn(context, tmp_path):
    """The browser test must fail for a page that pulls a script from another host."""
    (tmp_path / "index.html").write_text(
        "<!doctype html><html><head>"
        '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script>'
        "</head><body><p>hello</p></body></html>"
    )
    with serve(tmp_path) as url:
        report = check_page(context, url + "index.html")
    assert report.external_requests == ["https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"]
    assert any("another host" in p for p in report.problems)


def test_checker_catches_broken_images_and_script_errors(context, tmp_path):
    (tmp_path / "index.html").write_text(
        '<!doctype html><html><body><img src="missing.png">'
        "<script>undefinedFunction()</script></body></html>"
    )
    with serve(tmp_path) as url:
        report = check_page(context, url + "index.html")
    assert report.broken_images == ["missing.png"]
    assert any("undefinedFunction" in e for e in report.console_errors)


def _pages_with_static_explorers() -> list[str]:
    if not SITE.exists():
        return []
    return [p for p in html_pages(SITE)
            # the element itself (the library reference quotes the class name in a docstring)
            if 'class="qnn-static-explorer"' in (SITE / p).read_text(encoding="utf-8")]


@pytest.mark.parametrize("page", _pages_with_static_explorers())
def test_static_explorers_switch_frames_without_a_kernel(context, site_url, page):
    """Every control of every precomputed explorer (qnncourse.widgets.static_explorer) changes
    the figure it shows, with plain HTML and inline JavaScript only."""
    tab = context.new_page()
    errors = []
    # The browser's own probe for /favicon.ico (the site has none) is not the page's doing.
    tab.on("console", lambda m: m.type == "error"
           and not m.location.get("url", "").endswith("/favicon.ico") and errors.append(m.text))
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(site_url + page, wait_until="load")
    roots = tab.query_selector_all(".qnn-static-explorer")
    assert roots, f"{page}: no static explorer found"
    for root in roots:
        image = root.query_selector("img.qnn-static-frame")
        controls = root.query_selector_all("[data-qnn-control]")
        assert controls, f"{page}: a static explorer without controls"
        for control in controls:
            before = image.get_attribute("src")
            if control.evaluate("el => el.tagName") == "SELECT":
                control.select_option(
                    index=control.evaluate("el => (el.selectedIndex + 1) % el.options.length"))
            else:  # a range input: move it to the other end
                end = control.get_attribute("max")
                control.fill("0" if control.input_value() == end else end)
                control.dispatch_event("input")
            assert image.get_attribute("src") != before, (
                f"{page}: control {control.get_attribute('data-qnn-control')} did not change "
                "the figure")
    tab.close()
    assert errors == [], f"{page}: " + "; ".join(errors)


# --- accessibility (WCAG 2.1 AA) ---------------------------------------------------------------

@pytest.mark.parametrize("page", html_pages(SITE) if SITE.exists() else [])
def test_page_has_no_serious_accessibility_violation(context, site_url, page):
    """axe-core's WCAG 2.0/2.1 A and AA rules: no serious or critical violation (contrast of
    all text, names of controls and images, structure)."""
    violations = axe_violations(context, site_url + page)
    assert violations == [], f"{page}:\n  " + "\n  ".join(violations)


def _pages_with_figures() -> list[str]:
    if not SITE.exists():
        return []
    return [p for p in html_pages(SITE)
            if re.search(r'<img [^>]*src="(?:\.\./)*_images/|qnn-static-frame',
                         (SITE / p).read_text(encoding="utf-8"))]


@pytest.mark.parametrize("page", _pages_with_figures())
def test_figures_are_described_and_shown_at_their_size(context, site_url, page):
    """Each figure has alt text saying what it shows, is shown at 90 % or more of the size it
    was drawn for, and its smallest text is at least 9 px on the page."""
    problems = figure_problems(context, site_url + page)
    assert problems == [], f"{page}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("page", _pages_with_static_explorers())
def test_explorers_are_driven_from_the_keyboard(context, site_url, page):
    problems = keyboard_problems(context, site_url + page)
    assert problems == [], f"{page}:\n  " + "\n  ".join(problems)


def test_axe_catches_planted_violations(context, tmp_path):
    """Grey text on white, an image without alt text and a button without a name: axe-core
    reports each; the same page without them passes."""
    pixel = "data:image/gif;base64,R0lGODlhAQABAAAAACw=AAAAAAQABAAACAkQBADs="
    bad = f'<p style="color: #aaa">faint text</p><img src="{pixel}"><button></button>'
    good = (f'<p style="color: #333">dark text</p><img alt="a one-pixel test image here" '
            f'src="{pixel}"><button>Run</button>')
    for name, body in (("bad", bad), ("good", good)):
        (tmp_path / f"{name}.html").write_text(
            '<!doctype html><html lang="en"><head><title>t</title></head><body><main>'
            f"<h1>A page</h1>{body}</main></body></html>")
    with serve(tmp_path) as url:
        found = axe_violations(context, url + "bad.html")
        clean = axe_violations(context, url + "good.html")
    rules = {line.split()[1] for line in found}
    assert {"color-contrast", "image-alt", "button-name"} <= rules, found
    assert clean == []


def _figure_png(width_px: float, text_px: float | None) -> str:
    """A retina PNG of a figure ``width_px`` CSS px wide whose smallest text is ``text_px``."""
    import base64
    import io

    from matplotlib.figure import Figure

    from qnncourse.figure_text import mark_png

    fig = Figure(figsize=(width_px / 100, 1.5), dpi=200)
    fig.add_subplot().plot([0, 1], [0, 1])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    png = buffer.getvalue() if text_px is None else mark_png(buffer.getvalue(), text_px)
    return base64.b64encode(png).decode("ascii")


def test_figure_check_catches_shrunk_small_and_undescribed_figures(context, tmp_path):
    """In a 500 px column: a 700 px figure (71 %), a figure whose 9.5 px text is shown at 92 %
    (8.7 px), one with a file name for alt text, one without a text-size record; a figure
    drawn for the column with described content passes."""
    figures = {
        "Fig. 1": (700, 15.0, "variance against the number of qubits, falling"),
        "Fig. 2": (545, 9.5, "variance against the number of qubits, falling"),
        "Fig. 3": (480, 15.0, "../_images/3a660332d4b4.png"),
        "Fig. 4": (480, None, "variance against the number of qubits, falling"),
        "Fig. 5": (480, 12.0, "variance against the number of qubits, falling"),
    }
    body = "".join(
        f'<figure><img src="data:image/png;base64,{_figure_png(w, px)}" alt="{alt}" '
        f'style="width: {w}px; max-width: 100%"><figcaption><span class="caption-number">'
        f"{name}</span> a caption</figcaption></figure>"
        for name, (w, px, alt) in figures.items())
    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="en"><head><title>t</title><style>figure { margin: 0 }'
        f'</style></head><body><article style="width: 500px">{body}</article></body></html>')
    with serve(tmp_path) as url:
        problems = figure_problems(context, url + "index.html")
    by_figure = {name: [p for p in problems if p.startswith(name + " ")] for name in figures}
    assert any("shown at 71% of the 700 px" in p for p in by_figure["Fig. 1"]), problems
    assert any("smallest text 8.7 px" in p for p in by_figure["Fig. 2"]), problems
    assert any("alt text" in p for p in by_figure["Fig. 3"]), problems
    assert any("no text-size record" in p for p in by_figure["Fig. 4"]), problems
    assert by_figure["Fig. 5"] == []
    assert len(problems) == 4


def test_keyboard_check_catches_unlabelled_and_unreachable_controls(context, tmp_path):
    """An explorer whose first control has no label and whose second is out of the tab order
    fails; its third (labelled, focusable, changing the figure) passes."""
    frame = "data:image/gif;base64,R0lGODlhAQABAAAAACw=AAAAAAQABAAACAkQBADs="
    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="en"><head><title>t</title></head><body>'
        '<div class="qnn-static-explorer" data-explorer="test">'
        '<input type="range" id="a" data-qnn-control="unlabelled" min="0" max="2" value="0">'
        '<label for="b">depth <input type="range" id="b" data-qnn-control="untabbable" '
        'tabindex="-1" min="0" max="2" value="0"></label>'
        '<label for="c">qubits <input type="range" id="c" data-qnn-control="good" '
        'min="0" max="2" value="0"></label>'
        f'<img class="qnn-static-frame" alt="a frame of the test explorer" src="{frame}">'
        "<script>document.querySelectorAll('[data-qnn-control]').forEach(el => "
        "el.addEventListener('input', () => { document.querySelector('img').src = "
        f"'{frame}#' + el.id + el.value; }}));</script></div></body></html>")
    with serve(tmp_path) as url:
        problems = keyboard_problems(context, url + "index.html")
    assert problems == ["control unlabelled: no label",
                        "control untabbable: Tab does not reach it (focus went to 'c')"]


# --- the library reference -------------------------------------------------------------------
REFERENCE = "book/library_reference.html"


def _public_names() -> list[tuple[str, str, object]]:
    """(module, name, object) for every name of every public module's ``__all__``, found by
    walking the package here, independently of the extension that writes the reference."""
    import importlib
    import pkgutil

    import qnncourse

    modules = [qnncourse]
    for info in pkgutil.walk_packages(qnncourse.__path__, "qnncourse."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            modules.append(importlib.import_module(info.name))
    return [(m.__name__, name, getattr(m, name))
            for m in modules for name in getattr(m, "__all__", [])]


def test_the_reference_documents_every_public_name():
    """Each name of ``qnncourse.__all__`` and of every module's ``__all__`` appears in the
    reference: in its module's table, and with an entry (an anchor with its dotted path) in the
    module that defines it."""
    import inspect

    html = (SITE / REFERENCE).read_text(encoding="utf-8")
    ids = set(re.findall(r'id="(qnncourse[\w.]*)"', html))
    missing = []
    for module, name, obj in _public_names():
        if inspect.ismodule(obj):
            target = f"module-{obj.__name__}"
            found = f'id="{target}"' in html
        elif inspect.isclass(obj) or inspect.isfunction(obj):
            found = f"{obj.__module__}.{obj.__qualname__}" in ids
        else:  # a constant: an entry under this name in some module exporting it
            found = any(i.endswith("." + name) for i in ids)
        if not found:
            missing.append(f"{module}.{name}")
    assert missing == []
    assert len(_public_names()) > 100


@pytest.fixture(scope="module")
def reference_tab(context, site_url):
    """The library reference, loaded and typeset once (it is the largest page of the site)."""
    tab = context.new_page()
    tab.goto(site_url + REFERENCE, wait_until="load")
    tab.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
    tab.evaluate("() => MathJax.startup.promise")
    yield tab
    tab.close()


@pytest.mark.parametrize("dotted", ["qnncourse.cost.Cost", "qnncourse.circuit.Circuit",
                                    "qnncourse.metric.metric_tensor",
                                    "qnncourse.plateaus.lie_variance.lie_variance",
                                    "qnncourse.plateaus.statistics.variance_scan"])
def test_reference_entries_show_their_math(reference_tab, dotted):
    """The entry exists on the reference page, and its formulas are typeset by MathJax."""
    entry = reference_tab.query_selector(f'dt[id="{dotted}"]')
    assert entry is not None, f"no entry for {dotted}"
    body = entry.evaluate_handle("dt => dt.nextElementSibling")
    typeset = body.evaluate("dd => dd.querySelectorAll('mjx-container').length")
    errors = body.evaluate("dd => dd.querySelectorAll('mjx-merror').length")
    text = body.evaluate("dd => dd.innerText")
    assert typeset > 0 and errors == 0, f"{dotted}: {typeset} formulas typeset, {errors} errors"
    assert "Parameters" in text or "Returns" in text or len(text) > 200


# The book as a PDF (`make pdf`, which site-test runs first): tests/test_pdf.py.
