"""The exercise grader: full marks for solutions, zero for student versions, and robustness.

The robustness notebooks are variants of the chapter 2 solution with one fault per task, so
each test also shows that the other tasks keep their marks; the attack notebooks try to break
out of their sandbox (kill or stop the grader, read the solutions or a classmate's notebook,
write outside, leave a daemon behind that rewrites the gradebook or blanks a notebook graded
later, flood the error output). They are all graded by one run of ``python -m qnncourse.grade``
(a separate process, as an instructor runs it, two notebooks at a time and under
``ulimit -v 5000000``), with a ``--timeout`` short enough that the infinite loops cost seconds,
not minutes. The other exercises' solutions and student versions are checked in this process,
without kernels.
"""

import ast
import csv
import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import numpy as np
import pytest

import qnncourse
from qnncourse.grading import EXERCISES, TASKS, check, feedback
from qnncourse.grading.encode import NotData, decode, encode
from qnncourse.grading.feedback import run_case
from qnncourse.grading.source import cell_statements, forbidden_uses, needed
from qnncourse.grading.student import student_path, student_text, student_version
from qnncourse.grading.task import evaluate, task_rng

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "exercises" / "solutions").glob("*.ipynb"))
SOLUTION_02 = ROOT / "exercises" / "solutions" / "02_gradients.ipynb"
TIMEOUT = 40  # seconds per cell and per task: importing qutip in two kernels on a busy machine


def _variant(tmp: Path, name: str, replace: dict[str, str], insert: list[str],
             base: Path = SOLUTION_02, append: tuple[str, ...] = ()) -> Path:
    """The chapter 2 solution (or ``base``) with each code cell that contains a key of
    ``replace`` (e.g. ``"def shift_rule("``) replaced by its value, the cells ``insert``
    added right after the imports and the cells ``append`` at the end."""
    nb = nbformat.read(base, as_version=4)
    for cell in nb.cells:
        for key, source in replace.items():
            if cell.cell_type == "code" and key in cell.source:
                cell.source = source
    # the check cells give feedback only; without them the kernel has less to do
    nb.cells = [c for c in nb.cells if not c.source.startswith("check(")]
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    for offset, source in enumerate(insert, start=1):
        nb.cells.insert(first_code + offset, nbformat.v4.new_code_cell(source))
    nb.cells += [nbformat.v4.new_code_cell(source) for source in append]
    path = tmp / f"02_gradients_{name}.ipynb"
    nbformat.write(nb, path)
    return path


CORRECT_SHIFT_RULE = """
def shift_rule(cost, theta, k):
    plus, minus = np.array(theta, float), np.array(theta, float)
    plus[k] += np.pi / 2
    minus[k] -= np.pi / 2
    return (cost(plus) - cost(minus)) / 2
"""

VARIANTS = {
    # a raising cell, a definition in a cell that raises, a wrong signature, a missing function
    "faults": ({
        "def shift_rule(": CORRECT_SHIFT_RULE + "raise RuntimeError('oops')",
        "def central_difference(": "def central_difference(cost, theta):\n    return theta",
        "def shift_gradient(": "x = 1",
    }, ["1 / 0"]),
    # an infinite loop at the top level, and one inside a graded function
    "loops": ({
        "def central_difference(": "def central_difference(cost, theta, h):\n    while True:\n"
                                   "        pass",
        "def shift_gradient(": "def shift_gradient(cost, theta):\n    return 0\n\nwhile True:\n"
                               "    pass",
    }, []),
    # megabytes of printing, in the kernel and in the sandbox; a function that kills Python
    "noise": ({
        "def shift_rule(": CORRECT_SHIFT_RULE.replace("    return", "    print('y' * 1_000_000)\n"
                                                               "    return"),
        "def shift_gradient(": "import os\ndef shift_gradient(cost, theta):\n    os._exit(3)",
    }, ["print('x' * 5_000_000)\nfor i in range(100_000):\n    print(i)"]),
    # a cell that makes the kernel die: the cells after it do not run
    "dies": ({}, ["import os\nos._exit(1)"]),
    # monkeypatching and deleting parts of qnncourse, in the kernel and in the sandbox
    "tamper": ({
        "def shift_rule(": "def shift_rule(cost, theta, k):\n    return 0.0",
        "def central_difference(": (
            "import qnncourse.cost\n"
            "def central_difference(cost, theta, h):\n"
            "    qnncourse.cost.Cost.gradient = lambda self, t, *a, **k: np.zeros(len(t))\n"
            "    del qnncourse.cost.Cost.value_and_gradient\n"
            "    return np.zeros(len(theta))"),
        "def shift_gradient(": "def shift_gradient(cost, theta):\n    return cost.gradient(theta)",
    }, ["import sys\nimport qnncourse.cost, qnncourse.grading.task\n"
        "qnncourse.cost.Cost.gradient = lambda self, t, *a, **k: np.zeros(len(t))\n"
        "qnncourse.grading.task.evaluate = lambda *a, **k: None\n"
        "del qnncourse.cost.Cost.value_and_gradient\n"
        "sys.modules.pop('qnncourse.gradients')"]),
}


