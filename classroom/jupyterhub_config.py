"""JupyterHub configuration of the demo classroom (``make classroom``; see README.md here).

``classroom/hub.py`` prepares the machine (unix accounts, the exchange, the course, the
PostgreSQL gradebook) and writes what it made to a JSON file named by the environment variable
``LR_COURSE_CLASSROOM``; this file turns that into JupyterHub settings. Read it as the shape of
a real class's configuration: only the authenticator (a shared demo password) and the local
spawner change on Zero to JupyterHub (README.md, "A real class").
"""

import json
import os

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file

with open(os.environ["LR_COURSE_CLASSROOM"]) as fh:
    room = json.load(fh)

instructor = room["instructor"]
students = room["students"]

# -- where it listens: loopback only -------------------------------------------------------
c.JupyterHub.bind_url = f"http://127.0.0.1:{room['port']}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = room["hub_port"]
c.ConfigurableHTTPProxy.command = [room["chp"]]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{room['proxy_api_port']}"
c.JupyterHub.db_url = f"sqlite:///{room['state']}/hub/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = f"{room['state']}/hub/jupyterhub_cookie_secret"
c.JupyterHub.pid_file = f"{room['state']}/hub/jupyterhub.pid"
# The proxy runs in a session of its own (it outlives a crashed hub by design): hub.py reads
# its pid here to stop it.
c.ConfigurableHTTPProxy.pid_file = f"{room['state']}/hub/jupyterhub-proxy.pid"

# -- who may log in: the demo's accounts, one shared password -------------------------------
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = room["password"]
c.Authenticator.allowed_users = {instructor, *students}
c.Authenticator.admin_users = {instructor}

# -- each user's own server, as their own unix account ---------------------------------------
# nbgrader's exchange names a submission after the unix account that made it (and lr-course
# collect checks that the account owns it), so every student must be a real user.
c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.Spawner.cmd = [room["singleuser"]]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 180  # two cores, a hub, a database and several servers at once
c.Spawner.http_timeout = 180


def _config_path(spawner):
    """Instructors get the formgrader and the course root; students only their assignments."""
    return room["config"]["instructor" if spawner.user.name == instructor else "student"]


c.Spawner.environment = {
    "PATH": room["path"],
    "JUPYTER_CONFIG_PATH": _config_path,
    # several kernels share two cores: one BLAS thread each
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
}

# -- formgrader as a hub service, nbgrader's documented multi-grader layout -----------------
# The instructor's course runs in its own Jupyter server, started and proxied by the hub at
# /services/<course>/; members of the formgrade group may open it.
course_id = room["course_id"]
service = {
    "name": course_id,
    "url": f"http://127.0.0.1:{room['service_port']}",
    "command": [room["singleuser"], f"--ServerApp.root_dir={room['course']}"],
    "cwd": room["course"],
    "oauth_no_confirm": True,
    "user": instructor,  # the formgrader reads and writes the instructor's course
    "environment": {
        "PATH": room["path"],
        "HOME": room["homes"][instructor],
        "JUPYTER_CONFIG_PATH": room["config"]["instructor"],
        "JUPYTERHUB_DEFAULT_URL": "/lab",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    },
}
c.JupyterHub.services = [service]
c.JupyterHub.load_groups = {f"formgrade-{course_id}": {"users": [instructor]}}
c.JupyterHub.load_roles = [
    {
        "name": f"formgrade-{course_id}",
        "groups": [f"formgrade-{course_id}"],
        "scopes": [f"access:services!service={course_id}", "list:services",
                   f"read:services!service={course_id}"],
    },
    # nbgrader's course list asks the hub which services exist, with the server's token
    {"name": "server", "scopes": ["inherit"]},
]
