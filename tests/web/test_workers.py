"""`soundstage serve --workers N`: several processes serve one production, and a login made in
one of them holds in the others (sessions live in the database)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from soundstage.web.app import FORM_KEY_VARIABLE

from .conftest import CREW, ReviewRoom, form_login, free_port, password_of, serve_production


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_serve_with_two_workers_serves_the_board_and_keeps_a_login_across_them(review_room: ReviewRoom) -> None:
    review_room.production.close()
    server, base = serve_production(review_room.root, workers=2)
    try:
        workers = _children(server.pid)
        name = CREW["reviewer"]
        with httpx.Client(base_url=base) as browser:
            logged_in = form_login(browser, {"name": name, "password": password_of(name)})
            cookies = dict(browser.cookies)
        # A fresh connection per request: the kernel hands each to whichever worker accepts it.
        boards = []
        for _ in range(12):
            with httpx.Client(base_url=base, cookies=cookies) as fresh:
                boards.append(fresh.get("/board"))
        with httpx.Client(base_url=base) as anonymous:
            refused = anonymous.get("/board", follow_redirects=False)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert len(workers) >= 2, workers  # uvicorn's supervisor and its two workers under it
    assert logged_in.status_code == 303
    assert [b.status_code for b in boards] == [200] * 12
    assert all(code in boards[0].text for code in review_room.codes[:3])
    assert refused.status_code in (303, 401)


def test_a_login_form_from_one_worker_is_accepted_by_another(review_room: ReviewRoom) -> None:
    # The form's CSRF token is signed with a key every worker shares (serve sets it for them): a
    # form rendered by one worker and posted over a new connection to another is accepted. With a
    # key per process about half of these logins were refused with 403.
    review_room.production.close()
    server, base = serve_production(review_room.root, workers=2)
    name = CREW["reviewer"]
    answers = []
    try:
        for _ in range(8):
            with httpx.Client(base_url=base) as opener:
                form = opener.get("/login")
                presession = dict(opener.cookies)
            csrf = re.search(r'name="csrf" value="([^"]*)"', form.text).group(1)
            with httpx.Client(base_url=base, cookies=presession) as poster:  # a new connection
                answers.append(poster.post("/login", data={"name": name, "password": password_of(name), "csrf": csrf}))
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert [a.status_code for a in answers] == [303] * 8, [a.text[:200] for a in answers]


def test_serve_refuses_a_bad_shared_form_key_in_one_line(
    review_room: ReviewRoom, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    review_room.production.close()
    monkeypatch.setenv(FORM_KEY_VARIABLE, "not hex")
    result = cli("-p", review_room.root, "serve", "--port", free_port())
    assert result.code == 2
    assert result.err.strip() == f"error: {FORM_KEY_VARIABLE}: not a key of at least 32 hex digits"
