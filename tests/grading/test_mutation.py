"""tools/mutate_solutions.py (`make mutate`): mutants of the solutions, graded and scored."""

import sys
from pathlib import Path

import nbformat
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import mutate_solutions as ms  # noqa: E402


def test_a_deterministic_sample_is_all_killed_or_equivalent(capsys):
    assert ms.main(["--assignment", "ps1_schedules", "--sample", "6", "--seed", "3",
                    "--target", "1.0"]) == 0
    out = capsys.readouterr().out
    assert "ps1_schedules" in out and "100.0%" in out and "survived" not in out


def test_only_solution_lines_are_mutated():
    nb = nbformat.read(ms.SOURCE / "ps1_schedules" / "ps1_schedules.ipynb", as_version=4)
    (index, gid, source, ranges), *_ = ms.solution_cells(nb)
    assert gid == "step_decay" and ranges
    lines = [int(d.split(":")[0][1:]) for d, _ in ms.cell_mutants(source, ranges)]
    assert lines and all(any(a <= x <= b for a, b in ranges) for x in lines)
    helper_line = source[:source.index("def _as_result")].count("\n") + 1
    assert not any(a <= helper_line <= b for a, b in ranges)   # the given helpers stay intact


def test_the_oracle_tells_a_changed_function_from_the_same_one():
    def f(lr0, step, factor=0.5):
        return lr0 * factor ** np.asarray(step)

    def g(lr0, step, factor=0.5):
        return lr0 * factor ** (np.asarray(step) + 1)

    assert not ms.differs(["f"], {"f": f}, {"f": f})
    assert ms.differs(["f"], {"f": f}, {"f": g})
    assert ms.differs(["f"], {"f": f}, {})                     # a mutant that defines nothing


def test_a_goal_oracle_accepts_another_schedule_that_meets_the_goal():
    assert ms._reaches_ps1_target(lambda step: 0.5 * 0.5 ** (step // 40))
    assert ms._reaches_ps1_target(lambda step: 0.5 * 0.5 ** (step // 41))
    assert not ms._reaches_ps1_target(lambda step: 0.1)
