"""Feedback a student can learn from: per test, what was checked, the verdict, a hint.

Rendered from a :class:`~lr_course.grading.engine.SubmissionResult` only, which holds the
checks' descriptions, messages and hints (written not to reveal expected values) and never
the test cells' code: hidden tests stay hidden, expected values stay unknown.
"""

from __future__ import annotations

import html

__all__ = ["to_markdown", "to_html", "to_text"]


def _lines(result) -> list[tuple[str, str]]:
    """(kind, text) pairs shared by the renderers."""
    out = [("title", f"{result.assignment}: {result.score:g} / {result.max_score:g} points")]
    if result.status != "graded":
        out.append(("problem", f"Your submission could not be graded: {result.reason}"))
    for note in result.notes:
        out.append(("note", note))
    for t in result.tests:
        label = " (hidden test)" if t.hidden else ""
        out.append(("test", f"{'PASS' if t.passed else 'FAIL'} {t.grade_id}{label}: "
                            f"{t.score:g} / {t.points:g}"))
        if result.status != "graded":
            continue
        for c in t.checks:
            out.append(("check", f"[{'pass' if c.passed else 'fail'}] {c.description}: {c.message}"))
            if c.hint and not c.passed:
                out.append(("hint", f"hint: {c.hint}"))
            for w in c.warnings:
                out.append(("hint", f"numpy warned '{w}' (reported, not penalised)"))
    for err in result.cell_errors:
        out.append(("problem", f"error in your {err}"))
    if result.sandbox.get("reason") not in (None, "ok"):
        detail = result.sandbox["runs"][0]["detail"] if result.sandbox.get("runs") else ""
        out.append(("problem", f"your code was stopped: {detail}"))
    return out


def to_text(result) -> str:
    """Plain text, as ``lr-course check`` prints it."""
    indent = {"title": "", "test": "  ", "check": "      ", "hint": "          ",
              "note": "  note: ", "problem": "  "}
    return "\n".join(indent[kind] + text for kind, text in _lines(result))


def to_markdown(result) -> str:
    """Markdown, for the feedback folder."""
    out = []
    for kind, text in _lines(result):
        if kind == "title":
            out += [f"# {text}", ""]
        elif kind == "test":
            out += ["", f"## {text}"]
        elif kind == "check":
            out.append(f"- {text}")
        elif kind == "hint":
            out.append(f"  - {text}")
        else:
            out += ["", f"> {text}"]
    return "\n".join(out) + "\n"


def to_html(result) -> str:
    """A self-contained HTML page (no scripts), for the feedback folder."""
    body = []
    for kind, text in _lines(result):
        t = html.escape(text)
        if kind == "title":
            body.append(f"<h1>{t}</h1>")
        elif kind == "test":
            color = "#1a7f37" if text.startswith("PASS") else "#cf222e"
            body.append(f'<h2 style="color:{color}">{t}</h2>')
        elif kind == "check":
            body.append(f"<p>{t}</p>")
        elif kind == "hint":
            body.append(f'<p style="margin-left:2em"><em>{t}</em></p>')
        else:
            body.append(f"<blockquote>{t}</blockquote>")
    return ("<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>Feedback</title></head>"
            "<body style='font-family:sans-serif;max-width:50em'>\n"
            + "\n".join(body) + "\n</body></html>\n")
