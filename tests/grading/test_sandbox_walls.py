"""The sandbox's walls under attack: each limit is pushed past, each hidden thing is sought.

Every attack runs as a student's cell followed by an honest one: the attack must gain
nothing (the limit holds, the thing is not found), the run must go on to the honest cell
and finish, and nothing may be written outside. Run as root here and as uid 65534 by
``test_unprivileged.py``. Without bubblewrap these skip, except in CI where they fail.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))   # --import-mode=importlib: the helper
from processes import descendants  # noqa: E402

from lr_course.grading import cgroup, syscalls
from lr_course.grading.sandbox import Limits, Sandbox, bwrap_path

IN_CI = os.environ.get("CI", "").lower() == "true"
if bwrap_path() is None:
    if IN_CI:
        pytest.fail("bubblewrap (bwrap) is missing in CI: the sandbox must be tested",
                    pytrace=False)
    pytest.skip("bubblewrap (bwrap) not installed", allow_module_level=True)

GIB = 1 << 30
LIMITS = Limits(wall_seconds=30, cpu_seconds=20, memory_bytes=GIB, tmp_bytes=8 << 20,
                shm_bytes=4 << 20, file_bytes=64 << 20, max_processes=24)
HONEST = "import numpy as np\nprint(json.dumps({'honest': float(np.sum(np.arange(4.0)))}))"


@pytest.fixture(scope="module", params=["cold", "warm"])
def mode(request):
    """Every wall is tested on cold runs (a fresh bwrap and interpreter each) and on warm
    ones (forked by a warm interpreter, lr_course.grading.warm)."""
    return request.param


def make(limits, mode, **options):
    return Sandbox(limits=limits, warm=mode == "warm", **options)


@pytest.fixture(scope="module")
def box(mode, tmp_path_factory):
    # Warm runs see the submissions under the test's temporary root (every test's folder).
    with make(LIMITS, mode, submissions=tmp_path_factory.getbasetemp()) as sandbox:
        yield sandbox


def _pid_ns(pid):
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def run_processes(box, marker: str) -> set:
    """The host pids of the processes of ``box``'s runs. Cold runs carry ``marker`` (a
    memory limit no one else uses) on their command line; warm runs are the processes
    below a warm interpreter that live in a pid namespace of their own (not the
    interpreter's, nor its bubblewrap's)."""
    if not box.warm_interpreters:
        out = subprocess.run(["ps", "-eww", "-o", "pid=,args="], capture_output=True,
                             text=True).stdout
        return {int(line.split()[0]) for line in out.splitlines() if marker in line}
    found = set()
    for zygote in box.warm_interpreters:
        below = descendants(zygote.proc.pid)
        skip = {_pid_ns(zygote.proc.pid)} | {_pid_ns(pid) for pid in below
                                             if _parent(pid) == zygote.proc.pid}
        found |= {pid for pid in below if _pid_ns(pid) not in skip}
    return found


def _parent(pid):
    try:
        return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def test_the_walls_are_up(box, mode):
    assert box.isolated
    if IN_CI or syscalls.load_libseccomp() is not None:
        assert box.walls["seccomp"] == "on", box.walls
    box.run({"cells": [], "calls": []})
    if mode == "warm" and IN_CI:   # CI's machine must allow the warm runs (the speed)
        assert box.walls["warm"] == "on", box.walls
    assert box.walls["warm"] == ("on" if mode == "warm" else "off (asked for cold runs)") \
        or box.walls["warm"].startswith("off (")


def test_the_course_modules_and_the_digits_are_loaded_before_the_job(box):
    # The same in a cold run and a warm one (where the interpreter loaded them once): a
    # notebook's first import of the models, and its first digits, cost nothing.
    probe = """
