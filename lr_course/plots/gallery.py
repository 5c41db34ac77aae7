"""Schedules side by side: small multiples of lr against step on one shared horizon."""

from __future__ import annotations

import math

import numpy as np
import matplotlib.pyplot as plt

__all__ = ["plot_schedule_gallery"]


def plot_schedule_gallery(panels, num_steps, *, ncols=4, logy=False, mark=None, panel_size=(2.9, 2.1)):
    """Small multiples: one panel per schedule (or group of schedules), same horizon for all.

    Args:
        panels: ``{title: schedule}`` or ``{title: {label: schedule}}`` to overlay several
            curves in one panel; a "schedule" is anything callable on an int array of steps,
            or an array of per-step values already computed (e.g. a reduce-on-plateau trace).
        num_steps: the horizon; steps ``0 .. num_steps - 1`` are drawn.
        ncols: panels per row.
        logy: a logarithmic lr axis on every panel.
        mark: an optional step drawn as a dotted vertical line on every panel (e.g. the
            ``total_steps`` a decay was built for, to show what happens past it).
        panel_size: (width, height) of one panel in inches.

    Returns:
        The ``Figure``.
    """
    if not panels:
        raise ValueError("panels must contain at least one schedule, got an empty dict")
    if isinstance(num_steps, bool) or not isinstance(num_steps, (int, np.integer)) or num_steps < 2:
        raise ValueError(f"num_steps must be an integer >= 2, got {num_steps!r}")
    steps = np.arange(num_steps)
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size[0] * ncols, panel_size[1] * nrows),
                             layout="constrained", sharex=True, squeeze=False)
    for ax, (title, content) in zip(axes.flat, panels.items()):
        curves = content if isinstance(content, dict) else {None: content}
        for label, schedule in curves.items():
            values = np.asarray(schedule(steps) if callable(schedule) else schedule, dtype=float)
            ax.plot(steps[: len(values)], values[:num_steps], label=label, linewidth=1.5)
        if any(label is not None for label in curves):
            ax.legend(fontsize="x-small")
        if mark is not None:
            ax.axvline(mark, color="0.5", linestyle=":", linewidth=1)
        if logy:
            ax.set_yscale("log")
        ax.set_title(title, fontsize="small")
        ax.tick_params(labelsize="x-small")
    for ax in axes[-1]:
        ax.set_xlabel("step", fontsize="small")
    for ax in axes[:, 0]:
        ax.set_ylabel("learning rate", fontsize="small")
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    return fig
