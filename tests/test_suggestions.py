"""fastai's range-test rules on hand-made curves whose answers are known."""

import math

import numpy as np
import pytest

from lr_course import optimizers, problems
from lr_course.finder import RangeTestResult, range_test
from lr_course.suggestions import fastai_suggestions, suggest_minimum, suggest_steep, suggest_valley

LRS = 10.0 ** np.linspace(-4, 1, 51)          # 1e-4 .. 10, ten points per decade


def v_shape(bottom=30):
    """Falls linearly in log(lr) down to index ``bottom``, then rises twice as fast."""
    x = np.arange(len(LRS), dtype=float)
    return np.where(x <= bottom, 4.0 - 0.1 * x, 4.0 - 0.1 * bottom + 0.2 * (x - bottom))


def test_minimum_is_a_tenth_of_the_bottom():
    assert suggest_minimum(LRS, v_shape(30)) == pytest.approx(LRS[30] / 10)
    assert suggest_minimum(LRS, v_shape(12)) == pytest.approx(LRS[12] / 10)


def test_steep_is_the_left_end_of_the_steepest_segment():
    losses = v_shape(40)
    losses[20:] -= 0.5            # one cliff between index 19 and 20
    assert suggest_steep(LRS, losses) == pytest.approx(LRS[19])
    # the slope is per log(lr): the same drop over a wider lr gap is less steep
    lrs = np.array([1e-3, 1e-2, 2e-2, 1e-1])
    assert suggest_steep(lrs, [3.0, 2.0, 1.5, 1.0]) == pytest.approx(1e-2)   # 0.5 over log 2 beats 1 over log 10


def test_valley_lands_about_halfway_along_a_clean_descent():
    # strictly decreasing from index 0 to 30 (31 points): s = 30 - 31 = -1, j = -1 + 10 + 5
    assert suggest_valley(LRS, v_shape(30)) == pytest.approx(LRS[14])
    # a flat start does not count: the descent runs from index 10 to 30 (21 points), j = 9 + 7 + 3
    losses = v_shape(30)
    losses[:10] = losses[10]
    assert suggest_valley(LRS, losses) == pytest.approx(LRS[19])


def test_valley_on_a_monotone_curve_uses_all_of_it():
    falling = np.linspace(3.0, 1.0, len(LRS))      # 51 points: j = -1 + 17 + 8
    assert suggest_valley(LRS, falling) == pytest.approx(LRS[24])
    assert suggest_steep(LRS, falling) == pytest.approx(LRS[0])  # equal slopes: the first


def test_valley_skips_noise_but_steep_does_not():
    rng = np.random.default_rng(0)
    clean = v_shape(30)
    noisy = clean + rng.normal(0, 0.02, len(LRS))
    noisy[5] -= 1.0                                 # one dip in the flat start
    # steep jumps onto the noise spike; valley still follows the long descent
    assert suggest_steep(LRS, noisy) == pytest.approx(LRS[4])
    assert abs(np.log10(suggest_valley(LRS, noisy) / suggest_valley(LRS, clean))) < 0.3


def test_longest_chain_may_skip_points():
    # 5, 9, 4, 9, 3, 9, 2: the chain 5 > 4 > 3 > 2 has 4 points and ends at index 6
    lrs = 10.0 ** np.arange(7)
    assert suggest_valley(lrs, [5, 9, 4, 9, 3, 9, 2]) == pytest.approx(lrs[2 + 1 + 0])  # s = 2, j = 2 + 1 + 0


def test_a_short_valley_at_the_start_stays_inside_the_curve():
    # fastai's arithmetic gives index -1 (the last point) for a two-point valley at the start
    assert suggest_valley([0.1, 1.0, 10.0], [2.0, 1.0, 5.0]) == pytest.approx(0.1)


def test_curve_is_cut_at_the_first_nan_or_inf():
    losses = v_shape(30)
    losses[8] = np.nan
    assert suggest_minimum(LRS, losses) == pytest.approx(LRS[7] / 10)
    losses[8] = np.inf
    assert suggest_valley(LRS, losses) == pytest.approx(LRS[-1 + 2 + 1])     # 8 points: j = -1 + 2 + 1
    with pytest.raises(ValueError, match="at least 2 finite"):
        suggest_steep(LRS, np.r_[1.0, np.nan, v_shape()[2:]])


def test_a_curve_that_never_decreases_raises_or_falls_back():
    rising = np.linspace(1.0, 3.0, len(LRS))
    for rule in (suggest_steep, suggest_valley):
        with pytest.raises(ValueError, match="never decreases"):
            rule(LRS, rising)
        with pytest.raises(ValueError, match="never decreases"):
            rule(LRS, np.ones(len(LRS)))           # flat: no strict decrease either
    assert suggest_minimum(LRS, rising) == pytest.approx(LRS[0] / 10)   # below the range: start lower


@pytest.mark.parametrize("lrs, losses, match", [
    ([0.1], [1.0], "at least 2"),
    ([0.1, 1.0], [1.0], "same length"),
    ([[0.1, 1.0]], [[1.0, 0.5]], "1-D"),
    ([1.0, 0.1], [1.0, 0.5], "increasing"),
    ([0.0, 0.1], [1.0, 0.5], "positive"),
    ([0.1, math.inf], [1.0, 0.5], "finite"),
])
def test_bad_curves_are_refused(lrs, losses, match):
    for rule in (suggest_minimum, suggest_steep, suggest_valley):
        with pytest.raises(ValueError, match=match):
            rule(lrs, losses)


def test_fastai_trimming_drops_the_first_tenth_and_the_last_five():
    lrs = np.geomspace(1e-4, 1.0, 40)
    smoothed = v_shape(30)[:40].copy()
    smoothed[1] = -5.0         # in the first tenth (4 records): ignored when trimming
    smoothed[-2] = -5.0        # in the last five: ignored when trimming
    result = RangeTestResult(lrs, smoothed, smoothed, suggestion=lrs[1] / 10, best_lr=lrs[1], diverged_lr=None)
    trimmed = fastai_suggestions(result)
    assert trimmed["minimum/10"] == pytest.approx(lrs[30] / 10)
    assert fastai_suggestions(result, trim=False)["minimum/10"] == pytest.approx(lrs[1] / 10)
    assert trimmed["valley"] == suggest_valley(lrs[4:-5], smoothed[4:-5])
    assert trimmed["steep"] == suggest_steep(lrs[4:-5], smoothed[4:-5])


def test_on_a_quadratic_every_rule_is_below_the_blow_up():
    result = range_test(problems.Quadratic([0.5, 10.0]), lambda lr: optimizers.sgd(lr=lr))
    rules = fastai_suggestions(result)
    assert result.diverged
    assert all(result.lrs[0] < lr < result.diverged_lr for lr in rules.values())
    # untrimmed, minimum/10 is the course's rule; trimmed, the last five records (where this
    # quadratic's lowest loss sits, just before the blow-up) are gone, so it can only be lower
    assert fastai_suggestions(result, trim=False)["minimum/10"] == pytest.approx(result.suggestion)
    assert rules["minimum/10"] < result.suggestion
