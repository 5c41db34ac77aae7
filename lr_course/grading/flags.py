"""Flag suspicious code in a submission, for the instructor to review.

A flag never changes a score (scores are decided in the grader, on inputs the student
cannot know); it tells the instructor that a submission tried something a correct answer
never needs: patching numpy or builtins, hooking IPython or the import system,
executing strings, touching files outside the submission, exiting, starting processes,
opening sockets, loading native code, or reaching into frames and the garbage collector.

Two detectors, because each misses what the other sees:

* :func:`scan_source` reads a cell with :mod:`ast` without running it (in the grader);
* :class:`~lr_course.grading.checks.watch.RuntimeWatch` snapshots numpy, builtins,
  ``sys.modules`` and the interpreter's hooks inside the sandbox before the student's code
  runs, reports what changed, and puts it back before the graded calls run (so a patch
  cannot even affect the recording).

>>> [f.code for f in scan_source("import numpy as np\\nnp.allclose = lambda *a, **k: True")]
['numpy-patch']
>>> scan_source("def f(x):\\n    return x + 1")
[]
"""

from __future__ import annotations

import ast
import threading
from dataclasses import asdict, dataclass

from lr_course.grading.text_cache import bounded_text_cache

__all__ = ["Flag", "scan_source", "scan_cells", "CODES"]

# Every flag code and what it means, in words for the instructor.
CODES = {
    "numpy-patch": "modifies numpy (its comparison or testing functions could lie)",
    "builtins-patch": "modifies Python's builtins",
    "module-patch": "modifies a standard-library module the grader relies on",
    "sys-modules": "reads or edits sys.modules",
    "import-hook": "installs an import hook or edits the import machinery",
    "ipython-hook": "uses IPython hooks or input transformers",
    "dynamic-code": "executes code built at run time (exec, eval, compile, __import__)",
    "encoded-code": "decodes strings (base64, zlib, codecs...) next to dynamic code",
    "file-access": "accesses files or directories outside its own folder",
    "process-exit": "exits the process or handles signals (sys.exit, os._exit, atexit)",
    "subprocess": "starts processes (subprocess, os.system, fork)",
    "network": "uses the network",
    "native-code": "loads native code or raw memory (ctypes, cffi, mmap)",
    "introspection": "inspects frames, the garbage collector or the interpreter's internals",
    "resource": "hit a resource limit (time, memory, processes or output)",
    "test-tampering": "edited, deleted, retyped or re-scored a grader's test cell",
    "reference-import": "imports the course's reference code or grader (absent when graded)",
    "hard-coded-values": "returns long numeric literals (answers copied from somewhere?)",
}


