"""The program that runs inside the sandbox: a notebook's cells, then the graded calls.

Invoked by :mod:`lr_course.grading.sandbox` as ``python -I -S -B runner.py --path ...``
(the ``--path`` folders hold numpy and this package). It reads one job from stdin (JSON),
one of two kinds.

A **student job** runs the student's cells, then the calls the grader chose::

    {"cells": ["<python source of code cell 0>", ...],   # already IPython-transformed
     "calls": [<Call.to_data()>, ...],
     "limits": {"cell_seconds": 30, "call_seconds": 10}}  # optional; these are the defaults

A cell that runs past ``cell_seconds`` is stopped and the next one runs; a call that runs
past ``call_seconds`` fails alone, and later calls of the same function fail at once (it
would most likely hang again). The parent's wall-time limit stays the last resort, for code
that never returns to the interpreter.

A **reference job** runs a source notebook: its cells (solutions included), then, for each
seed, every test cell with the checks recorded against the solution
(:class:`~lr_course.grading.checks.modes.Recorder`)::

    {"cells": [...], "tests": [["<grade_id>", "<source>"], ...], "seeds": [<int>, ...]}

It writes JSON lines to its original stdout, which only this program uses (whatever the
notebook prints goes to stderr, which the parent caps)::

    {"cell": i, "ok": true, "error": "", "seconds": 0.01}   one per cell
    {"flags": [{"code": ..., "message": ...}, ...]}        runtime flags, as found
    {"start": k}                                           before graded call k
    {"record": k, "data": <Record.to_data()>}              after graded call k
    {"seed": s}                                            reference: seeds[s] starts
    {"test": "<grade_id>", "ok": true, "error": ""}        reference: a test cell ran
    {"part": {...}} / {"check": {...}}                     reference: what a test cell declared
    {"end": true}                                          the last line

Order of business, all before any notebook code: switch to the unprivileged uid (when
started as root inside bwrap), set the resource limits, move stdout aside, read the job,
import numpy and this package, seed numpy's and Python's global generators (0, in every
run), and snapshot what the student might patch. A cell that
raises is recorded and the next cell runs. Before each graded call, whatever the cells
patched is reported and undone, so the recording runs on pristine numpy and builtins.

Nothing here decides a score: the records go back to the grader, which judges them.
"""

import builtins
import contextlib
import json
import os
import resource
import signal
import sys
import threading
import time

MAX_ERROR_CHARS = 500
# The course's public modules in the sandbox (sandbox_tree.COURSE_MODULES), loaded before a job
PRELOADED = ("lr_course.problems", "lr_course.surfaces", "lr_course.models")


def _parse_args(argv):
    opts = {"path": []}
    it = iter(argv)
    for arg in it:
        if arg == "--pdeathsig":
            opts["pdeathsig"] = True
        elif arg.startswith("--"):
            key = arg[2:].replace("-", "_")
            value = next(it)
            if key == "path":
                opts["path"].append(value)
            else:
                opts[key] = value
    return opts


def _drop_privileges(uid):
    """Become ``uid``/``uid`` with no supplementary groups (and no capabilities left)."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise SystemExit("runner: could not drop privileges")


def _set_limits(opts):
    def limit(which, soft, hard=None):
        resource.setrlimit(which, (soft, soft if hard is None else hard))

    limit(resource.RLIMIT_CORE, 0)
    if "memory" in opts:
        limit(resource.RLIMIT_AS, int(opts["memory"]))
    if "cpu" in opts:  # SIGXCPU at the soft limit, SIGKILL a second later
        limit(resource.RLIMIT_CPU, int(opts["cpu"]), int(opts["cpu"]) + 1)
    if "fsize" in opts:
        limit(resource.RLIMIT_FSIZE, int(opts["fsize"]))
    if "nofile" in opts:
        limit(resource.RLIMIT_NOFILE, int(opts["nofile"]))
    limit(resource.RLIMIT_MSGQUEUE, 0)   # POSIX message queues: kernel memory, unneeded
    if "nproc" in opts and os.getuid() != 0:  # meaningless (ignored) for root
        limit(resource.RLIMIT_NPROC, int(opts["nproc"]))


def _set_pdeathsig():
    """Die with the grader (the unisolated mode has no namespace to die with)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        pass


class _Sink:
    """Absorbs any use (IPython hooks the student reaches for do nothing here)."""

    def __getattr__(self, name):
        return self

    def __call__(self, *args, **kwargs):
        return self

    def __iter__(self):
        return iter(())

    def __bool__(self):
        return False


