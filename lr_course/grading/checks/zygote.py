"""The warm interpreter of the sandbox: numpy imported once, one fresh process per run.

A cold run (:mod:`~lr_course.grading.checks.runner`) pays for bubblewrap, the interpreter
and ``import numpy`` every time: about a quarter of a second here, as much as a student's
own cells. This program pays that once. Started by the grader under bubblewrap with the
same file system as a cold run, it imports numpy and the check library, then waits on its
control socket (``--control FD``). Each request is one run: a small JSON header and four
file descriptors (the run's stdin, its records channel, its output, and a socket to the
grader). For each, it forks a process that builds the run's own walls, in this order,
before any code of the job is read:

1. it closes the control socket and every descriptor but the four, asks to die with this
   program (``PR_SET_PDEATHSIG``) and starts a new session;
2. it makes new mount, pid, network and ipc namespaces: a private ``/tmp`` and
   ``/dev/shm`` (size-limited tmpfs), the submission bound read-only at ``/submission``
   (found through a link the grader made for this run alone, named by a random token,
   so that no submission's name passes through this program), and the folder of all
   submissions and that of the links unmounted (or, where bubblewrap's user namespace
   locks them, covered by an empty read-only tmpfs), so that the run sees its own
   submission only;
3. it forks the run's first process, pid 1 of the new pid namespace (so everything the
   run starts dies with it), which mounts its own ``/proc``, brings up the loopback
   device, tells the grader its pid (the grader moves it into the run's cgroup), waits
   for the grader's ``go`` and makes a cgroup namespace;
4. that process forks the runner (pid 2, as in a cold run, where bubblewrap is pid 1),
   which takes the four descriptors as stdin, stdout and stderr, drops to the run's uid
   (or its capabilities), sets ``no_new_privs``, installs the seccomp filter, closes its
   socket to the grader, and only then reads the job, as :func:`runner.serve` does in a
   cold run; pid 1 reaps orphans until the runner ends and sends its wait status.

What a run holds, in memory, is a copy of this program's (copy-on-write): numpy and the
check library, never another run's data, since jobs (student cells or the solution) go to
the run's own stdin and never pass through this program. A run cannot reach this program:
it is outside the run's pid namespace, the seccomp filter refuses ``ptrace`` and
``process_vm_*``, and no descriptor of it is left open. This program never runs code it
is sent; it reads only the grader's requests.

The messages on the run's socket (``SOCK_SEQPACKET``): ``ready`` (from the run's pid 1,
whose pid the kernel passes to the grader), ``go`` (from the grader), ``started`` or
``error ...`` (from the runner, once its walls are up) and ``exit N`` (the runner's wait
status, from pid 1).

>>> sorted(REQUEST_KEYS)
['cpu', 'fsize', 'job_bytes', 'memory', 'nofile', 'nproc', 'shm_bytes', 'submission', 'tmp_bytes', 'uid']
"""

import ctypes
import fcntl
import json
import os
import signal
import socket
import struct
import sys

SUBMISSIONS = "/.submissions"     # where this program sees every submission (runs do not)
TOKENS = "/.tokens"               # one link per run into SUBMISSIONS, named by a random token
REQUEST_KEYS = frozenset({"memory", "nproc", "cpu", "fsize", "nofile", "job_bytes", "uid",
                          "submission", "tmp_bytes", "shm_bytes"})

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWIPC = 0x00020000, 0x02000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_SECCOMP, PR_SET_NO_NEW_PRIVS = 1, 4, 22, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
SECCOMP_MODE_FILTER = 2
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1

_libc = ctypes.CDLL(None, use_errno=True)


def _ok(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, data=None):
    _ok(_libc.mount(source and source.encode(), target.encode(),
                    fstype and fstype.encode(), ctypes.c_ulong(flags),
                    data and data.encode()), f"mount {target}")


def _prctl(option, value):
    _ok(_libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0), f"prctl {option}")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _drop_capabilities():
    """No capability left: effective, permitted, inheritable and ambient all empty."""
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    header = _CapHeader(0x20080522, 0)          # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    _ok(_libc.capset(ctypes.byref(header), data), "capset")


def _install_seccomp(program: bytes):
    """Install the classic BPF program that libseccomp exported (8 bytes per instruction)."""
    if not program:
        return
    buffer = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    _ok(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0), "seccomp")


def _loopback_up():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | IFF_UP))


def _close_all_but(keep):
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _say(fd, text):
    try:
        os.write(fd, text.encode()[:4000])
    except OSError:
        pass


