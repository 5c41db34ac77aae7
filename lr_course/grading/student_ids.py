"""Student ids: one rule for every way a student enters the course.

A student id becomes a folder name (``submitted/<id>/``), a glob in nbgrader's paths, a
gradebook key and a CSV cell, and is shown on the instructor's terminal. An id is refused
(:func:`student_id_problem` says why) when it is empty or longer than 100 characters, has
spaces around it, holds a control character (a tab too), a line separator, an invisible
character (zero-width, soft hyphen, bidirectional controls, ...), a space other than
U+0020, an unassigned or private-use character, a quote (``'"` `` : nbgrader's CSV export
breaks on ``a'b"c``), a glob character (``*?[]``) or a path separator (``/\\``), or starts
with ``-`` (read as an option) or ``.`` (a hidden or parent folder). An accepted id is kept
in Unicode NFC form (:func:`student_id`).

Two ids that a person cannot tell apart are one student claimed twice:
:func:`clash_key` (NFKC, case folded, invisible characters removed) is equal for them, and
collect refuses both hand-ins rather than merge them or let one overwrite the other.

>>> student_id_problem("ann"), student_id_problem("a'b\\"c"), student_id_problem(" ann")
('', 'holds a quote (\\'"` break CSV files)', 'has spaces around it')
>>> clash_key("Ann") == clash_key("ann\\u200b") == clash_key("\\uff41nn")
True

References: Unicode Standard Annex #15 (normalization forms); Unicode Technical Standard #39
(confusable and invisible characters).
"""

from __future__ import annotations

import unicodedata

__all__ = ["student_id_problem", "student_id", "safe_student_id", "clash_key", "MAX_ID_CHARS"]

MAX_ID_CHARS = 100
# invisible, yet not in category Cf: the combining grapheme joiner, Hangul fillers, Khmer
# inherent vowels, the Mongolian vowel separator (Cf in new Unicode versions) and its kin
_INVISIBLE = set("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u3164"
                 "\uffa0\ufe00\ufe01\ufe02\ufe03\ufe04\ufe05\ufe06\ufe07\ufe08\ufe09\ufe0a"
                 "\ufe0b\ufe0c\ufe0d\ufe0e\ufe0f")


def _invisible(ch: str) -> bool:
    return unicodedata.category(ch) == "Cf" or ch in _INVISIBLE


def _char_problem(ch: str) -> str:
    code = f"U+{ord(ch):04X}"
    category = unicodedata.category(ch)
    if ch == "\t":
        return "holds a tab"
    if category == "Cc":
        return f"holds a control character ({code})"
    if category in ("Zl", "Zp"):
        return f"holds a line separator ({code})"
    if _invisible(ch):
        return f"holds an invisible character ({code})"
    if category == "Zs" and ch != " ":
        return f"holds a space other than U+0020 ({code})"
    if category in ("Cn", "Co", "Cs"):
        return f"holds an unassigned or private character ({code})"
    if ch in "'\"`":
        return "holds a quote ('\"` break CSV files)"
    if ch in "*?[]":
        return "holds a glob character (*, ?, [ or ])"
    if ch in "/\\":
        return "holds a path separator"
    return ""


def student_id_problem(name) -> str:
    """Why ``name`` cannot be a student id, or ``''`` when it can (see the module docstring).

    Args:
        name: the claimed id (a folder name, an LMS key, a roster cell).

    Returns:
        A phrase such as ``'holds a tab'``, to follow the id in a sentence; ``''`` if valid.

    >>> student_id_problem("zoë"), student_id_problem("-rf"), student_id_problem("a*")
    ('', "starts with '-' or '.'", 'holds a glob character (*, ?, [ or ])')
    """
    if not isinstance(name, str):
        return "is not text"
    if not name:
        return "is empty"
    if len(name) > MAX_ID_CHARS:
        return f"is longer than {MAX_ID_CHARS} characters"
    for ch in name:
        problem = _char_problem(ch)
        if problem:
            return problem
    if name != name.strip():
        return "has spaces around it"
    if name[0] in "-.":
        return "starts with '-' or '.'"
    return ""


def student_id(name) -> str:
    """``name`` as a student id, in NFC form.

    Raises:
        ValueError: naming the id and what is wrong with it.

    >>> student_id("zoe\\u0308") == "zo\\u00eb"
    True
    """
    problem = student_id_problem(name)
    if not problem:
        name = unicodedata.normalize("NFC", name)
        problem = student_id_problem(name)
    if problem:
        raise ValueError(f"student id {name!r} {problem}")
    return name


def safe_student_id(name) -> bool:
    """Whether ``name`` is a valid student id as it stands (valid and already NFC).

    >>> safe_student_id("ann"), safe_student_id("../ben"), safe_student_id("a\\x1b[2K")
    (True, False, False)
    """
    return not student_id_problem(name) and unicodedata.is_normalized("NFC", name)


def clash_key(name: str) -> str:
    """What is left of ``name`` for a reader: NFKC, case folded, invisible characters dropped.

    >>> clash_key("ANN"), clash_key("an\\u00adn"), clash_key("\\ufb01le")
    ('ann', 'ann', 'file')
    """
    text = unicodedata.normalize("NFKC", name)
    text = unicodedata.normalize("NFKC", text.casefold())
    return "".join(ch for ch in text if not _invisible(ch))
