"""A submitted notebook made safe to show in the instructor's browser (formgrader).

Formgrader renders the autograded copy of each submission as HTML, in the instructor's
logged-in browser. Whatever the student put in it must show as text, never run: a
``<script>`` or an ``onerror=`` in a markdown answer, a ``javascript:`` link, an output of
type ``text/html`` or ``application/javascript``, a widget state (which pulls in a widget
manager's code), an SVG attachment, a raw cell meant as HTML.

:func:`sanitize_notebook` changes, in place and in the returned notebook:

* markdown cells (the written answers): ``&``, ``<`` and ``>`` escaped, so no tag or entity
  of the student's is ever parsed (markdown emphasis and lists still render), and the
  ``javascript:``, ``vbscript:`` and ``data:`` schemes broken (``javascript%3A``), so no link
  or image runs code; attachments other than PNG, JPEG and GIF dropped;
* raw cells: turned into markdown cells with the same escaping;
* outputs of code cells: only ``stream``, ``error`` and the ``text/plain``, ``image/png``,
  ``image/jpeg`` and ``image/gif`` parts of display data are kept;
* notebook metadata: ``widgets`` dropped.

>>> nb = {"metadata": {}, "cells": [{"cell_type": "markdown", "metadata": {},
...       "source": "<img src=x onerror=alert(1)> [a](javascript:alert(1))"}]}
>>> sanitize_notebook(nb)["cells"][0]["source"]
'&lt;img src=x onerror=alert(1)&gt; [a](javascript%3Aalert(1))'

References: OWASP Cross Site Scripting Prevention Cheat Sheet; nbformat 4 schema.
"""

from __future__ import annotations

import re

__all__ = ["sanitize_notebook", "sanitize_markdown", "SAFE_MIME"]

SAFE_MIME = ("text/plain", "image/png", "image/jpeg", "image/gif")
_SCHEME = re.compile(r"(?i)\b(java\s*script|vb\s*script|data|livescript)\s*:")


def _text(source) -> str:
    if isinstance(source, list):
        return "".join(str(s) for s in source)
    return "" if source is None else str(source)


def sanitize_markdown(text: str) -> str:
    """Markdown whose HTML is shown as text and whose links cannot run code."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SCHEME.sub(lambda m: m.group(1) + "%3A", text)


def _outputs(outputs) -> list:
    kept = []
    for out in outputs if isinstance(outputs, list) else []:
        if not isinstance(out, dict):
            continue
        kind = out.get("output_type")
        if kind == "stream":
            kept.append({"output_type": "stream", "name": "stderr" if out.get("name") ==
                         "stderr" else "stdout", "text": _text(out.get("text"))})
        elif kind == "error":
            kept.append({"output_type": "error", "ename": _text(out.get("ename")),
                         "evalue": _text(out.get("evalue")),
                         "traceback": [_text(t) for t in out.get("traceback", [])
                                       if isinstance(t, (str, list))]})
        elif kind in ("display_data", "execute_result"):
            data = out.get("data") if isinstance(out.get("data"), dict) else {}
            safe = {k: v for k, v in data.items() if k in SAFE_MIME and isinstance(v, (str, list))}
            if safe:
                entry = {"output_type": kind, "data": safe, "metadata": {}}
                if kind == "execute_result":
                    entry["execution_count"] = None
                kept.append(entry)
    return kept


def sanitize_notebook(nb: dict) -> dict:
    """``nb`` with nothing a student wrote able to run in a browser (see the module doc)."""
    meta = nb.get("metadata")
    if isinstance(meta, dict):
        meta.pop("widgets", None)
    for cell in nb.get("cells", []):
        if not isinstance(cell, dict):
            continue
        kind = cell.get("cell_type")
        if kind == "raw":
            cell["cell_type"] = kind = "markdown"
            if isinstance(cell.get("metadata"), dict):
                for key in ("format", "raw_mimetype"):
                    cell["metadata"].pop(key, None)
        if kind == "markdown":
            cell["source"] = sanitize_markdown(_text(cell.get("source")))
            attachments = cell.get("attachments")
            if isinstance(attachments, dict):
                cell["attachments"] = {
                    name: {k: v for k, v in bundle.items() if k in SAFE_MIME[1:]}
                    for name, bundle in attachments.items() if isinstance(bundle, dict)
                    and any(k in SAFE_MIME[1:] for k in bundle)}
                if not cell["attachments"]:
                    cell.pop("attachments")
            else:
                cell.pop("attachments", None)
        elif kind == "code":
            cell["outputs"] = _outputs(cell.get("outputs"))
    return nb
