"""`lr-course grade` as an instructor runs it: Ctrl-C, a second grader, in a real sandbox."""

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))   # --import-mode=importlib: find the helper
from course_fixture import (add_cell, course_copy, require_bwrap, solution_notebook,  # noqa: E402
                            submit)
from lr_course.grading.batch import LOCK, grade_assignment, marker_path  # noqa: E402

A = "ps2_adaptive"
EXE = str(Path(sys.executable).parent / "lr-course")


def _descendants(pid: int) -> set:
    """Every process below ``pid`` (sandboxes run in their own sessions, still children)."""
    children: dict = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_ctrl_c_stops_at_once_kills_the_sandboxes_and_a_rerun_resumes(tmp_path_factory):
    require_bwrap()
    course = course_copy(tmp_path_factory, tmp_path_factory.mktemp("ctrl_c") / "course")
    with open(course / "nbgrader_config.py", "a") as config:   # only the sandbox's own
        config.write("\nc.Execute.timeout = 600\n")            # 120 s wall limit ends zed
    submit(course, "ann", solution_notebook(course, A))
    submit(course, "zed", add_cell(solution_notebook(course, A), "import time\ntime.sleep(600)\n",
                                   after_grade_id="setup"))
    proc = subprocess.Popen([EXE, "grade", A, "--quiet", "--workers", "2"], cwd=course,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not marker_path(course, A, "ann").exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    time.sleep(1.0)                              # zed's sandbox is asleep in its cell
    sandboxes = _descendants(proc.pid)
    assert sandboxes, "no sandbox process is running"
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:   # far below the 120 s wall limit that would otherwise end zed's run
        out, err = proc.communicate(timeout=45)
    finally:
        if proc.poll() is None:          # failed: leave nothing running
            proc.kill()
            proc.wait()
    print(f"stopped {time.monotonic() - start:.1f} s after Ctrl-C")
    assert proc.returncode == 130, err
    assert "interrupted: 1 graded, rerun to continue" in err and "Traceback" not in err
    time.sleep(0.5)
    assert not [p for p in sandboxes if _alive(p)], "sandbox processes outlived the grader"
    assert not marker_path(course, A, "zed").exists()
    submit(course, "zed", solution_notebook(course, A))
    report = grade_assignment(course, A, progress=False)
    assert report.resumed == ["ann"] and report.graded == ["zed"]


def test_quiet_still_says_it_waits_for_another_grader(tmp_path):
    from .course_fixture import AUTOGRADER
    import shutil
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(AUTOGRADER / "nbgrader_config.py", course)
    shutil.copytree(AUTOGRADER / "source", course / "source")
    with open(course / LOCK, "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        proc = subprocess.Popen([EXE, "grade", "ps1_schedules", "--quiet"], cwd=course,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ, LR_COURSE_BWRAP=""))
        line = proc.stderr.readline()
        while line.startswith("lr-course: warning"):     # no bubblewrap (forced here)
            line = proc.stderr.readline()
        assert "another grader is running" in line and "waiting" in line
        fcntl.flock(held, fcntl.LOCK_UN)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "no submissions of ps1_schedules" in err


def test_grade_imports_the_gradebook_without_nbgraders_server_extensions():
    # what the gradebook writer does first: nbgrader.api and the rest of nbgrader still
    # import (the version set, as nbgrader's apps read it), the Jupyter extensions are left out
    probe = """
import json, sys
from lr_course.grading import nbgrader_setup
nbgrader_setup.skip_iri_grammars()
nbgrader_setup.nbgrader_without_extensions()
from nbgrader.api import Gradebook
light = sorted(m for m in ("tornado.web", "jupyter_server", "nbconvert",
                           "nbgrader.server_extensions", "nbgrader.apps") if m in sys.modules)
from nbgrader.apps import NbGraderAPI
import nbgrader
print(json.dumps({"light": light, "version": nbgrader.__version__}))
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    import nbgrader._version
    assert json.loads(out) == {"light": [], "version": nbgrader._version.__version__}
    # with nbgrader imported already, it is left as it is
    probe_whole = ("import sys\nsys.modules['rfc3987_syntax'] = None\nimport nbgrader\n"
                   "from lr_course.grading import nbgrader_setup\n"
                   "nbgrader_setup.nbgrader_without_extensions()\n"
                   "print(hasattr(sys.modules['nbgrader'], '_jupyter_server_extension_points'))")
    out = subprocess.run([sys.executable, "-c", probe_whole], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "True"
