"""The checks file released beside a notebook: what the self-check reads, and its format."""

import json

import numpy as np
import pytest

from lr_course.grading.checks import modes
from lr_course.grading.checks.calls import Call
from lr_course.grading.checks.check import Check, digest


def _rollout(**extra):
    return Check("same", (Call("rollout", "u", init="i", params=np.ones(2),
                               grads_seq=(np.ones(2),), **extra),), options={"rtol": 1e-6})


def test_a_checks_file_reads_back_as_written(tmp_path):
    entries = [{"check": {"cell": "t", "check": _rollout().to_data(), "records": []}}]
    path = modes.write_expected(tmp_path / "a.checks.json", "ps9", 7, {"t": 2.0}, entries)
    data = modes.read_expected(path)
    assert (data["assignment"], data["seed"], data["points"]) == ("ps9", 7, {"t": 2.0})
    assert data["entries"] == entries


def test_a_file_of_the_previous_format_says_fetch_again(tmp_path):
    # A check's name is the digest of its data, and a Call's data gained watch_inputs:
    # a file released before would match no check, so it is refused with a reason instead.
    assert digest(_rollout()) != digest(_rollout(watch_inputs=True))
    path = tmp_path / "old.checks.json"
    path.write_text(json.dumps({"format": 1, "assignment": "ps9", "seed": 7, "points": {},
                                "entries": []}))
    with pytest.raises(modes.ExpectedError, match="not a checks file of this version"):
        modes.read_expected(path)
