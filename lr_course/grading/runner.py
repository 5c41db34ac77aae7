"""The program that runs inside the sandbox: a student's cells, then the graded calls.

Invoked by :mod:`lr_course.grading.sandbox` as ``python -I -S -B runner.py --spec ...``.
It reads one job from stdin (JSON)::

    {"cells": ["<python source of code cell 0>", ...],   # already IPython-transformed
     "calls": [<Call.to_data()>, ...]}

and writes JSON lines to its original stdout, which only this program uses (whatever the
student's code prints goes to stderr, which the parent caps)::

    {"cell": i, "ok": true, "error": "", "seconds": 0.01}   one per cell
    {"flags": [{"code": ..., "message": ...}, ...]}        runtime flags, as found
    {"start": k}                                           before graded call k
    {"record": k, "data": <Record.to_data()>}              after graded call k
    {"end": true}                                          the last line

Order of business, all before any student code: switch to the unprivileged uid (when
started as root inside bwrap), set the resource limits, move stdout aside, read the job,
import numpy and the check API (``codec.py`` then ``spec.py``, loaded from files: the
``lr_course.grading`` package is not in the sandbox) and snapshot what the student might patch. A cell that
raises is recorded and the next cell runs. Before each graded call, whatever the cells
patched is reported and undone, so the recording runs on pristine numpy and builtins.

Nothing here decides a score: the records go back to the grader, which judges them.
"""

import builtins
import importlib.util
import json
import os
import resource
import sys
import time

MAX_ERROR_CHARS = 500


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


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module   # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


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
    # Our own references, taken before any student code can replace them.
    dumps, loads, write, perf = json.dumps, json.loads, os.write, time.perf_counter
    if opts.get("pdeathsig"):
        _set_pdeathsig()
    if "uid" in opts and os.getuid() == 0:
        _drop_privileges(int(opts["uid"]))
    _set_limits(opts)
    out = os.dup(1)               # the records channel; not inherited by children
    os.dup2(2, 1)                 # the student's prints go to stderr (capped by the parent)

    def emit(obj):
        data = (dumps(obj) + "\n").encode()
        while data:
            data = data[write(out, data):]

    raw = sys.stdin.buffer.read(int(opts.get("job_bytes", 64 << 20)) + 1)
    job = loads(raw)
    sys.path[:0] = opts["path"]
    sys.dont_write_bytecode = True
    import numpy
    codec = _load("lr_course_grading_codec", opts["codec"])   # spec imports it by this name
    spec = _load("lr_course_grading_spec", opts["spec"])
    flags = _load("lr_course_grading_flags", opts["flags"])
    import copy
    import math
    import warnings
    # numpy.testing costs 0.3 s to import: watched only if the student loads it (below)
    watched = {"builtins": builtins, "numpy": numpy,
               "numpy.linalg": numpy.linalg, "numpy.random": numpy.random, "math": math,
               "copy": copy, "warnings": warnings, "json": json, "sys": sys,
               "codec": codec, "spec": spec, "flags": flags, "runner": sys.modules[__name__]}
    watch = flags.RuntimeWatch(watched)
    calls = [spec.Call.from_data(c) for c in job.get("calls", [])]
    run_job(job.get("cells", []), calls, spec, watch, emit, perf)
    return 0


def run_job(cells, calls, spec, watch, emit, perf=time.perf_counter):
    """Run ``cells`` in a fresh namespace, then record each call; ``emit`` every line.

    The one place a student's cells are executed, in the sandbox (from :func:`main`) and,
    for tests of trusted code, in the grader's own process
    (:mod:`~lr_course.grading.inprocess`). ``watch`` reports and undoes tampering before
    each call (a :class:`~lr_course.grading.flags.RuntimeWatch` in the sandbox); ``spec``
    is the check API module. Everything it needs is passed in, so a cell that replaces
    this module's globals cannot change what it does.
    """
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    namespace["get_ipython"] = lambda: shell
    namespace["display"] = lambda *args, **kwargs: None
    shell = _Shell(namespace, watch)
    for i, source in enumerate(cells):
        start = perf()
        entry = {"cell": i, "ok": True, "error": ""}
        try:
            exec(compile(source, f"<cell {i}>", "exec"), namespace)
        except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt too
            entry["ok"] = False
            entry["error"] = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
        entry["seconds"] = perf() - start
        emit(entry)
    for k, call in enumerate(calls):
        found = watch.check()
        if found:
            emit({"flags": found})
        watch.restore()
        emit({"start": k})
        record = spec.execute(call, namespace)
        emit({"record": k, "data": record.to_data()})
    found = watch.check()
    if found:
        emit({"flags": found})
    emit({"end": True})

if __name__ == "__main__":
    try:
        code = main()
    except BaseException as exc:  # noqa: BLE001 - report, never hang
        sys.stderr.write(f"runner failed: {type(exc).__name__}: {exc}\n"[:2000])
        code = 70
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001
            pass
    os._exit(code)  # no atexit handlers or threads the student left behind
