"""Fixtures of the review room: a production with shots, takes (real PNGs), a flagged take and a
crew of every role with passwords and API tokens, served by the real app on SQLite and
PostgreSQL (``review_room``), in-process (``TestClient``) or on a real port (``live_review_room``).
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from soundstage.generate.backend import Recipe
from soundstage.passwords import hash_password
from soundstage.project import Production
from soundstage.render.previs import to_png
from soundstage.store.db import session_scope
from soundstage.store.tables import (
    EventRow,
    FindingRow,
    NoteRow,
    PlaylistRow,
    PlaylistTakeRow,
    ShareRow,
    ShotRow,
    TakeRow,
    utcnow,
)
from soundstage.web.app import create_app

from conftest import EXAMPLE

# One person per role; names of our own (never from the screenplays).
CREW = {"producer": "Ada", "supervisor": "Sol", "artist": "Ari", "reviewer": "Rev", "client": "Cleo"}
ROLES = tuple(CREW)
TAKES_PER_SHOT = 2
SHOTS_WITH_TAKES = 4
FLAGGED = (1, 2)  # (shot index, take number) whose character check failed

_hashes: dict[str, str] = {}


def password_of(name: str) -> str:
    """The test password of a crew member."""
    return f"{name.lower()}-lantern-light"


def _hash(name: str) -> str:
    # argon2 is slow by design: hash each test password once per session.
    if name not in _hashes:
        _hashes[name] = hash_password(password_of(name), who=name)
    return _hashes[name]


@dataclass
class ReviewRoom:
    """A production with takes and a crew, and the review room app serving it."""

    root: Path
    production: Production
    app: FastAPI
    codes: list[str]  # shots that have takes, in cut order
    tokens: dict[str, str] = field(default_factory=dict)  # role -> API token

    def client(self, role: str | None = None) -> TestClient:
        """An in-process client; with a role, authenticated by that person's API token."""
        client = TestClient(self.app, follow_redirects=False)
        if role is not None:
            client.headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return client

    def login(self, role: str) -> tuple[TestClient, str]:
        """A client logged in by password (session cookie), and the session's CSRF token."""
        client = TestClient(self.app, follow_redirects=False)
        name = CREW[role]
        answer = form_login(client, {"name": name, "password": password_of(name)})
        assert answer.status_code == 303, answer.text
        page = client.get("/dailies" if role != "client" else "/login")
        return client, csrf_of(page.text)

    def status(self, code: str) -> str:
        """A shot's status, read from the database."""
        with session_scope(self.production.engine) as session:
            return session.scalars(select(ShotRow.status).where(ShotRow.code == code)).one()

    def fingerprint(self) -> tuple[object, ...]:
        """Everything a refused request must leave as it was: the trail, notes, playlists, client
        links, every shot's status and every take's approval."""
        with session_scope(self.production.engine) as session:
            counts = tuple(
                session.scalar(select(func.count()).select_from(t))
                for t in (EventRow, NoteRow, PlaylistRow, PlaylistTakeRow, ShareRow)
            )
            statuses = tuple(session.execute(select(ShotRow.code, ShotRow.status).order_by(ShotRow.id)).all())
            approvals = tuple(session.execute(select(TakeRow.id, TakeRow.approved_by).order_by(TakeRow.id)).all())
        return counts, statuses, approvals


def csrf_of(html: str) -> str:
    """The CSRF token a page carries in its meta tag."""
    match = re.search(r'<meta name="csrf-token" content="([^"]*)">', html)
    assert match, "page has no csrf meta tag"
    return match.group(1)


def form_login(client: TestClient | httpx.Client, data: dict[str, str], url: str = "/login") -> httpx.Response:
    """Post a login form (``/login`` or a client link's ``.../login``) as a browser does: open
    the form first, for its CSRF token and the pre-session cookie it is bound to."""
    form = client.get(url.removesuffix("/login") if url != "/login" else url)
    match = re.search(r'name="csrf" value="([^"]*)"', form.text)
    assert match, f"{url}: no login form"
    return client.post(url, data={**data, "csrf": match.group(1)})


