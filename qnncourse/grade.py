"""Grade exercise notebooks: ``python -m qnncourse.grade NOTEBOOK... [--json] [--csv FILE]``.

Each notebook runs in its own bubblewrap sandbox (its kernel, then its functions on fresh
random inputs in a fresh sandboxed process), and is judged against the library in this process
(see :mod:`qnncourse.grading` for why). Every submission is read into memory before any
notebook's code runs; ``--jobs N`` grades N notebooks at once (default: one per core) and
``--scheduler ADDRESS`` sends them to a dask cluster instead. Prints a table ending each
notebook with its total (or, with ``--json``, the seed, whether grading was isolated and
complete, and per notebook its total and rows); ``--csv FILE`` writes a gradebook, one line a
notebook sorted by name, atomically after the last notebook.

Give the notebooks after ``--`` (``python -m qnncourse.grade --csv grades.csv -- *.ipynb``),
so that a submission named ``--csv=x.ipynb`` is read as a notebook, not as an option.
Everything printed that a notebook controls (file names, messages, exception texts) is
escaped: no control character reaches the terminal.

Exit status: 0 when every notebook was graded, 1 when the grader itself failed on one, 2 for a
refused command line (including no sandbox available without ``--no-isolation``), 130 or 143
when stopped by Ctrl-C or SIGTERM -- after writing what was graded, marked incomplete.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import csv
import dataclasses
import json
import math
import os
import secrets
import signal
import sys
import tempfile
import threading
import time
import unicodedata
import warnings
from collections.abc import Sequence
from pathlib import Path

import qnncourse

from .grading.feedback import FEEDBACK_SEED
from .grading.grader import Report, Settings, Submission, grade_submission, read_submission
from .grading.isolation import Stopped, cgroups_problem, problem, stop_all

__all__ = ["main"]

_UNISOLATED = ("graded WITHOUT isolation (--no-isolation): the notebooks' code ran with the "
               "grader's rights and could see and change its files")
_INTERRUPTED = "not graded: the run was stopped before this notebook was done"
# Seeds printed in the course's documents (the notebooks' own checks, examples): students have
# seen them, and inputs drawn from a published seed are a published answer key.
# tests/test_grading_cli.py checks that every ``--seed N`` in the documents is listed here.
PUBLISHED_SEEDS = frozenset({FEEDBACK_SEED, 1234})


def escape(text: object) -> str:
    """``text`` with every control or format character (``\\r``, ``\\n``, ANSI escapes, bidi
    overrides) written as a visible escape such as ``\\x1b``: student-controlled text must not
    move the cursor or erase what the terminal shows."""
    out = []
    for char in str(text):
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"):
            out.append(char.encode("unicode_escape").decode("ascii"))
        else:
            out.append(char)
    return "".join(out)


class _Interrupted(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _header(seed: int, isolated: bool, complete: bool, cgroups: str | None = None) -> str:
    where = "each notebook in its own bubblewrap sandbox" if isolated else _UNISOLATED
    if isolated and cgroups:
        where += (f"; no cgroups ({cgroups}): CPU is not shared out per notebook, and "
                  "timeouts count wall time")
    end = "" if complete else "; INCOMPLETE: the run was stopped"
    return f"# random inputs from seed {seed}; {where}{end}"


def _table(reports: list[Report]) -> str:
    header = ("notebook", "task", "points", "message")
    lines = []
    for report in reports:
        lines += [(escape(r.notebook), escape(r.task), f"{r.score:g}/{r.max_score:g}",
                   escape(r.message)) for r in report.rows]
        lines.append((escape(report.notebook), "total",
                      f"{report.score:g}/{report.max_score:g}", escape(report.note)))
    if not lines:
        return "  ".join(header)
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header[:3])]
    out = []
    for line in [header, *lines]:
        out.append(("  ".join(c.ljust(w) for c, w in zip(line[:3], widths, strict=True))
                    + "  " + line[3]).rstrip())
    return "\n".join(out)


def _cell(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: one starting with ``=``, ``+``, ``-``, ``@``
    (or a tab or carriage return) would be run as a formula, so it gets a leading ``'``."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _notes(report: Report | None, isolated: bool) -> str:
    notes = [] if report is None else [report.note] if report.note else []
    if report is None:
        notes.append(_INTERRUPTED)
    if not isolated:
        notes.append("graded without isolation")
    return "; ".join(notes)


def _write_gradebook(path: str, reports: dict[str, Report | None], isolated: bool) -> None:
    """One line a notebook, sorted by name; written to a temporary file and renamed."""
    done = [r for r in reports.values() if r is not None]
    tasks = list(dict.fromkeys(row.task for r in done for row in r.rows if row.task != "-"))
    lines = []
    for name in sorted(reports):
        report = reports[name]
        line: dict[str, object] = {"notebook": name, "exercise": "", "total": "", "max": ""}
        if report is not None:
            line.update({row.task: row.score for row in report.rows if row.task != "-"})
            line.update(exercise=report.exercise or "", total=report.score,
                        max=report.max_score)
        line["note"] = _notes(report, isolated)
        lines.append({key: _cell(value) for key, value in line.items()})
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=["notebook", "exercise", *tasks, "total",
                                                   "max", "note"])
            writer.writeheader()
            writer.writerows(lines)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _json(reports: dict[str, Report | None], seed: int, isolated: bool, complete: bool,
          cgroups: str | None = None) -> str:
    notebooks = []
    for name, report in reports.items():
        if report is None:
            notebooks.append({"notebook": name, "graded": False, "note": _INTERRUPTED})
            continue
        notebooks.append({
            "notebook": name, "graded": True, "exercise": report.exercise,
            "score": report.score, "max_score": report.max_score, "note": report.note,
            "grader_failed": report.failed,
            "tasks": [dataclasses.asdict(r) for r in report.rows],
        })
    return json.dumps({"seed": seed, "isolated": isolated,
                       "isolation": "bubblewrap" if isolated else _UNISOLATED,
                       "cgroups": isolated and cgroups is None, "complete": complete,
                       "notebooks": notebooks}, indent=1)


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive, finite number of seconds, got "
                                         f"{text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}")
    if value in PUBLISHED_SEEDS:
        which = ("is the seed the notebooks' own checks use" if value == FEEDBACK_SEED
                 else "is printed in the course's documents")
        raise argparse.ArgumentTypeError(f"{value} {which}, so students have seen every input "
                                         "it draws; choose another (or none: a fresh one is "
                                         "drawn and reported)")
    return value


def _sensitive(args: argparse.Namespace, paths: list[str]) -> tuple[str, ...]:
    """Grader-side paths no sandbox may show: the solutions, the grader's working directory,
    every submission and the folders they are in, and the output file."""
    hidden = [str(Path(qnncourse.__file__).resolve().parents[1] / "exercises"), os.getcwd()]
    for path in paths:
        hidden += [str(Path(path).resolve()), str(Path(path).resolve().parent)]
    if args.csv:
        hidden.append(str(Path(args.csv).resolve()))
    return tuple(dict.fromkeys(hidden))


def _run(submissions: list[Submission], settings: Settings, jobs: int,
         scheduler: str | None, reports: dict[str, Report | None]) -> None:
    """Grade every submission, filling ``reports`` as notebooks finish."""
    if scheduler is not None:
        from distributed import Client  # optional dependency: only for --scheduler

        with Client(scheduler) as client:
            futures = {client.submit(grade_submission, s, settings, pure=False): s
                       for s in submissions}
            try:
                for future in _as_completed(futures, client=client):
                    reports[futures[future].name] = future.result()
            finally:
                client.cancel(list(futures))
        return
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)
    try:
        futures = {pool.submit(_timed, s, settings): s for s in submissions}
        for future in _as_completed(futures):
            reports[futures[future].name] = future.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _as_completed(futures, client=None):
    """Futures as they finish, waking often enough for Ctrl-C and SIGTERM to get through."""
    if client is not None:
        from distributed import as_completed

        yield from as_completed(list(futures))
        return
    pending = set(futures)
    while pending:
        done, pending = concurrent.futures.wait(pending, timeout=0.5,
                                                return_when=concurrent.futures.FIRST_COMPLETED)
        yield from done


def _timed(submission: Submission, settings: Settings) -> Report:
    start = time.perf_counter()
    report = grade_submission(submission, settings)
    print(f"graded {escape(submission.name)} in {time.perf_counter() - start:.1f} s",
          file=sys.stderr)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m qnncourse.grade",
        description="Grade qnncourse exercise notebooks against the library's references, "
                    "each notebook in its own sandbox.",
        epilog="Put the notebooks after --: python -m qnncourse.grade --csv grades.csv -- "
               "*.ipynb (a file named like an option is then read as a notebook).")
    parser.add_argument("notebooks", nargs="+", metavar="NOTEBOOK")
    parser.add_argument("--json", action="store_true",
                        help="print JSON: the seed, and per notebook its total and rows")
    parser.add_argument("--csv", metavar="FILE",
                        help="write a gradebook (one line a notebook, sorted by name)")
    parser.add_argument("--timeout", type=_positive_seconds, default=60.0, metavar="S",
                        help="seconds allowed for each cell and each task (default 60)")
    parser.add_argument("--seed", type=_seed, default=None,
                        help="seed of the random inputs (default: a fresh one, printed); "
                             "seeds printed in the course's documents are refused")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="notebooks graded at once (default: the number of cores)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="grade on a dask cluster (e.g. tcp://host:8786) instead")
    parser.add_argument("--no-isolation", action="store_true",
                        help="grade without a sandbox where none can be made (trusted "
                             "notebooks only; every report says so)")
    args = parser.parse_args(argv)
    if args.csv is not None and Path(args.csv).suffix.lower() == ".ipynb":
        parser.error(f"--csv {escape(args.csv)}: a gradebook is not a notebook (is this a "
                     "submission whose name starts with --? put the notebooks after --)")
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    if args.scheduler is not None:
        try:
            import distributed  # noqa: F401 - only checking that it is there
        except ImportError:
            parser.error("--scheduler needs dask's distributed scheduler: "
                         'pip install "dask[distributed]"')
    seed = args.seed
    while seed is None or seed in PUBLISHED_SEEDS:
        seed = secrets.randbits(32)
    isolated = not args.no_isolation
    if isolated:
        why = problem()
        if why is not None:
            print(f"python -m qnncourse.grade: cannot grade in a sandbox: {escape(why)}.\nThe "
                  "notebooks' code would run with your rights and see your files; to grade "
                  "anyway (trusted notebooks only), pass --no-isolation.", file=sys.stderr)
            return 2

    cgroups = cgroups_problem() if isolated else None
    warnings.simplefilter("ignore")  # library warnings are not the report
    paths = list(dict.fromkeys(args.notebooks))  # each file once
    # Every submission is read now, before any notebook's code runs.
    submissions = [read_submission(p) for p in paths]
    settings = Settings(seed=seed, timeout=args.timeout, isolated=isolated,
                        hidden=_sensitive(args, paths))
    reports: dict[str, Report | None] = dict.fromkeys(paths)

    def interrupt(signum, frame):
        raise _Interrupted(signum)

    previous = signal.signal(signal.SIGTERM, interrupt)
    stopped: int | None = None
    try:
        _run(submissions, settings, args.jobs, args.scheduler, reports)
    except (KeyboardInterrupt, _Interrupted, Stopped) as exc:
        # a second Ctrl-C or SIGTERM must not cut the report short (nor print a traceback)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stopped = exc.signum if isinstance(exc, _Interrupted) else signal.SIGINT
        stop_all()
        print(f"stopped ({signal.Signals(stopped).name}): writing what was graded",
              file=sys.stderr)
    finally:
        signal.signal(signal.SIGTERM, previous if stopped is None else signal.SIG_IGN)
    complete = stopped is None
    done = [r for r in reports.values() if r is not None]
    if args.json:
        print(_json(reports, seed, isolated, complete, cgroups))
    else:
        print(_header(seed, isolated, complete, cgroups))
        print(_table(done))
        for name, report in reports.items():
            if report is None:
                print(f"{escape(name)}: {_INTERRUPTED}")
    if args.csv:
        _write_gradebook(args.csv, reports, isolated)
    sys.stdout.flush()
    if stopped is not None:
        # The grading threads, their sandboxes ended, unwind and remove their temporary
        # directories; wait a little for that, not for anything else.
        deadline = time.monotonic() + 15
        for thread in threading.enumerate():
            if thread is not threading.current_thread() and not thread.daemon:
                thread.join(max(0.0, deadline - time.monotonic()))
        os._exit(128 + stopped)
    return 1 if any(r.failed for r in done) else 0


if __name__ == "__main__":
    sys.exit(main())
