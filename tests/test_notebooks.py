"""Every notebook is committed clean, and every lesson runs top to bottom without an error.

The lessons assert their own quantitative claims, so executing them here is what makes a false
claim fail the build. They run with the working directory ``notebooks/`` and with the progress
record redirected to a temporary directory, so the tests never write to a learner's home.
To clean notebooks: ``python tools/strip_notebooks.py``.
"""

from pathlib import Path

import nbformat
import pytest

from lr_course.lessons import clean

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOURCES = sorted((ROOT / "autograder" / "source").glob("**/*.ipynb"))
CELL_TIMEOUT = 120  # seconds; a lesson cell takes at most a few


def _id(path):
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", LESSONS + SOURCES, ids=_id)
def test_committed_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    found = clean.problems(nb, nbgrader=path in SOURCES)
    assert not found, f"{_id(path)} is not clean (run tools/strip_notebooks.py): {found}"


def test_lessons_use_the_course_kernel():
    for path in LESSONS:
        nb = nbformat.read(path, as_version=4)
        assert nb.metadata.get("kernelspec", {}).get("name") == "python3", path.name


def test_clean_check_catches_outputs(tmp_path):
    """The check above can fail: a notebook with an output, a count and editor metadata is
    reported by the rule and by the tool, and the tool's cleaning satisfies the rule."""
    import subprocess
    import sys

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1", execution_count=3)])
    nb.cells[0].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=3)]
    nb.metadata["widgets"] = {}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    assert len(clean.problems(nb, nbgrader=False)) == 3
    path = tmp_path / "dirty.ipynb"
    nbformat.write(nb, path)
    tool = [sys.executable, str(ROOT / "tools" / "strip_notebooks.py")]
    assert subprocess.run(tool + ["--check", str(path)], capture_output=True).returncode == 1
    assert subprocess.run(tool + [str(path)], capture_output=True).returncode == 0
    assert subprocess.run(tool + ["--check", str(path)], capture_output=True).returncode == 0
    cleaned = nbformat.read(path, as_version=4)
    assert clean.problems(cleaned, nbgrader=False) == []
    assert list(cleaned.metadata) == ["kernelspec"]


@pytest.mark.slow
@pytest.mark.parametrize("path", LESSONS, ids=_id)
def test_lesson_executes(path, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("LR_COURSE_PROGRESS", str(tmp_path / "progress.json"))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    # The models multiply small matrices; on a busy 2-core CI machine a second BLAS thread
    # makes them several times slower (measured: 1 ms against 8 ms per MLP gradient).
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError, naming the cell, on any error or failed assert
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    # Warnings (numpy's overflow in a diverging run, deprecations) land on stderr: a lesson
    # shows divergence on purpose and must not spray warnings at the learner while doing it.
    stderr = [out.text for out in outputs if out.output_type == "stream" and out.name == "stderr"]
    assert not stderr, f"{path.name} writes to stderr: {stderr[0][:300]}"