import json, sys
before = sorted(m for m in sys.modules if m.startswith("lr_course.") and ".grading" not in m)
from lr_course import models
print(json.dumps({"before": before, "digits": models.load_digits.cache_info().currsize}))
"""
    result = box.run({"cells": [probe], "calls": []})
    assert result.reason == "ok", result.detail
    seen = json.loads(result.output.strip().splitlines()[-1])
    assert seen == {"before": ["lr_course._checks", "lr_course._points", "lr_course.digits",
                               "lr_course.models",
                               "lr_course.problems", "lr_course.surfaces"], "digits": 1}


def attack(box, source, tmp_path=None):
    """Run ``source`` then an honest cell; return what the attack printed (its last line)."""
    submission = None
    if tmp_path is not None:
        submission = tmp_path / "sub"
        submission.mkdir()
        (submission / "answer.ipynb").write_text("{}")
        submission.chmod(0o755)
        before = sorted(p.name for p in submission.iterdir())
    result = box.run({"cells": ["import json\n" + source, HONEST], "calls": []},
                     submission_dir=submission)
    assert result.reason == "ok", (result.reason, result.detail, result.output[-2000:])
    cells = {}
    for line in result.results.decode().splitlines():
        entry = json.loads(line)
        if "cell" in entry:
            cells[entry["cell"]] = entry
    assert cells[0]["ok"], cells[0]["error"]
    assert cells[1]["ok"], cells[1]["error"]
    printed = [json.loads(x) for x in result.output.splitlines() if x.startswith("{")]
    assert printed[-1] == {"honest": 6.0}   # the run went on, unharmed
    if submission is not None:
        assert sorted(p.name for p in submission.iterdir()) == before
    return printed[-2] if len(printed) > 1 else None


def test_memfd_cannot_hold_memory_past_the_limit(box):
    found = attack(box, """
import os, mmap
held = 0
try:
    fd = os.memfd_create("x")
    for _ in range(3 * 1024):
        os.write(fd, b"x" * (1 << 20))
        held += 1 << 20
    outcome = "held"
except OSError as exc:
    outcome = type(exc).__name__
print(json.dumps({"held": held, "outcome": outcome}))
""")
    assert found["held"] < GIB and found["outcome"] != "held"


def test_shared_memory_cannot_hold_memory_past_the_limit(box):
    found = attack(box, """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
shm = libc.shmget(0, ctypes.c_size_t(3 << 30), 0o1600)   # IPC_PRIVATE | IPC_CREAT
print(json.dumps({"shmget": shm, "errno": ctypes.get_errno()}))
""")
    assert found["shmget"] == -1


@pytest.mark.parametrize("folder,cap", [("/tmp", LIMITS.tmp_bytes), ("/dev/shm", LIMITS.shm_bytes)])
def test_filling_a_tmpfs_stops_at_its_size(box, folder, cap):
    found = attack(box, f"""
import os
written = 0
try:
    for i in range(10000):
        with open("{folder}/fill%d" % i, "wb") as f:
            for _ in range(64):
                f.write(b"x" * (1 << 20)); f.flush(); written += 1 << 20
except OSError as exc:
    pass
print(json.dumps({{"written": written}}))
""")
    assert found["written"] <= cap


def test_nothing_but_tmp_is_writable(box, tmp_path):
    found = attack(box, """
import os
wrote = []
for path in ("/x", "/usr/x", "/usr/lib/x", "/etc/x", "/sandbox/x", "/sandbox/lib/x",
             "/dev/x", "/proc/x", "/submission/x", "/lib/x", os.path.dirname(os.__file__) + "/x"):
    try:
        with open(path, "w") as f:
            f.write("x")
        wrote.append(path)
    except OSError:
        pass
for path in ("/newdir", "/usr/newdir"):
    try:
        os.mkdir(path); wrote.append(path)
    except OSError:
        pass
print(json.dumps({"wrote": wrote}))
""", tmp_path)
    assert found["wrote"] == []


def test_fork_bomb_in_a_new_session_is_bounded(box):
    found = attack(box, """
import os, time
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.setsid()
    n = 0
    try:
        for _ in range(10000):
            if os.fork() == 0:
                time.sleep(60); os._exit(0)
            n += 1
    except OSError:
        pass
    os.write(w, str(n).encode()); os._exit(0)
