"""The lesson 04-06 figures draw what they are given, with labelled axes."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lr_course import plots_tuning, schedules  # noqa: E402
from lr_course.finder import RangeTestResult  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_gallery_draws_one_panel_per_entry_and_hides_the_rest():
    panels = {
        "constant": schedules.constant(0.1),
        "exponential": {"smooth": schedules.exponential_decay(0.1, 0.5, 10),
                        "staircase": schedules.exponential_decay(0.1, 0.5, 10, staircase=True)},
        "precomputed": np.linspace(0.1, 0.0, 50),
    }
    fig = plots_tuning.plot_schedule_gallery(panels, 50, ncols=2, mark=30)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 3 and len(fig.axes) == 4
    assert len(visible[1].get_lines()) == 3  # two curves and the mark
    np.testing.assert_allclose(visible[0].get_lines()[0].get_ydata(), 0.1)
    assert visible[0].get_ylabel() == "learning rate"


def test_gallery_rejects_bad_arguments():
    with pytest.raises(ValueError, match="panels"):
        plots_tuning.plot_schedule_gallery({}, 10)
    with pytest.raises(ValueError, match="num_steps"):
        plots_tuning.plot_schedule_gallery({"c": schedules.constant(1.0)}, 1)


def test_range_test_figure_marks_suggestion_and_blow_up():
    lrs = np.geomspace(1e-3, 1.0, 20)
    losses = np.r_[np.linspace(2.0, 0.5, 19), np.inf]
    result = RangeTestResult(lrs, losses, losses.copy(), suggestion=0.01, best_lr=0.1, diverged_lr=1.0)
    ax = plots_tuning.plot_range_test(result)
    assert ax.get_xscale() == "log"
    xs = [line.get_xdata()[0] for line in ax.get_lines()[2:]]
    assert xs == [0.1, 0.01, 1.0]
    assert np.isfinite(ax.get_ylim()).all()


def test_search_layout_puts_every_trial_on_the_map():
    space = {"lr": ("log", 1e-3, 1.0), "other": ("linear", 0.0, 1.0)}
    layouts = {"grid": {"lr": np.array([1e-3, 1.0]), "other": np.array([0.0, 1.0])},
               "random": {"lr": np.array([0.01, 0.1, 0.5]), "other": np.array([0.2, 0.3, 0.9])}}
    ax = plots_tuning.plot_search_layout(lambda lr, other: np.log10(lr) ** 2, space, layouts, resolution=10)
    offsets = [c.get_offsets() for c in ax.collections if len(c.get_offsets()) in (2, 3)]
    assert sorted(len(o) for o in offsets) == [2, 3]
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "lr"
    with pytest.raises(ValueError, match="two"):
        plots_tuning.plot_search_layout(lambda lr: lr, {"lr": ("log", 0.1, 1.0)}, {})


def test_mean_square_draws_curves_and_floors():
    ax = plots_tuning.plot_mean_square({"a": np.ones(5), "b": np.full(5, 0.5)},
                                       floors={"floor": 0.7, "moving": np.linspace(1, 0.1, 5)})
    assert len(ax.get_lines()) == 4 and ax.get_yscale() == "log"
