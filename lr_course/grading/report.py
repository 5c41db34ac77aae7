"""The instructor's report of one assignment: grade distribution and pass rate per test.

Reads the gradebook (what ``lr-course grade`` / ``nbgrader autograde`` wrote) and writes
``reports/<assignment>.png`` and ``reports/<assignment>.html`` in the course directory.
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
    return {"totals": totals, "pass_rate": rate, "max_total": float(sum(max_score.values()))}


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


def write_report(course, assignment, scores: dict, outdir=None, refusals=()):
    """Write the PNG and HTML report; return their paths.

    ``refusals`` (:class:`~lr_course.grading.collect.Refusal`) are listed with their reasons:
    submissions collect did not take. Every student-controlled text is escaped.
    """
    if not scores:
        from lr_course.grading.submission import GradingError
        raise GradingError(f"nothing graded yet for {assignment}: run `lr-course grade "
                           f"{assignment}` first")
    outdir = Path(outdir) if outdir is not None else Path(course) / "reports"
    outdir.mkdir(parents=True, exist_ok=True)
    summary = summarise(scores)
    png, page = outdir / f"{assignment}.png", outdir / f"{assignment}.html"
    draw(summary, assignment, png)
    totals = np.array(list(summary["totals"].values()))
    rows = "\n".join(f"<tr><td>{html_text(g)}</td><td>{r:.0%}</td></tr>"
                     for g, r in summary["pass_rate"].items())
    students = "\n".join(f"<tr><td>{html_text(s)}</td><td>{t:g}</td></tr>"
                         for s, t in sorted(summary["totals"].items()))
    refused = ""
    if refusals:
        refused = ("<h2>Refused at collect</h2><table><tr><th>student</th><th>where</th>"
                   "<th>reason</th></tr>" + "\n".join(
                       f"<tr><td>{html_text(r.student)}</td><td>{html_text(r.where)}</td>"
                       f"<td>{html_text(r.reason)}</td></tr>" for r in refusals) + "</table>\n")
    page.write_text(f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html_text(assignment)} report</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}
td,th{{padding:.2em .8em;text-align:left}}</style></head><body>
<h1>{html_text(assignment)}</h1>
<p>{totals.size} students; mean {totals.mean():.2f}, median {np.median(totals):.2f} of
{summary['max_total']:g} points.</p>
<img src="{png.name}" alt="grade distribution and pass rate per test" style="max-width:100%">
<h2>Pass rate per test</h2><table><tr><th>test</th><th>full points</th></tr>{rows}</table>
<h2>Scores</h2><table><tr><th>student</th><th>score</th></tr>{students}</table>
{refused}</body></html>
""")
    return png, page
