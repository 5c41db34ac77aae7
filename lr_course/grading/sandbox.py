"""Run the grading runner on a student's code under bubblewrap, with limits.

The sandbox is a fresh set of Linux namespaces (mount, pid, network, ipc, uts) whose file
system holds only what a student's answer may use, each bound read-only at its exact path:
the interpreter binary (and its ``libpython``), its standard library (with its
``site-packages`` hidden), the system's shared-library folder, a few files of ``/etc`` for
the dynamic loader, numpy (and matplotlib, so that plotting cells still run), a curated
copy of the course modules the applied parts need (``lr_course.problems`` with the surfaces
it re-exports, ``lr_course.models`` and ``lr_course.digits`` with the dataset), the check library
with the runner (:mod:`lr_course.grading.checks`), and the submission's own directory.
Not there: the rest of ``/usr`` (so no system-wide or instructor-installed Python package,
no shell, no tools), the rest of ``lr_course`` (schedules, optimizers, search, finder, the
grader), the course directory, the gradebook and other students' work. The root, ``/dev``
and everything bound are read-only; the only writable places are a private ``/tmp`` and
``/dev/shm``, size-limited tmpfs. ``/proc`` is the sandbox's own (its pid namespace), and
bubblewrap reads its arguments from a file descriptor so that ``/proc/1/cmdline`` names no
host path. There is no network (only a loopback device in a new network namespace) and
the code runs as an unprivileged uid.

The walls, and where each holds:

* **seccomp** (:mod:`~lr_course.grading.syscalls`, libseccomp): no nested namespaces
  (``unshare``, ``setns``, ``clone`` with ``CLONE_NEW*``), no ``mount``, ``ptrace``,
  ``bpf``, ``keyctl``, ``memfd_create``, System V shared memory and friends. Everywhere
  bubblewrap runs and libseccomp's Python bindings are installed; without them the
  sandbox warns, and ``require_isolation=True`` refuses to run.
* **rlimits**, set by the runner before any student code: address space (memory), process
  count, CPU seconds, file size, open files, message queues, no core dumps. Always.
* **a cgroup per run** (:mod:`~lr_course.grading.cgroup`), where the machine lets the
  grader make one (a delegated cgroup v2, or the v1 memory and pids hierarchies as root):
  all memory including tmpfs and page cache, every process of every session, (v2) one
  CPU; killed as a whole at the end. Where none can be made (:attr:`Sandbox.walls` says
  why), memory outside the address space is bounded by the tmpfs sizes and the seccomp
  filter instead, and processes by ``RLIMIT_NPROC``.
* **the pid namespace**: a process the submission starts, in any session or process
  group, dies with the run, because its init (bubblewrap) exits with the runner and the
  kernel then kills the whole namespace. Wall time and output size are enforced here, by
  the parent: past either, the sandbox is killed.

Runs are warm where the kernel allows it (:mod:`~lr_course.grading.warm`): a warm
interpreter, started under bubblewrap with the file system above, imports numpy once and
forks each run, which makes its own mount, pid, network, ipc and cgroup namespaces, its own
``/tmp``, ``/dev/shm`` and ``/proc``, joins its own cgroup, drops its uid or capabilities and
installs the seccomp filter before it reads its job
(:mod:`~lr_course.grading.checks.zygote`). Where that cannot be done, ``walls["warm"]``
says why and every run is cold: a new bubblewrap sandbox and interpreter each.

The command lines themselves (bubblewrap's options, the runner's, the environment) are
written by :mod:`~lr_course.grading.sandbox_command`; this module decides which run gets
which and drives it, with :mod:`~lr_course.grading.sandbox_pump` feeding it, reading it and
saying how it ended.

Where bubblewrap is missing the runner still runs in a subprocess with the same rlimits,
but NOT isolated: :class:`Sandbox` warns loudly, and ``require_isolation=True`` makes it an
error instead.

Root and non-root differ in one detail. ``RLIMIT_NPROC`` is not enforced for processes
whose real uid is root outside every user namespace, and a user namespace created by root
maps the sandbox's uid back to root. So as root, bwrap runs privileged without a user
namespace and the runner switches to the unprivileged uid itself (bwrap keeps only
CAP_SETUID/CAP_SETGID for that, and the switch drops them); as an ordinary user, bwrap
makes a user namespace (``--unshare-user --uid 65534``) and no privilege is involved.
``RLIMIT_NPROC`` counts the processes of a uid, not of a sandbox: so that sandboxes
running at once (two workers, or two graders on one machine) do not share one count, as
root without a cgroup each run drops to a uid of its own, drawn from an unallocated range
(:data:`RUN_UIDS`); inside a user namespace each sandbox's count is its own anyway.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

from lr_course.grading import cgroup, syscalls
from lr_course.grading import warm as warm_runs   # the module; ``warm`` is an argument
from lr_course.grading.sandbox_command import (args_by_fd, bwrap_command, environment,
                                               fd_holding, unisolated_command)
from lr_course.grading.sandbox_pump import ColdRun, how_it_ended, pump
from lr_course.grading.sandbox_tree import (CORE_PACKAGES, PLOT_PACKAGES, SANDBOX_ROOT,
                                            TREE_PREFIX, build_tree, layout, package_paths,
                                            remove_stale_trees)

__all__ = ["Limits", "SandboxResult", "Sandbox", "IsolationError", "bwrap_path",
           "REASONS", "SANDBOX_ROOT"]

# Every way a sandboxed run can end, as reported in SandboxResult.reason.
REASONS = ("ok", "timeout", "memory", "output", "crashed", "killed", "stopped")

# uids for the runs of a root grader without a cgroup: far above any account or the
# subordinate ranges of containers, one drawn per run
RUN_UIDS = range(0x50000000, 0x50000000 + (1 << 24))
# A run with a pids cgroup of its own runs as the shared uid (nobody), and RLIMIT_NPROC
# counts every process of a uid on the host, other students' runs included: at the run's
# own limit, one fork bomb would leave a run graded beside it unable to fork or start a
# thread. The cgroup's pids.max bounds each run; RLIMIT_NPROC is then only this backstop.
SHARED_UID_NPROC = 1 << 15



class IsolationError(RuntimeError):
    """Isolation was required but bubblewrap is missing or does not work."""


@dataclass
class Limits:
    """Resource limits of one sandboxed run (one student's submission)."""

    memory_bytes: int = 1 << 30        # RLIMIT_AS: 1 GiB of address space
    max_processes: int = 32            # RLIMIT_NPROC: threads and processes of the uid
    cpu_seconds: int = 60              # RLIMIT_CPU: SIGXCPU, then SIGKILL one second later
    wall_seconds: float = 120.0        # killed by the parent after this long
    file_bytes: int = 16 << 20         # RLIMIT_FSIZE: largest file it may write (in /tmp)
    tmp_bytes: int = 64 << 20          # size of the private /tmp
    shm_bytes: int = 16 << 20          # size of the private /dev/shm
    open_files: int = 256              # RLIMIT_NOFILE
    output_bytes: int = 2 << 20        # what it prints (stdout + stderr); more = flood
    result_bytes: int = 96 << 20       # the records channel (arrays base64-encoded)
    job_bytes: int = 64 << 20          # the job read by the runner from stdin

    def __post_init__(self):
        for name in ("memory_bytes", "max_processes", "cpu_seconds", "file_bytes",
                     "tmp_bytes", "shm_bytes", "open_files", "output_bytes", "result_bytes",
                     "job_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not self.wall_seconds > 0:
            raise ValueError(f"wall_seconds must be positive, got {self.wall_seconds!r}")


@dataclass
class SandboxResult:
    """How a sandboxed run ended and what it wrote."""

    reason: str                        # one of REASONS
    detail: str                        # a sentence for the instructor (and the student)
    returncode: int | None             # exit status (negative: killed by that signal)
    results: bytes                     # the runner's record channel (its stdout)
    output: str                        # what the student's code printed, truncated
    seconds: float                     # wall time
    isolated: bool                     # ran under bubblewrap


def bwrap_path() -> str | None:
    """The bubblewrap executable, or None (``LR_COURSE_BWRAP`` overrides the lookup)."""
    override = os.environ.get("LR_COURSE_BWRAP")
    if override is not None:
        return override if override and os.access(override, os.X_OK) else None
    return shutil.which("bwrap")


def _nproc(limits, group) -> int:
    """A run's RLIMIT_NPROC: its own limit, or the backstop when its cgroup bounds it."""
    return limits.max_processes if group is None else SHARED_UID_NPROC


class Sandbox:
    """Runs ``runner.py`` on a job under bubblewrap (or, loudly, without it).

    Args:
        limits: resource limits (:class:`Limits`).
        require_isolation: raise :class:`IsolationError` instead of running unisolated.
        plotting: also provide matplotlib and its dependencies.
        uid: the unprivileged uid (and gid) the code runs as.
        bwrap: path to bubblewrap; default from :func:`bwrap_path`. ``""`` forces the
            unisolated mode (tests use this to exercise it).
        submissions: the folder that holds the submissions this sandbox will run (a
            course's ``submitted/``, or one notebook's folder), or several such folders
            (a batch adds the source notebook's, for the solution's runs). Runs of a
            submission inside one, and runs without one, are warm
            (:mod:`~lr_course.grading.warm`); others are cold. Each folder has warm
            interpreters of its own, which see that folder only (the solution's are never
            those of a student's run). Without it, only runs without a submission are warm.
        warm: ``False`` makes every run cold (a fresh interpreter under bubblewrap).

    Use as a context manager (or call :meth:`close`) to remove the curated tree.

    >>> with Sandbox(bwrap="", warn=False) as box:
    ...     box.isolated
    False
    """

    def __init__(self, limits: Limits | None = None, require_isolation: bool = False,
                 plotting: bool = True, uid: int = 65534, bwrap: str | None = None,
                 warn: bool = True, submissions: str | os.PathLike | None = None,
                 warm: bool = True):
        self.limits = limits or Limits()
        self.uid = int(uid)
        self.bwrap = bwrap_path() if bwrap is None else (bwrap or None)
        self.is_root = os.geteuid() == 0
        problem = "not found" if self.bwrap is None else self._probe()
        self.isolated = not problem
        if not self.isolated:
            message = (f"bubblewrap (bwrap) {problem}: student code will run WITHOUT "
                       "isolation (it can read the course directory and the network); "
                       "install bubblewrap (and allow user namespaces) to grade safely")
            if require_isolation:
                raise IsolationError(message)
            if warn:  # the lr-course command shows it as one line on stderr
                warnings.warn(message, RuntimeWarning, stacklevel=2)
        self.seccomp, self.cgroup_parent, self.walls = None, None, {}
        if self.isolated:
            self._find_walls(require_isolation, warn)
        self.python = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
        self.base_prefix = os.path.realpath(sys.base_prefix)
        names = CORE_PACKAGES + (PLOT_PACKAGES if plotting else ())
        self.packages = package_paths(names)
        remove_stale_trees(Path(tempfile.gettempdir()))
        self._tree = Path(tempfile.mkdtemp(prefix=f"{TREE_PREFIX}{os.getpid()}_"))
        build_tree(self._tree, self.packages)
        self._live: set = set()           # running processes and warm runs, for stop()
        self._live_lock = threading.Lock()
        self._stopped = False
        if submissions is None:
            submissions = ()
        elif isinstance(submissions, (str, os.PathLike)):
            submissions = (submissions,)
        self.submissions = tuple(dict.fromkeys(Path(p).resolve() for p in submissions))
        # per folder: a pool of warm interpreters (the first folder's also serves runs
        # without a submission) and the folder of the links, one per run, to a submission
        self._pools, self._tokens = {}, {}
        for k, root in enumerate(self.submissions or (None,)):
            self._pools[root] = warm_runs.Pool(functools.partial(self._start_zygote, root),
                                               on=self.isolated and warm)
            self._tokens[root] = self._tree / f"tokens-{k}"
            self._tokens[root].mkdir(mode=0o755)
        if self.isolated:
            self.walls["warm"] = "on" if warm else "off (asked for cold runs)"

    def stop(self):
        """Kill every run in progress (its whole process group) and refuse new ones.

        For an interrupted batch (Ctrl-C): the worker threads' runs end at once with
        reason ``"stopped"`` instead of running to their wall-time limit.
        """
        with self._live_lock:
            self._stopped = True
            live = list(self._live)
        for run in live:
            run.kill()

    def _find_walls(self, require_isolation: bool, warn: bool):
        """The seccomp filter and the cgroup parent, and ``walls``: which hold, or why not."""
        try:
            self.seccomp = syscalls.build_filter()
            self.walls["seccomp"] = "on"
        except syscalls.FilterUnavailable as exc:
            message = (f"{exc}: nested namespaces, ptrace and memfd are NOT refused in the "
                       "sandbox")
            if require_isolation:
                raise IsolationError(message) from None
            if warn:
                warnings.warn(message, RuntimeWarning, stacklevel=3)
            self.walls["seccomp"] = f"off ({exc})"
        self.cgroup_parent, why = cgroup.find_parent()
        self.walls["cgroup"] = f"on ({cgroup.describe(self.cgroup_parent)})" \
            if self.cgroup_parent else \
            f"off ({why}): memory bounded by rlimits, tmpfs sizes and seccomp"

    def _probe(self) -> str:
        """'' if bwrap can make a sandbox here, else what went wrong (e.g. no user namespaces)."""
        flags = (["--unshare-pid", "--unshare-net"] if self.is_root else
                 ["--unshare-all", "--unshare-user", "--uid", str(self.uid), "--gid", str(self.uid)])
        try:
            proc = subprocess.run([self.bwrap, "--die-with-parent", *flags, "--ro-bind", "/", "/",
                                   "--", "/bin/true"], capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"cannot run ({type(exc).__name__})"
        if proc.returncode != 0:
            return "does not work here (" + proc.stderr.decode(errors="replace").strip()[:200] + ")"
        return ""

    def close(self):
        """End the warm interpreters and remove the curated tree."""
        for pool in getattr(self, "_pools", {}).values():
            pool.close()
        shutil.rmtree(self._tree, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    # -- the command (lr_course.grading.sandbox_command writes it) -----------------------

    def run_uid(self) -> int:
        """The uid a run drops to: :attr:`uid`, or as root without a cgroup, one of its own."""
        if self.is_root and self.isolated and self.cgroup_parent is None:
            return RUN_UIDS[secrets.randbelow(len(RUN_UIDS))]
        return self.uid

    def command(self, submission_dir: str | os.PathLike | None = None,
                seccomp_fd: int | None = None, uid: int | None = None,
                zygote_fds: tuple | None = None,
                warm_folder: Path | None = None, nproc: int | None = None) -> tuple[list, str]:
        """The argv that runs the runner, and the working directory (host side).

        ``seccomp_fd`` is a file descriptor holding the filter (:meth:`run` makes it);
        ``uid`` the one the runner drops to as root (default :attr:`uid`); ``nproc`` its
        RLIMIT_NPROC (default the limits' ``max_processes``; :meth:`run` gives
        :data:`SHARED_UID_NPROC` to a run in a cgroup of its own).
        ``zygote_fds`` = ``(control, seccomp)`` makes it the warm interpreter's argv
        instead (:mod:`~lr_course.grading.checks.zygote`): the same file system, with
        ``warm_folder`` (one of :attr:`submissions`) at ``/.submissions`` and an empty
        ``/submission`` (see :func:`~lr_course.grading.sandbox_command.bwrap_command`).
        """
        limits = self.limits if nproc is None else \
            replace(self.limits, max_processes=nproc)
        if not self.isolated:
            return unisolated_command(self.python, self._tree, limits, submission_dir)
        if getattr(self, "_layout_cache", None) is None:   # looked up once per Sandbox
            self._layout_cache = layout(self.python)
        return bwrap_command(
            self.bwrap, self.python, is_root=self.is_root, uid=self.uid, limits=limits,
            paths=self._layout_cache, tree=self._tree, packages=self.packages,
            submission_dir=submission_dir, seccomp_fd=seccomp_fd, run_uid=uid,
            zygote_fds=zygote_fds, warm_folder=warm_folder,
            warm_tokens=self._tokens[warm_folder] if warm_folder is not None else None)

    # -- running -----------------------------------------------------------------------

    def run(self, job: dict | bytes, submission_dir: str | os.PathLike | None = None) -> SandboxResult:
        """Run the runner on ``job`` (a dict, JSON-encoded here, or bytes) and collect.

        Never raises for anything the student's code does; the reason says how it ended.
        """
        data = job if isinstance(job, bytes) else json.dumps(job).encode()
        if self._stopped:
            return SandboxResult("stopped", "the grading was interrupted", None, b"", "", 0.0,
                                 self.isolated)
        lim = self.limits
        fds, group = [], None
        try:
            if self.isolated and self.cgroup_parent is not None:
                try:
                    group = cgroup.RunCgroup(self.cgroup_parent, lim.memory_bytes,
                                             lim.max_processes)
                except OSError as exc:   # the delegation went away: rlimits from now on
                    self.walls["cgroup"] = f"off (could not make one: {exc.strerror})"
                    self.cgroup_parent = None
            where = self._warm_place(submission_dir)
            if where is not False:
                result = self._run_warm(data, *where, group)
                if result is not None:
                    return result
            if self.isolated and self.seccomp is not None:
                fds.append(fd_holding(self.seccomp))
            cmd, cwd = self.command(submission_dir, fds[0] if fds else None, self.run_uid(),
                                    nproc=_nproc(lim, group))
            if self.isolated:   # options by fd: /proc/1/cmdline shows no host path
                cmd = args_by_fd(cmd, fds)
            if group is not None:
                # the shell joins the cgroup, then becomes bwrap: nothing runs outside it
                cmd = group.wrap(cmd)
            return self._run(cmd, cwd, data, fds, group)
        finally:
            for fd in fds:
                os.close(fd)
            if group is not None:
                group.remove()

    # -- warm runs ---------------------------------------------------------------------

    def _warm_place(self, submission_dir):
        """``(root, where)`` for a warm run: the folder of :attr:`submissions` that holds
        the submission (whose warm interpreters make the run) and the submission's place
        in it (None for no submission: the first folder's); or False for a cold run."""
        if submission_dir is None:
            root, where = next(iter(self._pools)), None
        else:
            try:
                folder = Path(submission_dir).resolve()
            except OSError:
                return False
            for root in self.submissions:
                if folder.is_relative_to(root):
                    where = folder.relative_to(root).as_posix()
                    break
            else:
                return False
        return (root, where) if self._pools[root].off is None else False

    @property
    def warm_interpreters(self) -> list:
        """Every live warm interpreter, of every folder (idle or serving a run)."""
        return [z for pool in self._pools.values() for z in pool.started]

    def _start_zygote(self, root):
        """A new warm interpreter (for :class:`~lr_course.grading.warm.Pool`)."""
        if self._stopped:
            raise warm_runs.WarmUnavailable("the grading was interrupted")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        fds = [theirs.fileno()]
        if self.seccomp is not None:
            fds.append(fd_holding(self.seccomp))
        try:
            cmd, cwd = self.command(zygote_fds=(fds[0], fds[1] if len(fds) > 1 else None),
                                    warm_folder=root)
            return warm_runs.Zygote(args_by_fd(cmd, fds), environment(self.isolated), cwd,
                                    ours, fds)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
            for fd in fds[1:]:
                os.close(fd)

    def _run_warm(self, data, root, where, group) -> SandboxResult | None:
        """One run forked by a warm interpreter; None when it could not be made (then
        warm runs are off and the caller runs it cold: no code of the job was read)."""
        lim = self.limits
        request = {"memory": lim.memory_bytes, "nproc": _nproc(lim, group),
                   "cpu": lim.cpu_seconds, "fsize": lim.file_bytes, "nofile": lim.open_files,
                   "job_bytes": lim.job_bytes, "uid": self.run_uid(), "submission": where,
                   "tmp_bytes": lim.tmp_bytes, "shm_bytes": lim.shm_bytes}
        start = time.monotonic()
        pool, link = self._pools[root], None
        if where is not None:
            request["submission"] = secrets.token_hex(16)
            link = self._tokens[root] / request["submission"]
            link.symlink_to(f"{warm_runs.SUBMISSIONS}/{where}")
        try:
            made = pool.spawn(request, join=group.join if group is not None else None)
        finally:
            if link is not None:   # the run has bound it (or failed): not needed any more
                link.unlink()
        if made is None:
            self.walls["warm"] = f"off ({pool.off})"
            return None
        zygote, run = made
        try:
            return self._supervise(run, data, group, start)
        finally:
            run.close()
            pool.release(zygote)

    # -- cold runs ---------------------------------------------------------------------

    def _run(self, cmd, cwd, data, fds, group) -> SandboxResult:
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=cwd, env=environment(self.isolated),
                                start_new_session=True, close_fds=True, pass_fds=fds)
        run = ColdRun(proc)
        try:
            return self._supervise(run, data, group, start)
        finally:
            run.close()

    def _supervise(self, run, data, group, start) -> SandboxResult:
        """Feed ``run`` its job and collect what it writes, within the limits; then kill
        what is left of it and say how it ended. ``run`` is a :class:`~.sandbox_pump.ColdRun` or a
        :class:`~lr_course.grading.warm.WarmRun`."""
        with self._live_lock:
            self._live.add(run)
            stopped = self._stopped
        if stopped:   # stop() ran between the check in run() and here
            run.kill()
        killed_for = "timeout"
        stdin, run.stdin = run.stdin, None
        try:
            results, output, killed_for = pump(
                stdin, run.stdout, run.stderr, data, start + self.limits.wall_seconds,
                run.finished, self.limits)
        finally:
            if killed_for is not None:
                run.kill()
            returncode = run.wait()
            with self._live_lock:
                self._live.discard(run)
            if group is not None:
                group.kill()   # whatever left the session dies too
        if group is not None and killed_for is None and group.oom_killed():
            killed_for = "oom"
        reason, detail = how_it_ended(returncode, killed_for, results, output, self.limits,
                                      self.isolated)
        return SandboxResult(reason, detail, returncode, results, output[-20000:],
                             time.monotonic() - start, self.isolated)
