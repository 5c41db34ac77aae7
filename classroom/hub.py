"""``make classroom``: a demo class on a real JupyterHub, on 127.0.0.1, stopped by Ctrl-C.

What it starts (classroom/README.md says how to use it):

* unix accounts for an instructor and a few students (``useradd``, homes under the state
  folder), because nbgrader's exchange names every submission after its unix account and
  ``lr-course collect`` refuses one that its student does not own;
* nbgrader's exchange, a folder every account may write (``Exchange.root``);
* the course: a copy of the repository's ``autograder/`` (config and source notebooks) in
  the instructor's home, its ``CourseDirectory.db_url`` on
* a throw-away PostgreSQL server (``postgres.py``) holding the gradebook;
* JupyterHub (``jupyterhub_config.py``) with configurable-http-proxy, the local process
  spawner, a shared demo password, and formgrader as a hub service running as the instructor.

Everything it made (accounts, processes, the database, the state folder) is removed when it
stops, unless ``--keep`` is given. It must run as root: only root can create the accounts and
start servers as them.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from postgres import PostgresServer, free_port  # noqa: E402
from reach import needed_paths, wrap  # noqa: E402

COURSE_ID = "lr-course"
MARK = "lr-course classroom demo account"  # the GECOS field of the accounts we create
PAGE_CONFIG_OFF = {"@jupyterlab/apputils-extension:announcements": True}


def _bin(name):
    return str(Path(sys.executable).parent / name)


def find_chp():
    """configurable-http-proxy: the one ``make chp`` put in the venv, else one on PATH."""
    local = ROOT / ".venv" / "chp" / "node_modules" / ".bin" / "configurable-http-proxy"
    if local.exists():
        return str(local)
    return shutil.which("configurable-http-proxy")


def _account(name):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def make_account(name, home: Path):
    """A fresh demo account with its home at ``home``; refuse to touch anyone else's."""
    found = _account(name)
    if found is not None:
        if found.pw_gecos != MARK:
            raise SystemExit(f"classroom: a unix account named {name!r} exists and is not a "
                             "demo account; choose other names (--instructor, --students)")
        remove_account(name)  # left over from a run that was killed: start clean
    subprocess.run(["useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/bash",
                    "--comment", MARK, "--user-group", name], check=True)
    os.chmod(home, 0o700)  # useradd's default may let every account read it: not a student's
    return _account(name)


def _pids_of(uid):
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    yield int(entry.name)
            except OSError:
                pass


def remove_account(name):
    """End the demo account's processes (it is ours: MARK), then delete the account."""
    found = _account(name)
    if found is None or found.pw_gecos != MARK:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = list(_pids_of(found.pw_uid))
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        if pids:
            time.sleep(1)
    subprocess.run(["userdel", name], check=False, capture_output=True)
    subprocess.run(["groupdel", name], check=False, capture_output=True)


def _write(path: Path, text: str, mode=0o644):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)


def _chown_tree(path: Path, account):
    for dirpath, dirnames, filenames in os.walk(path):
        os.chown(dirpath, account.pw_uid, account.pw_gid)
        for name in filenames:
            os.chown(os.path.join(dirpath, name), account.pw_uid, account.pw_gid)


