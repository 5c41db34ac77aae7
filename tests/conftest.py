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
