"""Static and runtime detection of suspicious code (lr_course.grading.flags)."""

import importlib.util
import math
import sys
import types

import numpy as np
import pytest

from lr_course.grading.checks.watch import RuntimeWatch
from lr_course.grading.flags import CODES, Flag, scan_cells, scan_source

HONEST = '''
import numpy as np
import matplotlib.pyplot as plt

def adam_init(params):
    return {"m": np.zeros_like(params), "v": np.zeros_like(params), "t": 0}

def adam_update(params, grads, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * grads
    v = beta2 * state["v"] + (1 - beta2) * grads ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    with np.errstate(over="ignore"):
        new = params - lr * m_hat / (np.sqrt(v_hat) + eps)
    assert np.allclose(new.shape, params.shape)
    get_ipython().run_line_magic("matplotlib", "inline")
    return new, {"m": m, "v": v, "t": t}

data = np.load("weights.npy") if False else None
rng = np.random.default_rng(0)
print(f"{math.pi:.2f}")
'''


def codes(source):
    return sorted({f.code for f in scan_source(source)})


def test_honest_code_is_not_flagged():
    assert scan_source(HONEST) == []


@pytest.mark.parametrize("source, code", [
    ("import numpy as np\nnp.allclose = lambda *a, **k: True", "numpy-patch"),
    ("import numpy\nnumpy.testing.assert_allclose = print", "numpy-patch"),
    ("from numpy import testing as t\nt.assert_allclose = print", "numpy-patch"),
    ("import numpy as np\nsetattr(np, 'isclose', max)", "numpy-patch"),
    ("import numpy as np\nvars(np)['isclose'] = max", "numpy-patch"),
    ("import builtins\nbuiltins.abs = lambda x: 0", "builtins-patch"),
    ("__builtins__['len'] = lambda x: 0", "builtins-patch"),
    ("__builtins__.len = lambda x: 0", "builtins-patch"),
    ("import sys\nsys.modules['numpy'] = None", "sys-modules"),
    ("import sys\ndel sys.modules['numpy']", "sys-modules"),
    ("get_ipython().input_transformers_cleanup.append(lambda lines: [])", "ipython-hook"),
    ("ip = get_ipython()\nip.events.register('pre_run_cell', f)", "ipython-hook"),
    ("exec('x = 1')", "dynamic-code"),
    ("eval(compile('1', 'x', 'eval'))", "dynamic-code"),
    ("import base64\nexec(base64.b64decode('eD0x'))", "encoded-code"),
    ("open('/work/autograder/gradebook.db', 'rb').read()", "file-access"),
    ("open('../../other_student/ps2.ipynb').read()", "file-access"),
    ("import os\nos.listdir('/')", "file-access"),
    ("import sqlite3", "file-access"),
    ("import sys\nsys.exit(0)", "process-exit"),
    ("import os\nos._exit(0)", "process-exit"),
    ("import subprocess\nsubprocess.run(['ls'])", "subprocess"),
    ("import os\nos.system('ls')", "subprocess"),
    ("import os\nwhile True:\n    os.fork()", "subprocess"),
    ("import socket\nsocket.create_connection(('example.org', 80))", "network"),
    ("import urllib.request", "network"),
    ("import ctypes", "native-code"),
    ("import sys\nsys._getframe(1).f_globals['x'] = 1", "introspection"),
    ("import gc\ngc.get_objects()", "introspection"),
    ("f.__globals__['np'] = None", "introspection"),
    ("().__class__.__base__.__subclasses__()", "introspection"),
    ("import importlib\nimportlib.import_module('lr_course.optimizers')", "import-hook"),
    ("import sys\nsys.meta_path.insert(0, finder)", "import-hook"),
])
def test_each_kind_of_attack_is_flagged(source, code):
    found = scan_source(source, cell=3)
    assert code in {f.code for f in found}, found
    assert all(f.cell == 3 and f.code in CODES and f.message for f in found)


def test_unparsable_cells_are_not_flagged_and_do_not_crash():
    assert scan_source("def f(:\n") == []
    assert scan_source("x = (" * 10000) == []


def test_aliases_carry_over_between_cells():
    found = scan_cells(["import numpy as nump", "x = 1\nnump.isclose = max"])
    assert [(f.code, f.cell, f.line) for f in found] == [("numpy-patch", 1, 2)]


def test_flag_round_trip_and_junk():
    flag = Flag("network", "imports socket", 2, 5)
    assert Flag.from_dict(flag.to_dict()) == flag
    assert Flag.from_dict("junk").code == "resource"
    assert Flag.from_dict({"code": "made-up", "message": 3}).code in CODES


def test_runtime_watch_reports_and_restores_patches():
    fake = types.ModuleType("fake_numpy_like")
    fake.allclose = np.allclose
    watch = RuntimeWatch({"numpy": fake, "math": math})
    fake.allclose = lambda *a, **k: True
    fake.extra = 1
    del math.tau
    found = {(f["code"], f["message"]) for f in watch.check()}
    assert ("numpy-patch", "replaced numpy.allclose") in found
    assert ("numpy-patch", "added numpy.extra") in found
    assert ("module-patch", "removed math.tau") in found
    watch.restore()
    assert fake.allclose is np.allclose and not hasattr(fake, "extra") and math.tau > 6
    assert watch.check() == []   # each finding is reported once


def test_runtime_watch_sees_sys_modules_and_hooks():
    watch = RuntimeWatch({})
    sys.modules["totally_fake_module"] = types.SimpleNamespace()
    sys.meta_path.insert(0, object())
    try:
        found = {f["code"] for f in watch.check()}
    finally:
        watch.restore()
    assert {"sys-modules", "import-hook"} <= found
    assert "totally_fake_module" not in sys.modules
    assert all(type(f).__name__ != "object" for f in sys.meta_path)


