"""Execute the book's notebooks in parallel into myst-nb's cache, before Sphinx reads them.

Jupyter Book 1 executes notebooks one after another while Sphinx reads the sources; on a
2-core machine that leaves a core idle for the whole (dominant) execution phase. This script
reads every notebook in ``_toc.yml`` exactly as myst-nb does, skips those already in the
jupyter-cache, executes the rest in worker processes, and stores them in the cache, so the
following ``jupyter-book build`` only renders ("Using cached notebook"). A notebook that fails
here is reported with its error and the script exits non-zero, as the build itself would.

Usage: ``python book/_ext/execute_parallel.py [--jobs N] [--timeout S]`` from the book root.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat
import yaml
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.executors.utils import single_nb_execution
from myst_nb.core.config import NbParserConfig
from myst_nb.core.read import create_nb_reader
from myst_parser.config.main import MdParserConfig

ROOT = Path.cwd()
CACHE = ROOT / "_build" / ".jupyter_cache"


def toc_sources(toc: Path) -> list[Path]:
    """The files listed in a jb-book table of contents, in order."""
    found: list[Path] = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("file", "root"):
                    for suffix in (".md", ".ipynb"):
                        if (ROOT / f"{value}{suffix}").exists():
                            found.append(ROOT / f"{value}{suffix}")
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(yaml.safe_load(toc.read_text()))
    return found


def read_notebook(path: Path, md_config: MdParserConfig, nb_config: NbParserConfig):
    """The notebook myst-nb would execute for ``path`` (None for plain Markdown pages)."""
    text = path.read_text()
    reader = create_nb_reader(str(path), md_config, nb_config, text)
    return None if reader is None else reader.read(text)


def execute(path: str, source: str, timeout: int) -> tuple[str, str | None, float]:
    """Run one notebook in its own kernel; return it (as JSON), the error text and the time."""
    nb = nbformat.reads(source, as_version=4)
    start = time.perf_counter()
    result = single_nb_execution(
        nb, cwd=str(Path(path).parent), allow_errors=False, timeout=timeout, meta_override=True
    )
    error = None if result.err is None else result.exc_string
    return nbformat.writes(nb), error, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    args = parser.parse_args(argv)

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    md_config = MdParserConfig(enable_extensions=set(config["parse"]["myst_enable_extensions"]))
    nb_config = NbParserConfig()
    cache = get_cache(str(CACHE))

    todo = []
    for path in toc_sources(ROOT / "_toc.yml"):
        nb = read_notebook(path, md_config, nb_config)
        if nb is None or not any(c.cell_type == "code" for c in nb.cells):
            continue
        try:
            cache.match_cache_notebook(nb)
        except KeyError:
            todo.append((path, nb))
    if not todo:
        print("execute_parallel: every notebook is in the cache")
        return 0

    print(f"execute_parallel: running {len(todo)} notebooks on {args.jobs} processes")
    failed = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        jobs = {
            pool.submit(execute, str(path), nbformat.writes(nb), args.timeout): path
            for path, nb in todo
        }
        for job in as_completed(jobs):
            path = jobs[job]
            source, error, seconds = job.result()
            name = path.relative_to(ROOT)
            if error is not None:
                failed.append(name)
                print(f"  FAILED {name} after {seconds:.1f} s:\n{error}", file=sys.stderr)
                continue
            stage = cache.add_nb_to_project(str(path))
            cache.cache_notebook_bundle(
                CacheBundleIn(
                    nbformat.reads(source, as_version=4),
                    stage.uri,
                    data={"execution_seconds": seconds},
                ),
                check_validity=False,
                overwrite=True,
            )
            print(f"  {seconds:6.1f} s  {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