os.close(w)
n = int(os.read(r, 100) or 0)
os.waitpid(pid, 0)
print(json.dumps({"children": n}))
""")
    assert found["children"] < LIMITS.max_processes


def test_a_detached_process_does_not_outlive_the_run(tmp_path, mode):
    # A unique memory limit marks this run's processes on the host's process list.
    marker = str((876543 + os.getpid()) << 12)
    limits = Limits(wall_seconds=30, memory_bytes=int(marker))
    with make(limits, mode) as box:
        start = time.monotonic()
        result = box.run({"cells": ["""
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.setpgid(0, 0)
        while True:
            time.sleep(0.05)
    os._exit(0)
time.sleep(0.2)
print("forked")
"""], "calls": []})
        seconds = time.monotonic() - start
        assert result.reason == "ok" and "forked" in result.output
        assert seconds < 20     # the run did not wait for the grandchild
        for _ in range(50):     # the kernel reaps a namespace's processes in its own time
            if not run_processes(box, marker):
                break
            time.sleep(0.1)
        assert run_processes(box, marker) == set()


def test_cpu_spin_in_child_processes_is_stopped(mode):
    limits = Limits(wall_seconds=3, cpu_seconds=30)
    with make(limits, mode) as box:
        result = box.run({"cells": ["import os\nfor _ in range(3):\n    if os.fork() == 0:\n"
                                    "        while True: pass\nwhile True: pass\n"], "calls": []})
    assert result.reason == "timeout" and result.seconds < 15


@pytest.mark.parametrize("flag", sorted(syscalls.NAMESPACE_FLAGS))
def test_no_nested_namespaces(box, flag):
    value = syscalls.NAMESPACE_FLAGS[flag]
    found = attack(box, f"""
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
rc = libc.unshare({value})
err = ctypes.get_errno()
# clone(2) with the flag, through the raw system call (56 on x86_64, 220 on aarch64)
import platform
nr = {{"x86_64": 56, "aarch64": 220}}.get(platform.machine())
child = -1
if nr is not None:
    child = libc.syscall(nr, {value} | 17, 0, 0, 0, 0)   # 17: SIGCHLD
    if child == 0:
        os._exit(0)
    if child > 0:
        os.waitpid(child, 0)
print(json.dumps({{"unshare": rc, "errno": err, "clone": child}}))
""")
    assert found["unshare"] == -1 and found["errno"] == 1    # EPERM
    assert found["clone"] == -1


def test_threads_and_fork_still_work(box):
    # clone3 is refused with ENOSYS, so the C library falls back to clone for threads
    found = attack(box, """
import threading, os
out = []
t = threading.Thread(target=lambda: out.append(1)); t.start(); t.join()
pid = os.fork()
if pid == 0:
    os._exit(7)
_, status = os.waitpid(pid, 0)
print(json.dumps({"thread": out, "child": os.waitstatus_to_exitcode(status)}))
""")
    assert found == {"thread": [1], "child": 7}


@pytest.mark.parametrize("call,args", [
    ("ptrace", "0, 0, 0, 0"),                     # PTRACE_TRACEME
    ("mount", "b'none', b'/tmp', b'tmpfs', 0, 0"),
    ("syscall", "321, 0, 0, 0"),                  # bpf on x86_64
    ("syscall", "250, 0, 0, 0, 0, 0"),            # keyctl on x86_64
    ("syscall", "425, 8, 0"),                     # io_uring_setup on x86_64
    ("syscall", "323, 0"),                        # userfaultfd on x86_64
])
def test_refused_system_calls(box, call, args):
    import platform
    if platform.machine() != "x86_64" and call == "syscall":
        pytest.skip("system call numbers of x86_64")
    found = attack(box, f"""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
rc = libc.{call}({args})
print(json.dumps({{"rc": rc, "errno": ctypes.get_errno()}}))
""")
    assert found["rc"] == -1 and found["errno"] in (1, 38)   # EPERM (ENOSYS: not built in)


def test_no_installed_python_package_is_visible(box):
    found = attack(box, """
