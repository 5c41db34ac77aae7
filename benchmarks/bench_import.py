"""Time ``import lr_course`` and ``import lr_course.optimizers, lr_course.schedules`` in fresh interpreters.

    .venv/bin/python benchmarks/bench_import.py

Each figure is the median over RUNS fresh subprocesses of the time the import statement
takes inside the interpreter (interpreter start-up excluded; numpy included, since the
optimizers import it; numpy alone is shown for comparison). It also reports whether
matplotlib or ipywidgets got imported: they must not be, because a grading kernel pays
for every import. Target < 0.3 s. This script prints figures; it asserts nothing.
"""

import os
import pathlib
import statistics
import subprocess
import sys

RUNS = 7
ROOT = pathlib.Path(__file__).resolve().parents[1]
HEAVY = ("matplotlib", "ipywidgets")

# Run in the child: time the import, then list which heavy packages it pulled in.
PROBE = """
import sys, time
start = time.perf_counter()
{statement}
elapsed = time.perf_counter() - start
heavy = [name for name in {heavy!r} if name in sys.modules]
print(elapsed, ",".join(heavy))
"""

STATEMENTS = [
    "import numpy",
    "import lr_course",
    "import lr_course.optimizers, lr_course.schedules",
]


def measure(statement: str) -> tuple[float, set]:
    env = dict(os.environ)
    # the repo first, so this works under an interpreter without lr_course installed
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    times, heavy = [], set()
    for _ in range(RUNS):
        result = subprocess.run([sys.executable, "-c", PROBE.format(statement=statement, heavy=HEAVY)],
                                capture_output=True, text=True, env=env, check=True, cwd=ROOT)
        elapsed, *names = result.stdout.split()  # names is empty when nothing heavy came in
        times.append(float(elapsed))
        heavy.update(name for field in names for name in field.split(","))
    return statistics.median(times), heavy


def main():
    print(f"import time in a fresh interpreter, median of {RUNS} ({sys.executable}, "
          f"load average {os.getloadavg()[0]:.1f})")
    for statement in STATEMENTS:
        seconds, heavy = measure(statement)
        imported = ", ".join(sorted(heavy)) if heavy else "none"
        print(f"{statement:52s} {seconds:7.3f} s   heavy modules imported: {imported}")
    print("target: < 0.3 s, and no matplotlib or ipywidgets")


if __name__ == "__main__":
    main()
