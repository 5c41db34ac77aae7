"""The lesson self-checks: right answers pass, slips get hints, nothing leaks the answer."""

import json
import re

import numpy as np
import pytest

from lr_course import lessons
from lr_course.lessons import check_answer, load_progress, progress_report
from lr_course.lessons.exercise import ExerciseSet


@pytest.fixture(autouse=True)
def progress_file(tmp_path, monkeypatch):
    path = tmp_path / "record" / "progress.json"
    monkeypatch.setenv("LR_COURSE_PROGRESS", str(path))
    lessons.forget_attempts()
    return path


def _pareto(times, accs):
    """The front by its definition, with plain loops."""
    n = len(times)
    return np.array([
        not any(times[j] <= times[i] and accs[j] >= accs[i] and (times[j] < times[i] or accs[j] > accs[i])
                for j in range(n))
        for i in range(n)
    ])


# Independent right answers, worked by hand from the exercise statements in the lessons.
RIGHT = {
    "00.one_step": 2.4,
    "00.gd_loop": lambda w0, lr, num_steps: w0 * (1 - 2 * lr) ** num_steps,
    "01.critical_lr": 0.25,
    "01.regime": ["monotone", "oscillating", "diverging", "monotone"],
    "01.contraction": lambda lr, eigs: float(np.max(np.abs(1 - lr * np.asarray(eigs)))),
    "01.optimal_rate": 9 / 11,
    "02.momentum_threshold": 0.95,
    "02.first_adam_step": np.array([-0.01, 0.01, -0.01]),
    "02.adagrad_step": 0.05,
    "03.noise_floor": 0.1 * 0.09 / (4 * 1.6),
    "03.lr_for_floor": 0.1 / 1.05,
    "03.pareto": _pareto,
}

WRONG = {
    "00.one_step": 2.7,
    "00.gd_loop": lambda w0, lr, num_steps: w0 * (1 - 2 * lr) ** (num_steps + 1),
    "01.critical_lr": 0.3,
    "01.regime": ["monotone", "monotone", "diverging", "monotone"],
    "01.contraction": lambda lr, eigs: float(np.min(np.abs(1 - lr * np.asarray(eigs)))),
    "01.optimal_rate": 0.5,
    "02.momentum_threshold": 0.5,
    "02.first_adam_step": np.array([-0.0316, 0.0316, -0.0316]),
    "02.adagrad_step": 0.025,
    "03.noise_floor": 2 * 0.1 * 0.09 / (4 * 1.6),  # the expected loss, not E[x^2]
    "03.lr_for_floor": 0.1,
    "03.pareto": lambda t, a: np.ones(len(t), dtype=bool),
}


def ids_of_lessons_00_03():
    """The exercises of lessons 00-03 but the predict-run-check ones (test_lesson_runs.py)."""
    return sorted(i for i in lessons.exercises()
                  if i[:2] in {"00", "01", "02", "03"} and not i.endswith(".predict_run"))


def test_every_exercise_of_lessons_00_03_is_covered_here():
    assert set(ids_of_lessons_00_03()) == set(RIGHT) == set(WRONG)


@pytest.mark.parametrize("exercise_id", sorted(RIGHT))
def test_right_answer_passes(exercise_id):
    feedback = check_answer(exercise_id, RIGHT[exercise_id])
    assert feedback.status == "passed", str(feedback)
    assert feedback.right and not feedback.wrong and feedback.hint is None


@pytest.mark.parametrize("exercise_id", sorted(WRONG))
def test_wrong_answer_fails_with_a_hint(exercise_id):
    feedback = check_answer(exercise_id, WRONG[exercise_id])
    assert feedback.status == "failed"
    assert feedback.wrong and feedback.hint


# Function and list answers have no single number that feedback could leak.
NUMERIC = sorted(k for k, v in RIGHT.items() if not (callable(v) or isinstance(v, list)))


