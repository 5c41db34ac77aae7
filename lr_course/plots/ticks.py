"""Fewer ticks where they only cost: no unlabelled minor ticks on a log axis over many decades.

matplotlib's default minor locator of a log axis puts ticks at 2..9 times every power of ten
and stops only beyond ten decades; a loss falling from 1 to 1e-9 gets 80 of them, a grey fringe
with no labels. Every tick is a few artists that a constrained layout measures several times
per draw, so such a fringe costs up to 0.4 s a figure (measured on the lessons, matplotlib
3.11). :class:`SparseLogMinorLocator` keeps the minor ticks up to :data:`MAX_MINOR_DECADES`
decades (where matplotlib labels them and they help reading values off) and drops them beyond.

The labels of a log axis are mathtext (``$10^{-3}$``), which matplotlib parses at about 10 ms
a distinct label in every kernel; :class:`PlainLogFormatter` writes the same labels in plain
text with superscript digits (``10⁻³``).

:func:`lighten_log_axes` puts both on every log axis of a figure that still has matplotlib's
defaults. The inline display (:mod:`lr_course.plots.inline`) and the explorers' frames
(:mod:`lr_course.widgets`) apply it. This module imports no pyplot.
"""

from __future__ import annotations

import math
import re

import numpy as np
from matplotlib import ticker

__all__ = ["MAX_MINOR_DECADES", "SparseLogMinorLocator", "PlainLogFormatter", "lighten_log_axes"]

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


_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_MATHTEXT_POWER = re.compile(r"\^\{(-?\d+)\}")


class PlainLogFormatter(ticker.LogFormatterSciNotation):
    r"""matplotlib's log tick labels written in plain text: ``10⁻³``, not ``$10^{-3}$``.

    The labels read the same, but each distinct mathtext label costs matplotlib about 10 ms to
    parse in every kernel, and a lesson shows a few hundred of them. A label this cannot write
    in plain text (anything but a signed number, a ``\times`` and a power) stays mathtext.

    >>> PlainLogFormatter()(1e-3), PlainLogFormatter()(100.0), PlainLogFormatter()(2e-2)
    ('10⁻³', '10²', '2×10⁻²')
    """

    def __call__(self, x, pos=None):
        label = super().__call__(x, pos)
        head, tail = "$\\mathdefault{", "}$"
        if not (label.startswith(head) and label.endswith(tail)):
            return label
        body = label[len(head):-len(tail)].replace("\\times", "×")
        body = _MATHTEXT_POWER.sub(lambda m: m.group(1).translate(_SUPERSCRIPTS), body)
        if any(c in body for c in "\\{}^$_"):
            return label
        return body.replace("-", "−")   # the minus sign that mathtext would have drawn


def _plain(formatter):
    """A :class:`PlainLogFormatter` with the settings of matplotlib's default ``formatter``."""
    return PlainLogFormatter(base=formatter._base, labelOnlyBase=formatter.labelOnlyBase,
                             minor_thresholds=formatter.minor_thresholds,
                             linthresh=formatter._linthresh)


def lighten_log_axes(figure) -> int:
    """Give every log axis of ``figure`` the sparse minor ticks and the plain-text labels.

    Only matplotlib's defaults are replaced (the minor ``LogLocator`` with ``subs="auto"`` and
    the ``LogFormatterSciNotation`` labels); a locator or formatter that the author of the
    figure set is kept.

    Args:
        figure: a matplotlib Figure.

    Returns:
        How many axes (x or y of one Axes each) were changed.

    >>> from matplotlib.figure import Figure
    >>> fig = Figure(); ax = fig.add_subplot(); ax.set_yscale("log")
    >>> lighten_log_axes(fig), type(ax.yaxis.get_minor_locator()).__name__
    (1, 'SparseLogMinorLocator')
    >>> type(ax.yaxis.get_major_formatter()).__name__, lighten_log_axes(fig)
    ('PlainLogFormatter', 0)
    """
    changed = 0
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_scale() != "log":
                continue
            touched = False
            locator = axis.get_minor_locator()
            if type(locator) is ticker.LogLocator and isinstance(locator._subs, str):
                axis.set_minor_locator(SparseLogMinorLocator(base=locator._base))
                touched = True
            for formatter, setter in ((axis.get_major_formatter(), axis.set_major_formatter),
                                      (axis.get_minor_formatter(), axis.set_minor_formatter)):
                if type(formatter) is ticker.LogFormatterSciNotation:
                    setter(_plain(formatter))
                    touched = True
            changed += touched
    return changed
