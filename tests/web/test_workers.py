"""`soundstage serve --workers N`: several processes serve one production, and a login made in
one of them holds in the others (sessions live in the database)."""

from __future__ import annotations

from pathlib import Path

import httpx

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
