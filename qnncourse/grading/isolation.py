"""Where the learner's code runs: a bubblewrap sandbox per notebook, under resource limits.

Every process the grader starts for a notebook (its Jupyter kernel, and each grading sandbox
that replays its definitions) runs inside `bubblewrap <https://github.com/containers/
bubblewrap>`_ (``bwrap``, the tool Flatpak uses) with

* new PID, IPC, network and UTS namespaces: the notebook sees only its own processes (not the
  grader, not the other notebooks), has only a private loopback network, and when the
  sandbox's first process ends the kernel ends every other process in the namespace, so
  nothing the notebook started (``setsid`` daemons included) outlives it;
* ``--die-with-parent``: if the grader dies, the sandbox dies with it;
* no capabilities (``--cap-drop ALL``, even when the grader runs as root);
* a file system made of read-only binds of what Python needs (``/usr``, the interpreter's
  prefixes, its ``site-packages`` and the ``qnncourse`` package directory -- not the
  repository around it, so not ``exercises/solutions``), with any path the grader names as
  sensitive (other submissions, its working directory, its output files) covered when it
  falls under one of those binds; a private, size-capped ``tmpfs`` at ``/tmp`` holding a copy
  of the one notebook; and, for the kernel only, the per-notebook directory of its Unix
  sockets (jupyter_client's ``ipc`` transport, since the network namespace has no route to
  the grader).

Inside, a tiny launcher lowers the *soft* resource limits (address space, CPU seconds,
processes, file size, open files) to at most the hard limits the grader itself runs under --
it never tries to raise a hard limit -- and then executes the real command.

Without bubblewrap or user namespaces (another OS, a locked-down container) :func:`problem`
says why; the grader then refuses to run unless told to grade without isolation, in which case
the same commands run as plain processes with the same limits.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import site
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import qnncourse

__all__ = ["Jail", "Limits", "Stopped", "environment", "problem", "register", "stop_all",
           "unregister"]

_TMP_BYTES = 512 * 2**20  # the private /tmp (a tmpfs lives in memory)
_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "passwd", "group", "nsswitch.conf",
        "localtime", "hosts", "alternatives", "fonts")

# Runs first inside the sandbox (``python -I -S``: no site, no project import, ~10 ms).
_LAUNCHER = """\
import json, os, resource, sys
for name, want in json.loads(sys.argv[1]).items():
    which = getattr(resource, name)
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    if soft == resource.RLIM_INFINITY or want < soft:
        resource.setrlimit(which, (want, hard))
os.execv(sys.argv[2], sys.argv[2:])
"""


@dataclass(frozen=True)
class Limits:
    """Soft resource limits for one sandboxed process tree (each at most the grader's own
    hard limit): ``memory`` bytes of address space per process, ``cpu`` seconds per process,
    ``processes`` (and threads) of the user, ``file_size`` bytes per written file and
    ``open_files`` descriptors per process."""

    memory: int
    cpu: int
    processes: int = 0  # 0: the user's current count plus a margin, at launch
    file_size: int = 256 * 2**20
    open_files: int = 1024

    def launcher(self, argv: Sequence[str]) -> list[str]:
        """``argv`` preceded by the launcher that sets these limits and then runs it."""
        processes = self.processes or _user_tasks() + 512
        spec = {"RLIMIT_AS": self.memory, "RLIMIT_CPU": self.cpu,
                "RLIMIT_NPROC": processes, "RLIMIT_FSIZE": self.file_size,
                "RLIMIT_NOFILE": self.open_files}
        return [sys.executable, "-I", "-S", "-c", _LAUNCHER, json.dumps(spec), *argv]


def _user_tasks() -> int:
    """How many processes and threads this user runs now (``RLIMIT_NPROC`` counts them all,
    inside the sandbox or not)."""
    uid, count = os.getuid(), 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                continue
    return count


@functools.cache
def _python_paths() -> tuple[Path, ...]:
    """What the interpreter needs to start and import the library: its prefixes,
    ``site-packages`` and the ``qnncourse`` package directory (not the directory around it:
    in an editable install that is the repository, with the exercise solutions)."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             *site.getsitepackages(), str(Path(qnncourse.__file__).parent)}
    user = site.getusersitepackages()
    if site.ENABLE_USER_SITE and os.path.isdir(user):
        paths.add(user)
    paths.add(os.path.dirname(os.path.realpath(sys.executable)))
    return tuple(sorted({Path(p).resolve() for p in paths if os.path.exists(p)}))