TOKEN = uuid.uuid4().hex  # names every file and process the attackers try to leave behind

# A daemon in its own session that, for 40 s, marks the host's /tmp, gives the attacker full
# marks in the gradebook and blanks the honest notebook graded after it.
DAEMON = """
import os, sys, time
token, book, victim = sys.argv[1:4]
if os.fork():
    os._exit(0)
os.setsid()
end = time.time() + 40
while time.time() < end:
    for path, text in ((f"/tmp/qnncourse-daemon-{token}", "alive"),
                       (book, "notebook,total\\nescape,10\\n"), (victim, "{}")):
        try:
            with open(path, "w") as f:
                f.write(text)
        except OSError:
            pass
    time.sleep(0.2)
"""

# Cells that attack the grader from the kernel: kill and stop the parent and everything in
# sight, write outside, start the daemon, and flood the error output (200 tracebacks of 1 MB).
ESCAPE_CELLS = [
    "import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)\nos.kill(os.getppid(), "
    "signal.SIGKILL)",
    "for pid in [int(p) for p in os.listdir('/proc') if p.isdigit()]:\n"
    "    if pid != os.getpid():\n"
    "        for sig in (signal.SIGSTOP, signal.SIGKILL):\n"
    "            try:\n                os.kill(pid, sig)\n"
    "            except OSError:\n                pass",
    "import pathlib, qnncourse\n"
    "for target in ['/tmp/qnncourse-escape-{token}',\n"
    "               str(pathlib.Path(qnncourse.__file__).parent / 'escape-{token}'),\n"
    "               {book!r}, {victim!r}]:\n"
    "    try:\n        open(target, 'w').write('owned')\n"
    "    except OSError:\n        pass",
    "import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', {daemon!r}, '{token}', "
    "{book!r}, {victim!r}], start_new_session=True)\nimport time; time.sleep(1)",
    "ip = get_ipython()\nfor i in range(200):\n    try:\n        raise ValueError('x' * 1_000_000)"
    "\n    except ValueError:\n        ip.showtraceback()",
]

# Graded functions that steal: the reference solution found through qnncourse.__file__, a
# classmate's notebook found through /proc (the grader's command line and working directory),
# and one that kills and stops its parent before answering honestly.
STEAL_FROM_SOLUTIONS = """
import ast, json, os, pathlib, signal
import qnncourse

def _steal(path, name):
    cells = json.loads(pathlib.Path(path).read_text())["cells"]
    for cell in cells:
        source = "".join(cell["source"])
        if f"def {name}(" in source:
            tree = ast.parse(source)
            found = {}
            exec(compile(ast.Module([n for n in tree.body if isinstance(n, ast.FunctionDef)],
                                    []), "stolen", "exec"), globals(), found)
            return found[name]

def central_difference(cost, theta, h):
    root = pathlib.Path(qnncourse.__file__).resolve().parents[1]
    try:
        return _steal(root / "exercises" / "solutions" / "02_gradients.ipynb",
                      "central_difference")(cost, theta, h)
    except OSError:
        return np.zeros(len(theta))
"""
STEAL_FROM_CLASSMATES = """
def shift_gradient(cost, theta):
    for pid in os.listdir("/proc"):
        try:
            words = open(f"/proc/{pid}/cmdline").read().split("\\0")
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        for word in words:
            if word.endswith(".ipynb") and "thief" not in word:
                try:
                    return _steal(os.path.join(cwd, word), "shift_gradient")(cost, theta)
                except Exception:
                    pass
    return np.zeros(len(theta))
"""
KILL_FROM_A_FUNCTION = """
def shared_shift_rule(cost, theta, k):
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        try:
            os.kill(os.getppid(), sig)
        except OSError:
            pass
    theta = np.asarray(theta, dtype=float)
    derivative = 0.0
    for x, c in ((np.pi / 4, 1 / (8 * np.sin(np.pi / 8) ** 2)),
                 (3 * np.pi / 4, -1 / (8 * np.sin(3 * np.pi / 8) ** 2))):
        step = np.zeros(len(theta))
        step[k] = x
        derivative += c * (cost(theta + step) - cost(theta - step))
    return derivative
"""


