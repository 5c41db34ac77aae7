"""The review quiz grades every option with its own explanation; self-scores follow the rubric."""

import pytest

from lr_course.lessons import lesson06 as quiz
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
    assert row.done == len(quiz.QUESTIONS) and row.total == len(quiz.QUESTIONS) + len(quiz.RUBRICS) + 1  # and predict_run


def test_the_questions_cover_the_three_review_questions():
    assert {q.review for q in quiz.QUESTIONS.values()} == {1, 2, 3}
    assert len(quiz.RUBRICS) == 3


@pytest.mark.parametrize("rubric_id", sorted(quiz.RUBRICS))
def test_self_score_passes_at_the_pass_mark_and_not_below(rubric_id, progress_file):
    rubric = quiz.RUBRICS[rubric_id]
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
    [2, 2, 1, 1],                      # not a dict
    {"regimes": 2},                    # missing criteria
    {"regimes": 3, "mechanism": 2, "evidence": 1, "noise": 1},     # above the maximum
    {"regimes": 1.5, "mechanism": 2, "evidence": 1, "noise": 1},   # not whole
    {"regimes": 2, "mechanism": 2, "evidence": 1, "noise": 1, "extra": 1},
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
