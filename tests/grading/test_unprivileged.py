"""The sandbox as an instructor usually runs it: as an ordinary user, through user namespaces.

Run as root (as in CI), the rest of the suite exercises the privileged mode only. This test
reruns the sandbox and attack tests as uid 65534 (nobody), so that ``Sandbox`` takes its
unprivileged path (``--unshare-user``). To let nobody run this interpreter and read this
checkout, wherever they are installed, the run happens inside a mount namespace in which
every directory on their paths that nobody could not enter is replaced by an empty,
enterable one into which only the needed paths are bound. Nothing on the machine changes.

Run as an ordinary user, the whole suite already takes the unprivileged path, and this test
has nothing to add: it skips. As root, bwrap and setpriv are required (a failure in CI).
"""

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOBODY = 65534

pytestmark = pytest.mark.slow


def _tools():
    tools = {name: shutil.which(name) for name in ("bwrap", "setpriv")}
    missing = [name for name, path in tools.items() if path is None]
    if missing:
        message = f"{', '.join(missing)} missing: the unprivileged sandbox cannot be tested"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return tools


def _enterable_by_others(path: Path) -> bool:
    return bool(path.stat().st_mode & stat.S_IXOTH)


def _binds_for(paths) -> list:
    """bwrap arguments that make each of ``paths`` reachable by any user.

    For every directory on the way to a path that others cannot enter (say /root, for an
    interpreter under /root/.pyenv), mount an empty 0755 tmpfs over it and bind back, read
    only, just the needed paths below it.
    """
    paths = [Path(os.path.realpath(p)) for p in paths]
    closed = sorted({parent for p in paths for parent in reversed(p.parents)
                     if parent != Path("/") and not _enterable_by_others(parent)},
                    key=lambda d: len(d.parts))
    args = []
    covered = []
    for directory in closed:
        if any(directory.is_relative_to(c) for c in covered):
            continue  # already replaced by a tmpfs further up
        covered.append(directory)
        args += ["--perms", "0755", "--tmpfs", str(directory)]
        for p in paths:
            if p.is_relative_to(directory):
                for parent in reversed(p.parents):
                    if parent.is_relative_to(directory) and parent != directory:
                        args += ["--perms", "0755", "--dir", str(parent)]
                args += ["--ro-bind", str(p), str(p)]
    return args


def test_sandbox_and_attack_tests_pass_for_an_unprivileged_user():
    if os.geteuid() != 0:
        pytest.skip("the suite already runs unprivileged: every sandbox test takes that path")
    tools = _tools()
    home = Path(tempfile.mkdtemp(prefix="lr_course_nobody_"))
    try:
        os.chown(home, NOBODY, NOBODY)
        os.chmod(home, 0o755)
        needed = [sys.prefix, sys.base_prefix, os.path.realpath(sys.executable), REPO]
        command = [tools["bwrap"], "--dev-bind", "/", "/", *_binds_for(needed), "--",
                   tools["setpriv"], f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                   "--inh-caps=-all", "--bounding-set=-all",
                   sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                   str(REPO / "tests" / "grading" / "test_sandbox.py"),
                   str(REPO / "tests" / "grading" / "test_sandbox_walls.py"),
                   str(REPO / "tests" / "grading" / "test_attacks.py")]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
               "LANG": "C.UTF-8", "CI": "true", "OPENBLAS_NUM_THREADS": "1",
               "OMP_NUM_THREADS": "1", "TMPDIR": str(home)}
        result = subprocess.run(command, cwd=home, env=env, capture_output=True, text=True,
                                timeout=900)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    summary = result.stdout.strip().splitlines()[-1:] or [result.stderr[-2000:]]
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in summary[0] and "skipped" not in summary[0], summary


def test_binds_reach_paths_under_closed_directories():
    base = Path(tempfile.mkdtemp())  # pytest's own tmp_path sits in a closed directory
    try:
        os.chmod(base, 0o755)
        closed = base / "closed"
        (closed / "a" / "b").mkdir(parents=True)
        (closed / "c").mkdir()
        os.chmod(closed, 0o700)
        args = _binds_for([closed / "a" / "b", closed / "c", "/usr"])
    finally:
        shutil.rmtree(base)
    assert args == ["--perms", "0755", "--tmpfs", str(closed),
                    "--perms", "0755", "--dir", str(closed / "a"),
                    "--ro-bind", str(closed / "a" / "b"), str(closed / "a" / "b"),
                    "--ro-bind", str(closed / "c"), str(closed / "c")]
