"""The bubblewrap sandbox: what student code can see, and the limits that stop it.

Each test runs real code under bwrap. On a machine without bubblewrap these tests skip,
except in CI (``CI=true``), where a missing bwrap is a failure: the grader's isolation is
the point of the engine and must be tested somewhere.
"""

import json
import os
import shutil
import sys
import time

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))   # --import-mode=importlib: the helper
from processes import descendants  # noqa: E402

from lr_course.grading.checks.calls import Call, Record
from lr_course.grading.sandbox import RUN_UIDS, IsolationError, Limits, Sandbox, bwrap_path

if bwrap_path() is None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("bubblewrap (bwrap) is missing in CI: the sandbox must be tested",
                    pytrace=False)
    pytest.skip("bubblewrap (bwrap) not installed", allow_module_level=True)

FAST = Limits(wall_seconds=20, cpu_seconds=10, memory_bytes=1 << 30, output_bytes=1 << 20)


@pytest.fixture(scope="module")
def box():
    with Sandbox(limits=FAST) as sandbox:
        yield sandbox


def lines(result):
    return [json.loads(line) for line in result.results.decode().splitlines() if line.strip()]


def cells_of(result):
    return {e["cell"]: e for e in lines(result) if "cell" in e}


def probe(box, source, **kw):
    """Run one cell that prints a JSON value on its last line; return that value."""
    result = box.run({"cells": [source], "calls": []}, **kw)
    assert result.reason == "ok", (result.reason, result.detail, result.output)
    cell = cells_of(result)[0]
    assert cell["ok"], cell["error"]
    return json.loads(result.output.strip().splitlines()[-1])


def test_isolated_and_runs_a_call(box):
    call = Call("call", "double", args=(np.arange(3.0),))
    result = box.run({"cells": ["def double(x):\n    return 2 * x\n"],
                      "calls": [call.to_data()]})
    assert result.isolated and result.reason == "ok"
    record = Record.from_data([e for e in lines(result) if "record" in e][0]["data"])
    np.testing.assert_array_equal(record.value, [0.0, 2.0, 4.0])


@pytest.mark.parametrize("module", ["lr_course.optimizers", "lr_course.schedules",
                                    "lr_course.grading.engine", "lr_course.grading.batch",
                                    "lr_course.grading.course", "lr_course.search",
                                    "lr_course.finder", "nbgrader", "IPython"])
def test_teaching_and_grader_modules_are_not_importable(box, module):
    found = probe(box, "import importlib.util, json\n"
                       f"try:\n    ok = importlib.util.find_spec({module!r}) is not None\n"
                       "except ImportError:\n    ok = False\n"
                       "print(json.dumps(ok))")
    assert found is False


def test_allowed_modules_are_importable(box):
    found = probe(box, "import json, numpy, lr_course.problems, lr_course\n"
                       "print(json.dumps([numpy.__version__ != '', lr_course.problems.__file__]))")
    assert found[0] and found[1].startswith("/sandbox/lib/lr_course/")


def test_runs_unprivileged_without_capabilities(box):
    uid, caps = probe(box, "import os, json\n"
                           "caps = [l.split()[1] for l in open('/proc/self/status') if l.startswith('CapEff')][0]\n"
                           "print(json.dumps([os.getuid(), caps]))")
    assert int(caps, 16) == 0
    if box.is_root and box.cgroup_parent is None:   # a uid of its own per run
        assert uid in RUN_UIDS
    else:
        assert uid == 65534


def test_sees_only_the_submission(box, tmp_path):
    (tmp_path / "answer.ipynb").write_text("{}")
    tmp_path.chmod(0o755)   # the sandbox's uid is not the owner
    found = probe(box, "import os, json\n"
                       "print(json.dumps([sorted(os.listdir('/')), os.getcwd(), sorted(os.listdir('.')),"
                       " os.path.exists('/work'), os.path.exists(%r),"
                       " sorted(os.listdir('/sandbox/lib/lr_course')),"
                       " sorted(n for n in os.listdir('/sandbox/lib/lr_course/grading')"
                       " if not n.startswith('__py'))]))" % str(tmp_path),
                  submission_dir=tmp_path)
    root, cwd, here, work, host_path, course, grading = found
    assert "work" not in root and "home" not in root and not work and not host_path
    assert cwd == "/submission" and here == ["answer.ipynb"]
    assert "optimizers.py" not in course and grading == ["__init__.py", "checks"]


def test_submission_is_read_only_and_tmp_is_private(box, tmp_path):
    found = probe(box, "import json\nres = []\n"
                       "for path in ('/submission/x', '/tmp/x', '/usr/x', '/sandbox/lib/x'):\n"
                       "    try:\n        open(path, 'w').write('x'); res.append(True)\n"
                       "    except OSError:\n        res.append(False)\n"
                       "print(json.dumps(res))", submission_dir=tmp_path)
    assert found == [False, True, False, False]
    assert list(tmp_path.iterdir()) == []