def _attackers(tmp: Path, gradebook: Path, victim: Path) -> list[Path]:
    """The escape notebook (student version with an honest shift_rule: 2 points earned) and
    the thief (honest shift_rule and shared_shift_rule: 5 points earned)."""
    cells = [c.format(token=TOKEN, book=str(gradebook), victim=str(victim), daemon=DAEMON)
             for c in ESCAPE_CELLS]
    # the flood comes last: past 64 MB of output the kernel is stopped, and the cells after
    # it would not run
    escape = _variant(tmp, "escape", {"def shift_rule(": CORRECT_SHIFT_RULE}, cells[:-1],
                      base=student_path(SOLUTION_02), append=(cells[-1],))
    thief = _variant(tmp, "thief", {"def central_difference(": STEAL_FROM_SOLUTIONS,
                                    "def shift_gradient(": STEAL_FROM_CLASSMATES,
                                    "def shared_shift_rule(": KILL_FROM_A_FUNCTION}, [])
    return [escape, thief]


def _run(*args: str, limit_kb: int | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "qnncourse.grade", *args]
    if limit_kb is not None:
        command = ["bash", "-c", f'ulimit -v {limit_kb} && exec "$@"', "-", *command]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)


def _survivors(token: str) -> list[str]:
    """Command lines of running processes that mention ``token``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            text = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if token in text and pid != str(os.getpid()):
            found.append(text)
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Rows by (notebook stem, task) from one grading run over every test notebook."""
    tmp = tmp_path_factory.mktemp("grading")
    gradebook = tmp / "grades.csv"
    victim = tmp / "02_gradients_victim.ipynb"
    victim.write_bytes(SOLUTION_02.read_bytes())
    paths = [SOLUTION_02, student_path(SOLUTION_02), *_attackers(tmp, gradebook, victim)]
    paths += [_variant(tmp, name, *spec) for name, spec in VARIANTS.items()]
    broken = tmp / "02_gradients_broken.ipynb"
    broken.write_text("this is not JSON, let alone a notebook")
    paths += [broken, victim]
    result = _run(*map(str, paths), "--json", "--timeout", str(TIMEOUT), "--seed", "7",
                  "--csv", str(gradebook), "--jobs", "2", limit_kb=5_000_000)
    time.sleep(3)  # time for a surviving daemon to do its damage
    report = json.loads(result.stdout)
    rows = [row for notebook in report["notebooks"] for row in notebook["tasks"]]
    by_key = {(Path(r["notebook"]).stem, r["task"]): r for r in rows}
    return result, rows, by_key, gradebook, report, victim


def _row(graded, stem, task):
    return graded[2][(stem, task)]


def test_exit_status_zero_and_no_traceback(graded):
    result, rows = graded[:2]
    assert result.returncode == 0
    assert "Traceback" not in result.stdout + result.stderr
    assert all(set(r) == {"notebook", "task", "score", "max_score", "message"} for r in rows)


def test_solution_scores_full_marks(graded):
    for task in EXERCISES["02_gradients"]:
        row = _row(graded, "02_gradients", task.id)
        if "solutions" in row["notebook"]:
            assert row["score"] == row["max_score"] == task.points, row


def test_student_version_scores_zero(graded):
    rows = [r for r in graded[1] if r["notebook"].endswith("exercises/02_gradients.ipynb")]
    assert len(rows) == len(EXERCISES["02_gradients"])
    assert all(r["score"] == 0 and r["message"] == "not implemented yet" for r in rows)


