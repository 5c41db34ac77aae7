"""Grading: the check library of the graded assignments, the sandboxed engine, nbgrader glue.

Test cells of a graded notebook read ``from lr_course.grading import checks as ck`` and
declare checks (:mod:`lr_course.grading.checks`); the grader compares the student's code
with the source notebook's own solution on the same inputs. Nothing is imported here, so
that a test cell in a student's kernel pays only for the check library.
"""
