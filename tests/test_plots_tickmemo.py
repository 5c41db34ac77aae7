"""plots.tickmemo: remembered ticks give the same pixels, are recomputed when the axis changes."""

import numpy as np
import pytest
from matplotlib import axis as maxis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from lr_course.plots.tickmemo import ticks_remembered
from lr_course.plots.ticks import lighten_log_axes


def _many_kinds():
    """Figures like the lessons' ones: log axes, legends, a colour bar, a suptitle, shared axes."""
    steps = np.arange(1, 301)
    rng = lambda: np.random.default_rng(0)   # noqa: E731  (each figure draws the same data twice)

    def grid():
        fig = Figure(figsize=(9, 4), layout="constrained")
        axes = fig.subplots(2, 3, sharex=True)
        for k, ax in enumerate(axes.flat):
            ax.plot(steps, 0.1 * 0.5 ** (steps // (25 * (k + 1))), label="step decay")
            ax.plot(steps, 0.1 / (1 + 0.01 * k * steps), label="inverse time")
            ax.set_title(f"panel {k}")
        axes[0, 0].legend(fontsize="small")
        fig.supylabel("learning rate")
        fig.suptitle("a suptitle takes room at the top")
        return fig

    def logs():
        fig = Figure(figsize=(8, 3.5), layout="constrained")
        left, right = fig.subplots(1, 2)
        for lr in np.geomspace(1e-3, 1, 5):
            left.loglog(steps, np.exp(-lr * steps) + 1e-6, label=f"lr {lr:.3g}")
        left.set(xlabel="step", ylabel="loss")
        left.legend(ncols=2, fontsize="x-small", title="learning rate")
        mesh = right.pcolormesh(rng().random((6, 8)))
        fig.colorbar(mesh, ax=right).set_label("score")
        right.set(xlabel="momentum", ylabel="lr")
        return fig

    def bars():
        fig = Figure(figsize=(6, 3), layout="constrained")
        ax = fig.add_subplot()
        names = ["constant", "step decay", "cosine", "reduce on plateau"]
        ax.barh(names, [3.1, 2.2, 1.9, 2.0])
        ax.set(xlabel="final validation error, %", title="where each schedule ends")
        ax.invert_yaxis()
        return fig

    def plain():
        fig = Figure(figsize=(4, 3))                       # no layout engine at all
        ax = fig.add_subplot()
        ax.plot(rng().normal(size=50).cumsum() * 1e4)        # an offset text on the y axis
        return fig

    return [grid, logs, bars, plain]


def _pixels(make, remembered):
    fig = make()
    FigureCanvasAgg(fig)
    lighten_log_axes(fig)
    if remembered:
        with ticks_remembered() as counts:
            fig.canvas.draw()
    else:
        fig.canvas.draw()
        counts = None
    return np.asarray(fig.canvas.buffer_rgba()).copy(), counts


@pytest.mark.parametrize("make", _many_kinds(), ids=lambda f: f.__name__)
def test_the_same_pixels_with_remembered_ticks(make):
    before, _ = _pixels(make, remembered=False)
    after, counts = _pixels(make, remembered=True)
    assert before.shape == after.shape
    assert np.array_equal(before, after)
    assert counts["computed"] > 0
    if make.__name__ != "plain":
        # the constrained layout asks many times in the same state: most answers are reused
        assert counts["reused"] > 2 * counts["computed"]
        assert counts["boxes reused"] > counts["boxes computed"] > 0


def test_the_ticks_follow_new_limits_inside_the_block():
    fig = Figure(layout="constrained")
    ax = fig.add_subplot()
    ax.plot([0, 10], [0, 1])
    FigureCanvasAgg(fig)
    with ticks_remembered():
        fig.canvas.draw()
        first = [t.get_loc() for t in ax.xaxis._update_ticks()]
        ax.set_xlim(0, 1000)
        second = [t.get_loc() for t in ax.xaxis._update_ticks()]
        labels = [t.get_text() for t in ax.get_xticklabels()]
    assert max(first) <= 10 < max(second)
    assert "1000" in labels


def test_a_new_locator_or_a_moved_axes_is_a_new_state():
    from matplotlib import ticker

    fig = Figure(layout="constrained")
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1])
    FigureCanvasAgg(fig)
    with ticks_remembered() as counts:
        fig.canvas.draw()
        computed = counts["computed"]
        ax.xaxis.set_major_locator(ticker.FixedLocator([0.25, 0.75]))
        assert [t.get_loc() for t in ax.xaxis._update_ticks()] == [0.25, 0.75]
        assert counts["computed"] == computed + 1
        ax.set_position([0.3, 0.3, 0.4, 0.4])
        ax.xaxis._update_ticks()
        assert counts["computed"] == computed + 2


def test_matplotlib_is_restored_after_the_block_even_on_error():
    original = maxis.Axis._update_ticks, maxis.Axis._get_ticklabel_bboxes
    with pytest.raises(RuntimeError):
        with ticks_remembered():
            assert maxis.Axis._update_ticks is not original[0]
            assert maxis.Axis._get_ticklabel_bboxes is not original[1]
            raise RuntimeError("boom")
    assert (maxis.Axis._update_ticks, maxis.Axis._get_ticklabel_bboxes) == original


def test_a_nested_block_changes_nothing_more():
    original = maxis.Axis._update_ticks
    with ticks_remembered():
        outer = maxis.Axis._update_ticks
        with ticks_remembered() as inner_counts:
            assert maxis.Axis._update_ticks is outer
        assert maxis.Axis._update_ticks is outer     # the inner block did not restore early
        assert inner_counts["computed"] == inner_counts["reused"] == 0
    assert maxis.Axis._update_ticks is original
