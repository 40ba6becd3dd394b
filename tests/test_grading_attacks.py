"""Attacks on a grader that runs as root (a course server, CI): issue 25's items 1-10.

Each attack notebook is the chapter 2 student version (zero points) whose graded functions
answer correctly *only if an attack worked* -- writing a kernel setting, reading a classmate's
kernel key, raising a hard limit, resetting the evaluation counter, reaching the library's
gradient through ``getattr`` -- so an attack that works shows up as points. They are graded in
one run of ``python -m qnncourse.grade`` (two at a time, a short ``--timeout``) beside honest
notebooks, which must keep full marks while a neighbour runs eight busy loops; the run must end
with complete JSON and CSV and leave no process, file, cgroup or kernel key behind. Files that
are not plain notebooks, terminal escapes and the command line are checked in runs without
kernels (seconds), the sandbox's own guarantees on :class:`~qnncourse.grading.isolation.Jail`
directly.
"""

import csv
import ctypes
import json
import os
import platform
import re
import subprocess
import sys
import uuid
from pathlib import Path

import nbformat
import pytest

from qnncourse.grade import PUBLISHED_SEEDS, _table, main
from qnncourse.grading.grader import Report, Row, identify_exercise
from qnncourse.grading.isolation import Cgroup, Jail, Limits, cgroups_problem
from qnncourse.grading.student import student_path

ROOT = Path(__file__).resolve().parents[1]
SOLUTION_02 = ROOT / "exercises" / "solutions" / "02_gradients.ipynb"
STUDENT_02 = student_path(SOLUTION_02)
TIMEOUT = "10"  # seconds per cell and task (CPU time where there are cgroups)
TOKEN = uuid.uuid4().hex
KEY = f"qnncourse-{TOKEN}"
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="the attacks of issue 25 need root")
pytestmark = [pytest.mark.skipif(sys.platform != "linux", reason="bubblewrap needs Linux")]

# the honest answers, used by an attack only when it worked
HONEST = '''
def _shift(cost, theta, k):
    step = np.pi / 2 * np.eye(len(theta))[k]
    return (cost(np.asarray(theta, float) + step) - cost(np.asarray(theta, float) - step)) / 2

def _central(cost, theta, h):
    theta = np.asarray(theta, float)
    out = np.zeros(len(theta))
    for j in range(len(theta)):
        e = np.zeros(len(theta))
        e[j] = h
        out[j] = (cost(theta + e) - cost(theta - e)) / (2 * h)
    return out
'''

# 1: open global kernel settings for writing; 3: raise a hard limit
PROBE = HONEST + '''
import os, resource

def shift_rule(cost, theta, k):
    opened = 0
    for path in ("/proc/sys/kernel/core_pattern", "/proc/sys/vm/drop_caches",
                 "/proc/sys/kernel/pid_max"):
        try:
            os.close(os.open(path, os.O_WRONLY))  # opened only: nothing is written
            opened += 1
        except OSError:
            pass
    return _shift(cost, theta, k) if opened else 0.0

def central_difference(cost, theta, h):
    raised = 0
    for name in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_NPROC"):
        which = getattr(resource, name)
        soft, hard = resource.getrlimit(which)
        try:
            resource.setrlimit(which, (hard, hard))
            if hard == resource.RLIM_INFINITY or hard > soft:
                raised += 1
        except (ValueError, OSError):
            pass
    return _central(cost, theta, h) if raised else np.zeros(len(theta))
'''

# 9: 2p single calls, then the counter reset; the library's gradient through getattr
COUNTER = '''
def shift_gradient(cost, theta):
    theta = np.asarray(theta, float)
    rows = np.pi / 2 * np.eye(len(theta))
    grad = np.array([(cost(theta + r) - cost(theta - r)) / 2 for r in rows])
    try:
        cost.calls = 1
    except Exception:
        pass
    return grad

def shared_shift_rule(cost, theta, k):
    return getattr(cost, "gradient")(theta)[k]
'''

# 2: a key in the kernel keyring, read by another notebook's graded function
KEYCTL = '''
import ctypes, platform
_libc = ctypes.CDLL(None, use_errno=True)
_NR = {"x86_64": (248, 249), "aarch64": (217, 218)}[platform.machine()]
'''
WRITE_KEY = KEYCTL + '''
for keyring in (-4, -5, -3):  # the user, user-session and session keyrings
    _libc.syscall(_NR[0], b"user", b"KEY", b"the answers", 11, ctypes.c_int(keyring))
'''.replace("KEY", KEY)
READ_KEY = HONEST + KEYCTL + '''
import time

def shift_rule(cost, theta, k):
    end = time.time() + 3
    while time.time() < end:
        if _libc.syscall(_NR[1], b"user", b"KEY", None, ctypes.c_int(0)) >= 0:
            return _shift(cost, theta, k)
        time.sleep(0.2)
    return 0.0
'''.replace("KEY", KEY)

