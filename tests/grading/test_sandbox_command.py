"""Bubblewrap's command line as plain data (grading/sandbox_command.py), without running it."""

import os
from pathlib import Path

import pytest

from lr_course.grading import sandbox_command
from lr_course.grading.checks.zygote import SUBMISSIONS, TOKENS
from lr_course.grading.sandbox import Limits
from lr_course.grading.sandbox_tree import SANDBOX_ROOT

PATHS = {"libraries": [("/usr/lib/x86_64-linux-gnu", ["/usr/lib/x86_64-linux-gnu/python3"])],
         "etc": ["/etc/ld.so.cache"], "runtime": ["/opt/py/bin/python3", "/opt/py/lib/python3"],
         "hidden": ["/opt/py/lib/python3/site-packages"]}


def _options(argv):
    """bwrap's options as (option, operands) pairs, and the program after ``--``."""
    split = argv.index("--")
    two = {"--ro-bind", "--symlink", "--setenv", "--bind", "--dev-bind"}
    none = {"--die-with-parent", "--new-session"}
    pairs, rest = [], argv[1:split]
    while rest:
        name = rest[0]
        n = 2 if name in two else 0 if name in none or name.startswith("--unshare") else 1
        pairs.append((name, tuple(rest[1:1 + n])))
        rest = rest[1 + n:]
    return pairs, argv[split + 1:]


def _command(tmp_path, **options):
    tree = tmp_path / "tree"
    kwargs = dict(is_root=True, uid=65534, limits=Limits(tmp_bytes=1000, shm_bytes=500),
                  paths=PATHS, tree=tree, packages=[Path("/opt/site/numpy")])
    kwargs.update(options)
    return sandbox_command.bwrap_command("/usr/bin/bwrap", "/opt/py/bin/python3", **kwargs)


@pytest.mark.parametrize("is_root", [True, False], ids=["root", "user namespace"])
def test_a_cold_run_binds_read_only_at_exact_paths_and_drops_its_uid(tmp_path, is_root):
    sub = tmp_path / "alice"
    sub.mkdir()
    argv, cwd = _command(tmp_path, is_root=is_root, submission_dir=sub, seccomp_fd=9,
                         run_uid=4321)
    pairs, program = _options(argv)
    names = [n for n, _ in pairs]
    binds = {target: source for n, (source, target) in
             ((n, ops) for n, ops in pairs if n == "--ro-bind")}
    assert "--bind" not in names and "--dev-bind" not in names     # nothing bound writable
    assert binds["/submission"] == str(sub.resolve())
    assert binds[f"{SANDBOX_ROOT}/lib"] == str(tmp_path / "tree" / "lib")
    assert binds[f"{SANDBOX_ROOT}/site/numpy"] == "/opt/site/numpy"
    assert all(binds[p] == p for p in ["/etc/ld.so.cache"] + PATHS["runtime"])
    assert ("--seccomp", ("9",)) in pairs and ("--chdir", ("/submission",)) in pairs
    assert pairs[-2:] == [("--remount-ro", ("/dev",)), ("--remount-ro", ("/",))]
    assert ("--size", ("1000",)) in pairs and ("--size", ("500",)) in pairs
    assert ("--tmpfs", ("/opt/py/lib/python3/site-packages",)) in pairs   # the host's site hidden
    assert program[:4] == ["/opt/py/bin/python3", "-I", "-S", "-B"]
    assert program[4] == f"{SANDBOX_ROOT}/lib/lr_course/grading/checks/runner.py"
    if is_root:
        assert program[-2:] == ["--uid", "4321"] and "--unshare-user" not in names
    else:
        assert "--uid" not in program and ("--uid", ("65534",)) in pairs
    assert cwd == str(tmp_path / "tree")


def test_the_warm_interpreter_gets_its_folders_and_descriptors_and_no_filter(tmp_path):
    folder, tokens = tmp_path / "submitted", tmp_path / "tokens"
    argv, _ = _command(tmp_path, zygote_fds=(5, 6), warm_folder=folder, warm_tokens=tokens)
    pairs, program = _options(argv)
    binds = {ops[1]: ops[0] for n, ops in pairs if n == "--ro-bind"}
    assert binds[SUBMISSIONS] == str(folder) and binds[TOKENS] == str(tokens)
    assert "--seccomp" not in dict(pairs) and "--die-with-parent" not in argv
    assert program[4:8] == [f"{SANDBOX_ROOT}/lib/lr_course/grading/checks/zygote.py",
                            "--control", "5", "--seccomp"] and program[8] == "6"


def test_options_travel_in_an_anonymous_file(tmp_path):
    argv, _ = _command(tmp_path)
    fds = []
    short = sandbox_command.args_by_fd(argv, fds)
    try:
        assert short[:3] == ["/usr/bin/bwrap", "--args", str(fds[0])]
        assert short[3:] == argv[argv.index("--"):]
        data = b""
        while chunk := os.read(fds[0], 1 << 16):
            data += chunk
        assert data.split(b"\0")[:-1] == [a.encode() for a in argv[1:argv.index("--")]]
    finally:
        for fd in fds:
            os.close(fd)


def test_the_unisolated_runner_dies_with_the_grader(tmp_path):
    argv, cwd = sandbox_command.unisolated_command("/opt/py/bin/python3", tmp_path, Limits(),
                                                   None)
    assert argv[-1] == "--pdeathsig" and str(tmp_path / "site") in argv
    assert sandbox_command.environment(False)["TMPDIR"] == cwd
