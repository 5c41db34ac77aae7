"""Fixtures of the browser test: a throw-away JupyterLab server and a headless Chromium page."""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"
LESSONS = ROOT / "notebooks"
CHROMIUM = os.environ.get("LR_COURSE_CHROMIUM", "/usr/bin/chromium")
# Flags that keep Chromium quiet and offline in a container: no sandbox (we are often root in
# CI), no GPU, and none of the background calls home that would only add console noise.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _in_ci():
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _missing(reason):
    """In CI a missing browser is a failure (the test must run there); elsewhere a skip."""
    if _in_ci():
        pytest.fail(f"{reason} (CI=true, so the browser test may not be skipped)")
    pytest.skip(reason)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def lab(tmp_path_factory, artifacts):
    """Start JupyterLab on 127.0.0.1 over a copy of the demo and the lessons; yield (url, token, root)."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _missing(f"Chromium not found at {CHROMIUM}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("the playwright package is not installed")

    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "notebooks"
    root.mkdir()
    shutil.copy(HERE / "explorer_demo.ipynb", root / "explorer_demo.ipynb")
    for lesson in LESSONS.glob("*.ipynb"):  # copies: the browser's edits never touch the repo
        shutil.copy(lesson, root / lesson.name)
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    # Keep the user's JupyterLab settings and workspaces out of it, and theirs out of ours.
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                     ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                     ("JUPYTERLAB_WORKSPACES_DIR", "workspaces")):
        env[var] = str(tmp / sub)
    # The news announcement pops a toast over the notebook; switch that plugin off.
    labconfig = tmp / "config" / "labconfig"
    labconfig.mkdir(parents=True)
    (labconfig / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}
    ))
    jupyter = Path(sys.executable).with_name("jupyter")
    log = open(tmp / "server.log", "wb")
    server = subprocess.Popen(
        [
            str(jupyter), "lab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            # Nothing that reaches the internet: no news feed, no update check.
            "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            # Containers and CI often run as root; the server refuses that unless told.
            *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        ],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"JupyterLab exited early; log:\n{(tmp / 'server.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not answer within 30 s") from None
                time.sleep(0.25)
        yield url, token, root
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        shutil.copy(tmp / "server.log", artifacts / "server.log")


def _need_browser():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _missing(f"Chromium not found at {CHROMIUM}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("the playwright package is not installed")


@pytest.fixture
def page(lab):
    """A headless Chromium page (Debian's chromium, driven by Playwright), its console recorded."""
    yield from _chromium_page()


@pytest.fixture
def offline_page():
    """A headless Chromium page that may load file:// URLs only: every other request is aborted
    and its URL kept in ``page.blocked``, so a page that needs the network shows it."""
    _need_browser()
    yield from _chromium_page(offline=True)


def _chromium_page(offline=False):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        tab = context.new_page()
        tab.console_errors = []
        tab.on("console", lambda msg: msg.type == "error" and tab.console_errors.append(msg.text))
        tab.on("pageerror", lambda exc: tab.console_errors.append(f"uncaught: {exc}"))
        if offline:
            tab.blocked = []

            def only_files(route):
                if route.request.url.startswith("file://"):
                    route.continue_()
                else:
                    tab.blocked.append(route.request.url)
                    route.abort()

            context.route("**/*", only_files)
        try:
            yield tab
        finally:
            context.close()
            browser.close()
