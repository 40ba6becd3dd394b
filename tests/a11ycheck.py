"""Accessibility of a built page, as a reader at 1280 px meets it (used by ``test_site.py``).

Three checks, each reporting the page and the element at fault:

* :func:`axe_violations`: axe-core (vendored by ``make vendor`` from npm, injected into the
  page; nothing is fetched) with the WCAG 2.0/2.1 A and AA rules, after MathJax has typeset
  the page. Colour contrast of all text, captions included, is one of those rules.
* :func:`figure_problems`: every image of the article (notebook figures, ``{figure}``
  images, explorer frames) has alt text that describes it (not a file name or "png"), is shown
  at no less than 90 % of the size it was drawn for, and its smallest text, recorded in the PNG
  by :mod:`qnncourse.figure_text`, is at least 9 CSS px at that size.
* :func:`keyboard_problems`: each control of an explorer has a label and can be reached
  with Tab and changed with the arrow keys, changing the figure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sitecheck import wait_for_math

AXE = Path(__file__).resolve().parents[1] / "vendor" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = ("serious", "critical")
MIN_SCALE = 0.9  # a figure may be shown at no less than 90 % of the size it was drawn for
MIN_TEXT_PX = 9.0  # and its smallest text no smaller than this, in CSS px, at display size

_AXE_RUN_JS = """
async (tags) => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: tags},
    resultTypes: ['violations'],
  });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 160),
                              summary: (n.failureSummary || '').replace(/\\s+/g, ' ')})),
  }));
}
"""

# Every image of the article: what it says (alt), the size it was drawn for (its declared
# width, else its natural size), the size it is shown at, and its smallest text as the
# PNG records it (a tEXt chunk, read from the bytes the page loaded).
_FIGURES_JS = r"""
async (key) => {
  function textPx(bytes) {
    const view = new DataView(bytes);
    let pos = 8;
    while (pos + 8 <= bytes.byteLength) {
      const length = view.getUint32(pos);
      const kind = String.fromCharCode(...new Uint8Array(bytes, pos + 4, 4));
      if (kind === 'tEXt') {
        const body = new TextDecoder('latin1').decode(new Uint8Array(bytes, pos + 8, length));
        const cut = body.indexOf('\0');
        if (body.slice(0, cut) === key) return parseFloat(body.slice(cut + 1));
      }
      if (kind === 'IEND') break;
      pos += 12 + length;
    }
    return null;
  }
  const root = document.querySelector('article') || document.body;
  const out = [];
  for (const img of root.querySelectorAll('img')) {
    if (!img.complete || img.naturalWidth === 0 || img.offsetParent === null) continue;
    const figure = img.closest('figure');
    const caption = figure && figure.querySelector('figcaption');
    const number = caption && caption.querySelector('.caption-number');
    const cell = img.closest('.cell');
    let px = null, png = false;
    try {
      const response = await fetch(img.currentSrc || img.src);
      const bytes = await response.arrayBuffer();
      png = new Uint8Array(bytes, 0, 4).join() === '137,80,78,71';
      if (png) px = textPx(bytes);
    } catch (e) { /* reported as a figure without a text-size record */ }
    // myst-nb writes a figure's displayed size as style="width: ...px"; other images carry
    // a width attribute, or are meant to be shown at their natural size
    const declared = img.style.width.endsWith('px') ? parseFloat(img.style.width)
                   : parseFloat(img.getAttribute('width'));
    out.push({
      src: (img.getAttribute('src') || '').slice(0, 60),
      alt: img.getAttribute('alt'),
      where: number ? number.innerText.trim().replace(/\s+/g, ' ')
           : caption ? caption.innerText.trim().slice(0, 50)
           : img.closest('.qnn-static-explorer') ? 'explorer '
             + img.closest('.qnn-static-explorer').getAttribute('data-explorer')
           : cell && cell.id ? 'cell ' + cell.id : 'image ' + out.length,
      drawn: declared > 0 ? declared : img.naturalWidth,
      shown: img.getBoundingClientRect().width,
      png: png,
      textPx: px,
    });
  }
  return out;
}
"""

# Words an alt text consisting of a file name or a format would have, and nothing else.
_NON_DESCRIPTIONS = re.compile(
    r"^\s*(?:\S*\.(?:png|jpe?g|svg|gif)|png|jpe?g|svg|image|figure|img|plot|output|"
    r"_?images?/\S*|\S*/\S*)\s*$", re.IGNORECASE)
MIN_ALT_WORDS = 4


@dataclass
class Figure:
    """One image of a page, as :data:`_FIGURES_JS` measured it."""

    where: str
    src: str
    alt: str | None
    drawn: float
    shown: float
    png: bool
    text_px: float | None

    @property
    def scale(self) -> float:
        return self.shown / self.drawn

    def problems(self) -> list[str]:
        found = []
        alt = (self.alt or "").strip()
        if not alt or _NON_DESCRIPTIONS.match(alt) or len(alt.split()) < MIN_ALT_WORDS:
            found.append(f"alt text {self.alt!r} does not say what the figure shows "
                         "(give the cell `mystnb: image: alt:` metadata, or `:alt:`)")
        if self.scale < MIN_SCALE:
            found.append(f"shown at {self.scale:.0%} of the {self.drawn:.0f} px it was drawn "
                         f"for ({self.shown:.0f} px): draw it at most as wide as the column")
        if self.png:
            if self.text_px is None:
                found.append("the PNG has no text-size record: call "
                             "qnncourse.plotting.use_style() in the chapter's setup cell and "
                             "re-execute it (explorers mark their frames themselves)")
            elif self.text_px * min(self.scale, 1.0) < MIN_TEXT_PX:
                found.append(f"smallest text {self.text_px * min(self.scale, 1.0):.1f} px "
                             f"at display size, below {MIN_TEXT_PX:g} px")
        return found


def _open(context, url: str):
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    wait_for_math(page)
    return page


def axe_violations(context, url: str, impacts=FAILING_IMPACTS) -> list[str]:
    """One line per element of each axe-core violation of ``impacts`` on the page."""
    if not AXE.exists():
        raise FileNotFoundError(f"{AXE} is missing: run `make vendor` (npm's axe-core)")
    page = _open(context, url)
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    violations = page.evaluate(_AXE_RUN_JS, WCAG_TAGS)
    page.close()
    return [f"{v['impact']} {v['id']} ({v['help']}): {n['target']}: {n['summary'][:200]}"
            for v in violations if v["impact"] in impacts for n in v["nodes"]]


def figures(context, url: str) -> list[Figure]:
    """The images of the page's article, measured in the browser."""
    from qnncourse.figure_text import TEXT_PX_KEY

    page = _open(context, url)
    found = page.evaluate(_FIGURES_JS, TEXT_PX_KEY)
    page.close()
    return [Figure(f["where"], f["src"], f["alt"], f["drawn"], f["shown"], f["png"],
                   f["textPx"]) for f in found]


