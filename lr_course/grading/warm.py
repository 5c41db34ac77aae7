"""Warm sandboxed runs: the grader's side of :mod:`~lr_course.grading.checks.zygote`.

A :class:`Zygote` is one bubblewrap sandbox, started like a cold run's, in which one
interpreter has imported numpy and the check library and forks a fresh process per run.
:class:`Pool` keeps a sandbox's few (one per run at a time,
so that two runs never share a user namespace or a process count) and falls back to cold
runs, for good, the first time one cannot make a run's walls (:class:`WarmUnavailable`):
that is found before any code of a job is read, so the run is simply made cold instead.

A run's handshake, on a ``SOCK_SEQPACKET`` socket pair whose grader end has
``SO_PASSCRED`` (the kernel then stamps every message with its sender's pid, translated
into the grader's pid namespace):

1. the grader sends the request and the run's four descriptors on the zygote's channel;
2. the run's first process says ``ready``; its pid, as the grader sees it, is taken from
   the kernel's stamp (never from the message) and held as a pidfd;
3. the grader moves that process into the run's cgroup, if there is one, and says ``go``;
4. the runner says ``started`` once its walls are up (or ``error ...`` and ends), and
   closes its end;
5. at the end the run's pid 1, which runs no code of the job, says ``exit N`` (the
   runner's wait status); if it is killed instead, the socket just closes.

Anything else on the socket, a message from another pid, or silence past a deadline ends
the run (or the warm mode) and never raises from :meth:`Zygote.spawn`'s callers' point of
view beyond :class:`WarmUnavailable`.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

from lr_course.grading.checks.zygote import REQUEST_KEYS, SUBMISSIONS, TOKENS

__all__ = ["Pool", "Zygote", "WarmRun", "WarmUnavailable", "REQUEST_KEYS", "SUBMISSIONS",
           "TOKENS"]

START_SECONDS = 60.0     # the zygote's imports, on a loaded machine
HANDSHAKE_SECONDS = 30.0
EXIT_SECONDS = 10.0      # after the run's output closed, for the middle process's report
_UCRED = struct.Struct("iII")


class WarmUnavailable(RuntimeError):
    """The warm mode cannot make a run here (found before any job was read)."""


def _recv(sock: socket.socket, deadline: float) -> tuple[bytes, int | None]:
    """One message and its sender's pid (from ``SCM_CREDENTIALS``); ``b""`` at EOF."""
    remaining = deadline - time.monotonic()
    if remaining <= 0 or not select.select([sock], [], [], remaining)[0]:
        raise TimeoutError("no answer from the sandbox")
    data, ancillary, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(_UCRED.size))
    pid = None
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS \
                and len(payload) >= _UCRED.size:
            pid = _UCRED.unpack(payload[:_UCRED.size])[0]
    return data, pid


class WarmRun:
    """One run forked by a zygote: its pipes, its pidfd, and how it ended."""

    def __init__(self, stdin: int, stdout: int, stderr: int, sock: socket.socket,
                 pid: int, pidfd: int):
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.sock, self.pid, self.pidfd = sock, pid, pidfd
        self.returncode: int | None = None

    def finished(self, seconds: float) -> bool:
        """Whether the run's exit was reported within ``seconds``."""
        return self.wait(seconds) is not None

    def kill(self):
        """SIGKILL the run's first process: its pid namespace, every process in it, dies."""
        if self.pidfd is not None:
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            except (ProcessLookupError, OSError):
                pass

    def wait(self, seconds: float = EXIT_SECONDS) -> int | None:
        """The run's exit code (negative: killed by that signal), or None if unreported."""
        deadline = time.monotonic() + seconds
        while self.returncode is None:
            try:
                data, sender = _recv(self.sock, deadline)
            except (TimeoutError, OSError):
                self.kill()
                break
            if not data:
                break
            text = data.decode("ascii", "replace")
            if sender != self.pid or not text.startswith("exit "):
                continue    # not the report of the run's pid 1: ignored
            try:
                self.returncode = os.waitstatus_to_exitcode(int(text[5:]))
            except ValueError:
                break
        return self.returncode

    def close(self):
        for fd in (self.stdin, self.stdout, self.stderr, self.pidfd):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.stdin = self.stdout = self.stderr = self.pidfd = None
        self.sock.close()


