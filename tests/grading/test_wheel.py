"""The installed package holds the check library, never a solution or a hidden check.

The solutions live once, in the source notebooks of ``autograder/source/``; a student who
installs the course gets nothing to copy. The wheel is built for real and searched for every
line of every solution and every hidden test.
"""

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "autograder" / "source"
_REGION = {"solution": re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.DOTALL),
           "hidden test": re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS",
                                     re.DOTALL)}


def secret_blocks():
    """(kind, where, telling lines) for every solution region and hidden-test region."""
    out = []
    for path in sorted(SOURCE.glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for kind, region in _REGION.items():
                for block in region.findall(cell.source):
                    lines = [x.strip() for x in block.splitlines()]
                    lines = [x for x in lines if len(x) >= 16 and not x.startswith("#")]
                    if lines:
                        out.append((kind, f"{path.name}:{cell.metadata['nbgrader']['grade_id']}",
                                    lines))
    return out


def leaks(files: dict) -> list:
    """The blocks most of whose lines are in one of ``files`` (a copy, give or take a line).

    A single line may coincide with the teaching code (the package's own random search
    calls its sampler the same way); a body may not.
    """
    found = []
    for kind, where, lines in secret_blocks():
        for name, data in files.items():
            text = data.decode("utf-8", errors="replace")
            hits = sum(line in text for line in lines)
            if hits >= 2 and hits * 2 > len(lines) or hits == len(lines) >= 1 and len(lines[0]) > 40:
                found.append((kind, where, name))
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w",
                           str(out), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (found,) = out.glob("lr_course-*.whl")
    with zipfile.ZipFile(found) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


@pytest.mark.slow
def test_the_wheel_holds_no_solution_and_no_hidden_test(wheel):
    assert len(secret_blocks()) > 20     # the search below has something to find
    assert not [n for n in wheel if n.endswith(".ipynb")]
    assert any(n.startswith("lr_course/grading/checks/") for n in wheel)
    assert not leaks(wheel)


def test_the_search_finds_a_pasted_solution():
    kind, where, lines = next(x for x in secret_blocks() if x[0] == "solution"
                              and len(x[2]) >= 3)
    planted = {"lr_course/helpers.py": ("def f():\n    " + "\n    ".join(lines)).encode()}
    assert leaks(planted) and leaks(planted)[0][:2] == (kind, where)
    hidden = next(x for x in secret_blocks() if x[0] == "hidden test")
    assert leaks({"x.py": "\n".join(hidden[2]).encode()})
