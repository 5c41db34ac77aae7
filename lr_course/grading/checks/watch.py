"""Watch what a student's code patches inside the sandbox, report it and undo it.

This runs INSIDE the sandbox with the rest of :mod:`lr_course.grading.checks`; it imports
only the standard library.
"""

from __future__ import annotations

import sys
from operator import is_ as _is

__all__ = ["RuntimeWatch"]


def _unchanged(now, before, _is=_is, _all=all, _map=map, _len=len) -> bool:
    """Whether a namespace holds the very same keys and values, in the same order, as its
    snapshot: identity only, in C (no ``==`` that a student's object could answer), so that
    a call which patched nothing costs microseconds instead of a walk over numpy's names.
    What it calls is bound here, before any student code: replacing ``builtins.all`` or
    this module's ``_is`` changes nothing it decides."""
    return (_len(now) == _len(before) and _all(_map(_is, now.keys(), before.keys()))
            and _all(_map(_is, now.values(), before.values())))


class RuntimeWatch:
    """Snapshot modules and interpreter hooks; report and undo what changed since.

    ``modules`` maps a name (for the message) to a module object, or to a class (the
    runner's own Call and Record, whose methods a cell could replace); the watch keeps a
    shallow copy of each one's namespace, of ``sys.modules`` and of the import and trace
    hooks. :meth:`check` returns new flags (each reported once) and :meth:`restore` puts
    every watched value back.

    >>> import math
    >>> watch = RuntimeWatch({"math": math})
    >>> math.pi = 3
    >>> [f["code"] for f in watch.check()]
    ['module-patch']
    >>> watch.restore(); math.pi > 3
    True
    """

    def __init__(self, modules: dict):
        self._modules = dict(modules)
        self._saved = {name: dict(vars(mod)) for name, mod in self._modules.items()}
        self._sys_modules = dict(sys.modules)
        self._hooks = (list(sys.meta_path), list(sys.path_hooks), sys.gettrace(),
                       sys.getprofile(), sys.displayhook, sys.excepthook)
        self._reported = set()
        self.extra: list[dict] = []      # flags raised elsewhere (e.g. the IPython stub)

    def _code(self, name):
        return {"numpy": "numpy-patch", "builtins": "builtins-patch"}.get(
            name.split(".")[0], "module-patch")

    # _unchanged is bound as a default when the class is made: a cell that replaces the
    # module's global (``watch._unchanged = ...``) is reported, not obeyed.
    def check(self, _unchanged=_unchanged) -> list[dict]:
        found = list(self.extra)
        self.extra.clear()
        for name, mod in self._modules.items():
            now, before = vars(mod), self._saved[name]
            if _unchanged(now, before):
                continue
            for key in set(now) | set(before):
                if key in before and key in now and now[key] is before[key]:
                    continue
                if key not in before and _genuine_submodule(name, key, now[key]):
                    continue   # numpy's lazily imported submodules (np.testing...)
                verb = "added" if key not in before else "removed" if key not in now else "replaced"
                found.append({"code": self._code(name), "message": f"{verb} {name}.{key}"})
        for key in () if _unchanged(sys.modules, self._sys_modules) else \
                set(sys.modules) | set(self._sys_modules):
            if key in self._sys_modules:
                if sys.modules.get(key) is not self._sys_modules[key]:
                    found.append({"code": "sys-modules", "message": f"replaced sys.modules[{key!r}]"})
            elif not _genuine_module(key, sys.modules[key]):
                found.append({"code": "sys-modules", "message": f"planted sys.modules[{key!r}]"})
        hooks = (list(sys.meta_path), list(sys.path_hooks), sys.gettrace(), sys.getprofile(),
                 sys.displayhook, sys.excepthook)
        names = ("sys.meta_path", "sys.path_hooks", "sys.settrace", "sys.setprofile",
                 "sys.displayhook", "sys.excepthook")
        for name, old, new in zip(names, self._hooks, hooks):
            if (old != new) if isinstance(old, list) else (old is not new):
                code = "import-hook" if "path" in name else "introspection"
                found.append({"code": code, "message": f"changed {name}"})
        fresh = []
        for f in found:
            key = (f["code"], f["message"])
            if key not in self._reported:
                self._reported.add(key)
                fresh.append(f)
        return fresh

    def restore(self, _unchanged=_unchanged) -> None:
        for name, mod in self._modules.items():
            now, before = vars(mod), self._saved[name]
            if _unchanged(now, before):
                continue
            for key in list(now):
                if key not in before and not _genuine_submodule(name, key, now[key]):
                    _delete(mod, key)
            for key, value in before.items():
                if now.get(key, _MISSING) is not value:
                    _put(mod, key, value)
            # what is left beyond the snapshot is genuine submodules: keep them from now on,
            # so that the next calls take the fast path
            self._saved[name] = dict(now)
        if not _unchanged(sys.modules, self._sys_modules):
            for key in list(sys.modules):
                if key not in self._sys_modules and not _genuine_module(key, sys.modules[key]):
                    del sys.modules[key]
            sys.modules.update(self._sys_modules)
            self._sys_modules = dict(sys.modules)   # the snapshot plus genuine imports
        sys.meta_path[:] = self._hooks[0]
        sys.path_hooks[:] = self._hooks[1]
        sys.settrace(self._hooks[2])
        sys.setprofile(self._hooks[3])
        sys.displayhook, sys.excepthook = self._hooks[4], self._hooks[5]


_MISSING = object()


def _put(obj, key, value):
    if isinstance(obj, type):       # a class's namespace is read-only but for setattr
        setattr(obj, key, value)
    else:
        vars(obj)[key] = value


def _delete(obj, key):
    if isinstance(obj, type):
        delattr(obj, key)
    else:
        del vars(obj)[key]


# Submodules that a C extension registers in sys.modules without a module spec (pyexpat's,
# imported by matplotlib): genuine, though they look planted.
_SPECLESS = {"xml.parsers.expat.errors", "xml.parsers.expat.model", "pyexpat.errors",
             "pyexpat.model"}


def _genuine_module(key, mod) -> bool:
    spec = getattr(mod, "__spec__", None)
    if type(mod).__name__ != "module":
        return False
    if spec is None:
        return key in _SPECLESS and getattr(mod, "__name__", None) == \
            "pyexpat." + key.split(".")[-1]
    return getattr(spec, "name", None) == key


def _genuine_submodule(parent, key, value) -> bool:
    return _genuine_module(f"{parent}.{key}", value) and sys.modules.get(f"{parent}.{key}") is value
