"""The optimizer benchmark still runs (on tiny arrays here: its figures are for `make bench`)."""

import pathlib
import re
import subprocess
import sys

BENCH = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "bench_optimizers.py"


def test_bench_optimizers_prints_every_optimizer_in_both_cache_states():
    result = subprocess.run([sys.executable, str(BENCH), "--size", "3000", "--repeats", "2",
                             "--small-size", "50"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert "cold update" in out and "warm step" in out
    for label in ("sgd nesterov", "rmsprop centered+mom", "adam amsgrad", "adamw"):
        assert out.count(label) == 3, label  # float32 and float64, then the small table
    rows = [line.split() for line in out.splitlines() if line.startswith("adagrad ")]
    assert all(float(cell) > 0 for row in rows for cell in row[2:] if not cell.startswith("("))


NOTEBOOKS_BENCH = BENCH.parent / "bench_notebooks.py"


def test_bench_notebooks_times_a_notebook_and_the_kernel_start(tmp_path):
    import nbformat

    tiny = tmp_path / "tiny.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = sum(range(10))")]), tiny)
    result = subprocess.run([sys.executable, str(NOTEBOOKS_BENCH), str(tiny)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("OPENBLAS_NUM_THREADS=") and " in the kernel; load average " in lines[0]
    assert any(line.startswith("(an empty notebook: kernel start)") for line in lines)
    assert any(line.startswith("tiny.ipynb") and "slowest: cell 0" in line for line in lines)
    total = next(line for line in lines if line.startswith("all 1 notebooks"))
    assert "target < 60 s" in total and "1 kernel starts" in total
    # each kernel's CPU seconds, read while it is alive: a number, more than the empty work of 0
    tiny_cpu = float(next(line for line in lines if line.startswith("tiny.ipynb")).split("kernel CPU")[1].split()[0])
    cpu_total = next(line for line in lines if line.startswith("kernels CPU"))
    assert 0 < tiny_cpu == float(cpu_total.split()[2]) and "1 kernel starts" in cpu_total


def test_bench_notebooks_lists_the_cells_over_a_threshold_with_their_first_line(tmp_path):
    import nbformat

    tiny = tmp_path / "tiny.ipynb"
    cells = ["x = 1", "import time\ntime.sleep(0.5)  # slow", "y = 2"]
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]), tiny)
    result = subprocess.run([sys.executable, str(NOTEBOOKS_BENCH), "--cells", "0.4", str(tiny)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    listed = [line.split() for line in result.stdout.splitlines() if line.startswith("    cell")]
    # only the sleeping cell is over 0.4 s (it sleeps 0.5 s); it is named by index and first line
    assert [(row[1], row[4:6]) for row in listed] == [("1", ["import", "time"])]
    bad = subprocess.run([sys.executable, str(NOTEBOOKS_BENCH), "--cells", "soon", str(tiny)],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "--cells takes a number of seconds, got 'soon'" in bad.stderr


GRADING_BENCH = BENCH.parent / "bench_grading.py"


def test_bench_grading_grades_one_class_with_both_engines_and_they_agree():
    """A class of two: nbgrader autograde and lr-course grade give the same scores, and every
    figure of the comparison is printed (the figures themselves are for `make bench`)."""
    result = subprocess.run([sys.executable, str(GRADING_BENCH), "--students", "2",
                             "--engine-runs", "2"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    out = result.stdout
    assert "identical scores              True" in out
    for label in ("nbgrader autograde", "lr-course grade (sandboxed)", "speed-up",
                  "cells' own compute", "overhead beyond compute", "of which a sandbox start",
                  "and the solution's run"):
        line = next(line for line in out.splitlines() if line.startswith(label)
                    or line.strip().startswith(label))
        assert any(ch.isdigit() for ch in line), line
    # the engine graded two fresh copies (one before nbgrader, one after); both agree with
    # nbgrader, and the comparison is with their mean
    assert out.count("grading with the sandboxed engine") == 2
    runs = re.search(r"the mean of ([0-9.]+), ([0-9.]+) s\)", out)
    mean = float(next(line for line in out.splitlines()
                      if line.startswith("lr-course grade (sandboxed)")).split()[3])
    assert runs and abs((float(runs[1]) + float(runs[2])) / 2 - mean) <= 0.06
