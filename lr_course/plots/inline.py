"""Draw each inline notebook figure once for the picture, not once more for nobody.

In a Jupyter kernel with matplotlib's inline backend, two hooks run after every cell. pyplot's
``_draw_all_if_interactive`` renders every new figure to its Agg canvas (``draw_idle`` is a
full draw on a canvas with no window), and only then does the inline backend's
``flush_figures`` render it again to the PNG that the notebook shows, and close it. The first
render is never seen; with constrained layout it costs a third of the time a lesson spends on
its figures (measured on the course's lessons: 43 of 94 CPU seconds went to figures, each
drawn three times). This is an old matplotlib behaviour (matplotlib pull request 5800 proposed
dropping ``draw_idle`` on non-GUI backends), not a course bug.

:func:`draw_inline_figures_once` disconnects pyplot's hook when, and only when, the backend is
the inline one: the figures are still shown (by ``flush_figures``) and still closed after the
cell, exactly as before. Any other backend is left alone, and switching to one later (for
example ``%matplotlib widget``) connects pyplot's hook again, since ``switch_backend`` always
installs it. ``lr_course.plots`` calls it on import.
"""

from __future__ import annotations

import sys

import matplotlib
import matplotlib.pyplot as plt

__all__ = ["draw_inline_figures_once"]


def draw_inline_figures_once() -> bool:
    """Stop pyplot redrawing inline figures that the inline backend draws and shows anyway.

    Returns:
        True if pyplot's post-cell redraw was disconnected (an IPython kernel using the inline
        backend), False where nothing was changed (a script, a test, any other backend).

    >>> draw_inline_figures_once()   # outside IPython: nothing to do
    False
    """
    ipython = sys.modules.get("IPython")
    if ipython is None or ipython.get_ipython() is None:
        return False
    backend = matplotlib.get_backend()
    if "inline" not in backend.lower():
        return False
    # pyplot loads its backend (and connects its hook) on the first figure; load it now so the
    # hook is there to disconnect. switch_backend closes open figures, so skip it when one is
    # open: the backend is loaded then.
    if not plt.get_fignums():
        plt.switch_backend(backend)
    plt.uninstall_repl_displayhook()
    return True