# 4: 3,000 nested directories where the kernel can write, the notebook copy grown
NEST = '''
import os
from ipykernel.kernelapp import IPKernelApp
here = os.getcwd()
for base in (here, os.path.dirname(IPKernelApp.instance().connection_file)):
    try:
        os.chdir(base)
        for i in range(3000):
            os.mkdir("d")
            os.chdir("d")
        open("bottom", "w").write("x" * 1_000_000)
    except OSError:
        pass
    os.chdir(here)
for name in os.listdir(here):
    if name.endswith(".ipynb"):
        try:
            with open(name, "a") as f:
                f.write(" " * 2_000_000)
        except OSError:
            pass
'''

# 5: eight busy loops in their own sessions, and a kernel that stays alive meanwhile
HOG = '''
import subprocess, sys
for i in range(8):
    subprocess.Popen([sys.executable, "-c", "while True: pass", "TOKEN"],
                     start_new_session=True)
'''.replace("TOKEN", TOKEN)

# 8: an exception that rewrites the terminal; 10: an overflowing fake array, a stream
# message without a name
FORGE = '''
import os, sys, json
def shift_rule(cost, theta, k):
    fake = {"__ndarray__": {"kind": "i", "shape": [1], "data": [10**30]}}
    os.write(int(sys.argv[1]), json.dumps({"event": "case", "key": "02.shift_rule",
                                           "index": 0, "kind": "ok",
                                           "value": json.dumps(fake)}).encode() + b"\\n")
    return 0.0

def central_difference(cost, theta, h):
    raise ValueError("\\r\\x1b[2K\\x1b[1A\\x1b[2K02_gradients_forge  total  10/10\\n")
'''
NAMELESS_STREAM = '''
ip = get_ipython()
ip.kernel.session.send(ip.kernel.iopub_socket, "stream", {"text": "no name"},
                       parent=ip.kernel.get_parent("shell"))
'''

# 6: a notebook whose analysis was quadratic: one statement binding 20,000 names, all used
MANY = 20_000
BIG_DEFS = (", ".join(f"x{i}" for i in range(MANY)) + f" = range({MANY})\n"
            "def shift_rule(cost, theta, k):\n    return sum(["
            + ", ".join(f"x{i}" for i in range(MANY)) + "])\n")


def _notebook(tmp: Path, name: str, *cells: str, base: Path = STUDENT_02) -> Path:
    """``base`` without its check cells (feedback only) and with ``cells`` at the end (their
    definitions replace the placeholders)."""
    nb = nbformat.read(base, as_version=4)
    nb.cells = [c for c in nb.cells if not c.source.startswith("check(")]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    path = tmp / f"02_gradients_{name}.ipynb"
    nbformat.write(nb, path)
    return path


def _keyctl():
    libc = ctypes.CDLL(None, use_errno=True)
    numbers = {"x86_64": (249, 250), "aarch64": (218, 219)}[platform.machine()]
    return libc, numbers


def _key_in_sight() -> int:
    """The serial of the attack's key if this process can find it (root's keyrings), else -1."""
    libc, (request_key, _) = _keyctl()
    return libc.syscall(request_key, b"user", KEY.encode(), None, ctypes.c_int(0))


