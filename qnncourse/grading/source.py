"""Read the learner's definitions out of a notebook's code, without running it.

The grader never trusts the state of the learner's kernel. It takes the *source* of the code
cells that ran to completion and keeps the top-level statements that define things -- imports,
``def``, ``class`` and assignments. Of those it replays, in a fresh sandbox process, the
imports and whatever the graded functions need: the functions, classes and variables they
refer to, and what those refer to in turn. Everything else at the top level (training loops,
plots, ``check`` calls, results nobody's function uses) is not replayed, so a graded function
may use its arguments, imports and the top-level names it refers to, and nothing else.

The grader's own reading is bounded: each statement's names are worked out once (a statement
binding thousands of names is not re-read for each of them), and a :class:`Budget` passed in
ends the analysis with :class:`AnalysisLimit` when its time is up.
"""

from __future__ import annotations

import ast
import symtable
import time
from dataclasses import dataclass

__all__ = ["AnalysisLimit", "Budget", "Statement", "cell_statements", "definitions",
           "forbidden_uses", "needed"]


class AnalysisLimit(Exception):
    """The grader's analysis of a notebook ran out of its time."""


@dataclass(frozen=True)
class Budget:
    """The analysis must be done by ``deadline`` (``time.monotonic()``); ``seconds`` is the
    length of the budget, for the message."""

    deadline: float
    seconds: float

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise AnalysisLimit(f"the grader could not analyse the notebook's code within "
                                f"{self.seconds:g} s")


def _check(budget: Budget | None) -> None:
    if budget is not None:
        budget.check()

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class Statement:
    """One top-level statement: its ``cell`` (1-based), the ``names`` it binds or changes
    (``PAULI["H"] = ...`` changes ``PAULI``), and its AST ``node``."""

    cell: int
    names: tuple[str, ...]
    node: ast.stmt

    @property
    def binds(self) -> bool:
        """Whether it (re)defines its names, rather than changing an existing object."""
        if isinstance(self.node, ast.Assign | ast.AnnAssign):
            targets = self.node.targets if isinstance(self.node, ast.Assign) \
                else [self.node.target]
            return all(isinstance(e, ast.Name) for t in targets for e in _elements(t))
        return not isinstance(self.node, ast.AugAssign)


def _python_source(cell_source: str) -> str:
    # IPython syntax (%magic, !shell) becomes ordinary calls, which are then dropped as
    # top-level computations; without IPython, such lines are simply removed. Plain Python
    # (most cells) is kept as it is: IPython's tokenizing transform is slow on a huge cell.
    try:
        ast.parse(cell_source)
        return cell_source
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return "\n".join(
            line for line in cell_source.splitlines() if not line.lstrip().startswith(("%", "!"))
        )
    return TransformerManager().transform_cell(cell_source)


def _elements(target: ast.expr) -> list[ast.expr]:
    return list(target.elts) if isinstance(target, ast.Tuple | ast.List) else [target]


def _root(target: ast.expr) -> str | None:
    """``x`` for ``x``, ``x.a``, ``x[0].b``; ``None`` for anything else."""
    while isinstance(target, ast.Attribute | ast.Subscript | ast.Starred):
        target = target.value
    return target.id if isinstance(target, ast.Name) else None


def _names(node: ast.stmt) -> tuple[str, ...] | None:
    """The names a definition binds or changes; ``None`` for statements that are not one."""
    if isinstance(node, _DEFS):
        return (node.name,)
    if isinstance(node, ast.Import | ast.ImportFrom):
        return tuple((a.asname or a.name).split(".")[0] for a in node.names)
    if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign) and node.value is not None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        roots = [_root(e) for t in targets for e in _elements(t)]
        return None if None in roots else tuple(dict.fromkeys(roots))
    return None


def cell_statements(cell_source: str, cell: int, budget: Budget | None = None
                    ) -> tuple[list[Statement], str | None]:
    """The definitions in one cell, and a syntax-error message if it does not parse."""
    _check(budget)
    try:
        tree = ast.parse(_python_source(cell_source))
    except (SyntaxError, ValueError) as exc:  # ValueError: a NUL byte in the source
        return [], f"cell {cell} has a syntax error (line {getattr(exc, 'lineno', '?')}): " \
                   f"{getattr(exc, 'msg', exc)}"
    except (RecursionError, MemoryError):
        return [], f"cell {cell} is nested too deeply to be read"
    kept = []
    for node in tree.body:
        _check(budget)
        names = _names(node)
        if names is not None:
            kept.append(Statement(cell, names, node))
    return kept, None


def definitions(statements: list[Statement]) -> dict[str, Statement]:
    """Where each name is (last) bound, as when the cells run top to bottom."""
    found: dict[str, Statement] = {}
    for statement in statements:
        if statement.binds:
            for name in statement.names:
                found[name] = statement
    return found


def _mentions(node: ast.stmt, budget: Budget | None = None) -> set[str]:
    """The module-level names ``node`` reads: inside a function, only its globals (not its
    parameters and local variables, which may share a name with an expensive top-level
    result)."""
    names: set[str] = set()
    try:
        tables = [symtable.symtable(ast.unparse(node), "<statement>", "exec")]
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        # not compilable on its own (`return` outside a function...): every name in it
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    while tables:
        _check(budget)
        table = tables.pop()
        module = table.get_type() == "module"
        names.update(s.get_name() for s in table.get_symbols()
                     if s.is_referenced() and (module or s.is_global()))
        tables += table.get_children()
    return names


def needed(statements: list[Statement], roots: list[str], budget: Budget | None = None
           ) -> list[Statement]:
    """The statements to replay for the functions ``roots``: every import, and every statement
    that binds or changes a name the roots need, directly or through other such statements.
    Each statement is read once, however many names it binds."""
    by_name: dict[str, list[int]] = {}
    for index, statement in enumerate(statements):
        for name in statement.names:
            by_name.setdefault(name, []).append(index)
    wanted: set[str] = set()
    read: set[int] = set()
    todo = list(roots)
    while todo:
        _check(budget)
        name = todo.pop()
        if name in wanted:
            continue
        wanted.add(name)
        for index in by_name.get(name, []):
            if index not in read:
                read.add(index)
                todo += _mentions(statements[index].node, budget) - wanted
    return [s for s in statements
            if isinstance(s.node, ast.Import | ast.ImportFrom) or wanted & set(s.names)]


def forbidden_uses(statements: list[Statement], function: str, forbidden: tuple[str, ...],
                   budget: Budget | None = None) -> list[str]:
    """The forbidden names that ``function`` -- or a notebook function it calls -- uses.

    This is a guard against the obvious shortcut (calling the library's own implementation of
    what the task asks for), not a proof: code can always reach a name indirectly.
    """
    if not forbidden:
        return []
    defined = definitions(statements)
    seen: set[str] = set()
    todo = [function]
    hits: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in defined:
            continue
        seen.add(name)
        for node in ast.walk(defined[name].node):
            _check(budget)
            if isinstance(node, ast.Attribute):  # `cost.gradient`, `qc.gradients.shift`
                if node.attr in forbidden:
                    hits.add(node.attr)
                continue
            if not isinstance(node, ast.Name):
                continue
            word = node.id  # a local variable may share a forbidden name: only imports count
            if word in defined:
                target = defined[word].node
                if isinstance(target, ast.Import | ast.ImportFrom):
                    # `from qnncourse.gradients import parameter_shift [as ps]`
                    hits.update(a.name.split(".")[-1] for a in target.names
                                if a.name.split(".")[-1] in forbidden)
                elif isinstance(target, _DEFS):
                    todo.append(word)
    return sorted(hits)
