"""Render the lessons to static HTML pages that show their equations with no network.

    python tools/build_html.py                       # execute every lesson into _build/html
    python tools/build_html.py --no-execute a.ipynb  # render as committed (no outputs), faster
    python tools/build_html.py --output-dir DIR ...

nbconvert's pages load MathJax from a CDN, so offline every equation stays raw LaTeX. Here
MathJax 2 is copied from the ``jupyter-server-mathjax`` package (a dependency of the course)
into ``<output-dir>/mathjax/`` and every page loads it by a relative URL: the folder can be
opened from disk, served anywhere, or zipped, and its math renders. Without widget state the
explorers' static PNGs are embedded. ``make html`` runs this; tests/browser/test_html_math.py
opens a page built this way with every network request blocked.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: MathJax 2's combined configuration that jupyter-server-mathjax ships (TeX in, HTML-CSS or
#: MathML out), with the Safe extension nbconvert also asks for.
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"


def mathjax_source() -> Path:
    """The folder of MathJax's files inside the installed jupyter-server-mathjax package."""
    try:
        import jupyter_server_mathjax
    except ImportError:
        sys.exit("make html needs the jupyter-server-mathjax package: pip install -e . (or make .venv/.installed-stamp)")
    static = Path(jupyter_server_mathjax.__file__).resolve().parent / "static"
    if not (static / "MathJax.js").is_file():
        sys.exit(f"no MathJax.js in {static}: reinstall jupyter-server-mathjax")
    return static


def build(notebooks: list[Path], output_dir: Path, *, execute: bool = True) -> list[Path]:
    """Render notebooks to ``output_dir`` with MathJax served from ``output_dir/mathjax``.

    Args:
        notebooks: the .ipynb files.
        output_dir: where the pages go (created; its ``mathjax/`` is replaced).
        execute: run each notebook first (as ``make html`` does), or render it as committed.

    Returns:
        The HTML files written, one per notebook.
    """
    output_dir.mkdir(parents=True, exist_ok=True)
    target = output_dir / "mathjax"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(mathjax_source(), target)
    pages = []
    for notebook in notebooks:
        start = time.perf_counter()
        command = [sys.executable, "-m", "nbconvert", "--to", "html", "--output-dir", str(output_dir),
                   f"--HTMLExporter.mathjax_url=mathjax/MathJax.js?config={MATHJAX_CONFIG}"]
        if execute:
            command += ["--execute", "--ExecutePreprocessor.store_widget_state=False"]
        subprocess.run(command + [str(notebook)], check=True, capture_output=True, text=True)
        page = output_dir / (notebook.stem + ".html")
        pages.append(page)
        print(f"{page}  ({time.perf_counter() - start:.1f} s)", flush=True)
    return pages


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--output-dir", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--no-execute", action="store_true", help="render without running the cells")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    try:
        build(notebooks, args.output_dir, execute=not args.no_execute)
    except subprocess.CalledProcessError as error:
        print(error.stderr[-3000:], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