class Classroom:
    """The demo class: :meth:`prepare`, :meth:`start`, then :meth:`stop` (removes it all)."""

    def __init__(self, state, port=8000, instructor="instructor", students=("ada", "ben"),
                 password="lr-course-demo", keep=False):
        self.state = Path(state).resolve()
        self.port = port
        self.instructor = instructor
        self.students = list(students)
        self.password = password
        self.keep = keep
        self.created = []
        self.postgres = None
        self.hub = None
        self.log = None

    @property
    def users(self):
        return [self.instructor, *self.students]

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def home(self, user) -> Path:
        return self.state / "home" / user

    @property
    def course(self) -> Path:
        return self.home(self.instructor) / COURSE_ID

    @property
    def exchange(self) -> Path:
        return self.state / "exchange"

    def prepare(self):
        if os.geteuid() != 0:
            raise SystemExit("classroom: run as root (sudo make classroom): it creates a unix "
                             "account per user, as nbgrader's exchange needs")
        chp = find_chp()
        if chp is None:
            raise SystemExit("classroom: configurable-http-proxy not found: run make chp")
        if self.state.exists() and any(self.state.iterdir()):
            raise SystemExit(f"classroom: {self.state} is not empty (a previous run?): remove "
                             "it or pass --state DIR")
        for folder in (self.state, self.state / "home", self.state / "hub"):
            folder.mkdir(parents=True, exist_ok=True)
            os.chmod(folder, 0o755)  # the accounts and the database server must get through
        accounts = {}
        for user in self.users:
            accounts[user] = make_account(user, self.home(user))
            self.created.append(user)
        # nbgrader's exchange: every account writes into it (the course folders inside are
        # made by the instructor's release, with nbgrader's own permissions).
        self.exchange.mkdir()
        os.chmod(self.exchange, 0o777)
        self.postgres = PostgresServer(self.state / "postgres", database="lr_course_gradebook")
        self.postgres.start()
        shared = (f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
                  f"c.Exchange.root = {str(self.exchange)!r}\n")
        config = {"student": self.state / "etc" / "student",
                  "instructor": self.state / "etc" / "instructor"}
        _write(config["student"] / "nbgrader_config.py", "c = get_config()\n" + shared)
        # Students see their assignments, never the formgrader or the assignment creator.
        _write(config["student"] / "jupyter_server_config.json", json.dumps({"ServerApp": {
            "jpserver_extensions": {"nbgrader.server_extensions.formgrader": False}}}))
        _write(config["student"] / "labconfig" / "page_config.json", json.dumps({
            "disabledExtensions": {**PAGE_CONFIG_OFF, "@jupyter/nbgrader:formgrader": True,
                                   "@jupyter/nbgrader:create-assignment": True}}))
        _write(config["instructor"] / "nbgrader_config.py", "c = get_config()\n" + shared
               + f"c.CourseDirectory.root = {str(self.course)!r}\n")
        # formgrader's lab panel frames the formgrader page: allow frames from the same origin
        _write(config["instructor"] / "jupyter_server_config.json", json.dumps({"ServerApp": {
            "tornado_settings": {"headers": {
                "Content-Security-Policy": "frame-ancestors 'self'"}}}}))
        _write(config["instructor"] / "labconfig" / "page_config.json", json.dumps({
            "disabledExtensions": PAGE_CONFIG_OFF}))
        # The course: the repository's config and source notebooks, its gradebook on PostgreSQL
        self.course.mkdir()
        course_config = (ROOT / "autograder" / "nbgrader_config.py").read_text()
        _write(self.course / "nbgrader_config.py", course_config + (
            "\n# The classroom's (classroom/hub.py): the gradebook and the shared exchange\n"
            f"c.CourseDirectory.db_url = {self.postgres.url!r}\n"
            f"c.Exchange.root = {str(self.exchange)!r}\n"))
        shutil.copytree(ROOT / "autograder" / "source", self.course / "source")
        _chown_tree(self.home(self.instructor), accounts[self.instructor])
        room = {
            "state": str(self.state), "port": self.port, "hub_port": free_port(),
            "proxy_api_port": free_port(), "service_port": free_port(), "chp": chp,
            "singleuser": _bin("jupyterhub-singleuser"),
            "path": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin",
                                     "/usr/bin", "/bin"]),
            "password": self.password, "instructor": self.instructor,
            "students": self.students, "homes": {u: str(self.home(u)) for u in self.users},
            "config": {k: str(v) for k, v in config.items()}, "course": str(self.course),
            "course_id": COURSE_ID,
        }
        _write(self.state / "hub" / "classroom.json", json.dumps(room, indent=1), 0o600)
        return room

    def start(self, timeout=120.0):
        """Start JupyterHub and wait until its API answers (RuntimeError with its log if not)."""
        env = dict(os.environ, LR_COURSE_CLASSROOM=str(self.state / "hub" / "classroom.json"))
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        self.log = open(self.state / "hub" / "jupyterhub.log", "ab")
        # The hub, and so every server it starts, sees the interpreter and the checkout even
        # where they sit in a folder the accounts cannot enter (reach.py).
        self.hub = subprocess.Popen(
            wrap([_bin("jupyterhub"), "-f", str(HERE / "jupyterhub_config.py")],
                 needed_paths(ROOT)),
            cwd=self.state / "hub", env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.hub.poll() is not None:
                raise RuntimeError(f"JupyterHub exited ({self.hub.returncode}):\n{self.hub_log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/hub/api/", timeout=3) as reply:
                    if reply.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"JupyterHub did not answer within {timeout:.0f} s:\n"
                                   f"{self.hub_log()}")
            time.sleep(0.5)

    def hub_log(self, tail=4000) -> str:
        path = self.state / "hub" / "jupyterhub.log"
        return path.read_text(errors="replace")[-tail:] if path.exists() else ""

    def describe(self) -> dict:
        return {"url": self.url, "instructor": self.instructor, "students": self.students,
                "password": self.password, "state": str(self.state),
                "course": str(self.course), "exchange": str(self.exchange),
                "db_url": self.postgres.url if self.postgres else None,
                "formgrader": f"{self.url}/services/{COURSE_ID}/",
                "homes": {u: str(self.home(u)) for u in self.users}}

    def _stop_proxy(self):
        """The proxy has a session of its own and survives a hub that died: end it by pid."""
        pid_file = self.state / "hub" / "jupyterhub-proxy.pid"
        try:
            pid = int(pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return
        if b"configurable-http-proxy" in cmdline:
            os.kill(pid, signal.SIGTERM)

    def stop(self):
        """Stop the hub (it stops the servers, the service and the proxy), then the rest."""
        if self.hub is not None and self.hub.poll() is None:
            os.killpg(self.hub.pid, signal.SIGTERM)  # bubblewrap does not pass signals on
            try:
                self.hub.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.hub.pid, signal.SIGKILL)
                self.hub.wait()
        if self.hub is not None:
            try:  # the proxy and anything else left in the hub's own session
                os.killpg(self.hub.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._stop_proxy()
        if self.log is not None:
            self.log.close()
        if self.postgres is not None:
            self.postgres.stop(remove=not self.keep)
        if not self.keep:
            for user in self.created:
                remove_account(user)
            shutil.rmtree(self.state, ignore_errors=True)


def _names(text):
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"no names in {text!r}")
    return names


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=8000, help="the hub's port on 127.0.0.1")
    p.add_argument("--state", default="/tmp/lr-course-classroom",
                   help="folder for the homes, the exchange, the database and the hub")
    p.add_argument("--instructor", default="instructor", help="the instructor's login")
    p.add_argument("--students", type=_names, default=["ada", "ben"],
                   help="the students' logins, comma-separated")
    p.add_argument("--password", default="lr-course-demo", help="everyone's demo password")
    p.add_argument("--keep", action="store_true",
                   help="keep the accounts, the state folder and the database files on exit")
    p.add_argument("--ready-file", help="write the classroom's description (JSON) here once "
                                        "the hub answers (for tests)")
    args = p.parse_args(argv)
    room = Classroom(args.state, args.port, args.instructor, args.students, args.password,
                     args.keep)

    def _stop(signum, frame):
        raise KeyboardInterrupt

    # Set here, not inherited: a shell starting us in the background ignores SIGINT for us.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop)
    try:
        room.prepare()
        room.start()
        info = room.describe()
        if args.ready_file:
            _write(Path(args.ready_file), json.dumps(info, indent=1))
        print(f"""
The classroom is up: {info['url']}
  logins       {args.instructor} (instructor), {', '.join(args.students)} (students); password: {args.password}
  formgrader   {info['formgrader']} (the instructor's course, as a hub service)
  course       {info['course']} (lr-course commands run there, in the instructor's terminal)
  exchange     {info['exchange']}
  gradebook    {info['db_url']}
Ctrl-C stops it and removes the accounts, the database and {args.state}.""", flush=True)
        while room.hub.poll() is None:
            time.sleep(1)
        print(f"classroom: JupyterHub exited ({room.hub.returncode}):\n{room.hub_log()}",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nclassroom: stopping", flush=True)
        return 0
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup
        room.stop()


if __name__ == "__main__":
    sys.exit(main())