def figure_problems(context, url: str) -> list[str]:
    """One line per problem of each figure, naming it by its number or caption."""
    return [f"{fig.where} ({fig.src}): {problem}"
            for fig in figures(context, url) for problem in fig.problems()]


_CONTROLS_JS = """
() => Array.from(document.querySelectorAll('.qnn-static-explorer [data-qnn-control]')).map(el => {
  const label = el.labels && el.labels.length ? el.labels[0].innerText.trim() : '';
  return {id: el.id, name: el.getAttribute('data-qnn-control'), label: label,
          aria: el.getAttribute('aria-label') || '', tag: el.tagName};
})
"""


def keyboard_problems(context, url: str) -> list[str]:
    """Drive each explorer control from the keyboard only: Tab reaches it, an arrow key
    changes it, and the figure changes with it; every control has a visible label."""
    page = _open(context, url)
    problems = []
    for control in page.evaluate(_CONTROLS_JS):
        name = control["name"]
        if not (control["label"] or control["aria"]):
            problems.append(f"control {name}: no label")
        element = page.locator(f'[id="{control["id"]}"]')
        frame = element.locator("xpath=ancestor::div[contains(@class,'qnn-static-explorer')]"
                                "//img[contains(@class,'qnn-static-frame')]")
        # Tab from the element before it: the control must be the next stop.
        element.evaluate("el => { const t = document.createElement('button');"
                         " t.id = 'qnn-tab-start'; el.parentNode.insertBefore(t, el); }")
        page.focus("#qnn-tab-start")
        page.keyboard.press("Tab")
        focused = page.evaluate("() => document.activeElement && document.activeElement.id")
        page.evaluate("() => document.getElementById('qnn-tab-start').remove()")
        if focused != control["id"]:
            problems.append(f"control {name}: Tab does not reach it (focus went to {focused!r})")
            continue
        before = frame.get_attribute("src")
        value = element.input_value()
        page.keyboard.press("ArrowRight" if control["tag"] == "INPUT" else "ArrowDown")
        if element.input_value() == value:  # at the end of its range: go the other way
            page.keyboard.press("ArrowLeft" if control["tag"] == "INPUT" else "ArrowUp")
        if element.input_value() == value:
            problems.append(f"control {name}: the arrow keys do not change it")
        elif frame.get_attribute("src") == before:
            problems.append(f"control {name}: changed from the keyboard, the figure did not")
    page.close()
    return problems
