"""Execute every lesson headless and print its wall time and the total (target: under 60 s).

    .venv/bin/python benchmarks/bench_notebooks.py [notebooks/01_*.ipynb ...]

Times include starting a kernel per notebook, as a student or CI pays it. The progress record
goes to a temporary directory.
"""

import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def run(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - start


def main(argv) -> int:
    paths = [Path(p) for p in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LR_COURSE_PROGRESS"] = os.path.join(tmp, "progress.json")
        total = 0.0
        for path in paths:
            seconds = run(path)
            total += seconds
            print(f"{path.name:<36} {seconds:6.1f} s", flush=True)
    print(f"{'all ' + str(len(paths)) + ' notebooks':<36} {total:6.1f} s  (target < 60 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
