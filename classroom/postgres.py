"""A throw-away PostgreSQL server for a gradebook: initdb in a folder, served on 127.0.0.1.

The classroom (``classroom/hub.py``) and the gradebook tests start Debian's PostgreSQL this
way instead of relying on a system service: a fresh cluster in a folder, listening on a free
loopback port (and a unix socket inside the folder), with one database and one role that the
course's ``CourseDirectory.db_url`` names. PostgreSQL refuses to run as root, so when we are
root (CI, containers) the server runs as an unprivileged account (``nobody`` by default)
through ``setpriv``; the folder is handed to that account first.

Authentication is ``trust`` on loopback only: the server is a demo's and a test's, never a
class's (a real class uses a managed PostgreSQL service, see ``classroom/README.md``).

>>> PostgresServer.url_for("gradebook", 5433)
'postgresql+psycopg2://lrcourse@127.0.0.1:5433/gradebook'
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ROLE = "lrcourse"  # the superuser of the throw-away cluster, and the gradebook's owner


def postgres_bindir() -> Path | None:
    """The folder of Debian's ``initdb``/``pg_ctl`` (newest version), else one on PATH, else None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """One PostgreSQL cluster in ``folder``, started by :meth:`start`, removed by :meth:`stop`.

    Args:
        folder: an empty or missing folder for the cluster, its socket and its log (default:
            a new one under the system's temporary folder, reachable by ``user``).
        database: the database to create (the gradebook).
        port: the loopback port (default: a free one).
        user: the account the server runs as when we are root (default ``nobody``).
    """

    def __init__(self, folder=None, database="gradebook", port=None, user="nobody"):
        if folder is None:
            folder = Path(tempfile.mkdtemp(prefix="lr-course-pg-")) / "cluster"
        self.folder = Path(folder).resolve()
        self.database = database
        self.port = port or free_port()
        self.user = user
        self.bindir = postgres_bindir()
        self.started = False

    @staticmethod
    def url_for(database, port, host="127.0.0.1"):
        # The driver is named: SQLAlchemy 2.1 would take psycopg 3 for a bare postgresql://.
        return f"postgresql+psycopg2://{ROLE}@{host}:{port}/{database}"

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the database (``CourseDirectory.db_url``)."""
        return self.url_for(self.database, self.port)

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "postgres.log"

    def _as_server_user(self, argv):
        """``argv`` run as the unprivileged account when we are root, else as ourselves."""
        if os.geteuid() != 0:
            return list(argv)
        return ["setpriv", f"--reuid={self.user}", f"--regid={pwd.getpwnam(self.user).pw_gid}",
                "--clear-groups", "--", *argv]

    def _run(self, argv, **kw):
        result = subprocess.run(self._as_server_user(argv), capture_output=True, text=True,
                                cwd=self.folder, **kw)
        if result.returncode != 0:
            raise RuntimeError(f"{Path(argv[0]).name} failed ({result.returncode}):\n"
                               f"{result.stdout}{result.stderr}")
        return result

    def start(self, timeout=30.0) -> "PostgresServer":
        """initdb, pg_ctl start, then create the database; raise RuntimeError with the log."""
        if self.bindir is None:
            raise RuntimeError("PostgreSQL's initdb was not found (Debian: apt-get install "
                               "postgresql)")
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            if self.folder.parent.name.startswith("lr-course-pg-"):
                os.chmod(self.folder.parent, 0o711)  # our own mkdtemp: let the server through
            entry = pwd.getpwnam(self.user)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
            # Every folder above must let the server account through.
            for parent in self.folder.parents:
                if parent.stat().st_mode & 0o001 == 0:
                    raise RuntimeError(f"{parent} is not searchable by {self.user}: put the "
                                       "cluster in a folder it can reach (e.g. under /tmp)")
        os.chmod(self.folder, 0o700)
        self._run([str(self.bindir / "initdb"), "-D", str(self.data), "-U", ROLE,
                   "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"])
        # Loopback only, our own socket folder, and fsync off: a demo's data, never a class's.
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} "
                   f"-c unix_socket_directories={self.folder} -c fsync=off "
                   "-c full_page_writes=off -c synchronous_commit=off")
        self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                   "-o", options, "-w", "-t", str(int(timeout)), "start"], timeout=timeout + 10)
        self.started = True
        self._run([str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                   "-U", ROLE, self.database])
        return self

    def psql(self, sql: str) -> str:
        """Run ``sql`` in the database with psql; return its unaligned output."""
        return self._run([str(self.bindir / "psql"), "-h", "127.0.0.1", "-p", str(self.port),
                          "-U", ROLE, "-d", self.database, "-At", "-v", "ON_ERROR_STOP=1",
                          "-c", sql]).stdout

    def stop(self, remove=True):
        """pg_ctl stop (fast), then remove the cluster's folder unless ``remove`` is False."""
        if self.started:
            try:
                self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast",
                           "-w", "stop"], timeout=60)
            finally:
                self.started = False
        if remove:
            shutil.rmtree(self.folder, ignore_errors=True)
            if self.folder.parent.name.startswith("lr-course-pg-"):
                shutil.rmtree(self.folder.parent, ignore_errors=True)

    def wait_stopped(self, timeout=10.0) -> bool:
        """True once nothing listens on the port any more."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) != 0:
                    return True
            time.sleep(0.1)
        return False

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
