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

It also skips a measurement that a laid-out figure does not need. The inline backend saves
every figure with ``bbox_inches="tight"``, which walks every artist once more (every tick label
of every axis) to find the bounding box of the ink. A figure with constrained or tight layout
already fits inside its canvas, so for those figures (all of the course's) the PNG is made with
the canvas as it is; a figure without a layout engine (a learner's plain ``plt.plot``) is still
cropped to its ink, as before. Measured on the eight lessons: about 0.1 s a figure. Nor does a
laid-out figure need the second, blank draw that ``print_figure`` makes to run its layout: the
layout is run by itself, and the figure drawn once (:func:`_print_laid_out`).

And before a figure is drawn, its log axes lose the unlabelled minor ticks over many decades
and get plain-text labels instead of mathtext (:func:`lr_course.plots.ticks.lighten_log_axes`;
a locator or formatter that the author of the figure chose is kept), and while it is drawn each
axis works out its ticks once per layout pass, not about twenty times
(:func:`lr_course.plots.tickmemo.ticks_remembered`; the same pixels).
"""

from __future__ import annotations

import functools
import sys

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine, TightLayoutEngine

from lr_course.plots.ticks import lighten_log_axes
from lr_course.plots.tickmemo import ticks_remembered

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
    _skip_tight_bbox_when_laid_out(ipython.get_ipython())
    return True


def _laid_out(figure) -> bool:
    """True if the figure places its own axes inside the canvas (constrained or tight layout)."""
    return isinstance(figure.get_layout_engine(), (ConstrainedLayoutEngine, TightLayoutEngine))


def _print_laid_out(figure, print_figure):
    """The PNG of a laid-out figure, drawn once: its layout is worked out first, with no draw.

    With a layout engine, matplotlib's ``print_figure`` draws the whole figure twice: once with
    drawing switched off, whose only use (without the tight crop) is the layout that the draw
    runs at its start, then again for the pixels, with the layout engine off. Running the
    engine here and switching it off for the print leaves one draw, of the same layout: the
    lessons' figures come out pixel for pixel as before, about 10% faster. The engine is put
    back afterwards, so the figure stays laid out for whatever draws it next.
    """
    engine = figure.get_layout_engine()
    engine.execute(figure)
    figure.set_layout_engine(None)
    try:
        return print_figure(figure, bbox_inches=None)
    finally:
        figure.set_layout_engine(engine)


def _skip_tight_bbox_when_laid_out(shell) -> bool:
    """Make the inline PNG of a laid-out figure without the ``bbox_inches="tight"`` pass.

    Only IPython's own PNG formatter (a ``partial`` of ``pylabtools.print_figure``) is wrapped,
    keeping its keyword arguments; a formatter somebody else installed is left alone, and so is
    any other format (retina, SVG). Returns True if the formatter was wrapped.
    """
    from IPython.core import pylabtools

    formatter = shell.display_formatter.formatters["image/png"]
    try:
        current = formatter.lookup_by_type(Figure)
    except KeyError:
        return False
    if getattr(current, "_lr_course_wrapped", False):
        return True
    if not (isinstance(current, functools.partial) and current.func is pylabtools.print_figure
            and current.keywords.get("fmt", "png") == "png"):
        return False

    def print_png(figure):
        lighten_log_axes(figure)
        with ticks_remembered():
            if _laid_out(figure):
                return _print_laid_out(figure, current)
            return current(figure)

    print_png._lr_course_wrapped = True
    formatter.for_type(Figure, print_png)
    return True
