"""The JupyterHub classroom end to end (``make classroom``, classroom/README.md).

The module starts the real classroom once (classroom/hub.py: JupyterHub, configurable-http-
proxy, unix accounts for an instructor and two students, nbgrader's exchange, formgrader as a
hub service, a PostgreSQL gradebook). ``test_the_classroom_answers`` checks the hub, the
logins and the shared exchange without a browser; ``test_a_class_through_the_browser`` runs a
whole assignment in headless Chromium:

* the instructor generates ps1 with ``lr-course release`` and releases it to the exchange
  with formgrader's Release button;
* each student logs in, fetches it from the Assignments tab, answers (the test writes the
  notebook in the student's home: one right, one whose step decay
  drops once too often), checks
  it with ``lr-course check`` as that student, and submits it from the Assignments tab;
* the instructor runs ``lr-course collect``, ``lr-course grade`` and ``lr-course feedback``
  in the course (as the instructor's account) and releases the feedback with formgrader's
  button;
* each student fetches the feedback and the test reads the score on the feedback page in
  the browser: full marks for the right answer, fewer for the wrong one.

The classroom must run as root (it creates the accounts). It needs PostgreSQL, bubblewrap,
configurable-http-proxy (``make chp``) and Chromium: without them the tests skip, except in
CI (``CI=true``), where they fail (`.ci/run` installs them). Screenshots of a failure, the hub's
log and the commands' output go to tests/artifacts/browser/.
"""

from __future__ import annotations

import http.cookiejar
import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from .conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, _free_port, _in_ci, _missing

ROOT = Path(__file__).resolve().parents[2]
CLASSROOM = ROOT / "classroom"
ASSIGNMENT = "ps1_schedules"
STUDENTS = ("ada", "ben")
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def _load(name):
    spec = importlib.util.spec_from_file_location(f"classroom_{name}", CLASSROOM / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


reach = _load("reach")
postgres = _load("postgres")
hub = _load("hub")


def _decayed_from_the_start(nb):
    """ben's mistake: step_decay drops once too often (already decayed at step 0), which
    every value check of step_decay, visible or hidden, sees."""
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "step_decay":
            right = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = right.replace("(t // drop_every)", "(t // drop_every + 1)")
            assert cell["source"] != right, "ps1's step_decay solution changed: update the test"
    return nb


def _require():
    """Everything the classroom needs, or a skip (a failure in CI)."""
    if os.geteuid() != 0:
        if _in_ci():
            pytest.fail("the classroom test runs as root in CI (it creates unix accounts)")
        pytest.skip("the classroom creates unix accounts: run the suite as root")
    problems = []
    if postgres.postgres_bindir() is None:
        problems.append("PostgreSQL (apt-get install postgresql)")
    if hub.find_chp() is None:
        problems.append("configurable-http-proxy (make chp)")
    if not (BIN / "jupyterhub").exists():
        problems.append("jupyterhub (pip install -e '.[dev]')")
    if reach.bind_args(reach.needed_paths(ROOT)) and shutil.which("bwrap") is None:
        problems.append("bubblewrap (the accounts cannot reach this Python without it)")
    for tool in ("useradd", "userdel", "setpriv"):
        if shutil.which(tool) is None:
            problems.append(tool)
    if problems:
        _missing("the classroom needs " + ", ".join(problems))


class Room:
    """The running classroom: its description (hub.py's ready file) and a way to act as a user."""

    def __init__(self, info, log):
        self.info = info
        self.url = info["url"]
        self.course = Path(info["course"])
        self.exchange = Path(info["exchange"])
        self.log = log

    def home(self, user) -> Path:
        return Path(self.info["homes"][user])

    def run(self, user, *argv, cwd=None, check=True, timeout=600):
        """``argv`` as the unix account ``user``, as its terminal in the hub would run it."""
        config = "instructor" if user == self.info["instructor"] else "student"
        env = {"PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin", "HOME": str(self.home(user)),
               "USER": user, "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1",
               "OMP_NUM_THREADS": "1",
               "JUPYTER_CONFIG_PATH": str(Path(self.info["state"]) / "etc" / config)}
        argv = [str(BIN / argv[0]) if (BIN / argv[0]).exists() else argv[0], *argv[1:]]
        result = subprocess.run(reach.as_user(user, argv, reach.needed_paths(ROOT)),
                                cwd=cwd or self.home(user), env=env, capture_output=True,
                                text=True, timeout=timeout)
        with open(self.log, "a") as out:
            out.write(f"$ ({user}) {' '.join(argv)}\n{result.stdout}{result.stderr}"
                      f"[exit {result.returncode}]\n")
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} as {user} failed ({result.returncode}):\n"
                                 f"{result.stdout[-3000:]}{result.stderr[-3000:]}")
        return result


