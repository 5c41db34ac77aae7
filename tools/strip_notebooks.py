"""Strip outputs, execution counts and editor noise from the course's notebooks.

    python tools/strip_notebooks.py            # every lesson and assignment source notebook
    python tools/strip_notebooks.py a.ipynb    # just these
    python tools/strip_notebooks.py --check    # exit 1 and list the notebooks that are not clean

The rule of what stays is :mod:`lr_course.lessons.clean` (``kernelspec`` and ``jupytext``;
cell ``tags``, and ``nbgrader`` markers in notebooks under ``autograder/``);
tests/test_notebooks.py enforces the same rule from the same module.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from lr_course.lessons.clean import strip

ROOT = Path(__file__).resolve().parents[1]


def default_notebooks() -> list[Path]:
    return sorted(ROOT.glob("notebooks/*.ipynb")) + sorted(ROOT.glob("autograder/source/**/*.ipynb"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: all of the course's)")
    parser.add_argument("--check", action="store_true", help="only report notebooks that are not clean")
    args = parser.parse_args(argv)
    dirty = []
    for path in args.paths or default_notebooks():
        original = path.read_text(encoding="utf-8")
        nb = nbformat.reads(original, as_version=4)
        strip(nb, nbgrader="autograder" in path.resolve().parts)
        cleaned = nbformat.writes(nb) + "\n"
        if cleaned != original:
            dirty.append(path)
            if not args.check:
                path.write_text(cleaned, encoding="utf-8")
    verb = "not clean" if args.check else "cleaned"
    for path in dirty:
        print(f"{verb}: {path}")
    return 1 if (args.check and dirty) else 0


if __name__ == "__main__":
    sys.exit(main())