import importlib.util, os, sys
visible = [m for m in ("pip", "setuptools", "lr_course.optimizers", "lr_course.grading.engine",
                       "lr_course.grading.batch", "nbgrader", "IPython", "jupyter_core",
                       "seccomp", "scipy", "pytest")
           if importlib.util.find_spec(m.split(".")[0]) is not None
           and (m.count(".") == 0 or importlib.util.find_spec(m) is not None)]
folders = []
for top in ("/usr", "/lib", "/etc", "/sandbox", os.path.dirname(os.__file__)):
    for root, dirs, files in os.walk(top):
        for d in dirs:
            if d in ("site-packages", "dist-packages"):
                here = os.path.join(root, d)
                if os.listdir(here):
                    folders.append(here)
print(json.dumps({"visible": visible, "folders": folders, "usr": sorted(os.listdir("/usr")),
                  "bin": os.path.exists("/usr/bin") or os.path.exists("/bin/sh")}))
""")
    assert found["visible"] == [] and found["folders"] == []
    assert "bin" not in found["usr"] and "local" not in found["usr"] and not found["bin"]


def test_proc_shows_nothing_of_the_host(box, tmp_path):
    found = attack(box, """
import os
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
cmdline = open("/proc/1/cmdline", "rb").read().decode(errors="replace").split("\\0")
try:
    environ = open("/proc/1/environ", "rb").read().decode(errors="replace")
except OSError:
    environ = ""
print(json.dumps({"pids": pids, "cmdline": cmdline, "environ": environ,
                  "hostname": os.uname().nodename}))
""", tmp_path)
    text = " ".join(found["cmdline"]) + found["environ"]
    assert str(box._tree) not in text and str(tmp_path) not in text
    assert "--bind" not in text and "--ro-bind" not in text
    assert max(found["pids"]) < 50 and found["hostname"] == "sandbox"


def test_cgroup_detection_reads_the_hierarchy(tmp_path, monkeypatch):
    assert cgroup.parse_own_cgroup("1:memory:/a\n0::/b/c\n") == "/b/c"
    assert cgroup.parse_own_cgroup("1:memory:/a\n") is None
    info = "25 1 0:22 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate\n"
    assert cgroup.cgroup2_mount("24 1 0:21 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n" + info) == \
        "/sys/fs/cgroup/unified"
    delegated = tmp_path / "delegated"
    delegated.mkdir()
    (delegated / "cgroup.subtree_control").write_text("cpu memory\n")
    monkeypatch.setenv("LR_COURSE_CGROUP", str(delegated))
    parent, why = cgroup.find_parent()
    assert parent is None and "pids" in why
    (delegated / "cgroup.subtree_control").write_text("cpu memory pids\n")
    assert cgroup.find_parent() == (delegated, "")


def test_walls_say_which_protection_holds(box):
    assert set(box.walls) == {"seccomp", "cgroup", "warm"}
    assert box.walls["cgroup"].startswith(("on", "off ("))
    assert box.walls["warm"].startswith(("on", "off ("))


def test_an_honest_plotting_cell_still_runs(box):
    # matplotlib and Pillow load their wheels' own shared libraries (<dist>.libs)
    found = attack(box, """
