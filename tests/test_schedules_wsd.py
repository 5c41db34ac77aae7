"""The warmup-stable-decay schedule, against its piecewise formula written out by hand."""

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

from lr_course.schedules.wsd import warmup_stable_decay


def _by_hand(t, lr_peak, T, D, W, lr_min, shape):
    if t < W:
        return lr_peak * (t + 1) / W
    if t < T - D:
        return lr_peak
    p = min(1.0, (t - (T - D) + 1) / D)
    s = {"linear": 1 - p, "sqrt": 1 - math.sqrt(p), "cosine": 0.5 * (1 + math.cos(math.pi * p))}[shape]
    return lr_min + (lr_peak - lr_min) * s


@pytest.mark.parametrize("shape", ["linear", "sqrt", "cosine"])
def test_matches_the_formula(shape):
    sched = warmup_stable_decay(0.3, total_steps=50, decay_steps=10, warmup_steps=5, lr_min=0.01, shape=shape)
    steps = np.arange(60)
    expected = [_by_hand(t, 0.3, 50, 10, 5, 0.01, shape) for t in steps]
    np.testing.assert_allclose(sched(steps), expected, rtol=1e-12)
    assert sched(49) == pytest.approx(0.01) and sched(1000) == pytest.approx(0.01)
    assert sched(7) == sched(np.array([7]))[0]


@given(T=st.integers(2, 300), data=st.data())
def test_plateau_is_flat_and_the_cool_down_never_rises(T, data):
    D = data.draw(st.integers(1, T))
    W = data.draw(st.integers(0, T - D))
    sched = warmup_stable_decay(1.0, T, D, warmup_steps=W)
    values = sched(np.arange(T + 5))
    assert np.all(values[W:T - D] == 1.0)
    assert np.all(np.diff(values[max(W, T - D - 1):]) <= 1e-15)
    assert values[T - 1] == 0.0 and np.all(values >= 0)


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="lr_peak"):
        warmup_stable_decay(-1.0, 10, 2)
    with pytest.raises(ValueError, match="lr_min"):
        warmup_stable_decay(0.1, 10, 2, lr_min=0.2)
    with pytest.raises(ValueError, match="decay_steps"):
        warmup_stable_decay(0.1, 10, 9, warmup_steps=2)
    with pytest.raises(ValueError, match="total_steps"):
        warmup_stable_decay(0.1, 0, 1)
    with pytest.raises(ValueError, match="shape"):
        warmup_stable_decay(0.1, 10, 2, shape="step")
    with pytest.raises(ValueError, match="step"):
        warmup_stable_decay(0.1, 10, 2)(-1)
