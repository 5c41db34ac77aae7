"""Static figures of the lessons, one module per topic, all reachable as ``plots.<name>``.

- :mod:`~lr_course.plots.base`: a fresh Axes, colours by lr, marked rates (what the rest share);
- :mod:`~lr_course.plots.curves`: loss against step, a value against lr, mean squares and floors;
- :mod:`~lr_course.plots.landscapes`: iterates on a parabola, 2-D paths over contour lines;
- :mod:`~lr_course.plots.gallery`: schedules side by side;
- :mod:`~lr_course.plots.tuning`: the range test and the layouts of a search;
- :mod:`~lr_course.plots.tradeoffs`: the Pareto front of cost against accuracy;
- :mod:`~lr_course.plots.ticks`: no unlabelled minor ticks on log axes over many decades;
- :mod:`~lr_course.plots.tickmemo`: while a figure is drawn, each axis's ticks once per layout
  pass;
- :mod:`~lr_course.plots.inline`: in a notebook, each figure is drawn once, not twice, per
  display (called on import).

Each function draws on a matplotlib ``Axes`` (a new figure when ``ax`` is None) and returns it.
This package and ``widgets`` are the only teaching code that imports matplotlib, so
``import lr_course`` stays fast. A figure for a new topic is one new module and one line here.
"""

from lr_course.plots.base import lr_colors, mark_lrs
from lr_course.plots.curves import plot_curves, plot_loss_curves, plot_lr_scan, plot_mean_square
from lr_course.plots.gallery import plot_schedule_gallery
from lr_course.plots.inline import draw_inline_figures_once
from lr_course.plots.landscapes import plot_contour_paths, plot_descent_on_parabola
from lr_course.plots.tradeoffs import pareto_front, plot_pareto
from lr_course.plots.tuning import plot_range_test, plot_search_layout

__all__ = [
    "lr_colors", "mark_lrs",
    "plot_curves", "plot_loss_curves", "plot_lr_scan", "plot_mean_square",
    "plot_schedule_gallery",
    "plot_contour_paths", "plot_descent_on_parabola",
    "pareto_front", "plot_pareto",
    "plot_range_test", "plot_search_layout",
    "draw_inline_figures_once",
]

draw_inline_figures_once()
