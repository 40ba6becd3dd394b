"""Where the learner's code runs: a bubblewrap sandbox per process tree, as a user of its own,
under hard resource limits and, where the machine has them, in a cgroup of its own.

Every process the grader starts for a notebook (its Jupyter kernel, and each grading sandbox
that replays its definitions) runs inside `bubblewrap <https://github.com/containers/
bubblewrap>`_ (``bwrap``, the tool Flatpak uses) with

* **an unprivileged user of its own.** When the grader runs as root (a course server, CI),
  bwrap sets the sandbox up with root's rights (so it can bind whatever Python needs, even
  under ``/root``) and then keeps only ``CAP_SETUID``, ``CAP_SETGID`` and ``CAP_SETPCAP``; the
  launcher inside uses them once to empty the capability bounding set and become a *fresh host
  uid* (one per sandbox, never 0, in no group), sets ``no_new_privs`` and enters a new user
  namespace of its own (mapping only that uid). So ``RLIMIT_NPROC`` counts that sandbox's
  processes only; no file, key or process of another user is within its rights; and the
  kernel keeps a fresh set of user keyrings for the new namespace, which dies with the
  sandbox (keys a notebook stores reach no other notebook, and are gone when it ends). This is
  ``setpriv``'s job done inside the sandbox rather than bubblewrap's ``--unshare-user --uid``:
  bwrap run as root with ``--unshare-user`` maps the sandbox's user to host uid 0, and bwrap
  run as the fresh uid (through ``setpriv``) cannot bind a Python installed under a directory
  only root may enter (``~root/.pyenv``). As a normal user, bwrap runs unprivileged with
  ``--unshare-user``: the sandbox is the grader's own uid in a new user namespace, without
  capabilities (process limits then count all of that user's processes);
* new PID, IPC, network and UTS namespaces: the notebook sees only its own processes,
  has only a private loopback, and when the sandbox's first process ends the kernel ends every
  other process in the namespace (``setsid`` daemons included); ``--die-with-parent``;
  ``--new-session`` (no terminal to inject keystrokes into);
* a read-only file system made of binds of what Python needs (``/usr``, the interpreter's
  prefixes, its ``site-packages`` and the ``qnncourse`` package directory -- not the
  repository around it), with any path the grader names as sensitive covered; ``/proc/sys``
  read-only (bwrap covers ``/proc/sysrq-trigger``, ``/proc/irq`` and ``/proc/bus``; the rest
  of ``/proc`` is the sandbox's own processes); a read-only ``/dev`` and root; the only
  writable places are two size-capped ``tmpfs``: ``/tmp`` (``Limits.tmp``) and ``/dev/shm``.
  The notebook copy is *copied* into ``/tmp`` by the launcher (the grader's copy is bound
  read-only at a staging path), and the kernel's Unix sockets live in ``/tmp/.ipc``, which
  the grader reaches through ``/proc/PID/root`` -- so nothing a notebook writes reaches the
  host's disk, and cleaning up is unmounting;
* a tiny launcher (``python -I -S``) that joins a fresh session keyring (the grader's own is
  inherited otherwise), sets *hard* limits equal to the soft ones for address space, CPU
  seconds, processes, file size and open files (at most the grader's own hard limits), and
  executes the real command;
* where cgroups are available to the grader (v1 as ``/sys/fs/cgroup/{memory,pids,cpu,
  cpuacct}``, or v2), a cgroup per sandbox with a memory limit, a process limit and an equal
  CPU share (:class:`Cgroup`), joined before bwrap starts; the grader reads the sandbox's CPU
  time from it, so a timeout counts the CPU time the notebook got (a notebook slowed by its
  neighbours is not failed for it) as well as, generously, the wall time.

Without bubblewrap or user namespaces (another OS, a locked-down container) :func:`problem`
says why; the grader then refuses to run unless told to grade without isolation, in which case
the same commands run as plain processes with the same limits.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import pwd
import secrets
import shutil
import signal
import site
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import qnncourse

__all__ = ["WALL_FACTOR", "Cgroup", "Jail", "Limits", "Stopped", "Stopwatch",
           "cgroups_problem", "environment", "problem", "register", "sandbox_pid", "stop_all",
           "unregister"]

# With a cgroup, a timeout of S seconds ends code once its Stopwatch reads S, and in any case
# after WALL_FACTOR * S of wall time.
WALL_FACTOR = 5
_SANDBOX_UID = 1000  # the uid inside the user namespace
_UIDS = (1_000_000_000, 2_000_000_000)  # fresh host uids are drawn from here (root only)
_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "passwd", "group", "nsswitch.conf",
        "localtime", "hosts", "alternatives", "fonts")
_STAGE = "/.grader"  # where the grader's read-only files appear inside the sandbox
_KEYCTL = {"x86_64": 250, "aarch64": 219}  # the keyctl system call's number

# Runs first inside the sandbox (``python -I -S``: no site, no project import, ~10 ms). As
# root (bwrap kept CAP_SETUID, CAP_SETGID, CAP_SETPCAP for it): empty the capability bounding
# set, become the fresh uid, set no_new_privs, enter a user namespace of its own (its keyrings
# are fresh and die with it). Then, as anyone: a fresh session keyring, the notebook copy, hard
# limits, and the real command.
_LAUNCHER = """\
import json, os, resource, sys
spec = json.loads(sys.argv[1])
uid, keyctl = spec["uid"], spec["keyctl"]
if uid:
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in range(64):
        libc.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP (EINVAL past the last one)
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # every capability is gone now
    libc.prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: /proc/self is this user's again
    if libc.prctl(38, 1, 0, 0, 0) or libc.unshare(0x10000000):  # NO_NEW_PRIVS; NEWUSER
        sys.exit("could not drop privileges")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{spec['inner']} {uid} 1"),
                       ("gid_map", f"{spec['inner']} {uid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
if keyctl:
    import ctypes
    # KEYCTL_JOIN_SESSION_KEYRING with no name: a new, empty session keyring
    if ctypes.CDLL(None, use_errno=True).syscall(keyctl, 1, None) < 0:
        sys.exit("could not join a fresh session keyring")
for path in spec["dirs"]:
    os.makedirs(path, mode=0o700, exist_ok=True)
for source, target in spec["copies"]:
    with open(source, "rb") as f, open(target, "wb") as g:
        g.write(f.read())
if spec["cwd"]:
    os.chdir(spec["cwd"])
for name, want in spec["limits"].items():
    which = getattr(resource, name)
    hard = resource.getrlimit(which)[1]
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    resource.setrlimit(which, (want, want))
os.execv(sys.argv[2], sys.argv[2:])
"""


@dataclass(frozen=True)
class Limits:
    """Resource limits for one sandboxed process tree, hard (the sandbox cannot raise them)
    and each at most the grader's own hard limit: ``memory`` bytes of address space per
    process, ``cpu`` seconds per process, ``processes`` (and threads) of the sandbox's user,
    ``file_size`` bytes per written file, ``open_files`` descriptors per process; and, where
    there are cgroups, ``ram`` bytes of memory for the whole sandbox (its ``tmpfs`` included).
    ``tmp`` is the size of its private ``/tmp``."""

    memory: int
    cpu: int
    processes: int = 256
    file_size: int = 64 * 2**20
    open_files: int = 1024
    ram: int = 3 * 2**30
    tmp: int = 256 * 2**20

    def launcher(self, argv: Sequence[str], *, copies: Sequence[tuple[str, str]] = (),
                 dirs: Sequence[str] = (), uid: int = 0) -> list[str]:
        """``argv`` preceded by the launcher that copies ``copies`` (source, target) into the
        sandbox, makes ``dirs``, sets these limits and runs it. ``uid``: the fresh host user it
        becomes (root only; 0: it stays the grader's user, whose other processes then count
        towards its process limit)."""
        processes = self.processes + (0 if uid else _user_tasks())
        limits = {"RLIMIT_AS": self.memory, "RLIMIT_CPU": self.cpu,
                  "RLIMIT_NPROC": processes, "RLIMIT_FSIZE": self.file_size,
                  "RLIMIT_NOFILE": self.open_files}
        spec = {"limits": limits, "copies": [list(c) for c in copies], "dirs": list(dirs),
                "cwd": dirs[0] if dirs else "", "uid": uid, "inner": _SANDBOX_UID,
                "keyctl": _KEYCTL.get(os.uname().machine, 0)}
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


def _fresh_uid() -> int:
    """A host uid no process and no account uses: each sandbox its own."""
    while True:
        uid = _UIDS[0] + secrets.randbelow(_UIDS[1] - _UIDS[0])
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid


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


# ---------------------------------------------------------------------------------------------
# cgroups

_cgroup_names = itertools.count()


@functools.cache
def _cgroup_roots() -> tuple[str, dict[str, Path]] | str:
    """("v1" or "v2", the directories new cgroups go in), or why there are none."""
    base = Path("/sys/fs/cgroup")
    v1 = {name: base / name for name in ("memory", "pids", "cpu", "cpuacct")}
    if all((p / "cgroup.procs").exists() for p in v1.values()):
        if all(os.access(p, os.W_OK) for p in v1.values()):
            return "v1", v1
        return "the cgroup v1 hierarchies are not writable by this user (run as root)"
    controllers = base / "cgroup.controllers"
    if controllers.exists():
        own = Path("/proc/self/cgroup").read_text().split("::", 1)[-1].strip()
        parent = base / own.lstrip("/")
        try:
            enabled = (parent / "cgroup.subtree_control").read_text().split()
        except OSError:
            enabled = []
        if {"memory", "pids", "cpu"} <= set(enabled) and os.access(parent, os.W_OK):
            return "v2", {"all": parent}
        return "cgroup v2 has no delegated memory, pids and cpu controllers for this user"
    return "this machine has no cgroup hierarchies the grader can use"


def cgroups_problem() -> str | None:
    """``None`` when each sandbox gets a cgroup of its own, else why not (in words)."""
    roots = _cgroup_roots()
    return roots if isinstance(roots, str) else None


class Cgroup:
    """A cgroup of one sandbox: ``ram`` bytes of memory, ``processes`` tasks and the default
    CPU weight (equal shares between sandboxes). Make it with :meth:`create` (``None`` where
    there are no cgroups); :meth:`join_command` prefixes a command so that it starts inside;
    :meth:`cpu_seconds` is the CPU time its processes have used; :meth:`remove` kills what is
    left in it and deletes it."""

    def __init__(self, version: str, dirs: list[Path]) -> None:
        self.version = version
        self.dirs = dirs

    @classmethod
    def create(cls, limits: Limits) -> Cgroup | None:
        roots = _cgroup_roots()
        if isinstance(roots, str):
            return None
        version, where = roots
        name = f"qnncourse-{os.getpid()}-{next(_cgroup_names)}"
        made: list[Path] = []
        try:
            for root in where.values():
                path = root / name
                path.mkdir()
                made.append(path)
            group = cls(version, made)
            if version == "v1":
                group._write("memory", "memory.limit_in_bytes", limits.ram)
                group._write("pids", "pids.max", limits.processes)
                group._write("cpu", "cpu.shares", 1024)
            else:
                for key, value in (("memory.max", limits.ram), ("memory.swap.max", 0),
                                   ("pids.max", limits.processes), ("cpu.weight", 100)):
                    with contextlib.suppress(FileNotFoundError):
                        group._write("all", key, value)
        except OSError:
            for path in reversed(made):
                with contextlib.suppress(OSError):
                    path.rmdir()
            return None
        return group

    def _dir(self, controller: str) -> Path:
        if self.version == "v2":
            return self.dirs[0]
        return next(d for d in self.dirs if d.parent.name == controller)

    def _write(self, controller: str, key: str, value: int) -> None:
        (self._dir(controller) / key).write_text(str(value))

    def join_command(self, argv: Sequence[str]) -> list[str]:
        """``argv`` run by a shell that first moves itself into this cgroup."""
        procs = [str(d / "cgroup.procs") for d in self.dirs]
        script = ('for p; do [ "$p" = -- ] && break; echo $$ > "$p" || exit 126; shift; done; '
                  'shift; exec "$@"')
        return ["/bin/sh", "-c", script, "sh", *procs, "--", *argv]

    def cpu_seconds(self) -> float:
        """CPU seconds used by the processes in this cgroup (ended ones included)."""
        try:
            if self.version == "v1":
                return int((self._dir("cpuacct") / "cpuacct.usage").read_text()) / 1e9
            for line in (self.dirs[0] / "cpu.stat").read_text().splitlines():
                if line.startswith("usage_usec"):
                    return int(line.split()[1]) / 1e6
        except (OSError, ValueError):
            pass
        return 0.0

    def pids(self) -> list[int]:
        """The host pids of its processes."""
        try:
            text = (self.dirs[0] / "cgroup.procs").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def remove(self) -> None:
        """Kill what is left in it, wait for it to be empty, delete it (never raises)."""
        deadline = time.monotonic() + 10
        for path in self.dirs:
            while path.exists():
                for pid in self.pids() if path == self.dirs[0] else []:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                try:
                    path.rmdir()
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.02)


def _waited(pid: int | None) -> float | None:
    """Seconds process ``pid`` (its main thread) has spent runnable but waiting for a CPU."""
    if pid is None:
        return None
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def oldest(cgroup: Cgroup, module: str) -> int | None:
    """The host pid of the oldest process in ``cgroup`` that runs ``python [options] -m
    module`` (not bwrap nor the launcher, whose command lines hold that command too)."""
    found = []
    for pid in cgroup.pids():
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            at = args.index(b"-m") if b"-m" in args else 0
            if at and args[at + 1] == module.encode() and b"-c" not in args[:at] \
                    and not args[0].endswith(b"bwrap"):
                start = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
                found.append((start, pid))
        except (OSError, ValueError, IndexError):
            continue
    return min(found)[1] if found else None


class Stopwatch:
    """The time a sandbox has had since :meth:`start`: the larger of the CPU time of its
    cgroup and the wall time its main process ``pid`` did *not* spend waiting for a CPU (so
    code that sleeps or waits counts in wall time, and code starved of CPU by its neighbours
    counts only the CPU it got). Without a cgroup it is wall time."""

    def __init__(self, cgroup: Cgroup | None) -> None:
        self.cgroup = cgroup
        self.pid: int | None = None
        self.start()

    def start(self) -> None:
        self.wall0 = time.monotonic()
        self.cpu0 = self.cgroup.cpu_seconds() if self.cgroup else 0.0
        self.wait0 = _waited(self.pid)

    def seconds(self) -> float:
        wall = time.monotonic() - self.wall0
        if self.cgroup is None:
            return wall
        used = self.cgroup.cpu_seconds() - self.cpu0
        waited = _waited(self.pid)
        if waited is not None and self.wait0 is not None:
            used = max(used, wall - (waited - self.wait0))
        return used


# ---------------------------------------------------------------------------------------------
# the sandbox


@dataclass(frozen=True)
class Jail:
    """How to start the processes of one notebook: ``isolated`` in a bubblewrap sandbox, or
    as plain processes. ``hidden`` lists paths (files or directories) the sandbox must not
    show even where they lie under a path it binds."""

    isolated: bool = True
    hidden: tuple[str, ...] = field(default=())

    def command(self, argv: Sequence[str], *, limits: Limits, workdir: Path,
                files: dict[str, Path] | None = None, readable: Sequence[Path] = (),
                dirs: Sequence[str] = (), cgroup: Cgroup | None = None
                ) -> tuple[list[str], str, dict[str, str]]:
        """The command line, working directory and environment that run ``argv``.

        ``workdir`` is a fresh grader-side directory for this notebook; ``files`` maps names
        to grader-side files copied into the sandbox's working directory (the notebook);
        ``readable`` are grader-side files shown read-only at the same path (the kernel's
        connection file); ``dirs`` are directories made inside before ``argv`` starts (the
        kernel's socket directory); ``cgroup`` is joined first.
        """
        if not self.isolated:
            work = workdir / "work"
            work.mkdir(exist_ok=True)
            for name, source in (files or {}).items():
                shutil.copyfile(source, work / name)
            (workdir / "home").mkdir(exist_ok=True)
            for path in dirs:
                Path(path).mkdir(parents=True, exist_ok=True)
            inner = limits.launcher(argv)
            env = environment(str(workdir / "home"))
            return (cgroup.join_command(inner) if cgroup else inner), str(work), env
        work = "/tmp/notebook"
        uid = _fresh_uid() if os.geteuid() == 0 else 0
        copies, binds = [], []
        for index, (name, source) in enumerate((files or {}).items()):
            staged = f"{_STAGE}/{index}"
            binds += ["--ro-bind", str(source), staged]
            copies.append((staged, f"{work}/{name}"))
        for path in readable:
            binds += ["--ro-bind", str(path), str(path)]
        inner = limits.launcher(argv, copies=copies, dirs=[work, *dirs], uid=uid)
        cmd = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
               "--unshare-cgroup-try", "--hostname", "sandbox", "--die-with-parent",
               "--new-session", "--cap-drop", "ALL"]
        if uid:  # the launcher needs these to drop to `uid`; it then has no capability left
            cmd += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add",
                    "CAP_SETPCAP"]
        else:  # bwrap is unprivileged: a user namespace, with no capability inside either
            cmd += ["--unshare-user", "--uid", str(_SANDBOX_UID), "--gid", str(_SANDBOX_UID)]
        # /proc/sys read-only (bwrap itself covers /proc/sysrq-trigger, /proc/irq, /proc/bus)
        cmd += ["--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys",
                "--dev", "/dev", "--size", str(16 * 2**20), "--tmpfs", "/dev/shm",
                "--remount-ro", "/dev"]
        # the private /tmp first: binds of paths under /tmp (a checkout or venv there) must be
        # mounted on top of it, not hidden by it
        cmd += ["--perms", "1777", "--size", str(limits.tmp), "--tmpfs", "/tmp"]
        cmd += self._binds(binds)
        cmd += ["--remount-ro", "/", "--chdir", "/tmp", "--", *inner]
        if cgroup is not None:
            cmd = cgroup.join_command(cmd)
        return cmd, "/", environment("/tmp")

    def _binds(self, more: list[str]) -> list[str]:
        """The mount operations after ``/tmp``: binds of the system and of Python, covers of
        hidden paths, then ``more``; the directories around them are made first, readable by
        all (bwrap makes missing ones only its own user's)."""
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
            cover = ["--tmpfs", str(path), "--remount-ro", str(path)] if path.is_dir() else \
                ["--ro-bind", "/dev/null", str(path)]
            ops.append((len(path.parts), 1, cover))  # after the binds of its depth
        targets = [Path(args[-1]) for _, _, args in ops] + [Path(p) for p in more[2::3]]
        inside = [Path("/usr"), *bound]
        made = {a for t in targets for a in t.parents
                if a not in (Path("/"), Path("/tmp"))
                and not any(a == b or b in a.parents for b in inside)}
        ops += [(len(a.parts), -1, ["--perms", "0755", "--dir", str(a)]) for a in made]
        return [arg for _, _, args in sorted(ops, key=lambda o: o[:2]) for arg in args] + more


def sandbox_pid(outer: int, timeout: float = 30.0) -> int | None:
    """A host pid inside the sandbox started as process ``outer`` (in its mount namespace,
    so ``/proc/PID/root`` is the sandbox's file system), once it is set up; ``None`` if it
    ended first."""
    try:
        ours = os.readlink("/proc/self/ns/mnt")
    except OSError:
        return None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        todo, seen = [outer], set()
        while todo:
            pid = todo.pop()
            seen.add(pid)
            try:
                if os.readlink(f"/proc/{pid}/ns/mnt") != ours and \
                        os.path.isdir(f"/proc/{pid}/root/tmp/notebook"):
                    return pid
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                children = _children(pid)
            todo += [int(c) for c in children if int(c) not in seen]
        if not os.path.exists(f"/proc/{outer}"):
            return None
        time.sleep(0.005)
    return None


def _children(parent: int) -> list[int]:
    """Pids whose parent is ``parent`` (where ``/proc/PID/task/PID/children`` is missing)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(entry))
    return found


def environment(home: str) -> dict[str, str]:
    """The environment of every sandboxed process: nothing of the grader's own (it may hold
    credentials), single-threaded numerics, no display, its home in the private ``/tmp``."""
    root = str(Path(qnncourse.__file__).resolve().parents[1])
    return {
        "PATH": os.pathsep.join(dict.fromkeys([os.path.dirname(sys.executable),
                                               "/usr/local/bin", "/usr/bin", "/bin"])),
        "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8", "PYTHONPATH": root,
        "USER": "student", "LOGNAME": "student",
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
    cmd, cwd, env = Jail().command([sys.executable, "-I", "-S", "-c", "pass"],
                                   limits=Limits(memory=2**30, cpu=10), workdir=Path("/"))
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
