"""Grade the solution and every planted mistake under many seeds: is the grading reliable?

The suite grades each planted mistake (tests/grading/mistakes/catalogue.py) under two
course secrets. A check whose random cases only sometimes expose a mistake passes that suite
most of the time and then fails some student, or lets a wrong answer through. This scan
grades each notebook under ``--seeds`` course secrets and reports, per notebook:

- the solution: every run must get full marks (a failure is a correct student losing points);
- a mistake: every run must fail each of its ``loses`` tests ("missed" counts the runs that
  did not) and nothing outside ``loses`` and ``also`` ("stray" counts the runs that did).

Grading runs in-process (the notebooks are the course's own). Run it after changing a
check, its cases or the catalogue::

    make scan                                   # every assignment, 50 seeds
    .venv/bin/python tools/scan_mistakes.py --assignment ps2_adaptive --seeds 150

Exits 1 if any run went wrong, 0 if none did.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from lr_course.grading.engine import Grader
from lr_course.grading.inprocess import InProcess
from lr_course.grading.submission import load_source

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "autograder" / "source"
ASSIGNMENTS = sorted(p.name for p in SOURCE.iterdir() if p.is_dir())


def _catalogue():
    path = ROOT / "tests" / "grading" / "mistakes" / "catalogue.py"
    spec = importlib.util.spec_from_file_location("mistakes_catalogue", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def failed_tests(nb, assignment: str, seed: int, folder: Path) -> set:
    """The grade_ids of the tests ``nb`` of ``assignment`` fails under course secret ``seed``."""
    path = folder / "scan.ipynb"
    nbformat.write(nb, path)
    source = load_source(SOURCE / assignment / f"{assignment}.ipynb", assignment)
    secret = f"scan-{seed}".encode().ljust(32, b".")
    result = Grader(source, InProcess(), secret=secret).grade_file(path, "student")
    return {t.grade_id for t in result.tests if not t.passed}


def scan(name: str, assignment: str, nb, loses: tuple, also: tuple, seeds: int,
         folder: Path) -> dict:
    """Grade ``nb`` under each seed; count the runs that missed or strayed, with an example."""
    missed, stray = [], []
    for seed in range(seeds):
        failed = failed_tests(nb, assignment, seed, folder)
        if not set(loses) <= failed:
            missed.append((seed, sorted(set(loses) - failed)))
        if not failed <= set(loses) | set(also):
            stray.append((seed, sorted(failed - set(loses) - set(also))))
    return {"name": name, "missed": missed, "stray": stray}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assignment", choices=sorted(ASSIGNMENTS), action="append",
                        help="scan only this assignment (may be repeated; default: all)")
    parser.add_argument("--mistake", action="append",
                        help="scan only the mistake of this name (may be repeated)")
    parser.add_argument("--seeds", type=int, default=50, help="runs per notebook (default 50)")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds must be at least 1, got {args.seeds}")
    catalogue = _catalogue()
    planted = catalogue.MISTAKES + [catalogue.WARNING_SOLUTION]
    mistakes = [m for m in planted
                if (not args.assignment or m.assignment in args.assignment)
                and (not args.mistake or m.name in args.mistake)]
    unknown = set(args.mistake or ()) - {m.name for m in planted}
    if unknown:
        parser.error(f"no planted mistake named {', '.join(sorted(unknown))}")
    assignments = sorted({m.assignment for m in mistakes} if args.mistake
                         else args.assignment or ASSIGNMENTS)
    jobs = [(f"{a}: the solution", a, catalogue.source_nb(a), (), ()) for a in assignments]
    jobs += [(f"{m.assignment}: {m.name}", m.assignment, catalogue.planted(m), m.loses, m.also)
             for m in mistakes]
    print(f"{len(jobs)} notebooks x {args.seeds} seeds, graded in-process")
    print(f"{'notebook':58s} {'missed':>7s} {'stray':>7s}  first bad run")
    bad = 0
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        for name, assignment, nb, loses, also in jobs:
            row = scan(name, assignment, nb, loses, also, args.seeds, Path(folder))
            example = (row["missed"] or row["stray"] or [None])[0]
            note = "" if example is None else (
                f"seed {example[0]}: " + ("still passes " if row["missed"] else "also fails ")
                + ", ".join(example[1]))
            bad += bool(row["missed"] or row["stray"])
            print(f"{name:58s} {len(row['missed']):7d} {len(row['stray']):7d}  {note}", flush=True)
    print(f"{bad} of {len(jobs)} notebooks graded unreliably "
          f"({time.monotonic() - start:.0f} s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
