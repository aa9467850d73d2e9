"""The review room as an attacker tries it (the web audit), over the real app on SQLite and
PostgreSQL: input no one logged in may send, what a guest's comment leaves in the trail, and what
logging in and out leave behind in the browser and on the server."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from soundstage.project.people import GUEST_SESSIONS
from soundstage.store.db import session_scope, sqlite_url
from soundstage.store.tables import WebSessionRow
from soundstage.web.auth import SESSION_COOKIE

from .conftest import ReviewRoom, csrf_of, form_login, make_review_room, password_of


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


def test_a_guests_comment_names_in_the_trail_the_link_it_came_through(review_room: ReviewRoom) -> None:
    # A guest names themselves: two guests of two links may both say they are "Ada", the
    # producer. What the trail can vouch for is the link each comment came through.
    room = review_room
    producer = room.client("producer")
    take = f"{room.codes[0]}/1"
    playlist = producer.post("/api/playlists", json={"name": "Client", "takes": [take]}).json()["id"]
    urls = [
        producer.post(f"/api/playlists/{playlist}/share", json={"can_comment": True}).json()["url"] for _ in range(2)
    ]
    for url in urls:
        guest = room.client()
        csrf = csrf_of(guest.get(url).text)
        answer = guest.post(f"{url}/comments", data={"take": take, "body": "warmer", "name": "Ada", "csrf": csrf})
        assert answer.status_code == 303, answer.text
    links = [link_id for link_id, *_ in room.production.links()]
    notes = [e for e in producer.get("/api/audit").json()["events"] if e["action"] == "note"]
    assert [(e["actor"], e["role"], e["detail"]["via"], e["detail"]["link"]) for e in notes] == [
        ("Ada (guest)", "client", "client link", link) for link in links
    ]


def test_logging_in_again_ends_the_session_the_browser_had(review_room: ReviewRoom) -> None:
    # Someone logs in over another person's open session on a shared browser: the session before
    # must end on the server, not live on for whoever copied its cookie.
    browser, _csrf = review_room.login("reviewer")
    before = browser.cookies[SESSION_COOKIE]
    assert form_login(browser, {"name": "Ada", "password": password_of("Ada")}).status_code == 303
    assert browser.cookies[SESSION_COOKIE] != before
    assert browser.get("/api/audit").status_code == 200  # Ada's session, a producer's
    replay = review_room.client()
    replay.cookies[SESSION_COOKIE] = before
    assert replay.get("/api/shots").status_code == 401
    # A wrong password ends nothing: the session stays.
    assert form_login(browser, {"name": "Ada", "password": "not-her-password"}).status_code == 401
    assert browser.get("/api/audit").status_code == 200


def test_a_strip_moved_in_the_room_is_in_the_trail_as_the_producers(review_room: ReviewRoom) -> None:
    # Dragging a strip re-plans the shoot (stages, the cast's days, their pay): a producer's
    # decision, so it is audited as theirs, like an approval; a refused move leaves no event.
    production = review_room.production
    production.add_stage("Stage A", kind="sound-stage", size_sqft=12000, zone="in", day_rate="2500")
    production.solve_schedule(start=date(2027, 1, 4), time_limit=10)
    schedule = production.schedule()
    scene, day = schedule.days[0].scenes[0], schedule.days[-1].index + 2  # the day after the last: free
    producer = review_room.client("producer")
    before = producer.get("/api/audit").json()["events"]
    assert producer.post("/api/schedule/moves", json={"scene": "99", "day": 1}).status_code in (400, 404, 409)
    assert producer.get("/api/audit").json()["events"] == before
    assert producer.post("/api/schedule/moves", json={"scene": scene, "day": day}).status_code == 200
    event = producer.get("/api/audit").json()["events"][-1]
    assert (event["actor"], event["role"], event["action"], event["subject"]) == (
        "Ada", "producer", "strip move", f"scene {scene}"
    )  # fmt: skip
    assert event["detail"]["day"] == day and event["detail"]["via"] == "api token"
    assert producer.get("/api/audit/verify").json()["intact"]


def test_a_string_or_a_boolean_where_a_number_is_asked_for_is_422(review_room: ReviewRoom) -> None:
    # true was take 1 and "2" take 2: a client's mistake approved a take nobody named.
    room = review_room
    code = room.codes[0]
    supervisor, producer = room.client("supervisor"), room.client("producer")
    playlist = producer.post("/api/playlists", json={"name": "d", "takes": [f"{code}/1"]}).json()["id"]
    before = room.fingerprint()
    for path, body in (
        (f"/api/shots/{code}/decisions", {"action": "approve", "take": True}),
        (f"/api/shots/{code}/decisions", {"action": "approve", "take": "2"}),
        (f"/api/shots/{code}/decisions", {"action": "approve", "take": 2.0}),
        (f"/api/shots/{code}/notes", {"body": "x", "take": True}),
        (f"/api/shots/{code}/notes", {"body": "x", "frame": "12"}),
        (f"/api/shots/{code}/notes", {"body": "x", "frame": False}),
    ):
        answer = supervisor.post(path, json=body)
        assert answer.status_code == 422 and "valid integer" in answer.json()["detail"], (body, answer.text)
    for body in ({"expires_in_hours": "24"}, {"expires_in_hours": True}, {"can_comment": "yes"}, {"can_comment": 1}):
        answer = producer.post(f"/api/playlists/{playlist}/share", json=body)
        assert answer.status_code == 422, (body, answer.text)
    assert producer.post("/api/schedule/moves", json={"scene": "1", "day": "2"}).status_code == 422
    assert room.fingerprint() == before
    approved = supervisor.post(f"/api/shots/{code}/decisions", json={"action": "approve", "take": 1})
    assert approved.status_code == 200 and approved.json()["take"] == f"{code}/1"


def test_a_guest_loading_images_never_needs_the_write_lock(tmp_path: Path) -> None:
    # SQLite has one writer, whom every decision waits for. A guest's page loads each of its
    # images through /media: each took the write lock for a read, so anyone with a link could
    # hold up the crew's approvals; while someone wrote, the guest's page and images waited and failed.
    database = tmp_path / "soundstage.db"
    room = make_review_room(tmp_path / "pilot", sqlite_url(database))
    try:
        take = f"{room.codes[0]}/1"
        producer = room.client("producer")
        playlist = producer.post("/api/playlists", json={"name": "Client", "takes": [take]}).json()["id"]
        url = producer.post(f"/api/playlists/{playlist}/share", json={"can_comment": True}).json()["url"]
        image = producer.get(f"/api/playlists/{playlist}").json()["takes"][0]["image"]
        guest = TestClient(room.app, raise_server_exceptions=False, follow_redirects=False)
        csrf = csrf_of(guest.get(url).text)
        writer = sqlite3.connect(database, timeout=0)
        try:
            writer.execute("BEGIN IMMEDIATE")  # a decision being written, holding the lock
            assert guest.get(image).status_code == 200
            page = guest.get(url)  # the guest's session is open already: the page only reads
            assert page.status_code == 200 and csrf_of(page.text) == csrf
        finally:
            writer.rollback()
            writer.close()
    finally:
        room.app.state.production.close()
        room.production.close()


PAYLOAD = '</script><img src=x onerror="alert(1)">'
NAME = '<b onmouseover="alert(2)">Mal'  # a person's name holds no slash


def test_words_anyone_typed_are_shown_as_words_on_every_page(review_room: ReviewRoom) -> None:
    # A note, a playlist's name, a guest's name and comment, a person's name: each on the pages
    # that show it, never as markup (and never closing the dailies page's JSON script block).
    room = review_room
    code = room.codes[0]
    take = f"{code}/1"
    producer = room.client("producer")
    assert (
        room.client("reviewer").post(f"/api/shots/{code}/notes", json={"body": PAYLOAD, "frame": 1}).status_code == 201
    )
    playlist = producer.post("/api/playlists", json={"name": PAYLOAD, "takes": [take]}).json()["id"]
    url = producer.post(f"/api/playlists/{playlist}/share", json={"can_comment": True}).json()["url"]
    guest = room.client()
    csrf = csrf_of(guest.get(url).text)
    comment = {"take": take, "body": PAYLOAD, "name": PAYLOAD[:60], "csrf": csrf}
    assert guest.post(f"{url}/comments", data=comment).status_code == 303
    room.production.add_user(NAME, "artist")
    pages = {
        path: producer.get(path).text
        for path in ("/board", f"/shots/{code}", "/dailies", f"/dailies/{playlist}", "/audit", "/people")
    }
    pages[url] = guest.get(url).text
    for path, html in pages.items():
        assert "<img src=x" not in html and "</script><" not in html and "<b onmouseover" not in html, path
    for path in (f"/shots/{code}", "/audit", url):
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in pages[path], path
    assert "&lt;b onmouseover=&#34;alert(2)&#34;&gt;Mal" in pages["/people"]
    assert "&lt;/script&gt;" in pages["/dailies"] and "\\u003c/script\\u003e" in pages[f"/dailies/{playlist}"]


def test_a_bearer_decision_names_the_token_that_made_it(review_room: ReviewRoom) -> None:
    # A person may hold several API tokens (a script, a laptop): when one leaks, the trail must
    # say which one made which decisions, so that one is revoked and the others stay.
    room = review_room
    code = room.codes[0]
    spare = room.production.issue_token("Sol")
    ids = [t for t, person, _ in room.production.tokens() if person == "Sol"]
    assert len(ids) == 2
    as_first, as_spare = room.client("supervisor"), TestClient(room.app, headers={"Authorization": f"Bearer {spare}"})
    assert as_first.post(f"/api/shots/{code}/notes", json={"body": "first"}).status_code == 201
    assert as_spare.post(f"/api/shots/{code}/decisions", json={"action": "approve", "take": 1}).status_code == 200
    browser, csrf = room.login("supervisor")
    assert (
        browser.post(
            f"/api/shots/{code}/notes", json={"body": "in the room"}, headers={"X-CSRF-Token": csrf}
        ).status_code
        == 201
    )
    _, trail = room.production.audit()
    made = [(e.action, e.detail.get("via"), e.detail.get("api_token")) for e in trail[-3:]]
    assert made == [("note", "api token", ids[0]), ("approve", "api token", ids[1]), ("note", "web session", None)]


def test_media_ranges_and_names_that_try_to_leave_the_store(review_room: ReviewRoom) -> None:
    # A clip is served with Range (the player seeks): a good range is its bytes, one past the end
    # 416, a malformed one ignored (the whole object, RFC 9110), never a 500 nor bytes of anything
    # but the object; names reach nothing outside the store.
    room = review_room
    api = room.client("producer")
    image = api.get(f"/api/shots/{room.codes[0]}").json()["takes"][0]["image"]
    whole = api.get(image).content
    part = api.get(image, headers={"Range": "bytes=1-4"})
    assert part.status_code == 206 and part.content == whole[1:5]
    assert part.headers["content-range"] == f"bytes 1-4/{len(whole)}"
    beyond = api.get(image, headers={"Range": f"bytes={len(whole)}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(whole)}"
    assert api.get(image, headers={"Range": "bytes=" + "9" * 40 + "-"}).status_code == 416
    for bad in ("bytes=5-1", "bytes=abc", "items=0-1", "bytes=-", "bytes 0-1", "bytes=0-1;2-3"):
        answer = api.get(image, headers={"Range": bad})
        assert answer.status_code == 200 and answer.content == whole, (bad, answer.status_code)
    sha = image.removeprefix("/media/").removesuffix(".png")
    for path in (
        f"/media/{sha}.png/../../soundstage.toml", f"/media/..%2f..%2f{sha}.png", "/media/%2e%2e%2fsoundstage.db",
        f"/media/{sha.upper()}.png", f"/media/{sha}.PNG", f"/media/{sha}.png%00", f"/media/{sha}.toml",
        "/static/..%2f..%2fweb%2fapp.py", "/static/%2e%2e/app.py", "/static//etc/passwd",
    ):  # fmt: skip
        answer = api.get(path)
        assert answer.status_code == 404, (path, answer.status_code)


def test_a_script_opening_a_link_over_and_over_keeps_a_bounded_number_of_sessions(review_room: ReviewRoom) -> None:
    # Each opening of a link without its cookie starts a guest session (a row): a script that
    # never keeps the cookie made one per request, without end, until they expired in 12 hours.
    room = review_room
    producer = room.client("producer")
    playlist = producer.post("/api/playlists", json={"name": "Client", "takes": [f"{room.codes[0]}/1"]}).json()["id"]
    url = producer.post(f"/api/playlists/{playlist}/share", json={"can_comment": True}).json()["url"]
    kept = room.client()
    csrf = csrf_of(kept.get(url).text)  # the real guest, first
    for _ in range(GUEST_SESSIONS + 20):
        assert room.client().get(url).status_code == 200
    with session_scope(room.production.engine) as session:
        live = session.scalar(select(func.count()).where(WebSessionRow.share_id.is_not(None)))
    assert live == GUEST_SESSIONS
    # The newest guests keep theirs; the oldest opens the link again and carries on.
    newest = room.client()
    newest_csrf = csrf_of(newest.get(url).text)
    assert csrf_of(newest.get(url).text) == newest_csrf
    assert (
        kept.post(f"{url}/comments", data={"take": f"{room.codes[0]}/1", "body": "x", "csrf": csrf}).status_code == 401
    )
    again = csrf_of(kept.get(url).text)
    comment = {"take": f"{room.codes[0]}/1", "body": "warmer", "csrf": again}
    assert kept.post(f"{url}/comments", data=comment).status_code == 303
