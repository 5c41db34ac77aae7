"""Tests for lr_course.search: grids, log-uniform sampling, grid/random search (1-D and n-D)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lr_course import search

positive = st.floats(min_value=1e-8, max_value=1e3, allow_nan=False, allow_infinity=False)


# --------------------------------------------------------------------------- lr_grid


@settings(max_examples=200, deadline=None)
@given(low=positive, ratio=st.floats(min_value=1.001, max_value=1e6), num=st.integers(2, 60))
def test_lr_grid_endpoints_and_constant_ratio(low, ratio, num):
    high = low * ratio
    grid = search.lr_grid(low, high, num)
    assert grid.shape == (num,)
    assert grid[0] == low and grid[-1] == high
    assert np.all(np.diff(grid) > 0)
    ratios = grid[1:] / grid[:-1]
    np.testing.assert_allclose(ratios, (high / low) ** (1 / (num - 1)), rtol=1e-9)


@pytest.mark.parametrize("low, high, num", [
    (0.0, 1.0, 5), (-1.0, 1.0, 5), (1.0, 1.0, 5), (2.0, 1.0, 5), (1e-3, 1.0, 1),
    (1e-3, 1.0, 2.5), (1e-3, math.inf, 3), (math.nan, 1.0, 3), (1e-3, 1.0, True),
])
def test_lr_grid_rejects_bad_input(low, high, num):
    with pytest.raises(ValueError, match="low|high|num"):
        search.lr_grid(low, high, num)


# --------------------------------------------------------------------------- log_uniform


def test_log_uniform_in_range_and_log_uniform_distributed():
    rng = np.random.default_rng(123)
    low, high = 1e-5, 10.0
    x = search.log_uniform(low, high, 20_000, rng)
    assert x.shape == (20_000,)
    assert np.all(x >= low) and np.all(x < high)
    # Kolmogorov-Smirnov statistic of the log values against the uniform CDF.
    u = np.sort((np.log(x) - math.log(low)) / (math.log(high) - math.log(low)))
    n = u.size
    ks = max(np.max(np.arange(1, n + 1) / n - u), np.max(u - np.arange(n) / n))
    assert ks < 1.63 / math.sqrt(n)  # the 1% critical value
    # Each of the six decades gets about a sixth of the samples (a plain uniform would not).
    counts = np.histogram(np.log10(x), bins=np.arange(-5, 2))[0]
    np.testing.assert_allclose(counts / n, 1 / 6, atol=0.015)


def test_log_uniform_is_not_uniform():
    # A test that can fail: plain uniform samples put ~90% in the top decade.
    x = np.random.default_rng(0).uniform(1e-3, 1.0, 5000)
    u = np.sort((np.log(x) - math.log(1e-3)) / (math.log(1.0) - math.log(1e-3)))
    ks = np.max(np.abs(np.arange(1, u.size + 1) / u.size - u))
    assert ks > 1.63 / math.sqrt(u.size)


def test_log_uniform_seeded_and_shapes():
    a = search.log_uniform(1e-3, 1.0, 7, np.random.default_rng(5))
    b = search.log_uniform(1e-3, 1.0, 7, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    assert search.log_uniform(1e-3, 1.0, (2, 3), np.random.default_rng(0)).shape == (2, 3)
    assert search.log_uniform(1e-3, 1.0, 0, np.random.default_rng(0)).shape == (0,)


def test_log_uniform_never_reaches_high_even_for_a_tiny_interval():
    high = 1.0
    low = np.nextafter(high, 0.0)  # a one-ulp-wide interval exercises the rounding clip
    x = search.log_uniform(low, high, 1000, np.random.default_rng(0))
    assert np.all(x >= low) and np.all(x < high)


@pytest.mark.parametrize("kwargs, name", [
    (dict(low=0.0, high=1.0, size=3), "low"),
    (dict(low=1.0, high=0.5, size=3), "low"),
    (dict(low=1e-3, high=1.0, size=-1), "size"),
    (dict(low=1e-3, high=1.0, size=2.0), "size"),
])
def test_log_uniform_rejects_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        search.log_uniform(rng=np.random.default_rng(0), **kwargs)


def test_log_uniform_needs_a_generator():
    with pytest.raises(ValueError, match="rng"):
        search.log_uniform(1e-3, 1.0, 3, 42)


# --------------------------------------------------------------------------- 1-D search


def test_grid_search_scores_every_lr_in_order_and_picks_min():
    lrs = search.lr_grid(1e-4, 1.0, 9)
    seen = []

    def objective(lr):
        seen.append(lr)
        return (math.log10(lr) + 2) ** 2

    r = search.grid_search(objective, lrs)
    assert seen == lrs.tolist()
    np.testing.assert_allclose(r.scores, (np.log10(lrs) + 2) ** 2)
    assert r.best_lr == pytest.approx(1e-2)
    assert r.best_score == pytest.approx(0.0, abs=1e-20)


def test_grid_search_never_picks_nan_or_inf():
    lrs = [0.1, 0.2, 0.3, 0.4, 0.5]
    scores = {0.1: 5.0, 0.2: math.nan, 0.3: -math.inf, 0.4: 3.0, 0.5: math.inf}
    r = search.grid_search(scores.__getitem__, lrs)
    assert r.best_lr == 0.4 and r.best_score == 3.0
    assert r.num_diverged == 3
    r = search.grid_search(scores.__getitem__, lrs, maximize=True)
    assert r.best_lr == 0.1 and r.best_score == 5.0


def test_grid_search_all_diverged_has_no_best():
    r = search.grid_search(lambda lr: math.nan, [0.1, 1.0])
    assert r.best_lr is None and math.isnan(r.best_score)
    assert r.num_diverged == 2


def test_grid_search_ties_go_to_first_trial():
    assert search.grid_search(lambda lr: 1.0, [0.3, 0.1, 0.2]).best_lr == 0.3


def test_grid_search_does_not_modify_lrs():
    lrs = np.array([0.1, 0.01])
    search.grid_search(lambda lr: lr, lrs)
    np.testing.assert_array_equal(lrs, [0.1, 0.01])


@pytest.mark.parametrize("lrs", [[], [0.1, -1.0], [0.0], [math.nan]])
def test_grid_search_rejects_bad_lrs(lrs):
    with pytest.raises(ValueError, match="lrs"):
        search.grid_search(lambda lr: lr, lrs)


def test_random_search_seeded_reproducible_and_log_uniform():
    def objective(lr):
        return (math.log10(lr) + 1.5) ** 2

    a = search.random_search(objective, 1e-4, 1.0, 40, np.random.default_rng(7))
    b = search.random_search(objective, 1e-4, 1.0, 40, np.random.default_rng(7))
    np.testing.assert_array_equal(a.lrs, b.lrs)
    np.testing.assert_array_equal(a.scores, b.scores)
    assert a.best_lr == b.best_lr
    # The trials are exactly log_uniform's draws from the same seed.
    np.testing.assert_array_equal(a.lrs, search.log_uniform(1e-4, 1.0, 40,
                                                            np.random.default_rng(7)))
    assert a.best_score == a.scores.min()
    assert abs(math.log10(a.best_lr) + 1.5) < 0.3


def test_random_search_skips_diverged_and_maximizes():
    def accuracy(lr):
        return math.nan if lr > 0.1 else 1 - abs(math.log10(lr) + 2) / 10

    r = search.random_search(accuracy, 1e-4, 10.0, 60, np.random.default_rng(0), maximize=True)
    assert r.best_lr <= 0.1
    assert r.num_diverged > 0
    assert r.best_score == np.nanmax(r.scores)


def test_random_search_rejects_bad_n():
    with pytest.raises(ValueError, match="n must"):
        search.random_search(lambda lr: lr, 1e-3, 1.0, 0, np.random.default_rng(0))


# --------------------------------------------------------------------------- n-D search

SPACE = {"lr": ("log", 1e-4, 1.0), "momentum": ("linear", 0.0, 0.99)}


def test_grid_points_is_the_full_product_with_endpoints():
    pts = search.grid_points(SPACE, 4)
    assert set(pts) == {"lr", "momentum"}
    assert pts["lr"].shape == pts["momentum"].shape == (16,)
    np.testing.assert_allclose(np.unique(pts["lr"]), 10.0 ** np.array([-4, -8 / 3, -4 / 3, 0]))
    np.testing.assert_allclose(np.unique(pts["momentum"]), [0.0, 0.33, 0.66, 0.99])
    pairs = set(zip(pts["lr"].tolist(), pts["momentum"].tolist()))
    assert len(pairs) == 16


def test_random_points_in_range_and_distinct_per_axis():
    pts = search.random_points(SPACE, 500, np.random.default_rng(3))
    assert np.all((pts["lr"] >= 1e-4) & (pts["lr"] < 1.0))
    assert np.all((pts["momentum"] >= 0.0) & (pts["momentum"] < 0.99))
    assert len(np.unique(pts["lr"])) == 500
    # linear axis: about uniform (mean near the middle), log axis: median near the geometric mean
    assert abs(pts["momentum"].mean() - 0.495) < 0.05
    assert abs(np.log10(np.median(pts["lr"])) + 2) < 0.3


@pytest.mark.parametrize("space", [
    {}, {"lr": ("log", 0.0, 1.0)}, {"lr": ("cubic", 0.1, 1.0)}, {"lr": (0.1, 1.0)},
    {"m": ("linear", 1.0, 0.0)}, [("lr", "log", 0.1, 1.0)],
])
def test_bad_space_rejected(space):
    with pytest.raises(ValueError, match="space"):
        search.grid_points(space, 3)


def _one_matters(lr, momentum):
    """Only lr matters: a narrow valley in log lr; momentum is irrelevant."""
    return (math.log10(lr) + 2.37) ** 2


def test_random_beats_grid_when_one_of_two_matters():
    # Same budget (25 trials): the grid tries only 5 distinct lrs, random tries 25.
    grid = search.grid_search_nd(_one_matters, SPACE, 5)
    assert len(grid.scores) == 25
    assert len(np.unique(grid.points["lr"])) == 5
    wins = 0
    for seed in range(20):
        rand = search.random_search_nd(_one_matters, SPACE, 25, np.random.default_rng(seed))
        wins += rand.best_score < grid.best_score
    assert wins >= 17


def test_nd_search_skips_nan_and_reports_best_point():
    def objective(lr, momentum):
        return math.nan if momentum > 0.5 else lr + momentum

    r = search.grid_search_nd(objective, SPACE, 3)
    assert r.best == {"lr": 1e-4, "momentum": 0.0}
    assert r.best_score == pytest.approx(1e-4)
    r = search.random_search_nd(lambda lr, momentum: math.inf, SPACE, 4,
                                np.random.default_rng(0))
    assert r.best is None and math.isnan(r.best_score)


def test_random_search_nd_seeded():
    a = search.random_search_nd(_one_matters, SPACE, 10, np.random.default_rng(2))
    b = search.random_search_nd(_one_matters, SPACE, 10, np.random.default_rng(2))
    for name in SPACE:
        np.testing.assert_array_equal(a.points[name], b.points[name])
    assert a.best == b.best


# --------------------------------------------------------------------------- probability


@pytest.mark.parametrize("q, n", [(0.05, 60), (0.1, 10), (0.01, 100), (0.5, 3)])
def test_prob_random_in_top_matches_simulation(q, n):
    rng = np.random.default_rng(11)
    trials = 20_000
    # A trial is "in the top q" when its uniform rank is below q.
    hit = (rng.random((trials, n)) < q).any(axis=1).mean()
    p = search.prob_random_in_top(q, n)
    assert p == pytest.approx(1 - (1 - q) ** n)
    assert abs(hit - p) < 4 * math.sqrt(p * (1 - p) / trials) + 1e-9


def test_prob_random_in_top_edges_and_errors():
    assert search.prob_random_in_top(0.3, 0) == 0.0
    assert search.prob_random_in_top(1.0, 1) == 1.0
    np.testing.assert_allclose(search.prob_random_in_top(np.array([0.1, 0.2]), 2),
                               [0.19, 0.36])
    for q in (0.0, 1.5, -0.1, math.nan):
        with pytest.raises(ValueError, match="q must"):
            search.prob_random_in_top(q, 3)
    with pytest.raises(ValueError, match="n must"):
        search.prob_random_in_top(0.1, -1)


def test_edges_of_the_counts():
    rng = np.random.default_rng(0)
    assert search.log_uniform(1e-3, 1.0, (2, 0), rng).shape == (2, 0)
    for size in [(2, -1), (2.5,), (True,)]:
        with pytest.raises(ValueError, match="^size "):
            search.log_uniform(1e-3, 1.0, size, rng)
    r = search.random_search_nd(lambda lr: lr, {"lr": ("log", 1e-3, 1.0)}, 1, rng)
    assert len(r.scores) == 1  # one trial is a search
    with pytest.raises(ValueError, match="^n "):
        search.random_search_nd(lambda lr: lr, {"lr": ("log", 1e-3, 1.0)}, 0, rng)
