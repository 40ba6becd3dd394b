"""Run a notebook top to bottom in its own Jupyter kernel, and record how each cell ended.

The kernel is a separate process (the venv's ``python3`` kernelspec), started inside the
notebook's sandbox (:class:`~qnncourse.grading.isolation.Jail`) with its output streams
discarded, and reached over jupyter_client's ``ipc`` transport (Unix sockets in a directory
only this kernel shares with the grader: the sandbox has no network). Each cell gets
``timeout`` seconds (then the kernel is interrupted, by a message on its control channel, and
the next cell runs), the whole notebook ``budget`` seconds (a watchdog kills the sandbox a
little after that, whatever the kernel does), and what reaches the grader is capped: no single
message larger than :data:`MAX_MESSAGE_BYTES` (ZeroMQ drops it at the socket, which also ends
the conversation with that kernel), no more than ``_MAX_OUTPUT_CHARS`` of outputs -- error
tracebacks included -- kept per notebook, and the kernel is stopped once it has sent
``_MAX_RECEIVED_CHARS``. So a cell that prints or raises gigabytes, loops forever or stops
itself costs its notebook time and the cells after it, and costs the grader (and the notebooks
graded beside it) neither memory nor much CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import zmq
import zmq.asyncio
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from .isolation import Jail, Limits, register, unregister

__all__ = ["MAX_MESSAGE_BYTES", "CellResult", "execute"]

MAX_MESSAGE_BYTES = 8 * 2**20
_MAX_OUTPUT_CHARS = 200_000  # kept per notebook
_MAX_RECEIVED_CHARS = 64_000_000  # received per notebook: past it, the kernel is stopped
_SEND_MS = 5000  # a message to a kernel that dropped its connection fails instead of hanging
_TIMEOUT = "CellTimeout"  # the error nbclient reports for a cell it interrupted


@dataclass(frozen=True)
class CellResult:
    """How one code cell (``cell``: 1-based position in the notebook) ended: ``status`` is
    ``"ok"``, ``"error"`` (``detail``: the exception), ``"timeout"``, ``"died"`` (the kernel
    died running it) or ``"not run"`` (``detail``: why)."""

    cell: int
    status: str
    detail: str = ""


class _JailedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel starts inside the notebook's sandbox, is interrupted by
    message (a signal to the sandbox's outer process would end it) and whose clients drop any
    message over :data:`MAX_MESSAGE_BYTES`."""

    def setup(self, jail: Jail, limits: Limits, workdir: Path, notebook: Path,
              sockets: Path) -> None:
        self._jail, self._limits, self._workdir = jail, limits, workdir
        self._notebook, self._sockets = notebook, sockets
        self.kernel_spec.interrupt_mode = "message"
        self._capped = zmq.asyncio.Context()
        self._capped.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        # After an oversized message the kernel's end of the connection is gone for good
        # (it refuses the client's identity on reconnecting): sending must then fail.
        self._capped.setsockopt(zmq.SNDTIMEO, _SEND_MS)

    def launch(self, argv: list[str]) -> tuple[list[str], str, dict[str, str]]:
        return self._jail.command(argv, limits=self._limits, workdir=self._workdir,
                                  files={self._notebook.name: self._notebook},
                                  shared=[self._sockets])

    def format_kernel_cmd(self, extra_arguments=None) -> list[str]:
        return self.launch(super().format_kernel_cmd(extra_arguments))[0]

    def client(self, **kwargs):
        kwargs.setdefault("context", self._capped)
        return super().client(**kwargs)

    def kill_now(self) -> None:
        process = getattr(self.provisioner, "process", None)
        if process is not None:
            with contextlib.suppress(OSError):
                process.kill()  # the sandbox's outer process: everything inside dies with it

    def close(self) -> None:
        self._capped.destroy(linger=0)


class _BudgetSpent(Exception):
    pass