def _mount_private(request):
    """Step 2: the run's own /tmp, /dev/shm and /submission (in its new mount namespace)."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={int(request['tmp_bytes'])},mode=1777")
    _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={int(request['shm_bytes'])},mode=1777")
    token = request["submission"]
    if token is not None:
        if type(token) is not str or len(token) != 32 or token.strip("0123456789abcdef"):
            raise OSError("malformed submission token")
        # a link the grader made for this run only: /.tokens/<token> -> /.submissions/<its>
        _mount(f"{TOKENS}/{token}", "/submission", None, MS_BIND | MS_REC)
        _mount(None, "/submission", None,
               MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    for hidden in (SUBMISSIONS, TOKENS):
        if os.path.isdir(hidden) and _libc.umount2(hidden.encode(), MNT_DETACH) != 0:
            # Locked (bubblewrap's binds in a user namespace cannot be unmounted from a
            # namespace below): covered by an empty, read-only tmpfs instead.
            _mount("tmpfs", hidden, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                   "size=4k,mode=0555")


def _init(fds, request, program, runner, privileged):
    """The run's pid 1 (step 3): its walls, then the runner as pid 2, reaped until it ends.

    As in a cold run, where bubblewrap is pid 1: the kernel ignores signals with a default
    action sent to a pid namespace's init, so the job must not run as pid 1 (a CPU-time
    SIGXCPU or its own SIGTERM would do nothing).
    """
    stdin_fd, out_fd, err_fd, sock_fd = fds
    try:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        _loopback_up()
        _say(sock_fd, "ready")
        if os.read(sock_fd, 16) != b"go":
            os._exit(1)
        _ok(_libc.unshare(CLONE_NEWCGROUP), "unshare cgroup")
        # Before the runner exists (so no job can run first): Python's SIGINT handler
        # would let the run (the same uid in a user namespace) interrupt this process's
        # loop, while with the default action pid 1 ignores it; and not dumpable, its /proc
        # files (descriptors, memory) are closed to the run even at the same uid. The
        # runner takes both back for itself, as a cold run has them.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _prctl(PR_SET_DUMPABLE, 0)
        pid = os.fork()
    except BaseException as exc:  # noqa: BLE001 - no job has been read: report and stop
        _say(sock_fd, f"error {type(exc).__name__}: {exc}")
        os._exit(1)
    if pid == 0:
        _run(fds, request, program, runner, privileged)
    status = 0
    try:
        for fd in (stdin_fd, out_fd, err_fd):
            os.close(fd)
        while True:   # reap every orphan of the run; end with the runner
            try:
                done, found = os.waitpid(-1, 0)
            except InterruptedError:
                continue
            except ChildProcessError:
                break
            if done == pid:
                status = found
                break
        _say(sock_fd, f"exit {status}")
    finally:
        os._exit(0)


def _run(fds, request, program, runner, privileged):
    """The runner (pid 2): stdin, stdout and stderr, no privilege, seccomp, the job."""
    stdin_fd, out_fd, err_fd, sock_fd = fds
    try:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        _prctl(PR_SET_DUMPABLE, 1)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for fd, target in ((stdin_fd, 0), (out_fd, 1), (err_fd, 2)):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir("/submission" if request["submission"] is not None else "/tmp")
        if privileged:
            runner._drop_privileges(int(request["uid"]))   # setresuid clears capabilities
        else:
            _drop_capabilities()
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        _install_seccomp(program)
    except BaseException as exc:  # noqa: BLE001 - no job has been read: report and stop
        _say(sock_fd, f"error {type(exc).__name__}: {exc}")
        os._exit(1)
    _say(sock_fd, "started")
    os.close(sock_fd)
    runner.finish(runner.serve, {key: str(request[key]) for key in
                                 ("memory", "nproc", "cpu", "fsize", "nofile", "job_bytes")})


def _fork_run(control, fds, request, program, runner, privileged):
    """The middle process (steps 1 and 2), which waits for the run; never returns."""
    sock_fd = fds[3]
    try:
        control.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        _close_all_but(set(fds))
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        os.setsid()
        _ok(_libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC),
            "unshare")
        _mount_private(request)
        pid = os.fork()
    except BaseException as exc:  # noqa: BLE001
        _say(sock_fd, f"error {type(exc).__name__}: {exc}")
        os._exit(1)
    if pid == 0:
        _init(fds, request, program, runner, privileged)
    for fd in fds:
        os.close(fd)
    while True:
        try:
            os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            break
    os._exit(0)


def _request(data: bytes):
    request = json.loads(data)
    if type(request) is not dict or set(request) != REQUEST_KEYS:
        raise ValueError("malformed request")
    return request


def main(argv):
    opts = {"path": []}
    args = iter(argv)
    for arg in args:
        value = next(args)
        if arg == "--path":
            opts["path"].append(value)
        else:
            opts[arg[2:]] = value
    control = socket.socket(fileno=int(opts["control"]))
    program = b""
    if "seccomp" in opts:
        with os.fdopen(int(opts["seccomp"]), "rb") as source:
            program = source.read()
    privileged = os.getuid() == 0
    sys.path[:0] = opts["path"]
    sys.dont_write_bytecode = True
    from lr_course.grading.checks import runner
    runner.prepare()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)   # middle processes are reaped at once
    control.send(b"ready")
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(control, 4096, 4)
        except InterruptedError:
            continue
        if not data:
            return 0                                 # the grader closed the channel
        try:
            request = _request(data)
            if len(fds) != 4:
                raise ValueError("a run needs four descriptors")
        except ValueError:
            for fd in fds:
                os.close(fd)
            continue
        if os.fork() == 0:
            try:
                _fork_run(control, fds, request, program, runner, privileged)
            finally:
                os._exit(1)
        for fd in fds:
            os.close(fd)


if __name__ == "__main__":
    try:
        code = main(sys.argv[1:])
    except BaseException as exc:  # noqa: BLE001
        sys.stderr.write(f"zygote failed: {type(exc).__name__}: {exc}\n"[:2000])
        code = 70
    os._exit(code)
