"""Grade one synthetic class with `nbgrader autograde` and with the sandboxed engine.

    .venv/bin/python benchmarks/bench_grading.py [--students 100] [--workers 2]

Builds a throwaway nbgrader course (``autograder/`` released with ``lr-course release``),
submits the same number of honest ps2_adaptive notebooks to two copies of it, then grades one
copy with ``nbgrader autograde ps2_adaptive`` (serial, a Jupyter kernel per notebook, its test
cells judging in the kernel against a checks file of every test, hidden ones included, placed
beside each submission) and the other with ``lr-course grade ps2_adaptive`` (the solution's
reference recorded once for the class, bubblewrap sandboxes, ``--workers`` at once). Prints
both wall times, the ratio, whether every student's score is identical in the two gradebooks,
and the engine's per-submission overhead beyond the cells' own compute time.

nbgrader's run lasts minutes, so a slower spell of a shared machine costs it its share; the
engine's lasts seconds, and one such spell can cost it a fifth. So the engine grades
``--engine-runs`` fresh copies of the class (3 by default: one before nbgrader, the rest
after), each time printed, and the ratio is taken against their mean.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ASSIGNMENT = "ps2_adaptive"
_SOLUTION = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[^\n]*\n?", re.MULTILINE)


def _run(cmd, cwd):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return seconds, proc


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def build_class(root: Path, students: int) -> Path:
    course = root / "course"
    course.mkdir()
    shutil.copy(REPO / "autograder" / "nbgrader_config.py", course)
    shutil.copytree(REPO / "autograder" / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    _run([BIN / "lr-course", "release", ASSIGNMENT], course)
    # What plain nbgrader needs to judge in the kernel: every check's expected values.
    from lr_course.grading.checks.modes import write_expected
    from lr_course.grading.engine import reference_entries
    from lr_course.grading.inprocess import InProcess
    from lr_course.grading.submission import load_source
    src = load_source(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", ASSIGNMENT)
    checks = root / f"{ASSIGNMENT}.checks.json"
    write_expected(checks, ASSIGNMENT, 7, src.test_points(),
                   reference_entries(InProcess(), src, [7], hidden=True)[7])
    release = json.loads((course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    source = json.loads((course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    answers = {c["metadata"]["nbgrader"]["grade_id"]: _SOLUTION.sub("", _source(c))
               for c in source["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    for i in range(students):
        nb = json.loads(json.dumps(release))
        for cell in nb["cells"]:
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if gid in answers:   # honest, and each one a little different
                cell["source"] = f"# student {i:03d}\n" + answers[gid]
        folder = course / "submitted" / f"student{i:03d}" / ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(nb))
        (folder / "timestamp.txt").write_text("2026-01-01 12:00:00.000000 UTC")
    return course, checks


def fixed_costs(course: Path, runs: int = 5) -> tuple:
    """Three parts of the overhead, measured apart: a sandboxed run that runs nothing, warm
    (forked by a warm interpreter, as the engine runs them) and cold (bubblewrap, the
    interpreter, numpy and the runner's imports), and the solution's reference per seed (in
    sandbox runs of ten seeds, as a batch records them)."""
    import statistics
    from lr_course.grading.engine import reference_entries
    from lr_course.grading.sandbox import Sandbox
    from lr_course.grading.submission import load_source
    src = load_source(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", ASSIGNMENT)
    empty = {}
    for warm in (True, False):
        with Sandbox(require_isolation=shutil.which("bwrap") is not None, warn=False,
                     warm=warm) as box:
            box.run({"cells": [], "calls": []})   # a warm interpreter starts on first use
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                box.run({"cells": [], "calls": []})
                times.append(time.perf_counter() - start)
            empty[warm] = statistics.median(times)
            if warm:
                warm_walls = box.walls.get("warm", "off (not isolated)")
                start = time.perf_counter()
                reference_entries(box, src, list(range(1000, 1020)), hidden=True)
                per_seed = (time.perf_counter() - start) / 20
    return empty[True], empty[False], per_seed, warm_walls


def scores(course: Path) -> dict:
    con = sqlite3.connect(course / "gradebook.db")
    rows = con.execute(
        "select student.id, sum(coalesce(grade.manual_score, grade.auto_score, 0)) from grade "
        "join submitted_notebook on grade.notebook_id = submitted_notebook.id "
        "join submitted_assignment on submitted_notebook.assignment_id = submitted_assignment.id "
        "join student on student.id = submitted_assignment.student_id group by student.id"
    ).fetchall()
    con.close()
    return {student: float(total) for student, total in rows}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--engine-runs", type=int, default=3,
                        help="gradings of fresh copies by the engine (their mean is compared)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary courses")
    args = parser.parse_args(argv)
    if shutil.which("bwrap") is None:
        print("WARNING: bubblewrap is missing: the engine runs unisolated", file=sys.stderr)
    root = Path(tempfile.mkdtemp(prefix="bench_grading_"))
    try:
        print(f"building a class of {args.students} honest {ASSIGNMENT} submissions ...",
              flush=True)
        base, checks = build_class(root, args.students)
        engine_courses = [root / f"engine{k}" for k in range(max(args.engine_runs, 1))]
        for course in engine_courses:
            shutil.copytree(base, course)
        nbgrader_course = base
        for folder in (nbgrader_course / "submitted").glob(f"*/{ASSIGNMENT}"):
            shutil.copy(checks, folder)
        grade = [BIN / "lr-course", "grade", ASSIGNMENT, "--quiet", "--workers",
                 str(args.workers)] + (["--require-isolation"] if shutil.which("bwrap") else [])

        t_engines = []

        def engine_run(course):
            print(f"grading with the sandboxed engine ({args.workers} workers) ...", flush=True)
            t_engines.append(_run(grade, course)[0])
            print(f"  {t_engines[-1]:.1f} s", flush=True)

        engine_run(engine_courses[0])
        print("grading with nbgrader autograde ...", flush=True)
        t_nbgrader, _ = _run([BIN / "nbgrader", "autograde", ASSIGNMENT], nbgrader_course)
        print(f"  {t_nbgrader:.1f} s", flush=True)
        for course in engine_courses[1:]:
            engine_run(course)
        t_engine = sum(t_engines) / len(t_engines)
        engine_course = engine_courses[0]
        start_cost, cold_cost, reference_cost, warm_walls = fixed_costs(engine_course)

        a = scores(nbgrader_course)
        engine_scores = [scores(course) for course in engine_courses]
        identical = all(a == b for b in engine_scores) and len(a) == args.students
        markers = [json.loads(p.read_text())["result"] for course in engine_courses for p in
                   course.glob(f".lr-course/results/{ASSIGNMENT}/*.json")]
        compute = sum(m["compute_seconds"] for m in markers)
        per_sub = sum(m["seconds"] for m in markers)
        n = max(len(markers), 1)
        print()
        print(f"students                      {args.students}")
        print(f"nbgrader autograde            {t_nbgrader:8.1f} s   "
              f"({t_nbgrader / args.students * 1000:.0f} ms per submission)")
        print(f"lr-course grade (sandboxed)   {t_engine:8.1f} s   "
              f"({t_engine / args.students * 1000:.0f} ms per submission, {args.workers} workers; "
              f"the mean of {', '.join(f'{t:.1f}' for t in t_engines)} s)")
        print(f"speed-up                      {t_nbgrader / t_engine:8.1f} x")
        differ = sum(a.get(s) != b.get(s) for b in engine_scores for s in a | b)
        engine_values = sorted({v for b in engine_scores for v in b.values()})
        print(f"identical scores              {identical}"
              + ("" if identical else f"  (nbgrader {sorted(set(a.values()))}, engine "
                                      f"{engine_values}, {differ} differ over the runs)"))
        print(f"cells' own compute            {compute / n * 1000:8.0f} ms per submission")
        print(f"overhead beyond compute       {(per_sub - compute) / n * 1000:8.0f} ms per submission "
              "(sandbox start, interpreter and numpy import, judging)")
        wall_share = t_engine * args.workers / args.students - compute / n
        print(f"overhead, wall-clock share    {wall_share * 1000:8.0f} ms "
              "per submission (whole command x workers, minus compute)")
        print(f"  of which a sandbox start    {start_cost * 1000:8.0f} ms (an empty job, warm: "
              f"{warm_walls}; a cold start, bubblewrap, the interpreter, numpy and the "
              f"runner's imports, takes {cold_cost * 1000:.0f} ms)")
        print(f"  and the solution's run      {reference_cost * 1000:8.0f} ms per student (the "
              "reference on the student's own inputs)")
        return 0 if identical else 1
    finally:
        if args.keep:
            print(f"courses kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
