"""lr_course: the helper package of a course on the learning rate of neural networks.

The teaching code is plain numpy and its modules are imported on demand, so
``import lr_course`` stays cheap (a grading kernel pays for every import)::

    from lr_course import schedules, optimizers, problems
"""

__version__ = "0.1.0"
