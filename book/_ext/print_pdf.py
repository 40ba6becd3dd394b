"""Print the book's single-page build to a PDF with headless Chromium (``make pdf``).

Usage: ``python book/_ext/print_pdf.py SITE_DIR OUT.pdf``. ``SITE_DIR`` is Jupyter Book's
``singlehtml`` build: every chapter on one page, with its section, equation and figure numbers,
and the bibliography. The page is served on 127.0.0.1, MathJax is left to typeset every
formula, and Chromium prints it on A4 with page numbers, a document outline (bookmarks) and
live links: internal links jump within the PDF, external ones open the browser.
"""

from __future__ import annotations

import functools
import http.server
import re
import sys
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

# What a printed book does not need: the site's navigation, buttons and search.
PRINT_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
.bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .header-article, .bd-footer,
.bd-footer-content, .prev-next-area, .headerlink, .toggle-secondary-sidebar,
.bd-header-article, #pst-back-to-top, .search-button-field { display: none !important; }
.bd-main .bd-content .bd-article-container { max-width: 100% !important; }
h1 { break-before: page; }
mjx-container[display="true"] { overflow: visible !important; }
div.cell_output img, img { break-inside: avoid; }
"""

FOOTER = ('<div style="font-size: 8px; width: 100%; text-align: center; color: #555;">'
          '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')


def book_page(site: Path) -> str:
    """The single page, relative to ``site``. Jupyter Book writes ``index.html`` as a redirect
    to the root document (``book/intro.html``), whose links are relative to the site's root
    (``_static/``, ``_images/``): a copy at the root, ``book-print.html``, resolves them."""
    index = (site / "index.html").read_text(encoding="utf-8")
    redirect = re.search(r'http-equiv="Refresh" content="0; url=([^"]+)"', index)
    if not redirect:
        return "index.html"
    page = site / "book-print.html"
    page.write_text((site / redirect.group(1)).read_text(encoding="utf-8"), encoding="utf-8")
    return page.name


def print_pdf(site: Path, out: Path, timeout_ms: int = 300_000) -> None:
    """Load the single page, wait for MathJax, print to ``out``."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            page.set_default_timeout(timeout_ms)
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/{book_page(site)}",
                      wait_until="load")
            page.wait_for_load_state("networkidle")
            page.wait_for_function(
                "() => window.MathJax && MathJax.startup && MathJax.startup.promise")
            page.evaluate("() => MathJax.startup.promise")
            page.add_style_tag(content=PRINT_CSS)
            page.emulate_media(media="print")
            out.parent.mkdir(parents=True, exist_ok=True)
            page.pdf(path=str(out), prefer_css_page_size=True, print_background=True,
                     display_header_footer=True, header_template="<span></span>",
                     footer_template=FOOTER, outline=True, tagged=True)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.splitlines()[2], file=sys.stderr)
        return 2
    site, out = Path(argv[0]), Path(argv[1])
    if not (site / "index.html").exists():
        print(f"no single-page build at {site}", file=sys.stderr)
        return 1
    print_pdf(site, out)
    print(f"book PDF ready: {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
