"""Interactive explorers for the lessons (the only part of lr_course that imports ipywidgets).

Each explorer keeps its computation apart from its view: ``explorer.update(...)`` recomputes
and redraws the one figure in place (the sliders call it), ``explorer.figure`` is that matplotlib
Figure, ``explorer.widget`` the ipywidgets container and ``explorer.png()`` the current frame,
which is also what non-widget front ends (nbconvert HTML, GitHub) show.

=========================  ==================================================================
``step_size_explorer``     one lr on a 1-D and a 2-D quadratic; thresholds and regimes
``optimizer_race``         several optimizers, each with its lr, on a chosen 2-D landscape
``schedule_designer``      a schedule's lr curve and its effect on noisy SGD
``range_test_explorer``    the learning-rate range test on the digits model
``search_explorer``        grid against random search when one hyperparameter does not matter
=========================  ==================================================================

The explorers are imported on first use, so ``from lr_course.widgets import step_size_explorer``
does not pay for the others.
"""

import importlib

_WHERE = {
    "StepSizeExplorer": "step_size",
    "step_size_explorer": "step_size",
    "OptimizerRace": "race",
    "optimizer_race": "race",
    "RACERS": "race",
    "ScheduleDesigner": "designer",
    "schedule_designer": "designer",
    "RangeTestExplorer": "range_test",
    "range_test_explorer": "range_test",
    "RANGE_TEST_OPTIMIZERS": "range_test",
    "SearchExplorer": "search",
    "search_explorer": "search",
}

__all__ = sorted(_WHERE)


def __getattr__(name):
    if name in _WHERE:
        module = importlib.import_module(f"{__name__}.{_WHERE[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return __all__