def test_no_network(box):
    found = probe(box, "import socket, json\n"
                       "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=2); ok = True\n"
                       "except OSError:\n    ok = False\n"
                       "print(json.dumps([ok, sorted(socket.if_nameindex())]))")
    assert found[0] is False and [name for _, name in found[1]] == ["lo"]


def test_environment_is_clean(box):
    env = probe(box, "import os, json\nprint(json.dumps(dict(os.environ)))")
    assert not any("work" in value or "root" in value.lower() for value in env.values())


def test_infinite_loop_is_stopped_by_wall_time():
    with Sandbox(limits=Limits(wall_seconds=1.5, cpu_seconds=30)) as box:
        result = box.run({"cells": ["while True:\n    pass"], "calls": []})
    assert result.reason == "timeout" and result.seconds < 10


def test_cpu_limit():
    with Sandbox(limits=Limits(wall_seconds=30, cpu_seconds=1)) as box:
        result = box.run({"cells": ["while True:\n    pass"], "calls": []})
    assert result.reason == "timeout" and "CPU" in result.detail


def test_memory_bomb_is_contained(box):
    result = box.run({"cells": ["x = bytearray(4 << 30)", "y = 1"], "calls": []})
    cells = cells_of(result)
    assert result.reason == "memory"
    assert cells[0]["error"].startswith("MemoryError") and cells[1]["ok"]


def test_fork_bomb_is_contained(box):
    source = ("import os, time\nchildren = 0\n"
              "try:\n    for _ in range(10000):\n"
              "        if os.fork() == 0:\n            time.sleep(60)\n            os._exit(0)\n"
              "        children += 1\nexcept OSError as exc:\n    print('stopped', children)\n")
    result = box.run({"cells": [source], "calls": []})
    assert result.reason == "ok", result.detail
    assert "stopped" in result.output
    assert int(result.output.split("stopped")[1].split()[0]) < FAST.max_processes
    assert result.seconds < 10   # the children died with the sandbox's pid namespace


def test_output_flood_is_cut():
    with Sandbox(limits=Limits(output_bytes=100_000, wall_seconds=20)) as box:
        result = box.run({"cells": ["while True:\n    print('x' * 1000)"], "calls": []})
    assert result.reason == "output"


def test_file_size_limit():
    with Sandbox(limits=Limits(file_bytes=1 << 20)) as box:
        result = box.run({"cells": ["open('/tmp/big', 'wb').write(b'x' * (4 << 20))"],
                          "calls": []})
    assert not cells_of(result)[0]["ok"]


def test_exit_in_a_cell_is_recorded_and_the_run_goes_on(box):
    result = box.run({"cells": ["import sys\nsys.exit(3)", "raise KeyboardInterrupt",
                                "x = 1"], "calls": []})
    cells = cells_of(result)
    assert result.reason == "ok"
    assert cells[0]["error"].startswith("SystemExit") and cells[2]["ok"]


def test_hard_exit_is_a_crash(box):
    result = box.run({"cells": ["import os\nos._exit(0)"], "calls": []})
    assert result.reason == "crashed"


def test_printing_cannot_forge_results(box):
    result = box.run({"cells": ['print(\'{"record": 0, "data": {"ok": true}}\')',
                                "import sys\nsys.stdout.write('{\"end\": true}\\n')"],
                      "calls": []})
    assert not any("record" in e for e in lines(result))
    assert '"record"' in result.output


def test_unisolated_mode_warns_and_still_limits():
    with pytest.warns(RuntimeWarning, match="WITHOUT isolation"):
        box = Sandbox(bwrap="", limits=Limits(wall_seconds=1.5))
    with box:
        assert not box.isolated
        result = box.run({"cells": ["while True:\n    pass"], "calls": []})
        assert result.reason == "timeout" and not result.isolated


def test_require_isolation_makes_missing_bwrap_an_error():
    with pytest.raises(IsolationError, match="bubblewrap"):
        Sandbox(bwrap="", require_isolation=True)


def test_limits_reject_nonsense():
    with pytest.raises(ValueError, match="memory_bytes"):
        Limits(memory_bytes=0)
    with pytest.raises(ValueError, match="wall_seconds"):
        Limits(wall_seconds=-1)


def test_runner_never_writes_outside_its_channel(box):
    # atexit handlers and leftover threads of the student never run: os._exit at the end
    result = box.run({"cells": ["import atexit\natexit.register(print, 'bye')"], "calls": []})
    assert result.reason == "ok" and "bye" not in result.output


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_sandbox_dies_with_the_grader(tmp_path, warm):
    # A grader killed mid-run leaves no sandbox behind: cold runs by --die-with-parent,
    # warm ones because the warm interpreter's bwrap dies with the grader and every run's
    # processes with it.
    import subprocess
    import time
    script = tmp_path / "grader.py"
    script.write_text(
        "import sys, threading, time\n"
        "from lr_course.grading.sandbox import Sandbox, Limits\n"
        f"box = Sandbox(limits=Limits(wall_seconds=60), warm={warm})\n"
        "job = {'cells': ['import os, time\\nos.fork()\\nwhile True: time.sleep(1)'], "
        "'calls': []}\n"
        "threading.Thread(target=box.run, args=(job,), daemon=True).start()\n"
        "while not box._live: time.sleep(0.05)\n"
        "time.sleep(1)\n"
        "print('running', flush=True)\n"
        "time.sleep(120)\n")
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "running", "the sandbox never started"
        below = descendants(proc.pid)
        assert len(below) >= 3, below   # bwrap, the runner (or zygote and a run), its fork
    finally:
        proc.kill()
        proc.wait()
    for _ in range(200):   # the kernel reaps a namespace's processes in its own time
        if not below & set(map(int, filter(str.isdigit, os.listdir("/proc")))):
            break
        time.sleep(0.1)
    assert not below & set(map(int, filter(str.isdigit, os.listdir("/proc"))))


