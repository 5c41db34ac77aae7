"""Student-controlled text made harmless for the instructor's terminal, spreadsheet and browser.

Student ids, flag messages, file names and reasons can hold anything a student typed.
Shown raw, a carriage return or an ANSI escape rewrites what the terminal already shows (a
FLAGGED line erased, another forged), a bidirectional override reorders a line, a cell
starting with ``=`` is a formula to a spreadsheet, and ``<script>`` runs in a browser.

* :func:`terminal`: every control character (C0, DEL, C1), line and paragraph separator
  and bidirectional control becomes a visible escape such as ``\\x1b`` or ``\\u202e``;
  printable text, accents and other scripts stay as they are.
* :func:`csv_cell`: :func:`terminal`, then a leading ``=``, ``+``, ``-``, ``@`` (or a tab,
  or their full-width forms) gets a ``'`` in front, unless the cell is a plain number;
  quoting is left to :mod:`csv`.
* :func:`html_text`: :func:`terminal`, then HTML-escaped (quotes too).
* :func:`markdown_text`: :func:`terminal`, ``&<>`` escaped, then markdown's punctuation backslash-escaped,
  so that a renderer shows the text and builds no link, image or heading from it.

>>> terminal("ok\\x1b[2K\\rFLAGGED bob")
'ok\\\\x1b[2K\\\\rFLAGGED bob'
>>> csv_cell("=HYPERLINK(1)"), csv_cell("-0.5")
("'=HYPERLINK(1)", '-0.5')

References: OWASP, "CSV Injection"; Unicode Standard Annex #9 (bidirectional controls);
Boucher and Anderson, "Trojan Source" (2021).
"""

from __future__ import annotations

import html
import re

__all__ = ["terminal", "csv_cell", "html_text", "markdown_text"]

# bidirectional embeddings, overrides, isolates and marks; line/paragraph separators;
# zero-width characters that hide text; the byte order mark in the middle of a line
_INVISIBLE = "\u061c\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d" \
             "\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f" + _INVISIBLE + "]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_FORMULA = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def _visible(match: re.Match) -> str:
    ch = match.group(0)
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal(text, limit: int | None = None) -> str:
    """``text`` (any object, as ``str``) with nothing that can move or restyle a terminal.

    Args:
        text: the student-controlled text.
        limit: cut to this many characters (after escaping), marking the cut with ``...``.

    Returns:
        One line of printable text.
    """
    out = _UNSAFE.sub(_visible, str(text))
    if limit is not None and len(out) > limit:
        out = out[:max(0, limit - 3)] + "..."
    return out


def csv_cell(value) -> str:
    """A spreadsheet cell that is never a formula (numbers stay numbers)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value) if isinstance(value, float) else str(value)
    text = terminal("" if value is None else value)
    if text.startswith(_FORMULA) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def html_text(text) -> str:
    """Text for HTML element content or a quoted attribute: no tag, no entity, no control."""
    return html.escape(terminal(text), quote=True)


def markdown_text(text) -> str:
    """Text for a markdown document: shown as written, never a link, image, tag or heading."""
    return _MARKDOWN.sub(r"\\\1", html.escape(terminal(text), quote=False))
