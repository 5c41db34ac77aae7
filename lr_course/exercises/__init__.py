"""The self-checked exercises of the lessons, registered in :mod:`lr_course.selfcheck`.

One module per group of lessons; importing this package registers them all. A new group
adds its module and one import line here.
"""

from lr_course.exercises import lessons_00_03  # noqa: F401
from lr_course.exercises import lessons_04_06  # noqa: F401
