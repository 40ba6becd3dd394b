"""Run a notebook top to bottom in its own Jupyter kernel, and record how each cell ended.

The kernel is a separate process (the venv's ``python3`` kernelspec), started inside the
notebook's sandbox (:class:`~qnncourse.grading.isolation.Jail`) with its output streams
discarded, and reached over jupyter_client's ``ipc`` transport: Unix sockets the kernel makes
in its own ``/tmp/.ipc`` (a size-capped tmpfs), which the grader reaches through
``/proc/PID/root`` of a sandboxed process (the sandbox has no network, and no writable
directory on the host). Each cell gets ``timeout`` seconds -- where the sandbox
has a cgroup, read on a :class:`~qnncourse.grading.isolation.Stopwatch` (CPU time, or wall
time the kernel did not spend waiting for a CPU; then a watcher interrupts the kernel with
SIGINT), and at most ``WALL_FACTOR`` times as much wall time (then nbclient interrupts it by a
message on its control channel); without a cgroup, ``timeout`` seconds of wall time -- and
the next cell runs. The whole notebook gets
``budget`` seconds, counted the same way (a watchdog kills the sandbox a little after that,
whatever the kernel does). What reaches the grader is capped: no single message larger than
:data:`MAX_MESSAGE_BYTES` (ZeroMQ drops it at the socket, which also ends the conversation
with that kernel); every message on the iopub channel (outputs, and widget ``comm`` messages,
which are not kept) counts towards ``_MAX_RECEIVED_CHARS``, past which the kernel is stopped;
no more than ``_MAX_OUTPUT_CHARS`` of outputs -- error tracebacks included -- are kept per
notebook; a malformed message is dropped. So a cell that prints, raises or sends gigabytes,
loops forever or stops itself costs its notebook time and the cells after it, and costs the
grader (and the notebooks graded beside it) neither memory nor much CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
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
from nbclient.exceptions import CellExecutionComplete, DeadKernelError

from .isolation import (
    WALL_FACTOR,
    Cgroup,
    Jail,
    Limits,
    Stopwatch,
    oldest,
    register,
    sandbox_pid,
    unregister,
)

__all__ = ["MAX_MESSAGE_BYTES", "CellResult", "execute"]

MAX_MESSAGE_BYTES = 8 * 2**20
_MAX_OUTPUT_CHARS = 200_000  # kept per notebook
_MAX_RECEIVED_CHARS = 64_000_000  # received per notebook: past it, the kernel is stopped
_SEND_MS = 5000  # a message to a kernel that dropped its connection fails instead of hanging
_TIMEOUT = "CellTimeout"  # the error nbclient reports for a cell it interrupted
_SOCKETS = "/tmp/.ipc"  # inside the sandbox
_QUEUED_MESSAGES = 32
_IGNORED = {"comm_open", "comm_msg", "comm_close"}  # widgets: counted, never kept


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
              cgroup: Cgroup | None) -> None:
        self._jail, self._limits, self._workdir = jail, limits, workdir
        self._notebook, self.cgroup = notebook, cgroup
        self.kernel_spec.interrupt_mode = "message"
        self._capped = zmq.asyncio.Context()
        self._capped.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        # At most this many messages wait in the grader's memory; a flood queues in the
        # kernel's (sandboxed) memory instead, until the grader has read past its cap.
        self._capped.setsockopt(zmq.RCVHWM, _QUEUED_MESSAGES)
        # After an oversized message the kernel's end of the connection is gone for good
        # (it refuses the client's identity on reconnecting): sending must then fail.
        self._capped.setsockopt(zmq.SNDTIMEO, _SEND_MS)

    def launch(self, argv: list[str]) -> tuple[list[str], str, dict[str, str]]:
        readable = [Path(self.connection_file)] if self._jail.isolated else []
        return self._jail.command(argv, limits=self._limits, workdir=self._workdir,
                                  files={self._notebook.name: self._notebook},
                                  readable=readable, dirs=[_SOCKETS], cgroup=self.cgroup)

    def format_kernel_cmd(self, extra_arguments=None) -> list[str]:
        return self.launch(super().format_kernel_cmd(extra_arguments))[0]

    def write_connection_file(self, **kwargs) -> None:
        super().write_connection_file(**kwargs)
        # read by the sandbox's own user (the directory around it cannot be listed)
        os.chmod(self.connection_file, 0o644)

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        await super()._async_launch_kernel(kernel_cmd, **kw)
        if self._jail.isolated:
            # the sockets are in the sandbox's /tmp: reach them through a process inside
            process = getattr(self.provisioner, "process", None)
            pid = None if process is None else \
                await asyncio.to_thread(sandbox_pid, process.pid)
            if pid is not None:
                self.ip = f"/proc/{pid}/root{_SOCKETS}/kernel"

    def kernel_pid(self) -> int | None:
        """The host pid of the kernel process (the oldest ``ipykernel`` in the cgroup)."""
        return oldest(self.cgroup, "ipykernel_launcher") if self.cgroup else None

    def client(self, **kwargs):
        kwargs.setdefault("context", self._capped)
        return super().client(**kwargs)

    def kill_now(self) -> None:
        process = getattr(self.provisioner, "process", None)
        if process is not None:
            with contextlib.suppress(OSError):
                process.kill()  # the sandbox's outer process: everything inside dies with it

    def close(self) -> None:
        # Nothing may wait to be delivered to a kernel that is gone: a context with pending
        # messages and the default linger blocks forever when it is garbage-collected.
        control = getattr(self, "_control_socket", None)
        if control is not None:
            control.close(linger=0)
            self._control_socket = None
        self._capped.destroy(linger=0)
        if self._created_context:
            self.context.destroy(linger=0)


class _BudgetSpent(Exception):
    pass


class _CappedClient(NotebookClient):
    """A client that drops outputs past a size cap and records each cell's ending."""

    def __init__(self, nb, *, timeout: float, budget: float, cgroup: Cgroup | None, **kwargs):
        self.results: dict[int, CellResult] = {}
        self.current = 0  # the cell being run (1-based)
        self._timeouts: dict[int, int] = {}
        self._chars = 0
        self._received = 0
        self.flooded = False
        self.cgroup = cgroup
        self._factor = WALL_FACTOR if cgroup else 1
        self._deadline = time.monotonic() + budget * self._factor
        self._budget = budget
        self._cell_timeout = timeout
        self.watch = Stopwatch(cgroup)  # the current cell's time (see Stopwatch)
        self.out_of_cpu: set[int] = set()  # cells the watcher interrupted
        super().__init__(
            nb, timeout_func=self._timeout_for, interrupt_on_timeout=True, allow_errors=True,
            error_on_timeout={"ename": _TIMEOUT, "evalue": "", "traceback": []},
            shutdown_kernel="immediate", record_timing=False, on_cell_start=self._on_start,
            on_cell_executed=self._on_executed, store_widget_state=False, **kwargs,
        )

    def cpu(self) -> float:
        return self.cgroup.cpu_seconds() if self.cgroup else 0.0

    def _timeout_for(self, cell) -> int:
        wall = min(self._cell_timeout * self._factor, self._deadline - time.monotonic())
        seconds = max(1, int(wall + 0.5))
        self._timeouts[self.current] = seconds
        return seconds

    def _on_start(self, cell, cell_index) -> None:
        if time.monotonic() >= self._deadline or (self.cgroup and self.cpu() >= self._budget):
            raise _BudgetSpent
        if self.cgroup is not None and self.watch.pid is None:
            self.watch.pid = self.km.kernel_pid()
        self.watch.start()
        self.current = cell_index + 1

    def _on_executed(self, cell, cell_index, execute_reply) -> None:
        n = cell_index + 1
        content = execute_reply.get("content", {})
        if n in self.out_of_cpu and content.get("status") == "error":
            self.results[n] = CellResult(n, "timeout", f"did not finish within "
                                                       f"{self._cell_timeout:g} s")
        elif content.get("ename") == _TIMEOUT:
            self.results[n] = CellResult(n, "timeout", f"did not finish within "
                                                       f"{self._timeouts[n]} s")
        elif content.get("status") == "error":
            text = f"{content.get('ename', 'Error')}: {content.get('evalue', '')}".rstrip(": ")
            self.results[n] = CellResult(n, "error", text[:300])
        else:
            self.results[n] = CellResult(n, "ok")

    def process_message(self, msg, cell, cell_index):
        # Every message counts towards what the kernel may send (comm messages included),
        # and one the grader cannot read is dropped, never a crash.
        content = msg.get("content") if isinstance(msg, dict) else None
        size = len(str(content)) + sum(len(b) for b in msg.get("buffers") or []
                                       if isinstance(b, bytes | memoryview))
        self._received += size
        if self._received > _MAX_RECEIVED_CHARS and not self.flooded:
            self.flooded = True
            self.km.kill_now()  # nbclient then finds the kernel dead
        if self.flooded or not isinstance(content, dict) or msg.get("msg_type") in _IGNORED:
            return None
        if msg.get("msg_type") == "stream" and content.get("name") not in ("stdout", "stderr"):
            return None
        try:
            return super().process_message(msg, cell, cell_index)
        except CellExecutionComplete:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            return None

    def output(self, outs, msg, display_id, cell_index):
        self._chars += len(str(msg.get("content", "")))
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
    cgroup = Cgroup.create(limits) if jail.isolated else None
    if jail.isolated:
        ip = _SOCKETS + "/kernel"  # as the kernel sees it; the grader's path is set at launch
    else:
        sockets = workdir / "ipc"
        sockets.mkdir(mode=0o700)
        ip = str(sockets / "kernel")
    km = _JailedKernelManager(kernel_name="python3", transport="ipc", ip=ip,
                              connection_file=str(workdir / "kernel.json"))
    km.setup(jail, limits, workdir, notebook, cgroup)
    _, cwd, env = km.launch([])
    client = _CappedClient(nb, km=km, timeout=timeout, budget=budget, cgroup=cgroup, log=logger,
                           startup_timeout=120)
    # Whatever the kernel does (ignore interrupts, stop itself), the sandbox ends in time.
    watchdog = threading.Timer(budget * client._factor + timeout + 60, km.kill_now)
    watchdog.daemon = True
    watchdog.start()
    done = threading.Event()
    if cgroup is not None:
        threading.Thread(target=_watch_cpu, args=(client, km, timeout, done),
                         daemon=True).start()
    spent = False
    try:
        key = register(km.kill_now)
    except BaseException:
        watchdog.cancel()
        done.set()
        km.close()
        if cgroup is not None:
            cgroup.remove()
        raise
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
        done.set()
        unregister(key)
        km.kill_now()
        if client.kc is not None:
            with contextlib.suppress(Exception):
                client.kc.stop_channels()
        km.close()
        if cgroup is not None:
            cgroup.remove()
    reason = (f"did not run: the notebook used up its {budget:g} s budget" if spent
              else "did not run")
    return _complete(nb, client.results, reason)


def _watch_cpu(client: _CappedClient, km: _JailedKernelManager, timeout: float,
               done: threading.Event) -> None:
    """Interrupt the kernel (SIGINT) when the running cell's stopwatch reads ``timeout``."""
    while not done.wait(0.2):
        cell = client.current
        if cell and cell not in client.results and cell not in client.out_of_cpu \
                and client.watch.seconds() >= timeout:
            pid = km.kernel_pid()
            if pid is not None:
                client.out_of_cpu.add(cell)
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGINT)


def _complete(nb, results: dict[int, CellResult], reason: str) -> list[CellResult]:
    out = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        n = index + 1
        out.append(results.get(n) or (CellResult(n, "ok") if not cell.source.strip()
                                      else CellResult(n, "not run", reason)))
    return out