import matplotlib.pyplot as plt, numpy as np, PIL.Image
fig, ax = plt.subplots()
ax.plot(np.arange(5.0))
fig.savefig("/tmp/plot.png")
print(json.dumps({"size": list(PIL.Image.open("/tmp/plot.png").size)}))
""")
    assert found["size"][0] > 100


def test_one_runs_fork_bomb_does_not_starve_another(mode):
    # Each run counts its own processes (a cgroup; else a uid of its own as root, a user
    # namespace as anyone else). The bomb has the honest run's own limit, as in a class: with
    # a cgroup the runs share a uid, and a shared RLIMIT_NPROC let the bomb use up both.
    import threading
    marker = str((765432 + os.getpid()) << 12)   # marks the bomb's processes on the host
    bomb = Limits(wall_seconds=40, memory_bytes=int(marker),
                  max_processes=LIMITS.max_processes)
    with make(bomb, mode) as a, make(LIMITS, mode) as b:
        held = threading.Thread(target=a.run, args=({"cells": [
            "import os, time\ntry:\n    for _ in range(1000):\n        if os.fork() == 0:\n"
            "            time.sleep(8); os._exit(0)\nexcept OSError:\n    pass\ntime.sleep(8)\n"],
            "calls": []},))
        held.start()
        try:
            # The bomb's processes carry the marker. It has hit its wall when their count
            # stops growing near the limit (a cgroup counts bubblewrap's processes and the
            # runner's threads too, so "near" is half of it or more).
            counts = []
            for _ in range(300):
                counts.append(len(run_processes(a, marker)))
                if counts[-1] >= bomb.max_processes // 2 and len(set(counts[-6:])) == 1 \
                        and len(counts) >= 6:
                    break
                time.sleep(0.05)
            else:
                pytest.fail(f"the fork bomb never filled its process limit: {counts[-10:]}")
            found = attack(b, """
import os
pids = []
for _ in range(8):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    pids.append(pid)
for pid in pids:
    os.waitpid(pid, 0)
print(json.dumps({"forked": len(pids)}))
""")
        finally:
            held.join()
    assert found == {"forked": 8}


def test_a_cgroup_that_cannot_be_made_falls_back_to_rlimits(tmp_path, mode):
    with make(LIMITS, mode) as box:
        box.cgroup_parent = tmp_path / "gone"    # a delegation that went away
        result = box.run({"cells": ["x = 1"], "calls": []})
        assert result.reason == "ok"
        assert box.cgroup_parent is None and box.walls["cgroup"].startswith("off (could not")


def test_v1_hierarchies_are_read_from_the_mount_table():
    mounts = ("35 31 0:32 /box /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
              "39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
              "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n")
    own = "4:memory:/box/run7\n8:pids:/user/1\n0::/\n"
    assert cgroup.v1_parents(own, mounts) == {
        "memory": Path("/sys/fs/cgroup/memory/run7"), "pids": Path("/sys/fs/cgroup/pids/user/1")}
    # a cgroup outside what is mounted here, or a controller not mounted at all
    assert cgroup.v1_parents("4:memory:/elsewhere\n", mounts) == {}
    assert cgroup.v1_parents(own, mounts.splitlines()[0]) == {"memory": Path(
        "/sys/fs/cgroup/memory/run7")}


def test_tmpfs_pages_count_against_the_cgroup_where_there_is_one(mode):
    """/tmp may hold 1 GiB, the run 256 MiB. With a cgroup, filling /tmp is killed at the
    memory limit (rlimits cannot see tmpfs pages) and no cgroup of the run is left behind;
    without one (an ordinary account here), only the tmpfs size bounds it, as the walls say."""
    limits = Limits(wall_seconds=30, cpu_seconds=20, memory_bytes=256 << 20,
                    tmp_bytes=1 << 30, shm_bytes=4 << 20, file_bytes=1 << 30, max_processes=24)
    fill = """
written = 0
with open("/tmp/fill", "wb") as f:
    for _ in range(768):
        f.write(b"x" * (1 << 20)); f.flush(); written += 1
