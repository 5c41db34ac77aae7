"""Execute every lesson headless and print its wall time and the total (target: under 60 s).

    .venv/bin/python benchmarks/bench_notebooks.py [notebooks/01_*.ipynb ...]

Times include starting a kernel per notebook, as a student or CI pays it; the slowest cell of
each notebook is named, to show where to trim, and an empty notebook is timed first to show how
much of the total is that fixed cost. The progress record goes to a temporary
directory. The models multiply small matrices, for which one BLAS thread is usually faster than
two on a busy machine: compare with ``OPENBLAS_NUM_THREADS=1`` in the environment.
"""

from __future__ import annotations

import datetime
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def _cell_seconds(cell) -> float:
    timing = cell.metadata.get("execution", {})
    try:
        start = datetime.datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
        end = datetime.datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
    except KeyError:
        return 0.0
    return (end - start).total_seconds()


def run(path: Path | None) -> tuple[float, int, float]:
    """Execute one notebook (None: an empty one); return its wall time and its slowest cell."""
    if path is None:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")])
        folder = Path.cwd()
    else:
        nb = nbformat.read(path, as_version=4)
        folder = path.parent
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=True,
                   resources={"metadata": {"path": str(folder)}}).execute()
    seconds = time.perf_counter() - start
    cells = [(_cell_seconds(cell), index) for index, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    slowest, index = max(cells, default=(0.0, -1))
    return seconds, index, slowest


def main(argv) -> int:
    paths = [Path(p) for p in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LR_COURSE_PROGRESS"] = os.path.join(tmp, "progress.json")
        kernel_start, _, _ = run(None)
        print(f"{'(an empty notebook: kernel start)':<36} {kernel_start:6.1f} s", flush=True)
        total = 0.0
        for path in paths:
            seconds, index, slowest = run(path)
            total += seconds
            print(f"{path.name:<36} {seconds:6.1f} s   (slowest: cell {index}, {slowest:.1f} s)", flush=True)
    print(f"{'all ' + str(len(paths)) + ' notebooks':<36} {total:6.1f} s   (target < 60 s; "
          f"{len(paths)} kernel starts ~ {len(paths) * kernel_start:.1f} s of it)")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