class _CappedClient(NotebookClient):
    """A client that drops outputs past a size cap and records each cell's ending."""

    def __init__(self, nb, *, timeout: float, budget: float, **kwargs):
        self.results: dict[int, CellResult] = {}
        self.current = 0  # the cell being run (1-based)
        self._timeouts: dict[int, int] = {}
        self._chars = 0
        self._received = 0
        self.flooded = False
        self._deadline = time.monotonic() + budget
        self._cell_timeout = timeout
        super().__init__(
            nb, timeout_func=self._timeout_for, interrupt_on_timeout=True, allow_errors=True,
            error_on_timeout={"ename": _TIMEOUT, "evalue": "", "traceback": []},
            shutdown_kernel="immediate", record_timing=False, on_cell_start=self._on_start,
            on_cell_executed=self._on_executed, **kwargs,
        )

    def _timeout_for(self, cell) -> int:
        seconds = max(1, int(min(self._cell_timeout, self._deadline - time.monotonic()) + 0.5))
        self._timeouts[self.current] = seconds
        return seconds

    def _on_start(self, cell, cell_index) -> None:
        if time.monotonic() >= self._deadline:
            raise _BudgetSpent
        self.current = cell_index + 1

    def _on_executed(self, cell, cell_index, execute_reply) -> None:
        n = cell_index + 1
        content = execute_reply.get("content", {})
        if content.get("ename") == _TIMEOUT:
            self.results[n] = CellResult(n, "timeout", f"did not finish within "
                                                       f"{self._timeouts[n]} s")
        elif content.get("status") == "error":
            text = f"{content.get('ename', 'Error')}: {content.get('evalue', '')}".rstrip(": ")
            self.results[n] = CellResult(n, "error", text[:300])
        else:
            self.results[n] = CellResult(n, "ok")

    def output(self, outs, msg, display_id, cell_index):
        size = len(str(msg.get("content", "")))
        self._chars += size
        self._received += size
        if self._received > _MAX_RECEIVED_CHARS and not self.flooded:
            self.flooded = True
            self.km.kill_now()  # nbclient then finds the kernel dead
        if self.flooded:
            return None
        if self._chars > _MAX_OUTPUT_CHARS:
            return None  # drop it: the grade depends on the code, not on what it printed
        return super().output(outs, msg, display_id, cell_index)


def execute(nb: nbformat.NotebookNode, *, timeout: float, budget: float, jail: Jail,
            limits: Limits, workdir: Path, notebook: Path) -> list[CellResult]:
    """Execute ``nb`` (modified in place) in a kernel inside ``jail`` and return one
    :class:`CellResult` per code cell.

    ``workdir`` is the notebook's grader-side working directory (its kernel's Unix sockets go
    in a subdirectory), ``notebook`` the copy of the file the kernel sees in its working
    directory.
    """
    logger = logging.getLogger("qnncourse.grading.kernel")
    logger.addHandler(logging.NullHandler())
    logger.propagate = False  # nbclient logs timeouts as errors; the grade reports them instead
    sockets = workdir / "ipc"
    sockets.mkdir(mode=0o700)
    km = _JailedKernelManager(kernel_name="python3", transport="ipc",
                              ip=str(sockets / "kernel"),
                              connection_file=str(sockets / "kernel.json"))
    km.setup(jail, limits, workdir, notebook, sockets)
    _, cwd, env = km.launch([])
    client = _CappedClient(nb, km=km, timeout=timeout, budget=budget, log=logger,
                           startup_timeout=120)
    # Whatever the kernel does (ignore interrupts, stop itself), the sandbox ends in time.
    watchdog = threading.Timer(budget + timeout + 60, km.kill_now)
    watchdog.daemon = True
    watchdog.start()
    spent = False
    key = register(km.kill_now)
    try:
        client.execute(env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       independent=jail.isolated)
    except _BudgetSpent:
        spent = True
    except (DeadKernelError, asyncio.CancelledError, RuntimeError, zmq.ZMQError) as exc:
        cell = client.current
        if cell == 0:  # never got to run a cell
            return _complete(nb, client.results, f"did not run: the kernel did not start "
                                                 f"({type(exc).__name__})")
        if client.flooded:
            client.results[cell] = CellResult(cell, "died", "sent more than "
                                              f"{_MAX_RECEIVED_CHARS // 10**6} MB of output")
            return _complete(nb, client.results, f"did not run: cell {cell} flooded the "
                                                 "output, so the kernel was stopped")
        if isinstance(exc, zmq.ZMQError):  # the connection ended after an oversized message
            return _complete(nb, client.results, "did not run: the kernel sent a message "
                             f"over {MAX_MESSAGE_BYTES // 2**20} MB, so the grader dropped it")
        # os._exit(), a segfault, running out of memory: the kernel is gone
        client.results[cell] = CellResult(cell, "died", "made the kernel die")
        return _complete(nb, client.results, f"did not run: the kernel died in cell {cell}")
    finally:
        watchdog.cancel()
        unregister(key)
        km.kill_now()
        if client.kc is not None:
            with contextlib.suppress(Exception):
                client.kc.stop_channels()
        km.close()
    reason = (f"did not run: the notebook used up its {budget:g} s budget" if spent
              else "did not run")
    return _complete(nb, client.results, reason)


def _complete(nb, results: dict[int, CellResult], reason: str) -> list[CellResult]:
    out = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        n = index + 1
        out.append(results.get(n) or (CellResult(n, "ok") if not cell.source.strip()
                                      else CellResult(n, "not run", reason)))
    return out
