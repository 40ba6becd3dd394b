"""Exercises that check themselves, and a grader instructors can trust.

Two ways in:

* the learner, in an exercise notebook: ``check("02.shift_rule", shift_rule)`` prints what is
  right or wrong and a hint (:func:`check`) -- feedback, never the grade;
* the instructor: ``python -m qnncourse.grade NOTEBOOK... [--json] [--csv FILE] [--timeout S]
  [--jobs N] [--scheduler ADDRESS]`` (:mod:`qnncourse.grade`), which decides the grade.

Threat model
------------
The learner controls the notebook, so anything that runs in the learner's kernel -- including
:func:`check` -- can be patched (``qnncourse.grading.check = lambda *a: print("✓")``), and a
check that runs there cannot be trusted (nbgrader and otter-grader have been beaten this way).
The grader therefore never takes a verdict, a value or an object from the learner's process:

0. every process that runs the learner's code runs in a bubblewrap sandbox of its own notebook
   (:mod:`qnncourse.grading.isolation`): as root, a fresh unprivileged uid per sandbox in a
   user namespace of its own (no capabilities, ``no_new_privs``, fresh keyrings); its own PID,
   IPC, network and UTS namespaces; a read-only view of Python and the ``qnncourse`` package
   only (not the solutions, the other submissions or the grader's files), ``/proc/sys``
   read-only, size-capped ``tmpfs`` as the only writable space; hard resource limits and,
   where there are cgroups, a cgroup with memory, process and CPU-share limits; everything it
   started ends with it. So the notebook can neither reach the grader (kill, stop, read its
   memory or files, rewrite its gradebook) nor another notebook, nor the machine's settings;
   the grader reads submissions once, as regular files only, and bounds what it accepts from a
   notebook (messages, values, the time its own analysis of the code takes);
1. the notebook runs top to bottom in its own kernel process, with a per-cell time limit, a
   whole-notebook budget and caps on each message and on kept output; this only decides which
   cells ran to completion (a definition counts when its cell did, as after "Restart & Run
   All");
2. the *source* of those cells is parsed; of its top-level definitions (imports, ``def``,
   ``class``, assignments) the imports and whatever the graded functions refer to are kept,
   and other top-level code is not replayed (:mod:`qnncourse.grading.source`);
3. the definitions are replayed in a fresh sandbox process, which calls each task's function
   on inputs the grader drew from a seed chosen per grading run, and reports the returned
   values as JSON (data only: the grader never unpickles anything the learner's code made)
   (:mod:`qnncourse.grading.sandbox`); each task has a time limit, the sandbox is killed and
   restarted when one overruns, and its memory and output are capped;
4. the grader computes each reference with its own library, imported before any notebook ran,
   and compares (:func:`qnncourse.grading.task.evaluate`). Partial credit is the fraction of
   random inputs answered correctly.

What this does not defend against, on purpose or by necessity: code that calls the library's
own implementation of what a task asks for (a name guard, :attr:`Task.forbidden`, catches the
obvious forms only); learners who share code; a notebook slowing the others down within its
limits where there are no cgroups; bugs in the Linux kernel or in bubblewrap. Without
bubblewrap the grader refuses to run unless given ``--no-isolation``, and then none of step 0
holds (the reports say so).
"""

from .feedback import check
from .task import Case, Task
from .tasks import EXERCISES, TASKS

__all__ = ["EXERCISES", "TASKS", "Case", "Task", "check"]
