"""Every notebook is committed clean, and every lesson runs top to bottom without an error.

The lessons assert their own quantitative claims, so executing them here is what makes a false
claim fail the build. They run with the working directory ``notebooks/`` and with the progress
record redirected to a temporary directory, so the tests never write to a learner's home.
To clean notebooks: ``python tools/strip_notebooks.py``.
"""

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOURCES = sorted((ROOT / "autograder" / "source").glob("**/*.ipynb"))
NOTEBOOK_METADATA = {"kernelspec", "language_info", "jupytext"}
CELL_TIMEOUT = 120  # seconds; a lesson cell takes at most a few


def _id(path):
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", LESSONS + SOURCES, ids=_id)
def test_committed_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    extra = set(nb.metadata) - NOTEBOOK_METADATA
    assert not extra, f"notebook metadata to strip: {sorted(extra)} (run tools/strip_notebooks.py)"
    allowed = {"tags", "nbgrader"} if path in SOURCES else {"tags"}
    for index, cell in enumerate(nb.cells):
        noise = set(cell.metadata) - allowed
        assert not noise, f"cell {index}: metadata to strip: {sorted(noise)}"
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {index} has outputs (run tools/strip_notebooks.py)"
            assert cell.execution_count is None, f"cell {index} has an execution count"


def test_lessons_use_the_course_kernel():
    for path in LESSONS:
        nb = nbformat.read(path, as_version=4)
        assert nb.metadata.get("kernelspec", {}).get("name") == "python3", path.name


def test_clean_check_catches_outputs(tmp_path):
    """The check above can fail: a notebook with an output and a count is reported."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("strip_notebooks", ROOT / "tools" / "strip_notebooks.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1", execution_count=3)])
    nb.cells[0].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=3)]
    nb.metadata["widgets"] = {}
    path = tmp_path / "dirty.ipynb"
    nbformat.write(nb, path)
    assert tool.main(["--check", str(path)]) == 1
    assert tool.main([str(path)]) == 0
    assert tool.main(["--check", str(path)]) == 0
    cleaned = nbformat.read(path, as_version=4)
    assert cleaned.cells[0].outputs == [] and cleaned.cells[0].execution_count is None
    assert "widgets" not in cleaned.metadata


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
