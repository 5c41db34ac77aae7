"""Run a grading job in the grader's own process: fast, and for trusted code only.

:class:`InProcess` stands in for :class:`~lr_course.grading.sandbox.Sandbox` behind the
engine (``Grader(assignment, sandbox=InProcess())``): it executes the cells and calls with
the runner's own :func:`~lr_course.grading.runner.run_job` and hands back the same JSON
lines the sandbox would, so cell extraction, magics, parsing and judging are exactly the
batch grader's. It isolates nothing (the code shares this process, its numpy and its
files) and watches for no tampering: tests use it to grade the course's own notebooks and
planted mistakes in milliseconds instead of a sandbox start per notebook.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from pathlib import Path

from lr_course.grading.checks import declare
from lr_course.grading.checks.runner import run_job
from lr_course.grading.sandbox import SandboxResult

__all__ = ["InProcess"]


class _NoWatch:
    """The watch interface of the runner, minus the watching (the code is trusted)."""

    def __init__(self):
        self.extra: list[dict] = []     # ipython-hook flags from the runner's shell stub

    def check(self) -> list[dict]:
        found, self.extra = self.extra, []
        return found

    def restore(self):
        pass


@contextlib.contextmanager
def _cwd(folder):
    """In ``folder`` while the job runs, as the sandbox would be (contextlib.chdir is 3.11+)."""
    before = os.getcwd()
    if folder is not None and Path(folder).is_dir():
        os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


class InProcess:
    """A not-a-sandbox with the Sandbox's ``run`` interface (see the module docstring).

    >>> from lr_course.grading.checks.calls import Call
    >>> box = InProcess()
    >>> res = box.run({"cells": ["def f(x):\\n    return 2 * x"],
    ...                "calls": [Call("call", "f", args=(3,)).to_data()]})
    >>> res.reason, b'"end": true' in res.results, box.isolated
    ('ok', True, False)
    """

    isolated = False

    def run(self, job: dict, submission_dir: str | os.PathLike | None = None) -> SandboxResult:
        """Run ``job`` here, in ``submission_dir`` (if it is a folder); never raises."""
        lines: list[bytes] = []
        sink = io.StringIO()    # the student's prints, as the sandbox caps them
        start = time.monotonic()
        before = declare._MODE[0]
        with _cwd(submission_dir), contextlib.redirect_stdout(sink), \
                contextlib.redirect_stderr(sink):
            try:
                run_job(job, _NoWatch(),
                        lambda obj: lines.append((json.dumps(obj) + "\n").encode()))
            finally:
                declare.set_mode(before)   # this process's own mode, as it was
        return SandboxResult("ok", "", 0, b"".join(lines), sink.getvalue()[-20000:],
                             time.monotonic() - start, False)
