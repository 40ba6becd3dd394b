"""The grader's command line: options it refuses, the report's form, parallel and dask runs that
agree with a serial one, a run stopped by SIGTERM, grading without namespaces, and the cap on
what a kernel's output costs the grader.

The runs here grade two small notebooks at a time; the attacks on the grader are in
``test_grading.py``, graded in one run with the other robustness notebooks.
"""

import csv
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from qnncourse.grade import _cell, main
from qnncourse.grading.feedback import FEEDBACK_SEED
from qnncourse.grading.grader import Report, Row, identify_exercise
from qnncourse.grading.isolation import Jail, Limits
from qnncourse.grading.kernel import execute

ROOT = Path(__file__).resolve().parents[1]
SOLUTION_01 = ROOT / "exercises" / "solutions" / "01_circuits.ipynb"
SOLUTION_02 = ROOT / "exercises" / "solutions" / "02_gradients.ipynb"
TIMEOUT = "60"  # seconds per cell: no notebook here loops, so only a busy machine needs it


def _grade(*args: str, prefix: tuple[str, ...] = (), **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*prefix, sys.executable, "-m", "qnncourse.grade", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, **kwargs)


@pytest.mark.parametrize("args, message", [
    (["--timeout", "nan"], "--timeout: must be a positive, finite number of seconds, got 'nan'"),
    (["--timeout", "inf"], "--timeout: must be a positive, finite number of seconds, got 'inf'"),
    (["--timeout", "-5"], "--timeout: must be a positive, finite number of seconds, got '-5'"),
    (["--timeout", "soon"], "--timeout: must be a number of seconds, got 'soon'"),
    (["--seed", str(FEEDBACK_SEED)], f"--seed: {FEEDBACK_SEED} is the seed the notebooks' "
                                     "own checks use"),
    (["--jobs", "0"], "--jobs must be at least 1, got 0"),
], ids=["nan", "inf", "negative", "word", "feedback-seed", "jobs"])
def test_nonsense_options_are_refused(capsys, args, message):
    with pytest.raises(SystemExit) as exit_:
        main(["x.ipynb", *args])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_csv_cells_cannot_become_formulas():
    assert [_cell(v) for v in ("=HYPERLINK(1)", "+1", "-1", "@SUM(A1)", "\tx", "ok", 2.5)] == [
        "'=HYPERLINK(1)", "'+1", "'-1", "'@SUM(A1)", "'\tx", "ok", 2.5]


def test_file_name_and_metadata_that_disagree():
    nb = nbformat.v4.new_notebook(metadata={"qnncourse": {"exercise": "02_gradients"}})
    assert identify_exercise("alice_03_barren_plateaus.ipynb", nb) == (
        "02_gradients", "graded as 02_gradients, which its metadata names; its file name "
                        "suggests 03_barren_plateaus")
    assert identify_exercise("alice_03_barren_plateaus.ipynb", None) == (
        "03_barren_plateaus", "")


def _mismatched(tmp: Path) -> Path:
    """The chapter 2 solution saved as ``03_barren_plateaus_bob.ipynb``, one of its code cells
    without a ``source`` key."""
    nb = json.loads(SOLUTION_02.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    del code[-1]["source"]  # the last check cell
    path = tmp / "03_barren_plateaus_bob.ipynb"
    path.write_text(json.dumps(nb))
    return path


def _distributed_cluster():
    distributed = pytest.importorskip("distributed")
    return distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                    dashboard_address=None, silence_logs=50)


def test_parallel_and_dask_runs_agree_with_a_serial_one(tmp_path):
    paths = [str(_mismatched(tmp_path)), str(SOLUTION_01)]
    common = [*paths, "--json", "--seed", "11", "--timeout", TIMEOUT]
    serial = _grade(*common, "--jobs", "1")
    parallel = _grade(*common, "--jobs", "2")
    with _distributed_cluster() as cluster:
        on_dask = _grade(*common, "--scheduler", cluster.scheduler_address)
    reports = []
    for result in (serial, parallel, on_dask):
        assert result.returncode == 0, result.stderr[-2000:]
        reports.append(json.loads(result.stdout))
    scores = [[(n["score"], [t["message"] for t in n["tasks"]]) for n in r["notebooks"]]
              for r in reports]
    assert reports[0] == reports[1] == reports[2], scores
    bob, circuits = reports[0]["notebooks"]
    # graded by its metadata, which the report says; the cell without `source` is empty
    assert bob["exercise"] == "02_gradients" and bob["score"] == bob["max_score"] == 10
    assert bob["note"] == ("graded as 02_gradients, which its metadata names; its file name "
                           "suggests 03_barren_plateaus")
    assert circuits["score"] == circuits["max_score"] == 10


LOOPER = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", "{token}"])
while True:
    time.sleep(1)
