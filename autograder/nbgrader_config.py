"""nbgrader configuration of the lr-course graded assignments.

Run `lr-course release|grade|feedback|export|report` (or nbgrader's own commands for the
exchange and formgrader) from this directory, or point `lr-course --course DIR` at it. Each
assignment is source/<name>/<name>.ipynb; its test cells declare checks with
`lr_course.grading.checks`, and its solution cells are the reference they are judged against.
"""

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "lr-course"
# What students see in place of a solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A deleted or edited test cell is restored from the source at autograde time.
c.OverwriteCells.add_missing_cells = True

# Time limits, for nbgrader and lr-course alike: one cell (the applied parts train for a few
# seconds; leave room on a slow machine), and one graded call of a student's function (a hang
# there fails only the tests that call it).
c.Execute.timeout = 60
c.LrCourse.call_seconds = 10

# Students are added to the gradebook the first time one of their submissions is graded.
c.Autograde.create_student = True

# Feedback shows what each test checked and its hint (printed by the check), never the code
# of hidden tests: strip the hidden regions, and the tracebacks that would quote them.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "lr_course.grading.nbgrader_preprocessors.ShortTracebacks",
    # the grader's flags are for the instructor (formgrader), not in the student's feedback
    "lr_course.grading.nbgrader_preprocessors.GraderComments",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
