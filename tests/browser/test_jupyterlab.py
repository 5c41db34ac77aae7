"""JupyterLab in headless Chromium: run the explorer notebook, move the slider, see it redraw.

Screenshots (and the server log) are kept in tests/artifacts/browser/ for a developer to look at.
"""

import io
import time

import numpy as np
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Console errors that are expected and harmless; each must say why. Empty: any error fails.
BENIGN_CONSOLE_ERRORS = ()

ARROW_PRESSES = 40  # 40 slider steps of 0.01 decades: lr 0.05 -> 0.126, across 1/L = 0.1


def _pixels(png):
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def test_slider_redraws_explorer_in_jupyterlab(lab, page, artifacts):
    (artifacts / "failure.png").unlink(missing_ok=True)
    try:
        _drive(lab, page, artifacts)
    except Exception:
        page.screenshot(path=str(artifacts / "failure.png"), full_page=True)
        raise


def _drive(lab, page, artifacts):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    url, token, _ = lab
    t0 = time.monotonic()
    mark = lambda what: print(f"{time.monotonic() - t0:6.1f} s  {what}")  # noqa: E731
    page.set_default_timeout(30_000)
    page.goto(f"{url}/lab/tree/explorer_demo.ipynb?token={token}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
    mark("notebook open")
    # "Run All" clicked before the kernel is connected is dropped silently: wait for the status
    # bar to report an idle kernel, and run again if no cell has been queued shortly after.
    page.locator(".jp-StatusBar-Widget", has_text="| Idle").first.wait_for()
    mark("kernel idle")
    for attempt in range(3):
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel:text-is('Run All Cells')").click()
        try:
            page.locator(".jp-InputPrompt", has_text="[1]").first.wait_for(timeout=10_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    mark("run all")
    frame = page.locator("img.lr-course-frame")
    frame.wait_for(state="visible")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=frame.element_handle())
    label = page.locator(".lr-course-explorer .widget-html-content").first
    assert "monotone" in label.inner_text()
    mark("explorer shown")
    before = frame.screenshot(path=str(artifacts / "before.png"))
    src_before = frame.get_attribute("src")

    handle = page.locator(".lr-course-explorer .noUi-handle").first
    handle.focus()
    for _ in range(ARROW_PRESSES):
        page.keyboard.press("ArrowRight")
    # The kernel answers every move; wait until the last one is drawn (the label says so).
    page.wait_for_function(
        "el => el.innerText.includes('oscillating')", arg=label.element_handle()
    )
    page.wait_for_function(
        "([img, old]) => img.src !== old && img.complete", arg=[frame.element_handle(), src_before]
    )
    page.locator(".jp-StatusBar-Widget", has_text="| Idle").first.wait_for()
    page.wait_for_timeout(300)  # let the last frame paint
    mark("slider moved, frame redrawn")
    after = frame.screenshot(path=str(artifacts / "after.png"))
    page.screenshot(path=str(artifacts / "notebook.png"), full_page=True)

    a, b = _pixels(before), _pixels(after)
    assert a.shape == b.shape
    changed = np.mean(np.any(a != b, axis=-1))
    assert changed > 0.002, f"only {changed:.2%} of the figure's pixels changed"

    errors = [e for e in page.console_errors if not any(n in e for n in BENIGN_CONSOLE_ERRORS)]
    assert not errors, "browser console errors:\n" + "\n".join(errors)
