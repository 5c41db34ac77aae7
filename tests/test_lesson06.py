"""The review quiz grades every option with its own explanation; self-scores follow the rubric."""

import re
from pathlib import Path

import nbformat
import pytest

from lr_course.lessons import lesson06 as quiz
from lr_course.lessons import rubrics as rubrics_module
from lr_course.lessons import load_progress, progress_report


@pytest.fixture(autouse=True)
def progress_file(tmp_path, monkeypatch):
    path = tmp_path / "progress.json"
    monkeypatch.setenv("LR_COURSE_PROGRESS", str(path))
    return path


@pytest.mark.parametrize("question_id", sorted(quiz.QUESTIONS))
def test_every_option_gets_its_own_explanation(question_id):
    question = quiz.QUESTIONS[question_id]
    assert len(question.options) >= 3
    for letter in question.options:
        feedback = quiz.answer(question_id, letter, record=False)
        assert feedback.passed == (letter == question.correct)
        shown = " ".join(feedback.right + feedback.wrong)
        assert question.explanations[letter] in shown
        # a wrong choice gets a hint and never the letter of the right one
        if letter != question.correct:
            assert feedback.hint == question.hint
            assert f"({question.correct})" not in shown


def test_choice_is_forgiving_about_case_and_brackets_but_not_nonsense():
    question = quiz.QUESTIONS["06.q_threshold"]
    assert quiz.answer(question.id, f" ({question.correct.upper()}) ", record=False).passed
    feedback = quiz.answer(question.id, "z", record=False)
    assert feedback.status == "failed" and "not one of the options" in feedback.wrong[0]
    assert quiz.answer(question.id, ..., record=False).status == "unanswered"


def test_right_answers_are_recorded_in_the_progress(progress_file):
    for question in quiz.QUESTIONS.values():
        quiz.answer(question.id, question.correct)
    quiz.answer("06.q_warmup", "a")  # a wrong one records nothing new
    passed = load_progress(progress_file)["exercises"]
    assert set(quiz.QUESTIONS) <= set(passed)
    row = [r for r in progress_report(progress_file).rows if r.lesson == "06"][0]
    assert row.done == len(quiz.QUESTIONS) and row.total == len(quiz.QUESTIONS) + len(quiz.WRITTEN) + 1  # and predict_run


def test_the_questions_cover_the_three_review_questions():
    assert {q.review for q in quiz.QUESTIONS.values()} == {1, 2, 3}
    assert len(quiz.WRITTEN) == 3


@pytest.mark.parametrize("rubric_id", sorted(quiz.WRITTEN))
def test_self_score_passes_at_the_pass_mark_and_not_below(rubric_id, progress_file):
    rubric = quiz.rubrics()[rubric_id]
    full = {key: points for key, (_, points) in rubric.criteria.items()}
    assert quiz.self_score(rubric_id, full).passed
    assert rubric_id in load_progress(progress_file)["exercises"]
    # take points away one at a time until just below the pass mark
    scores = dict(full)
    for key in scores:
        while sum(scores.values()) >= rubric.pass_mark and scores[key] > 0:
            scores[key] -= 1
    assert sum(scores.values()) == rubric.pass_mark - 1
    feedback = quiz.self_score(rubric_id, scores, record=False)
    assert feedback.status == "failed" and feedback.hint
    key = next(k for k in scores if scores[k] < full[k])
    scores[key] += 1  # exactly the pass mark now
    assert quiz.self_score(rubric_id, scores, record=False).passed


@pytest.mark.parametrize("bad", [
    [1, 1, 1],                                         # not a dict
    {"regimes": 1},                                    # missing criteria
    {"regimes": 2, "mechanism": 1, "evidence": 1},     # above the maximum
    {"regimes": 0.5, "mechanism": 1, "evidence": 1},   # not whole
    {"regimes": 1, "mechanism": 1, "evidence": 1, "extra": 1},
])
def test_malformed_self_scores_are_explained_not_recorded(bad, progress_file):
    feedback = quiz.self_score("06.written_convergence", bad)
    assert feedback.status == "failed" and feedback.wrong
    assert "06.written_convergence" not in load_progress(progress_file)["exercises"]


