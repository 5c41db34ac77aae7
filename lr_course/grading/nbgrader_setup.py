"""nbgrader's gradebook in a process that uses little else of nbgrader: fast and quiet.

A process that only reads or writes the gradebook (``nbgrader.api``: ``lr-course grade``,
``report``, ``export``) needs neither of the two things that make importing nbgrader slow,
and each of the first two functions leaves one of them out. Both are no-ops once the module
concerned is imported, so a process that wants all of nbgrader (a Jupyter server with
formgrader) is never affected by having called them. The third keeps the gradebook's
harmless SQLAlchemy warnings off the instructor's terminal.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings

__all__ = ["skip_iri_grammars", "nbgrader_without_extensions", "quiet_gradebook_warnings"]


def skip_iri_grammars():
    """Keep jsonschema's optional IRI checker out of this process.

    When the package rfc3987-syntax is installed (JupyterLab's jupyter-events asks for it),
    importing jsonschema, which nbformat and so nbgrader import, compiles about forty lark
    grammars: 2-3 s, more than the rest of nbgrader's import. Nothing here validates an IRI,
    so marking the module absent (unless something already imported it) costs nothing.
    """
    sys.modules.setdefault("rfc3987_syntax", None)


def nbgrader_without_extensions():
    """Let this process import nbgrader's modules without its Jupyter server extensions.

    ``import nbgrader`` runs the package's ``__init__``, which loads its four Jupyter server
    extensions and with them tornado's handlers, jupyter_server, the exchange and every
    nbgrader app: about a second of CPU for a process that only uses the gradebook. Unless
    nbgrader is already imported, its package is set up here without running that
    ``__init__``: its modules import as usual (its version is set, as they read it), only
    the hooks a Jupyter server looks for are missing.
    """
    if "nbgrader" in sys.modules:
        return
    spec = importlib.util.find_spec("nbgrader")
    if spec is None or not spec.submodule_search_locations:
        return                      # not installed: the import that follows says so
    package = importlib.util.module_from_spec(spec)   # made, not executed
    sys.modules["nbgrader"] = package
    try:
        from nbgrader._version import __version__
    except ImportError:
        del sys.modules["nbgrader"]   # an nbgrader laid out otherwise: import it whole
        return
    package.__version__ = __version__


def quiet_gradebook_warnings():
    """Ignore, in this whole process, the warnings nbgrader's gradebook trips in SQLAlchemy 2.

    nbgrader's ``add_submission`` and ``add_student`` make SQLAlchemy's autoflush warn that a
    new row is "not in session" (nbgrader autograde shows them too); they say nothing to an
    instructor. The filters are process-wide on purpose: ``warnings.catch_warnings`` is not
    thread-safe, and a grading thread leaving one (the judges do) puts back the filters it
    found on entering, dropping any added meanwhile by another thread. Called before the
    threads start, these filters are in every list a thread puts back. Calling it again
    changes nothing.
    """
    warnings.filterwarnings("ignore", module="nbgrader")
    warnings.filterwarnings("ignore", module="sqlalchemy")
    warnings.filterwarnings("ignore", message=".*not in session")
