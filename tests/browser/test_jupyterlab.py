"""JupyterLab in headless Chromium: run an explorer, move its slider, see the figure redraw.

Two notebooks are driven on one server: the committed demo (``explorer_demo.ipynb``, run top to
bottom with Run > Run All Cells) and the real lesson 01, where only the explorer's cell is run
(the rest of the lesson trains a network for half a minute, which the lesson tests cover).
Screenshots and the server log are kept in tests/artifacts/browser/ for a developer to look at.
"""

import io
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Console errors that are expected and harmless; each must say why. Empty: any error fails.
BENIGN_CONSOLE_ERRORS = ()

ARROW_PRESSES = 40  # 40 slider steps of 0.01 decades: lr 0.05 -> 0.126, across 1/L = 0.1
LESSON = "01_too_small_too_large.ipynb"
LESSONS = Path(__file__).resolve().parents[2] / "notebooks"  # the lab fixture serves copies


def _pixels(png):
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _run_and_record_failure(page, artifacts, name, drive):
    (artifacts / f"{name}-failure.png").unlink(missing_ok=True)
    try:
        drive()
    except Exception:
        page.screenshot(path=str(artifacts / f"{name}-failure.png"), full_page=True)
        raise
    errors = [e for e in page.console_errors if not any(n in e for n in BENIGN_CONSOLE_ERRORS)]
    assert not errors, "browser console errors:\n" + "\n".join(errors)


def _open(page, lab, notebook):
    url, token, _ = lab
    page.set_default_timeout(30_000)
    # ?reset: start from an empty workspace, not one that reopens the previous test's notebook.
    page.goto(f"{url}/lab/tree/{notebook}?reset&token={token}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
    # A run requested before the kernel is connected is dropped silently: wait for the status
    # bar to report an idle kernel first.
    page.locator(".jp-StatusBar-Widget", has_text="| Idle").first.wait_for()


def _retry_until_queued(page, request):
    """Ask for a run; repeat if no cell got queued (a rare race with the kernel connecting).

    A queued or finished code cell shows ``[*]`` or ``[n]`` in its prompt instead of ``[ ]``.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    queued = """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                       .some(p => /\\[(\\*|\\d+)\\]/.test(p.innerText))"""
    for attempt in range(3):
        request()
        try:
            page.wait_for_function(queued, timeout=10_000)
            return
        except PlaywrightTimeout:
            if attempt == 2:
                raise


def _move_slider_and_compare(page, artifacts, name):
    """Screenshot the frame, move the lr slider by keyboard, screenshot again, compare."""
    frame = page.locator("img.lr-course-frame:visible")
    frame.wait_for(state="visible")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=frame.element_handle())
    label = page.locator(".lr-course-explorer .widget-html-content").first
    assert "monotone" in label.inner_text()
    before = frame.screenshot(path=str(artifacts / f"{name}-before.png"))
    src_before = frame.get_attribute("src")

    page.locator(".lr-course-explorer .noUi-handle").first.focus()
    for _ in range(ARROW_PRESSES):
        page.keyboard.press("ArrowRight")
    # The kernel answers every move; wait until the last one is drawn (the label says so).
    page.wait_for_function("el => el.innerText.includes('oscillating')",
                           arg=label.element_handle())
    page.wait_for_function("([img, old]) => img.src !== old && img.complete",
                           arg=[frame.element_handle(), src_before])
    page.locator(".jp-StatusBar-Widget", has_text="| Idle").first.wait_for()
    page.wait_for_timeout(300)  # let the last frame paint
    after = frame.screenshot(path=str(artifacts / f"{name}-after.png"))
    page.screenshot(path=str(artifacts / f"{name}-notebook.png"), full_page=True)

    a, b = _pixels(before), _pixels(after)
    assert a.shape == b.shape
    changed = np.mean(np.any(a != b, axis=-1))
    assert changed > 0.002, f"only {changed:.2%} of the figure's pixels changed"


def test_demo_run_all_then_slider_redraws(lab, page, artifacts):
    def drive():
        _open(page, lab, "explorer_demo.ipynb")

        def run_all():
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel:text-is('Run All Cells')").click()

        _retry_until_queued(page, run_all)
        _move_slider_and_compare(page, artifacts, "demo")

    _run_and_record_failure(page, artifacts, "demo", drive)


def test_lesson_explorer_cell_slider_redraws(lab, page, artifacts):
    lesson = LESSONS / LESSON
    if not lesson.exists() or "step_size_explorer(" not in lesson.read_text():
        pytest.skip(f"{LESSON} has no step-size explorer cell yet")

    def drive():
        _open(page, lab, LESSON)
        cell = page.locator(".jp-CodeCell", has_text="step_size_explorer(").first
        cell.scroll_into_view_if_needed()

        def run_cell():
            cell.locator(".jp-InputPrompt").click()  # select the cell (command mode)
            page.keyboard.press("Control+Enter")

        _retry_until_queued(page, run_cell)
        _move_slider_and_compare(page, artifacts, "lesson01")

    _run_and_record_failure(page, artifacts, "lesson01", drive)