print("wrote", written)
"""
    with make(limits, mode) as box:
        parent = box.cgroup_parent
        result = box.run({"cells": [fill], "calls": []})
        if parent is None:
            assert box.walls["cgroup"].startswith("off (")
            assert result.reason == "ok" and "wrote 768" in result.output, result.detail
            return
        assert box.walls["cgroup"].startswith("on (cgroup v")
        assert result.reason == "memory", (result.reason, result.detail, result.output[-500:])
        assert "wrote" not in result.output
        folders = list(parent) if isinstance(parent, cgroup.V1Parents) else [parent]
        assert [p for folder in folders for p in folder.glob(f"lr_course_{os.getpid()}_*")] == []


def test_a_run_sees_its_own_submission_only(box, mode, tmp_path):
    # Warm runs are forked by an interpreter that sees every submission (the box's
    # folder of them): the run must see none but its own, and no trace of another run.
    other = tmp_path / "other"
    other.mkdir()
    (other / "secret.txt").write_text("another student's work")
    other.chmod(0o755)
    box.run({"cells": ["open('/tmp/left_behind', 'w').write('x')"], "calls": []},
            submission_dir=other)
    found = attack(box, """
import os
def listing(path):
    try:
        return sorted(os.listdir(path))
    except OSError as exc:
        return type(exc).__name__
print(json.dumps({"here": listing("."), "tmp": listing("/tmp"),
                  "submissions": listing("/.submissions"), "tokens": listing("/.tokens"),
                  "other": listing("/submission/../other")}))
""", tmp_path)
    assert found["here"] == ["answer.ipynb"]
    assert found["tmp"] == []
    assert found["submissions"] in ([], "FileNotFoundError")
    assert found["tokens"] in ([], "FileNotFoundError")
    assert found["other"] == "FileNotFoundError"


def test_each_folder_of_submissions_has_warm_interpreters_that_see_it_alone(tmp_path):
    # A batch gives the sandbox two folders: the students' and the source notebook's (the
    # solution's runs). A student's run is forked by an interpreter that never had the
    # solution's folder, and the other way round.
    students, source = tmp_path / "submitted", tmp_path / "source"
    for folder, name in ((students / "ann", "answer.ipynb"), (source / "ps2", "solution.ipynb")):
        folder.mkdir(parents=True)
        (folder / name).write_text("{}")
    for path in (students / "ann", students, source / "ps2", source, tmp_path):
        path.chmod(0o755)
    probe = "import os\nprint(sorted(os.listdir('.')))"
    with make(LIMITS, "warm", submissions=(students, source / "ps2")) as box:
        seen = {}
        for name, folder in (("ann", students / "ann"), ("source", source / "ps2")):
            result = box.run({"cells": [probe], "calls": []}, folder)
            assert result.reason == "ok", result.detail
            seen[name] = result.output.strip().splitlines()[-1]
        assert seen == {"ann": "['answer.ipynb']", "source": "['solution.ipynb']"}
        if box.walls["warm"] != "on":
            assert not IN_CI, box.walls
            return
        pools = {root: [z.proc.pid for z in pool.started] for root, pool in box._pools.items()}
        assert [len(pids) for pids in pools.values()] == [1, 1]
        for root, pids in pools.items():
            # every mount an interpreter of this folder holds, by the host path it binds
            mounted = set()
            for pid in pids + [p for pid in pids for p in descendants(pid)]:
                try:
                    mounted |= {line.split()[3] for line in open(f"/proc/{pid}/mountinfo")}
                except OSError:
                    continue
            other = source / "ps2" if root == students else students
            assert not any(m.endswith(str(other)[len(str(tmp_path.parent)):]) for m in mounted)
            assert any(m.endswith(str(root)[len(str(tmp_path.parent)):]) for m in mounted)


def test_the_runs_first_process_cannot_be_stopped_from_inside(box):
    # A warm run's pid 1 belongs to the grader's side (it reports the runner's exit):
    # signals from the run do nothing to it, and a cold run's pid 1 (bubblewrap) the same.
    found = attack(box, """
import os, signal
sent = []
for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL, signal.SIGSTOP):
    try:
        os.kill(1, sig)
        sent.append(sig.name)
    except OSError:
        pass
