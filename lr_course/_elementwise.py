"""Run an elementwise update over large arrays in cache-sized blocks, on several threads.

An optimizer update is a dozen elementwise numpy operations over arrays as large as the
model. Done one whole-array operation at a time, each pass streams every array through
memory again, on one core. :func:`elementwise` instead cuts the flattened arrays into
blocks of :data:`BLOCK_BYTES` (about a core's L2 cache), runs all of an update's
operations on one block before moving to the next, and, when the arrays are large, shares
the blocks among threads; numpy releases the GIL inside its loops, so the threads run at
the same time.

Handing work to a thread and collecting it costs tens of microseconds (about 80 on the
2-core machine this was tuned on), so threads are used only when the update reads and
writes at least :data:`PARALLEL_BYTES` in all: Adam on 1e6 float32 params does, plain SGD
on them does not. Below that, everything runs in the calling thread.

Every operation is elementwise, so the result does not depend on how the arrays are cut:
it is bit-for-bit the result of running the kernel once on the whole arrays, for any
number of threads.
"""

from __future__ import annotations

import os
import threading
from typing import Callable, Sequence

import numpy as np

#: Bytes per block of each array: measured fastest for 1e6-element updates.
BLOCK_BYTES = 1 << 20
#: Threads start only for updates touching at least this many bytes (inputs plus outputs).
PARALLEL_BYTES = 16 << 20

Kernel = Callable[[Sequence[np.ndarray], Sequence[np.ndarray], Sequence[np.ndarray]], None]

_lock = threading.Lock()
_scratch = threading.local()  # each thread's work arrays, kept between calls
_num_threads: int | None = None  # None: not chosen yet, see get_num_threads()
_pool = None  # a concurrent.futures.ThreadPoolExecutor with _num_threads - 1 workers


def _threads_from_environment() -> int:
    """LR_COURSE_NUM_THREADS, else OMP_NUM_THREADS (as torch reads it), else the usable cores."""
    text = os.environ.get("LR_COURSE_NUM_THREADS", "").strip()
    if text:
        if not text.isdigit() or int(text) < 1:
            raise ValueError(f"LR_COURSE_NUM_THREADS must be a whole number >= 1, got {text!r}")
        return int(text)
    # OpenMP allows a list such as "4,2" (one count per nesting level): the first applies
    text = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if text.isdigit() and int(text) >= 1:
        return int(text)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


def get_num_threads() -> int:
    """The number of threads an update on a large array uses."""
    global _num_threads
    if _num_threads is None:
        _num_threads = _threads_from_environment()
    return _num_threads


def set_num_threads(n: int) -> None:
    """Use ``n`` threads (>= 1) for updates on large arrays; 1 keeps everything in the caller."""
    global _num_threads, _pool
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a whole number >= 1, got {n!r}")
    with _lock:
        _num_threads = int(n)
        old, _pool = _pool, None
    if old is not None:
        old.shutdown(wait=False)


def _get_pool():
    """The shared pool of get_num_threads() - 1 workers, made on first use (importing
    concurrent.futures only then)."""
    global _pool
    with _lock:
        if _pool is None:
            from concurrent.futures import ThreadPoolExecutor

            _pool = ThreadPoolExecutor(max_workers=get_num_threads() - 1,
                                       thread_name_prefix="lr_course")
        return _pool


def _forget_pool_after_fork() -> None:
    # A forked child has the pool object but none of its threads: start afresh.
    global _pool, _lock
    _pool = None
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _scratch_arrays(n: int, block: int, dtype) -> list:
    """This thread's ``n`` work arrays of ``block`` elements of ``dtype``, reused between calls.

    Fresh memory for them at every update would cost a page fault per 4 KiB page on first
    touch: more than the arithmetic of a plain SGD step.
    """
    if n == 0:
        return []
    cache = getattr(_scratch, "arrays", None)
    if cache is None:
        cache = _scratch.arrays = {}
    arrays = cache.get(np.dtype(dtype))
    if arrays is None or len(arrays) < n or len(arrays[0]) < block:
        arrays = cache[np.dtype(dtype)] = [np.empty(block, dtype) for _ in range(n)]
    return arrays[:n]


