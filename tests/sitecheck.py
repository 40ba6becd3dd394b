"""Open pages of a built site in headless Chromium and report what a reader would hit.

Used by ``test_site.py``. A page passes when: it loads with no console error and no uncaught
exception; it requests nothing from any host but the local server (such requests are aborted
before they leave the machine, and reported); every request it makes succeeds; every image has
loaded; where it has math, MathJax has typeset every formula without a TeX error; and no display
equation is wider than its box: at a desktop width (``DESKTOP``) none may be wider than the text
column, and at any width a wide one must scroll sideways inside its own box, never be cut off.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Wait for MathJax 3 to finish its first typesetting pass, then count what it produced.
_MATH_STATUS_JS = r"""
async () => {
  const nodes = Array.from(document.querySelectorAll('.math'));
  if (nodes.length === 0) return {math: 0, typeset: 0, errors: 0};
  for (let i = 0; i < 100 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++) {
    await new Promise(r => setTimeout(r, 100));
  }
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  // A display equation is too wide when its typeset content is wider than its box; whether
  // it then scrolls depends on the box's overflow-x (visible means the overflow is cut off by
  // the column or spills over the sidebar).
  const wide = [], cut = [];
  const items = (window.MathJax && MathJax.startup && MathJax.startup.document)
    ? Array.from(MathJax.startup.document.math) : [];
  for (const item of items) {
    const box = item.typesetRoot;
    if (!item.display || !box || !box.isConnected) continue;
    if (box.scrollWidth > box.clientWidth + 1) {
      const tex = item.math.replace(/\s+/g, ' ').trim().slice(0, 90);
      wide.push(tex);
      if (!['auto', 'scroll'].includes(getComputedStyle(box).overflowX)) cut.push(tex);
    }
  }
  return {
    math: nodes.length,
    typeset: nodes.filter(n => n.querySelector('mjx-container')).length,
    errors: document.querySelectorAll('mjx-merror').length,
    wide: wide,
    cut: cut,
  };
}
"""

# Wait until MathJax 3 has typeset the page (pages without math return at once).
_WAIT_FOR_MATH_JS = r"""
async () => {
  if (!document.querySelector('.math')) return;
  for (let i = 0; i < 100 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++) {
    await new Promise(r => setTimeout(r, 100));
  }
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
}
"""

# Code blocks and printed output whose lines run past their box (hidden or behind a scroll bar).
_WIDE_CODE_JS = """
() => Array.from(document.querySelectorAll('pre'))
  .filter(p => p.scrollWidth > p.clientWidth + 1 && p.offsetParent !== null)
  .map(p => p.innerText.split('\\n')[0].slice(0, 60))
"""

_BROKEN_IMAGES_JS = """
() => Array.from(document.images)
  .filter(img => !(img.complete && img.naturalWidth > 0))
  .map(img => img.getAttribute('src'))
"""


@dataclass
class PageReport:
    """What one page did in the browser."""

    url: str
    console_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    math_nodes: int = 0
    math_typeset: int = 0
    math_errors: int = 0
    viewport_width: int = DESKTOP["width"]
    wide_equations: list[str] = field(default_factory=list)  # wider than their box
    cut_equations: list[str] = field(default_factory=list)  # ... and their box does not scroll
    wide_code: list[str] = field(default_factory=list)  # code blocks with lines past their box

    @property
    def problems(self) -> list[str]:
        found = [f"console error: {e}" for e in self.console_errors]
        found += [f"request to another host: {u}" for u in self.external_requests]
        found += [f"failed request: {u}" for u in self.failed_requests]
        found += [f"image did not load: {s}" for s in self.broken_images]
        if self.math_typeset < self.math_nodes:
            found.append(f"MathJax typeset {self.math_typeset} of {self.math_nodes} formulas")
        if self.math_errors:
            found.append(f"{self.math_errors} TeX errors in typeset math")
        if self.viewport_width >= DESKTOP["width"]:
            found += [f"display equation wider than the column at {self.viewport_width} px: {t}"
                      for t in self.wide_equations]
        found += [f"display equation cut off (its box does not scroll): {t}"
                  for t in self.cut_equations]
        if self.viewport_width >= DESKTOP["width"]:
            found += [f"code or output line wider than its box: {t}" for t in self.wide_code]
        return found


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 (a free port) for the duration of the block."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # keep test output readable
            pass

    handler = functools.partial(Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def html_pages(site: Path) -> list[str]:
    """Every HTML page of a built Sphinx site, relative to its root (assets excluded)."""
    skip = {"_static", "_sources", "_images", "_downloads"}
    return sorted(
        p.relative_to(site).as_posix()
        for p in site.rglob("*.html")
        if not skip.intersection(p.relative_to(site).parts)
    )


def check_page(context, url: str) -> PageReport:
    """Load ``url`` in a new tab of ``context`` and report what happened."""
    report = PageReport(url)
    local_host = urlparse(url).netloc
    page = context.new_page()

    def route(r):
        if urlparse(r.request.url).netloc in (local_host, ""):
            r.continue_()
        else:  # never let a request leave the machine; record it instead
            report.external_requests.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and report.console_errors.append(m.text))
    page.on("pageerror", lambda e: report.console_errors.append(str(e)))
    page.on(
        "requestfailed",
        lambda r: urlparse(r.url).netloc == local_host and report.failed_requests.append(r.url),
    )
    page.on("response", lambda r: r.status >= 400 and report.failed_requests.append(r.url))
    # generous: the library reference is one long page, typeset on a busy 2-core machine
    page.set_default_timeout(120_000)
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    status = page.evaluate(_MATH_STATUS_JS)
    report.math_nodes, report.math_typeset, report.math_errors = (
        status["math"],
        status["typeset"],
        status["errors"],
    )
    report.viewport_width = page.viewport_size["width"]
    report.wide_equations, report.cut_equations = status.get("wide", []), status.get("cut", [])
    report.broken_images = page.evaluate(_BROKEN_IMAGES_JS)
    report.wide_code = page.evaluate(_WIDE_CODE_JS)
    # Errors that arrive late (e.g. from deferred widget rendering) still count.
    page.wait_for_timeout(200)
    page.close()
    return report


def wait_for_math(page) -> None:
    """Return when MathJax has typeset ``page`` (at once for a page without math)."""
    page.evaluate(_WAIT_FOR_MATH_JS)


def search_hits(context, base_url: str, word: str) -> int:
    """Number of results the site's own search page lists for ``word``."""
    page = context.new_page()
    page.goto(f"{base_url}search.html?q={word}", wait_until="load")
    page.wait_for_function(
        "() => { const s = document.querySelector('#search-results');"
        " return s && s.querySelector('p') && !/searching/i.test(s.innerText.split('\\n')[0]); }",
        timeout=20_000,
    )
    hits = page.evaluate("() => document.querySelectorAll('#search-results ul.search li').length")
    page.close()
    return hits
