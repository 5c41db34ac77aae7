"""The instructor's report of one assignment: grades, pass rates, a student x test matrix.

Reads the gradebook (what ``lr-course grade`` / ``nbgrader autograde`` wrote; hand grades
count, written answers included) and writes ``reports/<assignment>.png`` and
``reports/<assignment>.html`` in the course directory. The page holds the grade
distribution, the pass rate per test, a matrix of every student's score per grade cell
(flagged students marked, students refused at collect listed with 0), and each student's
flags and reasons.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lr_course.grading.escape import html_text


def summarise(scores: dict) -> dict:
    """From ``{student: {grade_id: (score, max_score)}}`` to totals and pass rates.

    A test counts as passed when it earned its full points (hand-graded cells not yet
    graded count as not passed).

    >>> s = summarise({"a": {"t1": (2, 2), "t2": (0, 1)}, "b": {"t1": (2, 2), "t2": (1, 1)}})
    >>> s["totals"], s["pass_rate"]
    ({'a': 2.0, 'b': 3.0}, {'t1': 1.0, 't2': 0.5})
    """
    totals = {s: float(sum(v[0] or 0 for v in cells.values())) for s, cells in scores.items()}
    tests = sorted({g for cells in scores.values() for g in cells})
    max_score = {g: max(cells[g][1] for cells in scores.values() if g in cells) for g in tests}
    rate = {g: float(np.mean([(cells.get(g, (0, 1))[0] or 0) >= max_score[g] for cells in
                              scores.values()])) for g in tests}
    awaiting = float(sum(v[1] for cells in scores.values() for v in cells.values()
                         if v[0] is None))
    return {"totals": totals, "pass_rate": rate, "max_total": float(sum(max_score.values())),
            "awaiting": awaiting}


def draw(summary: dict, assignment: str, png_path):
    """Two panels: histogram of total scores, and the pass rate of each test."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    totals = list(summary["totals"].values())
    bins = np.linspace(0, max(summary["max_total"], 1), 11)
    ax1.hist(totals, bins=bins, color="tab:blue", edgecolor="white")
    ax1.set_xlabel("score")
    ax1.set_ylabel("students")
    ax1.yaxis.get_major_locator().set_params(integer=True)   # a count of students
    ax1.set_title(f"{assignment}: scores of {len(totals)} students")
    names = list(summary["pass_rate"])
    ax2.barh(names, [summary["pass_rate"][n] for n in names], color="tab:green")
    ax2.set_xlim(0, 1)
    ax2.invert_yaxis()
    ax2.set_xlabel("fraction of students with full points")
    ax2.set_title("pass rate per test")
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)


FLAG_MARK = "\u2691"        # a flag, beside a flagged student's name
REFUSED_MARK = "\u2298"     # a circled slash, for a student refused at collect


def _matrix(summary, scores, order, notes, refused) -> str:
    """The student x test table: one row per student, one column per grade cell."""
    head = "".join(f"<th>{html_text(g)}</th>" for g in order)
    rows = []
    for student in sorted(set(scores) | set(refused)):
        mark = ""
        if notes.get(student, {}).get("flags"):
            mark += f' <span title="flagged">{FLAG_MARK}</span>'
        if student in refused:
            mark += f' <span title="refused at collect">{REFUSED_MARK}</span>'
        cells = scores.get(student, {})
        tds = "".join("<td></td>" if g not in cells else
                      "<td>awaits</td>" if cells[g][0] is None else
                      f"<td>{cells[g][0]:g}/{cells[g][1]:g}</td>" for g in order)
        total = summary["totals"].get(student, 0.0)
        rows.append(f"<tr><td>{html_text(student)}{mark}</td>{tds}<td>{total:g}</td></tr>")
    return (f"<table class=matrix><tr><th>student</th>{head}<th>total</th></tr>\n"
            + "\n".join(rows) + "</table>")


