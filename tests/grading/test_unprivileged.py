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


def _binds_for(paths) -> list:
    """bwrap arguments that make each of ``paths`` reachable by any user: the classroom's
    own (classroom/reach.py), which runs the demo accounts past closed folders the same way."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("classroom_reach",
                                                  REPO / "classroom" / "reach.py")
    reach = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reach)
    return reach.bind_args(paths)

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
