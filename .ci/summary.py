"""Add up the stages of `make test` into one line: ``N passed, N failed, N skipped``.

Usage: ``python .ci/summary.py RESULTS_DIR STAGE...``. A pytest stage counts its tests from the
junit XML it wrote (``STAGE.xml``); a stage without one (lint, the book build) counts as one
check. ``STAGE.rc`` holds the stage's exit code: a stage that failed without a failing test in
its XML (a crash, an error before any test ran) adds one failure, so the total never hides it.
Exits 1 when anything failed or a stage left no result. Standard library only (it runs before
and without the project's virtual environment).
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def stage_counts(results: Path, stage: str) -> tuple[int, int, int]:
    """(passed, failed, skipped) of one stage."""
    rc_file, xml_file = results / f"{stage}.rc", results / f"{stage}.xml"
    rc = int(rc_file.read_text().strip()) if rc_file.exists() else None
    if xml_file.exists():
        try:
            root = ET.parse(xml_file).getroot()
        except ET.ParseError:
            return 0, 1, 0
        suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
        total = sum(int(s.get("tests", 0)) for s in suites)
        failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
        skipped = sum(int(s.get("skipped", 0)) for s in suites)
        passed = total - failed - skipped
        if rc not in (0, None) and failed == 0:
            failed = 1
        return passed, failed, skipped
    if rc is None:  # the stage never ran to the end
        return 0, 1, 0
    return (1, 0, 0) if rc == 0 else (0, 1, 0)


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__.splitlines()[2], file=sys.stderr)
        return 2
    results, stages = Path(argv[0]), argv[1:]
    totals = [0, 0, 0]
    for stage in stages:
        passed, failed, skipped = stage_counts(results, stage)
        print(f"  {stage:<10} {passed} passed, {failed} failed, {skipped} skipped")
        totals = [t + c for t, c in zip(totals, (passed, failed, skipped), strict=True)]
    print(f"{totals[0]} passed, {totals[1]} failed, {totals[2]} skipped")
    return 1 if totals[1] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
