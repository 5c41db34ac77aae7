"""Lesson 06, the review: a quiz that explains every option, and self-scored written answers.

A quiz question is shown with ``show("06.q_threshold")`` and answered with
``answer("06.q_threshold", "b")``: the reply says whether the choice is right and *why that
option* is right or wrong, so a wrong guess still teaches something. A written answer is
compared with the model answer and scored against its rubric with
``self_score("06.written_convergence", {"criterion": points, ...})``. The rubrics are the
instructor's ps3 rubrics, read from ps3's answer cells (:mod:`lr_course.lessons.rubrics`).

Both are exercises of lesson 06 (:data:`EXERCISES`), so a right choice or a passing
self-score lands in the same progress record as every other exercise. No widgets here: a
plain function call works in every front end and in a headless run.
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass

import numpy as np

from lr_course.lessons.exercise import ExerciseSet
from lr_course.lessons.feedback import NotAnswered, Verdict, as_constant_lr_run, check_prediction
from lr_course.lessons.rubrics import load as load_rubrics

__all__ = ["Question", "Rubric", "QUESTIONS", "WRITTEN", "rubrics", "EXERCISES", "show", "answer",
           "show_rubric", "self_score"]

EXERCISES = ExerciseSet("06", "Review")


@dataclass(frozen=True)
class Question:
    """One multiple-choice question with an explanation for every option.

    Attributes:
        id: the exercise id, ``"06.<name>"``.
        review: which review question (1, 2 or 3) it belongs to.
        prompt: the question.
        options: ``{letter: text}``.
        correct: the letter of the right option.
        explanations: ``{letter: why this option is right or wrong}``; one per option.
        hint: what to reread when the answer is wrong (never the answer).
    """

    id: str
    review: int
    prompt: str
    options: dict
    correct: str
    explanations: dict
    hint: str

    def __post_init__(self):
        assert self.correct in self.options, self.id
        assert set(self.explanations) == set(self.options), self.id

    def __str__(self) -> str:
        lines = [f"{self.id}: {self.prompt}"]
        lines += [f"  ({letter}) {text}" for letter, text in self.options.items()]
        lines.append(f'Answer with: quiz.answer("{self.id}", "<letter>")')
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))

    def _repr_html_(self) -> str:
        items = "".join(f"<li><b>({letter})</b> {html.escape(text)}</li>"
                        for letter, text in self.options.items())
        return (f'<div style="border-left:4px solid #0969da;padding:4px 10px">'
                f"<b>{html.escape(self.prompt)}</b>"
                f'<ul style="list-style:none;margin:4px 0;padding-left:6px">{items}</ul>'
                f'<small>Answer with <code>quiz.answer("{self.id}", "&lt;letter&gt;")</code></small></div>')


def _q(id, review, prompt, options, correct, explanations, hint):
    return Question(id, review, prompt, dict(options), correct, dict(explanations), hint)


QUESTIONS: dict[str, Question] = {q.id: q for q in [
    _q("06.q_threshold", 1,
       "Gradient descent runs on a quadratic whose Hessian has eigenvalues between 0.5 and 20. "
       "Which learning rates converge from every starting point?",
       {"a": "every lr below 2/0.5 = 4",
        "b": "every lr between 0 and 2/20 = 0.1 (exclusive)",
        "c": "only lr = 2/(0.5 + 20), the best fixed step",
        "d": "every lr below 1/20 = 0.05, since above it the iterates oscillate"},
       "b",
       {"a": "The flattest direction does not decide stability: along the eigenvalue 20 the factor "
             "|1 - lr * 20| exceeds 1 for any lr above 0.1, and that direction blows up.",
        "b": "Right: each direction is multiplied by 1 - lr * lambda per step, and all of them "
             "shrink exactly when lr * 20 < 2, i.e. lr < 2/L.",
        "c": "2/(mu + L) is the fastest fixed step, not the only convergent one; every lr in "
             "(0, 2/L) converges, just more slowly.",
        "d": "Between 1/L and 2/L the steepest direction overshoots and changes sign each step, "
             "but its size still shrinks: oscillating is not diverging."},
       "Write the per-step factor of each eigen-direction and ask when all of them are below 1 in size."),
    _q("06.q_small_lr", 1,
       "You divide the learning rate by 10 on a well-behaved (convex, noise-free) problem. "
       "What happens to the number of steps needed to reach a given loss?",
       {"a": "it stays about the same: the lr only changes the final accuracy",
        "b": "it drops, since smaller steps are more accurate",
        "c": "it grows, roughly tenfold once lr is well below 1/L: the contraction per step "
             "1 - lr * mu moves ten times closer to 1",
        "d": "training never converges below some minimum lr"},
       "c",
       {"a": "For a fixed tolerance the step count is about log(1/tol) / (lr * mu) when lr is "
             "small, so it scales with 1/lr.",
        "b": "Smaller steps do not overshoot, but each one removes ten times less error; on a "
             "noise-free problem nothing is gained in exchange.",
        "c": "Right: in the slow regime the error shrinks by about (1 - lr * mu) per step, so ten "
             "times smaller lr needs about ten times more steps.",
        "d": "Any lr in (0, 2/L) converges on a convex quadratic; a tiny one is just slow."},
       "Lesson 03's U-curve of steps against lr: look at its left branch."),
    _q("06.q_noise_floor", 2,
       "With noisy minibatch gradients and a constant lr, the training loss stops improving at a "
       "level that depends on the lr. Which change lowers that level without slowing the start?",
       {"a": "use a smaller constant lr from step 0",
        "b": "keep the large lr early, then decay it (step, cosine or inverse-time decay)",
        "c": "increase the lr once the loss has plateaued",
        "d": "nothing: the floor is set by the data, not by the lr"},
       "b",
       {"a": "A smaller constant lr does lower the floor (it is proportional to lr for small lr) "
             "but every early step is slower too.",
        "b": "Right: early on the error is far above the noise floor and a large lr makes fast "
             "progress; decaying later shrinks the floor lr * sigma^2 / (lambda (2 - lr lambda)).",
        "c": "A larger lr raises the floor (and risks divergence); warm restarts raise it on "
             "purpose to explore, then decay again.",
        "d": "The floor E[x^2] = lr sigma^2 / (lambda (2 - lr lambda)) goes to 0 with lr: it is "
             "set by the lr as much as by the noise."},
       "Lesson 04's noisy-quadratic figure: compare the constant line with the decayed ones."),
    _q("06.q_warmup", 2,
       "Why do many recipes start with a linear warm-up of the learning rate?",
       {"a": "to save computation in the first steps",
        "b": "because the loss is lowest at the start",
        "c": "the first updates happen where curvature can be large and (for Adam) the second-moment "
             "estimate is based on few gradients, so a full-size step can be unstable",
        "d": "warm-up is needed for the schedule to end at zero"},
       "c",
       {"a": "A warm-up step costs exactly as much as any other step.",
        "b": "At initialisation the loss is usually at its highest, not its lowest.",
        "c": "Right: early curvature is often sharper than later (and Adam's statistics are "
             "noisy), so ramping the lr keeps the early steps stable; then the peak lr does the work.",
        "d": "Where a schedule ends is decided by its decay part; warm-up only shapes the start."},
       "Think of the stability limit 2/L at the start of training, when L may be large."),
    _q("06.q_cost_large", 3,
       "An lr a little too large (still below divergence) with minibatch SGD typically costs you what?",
       {"a": "nothing: any lr that does not diverge ends at the same accuracy",
        "b": "a higher final training and validation loss (a higher noise floor) and a jumpy curve, "
             "unless it is decayed",
        "c": "it always diverges eventually",
        "d": "only extra wall-clock time"},
       "b",
       {"a": "Non-divergent runs of the same length stop at different loss levels; lesson 04 measured it.",
        "b": "Right: oscillation and gradient noise keep the iterate bouncing at a level that grows "
             "with lr; the final accuracy on unseen data is lower.",
        "c": "Below the stability limit a run does not blow up; it just settles at a higher level.",
        "d": "A large lr is usually fast at first; its cost is in the level reached, not the time."},
       "Compare the constant-lr run and the decayed runs on the digits model in lesson 04."),
    _q("06.q_choose_by_val", 3,
       "You compared five learning rates. Which split should decide which one you report, and why?",
       {"a": "the test split, because it is what we care about",
        "b": "the training split, because it has the most examples",
        "c": "the validation split; the test split is used once, at the end, so its accuracy "
             "stays an unbiased estimate",
        "d": "it does not matter as long as the seed is fixed"},
       "c",
       {"a": "Choosing by the test score makes the reported test score optimistically biased: "
             "it is then part of the tuning.",
        "b": "Training loss rewards the lr that fits the training set best, not the one that "
             "generalises; it also cannot see overfitting.",
        "c": "Right: tune on validation, report test once; the gap between the two is a check "
             "that tuning did not overfit the validation split.",
        "d": "A fixed seed makes runs reproducible, not unbiased; and one seed hides the "
             "run-to-run spread, which can exceed the gap between close lrs."},
       "Lesson 05's section on validation splits and seeds."),
]}


@dataclass(frozen=True)
class Rubric:
    """A rubric for one written answer: criteria with points, and the pass mark.

    Attributes:
        id: the exercise id, ``"06.written_<name>"``.
        question: the review question being answered.
        criteria: ``{key: (description, max_points)}``.
        pass_mark: the total at which the answer counts as done.
        model_answer: the instructor's model answer (markdown).
    """

    id: str
    question: str
    criteria: dict
    pass_mark: int
    model_answer: str = ""

    @property
    def max_total(self) -> int:
        return sum(points for _, points in self.criteria.values())

    def __str__(self) -> str:
        lines = [f"Rubric for {self.id} (pass mark {self.pass_mark}/{self.max_total}): {self.question}"]
        lines += [f"  {key:<12} 0..{points}  {text}" for key, (text, points) in self.criteria.items()]
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td><code>{html.escape(key)}</code></td><td>0&ndash;{points}</td>"
                       f"<td style='text-align:left'>{html.escape(text)}</td></tr>"
                       for key, (text, points) in self.criteria.items())
        return (f"<b>Rubric</b> ({html.escape(self.question)}), pass mark "
                f"{self.pass_mark}/{self.max_total}<table><tr><th>key</th><th>points</th>"
                f"<th>what earns them</th></tr>{rows}</table>")


#: The written answers of lesson 06: exercise id -> (grade_id of ps3's answer cell, the question).
WRITTEN = {
    "06.written_convergence": ("answer_convergence",
                               "How does the choice of learning rate change convergence during training?"),
    "06.written_strategies": ("answer_strategies",
                              "What are the common strategies for adjusting the learning rate, and how do they help?"),
    "06.written_cost": ("answer_cost",
                        "What does an inappropriate learning rate cost, in efficiency and in accuracy on unseen data?"),
}


@functools.cache
def rubrics() -> dict[str, Rubric]:
    """The rubrics of the written answers, read from the instructor's ps3 answer cells.

    Returns:
        ``{exercise id: Rubric}``, one per entry of :data:`WRITTEN`.

    Raises:
        FileNotFoundError: outside a checkout of the repository (see :mod:`lr_course.lessons.rubrics`).

    >>> rubrics()["06.written_cost"].pass_mark <= rubrics()["06.written_cost"].max_total
    True
    """
    parsed = load_rubrics()
    return {rid: Rubric(rid, question, dict(parsed[grade_id].criteria), parsed[grade_id].pass_mark,
                        parsed[grade_id].model_answer)
            for rid, (grade_id, question) in WRITTEN.items()}


def _lookup(table, key, what):
    if key not in table:
        raise ValueError(f"{what} must be one of {', '.join(table)}; got {key!r}")
    return table[key]


def show(question_id: str) -> Question:
    """Return the question (it renders with its options as the last line of a cell).

    Args:
        question_id: e.g. ``"06.q_threshold"``.

    Returns:
        The :class:`Question`.

    >>> print(show("06.q_warmup").options["a"])
    to save computation in the first steps
    """
    return _lookup(QUESTIONS, question_id, "question_id")


def answer(question_id: str, choice, *, record: bool = True):
    """Grade a choice: right or wrong, and the explanation of the chosen option.

    Args:
        question_id: e.g. ``"06.q_threshold"``.
        choice: the letter, e.g. ``"b"`` (case and surrounding spaces are ignored); ``...``
            means not answered yet.
        record: whether a right answer is written to the progress record.

    Returns:
        A :class:`~lr_course.lessons.feedback.Feedback` (renders as right / wrong / hint).

    >>> answer("06.q_threshold", ..., record=False).status
    'unanswered'
    """
    _lookup(QUESTIONS, question_id, "question_id")
    return EXERCISES.check(question_id, choice, record=record)


def show_rubric(rubric_id: str) -> Rubric:
    """Return the rubric of a written answer (it renders as a table)."""
    _lookup(WRITTEN, rubric_id, "rubric_id")
    return rubrics()[rubric_id]


def self_score(rubric_id: str, scores, *, record: bool = True):
    """Record the points you give your own written answer, criterion by criterion.

    Args:
        rubric_id: e.g. ``"06.written_convergence"``.
        scores: ``{criterion key: points}``, one entry per criterion of the rubric, each an
            integer from 0 to its maximum; ``...`` means not scored yet.
        record: whether a total at or above the pass mark is written to the progress record.

    Returns:
        A :class:`~lr_course.lessons.feedback.Feedback`: the criteria met, the ones to improve.

    >>> self_score("06.written_cost", ..., record=False).status
    'unanswered'
    """
    _lookup(WRITTEN, rubric_id, "rubric_id")
    return EXERCISES.check(rubric_id, scores, record=record)


# --- the checks behind answer() and self_score(), registered below ---------------------------


def check_choice(question: Question, choice, verdict) -> None:
    """Fill a ``Verdict`` for one quiz choice."""
    letter = str(choice).strip().lower().strip("()")
    if letter not in question.options:
        verdict.bad(f"{choice!r} is not one of the options {', '.join(question.options)}",
                    'Give the letter as a string, e.g. "a".')
        return
    if letter == question.correct:
        verdict.ok(f"({letter}) -- {question.explanations[letter]}")
    else:
        verdict.bad(f"({letter}) is not the best answer. {question.explanations[letter]}", question.hint)


def check_scores(rubric: Rubric, scores, verdict) -> None:
    """Fill a ``Verdict`` for a self-score against a rubric."""
    if not isinstance(scores, dict):
        verdict.bad("give your scores as a dict {criterion: points}",
                    f"The keys are: {', '.join(rubric.criteria)}.")
        return
    if scores and all(points is Ellipsis for points in scores.values()):
        raise NotAnswered("Give yourself points for each criterion (replace each ...), then run the cell again.")
    unknown = set(scores) - set(rubric.criteria)
    missing = [key for key in rubric.criteria if key not in scores]
    if unknown or missing:
        verdict.bad(f"the keys must be exactly {', '.join(rubric.criteria)}"
                    + (f"; unknown: {', '.join(map(str, sorted(unknown, key=str)))}" if unknown else "")
                    + (f"; missing: {', '.join(missing)}" if missing else ""),
                    "Copy the keys from the rubric table above.")
        return
    total = 0
    for key, (text, most) in rubric.criteria.items():
        points = scores[key]
        if isinstance(points, bool) or not isinstance(points, int) or not 0 <= points <= most:
            verdict.bad(f"{key}: points must be a whole number from 0 to {most}, got {points!r}")
            return
        total += points
        if points == most:
            verdict.ok(f"{key}: full marks")
        else:
            verdict.bad(f"{key}: {points}/{most}; to improve: {text}",
                        "Revise your answer with the model answer beside it, then score it again.")
    if total >= rubric.pass_mark:
        # Enough for a pass: the criteria still short of full marks are advice, not failures.
        short = [line for line in verdict.wrong]
        verdict.wrong.clear()
        verdict.hint = None
        verdict.ok(f"total {total}/{rubric.max_total}, at or above the pass mark {rubric.pass_mark}")
        for line in short:
            verdict.ok(f"(could still improve) {line}")
    else:
        verdict.bad(f"total {total}/{rubric.max_total}, below the pass mark {rubric.pass_mark}")


# --- a predict-run-check exercise: how the step count scales with a small lr ----------------------


@EXERCISES.add("predict_run", "predict how many steps a small lr needs, then count them")
def _predict_run(answer, verdict: Verdict) -> None:
    # GD on the parabola of curvature 1 from w0 = 1 for 3000 steps, at a constant lr <= 0.5
    def read(run, verdict):
        run = as_constant_lr_run(run, verdict, 3000, loss0=0.5,
                                 experiment="constant lr, curvature 1, w0 = 1",
                                 hint="Use problems.Quadratic.one_d(curvature=1.0, x0=1.0) and a constant lr.")
        if run is None:
            return None
        lr = float(run.lr[0])
        if not 0 < lr <= 0.5:
            verdict.bad(f"lr = {lr:g} is outside the range the exercise asks for (0, 0.5]")
            return None
        below = np.asarray(run.loss) < 1e-8
        if not below.any():
            verdict.bad("your run never gets below a loss of 1e-8 in 3000 steps", "Take a larger lr.")
            return None
        return float(np.argmax(below))

    check_prediction(verdict, answer, read, rtol=0.01, what="the first step with a loss below 1e-8",
                     where="int(np.argmax(history.loss < 1e-8))")


def _register() -> None:
    for question in QUESTIONS.values():
        EXERCISES.add(question.id.split(".", 1)[1], f"quiz on review question {question.review}")(
            lambda choice, verdict, question=question: check_choice(question, choice, verdict))
    for rubric_id, (_, question) in WRITTEN.items():
        # the rubric is read when a score is checked, so importing the lesson never needs the file
        EXERCISES.add(rubric_id.split(".", 1)[1], f"written answer: {question}")(
            lambda scores, verdict, rubric_id=rubric_id: check_scores(rubrics()[rubric_id], scores, verdict))


_register()
