"""Child process of the local executor: run a notebook's code cells, then the Calls.

Usage: ``python -m lr_course.grading.local_exec JOB.json OUT.json``. JOB holds ``cells``
(source strings) and ``calls`` (encoded :class:`~lr_course.grading.spec.Call`); OUT gets
``records`` (encoded Records) and ``cell_errors``. This is not a sandbox: it only keeps the
student's code out of the grading process. The hardened engine replaces it.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import warnings

import numpy as np

from lr_course.grading import spec


def _strip_magics(source: str) -> str:
    """Drop IPython-only lines (%magic, !shell) so a cell runs as plain Python."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def run_cells(cells):
    """Execute ``cells`` in order in a fresh namespace; a failing cell is noted, not fatal."""
    namespace = {"__name__": "__main__"}
    errors = []
    sink = io.StringIO()
    for index, source in enumerate(cells):
        try:
            code = compile(_strip_magics(source), f"<cell {index}>", "exec")
            with warnings.catch_warnings(), np.errstate(all="ignore"), \
                    contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                warnings.simplefilter("ignore")
                exec(code, namespace)  # noqa: S102 - running the student's own notebook
        except BaseException as exc:  # noqa: BLE001 - SystemExit in a cell is an error too
            if isinstance(exc, KeyboardInterrupt):
                raise
            errors.append(f"cell {index}: {type(exc).__name__}: {exc}"[:spec.MAX_ERROR_CHARS])
        sink.seek(0)
        sink.truncate()
    return namespace, errors


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    job_path, out_path = argv
    # Our own references, taken before any student code runs.
    dumps, open_, execute, from_data = json.dumps, open, spec.execute, spec.Call.from_data
    with open_(job_path) as f:
        job = json.load(f)
    calls = [from_data(c) for c in job["calls"]]
    namespace, errors = run_cells(job["cells"])
    records = [execute(c, namespace).to_data() for c in calls]
    with open_(out_path, "w") as f:
        f.write(dumps({"records": records, "cell_errors": errors}))


if __name__ == "__main__":
    main()