def _leftovers(tmpdir: Path, pid: int) -> list[str]:
    found = [str(p) for p in tmpdir.iterdir()]
    for controller in ("memory", "pids", "cpu", "cpuacct"):
        base = Path("/sys/fs/cgroup") / controller
        if base.is_dir():
            found += [str(p) for p in base.glob(f"qnncourse-{pid}-*")]
    for proc in filter(str.isdigit, os.listdir("/proc")):
        try:
            if TOKEN.encode() in Path(f"/proc/{proc}/cmdline").read_bytes():
                found.append(f"process {proc}")
        except OSError:
            continue
    return found


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    """One grading run: honest notebooks beside every attack that needs a kernel."""
    tmp = tmp_path_factory.mktemp("attacks")
    tmpdir = tmp_path_factory.mktemp("grader-tmp")  # the grader's TMPDIR: must end empty
    honest = _notebook(tmp, "honest", base=SOLUTION_02)
    victim = _notebook(tmp, "victim", base=SOLUTION_02)
    hog = _notebook(tmp, "hog", HOG, "import time\ntime.sleep(4)", "time.sleep(4)",
                    "time.sleep(4)")
    writer = _notebook(tmp, "writer", WRITE_KEY, NEST)
    forger = _notebook(tmp, "forge", NAMELESS_STREAM, FORGE)
    probe = _notebook(tmp, "probe", PROBE, COUNTER)
    big = _notebook(tmp, "big", BIG_DEFS)
    reader = _notebook(tmp, "reader", READ_KEY)
    # two at a time, in this order: the hog beside the honest notebook, the reader last
    paths = [hog, honest, writer, forger, probe, big, victim, reader]
    gradebook = tmp / "grades.csv"
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    proc = subprocess.Popen([sys.executable, "-m", "qnncourse.grade", "--json", "--seed", "17",
                             "--timeout", TIMEOUT, "--jobs", "2", "--csv", str(gradebook),
                             "--", *map(str, paths)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=900)
    finally:
        proc.kill()
        serial = _key_in_sight()
        libc, (_, keyctl) = _keyctl()
        found = serial
        for _ in range(5):  # today's grader leaves it in root's keyrings: remove each copy
            if found < 0:
                break
            libc.syscall(keyctl, 21, ctypes.c_int(found))  # KEYCTL_INVALIDATE
            found = _key_in_sight()
    report = json.loads(out)
    with open(gradebook, newline="") as f:
        book = {Path(b["notebook"]).stem: b for b in csv.DictReader(f)}
    by_stem = {Path(n["notebook"]).stem: n for n in report["notebooks"]}
    return proc, err, report, by_stem, book, serial, _leftovers(tmpdir, proc.pid)


def _scores(attacked, stem):
    notebook = attacked[3][f"02_gradients_{stem}"]
    return {t["task"]: t["score"] for t in notebook["tasks"]}, \
        {t["task"]: t["message"] for t in notebook["tasks"]}


@as_root
def test_run_is_complete_and_honest_notebooks_keep_full_marks(attacked):
    proc, err, report, by_stem, book = attacked[:5]
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err
    assert report["complete"] and report["isolated"]
    assert len(report["notebooks"]) == len(book) == 8
    for stem in ("02_gradients_honest", "02_gradients_victim"):
        assert by_stem[stem]["score"] == 10, [t["message"] for t in by_stem[stem]["tasks"]]
        assert float(book[stem]["total"]) == 10
    assert not any(n["grader_failed"] for n in report["notebooks"])


@as_root
@pytest.mark.parametrize("stem, task", [
    ("probe", "02.shift_rule"),  # 1: opens /proc/sys/kernel/core_pattern etc. for writing
    ("reader", "02.shift_rule"),  # 2: finds the key the writer's kernel stored
    ("probe", "02.central_difference"),  # 3: raises a hard limit
], ids=["1-kernel-settings", "2-keyring", "3-hard-limits"])
def test_1_2_3_attacks_that_work_would_earn_points(attacked, stem, task):
    scores, messages = _scores(attacked, stem)
    assert scores[task] == 0, messages[task]


@as_root
def test_2_the_key_outlives_nothing(attacked):
    assert attacked[5] < 0, "the notebook's key is in the grader's keyring"


@as_root
def test_4_and_nothing_left_behind(attacked):
    """The nested directories and the grown notebook copy were in the sandbox's tmpfs: the
    grader's TMPDIR is empty, and no cgroup or process of the run is left."""
    assert attacked[6] == []


@as_root
def test_5_busy_neighbours_cost_honest_notebooks_nothing(attacked):
    honest = attacked[3]["02_gradients_honest"]
    assert honest["score"] == 10, [t["message"] for t in honest["tasks"]]
    assert attacked[2]["cgroups"] is (cgroups_problem() is None)


def test_5_a_run_without_cgroups_says_so_in_its_header():
    from qnncourse.grade import _header

    header = _header(7, True, True, "the cgroup v1 hierarchies are not writable by this user")
    assert "no cgroups (the cgroup v1 hierarchies are not writable by this user)" in header
    assert "timeouts count wall time" in header
    assert "cgroups" not in _header(7, True, True, None)


@as_root
def test_6_analysis_of_a_huge_statement_is_bounded(attacked):
    scores, messages = _scores(attacked, "big")
    assert scores["02.shift_rule"] == 0
    assert messages["02.shift_rule"].startswith(("0/4 random inputs right", "not graded")), \
        messages["02.shift_rule"]


@as_root
def test_8_and_10_forged_values_and_messages_are_graded_not_crashed(attacked):
    scores, messages = _scores(attacked, "forge")
    assert sum(scores.values()) == 0
    assert "please report" not in " ".join(messages.values())
    assert attacked[3]["02_gradients_forge"]["grader_failed"] is False


@as_root
def test_9_evaluations_are_counted_by_the_grader(attacked):
    scores, messages = _scores(attacked, "probe")
    assert scores["02.shift_gradient"] == 0
    assert "calls of cost" in messages["02.shift_gradient"], messages["02.shift_gradient"]
    assert scores["02.shared_shift_rule"] == 0
    assert "has no attribute 'gradient'" in messages["02.shared_shift_rule"]


# -- runs without kernels: files that are not notebooks, the terminal, the command line ------

def _grade(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qnncourse.grade", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_7_links_fifos_and_devices_are_refused(tmp_path):
    links = {"solution": SOLUTION_02, "passwd": Path("/etc/passwd"), "zero": Path("/dev/zero")}
    paths = []
    for name, target in links.items():
        path = tmp_path / f"02_gradients_{name}.ipynb"
        path.symlink_to(target)
        paths.append(path)
    fifo = tmp_path / "02_gradients_fifo.ipynb"
    os.mkfifo(fifo)
    directory = tmp_path / "02_gradients_dir.ipynb"
    directory.mkdir()
    broken = tmp_path / "02_gradients_broken.ipynb"
    broken.write_text("not a notebook")
    paths += [fifo, directory, broken]
    result = _grade("--json", "--seed", "5", "--", *map(str, paths), timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "root:" not in result.stdout
    report = json.loads(result.stdout)
    messages = {Path(n["notebook"]).stem.removeprefix("02_gradients_"):
                {t["message"] for t in n["tasks"]} for n in report["notebooks"]}
    assert all(n["score"] == 0 for n in report["notebooks"])
    for name in links:
        assert messages[name] == {"refused: a symbolic link, not a regular file (submit the "
                                  "notebook itself)"}
    assert messages["fifo"] == {"refused: a FIFO, not a regular file"}
    assert messages["dir"] == {"refused: a directory, not a regular file"}
    assert next(iter(messages["broken"])).startswith("not a Jupyter notebook")


def test_8_the_terminal_table_shows_student_text_escaped(tmp_path):
    forged = "\r\x1b[2K\x1b[1A\x1b[2Kalice  total  10/10\n\u202e"
    report = Report("alice\x1b[31m.ipynb", "02_gradients",
                    (Row("alice\x1b[31m.ipynb", "02.shift_rule", 0, 2, f"raised {forged}"),))
    table = _table([report])
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u202e]", table), table
    assert table.count("\n") == 2  # header, the row, the total
    assert "\\x1b[2K" in table and "\\r" in table
    # and end to end: a file name and an error text with escapes, in the printed table
    path = tmp_path / "02_gradients_\x1b[2K\r.ipynb"
    path.write_text("\x1b[2J not a notebook")
    result = _grade("--seed", "5", "--", str(path))
    assert result.returncode == 0, result.stderr[-2000:]
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", result.stdout + result.stderr)


@pytest.mark.parametrize("seed", sorted(PUBLISHED_SEEDS))
def test_10_published_seeds_are_refused(capsys, seed):
    with pytest.raises(SystemExit) as exit_:
        main(["--seed", str(seed), "--", "x.ipynb"])
    assert exit_.value.code == 2
    assert "so students have seen every input it draws" in capsys.readouterr().err


def test_10_every_seed_in_the_documents_is_refused():
    """Every ``--seed N`` printed in a tracked Markdown file or notebook is refused."""
    files = subprocess.run(["git", "ls-files", "*.md", "*.ipynb", "*.rst"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    seeds = set()
    for name in files:
        text = (ROOT / name).read_text(encoding="utf-8", errors="replace")
        seeds |= {int(s) for s in re.findall(r"--seed[ =](\d+)", text)}
    assert seeds <= PUBLISHED_SEEDS, seeds - PUBLISHED_SEEDS


def test_10_a_file_named_like_an_option_is_a_notebook_after_the_dashes(tmp_path):
    carol = tmp_path / "carol_02_gradients.ipynb"
    carol.write_bytes(SOLUTION_02.read_bytes())
    odd = tmp_path / "--csv=carol_02_gradients.ipynb"
    odd.write_text("not a notebook")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "qnncourse.grade", "--json", "--seed", "5",
                             "--", odd.name], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert [n["notebook"] for n in json.loads(result.stdout)["notebooks"]] == [odd.name]
    assert carol.read_bytes() == SOLUTION_02.read_bytes()
    # without the dashes, the option that names a notebook is refused
    refused = subprocess.run([sys.executable, "-m", "qnncourse.grade", odd.name, "x.ipynb"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env)
    assert refused.returncode == 2
    assert "a gradebook is not a notebook" in refused.stderr
    assert carol.read_bytes() == SOLUTION_02.read_bytes()


def test_10_odd_metadata_is_read_not_crashed():
    as_list = nbformat.v4.new_notebook(metadata={"qnncourse": {"exercise": ["02_gradients"]}})
    assert identify_exercise("alice.ipynb", as_list) == (None, "")
    assert identify_exercise("alice_02_gradients.ipynb", as_list) == ("02_gradients", "")
    named = nbformat.v4.new_notebook(metadata={"qnncourse": {"exercise": "02_gradients"}})
    assert identify_exercise("alice.ipynb", named) == (
        "02_gradients", "graded as 02_gradients, which its metadata names; its file name "
                        "names no exercise")


# -- the sandbox's own guarantees, on Jail directly ----------------------------------------

def _in_jail(tmp_path: Path, code: str, limits: Limits) -> subprocess.CompletedProcess:
    copy = tmp_path / "nb.ipynb"
    copy.write_text("original")
    cgroup = Cgroup.create(limits)
    try:
        cmd, cwd, env = Jail().command([sys.executable, "-c", code], limits=limits,
                                       workdir=tmp_path, files={"nb.ipynb": copy},
                                       cgroup=cgroup)
        return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=60)
    finally:
        if cgroup is not None:
            cgroup.remove()
        assert copy.read_text() == "original"  # the sandbox wrote its own copy only


JAILED = '''
import ctypes, mmap, os, resource, time
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print("uid", os.getuid(), open("/proc/self/uid_map").read().split()[1])
print("caps", status["CapEff"].strip(), status["CapPrm"].strip(), status["NoNewPrivs"].strip())
with open("nb.ipynb", "a") as f:
    f.write("changed")
writable = []
for line in open("/proc/self/mountinfo"):
    fields = line.split()
    point, options, kind = fields[4], fields[5], line.split(" - ")[1].split()[0]
    if options.startswith("rw") and kind not in ("tmpfs", "devpts", "devtmpfs", "proc"):
        writable.append(point)
    if point == "/proc/sys" and options.startswith("rw"):
        writable.append(point)
print("writable", writable)
for name in ("AS", "CPU", "FSIZE", "NOFILE", "NPROC"):
    soft, hard = resource.getrlimit(getattr(resource, "RLIMIT_" + name))
    print("limit", name, soft == hard != resource.RLIM_INFINITY)
try:
    mmap.mmap(-1, 8 * 2**30)
    print("reserved 8 GiB")
except OSError:
    print("no 8 GiB")
started = 0
for i in range(60):
    try:
        if os.fork() == 0:
            time.sleep(3)
            os._exit(0)
        started += 1
    except OSError:
        pass
print("started", started)
'''


@as_root
def test_1_3_4_the_sandbox_runs_as_a_fresh_user_with_hard_limits_and_tmpfs_only(tmp_path):
    limits = Limits(memory=2 * 2**30, cpu=30, processes=20)
    first, second = (_in_jail(tmp_path, JAILED, limits) for _ in range(2))
    lines = []
    for result in (first, second):
        assert result.returncode == 0, result.stderr[-2000:]
        lines.append(dict(line.split(" ", 1) for line in result.stdout.splitlines()
                          if not line.startswith("limit")))
        assert all(line.endswith("True") for line in result.stdout.splitlines()
                   if line.startswith("limit")), result.stdout
    for seen in lines:
        inner, outer = seen["uid"].split()
        assert inner != "0" and int(outer) >= 1_000_000_000
        assert seen["caps"] == "0000000000000000 0000000000000000 1"
        assert seen["writable"] == "[]"  # only tmpfs (the notebook copy included)
        assert seen["no"] == "8 GiB"
        assert int(seen["started"]) < 20
    assert lines[0]["uid"].split()[1] != lines[1]["uid"].split()[1]  # a uid per sandbox
