"""What a notebook of the course keeps when it is committed: one rule for the tool and the test.

A committed notebook has no outputs and no execution counts; its metadata is ``kernelspec``
(and ``jupytext`` when paired), nothing an editor adds (``language_info``, widget state,
toolbar settings). A cell keeps its ``tags``, and in an nbgrader source notebook its
``nbgrader`` marker too (those markers are the assignment). ``tools/strip_notebooks.py``
applies the rule and ``tests/test_notebooks.py`` enforces it, both through :func:`problems`.
"""

from __future__ import annotations

#: Notebook-level metadata a committed notebook may keep.
NOTEBOOK_METADATA = frozenset({"kernelspec", "jupytext"})


def cell_metadata(nbgrader: bool) -> frozenset:
    """The cell metadata keys a committed notebook may keep.

    Args:
        nbgrader: whether the notebook is an nbgrader source (its cell markers stay).

    Returns:
        The allowed keys.

    >>> sorted(cell_metadata(nbgrader=True))
    ['nbgrader', 'tags']
    """
    return frozenset({"tags", "nbgrader"}) if nbgrader else frozenset({"tags"})


def strip(nb, *, nbgrader: bool) -> None:
    """Clean a notebook node in place by the rule above.

    Args:
        nb: an ``nbformat`` notebook node.
        nbgrader: whether its cells' ``nbgrader`` markers stay.
    """
    keep = cell_metadata(nbgrader)
    nb.metadata = {k: v for k, v in nb.metadata.items() if k in NOTEBOOK_METADATA}
    for cell in nb.cells:
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in keep}
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None


def problems(nb, *, nbgrader: bool) -> list[str]:
    """Everything in a notebook node that the rule would strip, one line each.

    Args:
        nb: an ``nbformat`` notebook node.
        nbgrader: whether its cells' ``nbgrader`` markers may stay.

    Returns:
        Descriptions such as ``"cell 3 has outputs"``; empty when the notebook is clean.

    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1", execution_count=2)])
    >>> problems(nb, nbgrader=False)
    ['cell 0 has an execution count']
    """
    found = []
    extra = sorted(set(nb.metadata) - NOTEBOOK_METADATA)
    if extra:
        found.append(f"notebook metadata to strip: {extra}")
    keep = cell_metadata(nbgrader)
    for index, cell in enumerate(nb.cells):
        noise = sorted(set(cell.metadata) - keep)
        if noise:
            found.append(f"cell {index}: metadata to strip: {noise}")
        if cell.cell_type == "code":
            if cell.outputs:
                found.append(f"cell {index} has outputs")
            if cell.execution_count is not None:
                found.append(f"cell {index} has an execution count")
    return found
