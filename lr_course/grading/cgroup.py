"""A cgroup (v2) per sandboxed run, where the machine lets the grader make one.

A cgroup counts what rlimits cannot: all memory of the run (anonymous, page cache,
tmpfs and shared memory) against ``memory.max`` with no swap, every process and thread
of every session against ``pids.max``, and the CPU against ``cpu.max`` (one core). At
the end of the run ``cgroup.kill`` ends every process still in it, whatever it did to
escape its session or process group, and the cgroup is removed.

Where the cgroups live: ``LR_COURSE_CGROUP`` names a cgroup v2 folder the grader may
write (a delegated one, e.g. made by ``systemd-run --user -p Delegate=yes --scope``),
else the grader's own cgroup when its ``cgroup.subtree_control`` already enables the
``memory`` and ``pids`` controllers and the folder is writable. Nothing else is tried:
the grader never moves itself or changes a cgroup it did not make. When there is none,
:func:`find_parent` says why, and the sandbox relies on rlimits, size-limited tmpfs and
the seccomp filter instead (see :mod:`lr_course.grading.sandbox`).

>>> parse_own_cgroup("12:pids:/x\\n0::/user.slice/app.scope\\n")
'/user.slice/app.scope'

References: Documentation/admin-guide/cgroup-v2.rst in the Linux sources.
"""

from __future__ import annotations

import itertools
import os
import signal
import time
from pathlib import Path

__all__ = ["find_parent", "RunCgroup", "parse_own_cgroup", "cgroup2_mount", "REQUIRED"]

REQUIRED = ("memory", "pids")
_counter = itertools.count()


def parse_own_cgroup(text: str) -> str | None:
    """The cgroup v2 path in the text of ``/proc/self/cgroup`` (its ``0::`` line)."""
    for line in text.splitlines():
        if line.startswith("0::"):
            return line[3:].strip() or "/"
    return None


def cgroup2_mount(mountinfo: str) -> str | None:
    """Where cgroup2 is mounted, from the text of ``/proc/self/mountinfo``.

    >>> cgroup2_mount("30 25 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\\n")
    '/sys/fs/cgroup'
    """
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        if sep and right.split(" ", 1)[0] == "cgroup2":
            fields = left.split()
            if len(fields) >= 5:
                return fields[4]
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def find_parent() -> tuple[Path | None, str]:
    """The cgroup under which each run gets its own, or None and the reason there is none."""
    override = os.environ.get("LR_COURSE_CGROUP")
    if override:
        candidate = Path(override)
    else:
        mount = cgroup2_mount(_read(Path("/proc/self/mountinfo")))
        own = parse_own_cgroup(_read(Path("/proc/self/cgroup")))
        if mount is None or own is None:
            return None, "no cgroup v2 hierarchy is mounted"
        candidate = Path(mount + own) if own != "/" else Path(mount)
    enabled = _read(candidate / "cgroup.subtree_control").split()
    missing = [c for c in REQUIRED if c not in enabled]
    if missing:
        return None, (f"the cgroup {candidate} does not delegate the {'/'.join(missing)} "
                      "controller(s) (set LR_COURSE_CGROUP to a delegated cgroup v2)")
    if not os.access(candidate, os.W_OK):
        return None, f"the cgroup {candidate} is not writable by the grader"
    return candidate, ""


class RunCgroup:
    """One run's cgroup: made with its limits, joined by the sandbox, killed and removed.

    Args:
        parent: from :func:`find_parent`.
        memory_bytes: ``memory.max`` (swap is switched off for the run).
        max_processes: ``pids.max``.
        cpus: ``cpu.max`` as a number of cores, when the cpu controller is delegated.
    """

    def __init__(self, parent: Path, memory_bytes: int, max_processes: int, cpus: float = 1.0):
        self.path = Path(parent) / f"lr_course_{os.getpid()}_{next(_counter)}"
        self.path.mkdir(mode=0o755)
        enabled = _read(Path(parent) / "cgroup.subtree_control").split()
        self._write("memory.max", str(int(memory_bytes)))
        self._write("memory.swap.max", "0", optional=True)
        self._write("pids.max", str(int(max_processes)))
        if "cpu" in enabled:
            self._write("cpu.max", f"{int(100000 * cpus)} 100000", optional=True)

    def _write(self, name, value, optional=False):
        try:
            (self.path / name).write_text(value)
        except OSError:
            if not optional:
                self.remove()
                raise

    @property
    def procs(self) -> str:
        """The file a process writes ``0`` into to join this cgroup."""
        return str(self.path / "cgroup.procs")

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process of the run for its memory."""
        for line in _read(self.path / "memory.events").splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip() not in ("", "0"):
                return True
        return False

    def kill(self):
        """End every process in the cgroup (``cgroup.kill``, else SIGKILL one by one)."""
        try:
            (self.path / "cgroup.kill").write_text("1")
        except OSError:
            for _ in range(50):
                pids = _read(self.path / "cgroup.procs").split()
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except (ProcessLookupError, ValueError, PermissionError):
                        pass
                time.sleep(0.01)

    def remove(self):
        """Kill what is left and remove the cgroup (retried while the kernel reaps)."""
        if not self.path.exists():
            return
        self.kill()
        for _ in range(100):
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.01)
