"""Fewer ticks where they only cost: no unlabelled minor ticks on a log axis over many decades.

matplotlib's default minor locator of a log axis puts ticks at 2..9 times every power of ten
and stops only beyond ten decades; a loss falling from 1 to 1e-9 gets 80 of them, a grey fringe
with no labels. Every tick is a few artists that a constrained layout measures several times
per draw, so such a fringe costs up to 0.4 s a figure (measured on the lessons, matplotlib
3.11). :func:`thin_log_minor_ticks` swaps that default for :class:`SparseLogMinorLocator`,
which keeps the minor ticks up to :data:`MAX_MINOR_DECADES` decades (where matplotlib labels
them and they help reading values off) and drops them beyond. The inline display
(:mod:`lr_course.plots.inline`) and the explorers' frames (:mod:`lr_course.widgets`) apply it.
This module imports no pyplot.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib import ticker

__all__ = ["MAX_MINOR_DECADES", "SparseLogMinorLocator", "thin_log_minor_ticks"]

# A log axis spanning more decades than this shows no minor ticks (matplotlib's own limit is 10).
MAX_MINOR_DECADES = 4


class SparseLogMinorLocator(ticker.LogLocator):
    """matplotlib's minor log locator (ticks at 2..9 times each power), none over wide spans.

    >>> locator = SparseLogMinorLocator()
    >>> len(locator.tick_values(1.0, 100.0)) > 0, len(locator.tick_values(1e-9, 1.0))
    (True, 0)
    """

    def __init__(self, base=10.0, max_decades=MAX_MINOR_DECADES):
        super().__init__(base=base, subs="auto")
        self.max_decades = max_decades

    def tick_values(self, vmin, vmax):
        low, high = sorted((vmin, vmax))
        if low > 0 and math.log(high / low, self._base) > self.max_decades:
            return np.array([])
        return super().tick_values(vmin, vmax)


def thin_log_minor_ticks(figure) -> int:
    """Give every log axis of ``figure`` that still has the default minor locator a sparse one.

    Args:
        figure: a matplotlib Figure.

    Returns:
        How many axes were changed.

    >>> from matplotlib.figure import Figure
    >>> fig = Figure(); ax = fig.add_subplot(); ax.set_yscale("log")
    >>> thin_log_minor_ticks(fig), type(ax.yaxis.get_minor_locator()).__name__
    (1, 'SparseLogMinorLocator')
    """
    changed = 0
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            locator = axis.get_minor_locator()
            if (axis.get_scale() == "log" and type(locator) is ticker.LogLocator
                    and isinstance(locator._subs, str)):
                axis.set_minor_locator(SparseLogMinorLocator(base=locator._base))
                changed += 1
    return changed