class _Shell:
    """Stand-in for ``get_ipython()``: magics run as plain code, hooks are flagged."""

    _RUN_BODY = ("time", "timeit", "prun", "capture")

    def __init__(self, namespace, watch):
        self._namespace = namespace
        self._watch = watch

    def run_line_magic(self, name, line, *args, **kwargs):
        if name in self._RUN_BODY and line.strip():
            exec(compile(line, f"<%{name}>", "exec"), self._namespace)

    def run_cell_magic(self, name, line, cell, *args, **kwargs):
        if name in self._RUN_BODY:
            exec(compile(cell, f"<%%{name}>", "exec"), self._namespace)

    def system(self, *args, **kwargs):
        return None

    def getoutput(self, *args, **kwargs):
        return []

    def __getattr__(self, name):
        self._watch.extra.append({"code": "ipython-hook",
                                  "message": f"used get_ipython().{name}"[:200]})
        return _Sink()


def main(argv=None):
    opts = _parse_args(sys.argv[1:] if argv is None else argv)
    if opts.get("pdeathsig"):
        _set_pdeathsig()
    if "uid" in opts and os.getuid() == 0:
        _drop_privileges(int(opts["uid"]))
    return serve(opts)


def prepare(paths=()):
    """Import numpy and the check library (from ``paths``, put first on ``sys.path``).

    Done by :func:`serve` for a cold run, and once by the warm interpreter
    (:mod:`~lr_course.grading.checks.zygote`) before it forks any run.
    """
    sys.path[:0] = [p for p in paths if p not in sys.path]
    sys.dont_write_bytecode = True
    import importlib
    for name in ("copy", "math", "warnings", "numpy", *(f"lr_course.grading.checks.{m}" for m in
                 ("calls", "codec", "compare", "declare", "modes", "watch"))):
        importlib.import_module(name)
    # The course modules graded code may import, and the digits the applied checks train
    # on (about 30 ms to parse): loaded here, once per warm interpreter, they are already
    # there in every run, cold or warm, as they would be after a notebook's first import.
    for name in PRELOADED:
        try:
            importlib.import_module(name)
        except ImportError:      # a sandbox without the course's modules (none to load)
            continue
    if "lr_course.models" in sys.modules:
        sys.modules["lr_course.models"].load_digits()
    return sys.modules["numpy"]


def serve(opts):
    """Set the limits, read one job from stdin, run it, write the records to stdout."""
    # Our own references, taken before any student code can replace them.
    dumps, loads, write, perf = json.dumps, json.loads, os.write, time.perf_counter
    _set_limits(opts)
    out = os.dup(1)               # the records channel; not inherited by children
    os.dup2(2, 1)                 # the student's prints go to stderr (capped by the parent)

    def emit(obj):
        data = (dumps(obj) + "\n").encode()
        while data:
            data = data[write(out, data):]

    raw = sys.stdin.buffer.read(int(opts.get("job_bytes", 64 << 20)) + 1)
    job = loads(raw)
    numpy = prepare(opts.get("path", ()))
    from lr_course.grading.checks import calls, codec, compare, declare, modes, watch
    import copy
    import math
    import random
    import warnings
    # The global generators a submission may draw from without a seed start the same way in
    # every run: cold or warm (a warm run would otherwise inherit its warm interpreter's
    # state, drawn when that started), self-check or final grade, today or at a regrade.
    numpy.random.seed(0)
    random.seed(0)
    # numpy.testing costs 0.3 s to import: watched only if the student loads it
    watched = {"builtins": builtins, "numpy": numpy,
               "numpy.linalg": numpy.linalg, "numpy.random": numpy.random, "math": math,
               "copy": copy, "warnings": warnings, "json": json, "sys": sys,
               "codec": codec, "calls": calls, "compare": compare, "declare": declare,
               "modes": modes, "watch": watch, "runner": sys.modules[__name__],
               "calls.Call": calls.Call, "calls.Record": calls.Record}
    runtime = watch.RuntimeWatch(watched)
    run_job(job, runtime, emit, perf)
    return 0


CELL_SECONDS = 30.0     # default time limit of one cell
CALL_SECONDS = 10.0     # default time limit of one graded call


class TimeLimitExceeded(BaseException):
    """Raised into a cell or a call that ran past its time limit (a BaseException, so that
    ``except Exception`` in the student's code does not swallow it)."""


