"""The lesson figures draw what they are given, with labelled axes, and the Pareto front is right."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings, strategies as st  # noqa: E402

from lr_course import plots, problems, schedules  # noqa: E402
from lr_course.finder import RangeTestResult  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _front_by_loops(times, accs):
    n = len(times)
    return [not any(times[j] <= times[i] and accs[j] >= accs[i] and (times[j] < times[i] or accs[j] > accs[i])
                    for j in range(n)) for i in range(n)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=12))
def test_pareto_front_matches_its_definition(points):
    # small integers make ties frequent, the case a sort-based front gets wrong
    times = np.array([p[0] for p in points], dtype=float)
    accs = np.array([p[1] for p in points], dtype=float)
    mask = plots.pareto_front(times, accs)
    assert mask.tolist() == _front_by_loops(times, accs)
    assert mask.any()  # the fastest of the most accurate runs is never dominated


def test_pareto_front_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match="times and accuracies"):
        plots.pareto_front([1.0, 2.0], [0.5])


def test_lr_colors_spread_over_log_lr():
    colors, norm = plots.lr_colors([1e-4, 1e-2, 1.0])
    assert len(colors) == 3 and colors[0] != colors[-1]
    assert norm(1e-2) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="lrs"):
        plots.lr_colors([0.0, 1.0])


def test_loss_curves_draw_one_line_per_lr_and_mark_divergence():
    losses = {1e-3: np.linspace(2, 1, 50), 1e-1: np.geomspace(2, 1e-3, 50), 10.0: np.array([2.0, 50.0, np.inf])}
    ax = plots.plot_loss_curves(losses)
    lines = [line for line in ax.get_lines() if line.get_linestyle() == "-"]
    crosses = [line for line in ax.get_lines() if line.get_marker() == "x"]
    assert len(lines) == 3 and len(crosses) == 1
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "step"


def test_lr_scan_uses_log_axis_and_shows_diverged_points():
    ax = plots.plot_lr_scan([1e-3, 1e-2, 1e-1, 1.0], [1.0, 0.5, 0.1, np.nan], marks={"2/L": 0.5}, ylabel="final loss")
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "learning rate"
    labels = ax.get_legend_handles_labels()[1]
    assert "diverged" in labels and "2/L" in labels
    with pytest.raises(ValueError, match="axis"):
        plots.mark_lrs(ax, {"a": 1.0}, axis="z")


def test_contour_paths_cut_at_divergence():
    problem = problems.Quadratic.ill_conditioned()
    path = np.array([[-2.0, 0.8], [-1.0, 0.4], [np.inf, 0.0], [0.0, 0.0]])
    ax = plots.plot_contour_paths(problem, {"gd": path})
    drawn = [line for line in ax.get_lines() if line.get_label() == "gd"][0]
    assert len(drawn.get_xdata()) == 2


def test_descent_on_parabola_and_pareto_plots_build():
    ax = plots.plot_descent_on_parabola(3.0 * 0.5 ** np.arange(10), curvature=2.0)
    assert ax.get_xlabel() == "weight w"
    ax = plots.plot_pareto([1.0, 2.0, 3.0], [0.8, 0.7, 0.9], labels=["a", "b", "c"])
    front_line = [line for line in ax.get_lines() if line.get_label() == "Pareto front"][0]
    assert len(front_line.get_xdata()) == 2 and ax.get_xscale() == "log"
    ax = plots.plot_curves({"a": [1.0, 0.5, np.inf]}, logy=True)
    assert ax.get_yscale() == "log"


def test_gallery_draws_one_panel_per_entry_and_hides_the_rest():
    panels = {
        "constant": schedules.constant(0.1),
        "exponential": {"smooth": schedules.exponential_decay(0.1, 0.5, 10),
                        "staircase": schedules.exponential_decay(0.1, 0.5, 10, staircase=True)},
        "precomputed": np.linspace(0.1, 0.0, 50),
    }
    fig = plots.plot_schedule_gallery(panels, 50, ncols=2, mark=30)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 3 and len(fig.axes) == 4
    assert len(visible[1].get_lines()) == 3  # two curves and the mark
    np.testing.assert_allclose(visible[0].get_lines()[0].get_ydata(), 0.1)
    assert visible[0].get_ylabel() == "learning rate"


def test_gallery_rejects_bad_arguments():
    with pytest.raises(ValueError, match="panels"):
        plots.plot_schedule_gallery({}, 10)
    with pytest.raises(ValueError, match="num_steps"):
        plots.plot_schedule_gallery({"c": schedules.constant(1.0)}, 1)


def test_range_test_figure_marks_suggestion_and_blow_up():
    lrs = np.geomspace(1e-3, 1.0, 20)
    losses = np.r_[np.linspace(2.0, 0.5, 19), np.inf]
    result = RangeTestResult(lrs, losses, losses.copy(), suggestion=0.01, best_lr=0.1, diverged_lr=1.0)
    ax = plots.plot_range_test(result)
    assert ax.get_xscale() == "log"
    xs = [line.get_xdata()[0] for line in ax.get_lines()[2:]]
    assert xs == [0.1, 0.01, 1.0]
    assert np.isfinite(ax.get_ylim()).all()


def test_range_test_figure_puts_each_mark_on_the_smoothed_curve():
    lrs = np.geomspace(1e-3, 1.0, 4)                      # log-spaced: interpolation is linear in the index
    losses = np.array([2.0, 1.0, 0.5, 3.0])
    result = RangeTestResult(lrs, losses, losses.copy(), suggestion=0.01, best_lr=0.1, diverged_lr=None)
    halfway = float(np.sqrt(lrs[0] * lrs[1]))             # halfway between the first two, in log(lr)
    ax = plots.plot_range_test(result, marks={"valley": halfway, "steep": lrs[2]})
    points = {line.get_label(): (line.get_xdata()[0], line.get_ydata()[0])
              for line in ax.get_lines() if line.get_marker() in ("o", "s")}
    assert points["valley (0.0032)"] == pytest.approx((halfway, 1.5))
    assert points["steep (0.1)"] == pytest.approx((0.1, 0.5))
    with pytest.raises(ValueError, match="marks"):
        plots.plot_range_test(result, marks={"bad": 0.0})


def test_search_layout_puts_every_trial_on_the_map():
    space = {"lr": ("log", 1e-3, 1.0), "other": ("linear", 0.0, 1.0)}
    layouts = {"grid": {"lr": np.array([1e-3, 1.0]), "other": np.array([0.0, 1.0])},
               "random": {"lr": np.array([0.01, 0.1, 0.5]), "other": np.array([0.2, 0.3, 0.9])}}
    ax = plots.plot_search_layout(lambda lr, other: np.log10(lr) ** 2, space, layouts, resolution=10)
    offsets = [c.get_offsets() for c in ax.collections if len(c.get_offsets()) in (2, 3)]
    assert sorted(len(o) for o in offsets) == [2, 3]
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "lr"
    with pytest.raises(ValueError, match="two"):
        plots.plot_search_layout(lambda lr: lr, {"lr": ("log", 0.1, 1.0)}, {})


def test_mean_square_draws_curves_and_floors():
    ax = plots.plot_mean_square({"a": np.ones(5), "b": np.full(5, 0.5)},
                                       floors={"floor": 0.7, "moving": np.linspace(1, 0.1, 5)})
    assert len(ax.get_lines()) == 4 and ax.get_yscale() == "log"
