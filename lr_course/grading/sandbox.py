"""Run the grading runner on a student's code under bubblewrap, with limits.

The sandbox is a fresh set of Linux namespaces (mount, pid, network, ipc, uts) whose file
system holds only what a student's answer may use: the system libraries and the Python
standard library read-only, numpy (and matplotlib, so that plotting cells still run), a
curated copy of the course modules the applied parts need (``lr_course.problems`` with the
surfaces it re-exports, ``lr_course.models`` and the dataset), the runner and the check API
(``spec.py`` and its ``codec.py``), a private ``/tmp`` and the submission's own directory
read-only. The rest of ``lr_course`` (schedules, optimizers, search, finder, grading and its
reference solutions), the course directory, the gradebook and other students' work are simply not
there. There is no network (only a loopback device in a new network namespace) and the
code runs as an unprivileged uid.

Limits, enforced by the runner with ``setrlimit`` before any student code runs: address
space (memory), process count, CPU seconds, file size, no core dumps. Wall time and output
size are enforced here, by the parent: past either, the whole process group is killed.

Where bubblewrap is missing the runner still runs in a subprocess with the same limits,
but NOT isolated: :class:`Sandbox` warns loudly, and ``require_isolation=True`` makes it an
error instead.

Root and non-root differ in one detail. ``RLIMIT_NPROC`` is not enforced for processes
whose real uid is root outside every user namespace, and a user namespace created by root
maps the sandbox's uid back to root. So as root, bwrap runs privileged without a user
namespace and the runner switches to the unprivileged uid itself (bwrap keeps only
CAP_SETUID/CAP_SETGID for that, and the switch drops them); as an ordinary user, bwrap
makes a user namespace (``--unshare-user --uid 65534``) and no privilege is involved.
"""

from __future__ import annotations

import importlib.util
import json
import os
import py_compile
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Limits", "SandboxResult", "Sandbox", "IsolationError", "bwrap_path",
           "REASONS", "SANDBOX_ROOT"]

# Every way a sandboxed run can end, as reported in SandboxResult.reason.
REASONS = ("ok", "timeout", "memory", "output", "crashed", "killed")

SANDBOX_ROOT = "/sandbox"          # where the curated tree is mounted inside
_PKG_DIR = Path(__file__).resolve().parent.parent   # lr_course/
# Course modules a student's code (and spec's "train" kind) may import inside.
COURSE_MODULES = ("problems.py", "surfaces.py", "_points.py", "_checks.py", "models.py", "data")
# Installed packages the sandbox provides: numpy always; matplotlib and its dependencies
# so that an honest plotting cell does not fail (with the Agg backend, nothing displayed).
CORE_PACKAGES = ("numpy",)
PLOT_PACKAGES = ("matplotlib", "mpl_toolkits", "PIL", "contourpy", "cycler", "dateutil",
                 "fontTools", "kiwisolver", "packaging", "pyparsing", "six")
# Files under /etc the dynamic loader and Python want; nothing else of /etc is visible.
_ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf")


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
    output_bytes: int = 2 << 20        # what it prints (stdout + stderr); more = flood
    result_bytes: int = 96 << 20       # the records channel (arrays base64-encoded)
    job_bytes: int = 64 << 20          # the job read by the runner from stdin

    def __post_init__(self):
        for name in ("memory_bytes", "max_processes", "cpu_seconds", "file_bytes",
                     "tmp_bytes", "output_bytes", "result_bytes", "job_bytes"):
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


def _package_paths(names) -> list[Path]:
    """Files/dirs to expose for top-level packages ``names`` (missing ones are skipped)."""
    paths = []
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        if spec.submodule_search_locations:
            paths.extend(Path(p) for p in spec.submodule_search_locations)
        elif spec.origin:
            paths.append(Path(spec.origin))
        if name == "numpy":  # manylinux wheels keep their shared libraries beside
            libs = Path(spec.submodule_search_locations[0]).parent / "numpy.libs"
            if libs.is_dir():
                paths.append(libs)
    # a namespace package may have several locations; keep each once
    return list(dict.fromkeys(p.resolve() for p in paths))