def test_unknown_ids_raise_value_error_naming_the_argument():
    with pytest.raises(ValueError, match="question_id"):
        quiz.answer("06.nope", "a")
    with pytest.raises(ValueError, match="rubric_id"):
        quiz.self_score("06.nope", {})


def test_questions_and_rubrics_render_in_text_and_html():
    q = quiz.show("06.q_noise_floor")
    assert "(a)" in str(q) and "quiz.answer" in q._repr_html_()
    r = quiz.show_rubric("06.written_strategies")
    assert "pass mark" in str(r) and "<table>" in r._repr_html_()


def test_an_empty_template_is_not_scored_yet():
    template = {key: ... for key in quiz.rubrics()["06.written_cost"].criteria}
    assert quiz.self_score("06.written_cost", template, record=False).status == "unanswered"


# --- the rubrics are the instructor's ps3 rubrics -------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def _ps3_answer_cells():
    nb = nbformat.read(ROOT / "autograder" / "source" / "ps3_tuning" / "ps3_tuning.ipynb", as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("answer_")
            and c.metadata["nbgrader"].get("grade")}


def test_lesson_06_and_the_ps3_notebook_agree():
    """Read independently of the parser: every table row of each answer cell is a criterion of
    the lesson's rubric with the same points, the pass mark is the cell's, and the nbgrader
    points equal the rubric's maximum."""
    cells = _ps3_answer_cells()
    assert set(cells) == {grade_id for grade_id, _ in quiz.WRITTEN.values()}
    for rubric_id, (grade_id, _) in quiz.WRITTEN.items():
        source = cells[grade_id].source
        rows = re.findall(r"^\| ([a-z_]+) \| (\d+) \| (.+) \|$", source, flags=re.M)
        rubric = quiz.rubrics()[rubric_id]
        assert {key: (text, int(points)) for key, points, text in rows} == rubric.criteria
        pass_mark, total = map(int, re.search(r"pass mark (\d+) of (\d+)", source).groups())
        assert (rubric.pass_mark, rubric.max_total) == (pass_mark, total)
        assert cells[grade_id].metadata["nbgrader"]["points"] == rubric.max_total
        assert rubric.model_answer and rubric.model_answer in source


def test_the_lesson_templates_carry_the_rubric_keys_and_start_empty():
    lesson = nbformat.read(ROOT / "notebooks" / "06_review.ipynb", as_version=4)
    code = "\n".join(c.source for c in lesson.cells if c.cell_type == "code")
    for rubric_id, rubric in quiz.rubrics().items():
        template = re.search(r"scores = (\{[^}]*\})[^\n]*\n\s*quiz\.self_score\(\"%s\"" % re.escape(rubric_id), code)
        assert template, rubric_id
        keys = re.findall(r'"([a-z_]+)": \.\.\.', template.group(1))
        assert keys == list(rubric.criteria), rubric_id
        assert re.sub(r'"[a-z_]+": \.\.\.', "", template.group(1)).strip("{}, ") == "", rubric_id


def test_a_missing_notebook_says_where_the_rubrics_live(tmp_path):
    with pytest.raises(FileNotFoundError, match="ps3 rubric.*checkout"):
        rubrics_module.load(tmp_path / "nowhere.ipynb")


def test_a_malformed_cell_is_refused_with_its_name():
    good = "**Model answer.** A.\n\n**Rubric** (pass mark 1 of 2)\n\n| key | points | what earns them |\n|---|---|---|\n| a | 1 | x |\n| b | 1 | y |"
    assert rubrics_module.parse_cell("answer_x", good).max_total == 2
    with pytest.raises(ValueError, match="answer_x.*add up to 2"):
        rubrics_module.parse_cell("answer_x", good.replace("1 of 2", "1 of 3"))
    with pytest.raises(ValueError, match="answer_x.*Model answer"):
        rubrics_module.parse_cell("answer_x", good.replace("**Model answer.**", ""))
    with pytest.raises(ValueError, match="twice"):
        rubrics_module.parse_cell("answer_x", good.replace("| b | 1 | y |", "| a | 1 | y |"))
