"""`soundstage serve --workers N`: several processes serve one production, and a login made in
one of them holds in the others (sessions live in the database)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from soundstage.web.app import from_environment, worker_environment

from .conftest import CREW, ReviewRoom, form_login, password_of, serve_production


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


def test_a_login_form_from_one_worker_is_accepted_by_another(
    review_room: ReviewRoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each worker process makes its own app: with a key of its own for the login forms' CSRF
    # tokens, a form served by one worker was refused (403) by the other its POST reached.
    def start_serve() -> None:  # what `soundstage serve --workers N` sets before its workers start
        for variable, value in worker_environment(review_room.root).items():
            monkeypatch.setenv(variable, value)

    start_serve()
    first, second = from_environment(), from_environment()
    # Another start of `serve` makes another key: a form of before is refused, as on a restart.
    start_serve()
    restarted = from_environment()
    try:
        served_by = TestClient(first, follow_redirects=False)
        match = re.search(r'name="csrf" value="([^"]*)"', served_by.get("/login").text)
        assert match
        name = CREW["reviewer"]
        form = {"name": name, "password": password_of(name), "csrf": match.group(1)}
        elsewhere = TestClient(restarted, follow_redirects=False, cookies=served_by.cookies)
        assert elsewhere.post("/login", data=form).status_code == 403
        posted_to = TestClient(second, follow_redirects=False, cookies=served_by.cookies)
        assert posted_to.post("/login", data=form).status_code == 303
        assert posted_to.get("/board").status_code == 200
    finally:
        for app in (first, second, restarted):
            app.state.production.close()