def test_vendored_libraries_are_found_by_their_distribution(tmp_path):
    """numpy.libs for numpy; pillow.libs for PIL (by top_level.txt, or by RECORD when a
    wheel has no top_level.txt); never another distribution's libraries."""
    from lr_course.grading.sandbox_tree import _vendored_libraries
    for folder in ("numpy", "numpy.libs", "PIL", "pillow.libs", "scipy.libs",
                   "pillow-11.0.0.dist-info", "scipy-1.14.0.dist-info", "kiwisolver"):
        (tmp_path / folder).mkdir()
    (tmp_path / "scipy-1.14.0.dist-info" / "top_level.txt").write_text("scipy\n")
    record = "PIL/__init__.py,sha256=x,10\npillow.libs/libjpeg.so,sha256=y,20\n"
    (tmp_path / "pillow-11.0.0.dist-info" / "RECORD").write_text(record)
    assert _vendored_libraries(tmp_path, "numpy") == [tmp_path / "numpy.libs"]
    assert _vendored_libraries(tmp_path, "PIL") == [tmp_path / "pillow.libs"]
    assert _vendored_libraries(tmp_path, "kiwisolver") == []
    other = tmp_path / "other"   # a wheel with top_level.txt (results are cached per folder)
    shutil.copytree(tmp_path, other, ignore=shutil.ignore_patterns("other"))
    (other / "pillow-11.0.0.dist-info" / "RECORD").unlink()
    (other / "pillow-11.0.0.dist-info" / "top_level.txt").write_text("PIL\n")
    assert _vendored_libraries(other, "PIL") == [other / "pillow.libs"]


def test_trees_of_killed_graders_are_removed_and_live_ones_kept(tmp_path, monkeypatch):
    """A grader killed with SIGKILL never removes its tree; the next one does, and never
    touches the tree of a grader still running (here: this process)."""
    import subprocess as sp
    from lr_course.grading import sandbox as sandbox_mod, sandbox_tree
    dead = sp.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    gone = tmp_path / f"{sandbox_tree.TREE_PREFIX}{dead.pid}_abc"
    alive = tmp_path / f"{sandbox_tree.TREE_PREFIX}{os.getpid()}_def"
    other = tmp_path / f"{sandbox_tree.TREE_PREFIX}notapid_x"
    for tree in (gone, alive, other):
        (tree / "lib").mkdir(parents=True)
    monkeypatch.setattr(sandbox_mod.tempfile, "tempdir", str(tmp_path))
    with Sandbox(bwrap="", warn=False) as box:
        assert box._tree.parent == tmp_path and box._tree.name.startswith(
            f"{sandbox_tree.TREE_PREFIX}{os.getpid()}_")
        assert not gone.exists() and alive.exists() and other.exists()
    assert not box._tree.exists()


def test_a_warm_interpreter_outlives_the_thread_that_started_it():
    # A batch's first reference is recorded in a thread of its own, which then ends: the
    # warm interpreter it started must go on serving the workers' runs.
    import threading
    with Sandbox(limits=FAST) as box:
        starter = threading.Thread(target=box.run, args=({"cells": [], "calls": []},))
        starter.start()
        starter.join()
        time.sleep(0.5)
        started = list(box.warm_interpreters)
        result = box.run({"cells": ["x = 1"], "calls": []})
        assert result.reason == "ok" and box.walls["warm"] == "on"
        assert len(started) == 1 and box.warm_interpreters == started and started[0].alive()


def test_a_dead_warm_interpreter_is_replaced_and_a_refusing_one_turns_warm_runs_off(monkeypatch):
    from lr_course.grading import warm
    with Sandbox(limits=FAST) as box:
        assert box.run({"cells": [], "calls": []}).reason == "ok"
        first = box.warm_interpreters[0]
        first.proc.kill()
        first.proc.wait()
        result = box.run({"cells": ["print('again')"], "calls": []})
        assert result.reason == "ok" and "again" in result.output
        assert box.walls["warm"] == "on" and first not in box.warm_interpreters

        def refuse(self, request, join=None):
            raise warm.WarmUnavailable("the warm sandbox could not make a run: EPERM")
        monkeypatch.setattr(warm.Zygote, "spawn", refuse)
        result = box.run({"cells": ["print('cold')"], "calls": []})
        assert result.reason == "ok" and "cold" in result.output   # the same job, cold
        assert box.walls["warm"].startswith("off (") and "EPERM" in box.walls["warm"]
