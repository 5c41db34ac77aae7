"""classroom/reach.py: which folders are closed to the demo accounts, and the binds past them."""

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("classroom_reach", ROOT / "classroom" / "reach.py")
reach = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reach)


def test_binds_open_only_the_needed_paths_below_a_closed_folder():
    base = Path(tempfile.mkdtemp())  # pytest's tmp_path itself sits under a closed folder
    try:
        os.chmod(base, 0o755)
        closed = base / "closed"
        (closed / "env" / "bin").mkdir(parents=True)
        (closed / "repo").mkdir()
        (closed / "secret").mkdir()
        os.chmod(closed, 0o700)
        paths = [closed / "env", closed / "env" / "bin", closed / "repo", "/usr"]
        assert reach.closed_folders(paths) == [closed]
        args = reach.bind_args(paths)
    finally:
        shutil.rmtree(base)
    # the closed folder becomes an empty enterable one; env (which holds bin) and repo are
    # bound back read-only, nothing else (secret stays out of sight)
    assert args == ["--perms", "0755", "--tmpfs", str(closed),
                    "--ro-bind", str(closed / "env"), str(closed / "env"),
                    "--ro-bind", str(closed / "repo"), str(closed / "repo")]


def test_nothing_to_do_where_every_folder_is_open():
    assert reach.bind_args(["/usr/bin", "/tmp"]) == []
    assert reach.wrap(["true"], ["/usr/bin"]) == ["true"]
