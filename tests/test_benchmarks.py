"""The optimizer benchmark still runs (on tiny arrays here: its figures are for `make bench`)."""

import pathlib
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
