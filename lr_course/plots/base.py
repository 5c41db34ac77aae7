"""What every course figure shares: a fresh Axes when none is given, colours by lr, lr marks.

The figures of :mod:`lr_course.plots` draw on a matplotlib ``Axes`` (a new figure when ``ax``
is None) and return it, so a lesson composes panels with ``plt.subplots``. Learning rates that
span decades go on a log axis, with 1-2-5 tick labels when the span is short.
"""

from __future__ import annotations

import numpy as np
import matplotlib.pyplot as plt
from matplotlib import colors as mcolors
from matplotlib import ticker

__all__ = ["lr_colors", "mark_lrs"]


def _axes(ax, figsize=(5.5, 3.6)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def lr_colors(lrs, cmap="viridis"):
    """One colour per learning rate, spread evenly over log10(lr).

    Args:
        lrs: positive learning rates.
        cmap: a matplotlib colormap name.

    Returns:
        ``(colors, norm)``: a list of RGBA tuples, and the ``LogNorm`` used (for a colour bar).

    >>> colors, norm = lr_colors([1e-3, 1e-1])
    >>> len(colors), round(norm.vmin, 6), round(norm.vmax, 6)
    (2, 0.001, 0.1)
    """
    lrs = np.asarray(lrs, dtype=float)
    if lrs.size == 0 or np.any(lrs <= 0):
        raise ValueError(f"lrs must be positive and non-empty, got {lrs}")
    low, high = lrs.min(), lrs.max()
    norm = mcolors.LogNorm(vmin=low, vmax=high if high > low else low * 10)
    colormap = plt.get_cmap(cmap)
    return [colormap(norm(lr)) for lr in lrs], norm


def mark_lrs(ax, marks, *, axis="x", colors=None):
    """Draw labelled vertical (or horizontal) dashed lines at special learning rates.

    Args:
        ax: the axes.
        marks: ``{label: lr}``, e.g. ``{"1/L": 0.1, "2/L": 0.2}``.
        axis: ``"x"`` for vertical lines, ``"y"`` for horizontal ones.
        colors: optional list of colours, one per mark.

    Returns:
        The axes.
    """
    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    palette = colors or ["0.35", "tab:red", "tab:green", "tab:purple", "tab:brown"]
    for (label, value), colour in zip(marks.items(), palette * len(marks)):
        line = ax.axvline if axis == "x" else ax.axhline
        line(value, color=colour, linestyle="--", linewidth=1.2, label=label)
    return ax


def log_lr_axis(ax, lrs):
    """A log x axis whose labels stay readable: 1-2-5 ticks when lr spans under two decades."""
    ax.set_xscale("log")
    lrs = np.asarray(lrs, dtype=float)
    if lrs.size and np.log10(lrs.max() / lrs.min()) < 2:
        ax.xaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
