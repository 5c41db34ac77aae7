"""tools/mutants.py and tools/oracle.py: the mutants, the runner and the oracle on a small sample."""

import ast

import pytest


def test_mutants_cover_every_operator_kind(tools):
    mutants = tools("mutants")
    source = (
        "def f(x, k=2, flag=True):\n"
        "    '''A docstring, left alone: 1 + 1.'''\n"
        "    if x > 0 and not flag:\n"
        "        raise ValueError(f'bad {x + 1}')\n"
        "    total = -x * k\n"
        "    total += 0.5\n"
        "    print(total)\n"
        "    return total ** 2 if x in (1,) else total == k\n"
    )
    found = dict(mutants.mutants(source))
    assert list(found) == [
        "L1: default 2 -> 3", "L1: default True -> False", "L3: remove if", "L3: and -> or",
        "L3: > -> >=", "L3: drop not", "L3: constant 0 -> 1", "L4: remove raise", "L5: * -> /",
        "L5: drop -", "L6: remove augassign", "L6: + -> -", "L6: constant 0.5 -> 1.5",
        "L7: remove expr", "L8: in -> not in", "L8: ** -> *", "L8: == -> !=",
        "L8: constant 2 -> 3", "L8: constant 1 -> 2",
    ]  # nothing from the docstring or the f-string
    for description, mutated in found.items():
        ast.parse(mutated)  # every mutant is valid Python
        assert mutated != ast.unparse(ast.parse(source)), description
    assert "total = x * k" in found["L5: drop -"]
    assert "if x > 0 or not flag" in found["L3: and -> or"]
    assert "pass" in found["L4: remove raise"] and "raise" not in found["L4: remove raise"]


def test_a_sample_is_deterministic_and_in_source_order(tools):
    mutants = tools("mutants")
    source = (mutants.ROOT / "lr_course" / "_points.py").read_text()
    everything = [d for d, _ in mutants.mutants(source)]
    sample = [d for d, _ in mutants.sampled_mutants(source, 5, "7")]
    assert sample == [d for d, _ in mutants.sampled_mutants(source, 5, "7")]
    remaining = iter(everything)
    assert len(sample) == 5 and all(d in remaining for d in sample)  # a subsequence


def test_the_oracle_tells_a_mutant_from_a_rewrite(tools):
    oracle = tools("oracle")
    module = "lr_course/_checks.py"
    source = (oracle.ROOT / module).read_text()
    assert oracle.equivalent(module, source)  # the original is equivalent to itself
    rewritten = source.replace("rule = rule or _interval(", "rule = (rule or _interval(").replace(
        "low, high, low_open, high_open)\n    is_array", "low, high, low_open, high_open))\n    is_array")
    assert rewritten != source and oracle.equivalent(module, rewritten)
    assert not oracle.equivalent(module, source.replace("x > low) if low_open", "x >= low) if low_open"))


@pytest.mark.slow
def test_the_runner_kills_planted_mutants_and_scores_them(tools, capsys):
    mutants = tools("mutants")
    assert mutants.main(["lr_course/_checks.py", "--sample", "3", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("lr_course/_checks.py"))
    assert row.split()[1:3] == ["3", "3"]  # three mutants, three killed by tests/test_checks.py
    assert "score = killed / (mutants - equivalent)" in out
    assert "\\n" not in out and out.splitlines()[0] in ("...", "")   # real line breaks
