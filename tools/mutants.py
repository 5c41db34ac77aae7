"""Mutation testing of the teaching core: do the tests fail when the code is broken?

:func:`mutants` breaks a module's source in one small way at a time (an operator, a comparison,
a constant, a default, a boolean operator, a removed statement or raise). The runner applies
each mutant to a copy of the repository, runs that module's tests there (``-x``, in a forked
child with a timeout), and counts the mutant *killed* if they fail. A mutant the tests let
live is put to an oracle that knows nothing of the tests: it calls the module's public API,
original and mutant side by side, on the same random and edge-case inputs, and compares
everything that comes back (values, state, raised errors). If nothing differs, the mutant is
*equivalent* (probably: an oracle can miss a difference) and leaves the score::

    score = killed / (mutants - equivalent)

Usage (``make mutate-core`` runs the whole teaching core)::

    python tools/mutants.py                              # every module of the core
    python tools/mutants.py lr_course/optimizers.py      # one module
    python tools/mutants.py --sample 20 --seed 1         # 20 mutants per module, drawn
    python tools/mutants.py --list lr_course/search.py   # print the mutants, run nothing
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]

#: The teaching core: each module and the tests that are its own.
CORE = {
    "lr_course/_checks.py": ["tests/test_checks.py"],
    "lr_course/optimizers.py": ["tests/test_optimizers.py"],
    "lr_course/_updates.py": ["tests/test_optimizers.py"],
    "lr_course/schedules/_base.py": ["tests/test_schedules.py"],
    "lr_course/schedules/decay.py": ["tests/test_schedules.py"],
    "lr_course/schedules/warmup.py": ["tests/test_schedules.py"],
    "lr_course/schedules/cyclical.py": ["tests/test_schedules.py"],
    "lr_course/schedules/plateau.py": ["tests/test_schedules.py"],
    "lr_course/training.py": ["tests/test_training.py"],
    "lr_course/analysis/_common.py": ["tests/test_analysis.py"],
    "lr_course/analysis/curvature.py": ["tests/test_analysis.py"],
    "lr_course/analysis/stability.py": ["tests/test_analysis.py"],
    "lr_course/analysis/speed.py": ["tests/test_analysis.py"],
    "lr_course/analysis/noise.py": ["tests/test_analysis.py"],
    "lr_course/finder.py": ["tests/test_finder.py"],
    "lr_course/search.py": ["tests/test_search.py"],
    "lr_course/problems.py": ["tests/test_problems.py"],
    "lr_course/surfaces.py": ["tests/test_problems.py"],
    "lr_course/_points.py": ["tests/test_problems.py"],
    "lr_course/digits.py": ["tests/test_models.py"],
    "lr_course/models.py": ["tests/test_models.py"],
}

# --------------------------------------------------------------------------- the mutations

_BINOP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
          ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult}
_CMPOP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
          ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn,
          ast.NotIn: ast.In}
_BOOLOP = {ast.And: ast.Or, ast.Or: ast.And}
_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
           ast.Mod: "%", ast.Pow: "**", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
           ast.Eq: "==", ast.NotEq: "!=", ast.Is: "is", ast.IsNot: "is not", ast.In: "in",
           ast.NotIn: "not in", ast.And: "and", ast.Or: "or"}
# Statements whose removal is a mutant. A removed assignment, return or def is left out: it
# almost always leaves a name undefined, which any test at all reports.
_REMOVABLE = (ast.Raise, ast.AugAssign, ast.Expr, ast.If)


def _skipped(tree: ast.Module) -> set:
    """Nodes never mutated: docstrings, ``__all__``, annotations, f-strings, and what is in them."""
    skip = set()

    def whole(node):
        skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            whole(body[0])
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__"
                                                for t in node.targets):
            whole(node)
        if isinstance(node, ast.JoinedStr):
            whole(node)
        if isinstance(node, (ast.arg, ast.AnnAssign)) and node.annotation is not None:
            whole(node.annotation)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
            whole(node.returns)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Compare) \
                and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__":
            whole(node)
    return skip


def _defaults(tree: ast.Module) -> set:
    """The ids of constants that are the default of a parameter (described as such)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for default in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
                found.update(id(n) for n in ast.walk(default))
    return found


