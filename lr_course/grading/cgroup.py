"""A cgroup per sandboxed run, where the machine lets the grader make one.

A cgroup counts what rlimits cannot: all memory of the run (anonymous, page cache,
tmpfs and shared memory) against one limit with no swap, every process and thread
of every session against a process limit, and (v2) the CPU against ``cpu.max`` (one
core). At the end of the run every process still in it is killed, whatever it did to
escape its session or process group, and the cgroup is removed.

Where the cgroups live, first found wins:

1. ``LR_COURSE_CGROUP`` names a cgroup v2 folder the grader may write (a delegated one,
   e.g. made by ``systemd-run --user -p Delegate=yes --scope``);
2. the grader's own cgroup v2, when its ``cgroup.subtree_control`` already enables the
   ``memory`` and ``pids`` controllers and the folder is writable;
3. the grader's own cgroups in the v1 ``memory`` and ``pids`` hierarchies, when both are
   writable (root in many containers and older distributions): ``memory.limit_in_bytes``
   and ``memory.memsw.limit_in_bytes``, ``pids.max``; v1 has no ``cgroup.kill``, so the
   processes are killed one by one until none is left.

Nothing else is tried: the grader never moves itself or changes a cgroup it did not make.
When there is none, :func:`find_parent` says why, and the sandbox relies on rlimits,
size-limited tmpfs and the seccomp filter instead (see :mod:`lr_course.grading.sandbox`).

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
from typing import NamedTuple

__all__ = ["find_parent", "describe", "RunCgroup", "V1Parents", "parse_own_cgroup", "cgroup2_mount",
           "v1_parents", "REQUIRED"]

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


class V1Parents(NamedTuple):
    """The grader's own cgroups in the v1 ``memory`` and ``pids`` hierarchies."""

    memory: Path
    pids: Path


def v1_parents(cgroup_text: str, mountinfo: str) -> dict:
    """``{controller: folder}`` of the grader's own v1 cgroups, for memory and pids.

    ``cgroup_text`` is ``/proc/self/cgroup`` (``N:memory:/a/b`` lines), ``mountinfo``
    ``/proc/self/mountinfo`` (where each v1 hierarchy is mounted, and which part of it).

    >>> v1_parents("4:memory:/box/1\\n8:pids:/\\n",
    ...            "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\\n"
    ...            "39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\\n")
    {'memory': PosixPath('/sys/fs/cgroup/memory/box/1'), 'pids': PosixPath('/sys/fs/cgroup/pids')}
    """
    own = {}
    for line in cgroup_text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3 and parts[0] != "0":
            for controller in parts[1].split(","):
                own[controller] = parts[2].strip()
    found = {}
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        fields, more = left.split(), right.split()
        if not sep or len(fields) < 5 or len(more) < 3 or more[0] != "cgroup":
            continue
        options = more[2].split(",")
        for controller in REQUIRED:
            path = own.get(controller)
            if controller not in options or path is None:
                continue
            root = fields[3]
            if root != "/" and not (path == root or path.startswith(root + "/")):
                continue
            relative = path[len(root):] if root != "/" else path
            found[controller] = Path(fields[4] + relative.rstrip("/")) if relative != "/" \
                else Path(fields[4])
    return found


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def find_parent() -> tuple:
    """Where each run gets its own cgroup: a v2 folder, :class:`V1Parents`, or None and
    the reason there is none."""
    override = os.environ.get("LR_COURSE_CGROUP")
    if override:
        return _v2_parent(Path(override))
    mount = cgroup2_mount(_read(Path("/proc/self/mountinfo")))
    own = parse_own_cgroup(_read(Path("/proc/self/cgroup")))
    why = "no cgroup v2 hierarchy is mounted"
    if mount is not None and own is not None:
        parent, why = _v2_parent(Path(mount + own) if own != "/" else Path(mount))
        if parent is not None:
            return parent, ""
    v1 = v1_parents(_read(Path("/proc/self/cgroup")), _read(Path("/proc/self/mountinfo")))
    if set(v1) == set(REQUIRED):
        if all(os.access(folder, os.W_OK) for folder in v1.values()):
            return V1Parents(v1["memory"], v1["pids"]), ""
        return None, (f"{why}; the v1 memory and pids cgroups {v1['memory']}, {v1['pids']} "
                      "are not writable by the grader")
    return None, why