@pytest.fixture(scope="module")
def classroom():
    _require()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    state = Path(tempfile.gettempdir()) / f"lr-course-classroom-{secrets.token_hex(4)}"
    ready = Path(tempfile.gettempdir()) / f"{state.name}.json"
    commands = ARTIFACTS / "classroom-commands.log"
    commands.write_text("")
    out = open(ARTIFACTS / "classroom.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, str(CLASSROOM / "hub.py"), "--port", str(_free_port()),
         "--state", str(state), "--students", ",".join(STUDENTS), "--ready-file", str(ready)],
        stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not ready.exists():
            if proc.poll() is not None:
                pytest.fail(f"the classroom exited ({proc.returncode}):\n"
                            f"{(ARTIFACTS / 'classroom.log').read_text()[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail("the classroom was not up within 240 s")
            time.sleep(0.5)
        time.sleep(0.2)  # the file is written in one go; let the writer close it
        yield Room(json.loads(ready.read_text()), commands)
    finally:
        hub_log = state / "hub" / "jupyterhub.log"
        if hub_log.exists():
            shutil.copy(hub_log, ARTIFACTS / "jupyterhub.log")
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # hub.py stops everything and removes the accounts
            try:
                proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        out.close()
        ready.unlink(missing_ok=True)
        assert not state.exists(), f"the classroom left {state} behind"


# -- without a browser: the hub, the logins, the exchange --------------------------------

def _login(url, user, password):
    """POST the hub's login form; returns (status, final URL, cookie names)."""
    jar = http.cookiejar.CookieJar()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    with opener.open(f"{url}/hub/login", timeout=30) as page:
        xsrf = re.search(r'name="_xsrf"[^>]*value="([^"]+)"', page.read().decode()).group(1)
    form = urllib.parse.urlencode({"username": user, "password": password,
                                   "_xsrf": xsrf}).encode()
    try:
        with opener.open(f"{url}/hub/login", data=form, timeout=30) as reply:
            status, where = reply.status, reply.url
    except urllib.error.HTTPError as exc:
        status, where = exc.code, exc.headers.get("Location", "")
    return status, where, {c.name for c in jar}


def test_the_classroom_answers(classroom):
    with urllib.request.urlopen(f"{classroom.url}/hub/api/", timeout=30) as reply:
        assert json.load(reply)["version"]
    for user in (classroom.info["instructor"], *STUDENTS):
        status, where, cookies = _login(classroom.url, user, classroom.info["password"])
        assert status == 302 and "jupyterhub-session-id" in cookies, (user, status, where)
    status, _, cookies = _login(classroom.url, "ada", "not the password")
    assert status == 403 and "jupyterhub-hub-login" not in cookies
    status, _, _ = _login(classroom.url, "mallory", classroom.info["password"])
    assert status == 403  # not on the class list
    # one exchange for everyone: what the instructor writes there, a student reads
    note = classroom.exchange / "hello.txt"
    classroom.run("instructor", "sh", "-c", f"echo from-the-instructor > {note}")
    assert note.stat().st_uid == hub.pwd.getpwnam("instructor").pw_uid
    assert classroom.run("ada", "cat", str(note)).stdout.strip() == "from-the-instructor"
    classroom.run("instructor", "rm", str(note))
    # each student's home is theirs alone
    ada = classroom.run("ben", "ls", str(classroom.home("ada")), check=False)
    assert ada.returncode != 0
    # the course's gradebook is the PostgreSQL one
    config = (classroom.course / "nbgrader_config.py").read_text()
    assert classroom.info["db_url"] in config and classroom.info["db_url"].startswith("postgresql")


# -- the whole class in Chromium -----------------------------------------------------------

@pytest.fixture
def browser(classroom):
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _missing(f"Chromium not found at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                      headless=True)
        pages = {}

        def page_for(user):
            if user not in pages:
                context = chromium.new_context(viewport={"width": 1280, "height": 900})
                context.set_default_timeout(60_000)
                pages[user] = context.new_page()
            return pages[user]

        try:
            yield page_for
        finally:
            for user, page in pages.items():
                try:
                    page.screenshot(path=str(ARTIFACTS / f"classroom-{user}.png"))
                except Exception:  # noqa: BLE001 - a screenshot is a courtesy
                    pass
            chromium.close()


def _log_in(page, room, user, next_path=None):
    query = f"?next={urllib.parse.quote(next_path)}" if next_path else ""
    page.goto(f"{room.url}/hub/login{query}")
    page.fill("#username_input", user)
    page.fill("#password_input", room.info["password"])
    page.click("#login_submit")


def _wait_for(predicate, what, timeout=120):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


def _assignments_tab(page, user):
    """Open nbgrader's Assignments tab of the student's JupyterLab."""
    page.wait_for_url(f"**/user/{user}/lab**", timeout=180_000)
    page.click(".lm-MenuBar-itemLabel:text-is('Nbgrader')", timeout=120_000)
    page.click(".lm-Menu-itemLabel:text-is('Assignment List')")
    page.wait_for_selector("text=Released assignments")


def _formgrader_row(page, room):
    page.goto(f"{room.url}/services/lr-course/formgrader/manage_assignments")
    row = page.locator("tr", has=page.locator("td.name", has_text=ASSIGNMENT))
    row.wait_for()
    return row


def _formgrader_ok(page):
    """Wait for formgrader's result dialog; fail with its log unless it says success."""
    modal = page.locator("#success-modal, #error-modal")
    modal.wait_for(state="visible", timeout=180_000)
    if modal.get_attribute("id") != "success-modal":
        raise AssertionError(f"formgrader reported a failure:\n{modal.inner_text()}")
    modal.locator(".modal-footer button").click()
    modal.wait_for(state="detached")


@pytest.mark.browser
def test_a_class_through_the_browser(classroom, browser):
    room, course = classroom, classroom.course
    teacher = browser("instructor")

    # 1. the instructor: generate the assignment (and its checks file), release it in formgrader
    room.run("instructor", "lr-course", "release", ASSIGNMENT, cwd=course)
    _log_in(teacher, room, "instructor", "/services/lr-course/formgrader/")
    teacher.wait_for_url("**/services/lr-course/formgrader/**", timeout=120_000)
    _formgrader_row(teacher, room).locator("td.release a").click()
    _formgrader_ok(teacher)
    outbound = room.exchange / "lr-course" / "outbound" / ASSIGNMENT
    assert (outbound / f"{ASSIGNMENT}.ipynb").is_file()
    assert (outbound / f"{ASSIGNMENT}.checks.json").is_file()

    # 2. the students: fetch from the Assignments tab, answer, check, submit
    sys.path.insert(0, str(ROOT / "tests" / "grading"))
    from course_fixture import solution_notebook  # the course's own answers, from its source
    answers = {"ada": solution_notebook(course, ASSIGNMENT),
               "ben": _decayed_from_the_start(solution_notebook(course, ASSIGNMENT))}
    for user in STUDENTS:  # both servers start while the first student works
        _log_in(browser(user), room, user)
    checked = {}
    for user in STUDENTS:
        page = browser(user)
        _assignments_tab(page, user)
        page.get_by_role("button", name="Fetch", exact=True).click()
        mine = room.home(user) / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        _wait_for(mine.exists, f"{user}'s fetched notebook")
        assert mine.stat().st_uid == hub.pwd.getpwnam(user).pw_uid
        page.get_by_role("button", name="Submit", exact=True).wait_for()
        mine.write_text(json.dumps(answers[user]))  # the student's work, saved from Lab
        account = hub.pwd.getpwnam(user)
        os.chown(mine, account.pw_uid, account.pw_gid)
        check = room.run(user, "lr-course", "check", mine.name, "--json", cwd=mine.parent)
        checked[user] = json.loads(check.stdout)
        page.get_by_role("button", name="Submit", exact=True).click()
        _wait_for(lambda: any(p.name.startswith(f"{user}+{ASSIGNMENT}+")
                              for p in (room.exchange / "lr-course" / "inbound").iterdir()),
                  f"{user}'s submission in the exchange")
    # a self-check runs the visible tests only (no course source in a student's home)
    assert checked["ada"]["score"] == checked["ada"]["max_score"] > 0
    assert checked["ben"]["score"] < checked["ben"]["max_score"]

    # 3. the instructor: collect, grade (sandboxed, into PostgreSQL), feedback; release it
    room.run("instructor", "lr-course", "collect", ASSIGNMENT, cwd=course)
    graded = room.run("instructor", "lr-course", "grade", ASSIGNMENT, "--quiet", cwd=course)
    scores = dict(re.findall(r"^(\w+): ([\d.]+)/[\d.]+", graded.stdout, re.MULTILINE))
    assert set(scores) == set(STUDENTS), graded.stdout
    room.run("instructor", "lr-course", "feedback", ASSIGNMENT, cwd=course)
    assert not list(course.rglob("gradebook.db"))
    row = _formgrader_row(teacher, room)
    assert row.locator("td.num-submissions").inner_text().strip() == str(len(STUDENTS))
    row.locator("td.release-feedback a").click()
    _formgrader_ok(teacher)

    # 4. the students: fetch the feedback and read their score in the browser
    seen = {}
    for user in STUDENTS:
        page = browser(user)
        page.goto(f"{room.url}/user/{user}/lab")
        _assignments_tab(page, user)
        page.get_by_role("button", name="Fetch Feedback").click()
        folder = room.home(user) / ASSIGNMENT / "feedback"
        _wait_for(lambda: list(folder.glob(f"*/{ASSIGNMENT}.html")), f"{user}'s feedback")
        page.get_by_text("(view feedback)").wait_for()
        html = next(folder.glob(f"*/{ASSIGNMENT}.html")).relative_to(room.home(user))
        page.goto(f"{room.url}/user/{user}/files/{urllib.parse.quote(str(html))}")
        # lr-course's feedback page ends "score: 21/25"; nbgrader's heads "(Score: 21.0 / 25.0)"
        shown = re.search(r"score:\s*([\d.]+)\s*/\s*([\d.]+)", page.inner_text("body"),
                          re.IGNORECASE)
        assert shown, page.inner_text("body")[:2000]
        got, out_of = map(float, shown.groups())
        seen[user] = (got, out_of)
    # formgrader is the instructor's: a student's request is refused by the hub
    refused = browser("ada").goto(f"{room.url}/services/lr-course/formgrader/")
    assert refused.status == 403, (refused.status, refused.url)
    assert seen["ada"][0] == seen["ada"][1] > 0, seen
    assert seen["ben"][0] < seen["ben"][1], seen
    assert {u: s[0] for u, s in seen.items()} == {u: float(v) for u, v in scores.items()}