@contextlib.contextmanager
def _time_limit(seconds):
    """Stop what runs inside after ``seconds`` (SIGALRM; only in a process's main thread)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise TimeLimitExceeded(f"stopped after {seconds:g} s (the time limit)")

    before = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)


def _limit(limits, key, default):
    value = limits.get(key, default) if type(limits) is dict else default
    return float(value) if type(value) in (int, float) and value > 0 else default


def run_job(job, watch, emit, perf=time.perf_counter):
    """Run a student or reference ``job`` (see the module doc); ``emit`` every line.

    The one place a notebook's cells are executed, in the sandbox (from :func:`main`) and,
    for tests of trusted code, in the grader's own process
    (:mod:`~lr_course.grading.inprocess`). ``watch`` reports and undoes tampering before
    each call (a :class:`~lr_course.grading.checks.watch.RuntimeWatch` in the sandbox).
    Everything it needs is bound before the cells run, so a cell that replaces this
    module's globals cannot change what it does.
    """
    from lr_course.grading.checks import declare
    from lr_course.grading.checks.calls import Call, Record, execute
    from lr_course.grading.checks.modes import Ignore, Recorder
    # Bound before any cell runs: a cell that replaces RuntimeWatch's methods later cannot
    # switch the watch off.
    check_watch, restore_watch = watch.check, watch.restore
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    namespace["get_ipython"] = lambda: shell
    namespace["display"] = lambda *args, **kwargs: None
    shell = _Shell(namespace, watch)
    calls = [Call.from_data(c) for c in job.get("calls", [])]
    tests = list(job.get("tests", []))
    seeds = list(job.get("seeds", []))
    limits = job.get("limits", {})
    cell_seconds = _limit(limits, "cell_seconds", CELL_SECONDS)
    call_seconds = _limit(limits, "call_seconds", CALL_SECONDS)
    # A check a notebook cell declares outside a test cell counts for nothing.
    declare.set_mode(Ignore())
    for i, source in enumerate(job.get("cells", [])):
        emit(_run_cell(source, f"<cell {i}>", namespace, perf, {"cell": i}, cell_seconds))
    timed_out = set()
    for k, call in enumerate(calls):
        found = check_watch()
        if found:
            emit({"flags": found})
        restore_watch()
        emit({"start": k})
        if call.function in timed_out:
            record = Record(ok=False, error=f"TimeLimitExceeded: not run: {call.function} ran "
                            "past its time limit in an earlier call",
                            error_type="TimeLimitExceeded",
                            error_bases=("TimeLimitExceeded", "BaseException"))
        else:
            with _time_limit(call_seconds):
                record = execute(call, namespace)
            if record.error_type == "TimeLimitExceeded":
                timed_out.add(call.function)
                emit({"flags": [{"code": "resource", "message": f"{call.function} ran past "
                                 f"the {call_seconds:g} s limit of a graded call"}]})
        emit({"record": k, "data": record.to_data()})
    compiled = {}
    for s, seed in enumerate(seeds):
        emit({"seed": s})
        recorder = Recorder(seed, emit)
        declare.set_mode(recorder)
        for grade_id, source in tests:
            recorder.start_cell(grade_id)
            # A fresh view of the solution's namespace, so one test cell cannot leave
            # state (an rng, a variable) to the next or to the next seed.
            entry = _run_cell(source, f"<test {grade_id}>", dict(namespace), perf,
                              {"test": grade_id}, 0, compiled)
            entry.pop("seconds", None)
            emit(entry)
    found = check_watch()
    if found:
        emit({"flags": found})
    emit({"end": True})


def _run_cell(source, name, namespace, perf, entry, seconds, compiled=None):
    """Run one cell's source in ``namespace``; ``compiled`` keeps code objects by name and
    source, for a reference job that runs each test cell once per seed."""
    start = perf()
    entry.update(ok=True, error="")
    try:
        with _time_limit(seconds):
            code = compiled.get((name, source)) if compiled is not None else None
            if code is None:
                code = compile(source, name, "exec")
                if compiled is not None:
                    compiled[name, source] = code
            exec(code, namespace)
    except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt too
        entry["ok"] = False
        entry["error"] = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
    entry["seconds"] = perf() - start
    return entry


def finish(run, *args):
    """``run(*args)``, then exit with its status (70 if it raised), whatever it left: no
    atexit handler or thread of the student's runs after it."""
    try:
        code = run(*args)
    except BaseException as exc:  # noqa: BLE001 - report, never hang
        sys.stderr.write(f"runner failed: {type(exc).__name__}: {exc}\n"[:2000])
        code = 70
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001
            pass
    os._exit(code)


if __name__ == "__main__":
    finish(main)
