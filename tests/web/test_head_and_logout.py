"""What the walks found in the review room: HEAD on media (players and browsers send it before a
clip) and the session cookie's deletion at logout, over the real app."""

from __future__ import annotations

from fastapi.testclient import TestClient

from soundstage.web.auth import SESSION_COOKIE

from .conftest import ReviewRoom, form_login, password_of


def test_head_on_media_answers_as_get_without_a_body(review_room: ReviewRoom) -> None:
    api = review_room.client("producer")
    image = api.get(f"/api/shots/{review_room.codes[0]}").json()["takes"][0]["image"]
    got, head = api.get(image), api.head(image)
    assert head.status_code == 200 and head.content == b""  # it answered 405
    assert int(head.headers["content-length"]) == len(got.content) > 0
    for name in ("content-type", "etag", "last-modified", "cache-control", "accept-ranges"):
        assert head.headers[name] == got.headers[name], name
    ranged = api.head(image, headers={"Range": "bytes=0-9"})
    assert ranged.status_code == 206 and ranged.content == b"" and ranged.headers["content-length"] == "10"
    # The same rules as GET: nobody logged in gets nothing, a name outside the store is 404.
    assert review_room.client().head(image).status_code == 401
    assert api.head("/media/" + "0" * 64 + ".png").status_code == 404


def test_logout_deletes_the_session_cookie_with_the_flags_it_was_set_with(review_room: ReviewRoom) -> None:
    https = TestClient(review_room.app, base_url="https://testserver", follow_redirects=False)
    login = form_login(https, {"name": "Ada", "password": password_of("Ada")})
    assert login.status_code == 303
    board = https.get("/board")
    csrf = board.text.split('name="csrf-token" content="')[1].split('"')[0]
    logout = https.post("/logout", data={"csrf": csrf})
    assert logout.status_code == 303
    deleted = logout.headers["set-cookie"].lower()
    assert deleted.startswith(f"{SESSION_COOKIE.lower()}=") and "max-age=0" in deleted
    for flag in ("secure", "httponly", "samesite=lax", "path=/"):
        assert flag in deleted, deleted