"""


def test_sigterm_writes_what_was_graded_marked_incomplete(tmp_path):
    token = uuid.uuid4().hex
    nb = nbformat.read(SOLUTION_02, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(LOOPER.format(token=token)))
    slow = tmp_path / "02_gradients_slow.ipynb"
    nbformat.write(nb, slow)
    done = tmp_path / "02_gradients_missing.ipynb"  # graded at once: file not found
    gradebook = tmp_path / "grades.csv"
    proc = subprocess.Popen([sys.executable, "-m", "qnncourse.grade", str(done), str(slow),
                             "--jobs", "1", "--seed", "5", "--timeout", "200", "--json",
                             "--csv", str(gradebook)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not _running(token) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _running(token), "the slow notebook never reached its last cell"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    report = json.loads(out)
    assert not report["complete"]
    assert [n["graded"] for n in report["notebooks"]] == [True, False]
    with open(gradebook, newline="") as f:
        book = list(csv.DictReader(f))
    assert [b["notebook"] for b in book] == sorted([str(done), str(slow)])
    slow_line = next(b for b in book if b["notebook"] == str(slow))
    assert slow_line["total"] == "" and slow_line["note"].startswith("not graded")
    time.sleep(1)
    assert not _running(token)


def test_10_a_second_ctrl_c_prints_no_traceback(tmp_path):
    """Issue 25, item 10: Ctrl-C, and again while the report is written: the report comes out
    whole (exit status 130), with no traceback."""
    token = uuid.uuid4().hex
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(LOOPER.format(token=token))])
    slow = tmp_path / "02_gradients_slow.ipynb"
    nbformat.write(nb, slow)
    proc = subprocess.Popen([sys.executable, "-m", "qnncourse.grade", "--jobs", "1", "--seed",
                             "5", "--timeout", "200", "--json", "--", str(slow)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not _running(token) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _running(token), "the notebook never started"
    for _ in range(4):
        proc.send_signal(signal.SIGINT)
        time.sleep(0.05)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGINT, err[-2000:]
    assert "Traceback" not in err
    assert json.loads(out)["complete"] is False


def _running(token: str) -> bool:
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if token.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


@pytest.mark.skipif(shutil.which("unshare") is None or os.geteuid() != 0,
                    reason="hiding bwrap needs unshare -m as root")
def test_without_namespaces_it_refuses_unless_told(tmp_path):
    broken = tmp_path / "02_gradients_broken.ipynb"
    broken.write_text("not a notebook")
    bwrap = shutil.which("bwrap") or "/usr/bin/bwrap"
    hide = ("unshare", "-m", "sh", "-c", f'mount --bind /dev/null {bwrap} && exec "$@"', "-")
    refused = _grade(str(broken), prefix=hide)
    assert refused.returncode == 2
    assert "cannot grade in a sandbox: bubblewrap (bwrap) is not installed" in refused.stderr
    assert "--no-isolation" in refused.stderr
    gradebook = tmp_path / "grades.csv"
    table = _grade(str(broken), "--no-isolation", "--seed", "3", "--csv", str(gradebook),
                   prefix=hide)
    assert table.returncode == 0
    assert table.stdout.splitlines()[0] == (
        "# random inputs from seed 3; graded WITHOUT isolation (--no-isolation): the "
        "notebooks' code ran with the grader's rights and could see and change its files")
    as_json = json.loads(_grade(str(broken), "--no-isolation", "--json", prefix=hide).stdout)
    assert as_json["isolated"] is False and "WITHOUT isolation" in as_json["isolation"]
    with open(gradebook, newline="") as f:
        assert [b["note"] for b in csv.DictReader(f)] == ["graded without isolation"]


def test_report_totals_in_the_table():
    report = Report("a.ipynb", "02_gradients", (Row("a.ipynb", "02.x", 1.5, 2, "half"),
                                                 Row("a.ipynb", "02.y", 3, 3, "ok")), "note")
    assert (report.score, report.max_score) == (4.5, 5)


def _grader_growth_mb(tmp_path: Path, nb, timeout: float) -> tuple[list, float]:
    """Run ``nb`` in a sandboxed kernel here; its cells' results, and how much this process's
    peak memory grew (MB)."""
    copy = tmp_path / "flood.ipynb"
    nbformat.write(nb, copy)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    (tmp_path / "work").mkdir()
    cells = execute(nb, timeout=timeout, budget=120, jail=Jail(), workdir=tmp_path / "work",
                    limits=Limits(memory=4 * 2**30, cpu=200), notebook=copy)
    return cells, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024


def test_error_floods_cost_the_grader_no_memory(tmp_path):
    """20 tracebacks of 1 MB (received, not kept), then a 50 MB traceback: over the
    per-message cap, so ZeroMQ drops it, the cell times out and the kernel is dropped. The
    grader's peak memory stays where it was. (The escape notebook of ``test_grading.py``
    floods 200 MB in 1 MB pieces, past the per-notebook total, and is stopped there.)"""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("ip = get_ipython()\nfor i in range(20):\n    try:\n"
                                  "        raise ValueError('y' * 1_000_000)\n"
                                  "    except ValueError:\n        ip.showtraceback()"),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("raise ValueError('x' * 50_000_000)"),
        nbformat.v4.new_code_cell("y = 2"),
    ])
    cells, grown_mb = _grader_growth_mb(tmp_path, nb, timeout=10)
    assert [c.status for c in cells] == ["ok", "ok", "timeout", "not run"]
    assert cells[3].detail == ("did not run: the kernel sent a message over 8 MB, so the "
                               "grader dropped it")
    assert grown_mb < 60, f"the grader grew by {grown_mb:.0f} MB"
    kept = sum(len(json.dumps(o)) for c in nb.cells for o in c.get("outputs", []))
    assert kept < 1_000_000


def test_6_comm_messages_count_towards_the_output_cap(tmp_path):
    """Issue 25, item 6: 150 widget messages of 1 MB. They count towards the 64 MB a kernel
    may send, so the kernel is stopped there, and the grader keeps none of them (it stored all
    150 MB as widget state before, and queued up to 1000 messages)."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from ipykernel.comm import Comm\n"
                                  "c = Comm(target_name='jupyter.widget', data={'state': {}})\n"
                                  "for i in range(150):\n"
                                  "    c.send({'state': {'x%d' % i: 'y' * 1_000_000}})"),
        nbformat.v4.new_code_cell("z = 1"),
    ])
    cells, grown_mb = _grader_growth_mb(tmp_path, nb, timeout=30)
    assert [c.status for c in cells] == ["died", "not run"], cells
    assert "flooded the output" in cells[1].detail
    assert grown_mb < 100, f"the grader grew by {grown_mb:.0f} MB"
