"""The static site renders its equations offline: a page built like ``make html`` opened in
headless Chromium with every network request blocked shows typeset math and no raw ``$...$``.

Lesson 02 is rendered as committed (no outputs: the math is in its markdown) by the same
tools/build_html.py that ``make html`` runs, into a temporary folder with its own MathJax.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
LESSON = ROOT / "notebooks" / "02_adaptive_methods.ipynb"
RAW_MATH = re.compile(r"\$[^$\n]{1,200}\$|\\frac|\\eta|\\beta|\\lambda")


def _build(out):
    subprocess.run([sys.executable, str(ROOT / "tools" / "build_html.py"), "--no-execute",
                    "--output-dir", str(out), str(LESSON)], check=True, capture_output=True, timeout=300)
    return out / (LESSON.stem + ".html")


def _typeset(offline_page, html):
    offline_page.set_default_timeout(60_000)
    offline_page.goto(html.as_uri())
    offline_page.wait_for_function("() => window.MathJax && window.MathJax.Hub")
    # MathJax 2 runs its queue in order: this resolves once the page's typesetting is done.
    offline_page.evaluate("() => new Promise(done => MathJax.Hub.Queue(() => done(true)))")
    return offline_page.eval_on_selector_all(".jp-RenderedMarkdown", "cells => cells.map(c => c.innerText)")


def test_equations_are_typeset_with_no_network(offline_page, tmp_path):
    html = _build(tmp_path / "site")
    assert "cdnjs" not in html.read_text() or "mathjax/MathJax.js" in html.read_text()
    texts = _typeset(offline_page, html)
    assert len(texts) > 10, "no rendered markdown cells found"
    raw = [m.group(0) for text in texts for m in RAW_MATH.finditer(text)]
    assert not raw, f"raw LaTeX left on the page: {raw[:5]}"
    typeset = offline_page.locator(".MathJax, .MathJax_Display, .MathJax_CHTML, .MathJax_SVG").count()
    assert typeset > 50, f"only {typeset} typeset formulas"
    assert not [url for url in offline_page.blocked if "mathjax" in url.lower()]


def test_the_check_sees_raw_math_when_mathjax_is_missing(offline_page, tmp_path):
    """The assertion above can fail: remove the served MathJax and the formulas stay raw."""
    import shutil

    html = _build(tmp_path / "site")
    shutil.rmtree(tmp_path / "site" / "mathjax")
    offline_page.set_default_timeout(10_000)
    offline_page.goto(html.as_uri())
    texts = offline_page.eval_on_selector_all(".jp-RenderedMarkdown", "cells => cells.map(c => c.innerText)")
    assert any(RAW_MATH.search(text) for text in texts)
