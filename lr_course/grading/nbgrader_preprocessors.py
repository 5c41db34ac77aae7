"""nbconvert preprocessors plugged into nbgrader by autograder/nbgrader_config.py."""

from nbgrader.preprocessors import NbGraderPreprocessor


class ShortTracebacks(NbGraderPreprocessor):
    """In test cells, keep only ``ErrorName: message`` of an error, not its traceback.

    A traceback quotes the lines of the cell, hidden tests included; the check's own report
    (printed above it) already says what was checked and gives the hint.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        nbgrader = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and nbgrader.get("grade") and not nbgrader.get("solution"):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: "
                                           f"{output.get('evalue', '')}"]
        return cell, resources


class GraderComments(NbGraderPreprocessor):
    """In the student's feedback, drop the engine's flag lines from a cell's comment.

    ``lr-course grade`` writes, into the first answer cell's ``auto_comment``, what it
    flagged (for the instructor, in formgrader) and why a submission was not graded (for
    both). The student's feedback keeps the reason, as plain text, and never the flags; a
    comment the instructor typed is left as written.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        from lr_course.grading.escape import markdown_text
        from lr_course.grading.writer import FLAG_PREFIX, REASON_PREFIX
        nbgrader = cell.metadata.get("nbgrader", {})
        comment = nbgrader.get("comment")
        if isinstance(comment, str) and (FLAG_PREFIX in comment or REASON_PREFIX in comment):
            lines = []
            for line in comment.splitlines():
                if line.startswith(FLAG_PREFIX):
                    continue
                lines.append(markdown_text(line) if line.startswith(REASON_PREFIX) else line)
            nbgrader["comment"] = "\n\n".join(lines) or None
        return cell, resources
