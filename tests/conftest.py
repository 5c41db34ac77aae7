"""Suite-wide pytest configuration."""

import os
import sys

# The recorders run only where PyTorch is installed (they write the committed reference data);
# pytest's doctest collection must not import them.
collect_ignore_glob = ["reference/record_*.py"]

# On Python 3.10, pytest's collection leaves the standard library's distutils where setuptools'
# import hook (pulled in by nbgrader) refuses it; telling setuptools to use the standard one is
# harmless there. Python 3.12 has no distutils, so this applies only before it.
if sys.version_info < (3, 12):
    os.environ.setdefault("SETUPTOOLS_USE_DISTUTILS", "stdlib")


def load_tool(name):
    """A script of tools/ as a module (the scripts are not a package, and must not become one)."""
    import importlib.util
    from pathlib import Path

    tools = Path(__file__).resolve().parents[1] / "tools"
    if str(tools) not in sys.path:  # a tool may import its sibling (mutants -> oracle)
        sys.path.append(str(tools))
    spec = importlib.util.spec_from_file_location(f"tools_{name}", tools / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tools():
    """``tools("mutants")``: load a script of tools/ by name, once per session."""
    import functools

    return functools.lru_cache(maxsize=None)(load_tool)