class Sandbox:
    """Runs ``runner.py`` on a job under bubblewrap (or, loudly, without it).

    Args:
        limits: resource limits (:class:`Limits`).
        require_isolation: raise :class:`IsolationError` instead of running unisolated.
        plotting: also provide matplotlib and its dependencies.
        uid: the unprivileged uid (and gid) the code runs as.
        bwrap: path to bubblewrap; default from :func:`bwrap_path`. ``""`` forces the
            unisolated mode (tests use this to exercise it).

    Use as a context manager (or call :meth:`close`) to remove the curated tree.

    >>> with Sandbox(bwrap="", warn=False) as box:
    ...     box.isolated
    False
    """

    def __init__(self, limits: Limits | None = None, require_isolation: bool = False,
                 plotting: bool = True, uid: int = 65534, bwrap: str | None = None,
                 warn: bool = True):
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
        self.python = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
        self.base_prefix = os.path.realpath(sys.base_prefix)
        names = CORE_PACKAGES + (PLOT_PACKAGES if plotting else ())
        self.packages = _package_paths(names)
        self._tree = Path(tempfile.mkdtemp(prefix="lr_course_sandbox_"))
        self._build_tree()

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

    # -- the curated tree --------------------------------------------------------------

    def _build_tree(self):
        """Copy the runner, spec and the allowed course modules into a private tree."""
        tree = self._tree
        os.chmod(tree, 0o755)
        lib = tree / "lib" / "lr_course"
        lib.mkdir(parents=True)
        (lib / "__init__.py").write_text(
            '"""The parts of lr_course available to graded code."""\n')
        for name in COURSE_MODULES:
            src = _PKG_DIR / name
            if src.is_dir():
                shutil.copytree(src, lib / name, ignore=shutil.ignore_patterns("__pycache__"))
            elif src.is_file():
                shutil.copy2(src, lib / name)
        engine = tree / "engine"
        engine.mkdir()
        here = Path(__file__).resolve().parent
        for name in ("runner.py", "codec.py", "spec.py", "flags.py"):
            shutil.copy2(here / name, engine / name)
        site = tree / "site"   # unisolated mode: symlinks to the allowed packages
        site.mkdir()
        for path in self.packages:
            (site / path.name).symlink_to(path)
        for py in list(lib.rglob("*.py")) + list(engine.glob("*.py")):
            try:  # bytecode up front: the sandbox's file system is read-only
                py_compile.compile(str(py), doraise=True,
                                   invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
            except py_compile.PyCompileError:
                pass
        for path in tree.rglob("*"):
            if not path.is_symlink():
                os.chmod(path, 0o755 if path.is_dir() else 0o644)

    def close(self):
        """Remove the curated tree."""
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

    # -- the command -------------------------------------------------------------------

    def _runner_args(self, root: str, site_paths: list[str]) -> list[str]:
        lim = self.limits
        args = [f"{root}/engine/runner.py",
                "--codec", f"{root}/engine/codec.py", "--spec", f"{root}/engine/spec.py",
                "--flags", f"{root}/engine/flags.py",
                "--memory", str(lim.memory_bytes), "--nproc", str(lim.max_processes),
                "--cpu", str(lim.cpu_seconds), "--fsize", str(lim.file_bytes),
                "--job-bytes", str(lim.job_bytes)]
        for path in [f"{root}/lib"] + site_paths:
            args += ["--path", path]
        return args

    def command(self, submission_dir: str | os.PathLike | None = None) -> tuple[list, str]:
        """The argv that runs the runner, and the working directory (host side)."""
        python = [self.python, "-I", "-S", "-B"]
        if not self.isolated:
            # No namespaces to die with: the runner asks for SIGKILL when we die.
            runner = self._runner_args(str(self._tree), [str(self._tree / "site")])
            runner += ["--pdeathsig"]
            cwd = str(submission_dir) if submission_dir else tempfile.gettempdir()
            return python + runner, cwd
        cmd = [self.bwrap, "--die-with-parent", "--new-session",
               "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
               "--unshare-cgroup-try", "--hostname", "sandbox"]
        if self.is_root:
            # Privileged bwrap, no user namespace: the runner drops to self.uid itself,
            # so that RLIMIT_NPROC applies (see the module docstring).
            cmd += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        else:
            cmd += ["--unshare-user", "--uid", str(self.uid), "--gid", str(self.uid)]
        cmd += ["--ro-bind", "/usr", "/usr"]
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            path = Path("/") / name
            if path.is_symlink():
                cmd += ["--symlink", os.readlink(path), f"/{name}"]
            elif path.is_dir():
                cmd += ["--ro-bind", str(path), f"/{name}"]
        for name in _ETC_FILES:
            if os.path.exists(f"/etc/{name}"):
                cmd += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
        base = self.base_prefix
        for parent in reversed(Path(base).parents[:-1]):   # e.g. /root, /root/.pyenv
            if str(parent) not in ("/usr", "/lib", "/lib64", "/bin"):
                cmd += ["--perms", "0755", "--dir", str(parent)]
        cmd += ["--ro-bind", base, base]
        # The base interpreter's own site-packages could hold anything: hide it.
        stdlib_site = Path(base) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
        if stdlib_site.is_dir():
            cmd += ["--tmpfs", str(stdlib_site)]
        if not self.python.startswith(base + os.sep):
            cmd += ["--ro-bind", self.python, self.python]
        cmd += ["--proc", "/proc", "--dev", "/dev",
                "--perms", "1777", "--size", str(self.limits.tmp_bytes), "--tmpfs", "/tmp"]
        root = SANDBOX_ROOT
        for path in (root, f"{root}/site"):   # bwrap would make them 0700: root's only
            cmd += ["--perms", "0755", "--dir", path]
        cmd += ["--ro-bind", str(self._tree / "lib"), f"{root}/lib",
                "--ro-bind", str(self._tree / "engine"), f"{root}/engine"]
        site_paths = []
        for path in self.packages:
            cmd += ["--ro-bind", str(path), f"{root}/site/{path.name}"]
        if self.packages:
            site_paths.append(f"{root}/site")
        if submission_dir is not None:
            cmd += ["--ro-bind", str(Path(submission_dir).resolve()), "/submission",
                    "--chdir", "/submission"]
        else:
            cmd += ["--chdir", "/tmp"]
        cmd += ["--setenv", "HOME", "/tmp"]
        runner = self._runner_args(root, site_paths)
        if self.is_root:
            runner += ["--uid", str(self.uid)]
        return cmd + ["--"] + python + runner, str(self._tree)

    def _env(self) -> dict:
        # A clean environment: nothing of the grader's (tokens, paths) leaks in.
        return {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8",
                "LC_ALL": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/mpl",
                "TMPDIR": "/tmp" if self.isolated else tempfile.gettempdir()}

    # -- running -----------------------------------------------------------------------

    def run(self, job: dict | bytes, submission_dir: str | os.PathLike | None = None) -> SandboxResult:
        """Run the runner on ``job`` (a dict, JSON-encoded here, or bytes) and collect.

        Never raises for anything the student's code does; the reason says how it ended.
        """
        data = job if isinstance(job, bytes) else json.dumps(job).encode()
        cmd, cwd = self.command(submission_dir)
        lim = self.limits
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=cwd, env=self._env(),
                                start_new_session=True, close_fds=True)
        killed_for = None
        chunks = {"out": [], "err": []}
        sizes = {"out": 0, "err": 0}
        caps = {"out": lim.result_bytes, "err": lim.output_bytes}
        sel = selectors.DefaultSelector()
        os.set_blocking(proc.stdin.fileno(), False)
        pending = memoryview(data)
        sel.register(proc.stdin, selectors.EVENT_WRITE, "in")
        sel.register(proc.stdout, selectors.EVENT_READ, "out")
        sel.register(proc.stderr, selectors.EVENT_READ, "err")
        deadline = start + lim.wall_seconds
        try:
            while sel.get_map():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    killed_for = "timeout"
                    break
                for key, _ in sel.select(timeout=min(remaining, 1.0)):
                    name = key.data
                    if name == "in":
                        try:
                            written = os.write(key.fd, pending[:65536])
                        except (BrokenPipeError, BlockingIOError, OSError):
                            written = len(pending)
                        pending = pending[written:]
                        if not pending:
                            sel.unregister(key.fileobj)
                            key.fileobj.close()
                        continue
                    chunk = os.read(key.fd, 65536)
                    if not chunk:
                        sel.unregister(key.fileobj)
                        continue
                    sizes[name] += len(chunk)
                    if sizes[name] > caps[name]:
                        killed_for = "output"
                        break
                    chunks[name].append(chunk)
                if killed_for:
                    break
            if killed_for is None:
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    killed_for = "timeout"
        finally:
            if killed_for is not None or proc.poll() is None:
                self._kill(proc)
            sel.close()
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                try:
                    stream.close()
                except OSError:
                    pass
        seconds = time.monotonic() - start
        results = b"".join(chunks["out"])
        output = b"".join(chunks["err"]).decode("utf-8", "replace")
        reason, detail = self._reason(proc.returncode, killed_for, results, output)
        return SandboxResult(reason, detail, proc.returncode, results,
                             output[-20000:], seconds, self.isolated)

    @staticmethod
    def _kill(proc):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.kill()
        except ProcessLookupError:
            pass
        proc.wait()

    def _reason(self, returncode, killed_for, results, output) -> tuple[str, str]:
        lim = self.limits
        if killed_for == "timeout":
            return "timeout", f"stopped after the wall-time limit of {lim.wall_seconds:g} s"
        if killed_for == "output":
            return "output", (f"stopped: printed more than {lim.output_bytes} bytes "
                              f"(or wrote more than {lim.result_bytes} bytes of results)")
        finished = results.rstrip().endswith(b'"end": true}')
        memory = "MemoryError" in output[-4000:] or b"MemoryError" in results[-200000:]
        if returncode == 0 and finished:
            if memory:
                return "memory", "a MemoryError was raised (memory limit " \
                                 f"{lim.memory_bytes >> 20} MiB); the run went on"
            return "ok", "finished"
        sig = None
        if returncode is not None and returncode < 0:
            sig = -returncode
        elif self.isolated and returncode is not None and 128 < returncode < 128 + 65:
            sig = returncode - 128   # bwrap reports a signalled child as 128 + signal
        if sig is not None:
            if sig == signal.SIGXCPU:
                return "timeout", f"stopped after the CPU-time limit of {lim.cpu_seconds} s"
            if memory or sig in (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS):
                return "memory", (f"crashed with signal {signal.Signals(sig).name}, most likely "
                                  f"out of memory (limit {lim.memory_bytes >> 20} MiB)")
            return "killed", (f"killed by signal {signal.Signals(sig).name} (the CPU-time "
                              "hard limit, or the system)")
        if memory:
            return "memory", f"ran out of memory (limit {lim.memory_bytes >> 20} MiB)"
        return "crashed", (f"the process exited with status {returncode} before finishing "
                           "(sys.exit or os._exit in the submission?)")