def test_raising_cells_missing_function_and_wrong_signature(graded):
    stem = "02_gradients_faults"
    rule = _row(graded, stem, "02.shift_rule")
    assert rule["score"] == 0
    assert re.fullmatch(r"shift_rule is defined in cell \d+, which raised RuntimeError: oops",
                        rule["message"])
    assert _row(graded, stem, "02.central_difference")["message"] == (
        "central_difference(cost, theta) cannot be called as central_difference(cost, theta, h)")
    assert _row(graded, stem, "02.shift_gradient")["message"] == (
        "shift_gradient is not defined in the notebook (the task calls shift_gradient(cost, "
        "theta))")
    # the cell `1 / 0` costs nothing else
    assert _row(graded, stem, "02.shared_shift_rule")["score"] == 3


def test_infinite_loops_cost_only_their_task(graded):
    stem = "02_gradients_loops"
    row = _row(graded, stem, "02.central_difference")  # loops in the sandbox
    assert row["score"] == 0
    assert row["message"].endswith(f"did not return within {TIMEOUT} s")
    row = _row(graded, stem, "02.shift_gradient")  # its cell loops in the kernel
    # seconds of CPU time where the grader has cgroups, of wall time otherwise
    assert re.fullmatch(rf"shift_gradient is defined in cell \d+, which did not finish within "
                        rf"{TIMEOUT} s( of CPU time)?", row["message"])
    for task in ("02.shift_rule", "02.shared_shift_rule"):  # graded after a restart
        assert _row(graded, stem, task)["score"] == TASKS[task].points


def test_printing_megabytes_and_exiting_python(graded):
    stem = "02_gradients_noise"
    assert _row(graded, stem, "02.shift_rule")["score"] == 2
    crash = _row(graded, stem, "02.shift_gradient")
    assert crash["score"] == 0
    assert "exited (status 3)" in crash["message"]
    assert _row(graded, stem, "02.shared_shift_rule")["score"] == 3  # graded after a restart


def test_a_dead_kernel_runs_no_more_cells(graded):
    for task in EXERCISES["02_gradients"]:
        row = _row(graded, "02_gradients_dies", task.id)
        assert row["score"] == 0
        assert re.fullmatch(rf"{task.function} is defined in cell \d+, which did not run: the "
                            r"kernel died in cell 3", row["message"]), row


def test_monkeypatching_and_deleting_qnncourse_changes_nothing(graded):
    stem = "02_gradients_tamper"
    # the kernel's patched Cost.gradient would make 0.0 look right; the grader uses its own
    assert _row(graded, stem, "02.shift_rule")["score"] == 0
    assert _row(graded, stem, "02.central_difference")["score"] == 0
    assert _row(graded, stem, "02.shift_gradient")["message"] == (
        "shift_gradient uses gradient from the library; the task is to write it yourself")
    assert _row(graded, stem, "02.shared_shift_rule")["score"] == 3


def test_file_that_is_not_a_notebook(graded):
    rows = [r for r in graded[1] if r["notebook"].endswith("broken.ipynb")]
    assert len(rows) == len(EXERCISES["02_gradients"])
    assert all(r["score"] == 0 and r["message"].startswith("not a Jupyter notebook")
               for r in rows)


def test_gradebook_has_a_line_per_notebook(graded):
    with open(graded[3], newline="") as f:
        book = list(csv.DictReader(f))
    assert len(book) == 11
    assert [b["notebook"] for b in book] == sorted(b["notebook"] for b in book)
    assert list(book[0])[2:-3] == [t.id for t in EXERCISES["02_gradients"]]
    solution = next(b for b in book if "solutions" in b["notebook"])
    assert float(solution["total"]) == float(solution["max"]) == 10


def test_json_carries_the_seed_and_a_total_per_notebook(graded):
    report = graded[4]
    assert report["seed"] == 7 and report["isolated"] and report["complete"]
    for notebook in report["notebooks"]:
        assert notebook["score"] == round(sum(t["score"] for t in notebook["tasks"]), 2)
        assert notebook["max_score"] == 10


# -- attacks on the grader: each notebook runs in its own bubblewrap sandbox ---------------

def _total(graded, stem):
    notebook = next(n for n in graded[4]["notebooks"] if Path(n["notebook"]).stem == stem)
    return pytest.approx(notebook["score"]), [t["message"] for t in notebook["tasks"]]