print(json.dumps({"pid": os.getpid(), "sent": sent}))
""")
    assert found["pid"] != 1


def test_a_run_that_signals_itself_ends_the_same_way_cold_or_warm(box):
    result = box.run({"cells": ["import os, signal\nos.kill(os.getpid(), signal.SIGTERM)"],
                      "calls": []})
    assert result.reason == "killed" and "SIGTERM" in result.detail, result.detail


def test_a_warm_run_cannot_reach_its_first_process_or_the_warm_interpreter():
    # pid 1 of a warm run holds the socket on which it reports the run's exit; the warm
    # interpreter is outside the run's pid namespace altogether.
    with make(LIMITS, "warm") as box:
        found = attack(box, """
import os, ctypes
reached = []
for path in ("/proc/1/fd", "/proc/1/mem", "/proc/1/environ", "/proc/1/root/."):
    try:
        if path.endswith("fd") or path.endswith("."):
            os.listdir(path)
        else:
            open(path, "rb").read(1)
        reached.append(path)
    except OSError:
        pass
libc = ctypes.CDLL(None, use_errno=True)
if libc.ptrace(16, 1, 0, 0) == 0:            # PTRACE_ATTACH
    reached.append("ptrace")
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
print(json.dumps({"reached": reached, "pids": pids, "me": os.getpid()}))
""")
        assert box.walls["warm"] == "on" or not IN_CI, box.walls
    assert found["reached"] == []
    assert found["pids"] == [1, found["me"]]     # nothing but the run itself and its pid 1


def test_a_self_check_and_the_grading_look_the_same_from_inside(tmp_path):
    # lr-course check sees the notebook's folder as the submissions (its own alone); a
    # class's grading sees submitted/ and picks the student's folder. From inside, the run
    # must not be able to tell them apart: files, mounts, environment, limits, identity.
    probe = """
import os, resource
mounts = sorted(line.split()[4] for line in open("/proc/self/mountinfo"))
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
print(json.dumps({"root": sorted(os.listdir("/")), "here": sorted(os.listdir(".")),
                  "cwd": os.getcwd(), "mounts": mounts, "env": dict(os.environ),
                  "ids": [os.getuid(), os.getgid(), os.getpid()],
                  "caps": status["CapEff"].strip(), "seccomp": status["Seccomp"].strip(),
                  "limits": [resource.getrlimit(getattr(resource, name)) for name in
                             ("RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_CPU", "RLIMIT_FSIZE",
                              "RLIMIT_NOFILE")]}))
"""
    course = tmp_path / "course" / "submitted"
    for student in ("ann", "bob"):
        folder = course / student / "ps2"
        folder.mkdir(parents=True)
        (folder / "answer.ipynb").write_text("{}")
        for path in (folder, folder.parent):
            path.chmod(0o755)
    for path in (course, course.parent, tmp_path):
        path.chmod(0o755)

    def seen(submissions, folder):
        with make(LIMITS, "warm", submissions=submissions) as box:
            result = box.run({"cells": ["import json\n" + probe], "calls": []}, folder)
            assert box.walls["warm"] == "on" or not IN_CI, box.walls
        assert result.reason == "ok", result.detail
        return json.loads(result.output.strip().splitlines()[-1])

    graded = seen(course, course / "ann" / "ps2")
    checked = seen(course / "ann" / "ps2", course / "ann" / "ps2")
    assert graded == checked
    assert graded["here"] == ["answer.ipynb"] and graded["cwd"] == "/submission"


def test_unseeded_global_generators_start_alike_in_every_run(box, mode):
    # A grade is a function of the submission: numpy's and Python's global generators,
    # which a submission may use without a seed, give the same draws in every run of every
    # sandbox, cold or warm (a warm run used to inherit its warm interpreter's state).
    probe = "import random, numpy as np\nprint(repr((np.random.random(), random.random())))\n"
    seen = {box.run({"cells": [probe], "calls": []}).output.strip() for _ in range(2)}
    with make(Limits(), "cold" if mode == "warm" else "warm") as other:
        seen.add(other.run({"cells": [probe], "calls": []}).output.strip())
    assert len(seen) == 1, seen
    import random
    import numpy as np
    np.random.seed(0)
    random.seed(0)
    assert seen == {repr((np.random.random(), random.random()))}