class Zygote:
    """A warm interpreter in its own bubblewrap sandbox (see the module doc).

    Args:
        command: the argv that starts ``zygote.py`` (``Sandbox.zygote_command``); it must
            name ``control_fd`` as ``--control``, ``pass_fds`` the descriptors it uses.
        env, cwd: its environment and working directory.
        control: the grader's end of the control socket pair.
        pass_fds: descriptors the command reads (its control end, seccomp, bwrap args).
        wrap: a function that wraps the command (a cgroup's), or None.
    """

    def __init__(self, command, env, cwd, control: socket.socket, pass_fds):
        self.control = control
        self._log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self._log, env=env,
                                     cwd=cwd, start_new_session=True, close_fds=True,
                                     pass_fds=pass_fds)
        self.lock = threading.Lock()
        try:
            data, _ = _recv(control, time.monotonic() + START_SECONDS)
        except (TimeoutError, OSError):
            data = b""
        if data != b"ready":
            self.close()
            raise WarmUnavailable(f"the warm interpreter did not start ({self.log()})")

    def log(self) -> str:
        """What the zygote wrote on stderr (for a failure's message)."""
        try:
            self._log.seek(0)
            return self._log.read(2000).decode("utf-8", "replace").strip() or "no message"
        except (OSError, ValueError):
            return "no message"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def spawn(self, request: dict, join=None) -> WarmRun:
        """Fork one run with ``request`` (zygote.REQUEST_KEYS); ``join(pid)`` moves its first
        process into the run's cgroup before it may start.

        Raises:
            WarmUnavailable: the run could not be made (nothing of the job was read).
        """
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        run = None
        try:
            with self.lock:
                socket.send_fds(self.control, [json.dumps(request).encode()],
                                [in_r, out_w, err_w, theirs.fileno()])
            for fd in (in_r, out_w, err_w):
                os.close(fd)
            in_r = out_w = err_w = None
            theirs.close()
            deadline = time.monotonic() + HANDSHAKE_SECONDS
            data, pid = _recv(ours, deadline)
            if data != b"ready" or not pid or pid <= 0:
                raise WarmUnavailable(_said(data, "ready"))
            run = WarmRun(in_w, out_r, err_r, ours, pid, os.pidfd_open(pid))
            if join is not None:
                join(pid)
            ours.send(b"go")
            data, sender = _recv(ours, deadline)
            if data != b"started" or not sender or sender == pid:
                raise WarmUnavailable(_said(data, "started"))
            return run
        except (OSError, TimeoutError) as exc:
            failure = WarmUnavailable(f"the warm sandbox failed: {exc}")
        except WarmUnavailable as exc:
            failure = exc
        for fd in (in_r, out_w, err_w):
            if fd is not None:
                os.close(fd)
        theirs.close()
        if run is not None:
            run.kill()
            run.close()
        else:
            for fd in (in_w, out_r, err_r):
                os.close(fd)
            ours.close()
        raise failure

    def close(self):
        """End the zygote (its runs die with it)."""
        try:
            self.control.close()
        except OSError:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self._log.close()


def _said(data: bytes, wanted: str) -> str:
    text = data.decode("utf-8", "replace")[:300]
    if text.startswith("error "):
        return f"the warm sandbox could not make a run: {text[6:]}"
    return f"the warm sandbox answered {text!r} instead of {wanted!r}"


class Pool:
    """A sandbox's warm interpreters: one per run at a time, started on demand.

    Args:
        start: makes a new :class:`Zygote` (the sandbox's command for it), or raises
            :class:`WarmUnavailable` or ``OSError``.
        on: whether warm runs may be tried at all.

    :attr:`off` is None while warm runs are on, else why they are off (for the sandbox's
    walls); once off, they stay off.
    """

    def __init__(self, start, on: bool = True):
        self._start = start
        self._idle: list = []
        self.started: list = []            # every live zygote, idle or serving a run
        self._lock = threading.Lock()
        self.off = None if on else "asked for cold runs"

    def turn_off(self, why: str):
        with self._lock:
            if self.off is None:
                self.off = why[:300]

    def _checkout(self):
        with self._lock:
            while self._idle:
                zygote = self._idle.pop()
                if zygote.alive():
                    return zygote
                self.started.remove(zygote)
                zygote.close()
            if self.off is not None:
                return None
        try:
            zygote = self._start()
        except (WarmUnavailable, OSError) as exc:
            self.turn_off(str(exc))
            return None
        with self._lock:
            self.started.append(zygote)
        return zygote

    def release(self, zygote):
        """Back to the idle ones, or ended (if it died, or warm runs are off)."""
        with self._lock:
            if zygote.alive() and self.off is None and zygote in self.started:
                self._idle.append(zygote)
                return
            if zygote in self.started:
                self.started.remove(zygote)
        zygote.close()

    def spawn(self, request: dict, join=None):
        """``(zygote, run)`` for one run, or None when warm runs are (now) off. A zygote that
        died is replaced once; one that refuses to make a run turns warm runs off."""
        for attempt in (1, 2):
            zygote = self._checkout()
            if zygote is None:
                return None
            try:
                return zygote, zygote.spawn(request, join)
            except WarmUnavailable as exc:
                if zygote.alive() or attempt == 2:   # the kernel refuses: cold from now on
                    self.turn_off(str(exc))
                self.release(zygote)
                if self.off is not None:
                    return None
        return None

    def close(self):
        with self._lock:
            zygotes, self._idle, self.started = self.started, [], []
        for zygote in zygotes:
            zygote.close()