def test_attackers_get_only_what_they_earned(graded):
    # escape: kills and stops its parent and every process it sees, writes outside, leaves a
    # daemon, floods the error output -- and earns the 2 points of its honest shift_rule
    assert _total(graded, "02_gradients_escape")[0] == 2, _total(graded, "02_gradients_escape")
    assert _row(graded, "02_gradients_escape", "02.shift_rule")["score"] == 2
    assert _row(graded, "02_gradients_escape", "02.central_difference")["message"] == (
        "not implemented yet")  # its cells ran: only the last one flooded
    # thief: the solutions through qnncourse.__file__ and classmates through /proc are out of
    # sight; killing the parent from a graded function does nothing, so its honest answer counts
    for task in ("02.central_difference", "02.shift_gradient"):
        row = _row(graded, "02_gradients_thief", task)
        assert row["score"] == 0 and row["message"].startswith("0/4 random inputs right"), row
    assert _row(graded, "02_gradients_thief", "02.shared_shift_rule")["score"] == 3
    assert _total(graded, "02_gradients_thief")[0] == 5, _total(graded, "02_gradients_thief")


def test_honest_notebooks_keep_full_marks_under_attack(graded):
    result = graded[0]
    assert result.returncode == 0, result.stderr[-2000:]
    assert graded[4]["complete"]
    for stem in ("02_gradients", "02_gradients_victim"):  # the solution, and the daemon's target
        assert _total(graded, stem)[0] == 10, _total(graded, stem)
    assert graded[5].read_bytes() == SOLUTION_02.read_bytes()  # not blanked


def test_nothing_written_outside_and_nothing_survives(graded):
    assert not Path(f"/tmp/qnncourse-escape-{TOKEN}").exists()
    assert not Path(f"/tmp/qnncourse-daemon-{TOKEN}").exists()
    assert not (Path(qnncourse.__file__).parent / f"escape-{TOKEN}").exists()
    assert _survivors(TOKEN) == []
    with open(graded[3], newline="") as f:  # the gradebook, 3 s after the grader ended
        book = {Path(b["notebook"]).stem: b for b in csv.DictReader(f)}
    assert float(book["02_gradients_escape"]["total"]) == 2
    assert float(book["02_gradients_victim"]["total"]) == 10


# -- source of truth and student versions ---------------------------------------------------

@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_student_version_is_up_to_date(solution):
    assert student_path(solution).read_text(encoding="utf-8") == student_text(solution), (
        "run: python -m qnncourse.grading.student exercises/solutions/*.ipynb")


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_names_its_exercise_and_checks_every_task(solution):
    nb = nbformat.read(solution, as_version=4)
    name = nb.metadata["qnncourse"]["exercise"]
    assert name == solution.stem
    # the title carries the chapter's number, as the file name does (the sidebar lists them)
    title = nb.cells[0].source.splitlines()[0]
    number = int(solution.stem.split("_")[0])
    assert title.startswith(f"# Exercises {number}: "), f"{solution.name}: title {title!r}"
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for task in EXERCISES[name]:
        assert f'check("{task.id}", {task.function})' in code


def test_student_version_replaces_solution_regions():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("def f(x):\n    ### BEGIN SOLUTION\n    return x\n"
                                  "    ### END SOLUTION\n\ncheck('t', f)"),
        nbformat.v4.new_markdown_cell("Why?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION"),
    ])
    student = student_version(nb)
    assert student.cells[0].source == (
        "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\ncheck('t', f)")
    assert student.cells[1].source == "Why?\nYOUR ANSWER HERE"


def test_student_version_rejects_an_unclosed_region():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx")])
    with pytest.raises(ValueError, match=r"cell 1: ### BEGIN SOLUTION is never closed"):
        student_version(nb)


# -- pieces ----------------------------------------------------------------------------------

def test_only_what_the_functions_need_is_replayed():
    source = ("%matplotlib inline\nimport numpy as np\nN = 3\nM = np.eye(N)\n"
              "result = train_for_an_hour()\nM[0, 0] = 2\nnp.pi = 3\n"
              "def f(x, result):\n    y = result\n    return M @ x + y\nf(1, 2)\n"
              "print(result)\n")
    statements, error = cell_statements(source, 4)
    assert error is None
    assert [s.names for s in statements] == [("np",), ("N",), ("M",), ("result",), ("M",),
                                             ("np",), ("f",)]
    replay = needed(statements, ["f"])  # `result` is f's parameter, not the global
    assert [ast.unparse(s.node) for s in replay] == [
        "import numpy as np", "N = 3", "M = np.eye(N)", "M[0, 0] = 2", "np.pi = 3",
        "def f(x, result):\n    y = result\n    return M @ x + y"]
    assert cell_statements("def f(:\n", 2)[1] == "cell 2 has a syntax error (line 1): " \
                                                 "invalid syntax"


