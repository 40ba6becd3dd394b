"""Run the learner's functions on the grader's inputs, in a fresh process.

Grader side: :func:`run_calls` starts ``python -m qnncourse.grading.sandbox FD`` (inside the
notebook's bubblewrap sandbox, :class:`~qnncourse.grading.isolation.Jail`), sends it (on
stdin, pickled) the learner's definitions and, per task, the inputs to call the learner's
function with. The sandbox replays the definitions, calls each function and writes one JSON
line per event to file descriptor ``FD``; its stdout and stderr are discarded, so printing costs
nothing. The grader reads those lines with a deadline per task, caps their size, decodes values
with :func:`qnncourse.grading.encode.decode` (data only) and kills the process group when a task
overruns -- then starts a new sandbox for the tasks that remain, so one infinite loop costs one
task. Nothing that runs in the sandbox can reach the grader's memory or see the grader's
processes and files: the worst it can do is report wrong values, which are then judged wrong.

A task's time limit is read on a :class:`~qnncourse.grading.isolation.Stopwatch` where the
sandbox has a cgroup -- CPU time, or wall time not spent waiting for a CPU -- with at most
:data:`~qnncourse.grading.isolation.WALL_FACTOR` times the limit of wall time, so a task slowed
by busy neighbours is not failed for it. For a task that ``serves`` its cost
(:mod:`~qnncourse.grading.served`), the learner's function calls a stand-in whose every call
comes back here (an ``evaluate`` line on the pipe, the values on the sandbox's stdin): the
grader evaluates and counts, out of the notebook's reach.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import json
import os
import pickle
import selectors
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .encode import NotData, decode, encode
from .isolation import WALL_FACTOR, Cgroup, Jail, Limits, Stopwatch, oldest, register, unregister
from .served import Ledger, ServedCost
from .task import Outcome

__all__ = ["Call", "CallReport", "Sandbox", "run_calls"]

_STARTUP_SECONDS = 120.0  # importing numpy/qutip/the library on a busy machine
_MAX_VALUE_BYTES = 4_000_000
_MAX_TOTAL_BYTES = 64_000_000


@dataclass(frozen=True)
class Call:
    """Call ``function`` once per ``(args, extra)`` pair in ``cases``, through ``runner`` if
    given (see :attr:`qnncourse.grading.task.Task.runner`)."""

    key: str
    function: str
    cases: list[tuple]
    runner: Callable[..., Any] | None = None
    costs: list[Any] | None = None  # grader-side costs of a served task, one per case


@dataclass
class CallReport:
    """What happened to one :class:`Call`.

    ``status`` is ``"ok"`` (``outcomes`` holds one :class:`Outcome` per case, possibly fewer
    than the cases when time ran out: the rest are timeouts), ``"missing"``, ``"signature"``,
    or ``"broken"`` (the sandbox died or could not load the definitions); ``detail`` says why.
    """

    status: str
    detail: str = ""
    outcomes: list[Outcome] = field(default_factory=list)


class _Broken(Exception):
    pass


class _Timeout(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# grader side


def run_calls(
    definitions: list[tuple[int, ast.stmt]],
    calls: list[Call],
    *,
    timeout: float,
    jail: Jail,
    limits: Limits,
    workdir: Path,
    started: Sandbox | None = None,
) -> tuple[list[str], dict[str, CallReport]]:
    """Replay ``definitions`` (cell number, statement) in a sandbox and make ``calls``.

    Returns the errors met while replaying the definitions, and a report per call key.
    ``timeout`` bounds the replay and each call (all of its cases together). ``started`` is
    a :class:`Sandbox` started earlier (its imports overlap with other work); it is used for
    the first attempt and closed here.
    """
    reports: dict[str, CallReport] = {}
    load_errors: list[str] = []
    remaining = list(calls)
    box = started
    while remaining:
        box = box or Sandbox(jail=jail, limits=limits, workdir=workdir)
        with box:
            box.send(definitions, remaining)
            try:
                box.expect("ready", _STARTUP_SECONDS)  # wall time: it only imports
            except (_Broken, _Timeout) as exc:
                why = f" ({exc})" if str(exc) else ""
                for call in remaining:
                    reports[call.key] = CallReport("broken", "the grading sandbox did not "
                                                             "start" + why)
                break
            try:
                load_errors = list(box.expect("loaded", box.clock(timeout))["errors"])
            except _Timeout:
                for call in remaining:
                    reports[call.key] = CallReport(
                        "broken", f"the notebook's definitions took more than {timeout:g} s to "
                                  "load (a slow import or a slow default argument?)")
                break
            except _Broken as exc:
                for call in remaining:
                    reports[call.key] = CallReport("broken", str(exc))
                break
            while remaining:
                call = remaining.pop(0)
                report = CallReport("ok")
                reports[call.key] = report
                try:
                    _receive_call(box, call, report, timeout)
                except _Timeout:
                    missing = len(call.cases) - len(report.outcomes)
                    report.outcomes += [Outcome("timeout", error=f"did not return within "
                                                f"{timeout:g} s")] * missing
                    break  # the process is stuck: kill it, start afresh for the rest
                except _Broken as exc:
                    report.status, report.detail = "broken", str(exc)
                    break
        box = None
    if box is not None:  # started but never needed
        box.close()
    return load_errors, reports


def _receive_call(box: Sandbox, call: Call, report: CallReport, timeout: float) -> None:
    clock = box.clock(timeout)
    start = box.expect("start", clock)
    if start.get("key") != call.key:
        raise _Broken("the notebook's code interfered with the grading sandbox")
    if start.get("status") != "ok":
        report.status, report.detail = str(start.get("status")), str(start.get("detail", ""))
        return
    for index in range(len(call.cases)):
        ledger = Ledger(call.costs[index]) if call.costs else None
        event = box.expect("case", clock, ledger)
        if event.get("key") != call.key or event.get("index") != index:
            raise _Broken("the notebook's code interfered with the grading sandbox")
        kind, error = str(event.get("kind")), str(event.get("error"))[:1000]
        if kind == "ok":
            try:
                value = decode(event["value"])
            except Exception:  # noqa: BLE001 - any value that does not decode is invalid
                report.outcomes.append(Outcome("invalid", error="returned a value that could "
                                                                "not be read back"))
                continue
            report.outcomes.append(Outcome("ok", value=ledger.judged(value) if ledger
                                           else value))
        else:
            report.outcomes.append(Outcome(kind, error=error))


class _Clock:
    """A time limit of ``seconds`` on the sandbox's :class:`Stopwatch` where it has a cgroup
    (and at most ``WALL_FACTOR`` times as much wall time), else of wall time."""

    def __init__(self, seconds: float, cgroup: Cgroup | None, pid: int | None = None) -> None:
        self.watch = Stopwatch(cgroup)
        self.watch.pid = pid
        self.watch.start()
        self.seconds = seconds
        factor = WALL_FACTOR if cgroup else 1
        self.wall = time.monotonic() + seconds * factor

    def left(self) -> float:
        """Wall seconds until the next check (0: the time is up)."""
        left = self.wall - time.monotonic()
        if self.watch.cgroup is not None:
            if self.watch.seconds() >= self.seconds:
                return 0.0
            left = min(left, 0.25)
        return max(left, 0.0)


class Sandbox:
    """One sandbox process and the pipe it reports on. It starts (and imports the library)
    at once, and waits for its job on stdin."""

    def __init__(self, *, jail: Jail, limits: Limits, workdir: Path) -> None:
        self.cgroup = Cgroup.create(limits) if jail.isolated else None
        read_fd, write_fd = os.pipe()
        cmd, cwd, env = jail.command(
            [sys.executable, "-m", "qnncourse.grading.sandbox", str(write_fd)],
            limits=limits, workdir=workdir, cgroup=self.cgroup)
        try:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, pass_fds=(write_fd,), cwd=cwd, env=env,
                start_new_session=True)
        except BaseException:
            os.close(read_fd)
            os.close(write_fd)
            if self.cgroup is not None:
                self.cgroup.remove()
            raise
        os.close(write_fd)
        self._pid: int | None = None  # of the sandbox's Python process, once known
        self.fd = read_fd
        self.buffer = b""
        self.total = 0
        try:
            self._key = register(self._kill)
        except BaseException:  # the run is being stopped: the process is killed already
            self.proc.wait()
            os.close(read_fd)
            if self.cgroup is not None:
                self.cgroup.remove()
            raise

    def send(self, definitions: list[tuple[int, ast.stmt]], calls: list[Call]) -> None:
        job = pickle.dumps({
            "definitions": definitions,
            "calls": [(c.key, c.function, c.cases, c.runner) for c in calls],
        })
        try:
            self.proc.stdin.write(job)
            self.proc.stdin.flush()
        except OSError:
            pass  # it died at once; expect() will say so
        # stdin stays open for the values of served costs, written without ever blocking
        os.set_blocking(self.proc.stdin.fileno(), False)

    def _kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # isolated: ends the whole sandbox

    def close(self) -> None:
        if self.fd < 0:
            return  # closed already
        self._kill()
        self.proc.wait()
        if self.cgroup is not None:
            self.cgroup.remove()
        unregister(self._key)
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        os.close(self.fd)
        self.fd = -1

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def clock(self, seconds: float) -> _Clock:
        """A time limit of ``seconds`` for work done in this sandbox."""
        if self.cgroup is not None and self._pid is None:
            self._pid = oldest(self.cgroup, "qnncourse.grading.sandbox")
        return _Clock(seconds, self.cgroup, self._pid)

    def expect(self, event: str, limit: float | _Clock, ledger: Ledger | None = None) -> dict:
        """The next message, which must be ``event``; ``limit`` is wall seconds or a clock.
        With a ``ledger``, ``evaluate`` requests before it are answered from it."""
        clock = limit if isinstance(limit, _Clock) else _Clock(limit, None)
        while True:
            message = self._next(clock)
            if message.get("event") == "evaluate" and ledger is not None:
                self._answer(ledger, message.get("theta"), clock)
                continue
            if message.get("event") != event:
                raise _Broken("the notebook's code interfered with the grading sandbox")
            return message

    def _answer(self, ledger: Ledger, theta: Any, clock: _Clock) -> None:
        try:
            reply = {"value": encode(ledger.evaluate(decode(theta)))}
        except ValueError as exc:
            reply = {"error": str(exc)}
        except Exception:  # noqa: BLE001 - a request the grader cannot read
            reply = {"error": "the cost could not read its arguments"}
        data = json.dumps(reply).encode() + b"\n"
        fd = self.proc.stdin.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_WRITE)
            while data:
                left = clock.left()
                if left <= 0:
                    raise _Timeout
                if not sel.select(left):
                    continue
                try:
                    data = data[os.write(fd, data):]
                except BlockingIOError:
                    continue
                except OSError:
                    raise _Broken("the sandbox running the notebook's code stopped reading "
                                  "the cost's values") from None

    def _next(self, clock: _Clock) -> dict:
        with selectors.DefaultSelector() as sel:
            sel.register(self.fd, selectors.EVENT_READ)
            while b"\n" not in self.buffer:
                left = clock.left()
                if left <= 0:
                    raise _Timeout
                if not sel.select(left):
                    continue
                chunk = os.read(self.fd, 1 << 16)
                if not chunk:
                    code = self.proc.wait()
                    raise _Broken(f"the sandbox running the notebook's code exited (status "
                                  f"{code}) -- did the code call exit() or crash Python?")
                self.total += len(chunk)
                if self.total > _MAX_TOTAL_BYTES:
                    raise _Broken("the notebook's functions returned too much data")
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            message = json.loads(line)
        except ValueError:
            raise _Broken("the notebook's code interfered with the grading sandbox") from None
        if not isinstance(message, dict):
            raise _Broken("the notebook's code interfered with the grading sandbox")
        return message


# ---------------------------------------------------------------------------------------------
# sandbox side


def _error_text(exc: BaseException) -> str:
    # Where in the learner's code it happened: the last frame compiled from a notebook cell.
    where = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith("cell "):
            where = f" ({frame.filename}, line {frame.lineno})"
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if len(text) > 300:
        text = text[:297] + "..."
    return text + where


def _main(fd: int) -> None:
    # the limits (memory, CPU, processes, files) were set by the jail's launcher
    out = os.fdopen(fd, "wb", buffering=0)

    def send(**message: Any) -> None:
        out.write(json.dumps(message).encode() + b"\n")

    def ask(theta: Any) -> Any:  # a served cost's call: the grader evaluates and counts it
        send(event="evaluate", theta=encode(theta))
        line = sys.stdin.buffer.readline()
        if not line:
            raise RuntimeError("the grader did not answer")
        reply = json.loads(line)
        if "error" in reply:
            raise ValueError(reply["error"])
        return decode(reply["value"])

    job = pickle.load(sys.stdin.buffer)  # grader-made inputs, unpickled before any notebook code
    for _, _, cases, _ in job["calls"]:
        for args, _ in cases:
            for arg in args:
                if isinstance(arg, ServedCost):
                    object.__setattr__(arg, "_ask", ask)
    send(event="ready")
    namespace: dict[str, Any] = {"__name__": "__notebook__"}
    errors = []
    for cell, node in job["definitions"]:
        try:
            code = compile(ast.Module(body=[node], type_ignores=[]), f"cell {cell}", "exec")
            exec(code, namespace)
        except BaseException as exc:  # noqa: BLE001 - report, keep loading the rest
            errors.append(f"cell {cell}: {ast.unparse(node).splitlines()[0]!r} raised "
                          f"{_error_text(exc)}")
    send(event="loaded", errors=errors)
    for key, name, cases, runner in job["calls"]:
        _call(send, namespace, key, name, cases, runner)


def _call(send, namespace, key, name, cases, runner) -> None:
    func = namespace.get(name)
    if not callable(func):
        what = "is not defined" if func is None else f"is a {type(func).__name__}, not a function"
        send(event="start", key=key, status="missing", detail=f"{name} {what}")
        return
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        signature = None
    if signature is not None and cases:
        try:
            signature.bind(*cases[0][0])
        except TypeError:
            send(event="start", key=key, status="signature", detail=f"{name}{signature}")
            return
    send(event="start", key=key, status="ok")
    for index, (args, extra) in enumerate(cases):
        try:
            value = func(*args) if runner is None else runner(func, args, *extra)
            text = encode(value)
        except NotData as exc:
            send(event="case", key=key, index=index, kind="invalid",
                 error=f"returned {exc}, which is not data (numbers, arrays, lists, dicts)")
            continue
        except NotImplementedError:
            send(event="case", key=key, index=index, kind="not_implemented",
                 error="not implemented yet (raises NotImplementedError)")
            continue
        except BaseException as exc:  # noqa: BLE001 - every failure is an outcome
            send(event="case", key=key, index=index, kind="raised",
                 error=f"raised {_error_text(exc)}")
            continue
        if len(text) > _MAX_VALUE_BYTES:
            send(event="case", key=key, index=index, kind="invalid",
                 error=f"returned {len(text) // 1000} kB of data, too large to grade")
        else:
            send(event="case", key=key, index=index, kind="ok", value=text)


if __name__ == "__main__":
    _main(int(sys.argv[1]))
