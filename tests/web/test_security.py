"""The review room under attack (issue 11, section 2), over the real app and `soundstage serve`:
logins that must not hold the database, names that must not tell, forged logins, what a guest
may read, revocation, bad input that must answer 4xx, cookies and pruning."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from soundstage.store.db import sqlite_url

from .conftest import ReviewRoom, make_review_room, serve_production

# A hash far costlier than the default (about 1 s to verify here): a handful of parallel wrong
# logins then add up to more than SQLite's busy timeout (10 s) if each held the write lock
# while verifying, as they did.
SLOW = PasswordHasher(time_cost=20)
SLOW_USERS = ("Tam", "Ned", "Bo")
TRIES_EACH = 4  # below the throttle, so every try verifies a hash


@pytest.fixture
def sqlite_room(tmp_path: Path) -> Iterator[ReviewRoom]:
    """A review room on SQLite only (its single writer is what the login test is about)."""
    room = make_review_room(tmp_path / "pilot", sqlite_url(tmp_path / "soundstage.db"))
    yield room
    room.app.state.production.close()
    room.production.close()


def test_parallel_wrong_logins_never_hold_up_an_approval(sqlite_room: ReviewRoom) -> None:
    room = sqlite_room
    slow_hash = SLOW.hash("the slow one's password")
    for name in SLOW_USERS:
        room.production.add_user(name, "reviewer", password_hash=slow_hash)
    code = room.codes[0]
    room.production.close()
    server, base = serve_production(room.root)
    supervisor = {"Authorization": f"Bearer {room.tokens['supervisor']}"}

    def wrong_login(name: str) -> int:
        answer = httpx.post(f"{base}/login", data={"name": name, "password": "not the password"}, timeout=60)
        return answer.status_code

    try:
        with ThreadPoolExecutor(len(SLOW_USERS) * TRIES_EACH) as pool:
            logins = [pool.submit(wrong_login, name) for name in SLOW_USERS for _ in range(TRIES_EACH)]
            time.sleep(0.5)  # the logins are verifying now
            started = time.perf_counter()
            approval = httpx.post(
                f"{base}/api/shots/{code}/decisions", json={"action": "approve"}, headers=supervisor, timeout=60
            )
            approval_s = time.perf_counter() - started
            answers = [f.result() for f in logins]
            logins_s = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"approval {approval_s:.2f} s while {len(answers)} wrong logins took {logins_s:.2f} s")
    assert approval.status_code == 200, approval.text
    assert answers == [401] * len(answers)
