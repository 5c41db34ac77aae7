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