def _notes_table(notes, refused) -> str:
    lines = []
    for student in sorted(set(notes) | set(refused)):
        entry = notes.get(student, {})
        why = [f"refused at collect: {r}" for r in refused.get(student, [])]
        if entry.get("reason"):
            why.append(f"not graded: {entry['reason']}")
        why += [f"flagged: {f}" for f in entry.get("flags", [])]
        if why:
            lines.append(f"<tr><td>{html_text(student)}</td><td>"
                         + "<br>".join(html_text(w[:500]) for w in why[:12]) + "</td></tr>")
    if not lines:
        return ""
    return ("<h2>Flags and reasons</h2><table><tr><th>student</th><th>what</th></tr>"
            + "\n".join(lines) + "</table>\n")


def write_report(course, assignment, scores: dict, outdir=None, refusals=(), notes=None,
                 order=None):
    """Write the PNG and HTML report; return their paths.

    Args:
        course: the course directory (the report goes to its ``reports/``).
        assignment: the assignment's name.
        scores: ``{student: {grade_id: (score, max_score)}}`` (score None: awaits hand grading).
        outdir: another folder for the report.
        refusals: :class:`~lr_course.grading.collect.Refusal` s, listed with their reasons;
            a refused student without scores appears in the matrix with 0.
        notes: ``{student: {"flags": [...], "reason": str}}`` (the provenance's).
        order: the grade cells in notebook order (default: sorted).

    Every student-controlled text is escaped.
    """
    refused = {}
    for r in refusals:
        if r.student:
            refused.setdefault(r.student, []).append(f"{r.where}: {r.reason}")
    if not scores and not refused:
        from lr_course.grading.submission import GradingError
        raise GradingError(f"nothing graded yet for {assignment}: run `lr-course grade "
                           f"{assignment}` first")
    notes = notes or {}
    outdir = Path(outdir) if outdir is not None else Path(course) / "reports"
    outdir.mkdir(parents=True, exist_ok=True)
    summary = summarise(scores)
    for student in refused:
        summary["totals"].setdefault(student, 0.0)    # refused and never graded: a 0
    graded = {g for cells in scores.values() for g in cells}
    order = [g for g in (order or []) if g in graded] + sorted(graded - set(order or []))
    png, page = outdir / f"{assignment}.png", outdir / f"{assignment}.html"
    draw(summary, assignment, png)
    totals = np.array(list(summary["totals"].values()))
    rows = "\n".join(f"<tr><td>{html_text(g)}</td><td>{summary['pass_rate'][g]:.0%}</td></tr>"
                     for g in order if g in summary["pass_rate"])
    refused_table = ""
    if refusals:
        refused_table = ("<h2>Refused at collect</h2><table><tr><th>student</th><th>where</th>"
                         "<th>reason</th></tr>" + "\n".join(
                             f"<tr><td>{html_text(r.student)}</td><td>{html_text(r.where)}</td>"
                             f"<td>{html_text(r.reason)}</td></tr>" for r in refusals)
                         + "</table>\n")
    awaiting = (f" {summary['awaiting']:g} points await hand grading."
                if summary["awaiting"] else "")
    page.write_text(f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html_text(assignment)} report</title>
<style>body{{font-family:sans-serif;max-width:75em;margin:2em auto}}
td,th{{padding:.2em .8em;text-align:left}} table.matrix td{{text-align:right}}</style>
</head><body>
<h1>{html_text(assignment)}</h1>
<p>{totals.size} students; mean {totals.mean():.2f}, median {np.median(totals):.2f} of
{summary['max_total']:g} points.{awaiting}</p>
<img src="{png.name}" alt="grade distribution and pass rate per test" style="max-width:100%">
<h2>Pass rate per test</h2><table><tr><th>test</th><th>full points</th></tr>{rows}</table>
<h2>Scores per test</h2>
<p>{FLAG_MARK} flagged by the grader, {REFUSED_MARK} refused at collect; "awaits": a written
answer not yet hand-graded.</p>
{_matrix(summary, scores, order, notes, refused)}
{_notes_table(notes, refused)}{refused_table}</body></html>
""", encoding="utf-8")
    return png, page