def test_runtime_watch_ignores_honest_imports():
    watch = RuntimeWatch({"numpy": np})
    import numpy.polynomial  # noqa: F401 - a genuine submodule appearing is fine
    import colorsys  # noqa: F401
    assert watch.check() == []


class _EqualToEverything:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


def test_runtime_watch_compares_by_identity_and_keeps_watching_after_genuine_imports():
    fake = types.ModuleType("fakepkg")
    fake.allclose, fake.pi = np.allclose, math.pi
    watch = RuntimeWatch({"fakepkg": fake})
    assert watch.check() == [] and watch.restore() is None      # nothing patched
    fake.allclose = _EqualToEverything()                         # == would call it unchanged
    assert [f["message"] for f in watch.check()] == ["replaced fakepkg.allclose"]
    watch.restore()
    assert fake.allclose is np.allclose
    # a genuine submodule is kept by restore and taken into the snapshot ...
    sub = importlib.util.module_from_spec(importlib.util.spec_from_loader("fakepkg.sub", None))
    sys.modules["fakepkg.sub"] = fake.sub = sub
    try:
        assert watch.check() == []
        watch.restore()
        assert fake.sub is sub
        # ... and a patch made after it is still seen and undone
        del fake.pi
        fake.pi, fake.allclose = 3.0, (lambda *a, **k: True)
        assert {f["message"] for f in watch.check()} == {"replaced fakepkg.pi"}  # allclose: once
        watch.restore()
        assert fake.pi == math.pi and fake.allclose is np.allclose and fake.sub is sub
    finally:
        del sys.modules["fakepkg.sub"]


def test_the_watchs_fast_path_cannot_be_switched_off_from_a_cell(monkeypatch):
    """A cell that replaces the watch's helpers, or the builtins they call, is still seen."""
    import builtins
    from lr_course.grading.checks import watch as watch_mod
    fake = types.ModuleType("fakepkg")
    fake.allclose = np.allclose
    watch = RuntimeWatch({"fakepkg": fake, "watch": watch_mod, "builtins": builtins})
    monkeypatch.setattr(watch_mod, "_unchanged", lambda *a, **k: True)
    monkeypatch.setattr(watch_mod, "_is", lambda a, b: True)
    monkeypatch.setattr(builtins, "all", lambda xs: True)
    fake.allclose = lambda *a, **k: True
    try:
        found = {f["message"] for f in watch.check()}
        watch.restore()
        restored = fake.allclose is np.allclose
    finally:
        monkeypatch.undo()
    assert {"replaced fakepkg.allclose", "replaced watch._unchanged", "replaced watch._is",
            "replaced builtins.all"} <= found
    assert restored


def test_the_scan_is_linear_and_bounded(monkeypatch):
    """A flood of import lines or one huge cell costs the grader little (and is noted)."""
    from lr_course.grading import flags as flags_module
    parsed = []
    real = flags_module.scan_source
    monkeypatch.setattr(flags_module, "scan_source",
                        lambda source, cell=None: parsed.append(len(source)) or real(source, cell))
    imports = "\n".join(f"import numpy as np{i}" for i in range(2000))
    flags = flags_module.scan_cells([imports] * 40 + ["x = 1\n" * 60_000])
    # each cell is read once, with at most MAX_PRELUDE short import lines in front of it
    assert max(parsed) <= len(imports) + flags_module.MAX_PRELUDE * 200
    assert len(parsed) == 40
    assert any(f.code == "resource" and "too large to scan" in f.message for f in flags)
    assert [f for f in scan_cells(["import numpy as np", "np.allclose = 1"])
            if f.code == "numpy-patch"]                 # aliases still carry over


def test_runtime_watch_restores_the_methods_of_watched_classes():
    from lr_course.grading.checks.calls import Record
    watch = RuntimeWatch({"calls.Record": Record})
    real = Record.to_data
    Record.to_data = lambda self: {"ok": True}
    Record.forged = True
    found = watch.check()
    assert {f["message"] for f in found} == {"replaced calls.Record.to_data",
                                             "added calls.Record.forged"}
    watch.restore()
    assert Record.to_data is real and not hasattr(Record, "forged")


def test_runtime_watch_takes_pyexpat_submodules_for_genuine():
    """matplotlib imports pyexpat, whose C code plants spec-less submodules: not a flag."""
    import sys
    for name in [n for n in sys.modules if n.startswith(("xml.parsers", "pyexpat"))]:
        del sys.modules[name]
    watch = RuntimeWatch({})
    import xml.parsers.expat  # noqa: F401
    assert not [f for f in watch.check() if f["code"] == "sys-modules"]
    import types
    sys.modules["lr_course_fake_checks"] = types.ModuleType("lr_course_fake_checks")
    try:
        assert [f for f in watch.check() if f["code"] == "sys-modules"]
    finally:
        del sys.modules["lr_course_fake_checks"]


def test_scans_in_many_threads_at_once_do_not_break_the_parser():
    """A batch scans in its worker threads; CPython 3.11's parser must see one at a time."""
    from concurrent.futures import ThreadPoolExecutor
    deep = "x = " + "(" * 40 + "1" + ")" * 40 + "\nimport numpy as np\nnp.allclose = 1\n"
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: scan_cells([deep] * 5), range(64)))
    assert all(any(f.code == "numpy-patch" for f in r) for r in results)
