"""Trade-offs between cost and accuracy: the Pareto front of runs, and its figure.

The front is computed here, next to the only figure that shows it: a run stays on the front
when no other run is at least as cheap and at least as accurate, and strictly better in one.
"""

from __future__ import annotations

import numpy as np
import matplotlib.pyplot as plt

from lr_course.plots.base import _axes

__all__ = ["pareto_front", "plot_pareto"]


def pareto_front(times, accuracies):
    """Which runs are on the time-against-accuracy front (not beaten by any other run).

    Run j dominates run i when it is at least as fast and at least as accurate, and strictly
    better in one of the two; the front is the set of runs that nothing dominates. Two equal
    runs do not dominate each other.

    Args:
        times: wall-clock time of each run (lower is better).
        accuracies: final validation accuracy of each run (higher is better).

    Returns:
        A boolean mask, True for the runs on the front.

    >>> pareto_front([1.0, 2.0, 3.0], [0.8, 0.7, 0.9]).tolist()
    [True, False, True]
    """
    t = np.asarray(times, dtype=float)
    a = np.asarray(accuracies, dtype=float)
    if t.shape != a.shape or t.ndim != 1:
        raise ValueError(f"times and accuracies must be 1-D of the same length, got {t.shape} and {a.shape}")
    no_worse = (t[None, :] <= t[:, None]) & (a[None, :] >= a[:, None])
    better = (t[None, :] < t[:, None]) | (a[None, :] > a[:, None])
    return ~np.any(no_worse & better, axis=1)


def plot_pareto(times, accuracies, labels=None, *, ax=None, title=None, colors=None):
    """Runs as points in (time, accuracy), the front joined by a staircase.

    Args:
        times: wall-clock seconds per run (x, log scale).
        accuracies: validation accuracy per run (y).
        labels: optional text per run, written next to its point.
        ax: the axes, or None for a new figure.
        title: the panel title.
        colors: optional colour per run.

    Returns:
        The axes.
    """
    ax = _axes(ax, figsize=(6, 4))
    t = np.asarray(times, dtype=float)
    a = np.asarray(accuracies, dtype=float)
    front = pareto_front(t, a)
    ax.scatter(t, a, c=colors if colors is not None else "tab:blue", s=28, zorder=3,
               label="run" if colors is None else None)  # coloured runs have their own legend
    order = np.argsort(t[front])
    ax.step(t[front][order], a[front][order], where="post", color="tab:red", linewidth=1.5,
            label="Pareto front", zorder=2)
    ax.scatter(t[front], a[front], s=90, facecolors="none", edgecolors="tab:red", zorder=4)
    if labels is not None:
        for x, y, text in zip(t, a, labels):
            ax.annotate(text, (x, y), textcoords="offset points", xytext=(4, 3), fontsize=7)
    ax.set_xscale("log")
    ax.set(xlabel="wall-clock time (s)", ylabel="validation accuracy")
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small", loc="lower right")
    return ax
