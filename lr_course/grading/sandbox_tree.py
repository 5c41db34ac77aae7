"""What a sandbox holds: the curated tree and the host paths bound into it.

:func:`build_tree` fills the folder mounted at :data:`SANDBOX_ROOT`: the check library with
the runner (:mod:`lr_course.grading.checks`, copied whole) and the few course modules graded
code may import (:data:`COURSE_MODULES`). :func:`package_paths` finds the installed packages
a sandbox provides (numpy; matplotlib and its dependencies for plotting cells) with the
shared libraries their wheels vendor; :func:`layout` lists the interpreter's own paths, the
system's library folders and the few files of ``/etc`` the loader needs, each bound
read-only at its exact path by :mod:`lr_course.grading.sandbox_command`, which writes the
command line.
:func:`remove_stale_trees` removes the trees of graders that were killed.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import os
import py_compile
import shutil
import sys
import sysconfig
from pathlib import Path

__all__ = ["COURSE_MODULES", "CORE_PACKAGES", "PLOT_PACKAGES", "SANDBOX_ROOT", "TREE_PREFIX",
           "build_tree", "code_digest", "layout", "library_dirs", "package_paths",
           "remove_stale_trees", "runtime_paths"]

SANDBOX_ROOT = "/sandbox"          # where the curated tree is mounted inside
_PKG_DIR = Path(__file__).resolve().parent.parent   # lr_course/
# Course modules a notebook (and the "train" kind of a check) may import inside.
COURSE_MODULES = ("problems.py", "surfaces.py", "_points.py", "_checks.py", "digits.py", "models.py",
                  "data")
# Installed packages the sandbox provides: numpy always; matplotlib and its dependencies
# so that an honest plotting cell does not fail (with the Agg backend, nothing displayed).
CORE_PACKAGES = ("numpy",)
PLOT_PACKAGES = ("matplotlib", "mpl_toolkits", "PIL", "contourpy", "cycler", "dateutil",
                 "fontTools", "kiwisolver", "packaging", "pyparsing", "six")
# Files under /etc the dynamic loader and Python want; nothing else of /etc is visible.
_ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf")


def package_paths(names) -> list[Path]:
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
        where = Path(spec.submodule_search_locations[0] if spec.submodule_search_locations
                     else spec.origin).parent
        paths.extend(_vendored_libraries(where, name))
    # a namespace package may have several locations; keep each once
    return list(dict.fromkeys(p.resolve() for p in paths))


def _normal(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def _vendored_libraries(where: Path, name: str) -> list[Path]:
    """The ``<distribution>.libs`` folders beside ``where/name`` that belong to it.

    manylinux wheels keep their shared libraries there (``numpy.libs``; ``pillow.libs``
    for the package ``PIL``). Only the few distributions that have such a folder are looked
    up (their ``top_level.txt``, else their ``RECORD``): scanning every installed
    distribution, as ``importlib.metadata.packages_distributions`` does, takes seconds.
    """
    return [libs for libs, names in _library_folders(where)
            if _normal(libs.name[:-len(".libs")]) == _normal(name) or name in names]


@functools.lru_cache(maxsize=16)
def _library_folders(where: Path) -> tuple:
    """``(folder, top-level names of its distribution)`` for each ``*.libs`` in ``where``."""
    infos = {_normal(info.name.split("-", 1)[0]): info for info in where.glob("*.dist-info")}
    found = []
    for libs in sorted(where.glob("*.libs")):
        info = infos.get(_normal(libs.name[:-len(".libs")]))
        names = set()
        if info is not None:
            try:
                names = set((info / "top_level.txt").read_text().split())
            except OSError:
                with contextlib.suppress(OSError):
                    names = {line.split(",", 1)[0].split("/", 1)[0]
                             for line in (info / "RECORD").read_text().splitlines()}
        found.append((libs, frozenset(names)))
    return tuple(found)


TREE_PREFIX = "lr_course_sandbox_"


def remove_stale_trees(folder: Path) -> list:
    """Remove the curated trees of graders that were killed (SIGKILL skips ``close``).

    A tree is named ``lr_course_sandbox_<pid>_...`` after the grader that made it; one whose
    grader is gone and that belongs to this account is removed. A live process with that pid
    (even an unrelated one) keeps it: better a stale folder than another grader's tree lost.
    """
    removed = []
    for tree in folder.glob(f"{TREE_PREFIX}*_*"):
        pid = tree.name[len(TREE_PREFIX):].split("_", 1)[0]
        try:
            if not pid.isdigit() or tree.is_symlink() or tree.stat().st_uid != os.geteuid():
                continue
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(tree, ignore_errors=True)
            removed.append(tree)
        except (OSError, ValueError):
            continue
    return removed


def build_tree(tree: Path, packages) -> None:
    """Fill ``tree`` (an empty folder): the check library with the runner, the allowed course
    modules (byte-compiled: the sandbox's file system is read-only) and, for the unisolated
    mode, links to the allowed ``packages``."""
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
    # The check library and the runner: one self-contained package, copied whole.
    grading = lib / "grading"
    grading.mkdir()
    (grading / "__init__.py").write_text('"""Only the check library is here."""\n')
    shutil.copytree(_PKG_DIR / "grading" / "checks", grading / "checks",
                    ignore=shutil.ignore_patterns("__pycache__"))
    site = tree / "site"   # unisolated mode: symlinks to the allowed packages
    site.mkdir()
    for path in packages:
        (site / path.name).symlink_to(path)
    for py in lib.rglob("*.py"):
        try:  # bytecode up front: the sandbox's file system is read-only
            py_compile.compile(str(py), doraise=True,
                               invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        except py_compile.PyCompileError:
            pass
    for path in tree.rglob("*"):
        if not path.is_symlink():
            os.chmod(path, 0o755 if path.is_dir() else 0o644)


def _tree_sources() -> list:
    """The files :func:`build_tree` copies from the package, as (name in the tree, path)."""
    found = []
    for name in (*COURSE_MODULES, "grading/checks"):
        src = _PKG_DIR / name
        files = [src] if src.is_file() else sorted(
            p for p in src.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        found += [(p.relative_to(_PKG_DIR).as_posix(), p) for p in files]
    return found


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of all the code and data a sandbox runs from this package (what
    :func:`build_tree` copies), of the interpreter's and of numpy's versions: what the
    solution records in a sandbox depends on nothing else of the grader, so a record kept
    under another digest (an upgraded lr-course, an edited check library, another numpy) is
    never taken for today's."""
    h = hashlib.sha256()
    import numpy
    h.update(f"python {sys.version}\0numpy {numpy.__version__}\0".encode())
    for name, path in _tree_sources():
        data = path.read_bytes()
        h.update(f"{name}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()[:24]


def runtime_paths(python: str) -> list[str]:
    """Host paths the interpreter needs, each bound at the same path (read-only).

    The interpreter binary, its shared ``libpython`` (when it has one) and its standard
    library with ``lib-dynload``; not the prefix's ``bin/``, ``include/`` or
    ``site-packages``.
    """
    paths = [python]
    stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"])
    paths.append(stdlib)
    dynload = os.path.realpath(sysconfig.get_config_var("DESTSHARED") or "")
    if dynload and not dynload.startswith(stdlib + os.sep) and os.path.isdir(dynload):
        paths.append(dynload)
    libdir = sysconfig.get_config_var("LIBDIR") or ""
    if sysconfig.get_config_var("Py_ENABLE_SHARED") and os.path.isdir(libdir):
        version = f"{sys.version_info[0]}.{sys.version_info[1]}"
        for entry in sorted(Path(libdir).glob(f"libpython{version}*.so*")):
            paths.append(str(entry))
    return paths

def library_dirs() -> list[str]:
    """The system's shared-library folders (the C library, libstdc++, libffi, ...)."""
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    found = []
    candidates = [f"/usr/lib/{multiarch}", f"/lib/{multiarch}"] if multiarch else []
    candidates += ["/usr/lib64", "/lib64"]
    for candidate in candidates:
        real = os.path.realpath(candidate)
        if os.path.isdir(real) and real not in found:
            found.append(real)
    return found

def layout(python: str) -> dict:
    """The host paths bound into every sandbox: the shared-library folders (with the
    Python folders inside them to hide), the loader's files of ``/etc``, the interpreter's
    own paths (:func:`runtime_paths`) and the stdlib's package folders to hide."""
    libraries = []
    for path in library_dirs():
        with os.scandir(path) as entries:
            hidden = [e.path for e in entries if e.name.startswith("python")
                      and e.is_dir(follow_symlinks=False)]
        libraries.append((path, hidden))
    stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"])
    return {"libraries": libraries,
            "etc": [f"/etc/{n}" for n in _ETC_FILES if os.path.exists(f"/etc/{n}")],
            "runtime": runtime_paths(python),
            "hidden": [os.path.join(stdlib, n) for n in ("site-packages", "dist-packages")
                       if os.path.isdir(os.path.join(stdlib, n))]}