@dataclass(frozen=True)
class Jail:
    """How to start the processes of one notebook: ``isolated`` in a bubblewrap sandbox, or
    as plain processes. ``hidden`` lists paths (files or directories) the sandbox must not
    show even where they lie under a path it binds."""

    isolated: bool = True
    hidden: tuple[str, ...] = field(default=())

    def command(self, argv: Sequence[str], *, limits: Limits, workdir: Path,
                files: dict[str, Path] | None = None, shared: Sequence[Path] = ()
                ) -> tuple[list[str], str, dict[str, str]]:
        """The command line, working directory and environment that run ``argv``.

        ``workdir`` is a fresh grader-side directory for this notebook; ``files`` maps names
        to grader-side files copied into the sandbox's working directory (the notebook);
        ``shared`` are grader-side directories that stay visible, writable, at the same path
        (the kernel's Unix sockets).
        """
        inner = limits.launcher(argv)
        if not self.isolated:
            work = workdir / "work"
            work.mkdir(exist_ok=True)
            for name, source in (files or {}).items():
                shutil.copyfile(source, work / name)
            (workdir / "home").mkdir(exist_ok=True)
            return inner, str(work), environment(str(workdir / "home"))
        work = "/tmp/notebook"
        cmd = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
               "--unshare-cgroup-try", "--hostname", "sandbox", "--die-with-parent",
               "--cap-drop", "ALL", "--proc", "/proc", "--dev", "/dev"]
        # the private /tmp first: binds of paths under /tmp (a checkout or venv there) must be
        # mounted on top of it, not hidden by it
        cmd += ["--size", str(_TMP_BYTES), "--tmpfs", "/tmp"]
        cmd += self._binds()
        cmd += ["--dir", work]
        for name, source in (files or {}).items():
            cmd += ["--bind", str(source), f"{work}/{name}"]
        for path in shared:
            cmd += ["--bind", str(path), str(path)]
        cmd += ["--chdir", work, "--", *inner]
        return cmd, str(workdir), environment("/tmp")

    def _binds(self) -> list[str]:
        ops: list[tuple[int, int, list[str]]] = []  # (depth, order, arguments)
        for name in ("usr", "bin", "sbin", "lib", "lib32", "lib64"):
            path = Path("/") / name
            if path.is_symlink():
                ops.append((1, 0, ["--symlink", os.readlink(path), str(path)]))
            elif path.is_dir():
                ops.append((1, 0, ["--ro-bind", str(path), str(path)]))
        for name in _ETC:
            if os.path.lexists(f"/etc/{name}"):
                ops.append((2, 0, ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]))
        bound = _python_paths()
        for path in bound:
            ops.append((len(path.parts), 0, ["--ro-bind", str(path), str(path)]))
        tops = [Path("/usr"), *bound]
        for name in self.hidden:
            path = Path(name).resolve()
            if not path.exists() or not any(path == b or b in path.parents for b in tops) \
                    or path in bound:
                continue  # nothing shows it anyway (or Python needs it)
            cover = ["--tmpfs", str(path)] if path.is_dir() else \
                ["--ro-bind", "/dev/null", str(path)]
            ops.append((len(path.parts), 1, cover))  # after the binds of its depth
        return [arg for _, _, args in sorted(ops, key=lambda o: o[:2]) for arg in args]


def environment(home: str) -> dict[str, str]:
    """The environment of every sandboxed process: nothing of the grader's own (it may hold
    credentials), single-threaded numerics, no display, its home in the private ``/tmp``."""
    root = str(Path(qnncourse.__file__).resolve().parents[1])
    return {
        "PATH": os.pathsep.join(dict.fromkeys([os.path.dirname(sys.executable),
                                               "/usr/local/bin", "/usr/bin", "/bin"])),
        "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8", "PYTHONPATH": root,
        "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{home}/.matplotlib",
        "IPYTHONDIR": f"{home}/.ipython", "JUPYTER_RUNTIME_DIR": f"{home}/.jupyter",
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1", "PYTHONDONTWRITEBYTECODE": "1",
    }


def problem() -> str | None:
    """``None`` when a bubblewrap sandbox can be started here, else why not (in words)."""
    if sys.platform != "linux":
        return f"bubblewrap sandboxes need Linux namespaces; this is {sys.platform}"
    if shutil.which("bwrap") is None:
        return ("bubblewrap (bwrap) is not installed; on Debian or Ubuntu: "
                "apt-get install bubblewrap")
    workdir = Path(os.environ.get("TMPDIR", "/tmp"))
    cmd, cwd, env = Jail().command([sys.executable, "-I", "-S", "-c", "pass"],
                                   limits=Limits(memory=2**30, cpu=10), workdir=workdir)
    try:
        done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start a sandbox ({exc})"
    if done.returncode != 0:
        lines = (done.stderr.strip() or f"exit status {done.returncode}").splitlines()
        return f"bubblewrap could not start a sandbox ({lines[-1]})"
    return None


# ---------------------------------------------------------------------------------------------
# stopping a run: every sandbox started is registered until it ends, so an interrupted grader
# can end them all before it writes what it has

_live: dict[int, Callable[[], None]] = {}
_live_lock = threading.Lock()
_stopping = threading.Event()


class Stopped(RuntimeError):
    """The run is being stopped: no new sandbox starts."""


def register(kill: Callable[[], None]) -> int:
    """Remember how to end a running sandbox; returns the key for :func:`unregister`."""
    with _live_lock:
        if _stopping.is_set():
            kill()
            raise Stopped("the grading run is being stopped")
        key = id(kill)
        _live[key] = kill
        return key


def unregister(key: int) -> None:
    """Forget a sandbox that has ended."""
    with _live_lock:
        _live.pop(key, None)


def stop_all() -> None:
    """End every running sandbox and refuse to start new ones (Ctrl-C, SIGTERM)."""
    with _live_lock:
        _stopping.set()
        kills = list(_live.values())
        _live.clear()
    for kill in kills:
        with contextlib.suppress(Exception):
            kill()
