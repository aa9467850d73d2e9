"""How each decision reached the production, as its audit event records it: through a web
session (cookie and CSRF token) or an API token, on SQLite and PostgreSQL."""

from __future__ import annotations

from .conftest import ReviewRoom


def test_the_trail_says_web_session_or_api_token(review_room: ReviewRoom) -> None:
    first, second = review_room.codes[0], review_room.codes[1]
    artist, csrf = review_room.login("artist")
    answer = artist.post(f"/api/shots/{first}/decisions", json={"action": "submit"}, headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200, answer.text
    by_token = review_room.client("artist")
    assert by_token.post(f"/api/shots/{second}/decisions", json={"action": "submit"}).status_code == 200
    note = by_token.post(f"/api/shots/{second}/notes", json={"body": "the lamp flickers"})
    assert note.status_code == 201, note.text
    trail = review_room.production.audit()[1]
    made = [(e.subject, e.action, e.detail.get("via"), "os_user" in e.detail) for e in trail[-3:]]
    assert made == [
        (first, "submit", "web session", False),
        (second, "submit", "api token", False),
        (second, "note", "api token", False),
    ]
