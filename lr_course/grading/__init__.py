"""Grading: the check API behind the graded assignments, the self-check and nbgrader glue.

Test cells of the graded notebooks read ``from lr_course.grading import check`` and then
``check("ps1.step_decay.values", step_decay)``. Nothing heavy is imported here: the check
registry (and with it the reference solutions) loads on first use.
"""


def check(check_id, *functions, **named):
    """Run one registered check on the given student functions (see grading.notebook)."""
    from lr_course.grading.notebook import check as _check
    return _check(check_id, *functions, **named)


__all__ = ["check"]
