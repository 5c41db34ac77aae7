"""One sandboxed run from the grader's side: fed its job, read within caps, and how it ended.

:func:`pump` writes a run's job to its stdin and reads its two channels (the records on
stdout, the student's output on stderr) until they close, within their caps and the
run's deadline; :func:`how_it_ended` turns what happened (the grader's reason to kill it,
the exit status, the records) into a :data:`~lr_course.grading.sandbox.REASONS` and a
sentence. :class:`ColdRun` is a cold run's bubblewrap process behind the interface a warm
run (:class:`~lr_course.grading.warm.WarmRun`) also has, so that
:class:`~lr_course.grading.sandbox.Sandbox` drives both the same way.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time

__all__ = ["ColdRun", "pump", "how_it_ended"]


class ColdRun:
    """A cold run's bubblewrap process, as :meth:`~lr_course.grading.sandbox.Sandbox._supervise`
    drives it (a :class:`~lr_course.grading.warm.WarmRun` offers the same members)."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.stdin = os.dup(proc.stdin.fileno())   # the pump's to close
        proc.stdin.close()
        self.stdout, self.stderr = proc.stdout.fileno(), proc.stderr.fileno()

    def finished(self, seconds: float) -> bool:
        try:
            self.proc.wait(timeout=seconds)
            return True
        except subprocess.TimeoutExpired:
            return False

    def kill(self):
        """SIGKILL its whole process group (the run's session), then bwrap itself."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()

    def wait(self) -> int:
        if self.proc.poll() is None:
            self.kill()
        return self.proc.wait()

    def close(self):
        for stream in (self.proc.stdout, self.proc.stderr):
            with contextlib.suppress(OSError):
                stream.close()


def pump(stdin, stdout, stderr, data, deadline, finished, lim):
    """Write ``data`` to ``stdin``, read ``stdout`` (records) and ``stderr`` (output)
    until both close, within their caps and before ``deadline``; then give
    ``finished(seconds)`` (the process's exit) the time left.

    The caps are ``lim.result_bytes`` and ``lim.output_bytes`` (a
    :class:`~lr_course.grading.sandbox.Limits`). Returns ``(results, output, killed_for)``:
    killed_for is None, "timeout" or "output" (the caller then kills the run). ``stdin`` is the pump's: it is closed
    once written, or at the end.
    """
    killed_for = None
    chunks = {"out": [], "err": []}
    sizes = {"out": 0, "err": 0}
    caps = {"out": lim.result_bytes, "err": lim.output_bytes}
    sel = selectors.DefaultSelector()
    os.set_blocking(stdin, False)
    pending = memoryview(data)
    sel.register(stdin, selectors.EVENT_WRITE, "in")
    sel.register(stdout, selectors.EVENT_READ, "out")
    sel.register(stderr, selectors.EVENT_READ, "err")
    try:
        while sel.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                killed_for = "timeout"
                break
            for key, _ in sel.select(timeout=min(remaining, 1.0)):
                name = key.data
                if name == "in":
                    try:
                        written = os.write(key.fd, pending[:65536])
                    except (BrokenPipeError, BlockingIOError, OSError):
                        written = len(pending)
                    pending = pending[written:]
                    if not pending:
                        sel.unregister(key.fd)
                        os.close(stdin)
                        stdin = None
                    continue
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fd)
                    continue
                sizes[name] += len(chunk)
                if sizes[name] > caps[name]:
                    killed_for = "output"
                    break
                chunks[name].append(chunk)
            if killed_for:
                break
        if killed_for is None and not finished(max(0.1, deadline - time.monotonic())):
            killed_for = "timeout"
    finally:
        sel.close()
        if stdin is not None:
            os.close(stdin)
    return (b"".join(chunks["out"]), b"".join(chunks["err"]).decode("utf-8", "replace"),
            killed_for)


def how_it_ended(returncode, killed_for, results, output, lim, isolated) -> tuple[str, str]:
    """``(reason, detail)`` of a run (a reason of ``sandbox.REASONS``, a sentence for the
    instructor and the student): from why the grader killed it, if it did (``killed_for``:
    "timeout", "oom", "output" or None), its exit status, whether its records reached
    their end, and a MemoryError in what it wrote; ``lim`` are its limits, ``isolated``
    whether bubblewrap ran it (which reports a signalled child as 128 + signal)."""
    if killed_for == "timeout":
        return "timeout", f"stopped after the wall-time limit of {lim.wall_seconds:g} s"
    if killed_for == "oom":
        return "memory", (f"killed for its memory: the run's cgroup holds "
                          f"{lim.memory_bytes >> 20} MiB, tmpfs and shared memory included")
    if killed_for == "output":
        return "output", (f"stopped: printed more than {lim.output_bytes} bytes "
                          f"(or wrote more than {lim.result_bytes} bytes of results)")
    finished = results.rstrip().endswith(b'"end": true}')
    memory = "MemoryError" in output[-4000:] or b"MemoryError" in results[-200000:]
    if returncode == 0 and finished:
        if memory:
            return "memory", "a MemoryError was raised (memory limit " \
                             f"{lim.memory_bytes >> 20} MiB); the run went on"
        return "ok", "finished"
    sig = None
    if returncode is not None and returncode < 0:
        sig = -returncode
    elif isolated and returncode is not None and 128 < returncode < 128 + 65:
        sig = returncode - 128   # bwrap reports a signalled child as 128 + signal
    if sig is not None:
        if sig == signal.SIGXCPU:
            return "timeout", f"stopped after the CPU-time limit of {lim.cpu_seconds} s"
        if memory or sig in (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS):
            return "memory", (f"crashed with signal {signal.Signals(sig).name}, most likely "
                              f"out of memory (limit {lim.memory_bytes >> 20} MiB)")
        return "killed", (f"killed by signal {signal.Signals(sig).name} (the CPU-time "
                          "hard limit, or the system)")
    if memory:
        return "memory", f"ran out of memory (limit {lim.memory_bytes >> 20} MiB)"
    return "crashed", (f"the process exited with status {returncode} before finishing "
                       "(sys.exit or os._exit in the submission?)")
