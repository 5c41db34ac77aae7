"""While a figure is rendered, each axis works out its ticks once per state, not twenty times.

To draw one figure with a constrained layout, matplotlib asks every axis for its ticks (the
locator's positions, the formatter's labels, the tick artists moved and relabelled) from many
places: the axis's own bounding box, the box beside it for the axis label, each of the four
spines, the title's position, then the draw itself, and all of that once per layout pass.
Nothing that decides the ticks changes between most of these calls. Measured on the lessons'
figures (matplotlib 3.11): about 20 calls per axis per figure, a third of a figure's cost.

:func:`ticks_remembered` is a context manager under which ``Axis._update_ticks`` is computed
once per state of the axis and the answer reused while that state lasts; so are the boxes of
the tick labels (``Axis._get_ticklabel_bboxes``, asked for as often), for the same ticks. The state is
everything the ticks depend on: the view limits, the scale, where the Axes sits on the canvas
(the layout moves it between its passes, so each pass gets fresh ticks), the dpi, the locators
and formatters, and the tick settings. Outside the block matplotlib is left as it was. The
pixels come out the same (``tests/test_plots_tickmemo.py`` renders figures both ways and
compares them); where this matplotlib has no ``Axis._update_ticks`` the block does nothing.

This module imports no pyplot.
"""

from __future__ import annotations

import contextlib

from matplotlib import axis as maxis

__all__ = ["ticks_remembered"]

_ORIGINAL = getattr(maxis.Axis, "_update_ticks", None)
_ORIGINAL_BOXES = getattr(maxis.Axis, "_get_ticklabel_bboxes", None)


def _state(axis):
    """Everything ``_update_ticks`` reads, as a tuple that compares equal while it holds.

    The locator and formatter objects themselves are kept (not their ids), so a replaced one
    can never be mistaken for the old one.
    """
    figure = axis.get_figure(root=True)
    return (tuple(axis.get_view_interval()), axis.get_scale(), axis.axes.bbox.bounds,
            None if figure is None else figure.dpi,
            axis.major.locator, axis.major.formatter, axis.minor.locator, axis.minor.formatter,
            repr(axis._major_tick_kw), repr(axis._minor_tick_kw))


@contextlib.contextmanager
def ticks_remembered():
    """Within the block, each axis's ticks are computed once per state of the axis.

    Yields:
        A dict of counts, ``{"computed": n, "reused": m}``, for tests and benchmarks.

    >>> from matplotlib.figure import Figure
    >>> from matplotlib.backends.backend_agg import FigureCanvasAgg
    >>> fig = Figure(layout="constrained"); ax = fig.add_subplot(); _ = FigureCanvasAgg(fig)
    >>> with ticks_remembered() as counts:
    ...     fig.canvas.draw()
    >>> counts["reused"] > counts["computed"] > 0
    True
    """
    counts = {"computed": 0, "reused": 0, "boxes computed": 0, "boxes reused": 0}
    if (_ORIGINAL is None or _ORIGINAL_BOXES is None or maxis.Axis._update_ticks is not _ORIGINAL
            or maxis.Axis._get_ticklabel_bboxes is not _ORIGINAL_BOXES):
        # an older or newer matplotlib, or already inside a block: change nothing
        yield counts
        return
    memory, boxes = {}, {}

    def update_ticks(axis):
        state = _state(axis)
        seen = memory.get(id(axis))
        if seen is not None and seen[0] is axis and seen[1] == state:
            counts["reused"] += 1
            return list(seen[2])
        ticks = _ORIGINAL(axis)
        memory[id(axis)] = (axis, state, list(ticks))
        counts["computed"] += 1
        return ticks

    def ticklabel_bboxes(axis, ticks, renderer):
        # The boxes of the labels follow from the ticks (their labels and places) and the axis
        # state; ticks of the same state are the same objects with the same labels.
        key = (_state(axis), tuple(map(id, ticks)), id(renderer))
        seen = boxes.get(id(axis))
        if seen is not None and seen[0] is axis and seen[1] == key:
            counts["boxes reused"] += 1
            return list(seen[2][0]), list(seen[2][1])
        found = _ORIGINAL_BOXES(axis, ticks, renderer)
        boxes[id(axis)] = (axis, key, found, list(ticks), renderer)   # keeps the ids alive
        counts["boxes computed"] += 1
        return found

    maxis.Axis._update_ticks = update_ticks
    maxis.Axis._get_ticklabel_bboxes = ticklabel_bboxes
    try:
        yield counts
    finally:
        maxis.Axis._update_ticks = _ORIGINAL
        maxis.Axis._get_ticklabel_bboxes = _ORIGINAL_BOXES