def frame_png(seed: int, size: tuple[int, int] = (64, 36)) -> bytes:
    """A small, distinct RGB frame: a flat colour per seed with a bright square."""
    rng = np.random.default_rng(seed)
    image = np.zeros((size[1], size[0], 3), np.uint8)
    image[:] = rng.integers(30, 200, 3, dtype=np.uint8)
    image[8:20, 8 + seed % 30 : 20 + seed % 30] = 255
    return to_png(image)


def make_review_room(root: Path, database_url: str) -> ReviewRoom:
    """The example imported and planned, SHOTS_WITH_TAKES shots with TAKES_PER_SHOT takes each
    (take FLAGGED failed a check), the crew with passwords and tokens, and the app."""
    production = Production.init(root, database_url=database_url)
    production.import_script(EXAMPLE)
    production.plan()
    codes = [s.code for s in production.shots()[:SHOTS_WITH_TAKES]]
    with session_scope(production.engine) as session:
        for i, code in enumerate(codes):
            shot = session.scalars(select(ShotRow).where(ShotRow.code == code)).one()
            for number in range(1, TAKES_PER_SHOT + 1):
                recipe = Recipe(shot=code, backend="previs", seed=number)
                sha = production.media.put_bytes(frame_png(i * 10 + number), ".png")
                take = TakeRow(
                    shot_id=shot.id, number=number, backend="previs", recipe=recipe.model_dump(mode="json"),
                    recipe_sha256=recipe.sha256(), output_sha256=sha, checked_at=utcnow(),
                )  # fmt: skip
                session.add(take)
                session.flush()
                # Every take was checked: the flagged one failed, the others passed.
                if (i, number) == FLAGGED:
                    session.add(
                        FindingRow(take_id=take.id, check="character", subject="FUSE", score=0.41, verdict="fail",
                                   reason="FUSE does not match the reference sheet")
                    )  # fmt: skip
                else:
                    session.add(
                        FindingRow(take_id=take.id, check="composition", score=0.1, verdict="pass", reason="as blocked")
                    )
    for role, name in CREW.items():
        production.add_user(name, role, password_hash=_hash(name))
    room = ReviewRoom(root, production, create_app(root), codes)
    room.tokens = {role: production.issue_token(name) for role, name in CREW.items()}
    return room


@pytest.fixture
def review_room(tmp_path: Path, database_url: str) -> Iterator[ReviewRoom]:
    """A fresh review room per test, on SQLite and on PostgreSQL."""
    room = make_review_room(tmp_path / "pilot", database_url)
    yield room
    room.app.state.production.close()
    room.production.close()


def free_port() -> int:
    """A TCP port free on the loopback right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def live_review_room(review_room: ReviewRoom) -> Iterator[tuple[ReviewRoom, str]]:
    """The review room served by uvicorn on a loopback port (for a real browser): (room, base URL)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(review_room.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the review room did not start")
        time.sleep(0.02)
    yield review_room, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def serve_production(root: Path, *, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    """`soundstage serve` on a free loopback port, in a process of its own (with ``workers``
    worker processes under it when more than one): (server, base URL). The caller terminates it."""
    port = free_port()
    exe = Path(sys.executable).with_name("soundstage")
    log = root / "serve.log"
    with log.open("wb") as errors:  # a file, not a pipe: a full pipe would stall the server
        command = [exe, "-p", root, "serve", "--port", str(port), *(["--workers", str(workers)] if workers > 1 else [])]
        server = subprocess.Popen(command, stdout=errors, stderr=errors)
    base = f"http://127.0.0.1:{port}"
    # The machine is shared: starting can be slow, and each worker process imports the app anew.
    deadline = time.monotonic() + 90 * workers
    while time.monotonic() < deadline and server.poll() is None:
        try:
            httpx.get(f"{base}/login", timeout=2)
            return server, base
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise AssertionError(f"soundstage serve did not start: {log.read_text()[-2000:]}")
