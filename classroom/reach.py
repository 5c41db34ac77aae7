"""Let the demo accounts run this Python and read this checkout, wherever they live.

The classroom's users are ordinary unix accounts, but the course's interpreter and checkout
may sit under a folder they cannot enter (``/root/.pyenv`` in a container, a 0700 home on a
laptop). Instead of changing permissions on the machine, the hub runs inside a mount
namespace (bubblewrap, as root) in which every such folder is replaced by an empty enterable
one with only the needed paths bound back, read-only; every server the hub starts inherits
that view. Where nothing is closed, commands run unchanged.

>>> closed_folders(["/usr/bin"])
[]
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
from pathlib import Path


def needed_paths(repo) -> list:
    """What a demo account must reach: the venv, its base interpreter, the checkout."""
    return [sys.prefix, sys.base_prefix, os.path.realpath(sys.executable), str(repo)]


def _closed(folder: Path) -> bool:
    return not folder.stat().st_mode & stat.S_IXOTH


def closed_folders(paths) -> list:
    """The folders on the way to ``paths`` that other accounts may not enter, outermost first."""
    found = {parent for p in paths for parent in Path(os.path.realpath(p)).parents
             if parent != Path("/") and _closed(parent)}
    return sorted(found, key=lambda d: len(d.parts))


def bind_args(paths) -> list:
    """bubblewrap arguments that make each of ``paths`` reachable by every account."""
    paths = [Path(os.path.realpath(p)) for p in paths]
    paths = [p for p in paths if not any(p != q and p.is_relative_to(q) for q in paths)]
    args, replaced, made = [], [], set()
    for folder in closed_folders(paths):
        if any(folder.is_relative_to(r) for r in replaced):
            continue  # a folder further up is already replaced
        replaced.append(folder)
        args += ["--perms", "0755", "--tmpfs", str(folder)]
        for p in paths:
            if p.is_relative_to(folder):
                for d in reversed(p.parents):
                    if d.is_relative_to(folder) and d != folder and d not in made:
                        made.add(d)
                        args += ["--perms", "0755", "--dir", str(d)]
                args += ["--ro-bind", str(p), str(p)]
    return args


def wrap(argv, paths) -> list:
    """``argv`` run where the demo accounts can reach ``paths`` (as root; keeps capabilities).

    Raises RuntimeError when a folder is closed and bubblewrap is missing.
    """
    binds = bind_args(paths)
    if not binds:
        return list(argv)
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        closed = ", ".join(map(str, closed_folders(paths)))
        raise RuntimeError(f"the demo accounts cannot enter {closed}; install bubblewrap "
                           "(apt-get install bubblewrap) or put the checkout and its Python "
                           "where every account can read them")
    return [bwrap, "--dev-bind", "/", "/", "--cap-add", "ALL", *binds, "--", *argv]


def as_user(user, argv, paths) -> list:
    """``argv`` run as the unix account ``user`` (from root), with ``paths`` reachable."""
    import pwd
    entry = pwd.getpwnam(user)
    drop = ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--init-groups",
            "--"]
    return wrap([*drop, *argv], paths)
