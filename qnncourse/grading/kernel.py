"""Run a notebook top to bottom in its own Jupyter kernel, and record how each cell ended.

The kernel is a separate process (the venv's ``python3`` kernelspec) started with its output
streams discarded; each cell gets ``timeout`` seconds (then the kernel is interrupted and the
next cell runs), the whole notebook ``budget`` seconds, and the outputs kept in memory are
capped, so a cell that prints megabytes or loops forever costs time, not memory.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import time
from dataclasses import dataclass

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

__all__ = ["CellResult", "execute"]

_MAX_OUTPUT_CHARS = 200_000
_TIMEOUT = "CellTimeout"  # the error nbclient reports for a cell it interrupted


@dataclass(frozen=True)
class CellResult:
    """How one code cell (``cell``: 1-based position in the notebook) ended: ``status`` is
    ``"ok"``, ``"error"`` (``detail``: the exception), ``"timeout"``, ``"died"`` (the kernel
    died running it) or ``"not run"`` (``detail``: why)."""

    cell: int
    status: str
    detail: str = ""


class _BudgetSpent(Exception):
    pass


class _CappedClient(NotebookClient):
    """A client that drops outputs past a size cap and records each cell's ending."""

    def __init__(self, nb, *, timeout: float, budget: float, **kwargs):
        self.results: dict[int, CellResult] = {}
        self.current = 0  # the cell being run (1-based)
        self._timeouts: dict[int, int] = {}
        self._chars = 0
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
        if self._chars > _MAX_OUTPUT_CHARS and msg["msg_type"] != "error":
            return None  # drop it: the grade depends on the code, not on what it printed
        return super().output(outs, msg, display_id, cell_index)


def execute(nb: nbformat.NotebookNode, *, timeout: float, budget: float, cwd: str,
            env: dict[str, str]) -> list[CellResult]:
    """Execute ``nb`` (modified in place) and return one :class:`CellResult` per code cell."""
    logger = logging.getLogger("qnncourse.grading.kernel")
    logger.addHandler(logging.NullHandler())
    logger.propagate = False  # nbclient logs timeouts as errors; the grade reports them instead
    client = _CappedClient(nb, timeout=timeout, budget=budget, kernel_name="python3",
                           resources={"metadata": {"path": cwd}}, log=logger,
                           startup_timeout=120)
    spent = False
    try:
        client.execute(env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except _BudgetSpent:
        spent = True
    except (DeadKernelError, asyncio.CancelledError, RuntimeError) as exc:
        cell = client.current
        if cell == 0:  # never got to run a cell
            return _complete(nb, client.results, f"did not run: the kernel did not start "
                                                 f"({type(exc).__name__})")
        # os._exit(), a segfault, running out of memory: the kernel is gone
        client.results[cell] = CellResult(cell, "died", "made the kernel die")
        return _complete(nb, client.results, f"did not run: the kernel died in cell {cell}")
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