def _new_constant(value):
    """The mutated value of a numeric or boolean constant, or None to leave it alone."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return 1.0 if value == 0 else value * 2 if abs(value) < 1e-3 else value + 1
    return None


def _sites(tree: ast.Module) -> list:
    """Every (index in ast.walk order, kind, description) that can be mutated, in source order."""
    skip, defaults = _skipped(tree), _defaults(tree)
    sites = []
    for index, node in enumerate(ast.walk(tree)):
        if id(node) in skip:
            continue
        line = getattr(node, "lineno", 0)
        if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _BINOP:
            new = _BINOP[type(node.op)]
            sites.append((line, index, "op", f"{_SYMBOL[type(node.op)]} -> {_SYMBOL[new]}"))
        elif isinstance(node, ast.Compare):
            for k, op in enumerate(node.ops):
                if type(op) in _CMPOP:
                    sites.append((line, index, ("cmp", k),
                                  f"{_SYMBOL[type(op)]} -> {_SYMBOL[_CMPOP[type(op)]]}"))
        elif isinstance(node, ast.BoolOp):
            new = _BOOLOP[type(node.op)]
            sites.append((line, index, "bool", f"{_SYMBOL[type(node.op)]} -> {_SYMBOL[new]}"))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
            sites.append((line, index, "unary", f"drop {'not' if isinstance(node.op, ast.Not) else '-'}"))
        elif isinstance(node, ast.Constant) and _new_constant(node.value) is not None:
            what = "default" if id(node) in defaults else "constant"
            sites.append((line, index, "const", f"{what} {node.value!r} -> {_new_constant(node.value)!r}"))
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(node, field, None)
            if not isinstance(stmts, list) or isinstance(node, ast.Module):
                continue
            for k, stmt in enumerate(stmts):
                if isinstance(stmt, _REMOVABLE) and id(stmt) not in skip:
                    kind = "raise" if isinstance(stmt, ast.Raise) else type(stmt).__name__.lower()
                    sites.append((stmt.lineno, index, ("remove", field, k), f"remove {kind}"))
    sites.sort(key=lambda s: (s[0], s[1], str(s[2])))
    return sites


def _apply(tree: ast.Module, index: int, kind) -> ast.Module:
    """A deep copy of ``tree`` with the mutation ``kind`` made at node number ``index``."""
    tree = copy.deepcopy(tree)
    node = next(n for i, n in enumerate(ast.walk(tree)) if i == index)
    if kind == "op":
        node.op = _BINOP[type(node.op)]()
    elif kind == "bool":
        node.op = _BOOLOP[type(node.op)]()
    elif kind == "const":
        node.value = _new_constant(node.value)
    elif kind == "unary":
        replacement = node.operand
        for parent in ast.walk(tree):  # put the operand where the UnaryOp was
            for field, value in ast.iter_fields(parent):
                if value is node:
                    setattr(parent, field, replacement)
                elif isinstance(value, list):
                    value[:] = [replacement if v is node else v for v in value]
    elif kind[0] == "cmp":
        node.ops[kind[1]] = _CMPOP[type(node.ops[kind[1]])]()
    elif kind[0] == "remove":
        stmts = getattr(node, kind[1])
        stmts[kind[2]] = ast.Pass()
    return ast.fix_missing_locations(tree)


def mutants(source: str) -> Iterator[tuple[str, str]]:
    """Every single-point mutant of a module's source, as ``(description, mutated_source)``.

    Operators (``+ <-> -``, ``* <-> /``, ``** -> *``, ...), comparisons (``< <-> <=``,
    ``== <-> !=``, ``in <-> not in``, ...), numeric and boolean constants and defaults
    (``n -> n + 1``, ``True <-> False``), ``and <-> or``, a dropped ``not`` or unary minus,
    and removed statements (assignments, calls, ``if`` blocks, raises). Docstrings, f-strings,
    annotations and ``__all__`` are left alone. The description starts with the line number.

    >>> [d for d, _ in mutants("def f(x, k=2):\\n    if x > 0:\\n        raise ValueError\\n    return x * k\\n")]
    ['L1: default 2 -> 3', 'L2: > -> >=', 'L2: constant 0 -> 1', 'L2: remove if', 'L3: remove raise', 'L4: * -> /']
    """
    yield from sampled_mutants(source, None)


def sampled_mutants(source: str, sample: int | None, seed: str = "0") -> Iterator[tuple[str, str]]:
    """:func:`mutants`, or ``sample`` of them drawn with ``random.Random(seed)``, in source order."""
    tree = ast.parse(source)
    sites = _sites(tree)
    if sample is not None and sample < len(sites):
        sites = sorted(random.Random(seed).sample(sites, sample), key=sites.index)
    for line, index, kind, description in sites:
        yield f"L{line}: {description}", ast.unparse(_apply(tree, index, kind))


# --------------------------------------------------------------------------- running the tests


def make_copy() -> Path:
    """A scratch copy of the repository (package, tests, config) that mutants may overwrite."""
    where = Path(tempfile.mkdtemp(prefix="lr-mutants-"))
    for name in ("lr_course", "tests", "tools"):
        shutil.copytree(ROOT / name, where / name,
                        ignore=shutil.ignore_patterns("__pycache__", ".hypothesis", "browser"))
    shutil.copy2(ROOT / "pyproject.toml", where / "pyproject.toml")
    return where


def _preload():
    """Import once, in the parent, what every child would import anyway (forks share it)."""
    import hypothesis  # noqa: F401
    import numpy  # noqa: F401
    import pytest  # noqa: F401


class Slot:
    """One worker: its own copy of the repository and, while it runs, a child process."""

    def __init__(self):
        self.root = make_copy()
        self.pid = None
        self.job = None
        self.deadline = 0.0

    def start(self, job, timeout: float) -> None:
        """Write the mutant into this copy and fork a child that runs its module's tests."""
        module, description, source, tests = job
        (self.root / module).write_text(source)
        self.job, self.deadline = job, time.monotonic() + timeout
        self.pid = os.fork()
        if self.pid == 0:  # the child: quiet, in the copy, with the copy's lr_course first
            try:
                os.chdir(self.root)
                sys.path.insert(0, str(self.root))
                # a parent that imported lr_course (a test run) must not lend its modules
                for name in [m for m in sys.modules if m.split(".")[0] in ("lr_course", "tests")]:
                    del sys.modules[name]
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
                import pytest

                code = pytest.main(["-x", "-q", "-p", "no:cacheprovider", "--no-header",
                                    "-o", "addopts=--import-mode=importlib", *tests])
                os._exit(0 if code == 0 else 1)
            except BaseException:
                os._exit(1)

    def poll(self):
        """None while the child runs; else (job, "passed" | "failed" | "timeout")."""
        done, status = os.waitpid(self.pid, os.WNOHANG)
        if done:
            outcome = "passed" if os.waitstatus_to_exitcode(status) == 0 else "failed"
        elif time.monotonic() > self.deadline:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            outcome = "timeout"
        else:
            return None
        module = self.job[0]
        shutil.copy2(ROOT / module, self.root / module)  # the original back
        job, self.job, self.pid = self.job, None, None
        return job, outcome