def test_forbidden_uses_follow_helpers_and_imports():
    source = ("from qnncourse.gradients import parameter_shift as ps\n"
              "def helper(c, t):\n    return ps(c, t)\n"
              "def mine(c, t):\n    gradient = helper(c, t)\n    return gradient\n"
              "def honest(c, t):\n    gradient = c(t)\n    return gradient\n")
    statements, _ = cell_statements(source, 1)
    assert forbidden_uses(statements, "mine", ("parameter_shift", "gradient")) == [
        "parameter_shift"]
    assert forbidden_uses(statements, "honest", ("parameter_shift", "gradient")) == []


def test_values_cross_as_data_only():
    assert decode(encode([1, (2.5, "a"), {"z": 1j}])) == [1, [2.5, "a"], {"z": 1j}]
    array = np.array([[1 + 2j, np.inf], [0, -1]])
    back = decode(encode(array))
    assert back.shape == (2, 2)
    np.testing.assert_array_equal(back, array)
    assert np.isnan(decode(encode(float("nan"))))
    with pytest.raises(NotData, match="a object"):
        encode(object())


def test_check_reports_what_is_wrong_with_a_hint(capsys):
    check("02.shift_rule", lambda cost, theta, k: 0.0)
    out = capsys.readouterr().out
    assert out.startswith("✗ 02.shift_rule: 0/4 random inputs right; ")
    assert "returned 0, expected" in out
    assert "Hint: evaluate the cost at two copies of theta" in out


@pytest.mark.parametrize("func, expected", [
    (lambda cost, theta: 0.0,
     "✗ 02.shift_rule: <lambda>(cost, theta) cannot be called as shift_rule(cost, theta, k), "
     "as the exercise does.\n"),
    (42, "✗ 02.shift_rule: expected your function shift_rule, got a int.\n"),
], ids=["signature", "not-callable"])
def test_check_explains_unusable_functions(capsys, func, expected):
    check("02.shift_rule", func)
    assert capsys.readouterr().out == expected


def test_check_of_a_placeholder_and_of_an_unknown_task(capsys):
    def shift_rule(cost, theta, k):
        raise NotImplementedError()

    check("02.shift_rule", shift_rule)
    check("02.nope", shift_rule)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "… 02.shift_rule: shift_rule is not implemented yet."
    assert out[1].startswith("There is no task '02.nope'; the tasks are: ")


def _replayed(path: Path, exercise: str) -> dict:
    """The notebook's definitions that its exercise's functions need, replayed here (as the
    sandbox replays them)."""
    nb = nbformat.read(path, as_version=4)
    statements = []
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type == "code":
            statements += cell_statements(cell.source, number)[0]
    namespace: dict = {}
    functions = [t.function for t in EXERCISES[exercise]]
    for statement in needed(statements, functions):
        exec(compile(ast.Module([statement.node], []), path.name, "exec"), namespace)
    return namespace


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_solutions_right_and_student_versions_empty_for_any_seed(solution):
    """Every solution passes, and every student version is "not implemented yet", on fresh
    inputs seed after seed (the grading run above uses one seed; this also catches an input
    generator that is only sometimes right). In this process, without kernels, for speed."""
    solved = _replayed(solution, solution.stem)
    empty = _replayed(student_path(solution), solution.stem)
    for task in EXERCISES[solution.stem]:
        for seed in range(2):
            cases = task.cases(task_rng(task.id, seed))
            verdict = evaluate(task, cases, [run_case(task, solved[task.function], c)
                                             for c in cases])
            assert verdict.complete, (task.id, seed, verdict.message)
        verdict = evaluate(task, cases, [run_case(task, empty[task.function], c)
                                         for c in cases])
        assert verdict.not_implemented and verdict.score == 0, (task.id, verdict.message)


def test_check_stops_an_endless_loop(capsys, monkeypatch):
    monkeypatch.setattr(feedback, "_FEEDBACK_SECONDS", 0.5)

    def shift_rule(cost, theta, k):
        while True:
            pass

    check("02.shift_rule", shift_rule)
    assert capsys.readouterr().out == (
        "✗ 02.shift_rule: shift_rule did not finish within 0.5 s (an endless loop?).\n")
