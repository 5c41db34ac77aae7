"""A declared check as plain data: the calls to run and how to judge what comes back.

Test cells make checks through :mod:`.declare`; the recorder sends them out of the sandbox
with the solution's records, and the grader (or a self-check) reads them back with
:meth:`Check.from_data`, which refuses anything that is not exactly a check's layout.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .calls import Call
from .codec import CodecError, decode, encode

__all__ = ["Check", "KINDS", "MAX_TEXT", "NEEDS_SOLUTION", "digest"]

MAX_TEXT = 300                 # what / hint / part, in characters

# Check kinds and the options each takes.
KINDS = {
    "same": ("rtol", "atol"),            # every call's outcome equals the solution's
    "raises": ("names",),                # every call raises ValueError naming an argument
    "unchanged": (),                     # no call modifies its inputs
    "agree": ("rtol", "atol"),           # all calls give the same result (the student's own)
    "differ": (),                        # the two calls give different results
    "log_uniform": ("max_ks",),          # samples in [low, high), uniform in log
    "search": ("returns",),              # (best, [lrs,] scores) consistent with the objective
    "target": ("eigenvalues", "x0", "sigma", "target"),   # a schedule reaching E[loss] <= target
    "accuracy": ("accuracy",),           # a trained model's validation accuracy >= accuracy
}


# The kinds judged against the solution's records; the others judge the student's records by
# a property (raises, unchanged, agree, ...), so the recorder does not run the solution on them
# (a trains check would otherwise train once more per student). Release still grades the
# solution itself on every check.
NEEDS_SOLUTION = frozenset({"same"})


@dataclass(frozen=True)
class Check:
    """One declared check: calls to run and how to judge what comes back."""

    kind: str                            # a key of KINDS
    calls: tuple                         # of Call
    what: str = ""                       # what is checked, in words, shown to students
    hint: str = ""                       # where to look when it fails (never the answer)
    part: str = ""                       # the part of the test cell it counts towards
    options: dict = field(default_factory=dict)   # the kind's options (see KINDS)

    def to_data(self) -> dict:
        """Plain JSON-able data."""
        return {"kind": self.kind, "calls": [c.to_data() for c in self.calls],
                "what": self.what, "hint": self.hint, "part": self.part,
                "options": encode(self.options)}

    @classmethod
    def from_data(cls, data) -> "Check":
        """Inverse of :meth:`to_data`; raises CodecError on anything malformed."""
        if type(data) is not dict or set(data) != {"kind", "calls", "what", "hint", "part",
                                                   "options"}:
            raise CodecError("malformed Check")
        kind = data["kind"]
        if kind not in KINDS:
            raise CodecError(f"unknown check kind {kind!r:.40}")
        if type(data["calls"]) is not list or not 1 <= len(data["calls"]) <= 1000:
            raise CodecError("Check.calls must be a list of 1 to 1000 calls")
        for name in ("what", "hint", "part"):
            if type(data[name]) is not str or len(data[name]) > MAX_TEXT:
                raise CodecError(f"Check.{name} must be a short str")
        options = decode(data["options"])
        if type(options) is not dict or not set(options) <= set(KINDS[kind]):
            raise CodecError(f"Check.options of a {kind} check must be among {KINDS[kind]}")
        return cls(kind, tuple(Call.from_data(c) for c in data["calls"]), data["what"],
                   data["hint"], data["part"], options)


def digest(check: Check) -> str:
    """A stable name of a check's content (how the self-check finds its expected values).

    The part a check counts towards is not part of its name: the recorder assigns it.
    """
    data = dict(check.to_data(), part="")
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    import hashlib   # here: a student's run never needs it, and it costs 5 ms to import
    return hashlib.sha256(text.encode()).hexdigest()[:32]
