"""Kitsu's backend (zou), the review room's peer, on loopback: set up from nothing, driven over
its HTTP API only, torn down after.

``ZouServer`` makes a throwaway PostgreSQL cluster (tests/postgres.py, as the test suite does)
and a Redis on free ports, runs ``zou init-db``, ``zou init-data`` and ``zou create-admin``, and
serves zou with gunicorn on 127.0.0.1 the way Kitsu's own deployment guide does (gevent
workers). Zou pins old packages, so it lives in a virtual environment of its own
(``--zou-venv``, default $SOUNDSTAGE_ZOU_VENV or /tmp/zou-venv); ``review_load.py`` exits 2 with
the commands to install it when it is missing.

The routes are zou's own (Kitsu's nginx mounts them under /api; gunicorn serves them at the
root): /auth/login, /data/projects, /data/projects/{id}/sequences, /data/projects/{id}/shots,
/actions/projects/{id}/task-types/{id}/shots/create-tasks, /actions/tasks/{id}/comment (a comment
with a task status change) and /data/shots/with-tasks (the shots of a project with their tasks).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
# The throwaway PostgreSQL server the tests use; one way to start one.
sys.path.insert(0, str(ROOT / "tests"))
from postgres import Server, create_database, start_server  # noqa: E402

DEFAULT_VENV = Path(os.environ.get("SOUNDSTAGE_ZOU_VENV", "/tmp/zou-venv"))
INSTALL_HINT = (
    "zou (Kitsu's backend) is not installed; it pins old packages, so give it a virtual environment"
    " of its own:\n  python3 -m venv /tmp/zou-venv && /tmp/zou-venv/bin/pip install zou gunicorn\n"
    "  apt-get install -y redis-server\n"
    "(or point --zou-venv / $SOUNDSTAGE_ZOU_VENV at another environment)"
)
ADMIN_EMAIL = "admin@example.com"
# Kitsu's deployment guide runs zou under gunicorn with gevent workers.
WORKERS = 3
START_TIMEOUT_S = 120.0


def missing(venv: Path) -> str | None:
    """Why zou cannot be run from ``venv`` (a missing program), or None when it can."""
    for program in (venv / "bin" / "zou", venv / "bin" / "gunicorn"):
        if not program.exists():
            return f"{program} not found"
    if shutil.which("redis-server") is None:
        return "redis-server not found"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class ZouServer:
    """A zou served on loopback from a clean slate; use as a context manager."""

    venv: Path = DEFAULT_VENV
    workers: int = WORKERS
    url: str = ""
    token: str = ""  # the admin's access token (JWT)
    _folder: Path | None = None
    _postgres: Server | None = None
    _processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __enter__(self) -> ZouServer:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start(self) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="zou-peer-"))
        self._postgres = start_server()
        database = make_url(create_database(self._postgres.url))
        redis_port, http_port = _free_port(), _free_port()
        redis = ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self._spawn(redis, "redis.log")
        password = secrets.token_urlsafe(16)
        env = {
            **os.environ,
            "DB_HOST": "127.0.0.1",
            "DB_PORT": str(database.port),
            "DB_USERNAME": database.username or "postgres",
            "DB_PASSWORD": database.password or "",
            "DB_DATABASE": database.database or "",
            "KV_HOST": "127.0.0.1",
            "KV_PORT": str(redis_port),
            # zou refuses to serve with its public default key.
            "SECRET_KEY": secrets.token_hex(32),
            "PREVIEW_FOLDER": str(self._folder / "previews"),
            "TMP_DIR": str(self._folder / "tmp"),
        }
        zou = str(self.venv / "bin" / "zou")
        for command in (["init-db"], ["init-data"], ["create-admin", ADMIN_EMAIL, "--password", password]):
            result = subprocess.run([zou, *command], env=env, cwd=self._folder, capture_output=True, text=True)
            if result.returncode != 0:
                raise RuntimeError(f"zou {command[0]} failed: {(result.stderr or result.stdout).strip()[-400:]}")
        gunicorn = [
            str(self.venv / "bin" / "gunicorn"),
            "--worker-class",
            "gevent",
            "--workers",
            str(self.workers),
            "--bind",
            f"127.0.0.1:{http_port}",
            "zou.app:app",
        ]
        self._spawn(gunicorn, "gunicorn.log", env)
        self.url = f"http://127.0.0.1:{http_port}"
        self.token = self._login(password)

    def _spawn(self, command: list[str], log: str, env: dict[str, str] | None = None) -> None:
        assert self._folder is not None
        with open(self._folder / log, "wb") as out:
            # A session of its own, so stop() can end gunicorn's workers with their master.
            process = subprocess.Popen(
                command, env=env, cwd=self._folder, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._processes.append(process)

    def _login(self, password: str) -> str:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                answer = httpx.post(f"{self.url}/auth/login", json={"email": ADMIN_EMAIL, "password": password})
                answer.raise_for_status()
                return str(answer.json()["access_token"])
            except httpx.HTTPError:
                if time.monotonic() > deadline or any(p.poll() is not None for p in self._processes):
                    raise RuntimeError(f"zou did not answer on {self.url}; see {self._folder}/gunicorn.log") from None
                time.sleep(0.5)

    def stop(self) -> None:
        """End gunicorn, Redis and PostgreSQL and remove every file they wrote; idempotent."""
        for process in reversed(self._processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        self._processes.clear()
        if self._postgres is not None:
            self._postgres.stop()
            self._postgres = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def client(self) -> httpx.Client:
        """A client logged in as the admin."""
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=60)


@dataclass
class ZouProject:
    """A project made over the API, with what the load needs to aim at."""

    id: str
    sequence: str
    task_type: str  # Animation, a shot task type init-data makes
    statuses: dict[str, str]  # short name -> task status id
    shots: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)


def new_project(client: httpx.Client, name: str) -> ZouProject:
    """A project with one sequence, over the API."""
    statuses = {s["short_name"]: s["id"] for s in _ok(client.get("/data/task-status"))}
    task_type = next(t["id"] for t in _ok(client.get("/data/task-types")) if t["name"] == "Animation")
    project = _ok(client.post("/data/projects", json={"name": name}))
    sequence = _ok(client.post(f"/data/projects/{project['id']}/sequences", json={"name": "SQ010"}))
    return ZouProject(project["id"], sequence["id"], task_type, statuses)


def create_shot_call(project: ZouProject, index: int) -> tuple[str, str, dict[str, object]]:
    """The request that creates shot ``index`` of ``project``."""
    body = {"name": f"SH{index:05d}", "sequence_id": project.sequence, "nb_frames": 24 + index % 48}
    return "POST", f"/data/projects/{project.id}/shots", body


def create_tasks(client: httpx.Client, project: ZouProject) -> None:
    """An Animation task on every shot of the project (one bulk call), recorded on ``project``."""
    tasks = _ok(
        client.post(f"/actions/projects/{project.id}/task-types/{project.task_type}/shots/create-tasks", json=[])
    )
    project.tasks = [t["id"] for t in tasks]


def comment_call(project: ZouProject, task: str) -> tuple[str, str, dict[str, object]]:
    """A comment that sends a task back for a retake (a note with a status change)."""
    return "POST", f"/actions/tasks/{task}/comment", {"task_status_id": project.statuses["retake"], "comment": "warmer"}


def list_call(project: ZouProject) -> tuple[str, str, None]:
    """Every shot of the project with its tasks (Kitsu's shot board)."""
    return "GET", f"/data/shots/with-tasks?project_id={project.id}", None


def _ok(answer: httpx.Response) -> Any:
    if answer.status_code >= 400:
        raise RuntimeError(
            f"zou {answer.request.method} {answer.request.url.path}: {answer.status_code} {answer.text[:200]}"
        )
    return answer.json()
