"""The command lines of a sandboxed run: bubblewrap's argv, the runner's, the environment.

Plain functions of what they need, so that :class:`~lr_course.grading.sandbox.Sandbox`
decides *when* to run what and this module only says *how* the command reads:

* :func:`bwrap_command`: bubblewrap's options (namespaces, the uid or capabilities, the
  seccomp descriptor, every read-only bind at its exact path, the size-limited tmpfs
  ``/tmp`` and ``/dev/shm``, a private ``/proc``, a read-only root), then the runner, or
  the warm interpreter (:mod:`~lr_course.grading.checks.zygote`) with its descriptors.
* :func:`unisolated_command`: the runner alone, for a machine without bubblewrap.
* :func:`runner_args`: the runner's own options (its rlimits and import path).
* :func:`environment`: the clean environment every run gets.
* :func:`args_by_fd` and :func:`fd_holding`: bubblewrap's options passed in an anonymous
  file, so that ``/proc/1/cmdline`` inside names no host path.

The host paths come from :func:`~lr_course.grading.sandbox_tree.layout` and
:func:`~lr_course.grading.sandbox_tree.package_paths`; the paths inside from
:data:`~lr_course.grading.sandbox_tree.SANDBOX_ROOT` and the warm interpreter's constants.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from lr_course.grading.checks.zygote import SUBMISSIONS, TOKENS
from lr_course.grading.sandbox_tree import SANDBOX_ROOT

__all__ = ["args_by_fd", "bwrap_command", "environment", "fd_holding", "python_argv",
           "runner_args", "unisolated_command"]


def python_argv(python: str) -> list[str]:
    """The interpreter, isolated from the environment and the user's site, writing no .pyc.

    >>> python_argv("/usr/bin/python3")
    ['/usr/bin/python3', '-I', '-S', '-B']
    """
    return [python, "-I", "-S", "-B"]


def runner_args(root: str, site_paths: list[str], limits) -> list[str]:
    """The runner's script and options: its rlimits from ``limits`` (a
    :class:`~lr_course.grading.sandbox.Limits`) and its import path (``root``'s ``lib``
    first, then ``site_paths``)."""
    args = [f"{root}/lib/lr_course/grading/checks/runner.py",
            "--memory", str(limits.memory_bytes), "--nproc", str(limits.max_processes),
            "--cpu", str(limits.cpu_seconds), "--fsize", str(limits.file_bytes),
            "--nofile", str(limits.open_files),
            "--job-bytes", str(limits.job_bytes)]
    for path in [f"{root}/lib"] + site_paths:
        args += ["--path", path]
    return args


def unisolated_command(python: str, tree: Path, limits,
                       submission_dir: str | os.PathLike | None) -> tuple[list, str]:
    """The runner's argv and working directory without bubblewrap (NOT isolated).

    It reads the curated ``tree`` where it lies; with no namespace to die with, the runner
    asks for SIGKILL when the grader dies (``--pdeathsig``)."""
    argv = python_argv(python) + runner_args(str(tree), [str(tree / "site")], limits) + \
        ["--pdeathsig"]
    return argv, str(submission_dir) if submission_dir else tempfile.gettempdir()


def bwrap_command(bwrap: str, python: str, *, is_root: bool, uid: int, limits, paths: dict,
                  tree: Path, packages: list, submission_dir: str | os.PathLike | None = None,
                  seccomp_fd: int | None = None, run_uid: int | None = None,
                  zygote_fds: tuple | None = None, warm_folder: Path | None = None,
                  warm_tokens: Path | None = None) -> tuple[list, str]:
    """Bubblewrap's argv that runs the runner (or the warm interpreter), and its host cwd.

    Args:
        bwrap: the bubblewrap executable.
        python: the interpreter (its real path; bound where it lies).
        is_root: the grader runs as root: bwrap runs privileged, with no user namespace,
            and keeps CAP_SETUID/CAP_SETGID for the runner to drop to ``run_uid`` itself;
            otherwise bwrap maps ``uid`` in a user namespace of its own.
        uid: the unprivileged uid (and gid) of a user-namespace sandbox.
        limits: a :class:`~lr_course.grading.sandbox.Limits` (tmpfs sizes, runner rlimits).
        paths: :func:`~lr_course.grading.sandbox_tree.layout` of ``python``.
        tree: the curated tree (its ``lib`` is bound at ``SANDBOX_ROOT/lib``).
        packages: the installed packages' folders, bound under ``SANDBOX_ROOT/site``.
        submission_dir: bound read-only at ``/submission`` and the cwd (a cold run).
        seccomp_fd: a descriptor holding the seccomp filter bwrap installs (a cold run).
        run_uid: as root, the uid the runner drops to (default ``uid``).
        zygote_fds: ``(control, seccomp)``: the warm interpreter's argv instead, with an
            empty ``/submission``, ``warm_folder`` at ``SUBMISSIONS`` and ``warm_tokens``
            at ``TOKENS``; no seccomp filter and CAP_SYS_ADMIN/CAP_NET_ADMIN, because it
            builds each run's namespaces itself (each run installs the filter and drops
            them before reading its job).
        warm_folder, warm_tokens: see ``zygote_fds``.

    Returns:
        ``(argv, cwd)``: the argv, ``--`` between bwrap's options and the program, and
        the host directory to start it in (the tree).
    """
    # A cold run dies with the thread that started it (bwrap's PR_SET_PDEATHSIG is a
    # thread's); a warm interpreter serves every thread and ends when its control
    # socket closes instead, which the kernel does when the grader exits.
    cmd = [bwrap] + ([] if zygote_fds is not None else ["--die-with-parent"]) + \
        ["--new-session", "--unshare-ipc", "--unshare-pid", "--unshare-net",
         "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox"]
    if is_root:
        # Privileged bwrap, no user namespace: the runner drops to the uid itself, so
        # that RLIMIT_NPROC applies (see the docstring of lr_course.grading.sandbox).
        cmd += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        cmd += ["--unshare-user", "--uid", str(uid), "--gid", str(uid)]
    if zygote_fds is not None:
        cmd += ["--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_NET_ADMIN"]
    elif seccomp_fd is not None:
        cmd += ["--seccomp", str(seccomp_fd)]
    made = {"/"}

    def parents(target):
        # bwrap would make missing parents 0700 (root's only): make them 0755 first
        for parent in reversed(Path(target).parents):
            if str(parent) not in made:
                made.add(str(parent))
                cmd.extend(["--perms", "0755", "--dir", str(parent)])

    def bind(path, target=None):
        target = target or path
        parents(target)
        made.add(str(target))
        cmd.extend(["--ro-bind", str(path), str(target)])

    for name in ("lib", "lib64", "lib32", "libx32"):   # merged /usr: /lib -> usr/lib
        path = Path("/") / name
        if path.is_symlink():
            cmd += ["--symlink", os.readlink(path), f"/{name}"]
            made.add(f"/{name}")
    for path, hidden in paths["libraries"]:
        bind(path)
        for folder in hidden:   # e.g. /usr/lib64/python3.11 on Fedora
            cmd += ["--tmpfs", folder]
    for path in paths["etc"] + paths["runtime"]:
        bind(path)
    for folder in paths["hidden"]:   # the stdlib's site-packages could hold anything
        cmd += ["--tmpfs", folder]
    cmd += ["--proc", "/proc", "--dev", "/dev",
            "--perms", "1777", "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp",
            "--perms", "1777", "--size", str(limits.shm_bytes), "--tmpfs", "/dev/shm"]
    made.update(("/proc", "/dev", "/tmp"))
    root = SANDBOX_ROOT
    bind(tree / "lib", f"{root}/lib")
    site_paths = []
    for path in packages:
        bind(path, f"{root}/site/{path.name}")
    if packages:
        site_paths.append(f"{root}/site")
    if zygote_fds is not None:
        cmd += ["--perms", "0755", "--dir", "/submission"]
        if warm_folder is not None:
            bind(warm_folder, SUBMISSIONS)
            bind(warm_tokens, TOKENS)
        cmd += ["--chdir", "/tmp"]
    elif submission_dir is not None:
        bind(Path(submission_dir).resolve(), "/submission")
        cmd += ["--chdir", "/submission"]
    else:
        cmd += ["--chdir", "/tmp"]
    cmd += ["--setenv", "HOME", "/tmp", "--remount-ro", "/dev", "--remount-ro", "/"]
    if zygote_fds is not None:
        control, seccomp = zygote_fds
        program = [f"{root}/lib/lr_course/grading/checks/zygote.py", "--control", str(control)]
        if seccomp is not None:
            program += ["--seccomp", str(seccomp)]
        for path in [f"{root}/lib"] + site_paths:
            program += ["--path", path]
        return cmd + ["--"] + python_argv(python) + program, str(tree)
    runner = runner_args(root, site_paths, limits)
    if is_root:
        runner += ["--uid", str(uid if run_uid is None else run_uid)]
    return cmd + ["--"] + python_argv(python) + runner, str(tree)


def environment(isolated: bool) -> dict:
    """The whole environment of a run: nothing of the grader's (tokens, paths) leaks in.

    One BLAS thread, matplotlib's Agg backend, ``/tmp`` as home and scratch (the host's
    temporary folder when not ``isolated``).

    >>> environment(True)["TMPDIR"], "PYTHONPATH" in environment(True)
    ('/tmp', False)
    """
    return {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/mpl",
            "TMPDIR": "/tmp" if isolated else tempfile.gettempdir()}


def fd_holding(data: bytes) -> int:
    """A file descriptor, at offset 0, of an anonymous file holding ``data`` (for bwrap).

    The caller closes it.

    >>> fd = fd_holding(b"--new-session")
    >>> os.read(fd, 100)
    b'--new-session'
    >>> os.close(fd)
    """
    fd = os.memfd_create("lr_course_bwrap") if hasattr(os, "memfd_create") else \
        os.open(tempfile.gettempdir(), os.O_TMPFILE | os.O_RDWR, 0o600)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def args_by_fd(cmd: list, fds: list) -> list:
    """``cmd`` with bwrap's options moved into an anonymous file (its descriptor is
    appended to ``fds``, which the caller passes to bwrap and closes): ``bwrap --args N``.
    """
    split = cmd.index("--")
    fds.append(fd_holding(b"".join(a.encode() + b"\0" for a in cmd[1:split])))
    return [cmd[0], "--args", str(fds[-1])] + cmd[split:]
