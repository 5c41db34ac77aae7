"""Execute every lesson headless and print its wall time and the total (target: under 60 s).

    .venv/bin/python benchmarks/bench_notebooks.py [--cells [SECONDS]] [notebooks/01_*.ipynb ...]

Times include starting a kernel per notebook, as a student or CI pays it; the slowest cell of
each notebook is named, to show where to trim (``--cells`` lists every cell over 0.3 s, or
over SECONDS, with the first line of its source), and an empty notebook is timed first to show how
much of the total is that fixed cost. The progress record goes to a temporary
directory. The models multiply small matrices, for which one BLAS thread is faster than two on
a busy machine, so the course's kernel (``make``'s kernel install) sets
``OPENBLAS_NUM_THREADS=1`` in its kernelspec, which wins over this process's environment; the
first line says what the kernel gets. Each notebook's line also gives the CPU seconds its kernel
used (user and system, read from ``/proc`` just before it shuts down): on a machine that others
share, the wall time grows with their load and the CPU time much less, so compare the latter.
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


def blas_threads() -> str:
    """How many OpenBLAS threads the kernel gets: its kernelspec's env, else this environment."""
    from jupyter_client.kernelspec import KernelSpecManager

    try:
        spec_env = KernelSpecManager().get_kernel_spec("python3").env or {}
    except Exception:   # no such kernel: the run below says so
        spec_env = {}
    if "OPENBLAS_NUM_THREADS" in spec_env:
        return f"{spec_env['OPENBLAS_NUM_THREADS']} (set by the kernelspec)"
    return os.environ.get("OPENBLAS_NUM_THREADS", "unset") + " (from the environment)"


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of a live process, from ``/proc`` (NaN where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    # fields[0] is the state (field 3 of proc(5)); utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(path: Path | None) -> tuple[float, float, list[tuple[float, int, str]]]:
    """Execute one notebook (None: an empty one); return its wall time, its kernel's CPU time and
    its code cells.

    Each cell comes back as ``(seconds, index, first line of its source)``, slowest first. The
    kernel manager is ours, not the client's, so that the kernel is still alive when its CPU time
    is read; the wall time covers the start, the cells and the shutdown, as before.
    """
    from jupyter_client.manager import KernelManager

    if path is None:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")])
        folder = Path.cwd()
    else:
        nb = nbformat.read(path, as_version=4)
        folder = path.parent
    start = time.perf_counter()
    km = KernelManager(kernel_name="python3")
    try:
        NotebookClient(nb, km=km, timeout=600, kernel_name="python3", record_timing=True,
                       resources={"metadata": {"path": str(folder)}}).execute()
        cpu = _cpu_seconds(km.provisioner.process.pid)
    finally:
        if km.has_kernel:
            km.shutdown_kernel(now=False)
    seconds = time.perf_counter() - start
    cells = [(_cell_seconds(cell), index, (cell.source.strip().splitlines() or [""])[0])
             for index, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    return seconds, cpu, sorted(cells, reverse=True)


def _parse(argv) -> tuple[float | None, list[Path]]:
    """Split ``--cells [SECONDS]`` from the notebook paths; None means list no cells."""
    threshold, paths, args = None, [], list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--cells":
            threshold = 0.3
            if args and not args[0].endswith(".ipynb"):
                value = args.pop(0)
                try:
                    threshold = float(value)
                except ValueError:
                    raise ValueError(f"--cells takes a number of seconds, got {value!r}") from None
        else:
            paths.append(Path(arg))
    return threshold, paths


def main(argv) -> int:
    threshold, paths = _parse(argv)
    paths = paths or sorted((ROOT / "notebooks").glob("*.ipynb"))
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')} here, "
          f"{blas_threads()} in the kernel; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LR_COURSE_PROGRESS"] = os.path.join(tmp, "progress.json")
        kernel_start, start_cpu, _ = run(None)
        print(f"{'(an empty notebook: kernel start)':<36} {kernel_start:6.1f} s   "
              f"kernel CPU {start_cpu:5.1f} s", flush=True)
        total = total_cpu = 0.0
        for path in paths:
            seconds, cpu, cells = run(path)
            total += seconds
            total_cpu += cpu
            slowest, index, _ = cells[0] if cells else (0.0, -1, "")
            print(f"{path.name:<36} {seconds:6.1f} s   kernel CPU {cpu:5.1f} s   "
                  f"(slowest: cell {index}, {slowest:.1f} s)", flush=True)
            if threshold is not None:
                for cell_seconds, cell_index, first_line in cells:
                    if cell_seconds < threshold:
                        break
                    print(f"    cell {cell_index:>3} {cell_seconds:5.2f} s   {first_line[:60]}", flush=True)
    print(f"{'all ' + str(len(paths)) + ' notebooks':<36} {total:6.1f} s   (target < 60 s; "
          f"{len(paths)} kernel starts ~ {len(paths) * kernel_start:.1f} s of it)")
    print(f"{'kernels CPU':<36} {total_cpu:6.1f} s   ({len(paths)} kernel starts ~ "
          f"{len(paths) * start_cpu:.1f} s of it)")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
