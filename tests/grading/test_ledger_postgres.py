"""The provenance table in a PostgreSQL gradebook (Debian's postgresql, on a unix socket).

A server is started for the test in a temporary directory (as the ``postgres`` user when
the tests run as root, which PostgreSQL refuses); nothing listens on the network.
"""

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))   # --import-mode=importlib: find the helper
from course_fixture import course_copy, solution_notebook, submit  # noqa: E402

pytest.importorskip("psycopg2")
BIN = next((p for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
            if (p / "initdb").is_file()), None) if Path("/usr/lib/postgresql").is_dir() else None
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(BIN is None, reason="needs Debian's postgresql"),
              pytest.mark.filterwarnings("ignore:.*not in session")]
A = "ps2_adaptive"


@pytest.fixture(scope="module")
def postgres():
    root = Path(tempfile.mkdtemp(prefix="lr_pg_"))
    run = []
    if os.geteuid() == 0:
        os.chown(root, pwd.getpwnam("postgres").pw_uid, -1)
        run = ["runuser", "-u", "postgres", "--"]
    subprocess.run(run + [str(BIN / "initdb"), "-D", str(root / "data"), "-A", "trust",
                          "-U", "lr"], check=True, capture_output=True)
    subprocess.run(run + [str(BIN / "pg_ctl"), "-D", str(root / "data"), "-w", "-l",
                          str(root / "log"), "-o", f"-k {root} -c listen_addresses=''",
                          "start"], check=True, capture_output=True)
    try:
        subprocess.run(run + [str(BIN / "createdb"), "-h", str(root), "-U", "lr", "course"],
                       check=True, capture_output=True)
        yield f"postgresql+psycopg2://lr@/course?host={root}"
    finally:
        subprocess.run(run + [str(BIN / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate",
                              "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def test_provenance_lives_in_a_postgresql_gradebook(postgres, tmp_path_factory):
    from sqlalchemy import create_engine, inspect

    from lr_course.grading import ledger
    from lr_course.grading import nbgrader_glue as glue
    from lr_course.grading.batch import grade_assignment
    from lr_course.grading.inprocess import InProcess
    course = course_copy(tmp_path_factory, tmp_path_factory.mktemp("pg") / "course")
    (course / "gradebook.db").unlink()
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.CourseDirectory.db_url = {postgres!r}\n")
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "nbgrader"),
                    "generate_assignment", A, "--force", "--log-level=ERROR"],
                   cwd=course, env=env, check=True, capture_output=True)
    submit(course, "ann", solution_notebook(course, A))
    submit(course, "cat", "{broken")
    grade = lambda: grade_assignment(course, A, sandbox=InProcess(), workers=1,  # noqa: E731
                                     progress=False)
    first = grade()
    assert first.graded == ["ann", "cat"] and first.totals["ann"][0] == 27
    assert ledger.TABLE in inspect(create_engine(postgres)).get_table_names()
    with glue.gradebook(course) as gb:
        rows = ledger.read_provenance(gb, A)
    assert rows["ann"].engine == ledger.ENGINE and rows["cat"].status == "invalid"
    assert grade().resumed == ["ann", "cat"]
    assert not (course / "gradebook.db").exists()          # nothing went to SQLite
    text = glue.export(course, "grades.csv").read_text()
    assert "not valid JSON" in text and f"{A}:test_adam" in text