def describe(parent) -> str:
    """Where the runs' cgroups are made, in words (for :attr:`Sandbox.walls`)."""
    if isinstance(parent, V1Parents):
        return f"cgroup v1: memory {parent.memory}, pids {parent.pids}"
    return f"cgroup v2: {parent}"


def _v2_parent(candidate: Path) -> tuple:
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
        parent: from :func:`find_parent` (a v2 folder or :class:`V1Parents`).
        memory_bytes: the memory limit (swap is switched off for the run).
        max_processes: the limit on processes and threads.
        cpus: ``cpu.max`` as a number of cores, when the v2 cpu controller is delegated.
    """

    def __init__(self, parent, memory_bytes: int, max_processes: int, cpus: float = 1.0):
        name = f"lr_course_{os.getpid()}_{next(_counter)}"
        self.v1 = isinstance(parent, V1Parents)
        self.folders = [parent.memory / name, parent.pids / name] if self.v1 \
            else [Path(parent) / name]
        self.path = self.folders[0]
        made = []
        try:
            for folder in self.folders:
                folder.mkdir(mode=0o755)
                made.append(folder)
        except OSError:
            self.folders = made
            self.remove()
            raise
        if self.v1:
            self._write(self.folders[0], "memory.limit_in_bytes", str(int(memory_bytes)))
            # no swap: memory + swap may hold no more than memory alone
            self._write(self.folders[0], "memory.memsw.limit_in_bytes", str(int(memory_bytes)),
                        optional=True)
            self._write(self.folders[1], "pids.max", str(int(max_processes)))
            return
        enabled = _read(Path(parent) / "cgroup.subtree_control").split()
        self._write(self.path, "memory.max", str(int(memory_bytes)))
        self._write(self.path, "memory.swap.max", "0", optional=True)
        self._write(self.path, "pids.max", str(int(max_processes)))
        if "cpu" in enabled:
            self._write(self.path, "cpu.max", f"{int(100000 * cpus)} 100000", optional=True)

    def _write(self, folder, name, value, optional=False):
        try:
            (folder / name).write_text(value)
        except OSError:
            if not optional:
                self.remove()
                raise

    @property
    def procs(self) -> list:
        """The files a process writes ``0`` into to join this cgroup (one per hierarchy)."""
        return [str(folder / "cgroup.procs") for folder in self.folders]

    def join(self, pid: int):
        """Move the process ``pid`` (as the grader sees it) into this cgroup."""
        for procs in self.procs:
            Path(procs).write_text(str(int(pid)))

    def wrap(self, cmd: list) -> list:
        """``cmd`` started by a shell that first joins the cgroup: nothing runs outside it."""
        joins = " && ".join(f'echo 0 > "${k}"' for k in range(len(self.procs)))
        shift = f" && shift {len(self.procs) - 1}" if len(self.procs) > 1 else ""
        return ["/bin/sh", "-c", f'{joins}{shift} && exec "$@"', *self.procs, *cmd]

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process of the run for its memory."""
        events = "memory.oom_control" if self.v1 else "memory.events"
        for line in _read(self.path / events).splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip() not in ("", "0"):
                return True
        return False

    def kill(self):
        """End every process in the cgroup (``cgroup.kill``, else SIGKILL one by one)."""
        if not self.v1:
            try:
                (self.path / "cgroup.kill").write_text("1")
                return
            except OSError:
                pass
        for _ in range(50):
            pids = set()
            for folder in self.folders:
                pids.update(_read(folder / "cgroup.procs").split())
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
        self.kill()
        for folder in self.folders:
            for _ in range(100):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)
