"""nbgrader's harmless SQLAlchemy warnings stay off the instructor's terminal, whatever the
grading threads do with their own warning filters meanwhile."""

import sys
import threading
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))   # --import-mode=importlib: find the helper
from course_fixture import course_copy, solution_notebook, submit  # noqa: E402
from lr_course.grading import writer as writing  # noqa: E402
from lr_course.grading.batch import grade_assignment  # noqa: E402
from lr_course.grading.inprocess import InProcess  # noqa: E402

A = "ps2_adaptive"


def test_a_judge_leaving_catch_warnings_during_a_write_unmasks_nothing(tmp_path_factory,
                                                                        monkeypatch):
    """A judge (a worker thread) enters ``warnings.catch_warnings`` before a write and leaves
    it in the middle of nbgrader's add_submission, as happened about 3 times per 100
    students: leaving puts back the filters it found, and nbgrader's "not in session"
    warnings must still be ignored."""
    from nbgrader.api import Gradebook
    course = course_copy(tmp_path_factory, tmp_path_factory.mktemp("warn") / "course")
    submit(course, "ann", solution_notebook(course, A))
    real_write, real_update = writing.Writer.write, Gradebook.update_or_create_submission
    leave, judges = threading.Event(), []

    def judging(entered):         # what checks/compare.judge does around every judge
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            entered.set()
            leave.wait(60)

    def write(self, result):
        entered = threading.Event()
        judges.append(threading.Thread(target=judging, args=(entered,)))
        judges[-1].start()
        entered.wait(60)
        return real_write(self, result)

    def update(self, *args, **kwargs):
        leave.set()               # the judge leaves while the write is under way
        judges[-1].join(60)
        return real_update(self, *args, **kwargs)

    monkeypatch.setattr(writing.Writer, "write", write)
    monkeypatch.setattr(Gradebook, "update_or_create_submission", update)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        report = grade_assignment(course, A, sandbox=InProcess(), workers=1, progress=False)
    assert judges and report.totals["ann"][0] == 27
    assert [str(w.message) for w in seen if "not in session" in str(w.message)] == []