def run_all(jobs: list, workers: int, timeout: float, report) -> None:
    """Run every job on ``workers`` slots; ``report(job, outcome)`` as each one finishes."""
    _preload()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so that the copies are removed
    slots = [Slot() for _ in range(workers)]
    pending = list(jobs)
    try:
        while pending or any(slot.job for slot in slots):
            for slot in slots:
                if slot.job is not None:
                    finished = slot.poll()
                    if finished:
                        report(*finished)
                if slot.job is None and pending:
                    slot.start(pending.pop(0), timeout)
            time.sleep(0.02)
    finally:
        for slot in slots:
            if slot.pid:
                os.kill(slot.pid, signal.SIGKILL)
                os.waitpid(slot.pid, 0)
            shutil.rmtree(slot.root, ignore_errors=True)


# --------------------------------------------------------------------------- the command


def jobs_for(modules: list, sample: int | None, seed: int) -> list:
    """(module, description, mutated source, tests) for each mutant, or a seeded sample of each module's."""
    jobs = []
    for module in modules:
        found = sampled_mutants((ROOT / module).read_text(), sample, f"{seed}:{module}")
        jobs += [(module, description, source, CORE[module]) for description, source in found]
    return jobs


def score(results: list) -> dict:
    """Per module and in all: mutants, killed, equivalent, survivors, and killed / non-equivalent."""
    table = {}
    for module, description, outcome in results:
        row = table.setdefault(module, {"mutants": 0, "killed": 0, "equivalent": 0, "survived": []})
        row["mutants"] += 1
        if outcome in ("failed", "timeout"):
            row["killed"] += 1
        elif outcome == "equivalent":
            row["equivalent"] += 1
        else:
            row["survived"].append(description)
    total = {"mutants": 0, "killed": 0, "equivalent": 0, "survived": []}
    for row in table.values():
        for key in ("mutants", "killed", "equivalent"):
            total[key] += row[key]
        total["survived"] += row["survived"]
    for row in list(table.values()) + [total]:
        live = row["mutants"] - row["equivalent"]
        row["score"] = row["killed"] / live if live else 1.0
    table["all"] = total
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", help="modules of the core (default: all of them)")
    parser.add_argument("--sample", type=int, help="test only this many mutants per module, drawn")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample (0)")
    parser.add_argument("--workers", type=int, default=1, help="mutants tested at once (1)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant (300)")
    parser.add_argument("--list", action="store_true", help="print the mutants and stop")
    parser.add_argument("--show-survivors", action="store_true", help="print every survivor")
    args = parser.parse_args(argv)
    modules = args.modules or list(CORE)
    unknown = [m for m in modules if m not in CORE]
    if unknown:
        parser.error(f"not in the teaching core: {unknown}; choose from {list(CORE)}")
    jobs = jobs_for(modules, args.sample, args.seed)
    if args.list:
        for module, description, _, _ in jobs:
            print(f"{module}:{description}")
        return 0
    from oracle import equivalent  # tools/oracle.py: independent of the tests

    results = []
    started = time.monotonic()

    def report(job, outcome):
        module, description, source, _ = job
        if outcome == "passed" and equivalent(module, source):
            outcome = "equivalent"
        results.append((module, description, outcome))
        mark = {"failed": ".", "timeout": "T", "equivalent": "=", "passed": "S"}[outcome]
        print(mark, end="\n" if len(results) % 80 == 0 else "", flush=True)
        if outcome == "passed" and args.show_survivors:
            print(f"\nSURVIVED {module}:{description}", flush=True)

    run_all(jobs, args.workers, args.timeout, report)
    table = score(results)
    print(f"\n\n{'module':34s} {'mutants':>8s} {'killed':>7s} {'equiv.':>7s} {'survived':>9s} {'score':>7s}")
    for module, row in table.items():
        print(f"{module:34s} {row['mutants']:8d} {row['killed']:7d} {row['equivalent']:7d} "
              f"{len(row['survived']):9d} {row['score']:7.1%}")
    print(f"({time.monotonic() - started:.0f} s; score = killed / (mutants - equivalent))")
    for module, row in table.items():
        if module != "all":
            for description in row["survived"]:
                print(f"survived: {module}:{description}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