def _run_blocks(kernel: Kernel, outputs, inputs, n_scratch: int, block: int,
                start: int, stop: int) -> None:
    """Run ``kernel`` on the blocks of ``block`` elements in [start, stop), one after the other."""
    # numpy's error state is per thread: a worker must silence overflow itself (a
    # diverging run is expected in this course and detected by the caller).
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        scratch = _scratch_arrays(n_scratch, min(block, stop - start), outputs[0].dtype)
        for a in range(start, stop, block):
            b = min(a + block, stop)
            kernel([x[a:b] for x in outputs], [x[a:b] for x in inputs], [s[:b - a] for s in scratch])


def elementwise(kernel: Kernel, inputs: dict, n_outputs: int, n_scratch: int = 0,
                out: list | None = None) -> list:
    """Apply an elementwise ``kernel`` to same-shaped arrays; return its output arrays.

    Args:
        kernel: ``kernel(outputs, inputs, scratch)`` writes its results into the 1-D
            ``outputs``, reading the 1-D ``inputs`` (in the order given); ``scratch``
            holds ``n_scratch`` work arrays of the same length. All are slices of one
            block. The kernel must not keep them or read across elements.
        inputs: arrays by the name an error message should use (``"params"``,
            ``"state['m']"``, ...). The first fixes the shape and the dtype of the
            outputs; the others must have its shape.
        n_outputs: how many arrays the kernel fills.
        n_scratch: how many work arrays it needs.
        out: ``n_outputs`` C-contiguous arrays of the first input's shape to write into
            instead of new ones (the caller checks them). An output may be one of the
            inputs if the kernel writes each element after its last read of it.

    Returns:
        The ``n_outputs`` output arrays: ``out``, or new C-ordered arrays with the first
        input's shape and dtype. The inputs are not modified unless they are in ``out``.

    >>> def axpy(out, inp, scratch):
    ...     (z,), (x, y) = out, inp
    ...     np.multiply(x, 2.0, out=z)
    ...     z += y
    >>> elementwise(axpy, {"x": np.arange(3.0), "y": np.ones(3)}, n_outputs=1)
    [array([1., 3., 5.])]
    """
    names = list(inputs)
    first = np.asarray(inputs[names[0]])
    flat_inputs = []
    for name in names:
        x = np.asarray(inputs[name])
        if x.shape != first.shape:
            raise ValueError(f"{name} must have the shape of {names[0]} {first.shape}, got {x.shape}")
        flat_inputs.append(x.reshape(-1))  # a view if x is C-contiguous, else a C-ordered copy
    if out is None:
        outputs = [np.empty(first.shape, first.dtype) for _ in range(n_outputs)]
    else:
        if len(out) != n_outputs or any(not x.flags.c_contiguous or x.shape != first.shape
                                        for x in out):
            raise ValueError(f"out must be {n_outputs} C-contiguous arrays of shape {first.shape}")
        outputs = list(out)
    flat_outputs = [x.reshape(-1) for x in outputs]  # views: the outputs are C-contiguous
    size = first.size
    block = max(1, BLOCK_BYTES // first.itemsize)
    num_blocks = -(-size // block)
    touched = first.nbytes * (len(flat_inputs) + len(outputs))
    workers = min(get_num_threads(), num_blocks) if touched >= PARALLEL_BYTES else 1
    if workers <= 1:
        _run_blocks(kernel, flat_outputs, flat_inputs, n_scratch, block, 0, size)
        return outputs
    # whole blocks, shared out as evenly as they go; the caller takes the first share
    cuts = [min(size, (num_blocks * i // workers) * block) for i in range(workers + 1)]
    pool = _get_pool()
    futures = [pool.submit(_run_blocks, kernel, flat_outputs, flat_inputs, n_scratch, block,
                           cuts[i], cuts[i + 1]) for i in range(1, workers)]
    try:
        _run_blocks(kernel, flat_outputs, flat_inputs, n_scratch, block, cuts[0], cuts[1])
    finally:
        for future in futures:  # wait for every share, and raise a worker's error here
            future.result()
    return outputs
