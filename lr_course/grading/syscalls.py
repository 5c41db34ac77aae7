"""The seccomp filter of the sandbox: the system calls a submission is refused.

The filter is compiled by libseccomp (its own Python bindings: Debian's
``python3-seccomp``, or any ``seccomp`` module on the path) into a classic BPF program,
which bubblewrap installs with ``--seccomp FD`` right before it starts the runner. Every
call is allowed except those that reach outside the sandbox or hold memory that no
resource limit counts:

* new namespaces and their tools: ``unshare``, ``setns``, ``clone`` with any
  ``CLONE_NEW*`` flag, ``clone3`` (answered ``ENOSYS`` so that the C library falls back to
  ``clone``, whose flags can be inspected), ``mount`` and the new mount API,
  ``pivot_root``, ``chroot``;
* looking into or changing other processes and the kernel: ``ptrace``,
  ``process_vm_readv/writev``, ``bpf``, ``perf_event_open``, ``keyctl`` and its friends,
  module loading, ``kexec``, ``reboot``, ``swapon``, ``acct``, ``quotactl``, ``syslog``,
  ``userfaultfd``, ``io_uring`` (a second way to issue every call), file handles;
* memory outside every file-system size and address-space limit: ``memfd_create``,
  ``memfd_secret`` and System V shared memory (``shmget``). Where a cgroup holds the
  sandbox these would be counted too; they are refused everywhere so that a submission
  sees the same system under a self-check and under the final grading.

A refused call fails with ``EPERM`` (``ENOSYS`` for ``clone3``): the student's code gets
an ``OSError``, never a grade. Calls of another architecture (32-bit ``int 0x80``) kill
the process, libseccomp's default for a foreign ABI.

>>> "unshare" in DENIED and "ptrace" in DENIED and "read" not in DENIED
True

References: seccomp(2), clone(2); libseccomp, https://github.com/seccomp/libseccomp.
"""

from __future__ import annotations

import errno
import importlib.machinery
import importlib.util
import os
import sys
import tempfile
from functools import lru_cache

__all__ = ["DENIED", "NAMESPACE_FLAGS", "load_libseccomp", "build_filter", "FilterUnavailable"]

DENIED = (
    # namespaces, mounts, roots
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig",
    "fsmount", "fspick", "open_tree", "move_mount", "mount_setattr",
    # other processes, the kernel
    "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp", "bpf",
    "perf_event_open", "keyctl", "add_key", "request_key", "init_module", "finit_module",
    "delete_module", "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff", "acct",
    "quotactl", "quotactl_fd", "syslog", "userfaultfd", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "open_by_handle_at", "name_to_handle_at", "lookup_dcookie",
    "fanotify_init", "personality", "vhangup", "settimeofday", "clock_settime", "adjtimex",
    "clock_adjtime",
    # memory no limit counts
    "memfd_create", "memfd_secret", "shmget",
)

# clone(2) flags that make a namespace; refused on clone, whatever else is set.
NAMESPACE_FLAGS = {
    "CLONE_NEWNS": 0x00020000, "CLONE_NEWCGROUP": 0x02000000, "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000, "CLONE_NEWUSER": 0x10000000, "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000, "CLONE_NEWTIME": 0x00000080,
}

_DIST_PACKAGES = ("/usr/lib/python3/dist-packages",)


class FilterUnavailable(RuntimeError):
    """libseccomp's Python bindings are not installed (Debian: ``python3-seccomp``)."""


def load_libseccomp():
    """libseccomp's Python module, or None when it is installed nowhere we look.

    Tries ``import seccomp`` first, then Debian's ``python3-seccomp`` by file, which is
    built for the same Python ABI when the minor versions match (a virtual environment or
    a pyenv interpreter does not see Debian's dist-packages on its own path).

    >>> module = load_libseccomp()
    >>> module is None or hasattr(module, "SyscallFilter")
    True
    """
    try:
        import seccomp  # noqa: PLC0415 - optional
        return seccomp
    except ImportError:
        pass
    for folder in _DIST_PACKAGES:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(folder, "seccomp" + suffix)
            if not os.path.isfile(path):
                continue
            spec = importlib.util.spec_from_file_location("seccomp", path)
            try:
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
            except (ImportError, OSError):
                continue
            sys.modules.setdefault("seccomp", module)
            return module
    return None


@lru_cache(maxsize=1)
def build_filter() -> bytes:
    """The BPF program (bytes) that bwrap's ``--seccomp`` expects, built once.

    Raises:
        FilterUnavailable: when libseccomp's Python bindings are missing.
    """
    sc = load_libseccomp()
    if sc is None:
        raise FilterUnavailable("libseccomp's Python bindings are missing (install Debian's "
                                "python3-seccomp): no seccomp filter")
    flt = sc.SyscallFilter(defaction=sc.ALLOW)
    refuse = sc.ERRNO(errno.EPERM)
    for name in DENIED:
        try:
            flt.add_rule(refuse, name)
        except (RuntimeError, ValueError, OSError):
            pass   # a call this kernel/architecture does not have: nothing to refuse
    for flag in NAMESPACE_FLAGS.values():
        flt.add_rule(refuse, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    try:
        flt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    except (RuntimeError, ValueError, OSError):
        pass
    with tempfile.TemporaryFile() as sink:
        flt.export_bpf(sink)
        sink.seek(0)
        return sink.read()
