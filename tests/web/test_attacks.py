"""The review room as an attacker tries it (the web audit), over the real app on SQLite and
PostgreSQL: input no one logged in may send, what a guest's comment leaves in the trail, and what
logging in and out leave behind in the browser and on the server."""

from __future__ import annotations

from fastapi.testclient import TestClient

from .conftest import ReviewRoom, form_login, password_of


def test_a_login_name_with_a_nul_is_refused_not_a_server_error(review_room: ReviewRoom) -> None:
    # Anyone can post the login form; PostgreSQL's text cannot hold a NUL, so a NUL that reached
    # the lookup (or the failure row the throttle counts) was a 500 there.
    stranger = TestClient(review_room.app, raise_server_exceptions=False, follow_redirects=False)
    before = review_room.fingerprint()
    for name in ("Ada\x00", "\x00", "A\x00da"):
        answer = form_login(stranger, {"name": name, "password": "whatever-it-is"})
        assert answer.status_code == 422 and "name" in answer.text, (name, answer.status_code)
    assert review_room.fingerprint() == before
    assert form_login(stranger, {"name": "Ada", "password": password_of("Ada")}).status_code == 303
