"""Client links and the media route, over the real app on SQLite and PostgreSQL: the token, its
password, its expiry, comments, and that a guest reaches that playlist and nothing else; media
names that try to leave the store."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from soundstage.store.db import session_scope
from soundstage.store.tables import ShareRow, utcnow
from soundstage.web.auth import SHARE_COOKIE, THROTTLE_FAILURES

from .conftest import ReviewRoom, csrf_of, form_login


def share(room: ReviewRoom, takes: list[str], **options: object) -> tuple[int, str]:
    producer = room.client("producer")
    playlist = producer.post("/api/playlists", json={"name": "For the client", "takes": takes}).json()["id"]
    answer = producer.post(f"/api/playlists/{playlist}/share", json={"expires_in_hours": 24, **options})
    assert answer.status_code == 201, answer.text
    return playlist, answer.json()["url"]


def test_a_guest_sees_that_playlist_and_comments(review_room: ReviewRoom) -> None:
    codes = review_room.codes
    _playlist, url = share(review_room, [f"{codes[0]}/2"], can_comment=True)
    guest = review_room.client()
    page = guest.get(url)
    assert page.status_code == 200 and f"{codes[0]}/2" in page.text and f"{codes[1]}/" not in page.text
    image = page.text.split('<img src="')[1].split('"')[0]
    assert guest.get(image).status_code == 200
    other = review_room.client("producer").get(f"/api/shots/{codes[1]}").json()["takes"][0]["image"]
    assert guest.get(other).status_code == 404  # another shot's take: not through this link
    for path in ("/api/shots", "/board", f"/shots/{codes[0]}", "/api/playlists", "/audit"):
        assert guest.get(path).status_code == 401, path
    before = review_room.fingerprint()
    assert guest.post(f"{url}/comments", data={"take": f"{codes[0]}/2", "body": "lovely"}).status_code == 403
    assert review_room.fingerprint() == before  # no CSRF token, nothing written
    csrf = csrf_of(page.text)
    elsewhere = guest.post(f"{url}/comments", data={"take": f"{codes[1]}/1", "body": "x", "csrf": csrf})
    assert elsewhere.status_code == 404
    answer = guest.post(
        f"{url}/comments", data={"take": f"{codes[0]}/2", "body": "lovely glow", "name": "Pat", "csrf": csrf}
    )
    assert answer.status_code == 303
    assert "lovely glow" in guest.get(url).text
    notes = review_room.client("artist").get(f"/api/shots/{codes[0]}").json()["notes"]
    assert [(n["author"], n["role"], n["take"]) for n in notes] == [("Pat (guest)", "client", 2)]
    trail = review_room.client("producer").get("/api/audit").json()["events"]
    assert [e["action"] for e in trail[-2:]] == ["share", "note"]


def test_comments_only_when_the_link_allows(review_room: ReviewRoom) -> None:
    _playlist, url = share(review_room, [f"{review_room.codes[0]}/1"])
    guest = review_room.client()
    page = guest.get(url)
    assert 'class="comment"' not in page.text
    refused = guest.post(
        f"{url}/comments", data={"take": f"{review_room.codes[0]}/1", "body": "x", "csrf": csrf_of(page.text)}
    )
    assert refused.status_code == 403


def test_password_and_expiry(review_room: ReviewRoom) -> None:
    _playlist, url = share(review_room, [f"{review_room.codes[0]}/1"], password="open sesame")
    guest = review_room.client()
    locked = guest.get(url)
    assert locked.status_code == 401 and 'id="share-login"' in locked.text and "001_" not in locked.text
    assert form_login(guest, {"password": "not it at all"}, f"{url}/login").status_code == 401
    assert guest.get(url).status_code == 401
    opened = form_login(guest, {"password": "open sesame"}, f"{url}/login")
    assert opened.status_code == 303 and guest.cookies.get(SHARE_COOKIE)
    assert guest.get(url).status_code == 200
    # Throttled like logins.
    other = review_room.client()
    for _ in range(THROTTLE_FAILURES - 1):
        assert form_login(other, {"password": "guessing"}, f"{url}/login").status_code == 401
    assert form_login(other, {"password": "open sesame"}, f"{url}/login").status_code == 429
    # Expired: the link and the guest's session open nothing.
    with session_scope(review_room.production.engine) as session:
        session.execute(update(ShareRow).values(expires_at=utcnow() - timedelta(minutes=1)))
    assert guest.get(url).status_code == 404
    assert review_room.client().get("/share/" + "x" * 43).status_code == 404


def test_a_client_account_sees_nothing_but_links(review_room: ReviewRoom) -> None:
    client = review_room.client("client")
    for path in ("/api/shots", "/board", "/dailies", f"/shots/{review_room.codes[0]}"):
        assert client.get(path).status_code == 403, path


def test_media_names_never_leave_the_store(review_room: ReviewRoom) -> None:
    client = review_room.client("producer")
    (review_room.root / "secret.png").write_bytes(b"\x89PNG not for you")
    for name in (
        "..%2F..%2Fsoundstage.toml",
        "../secret.png",
        "%2e%2e%2fsecret.png",
        "ABCDEF" + "0" * 58 + ".png",
        "0" * 64 + ".png",  # well formed, not in the store
        "0" * 64 + ".png%00.txt",
        "soundstage.db",
    ):
        answer = client.get(f"/media/{name}")
        assert answer.status_code == 404, name
    assert client.get("/media/../soundstage.toml").status_code == 404
