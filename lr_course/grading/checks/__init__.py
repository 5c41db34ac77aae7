"""The registered checks and graded tests of the three assignments (imported lazily).

Importing this package fills :data:`lr_course.grading.spec.CHECKS` and
``spec.ASSIGNMENTS``; it imports the reference solutions, so only the judging side does.
"""

from lr_course.grading.checks import ps1  # noqa: F401
from lr_course.grading.checks import ps2  # noqa: F401
from lr_course.grading.checks import ps3  # noqa: F401