@dataclass(frozen=True)
class Flag:
    """One suspicious thing found in a submission."""

    code: str                      # a key of CODES
    message: str                   # what was seen, in words (no test code, no answers)
    cell: int | None = None        # index among the student's code cells
    line: int | None = None        # line within that cell

    def to_dict(self) -> dict:
        """Plain data (JSON)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data) -> "Flag":
        """Inverse of :meth:`to_dict`, tolerant of junk (it may come from the sandbox)."""
        if not isinstance(data, dict):
            return cls("resource", "unreadable flag from the sandbox")
        code = data.get("code") if data.get("code") in CODES else "introspection"
        cell, line = data.get("cell"), data.get("line")
        return cls(code, str(data.get("message", ""))[:300],
                   cell if type(cell) is int else None, line if type(line) is int else None)


# -- static scan -----------------------------------------------------------------------

_MODULE_CODES = {  # importing (or using) these is flagged by itself
    "subprocess": "subprocess", "pty": "subprocess", "multiprocessing": "subprocess",
    "socket": "network", "ssl": "network", "urllib": "network", "http": "network",
    "requests": "network", "httpx": "network", "ftplib": "network", "smtplib": "network",
    "telnetlib": "network", "xmlrpc": "network", "asyncio": "network",
    "ctypes": "native-code", "cffi": "native-code", "mmap": "native-code",
    "gc": "introspection", "inspect": "introspection", "dis": "introspection",
    "marshal": "dynamic-code", "importlib": "import-hook", "imp": "import-hook",
    "zipimport": "import-hook", "pkgutil": "import-hook", "runpy": "dynamic-code",
    "atexit": "process-exit", "signal": "process-exit", "sqlite3": "file-access",
    "shutil": "file-access", "glob": "file-access", "IPython": "ipython-hook",
    "__main__": "introspection", "builtins": None, "sys": None, "os": None,
}
_ENCODERS = {"base64", "binascii", "codecs", "zlib", "bz2", "lzma", "marshal", "pickle"}
_PATCH_CODES = {"numpy": "numpy-patch", "builtins": "builtins-patch", "__builtins__": "builtins-patch",
                "math": "module-patch", "copy": "module-patch", "warnings": "module-patch",
                "json": "module-patch", "sys": "module-patch", "os": "module-patch",
                "io": "module-patch", "contextlib": "module-patch", "time": "module-patch",
                "lr_course": "module-patch", "IPython": "ipython-hook"}
_CALLS = {  # dotted call name -> code
    "exec": "dynamic-code", "eval": "dynamic-code", "compile": "dynamic-code",
    "__import__": "dynamic-code", "breakpoint": "introspection",
    "exit": "process-exit", "quit": "process-exit", "sys.exit": "process-exit",
    "os._exit": "process-exit", "os.abort": "process-exit", "os.kill": "process-exit",
    "os.killpg": "process-exit", "os.system": "subprocess", "os.popen": "subprocess",
    "os.fork": "subprocess", "os.forkpty": "subprocess", "os.posix_spawn": "subprocess",
    "sys._getframe": "introspection", "sys.settrace": "introspection",
    "sys.setprofile": "introspection", "sys.addaudithook": "introspection",
    "sys.setrecursionlimit": None, "globals": "introspection", "vars": None,
    "os.listdir": "file-access", "os.scandir": "file-access", "os.walk": "file-access",
    "os.remove": "file-access", "os.unlink": "file-access", "os.rename": "file-access",
    "os.chdir": "file-access", "os.open": "file-access", "os.stat": "file-access",
    "os.write": "file-access", "os.dup": "file-access", "os.dup2": "file-access",
    "os.fdopen": "file-access", "os.close": "file-access",
}
# lr_course modules a graded answer never needs: the reference answers live there.
_REFERENCE_MODULES = ("lr_course.grading", "lr_course.optimizers", "lr_course.schedules",
                      "lr_course.search", "lr_course.finder", "lr_course.training",
                      "lr_course.analysis", "lr_course.lessons")
_ATTRS = {  # attribute names that give the game away wherever they appear
    "f_back": "introspection", "f_globals": "introspection", "f_locals": "introspection",
    "f_builtins": "introspection", "tb_frame": "introspection", "gi_frame": "introspection",
    "__globals__": "introspection", "__code__": "introspection", "__subclasses__": "introspection",
    "__closure__": "introspection", "co_code": "introspection",
    "input_transformers_cleanup": "ipython-hook", "input_transformers_post": "ipython-hook",
    "ast_transformers": "ipython-hook", "input_transformer_manager": "ipython-hook",
    "register_magic_function": "ipython-hook", "set_custom_exc": "ipython-hook",
    "events": "ipython-hook", "meta_path": "import-hook", "path_hooks": "import-hook",
    "path_importer_cache": "import-hook", "modules": None,
}
_SAFE_IPYTHON = {"run_line_magic", "run_cell_magic", "system", "getoutput"}
_SUSPECT_PATH_WORDS = ("gradebook", "/work", "/root", "/home", "/etc", "/proc", "/sandbox",
                       "source/", "release/", "submitted/", "autograded/", "feedback/", "..")


class _Scanner(ast.NodeVisitor):
    def __init__(self, cell):
        self.cell = cell
        self.flags: list[Flag] = []
        self.aliases = {"np": "numpy"}   # local name -> module it stands for
        self.encoders_seen = False
        self.dynamic_lines = []

    def flag(self, code, message, node):
        if code:
            self.flags.append(Flag(code, message, self.cell, getattr(node, "lineno", None)))

    def dotted(self, node) -> str | None:
        """``np.testing.assert_allclose`` -> 'numpy.testing.assert_allclose' (aliases resolved)."""
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "get_ipython":
            parts.append("get_ipython()")
        elif isinstance(node, ast.Name):
            parts.append(self.aliases.get(node.id, node.id))
        else:
            return None
        return ".".join(reversed(parts))

    def _import(self, module, alias, node):
        top = module.split(".")[0]
        self.aliases[alias] = module
        if module.startswith(_REFERENCE_MODULES) or module == "lr_course.grading":
            self.flag("reference-import", f"imports {module}", node)
        if top in _ENCODERS:
            self.encoders_seen = True
        code = _MODULE_CODES.get(top)
        if code:
            self.flag(code, f"imports {module}", node)

    def visit_Import(self, node):
        for a in node.names:
            self._import(a.name, a.asname or a.name.split(".")[0], node)
            if a.asname is None:
                self.aliases[a.name.split(".")[0]] = a.name.split(".")[0]

    def visit_ImportFrom(self, node):
        module = node.module or ""
        for a in node.names:
            full = f"{module}.{a.name}" if module else a.name
            self._import(full, a.asname or a.name, node)
            if module.split(".")[0] in ("builtins", "__main__"):
                self.flag("introspection" if module == "__main__" else None, f"imports from {module}", node)

    def _target(self, target, node):
        if isinstance(target, (ast.Tuple, ast.List)):
            for t in target.elts:
                self._target(t, node)
            return
        if isinstance(target, ast.Subscript):
            base = self.dotted(target.value) or ""
            if base.endswith("sys.modules") or base == "sys.modules":
                self.flag("sys-modules", "edits sys.modules", node)
            elif base.split(".")[0] in ("__builtins__", "builtins"):
                self.flag("builtins-patch", "assigns into __builtins__", node)
            elif isinstance(target.value, ast.Call):
                self._dict_patch(target.value, node)
            return
        if isinstance(target, ast.Attribute):
            name = self.dotted(target) or ""
            top = name.split(".")[0]
            code = _PATCH_CODES.get(top)
            if code:
                self.flag(code, f"assigns to {name}", node)

    def _dict_patch(self, call, node):
        # vars(np)["allclose"] = ... / np.__dict__[...] handled via dotted name
        func = self.dotted(call.func) if isinstance(call, ast.Call) else None
        if func == "vars" and call.args:
            base = self.dotted(call.args[0]) or ""
            code = _PATCH_CODES.get(base.split(".")[0])
            if code:
                self.flag(code, f"edits vars({base})", node)

    def visit_Assign(self, node):
        for t in node.targets:
            self._target(t, node)
        self.generic_visit(node)

    def visit_FunctionDef(self, node):
        long_numbers = [n for n in ast.walk(node) if isinstance(n, ast.Constant)
                        and type(n.value) is float and len(repr(abs(n.value)).replace("0.", "")
                                                          .split("e")[0]) >= 8]
        if len(long_numbers) >= 3:
            self.flag("hard-coded-values", f"{node.name}() holds {len(long_numbers)} long "
                                           "numeric literals", node)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_AugAssign(self, node):
        self._target(node.target, node)
        self.generic_visit(node)

    def visit_Delete(self, node):
        for t in node.targets:
            self._target(t, node)
        self.generic_visit(node)

    def visit_Attribute(self, node):
        name = self.dotted(node) or ""
        if name.endswith("__dict__"):
            code = _PATCH_CODES.get(name.split(".")[0])
            self.flag(code, f"uses {name}", node)
        if node.attr in _ATTRS and _ATTRS[node.attr]:
            self.flag(_ATTRS[node.attr], f"uses .{node.attr}", node)
        if name == "sys.modules":
            self.flag("sys-modules", "uses sys.modules", node)
        if name.startswith("get_ipython()."):
            attr = name.split(".")[1]
            if attr not in _SAFE_IPYTHON:
                self.flag("ipython-hook", f"uses get_ipython().{attr}", node)
        self.generic_visit(node)

    def visit_Name(self, node):
        if node.id == "__builtins__":
            self.flag("builtins-patch" if isinstance(node.ctx, (ast.Store, ast.Del)) else None,
                      "rebinds __builtins__", node)
        self.generic_visit(node)

    def visit_Call(self, node):
        name = self.dotted(node.func) or ""
        code = _CALLS.get(name)
        if code is None and "." in name:
            top, rest = name.split(".", 1)
            if rest.startswith(("exec", "spawn")) and top == "os":
                code = "subprocess"
        if code:
            self.flag(code, f"calls {name}()", node)
            if code == "dynamic-code":
                self.dynamic_lines.append(node)
        if name in ("setattr", "delattr") and node.args:
            base = self.dotted(node.args[0]) or ""
            patch = _PATCH_CODES.get(base.split(".")[0])
            if patch:
                self.flag(patch, f"calls {name}() on {base}", node)
        if name == "getattr" and len(node.args) >= 2 and not isinstance(node.args[1], ast.Constant):
            self.flag("introspection", "calls getattr() with a computed name", node)
        if name in ("open", "io.open", "pathlib.Path", "Path", "numpy.load", "numpy.loadtxt",
                    "numpy.genfromtxt") or name.startswith("os."):
            self._path_args(name, node)
        self.generic_visit(node)

    def _path_args(self, name, node):
        for arg in node.args[:1]:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                path = arg.value
                if path.startswith(("/", "~")) or any(w in path for w in _SUSPECT_PATH_WORDS):
                    self.flag("file-access", f"{name}() on {path[:60]!r}", node)

    def finish(self):
        if self.encoders_seen:
            for node in self.dynamic_lines:
                self.flag("encoded-code", "decodes a string and executes code", node)


# CPython 3.11's parser keeps one recursion count per interpreter: two threads parsing at once
# (a batch's workers) can fail with "AST constructor recursion depth mismatch". Parse one at a
# time.
_PARSE_LOCK = threading.Lock()


def _parse(source: str):
    with _PARSE_LOCK:
        return ast.parse(source)


def scan_source(source: str, cell: int | None = None) -> list[Flag]:
    """Flags for one cell of (IPython-transformed) Python source; never raises.

    A cell that does not parse is not flagged here (the runner reports its SyntaxError).

    >>> [f.code for f in scan_source("import os\\nos._exit(0)")]
    ['process-exit']
    """
    try:
        tree = _parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    scanner = _Scanner(cell)
    try:
        scanner.visit(tree)
    except RecursionError:
        scanner.flag("introspection", "code too deeply nested to scan", None)
    scanner.finish()
    return list(dict.fromkeys(scanner.flags))


MAX_SCAN_CHARS = 200_000     # a cell longer than this is flagged, not parsed
MAX_SCAN_TOTAL = 2_000_000   # what one submission's scan reads at most
MAX_PRELUDE = 200            # distinct import lines carried from cell to cell


def scan_cells(cells: list[str]) -> list[Flag]:
    """Flags for a list of cells, with aliases (``import numpy as np``) carried over.

    Linear in the submission's size: the import lines carried over are distinct and capped,
    and a cell too large to be a reasonable answer is flagged without being parsed.
    """
    flags = []
    prelude: list = []
    budget = MAX_SCAN_TOTAL
    for i, source in enumerate(cells):
        if len(source) > MAX_SCAN_CHARS or len(source) > budget:
            flags.append(Flag("resource", f"a cell of {len(source) // 1000} kB was too large "
                                          "to scan for suspicious code", i))
            continue
        budget -= len(source)
        text = "\n".join(prelude + [source])
        found = _scan_cached(text)
        offset = sum(p.count("\n") + 1 for p in prelude)
        for f in found:  # keep only what lies in this cell, re-based to its own lines
            if f.line is None or f.line > offset:
                flags.append(Flag(f.code, f.message, i, None if f.line is None else f.line - offset))
        for line in source.splitlines():
            if len(prelude) < MAX_PRELUDE and line.startswith(("import ", "from ")) and \
                    line not in prelude and len(line) < 200 and _parses(line):
                prelude.append(line)
    return list(dict.fromkeys(flags))


@bounded_text_cache(max_chars=16384, maxsize=1024)   # at most 16 MiB of cells kept
def _scan_cached(text: str) -> tuple:
    """:func:`scan_source` of a text, a short one once per process: the cells a class shares
    (left as released, or the same set-up) are scanned once, not once per student."""
    return tuple(scan_source(text))


def _parses(line):
    try:
        _parse(line)
        return True
    except SyntaxError:
        return False
