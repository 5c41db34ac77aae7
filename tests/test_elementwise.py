"""Tests for lr_course._elementwise: blocks and threads give the one-pass result, bit for bit."""

import contextlib
import multiprocessing
import threading
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lr_course import _elementwise, optimizers
from lr_course._elementwise import elementwise, get_num_threads, set_num_threads

from .test_optimizers import ALL_CONFIGS, make


@contextlib.contextmanager
def tiny_blocks(threads):
    """Blocks of 3 float64 elements, threads for any size: every code path on small arrays."""
    before = get_num_threads()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_elementwise, "BLOCK_BYTES", 24)
        patch.setattr(_elementwise, "PARALLEL_BYTES", 0)
        set_num_threads(threads)
        try:
            yield
        finally:
            set_num_threads(before)


def _trajectory(config_id, params, grads_seq, in_place):
    opt = make(config_id)
    params = params.copy()
    state = opt.init(params)
    for grads in grads_seq:
        if in_place:
            opt.step(params, grads, state)
        else:
            params, state = opt.update(params, grads, state)
    return params, state


@settings(max_examples=30, deadline=None)
@given(config_id=st.sampled_from(sorted(ALL_CONFIGS)), seed=st.integers(0, 2**32 - 1),
       size=st.integers(0, 40), threads=st.integers(1, 4), in_place=st.booleans())
def test_blocks_and_threads_change_no_bit(config_id, seed, size, threads, in_place):
    rng = np.random.default_rng(seed)
    params = rng.normal(size=size)
    grads_seq = [rng.normal(size=size) for _ in range(3)]
    # the plain computation: one block, in this thread (the course's models are far below a block)
    expected_p, expected_state = _trajectory(config_id, params, grads_seq, in_place=False)
    with tiny_blocks(threads):
        p, state = _trajectory(config_id, params, grads_seq, in_place)
    np.testing.assert_array_equal(p, expected_p)
    for key, value in expected_state.items():
        np.testing.assert_array_equal(state[key], value, err_msg=key)


def test_threads_really_share_the_blocks():
    with tiny_blocks(3):
        seen = set()

        def kernel(out, inp, scratch):
            seen.add(threading.get_ident())
            np.add(inp[0], 1.0, out=out[0])

        (result,) = elementwise(kernel, {"x": np.arange(30.0)}, n_outputs=1)
        np.testing.assert_array_equal(result, np.arange(1.0, 31.0))
        # the caller takes the first share; the pool (which may run both of the others on one
        # of its threads, if it is free first) the rest
        assert threading.get_ident() in seen and len(seen) >= 2


def test_small_updates_stay_in_the_calling_thread():
    before = get_num_threads()
    set_num_threads(4)
    try:
        seen = set()

        def kernel(out, inp, scratch):
            seen.add(threading.get_ident())
            out[0][...] = inp[0]

        elementwise(kernel, {"x": np.zeros(5000)}, n_outputs=1)  # 80 kB, far below PARALLEL_BYTES
        assert seen == {threading.get_ident()}
    finally:
        set_num_threads(before)


@pytest.mark.filterwarnings("error")
def test_worker_threads_are_silent_about_overflow_too():
    """numpy's error state is per thread: each worker must switch the warnings off itself."""
    with tiny_blocks(3):
        opt = make("adam", lr=1e300)
        params = np.full(30, 1e300)
        state = opt.init(params)
        for _ in range(3):
            with np.errstate(all="ignore"):
                grads = params * 1e300
            params, state = opt.update(params, grads, state)
        assert not np.all(np.isfinite(params))


def test_an_error_in_a_worker_reaches_the_caller():
    with tiny_blocks(2):

        def kernel(out, inp, scratch):
            if inp[0][0] >= 15:  # a block of the second thread's share
                raise ArithmeticError("block failed")
            out[0][...] = inp[0]

        with pytest.raises(ArithmeticError, match="block failed"):
            elementwise(kernel, {"x": np.arange(30.0)}, n_outputs=1)


