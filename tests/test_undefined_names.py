"""No name is used that is never defined: pyflakes over every Python file of the project.

An undefined name fails only when its line runs, and some lines run only on a rare path (an
error handler, a worker thread whose exception no one reads). This once cost every batch its
shared reference runs: ``contextlib.suppress(GradingError)`` without the import raised in a
background future, silently, and each student ran the solution alone (100 runs instead of 7).
Only pyflakes' "undefined" messages count here; unused imports are a matter of style.
"""

import ast
from pathlib import Path

from pyflakes import checker, messages   # the dev extra installs it: missing is a failure

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("lr_course", "autograder", "tests", "benchmarks", "tools", "classroom")
UNDEFINED = (messages.UndefinedName, messages.UndefinedLocal, messages.UndefinedExport)
# names nbgrader's and traitlets' config loaders inject into a config file
CONFIG_NAMES = {"get_config", "c"}


def _files():
    for folder in FOLDERS:
        yield from sorted((ROOT / folder).rglob("*.py"))


def _undefined(path: Path) -> list:
    """``"file:line: message"`` for each undefined name pyflakes finds in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    return [f"{where}:{m.lineno}: {m.message % m.message_args}"
            for m in checker.Checker(tree, filename=str(path)).messages
            if isinstance(m, UNDEFINED)
            and not (path.name.endswith("_config.py") and m.message_args[0] in CONFIG_NAMES)]


def test_every_name_used_is_defined():
    files = list(_files())
    assert len(files) > 100
    problems = [line for path in files for line in _undefined(path)]
    assert problems == []


def test_the_check_sees_a_missing_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import contextlib\n\ndef f():\n    with contextlib.suppress(GradingError):\n"
                   "        pass\n")
    assert _undefined(bad) == ["bad.py:4: undefined name 'GradingError'"]
