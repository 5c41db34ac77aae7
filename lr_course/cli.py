"""The ``lr-course`` command: one line per step of the course's workflow.

    lr-course lab                         JupyterLab on the lessons
    lr-course release ps1_schedules       generate the student version and its checks file
    lr-course collect ps1_schedules [ZIP|DIR] [--roster CSV]   hand-ins into submitted/
    lr-course grade ps1_schedules         autograde every submission into the gradebook
                   [--shard K/N | --merge] one slice per machine, then one merge
    lr-course feedback ps1_schedules      nbgrader generate_feedback
    lr-course export [--to grades.csv]    nbgrader's CSV export
    lr-course report ps1_schedules        grade distribution + pass rate per test (PNG, HTML)
    lr-course check my_ps1.ipynb [--json] grade one notebook locally, with hints (all tests
                                          where the course's source is at hand, else the
                                          visible ones)

Instructor commands work inside a course directory (one with nbgrader_config.py), like
nbgrader's own, or on ``--course DIR``. A user error prints one line on stderr and exits 2;
``grade`` exits 1 when a hand-in was unreadable, missing or refused at collect, and 130
after Ctrl-C (a rerun continues).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import warnings
from pathlib import Path

from lr_course.grading.nbgrader_setup import nbgrader_without_extensions, skip_iri_grammars

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"lr-course: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _progress(done, total, student):
    from lr_course.grading.escape import terminal
    student = terminal(student, limit=20)
    width = 30
    filled = int(width * done / total)
    end = "\n" if done == total else ""
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {student:<20.20}",
          end=end, file=sys.stderr, flush=True)


def _cmd_lab(args):
    import os
    root = Path(__file__).resolve().parents[1] / "notebooks"
    notebooks = Path(args.notebooks) if args.notebooks else root
    if not notebooks.is_dir():
        print(f"lr-course: error: no lessons folder at {notebooks}; pass the notebooks/ folder "
              "of a clone of the course", file=sys.stderr)
        return EXIT_USAGE
    command = [sys.executable, "-m", "jupyter", "lab", f"--notebook-dir={notebooks}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")   # Jupyter refuses root otherwise (containers, CI)
    # nbgrader reads nbgrader_config.py from the working folder: started in a course
    # (`lr-course lab autograder`), formgrader shows that course
    return subprocess.call(command, cwd=notebooks)


def _cmd_release(args):
    from lr_course.grading import nbgrader_glue as glue
    path = glue.release(args.course, args.assignment, exchange=args.exchange, force=args.force)
    print(f"released {args.assignment}: {path}")


def _cmd_collect(args):
    """Exit 0 when every hand-in was taken, 1 when any was refused (each printed)."""
    from lr_course.grading import nbgrader_glue as glue
    from lr_course.grading.escape import terminal
    from lr_course.grading.roster import load_roster
    roster = load_roster(args.roster) if args.roster else None   # bad roster: exit 2
    result = glue.collect(args.course, args.assignment, args.source, layout=args.layout,
                          roster=roster)
    layout = f" ({result['layout']} layout)" if result["layout"] else ""
    print(f"collected {len(result['collected'])} submission(s) of {args.assignment}{layout}")
    late = [terminal(t["student"]) for t in result["taken"] if t.get("late")]
    if late:
        print(f"marked late by the LMS: {', '.join(late)}")
    for note in result["notes"]:
        print(f"note: {terminal(note, 300)}")
    for r in result["refused"]:
        who = terminal(r["student"]) or (f"LMS key {terminal(r['key'], 100)}" if r["key"]
                                         else "(no valid student id)")
        print(f"refused {who} ({terminal(r['where'], 200)}): {terminal(r['reason'], 500)}",
              file=sys.stderr)
    if result["refused"]:
        print(f"{len(result['refused'])} hand-in(s) or file(s) refused: see "
              f"collect_log/{terminal(args.assignment)}.json", file=sys.stderr)
        return 1
    return 0


EXIT_FAILED = 1        # grading ran, but some hand-in was unreadable, missing or refused
EXIT_INTERRUPTED = 130  # Ctrl-C, as a shell reports SIGINT


def _cmd_grade(args):
    """The hardened engine (lr_course.grading.batch): sandboxed, parallel, resumable."""
    nbgrader_without_extensions()      # the merge writes the gradebook here
    from lr_course.grading import nbgrader_glue as glue
    from lr_course.grading.batch import CourseError, grade_assignment
    from lr_course.grading.escape import terminal
    from lr_course.grading.sandbox import IsolationError
    course = glue.find_course(args.course)
    try:
        report = grade_assignment(course, args.assignment, students=args.student or None,
                                  workers=args.workers, force=args.force,
                                  require_isolation=args.require_isolation,
                                  progress=not args.quiet, time_limits=_time_limits(args),
                                  shard=args.shard, merge=args.merge)
    except (CourseError, IsolationError) as exc:
        print(f"lr-course: error: {terminal(exc)}", file=sys.stderr)
        return EXIT_USAGE
    if report.interrupted:
        print(f"interrupted: {len(report.graded)} graded, rerun to continue", file=sys.stderr)
        return EXIT_INTERRUPTED
    if not (report.graded or report.resumed or report.missing or report.rejected) \
            and report.shard is None:
        print(f"lr-course: error: no submissions of {args.assignment} under "
              f"{course / 'submitted'} (collect them first: lr-course collect)", file=sys.stderr)
        return EXIT_USAGE
    for student in sorted(set(report.results) | set(report.totals)):
        r = report.results.get(student)
        why = f" (not graded: {terminal(r.reason, 500)})" if r and r.status != "graded" else ""
        if student in report.totals:      # the gradebook's: hand grades and written answers
            score, top, awaiting = report.totals[student]
            wait = f" ({awaiting:g} points await hand grading)" if awaiting else ""
        else:                             # a shard's result: automatic points only
            score, top, wait = r.score, r.max_score, ""
        print(f"{terminal(student)}: {score:g}/{top:g}{wait}{why}")
    print(report.summary())
    if report.shard is not None:
        print(f"shard {report.shard[0]}/{report.shard[1]} written under "
              f"{course / '.lr-course' / 'shards' / args.assignment}; when every shard is "
              f"done: lr-course grade {args.assignment} --merge")
        return EXIT_FAILED if report.failed else 0
    refused = [r for r in glue.refusals(course, args.assignment)]
    if refused:
        print(f"  refused at collect: {len(refused)} (reasons: lr-course report "
              f"{args.assignment})")
    return EXIT_FAILED if report.failed or refused else 0


def _cmd_feedback(args):
    from lr_course.grading import nbgrader_glue as glue
    print(f"feedback written under {glue.feedback(args.course, args.assignment, args.student)}")


def _cmd_export(args):
    from lr_course.grading import nbgrader_glue as glue
    print(f"grades exported to {glue.export(args.course, args.to)}")


def _cmd_report(args):
    from lr_course.grading import nbgrader_glue as glue
    from lr_course.grading.report import write_report
    course = glue.find_course(args.course)
    glue._check_assignment(course, args.assignment)
    scores = glue.test_scores(course, args.assignment)
    order = glue.grade_order(course, args.assignment,
                             {g for cells in scores.values() for g in cells})
    png, page = write_report(course, args.assignment, scores, args.out,
                             refusals=glue.refusals(course, args.assignment),
                             notes=glue.notes(course, args.assignment), order=order)
    print(f"report: {page} ({png.name})")


def _cmd_check(args):
    """One notebook through the batch's engine (sandbox, flags, judging), for its author."""
    from lr_course.grading.selfcheck import check_notebook
    from lr_course.grading.feedback import check_summary, format_report
    from lr_course.grading.sandbox import IsolationError
    try:
        result, mode = check_notebook(args.notebook, args.assignment, course=args.course,
                                      require_isolation=args.require_isolation,
                                      time_limits=_time_limits(args))
    except IsolationError as exc:
        print(f"lr-course: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(dict(check_summary(result, args.notebook), tests_run=mode), indent=1))
    else:
        print(format_report(result, args.notebook))
        print(f"({mode}" + ("" if mode == "all tests" else
                            ": the course's source notebook is not here, so the hidden tests "
                            "did not run; pass --course DIR if you have it") + ")")


def _time_limits(args) -> dict:
    return {"cell_seconds": args.cell_seconds, "call_seconds": args.call_seconds}


def _positive_seconds(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0 seconds, got {text}")
    return value


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _shard(text):
    from lr_course.grading.ledger import parse_shard
    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_time_limits(p):
    p.add_argument("--cell-seconds", type=_positive_seconds, default=None,
                   help="stop a cell after this long (default: nbgrader's Execute.timeout, "
                        "else 30)")
    p.add_argument("--call-seconds", type=_positive_seconds, default=None,
                   help="fail a graded call after this long (default: LrCourse.call_seconds, "
                        "else 10)")


def build_parser():
    parser = _Parser(prog="lr-course", description="The learning-rate course: lessons and "
                     "graded assignments on nbgrader.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def course_command(name, help_text, assignment=True):
        p = sub.add_parser(name, help=help_text)
        if assignment:
            p.add_argument("assignment", help="e.g. ps1_schedules")
        p.add_argument("--course", metavar="DIR", default=None,
                       help="the nbgrader course directory (default: the current directory)")
        return p

    p = sub.add_parser("lab", help="open JupyterLab on the lessons")
    p.add_argument("notebooks", nargs="?", help="folder to open (default: the lessons; a "
                   "course folder such as autograder/ opens formgrader on that course)")
    p.set_defaults(func=_cmd_lab)
    p = course_command("release", "generate the student version of an assignment")
    p.add_argument("--exchange", action="store_true", help="also release it to the exchange")
    p.add_argument("--force", action="store_true", help="release again over an earlier release")
    p.set_defaults(func=_cmd_release)
    p = course_command("collect", "bring submissions into submitted/<student>/<assignment>/")
    p.add_argument("source", nargs="?", help="an LMS's zip (Canvas, Moodle, Blackboard), a "
                   "folder, or a zip of <student>/ folders (default: nbgrader's exchange)")
    p.add_argument("--layout", choices=("canvas", "moodle", "blackboard", "folders"),
                   default=None, help="how the source names hand-ins (default: detected)")
    p.add_argument("--roster", metavar="CSV", default=None,
                   help="CSV with student_id and lms_id and/or name columns: maps the LMS's "
                        "ids or names to student ids; hand-ins not in it are refused")
    p.set_defaults(func=_cmd_collect)
    p = course_command("grade", "autograde every submission into the gradebook")
    p.add_argument("--student", action="append", help="grade only this student (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--workers", type=_positive_int, default=2,
                   help="sandboxes at once (default: 2)")
    p.add_argument("--force", action="store_true",
                   help="grade again students whose scores are current (hand grades stay)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--shard", type=_shard, default=None, metavar="K/N",
                       help="grade only shard K of N (K from 0; a student's shard is a hash "
                            "of the id) into result files, not the gradebook: one per machine "
                            "of a Kubernetes Indexed Job or a Slurm array")
    where.add_argument("--merge", action="store_true",
                       help="write the gradebook, autograded notebooks and markers from every "
                            "shard's results (refused when a shard is missing or stale)")
    p.add_argument("--require-isolation", action="store_true",
                   help="fail instead of grading unisolated when bubblewrap is missing")
    _add_time_limits(p)
    p.set_defaults(func=_cmd_grade)
    p = course_command("feedback", "generate feedback HTML for graded submissions")
    p.add_argument("--student", default=None)
    p.set_defaults(func=_cmd_feedback)
    p = course_command("export", "export all grades as CSV", assignment=False)
    p.add_argument("--to", default="grades.csv", help="CSV path (default: grades.csv)")
    p.set_defaults(func=_cmd_export)
    p = course_command("report", "grade distribution and pass rate per test (PNG + HTML)")
    p.add_argument("--out", default=None, help="output folder (default: COURSE/reports)")
    p.set_defaults(func=_cmd_report)
    p = sub.add_parser("check", help="grade one notebook locally, with hints")
    p.add_argument("notebook")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--assignment", default=None, help="fail unless it is this assignment")
    p.add_argument("--course", metavar="DIR", default=None,
                   help="the course directory holding the source notebook (default: found "
                        "in a parent folder of the notebook)")
    p.add_argument("--require-isolation", action="store_true",
                   help="fail instead of running unisolated when bubblewrap is missing")
    _add_time_limits(p)
    p.set_defaults(func=_cmd_check)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    from lr_course.grading.escape import terminal
    print(f"lr-course: warning: {terminal(message)}", file=sys.stderr)


def main(argv=None):
    """Entry point of the ``lr-course`` console script."""
    from lr_course.grading.submission import GradingError
    skip_iri_grammars()
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():
        # the package's own warnings (grading without bubblewrap) always, as one line each
        warnings.filterwarnings("always", category=RuntimeWarning, module=r"lr_course\.")
        warnings.showwarning = _show_warning
        try:
            code = args.func(args)
        except GradingError as exc:   # may quote a student's file or folder name
            from lr_course.grading.escape import terminal
            print(f"lr-course: error: {terminal(exc)}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:     # outside the batch's own handling (start-up, a wait)
            print("interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