@pytest.mark.parametrize("exercise_id", NUMERIC)
def test_feedback_never_shows_the_expected_number(exercise_id):
    right = RIGHT[exercise_id]
    expected = np.atleast_1d(np.asarray(right, dtype=float))
    for answer in (WRONG[exercise_id], 123.0, "abc", [1, 2]):
        text = str(check_answer(exercise_id, answer)) + check_answer(exercise_id, answer)._repr_html_()
        shown = [float(x) for x in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", text)]
        for value in expected:
            assert not any(np.isclose(s, value, rtol=1e-2) for s in shown if s != 0), text


@pytest.mark.parametrize("placeholder", [..., None])
def test_placeholder_is_unanswered_and_not_recorded(placeholder, progress_file):
    feedback = check_answer("01.critical_lr", placeholder)
    assert feedback.status == "unanswered" and not feedback.passed
    assert not progress_file.exists()


def test_function_template_returning_none_is_unanswered():
    def gd(w0, lr, num_steps):
        ...

    feedback = check_answer("00.gd_loop", gd)
    assert feedback.status == "unanswered" and "return" in feedback.hint


def test_known_slips_get_their_own_hint():
    assert "oscillate" in check_answer("01.critical_lr", 0.125).hint
    assert "bias" not in check_answer("02.first_adam_step", RIGHT["02.first_adam_step"]).right[0]
    assert "beta1**t" in check_answer("02.first_adam_step", 3.1623 * np.array([-0.01, 0.01, -0.01])).hint
    assert "one step too many" in check_answer("00.gd_loop", WRONG["00.gd_loop"]).hint
    assert "absolute value" in check_answer("01.contraction", lambda lr, e: float(np.max(1 - lr * e))).hint
    assert "uphill" in check_answer("00.one_step", 3.6).hint


def test_bad_answer_types_are_explained_not_raised():
    assert "single number" in check_answer("01.critical_lr", "0.25").wrong[0]
    assert "function" in check_answer("03.pareto", 0.5).wrong[0]
    feedback = check_answer("01.contraction", lambda lr, e: 1 / 0)
    assert feedback.status == "failed" and "ZeroDivisionError" in feedback.wrong[0]
    assert check_answer("01.critical_lr", float("nan")).status == "failed"


def test_modifying_inputs_is_caught():
    def in_place(lr, eigs):
        eigs *= lr
        return float(np.max(np.abs(1 - eigs)))

    assert "modified" in check_answer("01.contraction", in_place).wrong[0]


def test_unknown_exercise_names_the_argument():
    with pytest.raises(ValueError, match="exercise_id"):
        check_answer("01.nope", 1.0)
    with pytest.raises(ValueError, match="lesson"):
        ExerciseSet("7", "a lesson number that is not two digits")
    with pytest.raises(ValueError, match="name"):
        ExerciseSet("07", "new").add("Not A Name", "bad name")
    lesson01 = lessons.exercise_sets()[1]
    with pytest.raises(ValueError, match="registered twice"):
        lesson01.add("critical_lr", "again")(lambda answer, verdict: None)


def test_the_registry_follows_the_lesson_modules_in_order():
    numbers = [s.lesson for s in lessons.exercise_sets()]
    assert numbers == [name[-2:] for name in lessons.LESSON_MODULES] == sorted(numbers)
    assert all(i.startswith(s.lesson + ".") for s in lessons.exercise_sets() for i in s.exercises)


def test_a_pass_is_recorded_and_counted(progress_file):
    assert progress_report().done == 0
    check_answer("01.critical_lr", 0.3)
    assert not progress_file.exists()  # a failed attempt writes nothing
    assert check_answer("01.critical_lr", 0.25).note == "saved: 1 of 5 exercises of lesson 01 passed"
    check_answer("01.critical_lr", 0.25)
    record = json.loads(progress_file.read_text())
    assert record["exercises"]["01.critical_lr"]["passes"] == 2
    rows = {r.lesson: r for r in progress_report().rows}
    assert (rows["01"].done, rows["01"].total) == (1, 5)
    assert rows["00"].done == 0 and rows["00"].total == 3
    assert "[" in str(progress_report()) and "1/" in str(progress_report())


def test_record_false_leaves_no_trace(progress_file):
    check_answer("01.critical_lr", 0.25, record=False)
    assert not progress_file.exists()


def test_env_var_may_name_a_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("LR_COURSE_PROGRESS", str(tmp_path))
    check_answer("00.one_step", 2.4)
    assert (tmp_path / "progress.json").exists()


def test_corrupt_record_is_backed_up_and_replaced(progress_file, capsys):
    progress_file.parent.mkdir(parents=True)
    progress_file.write_text("{not json")
    feedback = check_answer("00.one_step", 2.4)
    assert feedback.passed and feedback.note.startswith("saved: 1 of 3")
    assert "unreadable" in capsys.readouterr().err
    backups = list(progress_file.parent.glob("progress.json.corrupt-*"))
    assert len(backups) == 1 and backups[0].read_text() == "{not json"
    assert "00.one_step" in load_progress()["exercises"]


def test_wrong_shape_record_counts_as_corrupt(progress_file, capsys):
    progress_file.parent.mkdir(parents=True)
    progress_file.write_text(json.dumps({"version": 1, "exercises": ["x"]}))
    assert load_progress()["exercises"] == {}
    assert "unreadable" in capsys.readouterr().err


def test_unwritable_record_never_breaks_a_check(tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setenv("LR_COURSE_PROGRESS", str(blocker / "progress.json"))
    feedback = check_answer("00.one_step", 2.4)
    assert feedback.passed and "could not be saved" in feedback.note


def test_reset_and_show_progress(progress_file, capsys):
    check_answer("00.one_step", 2.4)
    lessons.reset_progress()
    assert progress_report().done == 0
    lessons.show_progress()  # outside IPython it prints
    out = capsys.readouterr().out
    assert "Start here" in out and "Review" in out
    assert "<table>" in progress_report()._repr_html_()


def _lesson_code(lesson):
    from pathlib import Path

    import nbformat

    path = next((Path(__file__).resolve().parents[1] / "notebooks").glob(f"{lesson}_*.ipynb"))
    return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")


@pytest.mark.parametrize("exercise_set", lessons.exercise_sets(), ids=lambda s: s.lesson)
def test_each_lesson_uses_exactly_its_exercises(exercise_set):
    """No exercise without a cell in its lesson, no cell checking an exercise that is not there."""
    code = _lesson_code(exercise_set.lesson)
    used = set(re.findall(r'(?:check_answer|quiz\.answer|quiz\.self_score)\(\s*"(\d\d\.\w+)"', code))
    assert used == set(exercise_set.exercises), used ^ set(exercise_set.exercises)


def _is_empty_template(node):
    """``...``, or a dict whose values are all ``...`` (a run may be a variable the cell computes)."""
    import ast

    if isinstance(node, ast.Constant) and node.value is Ellipsis:
        return True
    if isinstance(node, ast.Dict):
        return all((isinstance(v, ast.Constant) and v.value is Ellipsis)
                   or (isinstance(k, ast.Constant) and k.value == "run" and isinstance(v, ast.Name))
                   for k, v in zip(node.keys, node.values))
    return False


@pytest.mark.parametrize("exercise_set", lessons.exercise_sets(), ids=lambda s: s.lesson)
def test_every_answer_cell_starts_as_an_empty_template(exercise_set):
    """A headless run reports "not answered": no template holds a number that could pass."""
    import ast

    code = "\n".join(line for line in _lesson_code(exercise_set.lesson).splitlines()
                     if not line.lstrip().startswith(("%", "!")))   # magics and shell lines are not Python
    tree = ast.parse(code)
    assigned = [node for node in ast.walk(tree) if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id in {"answer", "scores", "my_lr", "B"} for t in node.targets)]
    assert assigned or exercise_set.lesson == "06"
    for node in assigned:
        assert _is_empty_template(node.value), ast.unparse(node)


def test_after_a_few_wrong_tries_feedback_stops_giving_the_direction():
    """Bisection needs "too large / too small" on every try; only the first tries say it."""
    from lr_course.lessons.feedback import DIRECTION_TRIES

    texts = [" ".join(check_answer("01.critical_lr", value, record=False).wrong)
             for value in (0.3, 0.2, 0.26, 0.24, 0.256)]
    assert all("too large" in t or "too small" in t for t in texts[:DIRECTION_TRIES])
    assert all("too" not in t and "not within 1%" in t for t in texts[DIRECTION_TRIES:]), texts
    assert check_answer("01.critical_lr", 0.25, record=False).passed   # the right one still passes


def test_a_negative_step_size_is_wrong_and_never_also_right():
    feedback = check_answer("02.adagrad_step", -0.05, record=False)
    assert feedback.status == "failed" and not feedback.right, str(feedback)


def test_noise_floor_exercise_tells_the_loss_from_the_mean_square():
    feedback = check_answer("03.noise_floor", WRONG["03.noise_floor"], record=False)
    assert "expected loss" in feedback.hint


def test_a_function_returning_a_list_gets_a_hint_about_return():
    feedback = check_answer("00.gd_loop", lambda w0, lr, num_steps: [w0, w0], record=False)
    assert feedback.status == "failed" and "return" in feedback.hint
