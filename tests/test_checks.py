"""Tests for lr_course._checks: each rule's edges, both sides, and the odd types it refuses."""

import numpy as np
import pytest

from lr_course import _checks


@pytest.mark.parametrize("kwargs, good, bad", [
    (dict(), [-1e300, 0, 2.5, np.float32(1.5), np.int64(3), np.array(0.5)],
     [np.inf, -np.inf, np.nan]),
    (dict(low=0), [0, 0.0, 1e300], [-1e-300, -1]),
    (dict(low=0, low_open=True), [1e-300, 5], [0, 0.0, -1]),
    (dict(high=1), [1, 1.0, -5], [1.0000001, 2]),
    (dict(high=1, high_open=True), [0.999999, -5], [1, 1.0]),
    (dict(low=0, high=1, low_open=True), [1, 0.5], [0, 1.5]),
])
def test_real_accepts_exactly_its_interval(kwargs, good, bad):
    for value in good:
        out = _checks.real("x", value, **kwargs)
        assert type(out) is float and out == float(value)
    for value in bad:
        with pytest.raises(ValueError, match=r"^x must be .*, got"):
            _checks.real("x", value, **kwargs)


@pytest.mark.parametrize("value", [True, False, np.True_, "0.1", None, [0.1], np.array([0.1]),
                                   1j, np.array("1")])
def test_real_refuses_what_is_not_a_number(value):
    with pytest.raises(ValueError, match=r"^lr must be a number \(a finite number >= 0\), got"):
        _checks.real("lr", value, low=0)


def test_real_messages_state_the_rule():
    with pytest.raises(ValueError, match=r"^b must be in \(0, 1\), got 1$"):
        _checks.real("b", 1, low=0, high=1, low_open=True, high_open=True)
    with pytest.raises(ValueError, match=r"^b must be a finite number < 1, got 2$"):
        _checks.real("b", 2, high=1, high_open=True)
    with pytest.raises(ValueError, match=r"^b must be a finite number <= 1, got 2$"):
        _checks.real("b", 2, high=1)
    with pytest.raises(ValueError, match=r"^b must be a finite number > 0, got 0$"):
        _checks.real("b", 0, low=0, low_open=True)
    with pytest.raises(ValueError, match=r"^b must be in \[0, lr0=1\], got 2$"):
        _checks.real("b", 2, low=0, high=1, rule="in [0, lr0=1]")


def test_real_array_checks_every_entry_and_the_dimensions():
    out = _checks.real_array("lrs", [1, 2], low=1)
    assert out.dtype == np.float64 and out.tolist() == [1.0, 2.0]
    x = np.array([0.5, 1.0])
    assert _checks.real_array("lrs", x) is x  # no copy when nothing changes
    np.testing.assert_array_equal(_checks.real_array("q", 1.0, low=0, high=1), 1.0)
    for bad, rule in [([0.5, -0.1], "low"), ([0.5, np.nan], "low"), ([2.0], "high")]:
        with pytest.raises(ValueError, match=r"^lrs must hold only numbers "):
            _checks.real_array("lrs", bad, low=0, high=1, high_open=True)
    with pytest.raises(ValueError, match=r"^lrs must hold only numbers < 1 "):
        _checks.real_array("lrs", [1.0], high=1, high_open=True)
    with pytest.raises(ValueError, match=r"^lrs must hold only numbers <= 1 "):
        _checks.real_array("lrs", [1.5], high=1)
    with pytest.raises(ValueError, match="lrs must hold only numbers"):
        _checks.real_array("lrs", ["a"])
    with pytest.raises(ValueError, match="lrs must hold only numbers"):
        _checks.real_array("lrs", [True, False])
    with pytest.raises(ValueError, match=r"^lrs must be a 1-D array, got shape \(1, 1\)$"):
        _checks.real_array("lrs", [[0.1]], ndim=1)
    assert _checks.real_array("lrs", [0.0, 0.0], low=0).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError):
        _checks.real_array("lrs", [0.0], low=0, low_open=True)


def test_integer_edges_and_types():
    assert _checks.integer("n", 2, minimum=2) == 2 and type(_checks.integer("n", np.int64(5))) is int
    assert _checks.integer("n", -7) == -7
    assert _checks.integer("n", None, allow_none=True) is None
    for bad in [1, 2.0, True, np.True_, "3", None]:
        with pytest.raises(ValueError, match=r"^n must be an integer >= 2, got"):
            _checks.integer("n", bad, minimum=2)
    with pytest.raises(ValueError, match=r"^n must be an integer >= 0 or None, got -1$"):
        _checks.integer("n", -1, minimum=0, allow_none=True)
    with pytest.raises(ValueError, match=r"^n must be an integer, got 1.5$"):
        _checks.integer("n", 1.5)


def test_flag_choice_generator_function():
    assert _checks.flag("f", True) is True and _checks.flag("f", np.False_) is False
    for bad in [1, 0, "yes", None]:
        with pytest.raises(ValueError, match=r"^f must be True or False"):
            _checks.flag("f", bad)
    assert _checks.choice("m", "a", ("a", "b")) == "a"
    for bad in ["c", None, ["a"]]:
        with pytest.raises(ValueError, match=r"^m must be one of 'a', 'b', got"):
            _checks.choice("m", bad, ("a", "b"))
    rng = np.random.default_rng(0)
    assert _checks.generator(rng) is rng and _checks.generator(None, allow_none=True) is None
    for bad in [0, np.random.RandomState(0), None]:
        with pytest.raises(ValueError, match=r"^rng must be a numpy.random.Generator"):
            _checks.generator(bad)
    with pytest.raises(ValueError, match=r"^seed must be a numpy.random.Generator .* or None, got 3$"):
        _checks.generator(3, "seed", allow_none=True)
    assert _checks.function("f", len) is len and _checks.function("f", None, allow_none=True) is None
    with pytest.raises(ValueError, match=r"^f must be a function lr -> x, got 3$"):
        _checks.function("f", 3, "a function lr -> x")
    with pytest.raises(ValueError, match=r"^f must be a function, got None$"):
        _checks.function("f", None)