def test_scratch_arrays_follow_the_dtype_and_the_block():
    with tiny_blocks(1):
        lengths = []

        def kernel(out, inp, scratch):
            lengths.append((len(scratch), len(scratch[0]), scratch[0].dtype))
            np.multiply(inp[0], 2, out=scratch[0])
            scratch[1].fill(1)
            np.add(scratch[0], scratch[1], out=out[0])

        (x64,) = elementwise(kernel, {"x": np.arange(5.0)}, n_outputs=1, n_scratch=2)
        (x32,) = elementwise(kernel, {"x": np.arange(5, dtype=np.float32)}, n_outputs=1, n_scratch=2)
        np.testing.assert_array_equal(x64, [1, 3, 5, 7, 9])
        assert x32.dtype == np.float32 and list(x32) == [1, 3, 5, 7, 9]
        assert lengths[0] == (2, 3, np.float64) and lengths[2] == (2, 5, np.float32)


def test_inputs_of_any_layout_and_checked_shapes():
    def kernel(out, inp, scratch):
        np.subtract(inp[0], inp[1], out=out[0])

    a = np.arange(12.0).reshape(3, 4)
    (result,) = elementwise(kernel, {"a": a, "b": np.asfortranarray(a)}, n_outputs=1)
    np.testing.assert_array_equal(result, np.zeros((3, 4)))
    (result,) = elementwise(kernel, {"a": a.T, "b": np.ones((4, 3))}, n_outputs=1)
    np.testing.assert_array_equal(result, a.T - 1)
    assert result.flags.c_contiguous
    with pytest.raises(ValueError, match=r"b must have the shape of a \(3, 4\), got \(4, 3\)"):
        elementwise(kernel, {"a": a, "b": a.T}, n_outputs=1)
    with pytest.raises(ValueError, match="out must be 1 C-contiguous arrays of shape"):
        elementwise(kernel, {"a": a, "b": a}, n_outputs=1, out=[a.T])


@pytest.mark.parametrize("bad", [0, -1, 2.0, True, "2", None])
def test_set_num_threads_refuses_nonsense(bad):
    with pytest.raises(ValueError, match="n must be a whole number >= 1"):
        set_num_threads(bad)


def test_thread_count_comes_from_the_environment(monkeypatch):
    monkeypatch.setattr(_elementwise, "_num_threads", None)
    monkeypatch.setenv("LR_COURSE_NUM_THREADS", "3")
    monkeypatch.setenv("OMP_NUM_THREADS", "5")
    assert get_num_threads() == 3
    monkeypatch.setattr(_elementwise, "_num_threads", None)
    monkeypatch.delenv("LR_COURSE_NUM_THREADS")
    monkeypatch.setenv("OMP_NUM_THREADS", "6,2")  # OpenMP's per-level list: the first applies
    assert get_num_threads() == 6
    monkeypatch.setattr(_elementwise, "_num_threads", None)
    monkeypatch.setenv("OMP_NUM_THREADS", "lots")  # not ours to police: fall back to the cores
    assert get_num_threads() >= 1
    monkeypatch.setattr(_elementwise, "_num_threads", None)
    monkeypatch.setenv("LR_COURSE_NUM_THREADS", "two")
    with pytest.raises(ValueError, match="LR_COURSE_NUM_THREADS must be a whole number >= 1, got 'two'"):
        get_num_threads()
    monkeypatch.setattr(_elementwise, "_num_threads", None)


def _threaded_sum_in_child(queue):
    opt = optimizers.sgd(lr=1.0)
    p, _ = opt.update(np.zeros(30), np.arange(30.0), opt.init(np.zeros(30)))
    queue.put(float(p.sum()))


def test_a_forked_child_gets_a_working_pool():
    with tiny_blocks(2):
        queue = multiprocessing.get_context("fork").SimpleQueue()
        _threaded_sum_in_child(queue)  # here in the parent: its pool now exists, with its threads
        assert queue.get() == -435.0
        with warnings.catch_warnings():  # Python 3.12+ warns about forking a threaded process
            warnings.simplefilter("ignore", DeprecationWarning)
            child = multiprocessing.get_context("fork").Process(target=_threaded_sum_in_child,
                                                                args=(queue,))
            child.start()
        child.join(timeout=60)
        assert child.exitcode == 0
        assert queue.get() == -435.0


def test_optimizers_reexport_the_thread_controls():
    assert optimizers.set_num_threads is set_num_threads
    assert optimizers.get_num_threads is get_num_threads
