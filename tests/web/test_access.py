"""Ending access from the review room (issue 11, section 2): a producer deactivates a person,
revokes anyone's API token and withdraws a client link from /people; anyone revokes their own
tokens and sets a new password from /account, which ends their other sessions. Each is audited
through the services the CLI uses; other roles get 403, unknown ids 404, bad input 4xx."""

from __future__ import annotations

from fastapi.testclient import TestClient

from soundstage.web.auth import SESSION_COOKIE, THROTTLE_FAILURES

from .conftest import CREW, ReviewRoom, csrf_of, form_login, password_of


def _events(room: ReviewRoom) -> list[tuple[str, str, str, str]]:
    """(action, actor, role, subject) of every event, oldest first."""
    _, trail = room.production.audit()
    return [(e.action, e.actor, e.role, e.subject) for e in trail]


def _token_of(room: ReviewRoom, name: str) -> int:
    return next(t for t, person, _ in room.production.tokens() if person == name)


def _client_link(room: ReviewRoom) -> tuple[str, int]:
    producer = room.client("producer")
    playlist = producer.post("/api/playlists", json={"name": "Client", "takes": [f"{room.codes[0]}/1"]}).json()["id"]
    url = producer.post(f"/api/playlists/{playlist}/share", json={"can_comment": True}).json()["url"]
    return url, room.production.links()[-1][0]


def test_a_producer_ends_access_from_the_people_page(review_room: ReviewRoom) -> None:
    room = review_room
    url, share_id = _client_link(room)
    guest = room.client()
    assert guest.get(url).status_code == 200
    artist, _ = room.login("artist")
    assert artist.get("/board").status_code == 200
    producer, csrf = room.login("producer")
    page = producer.get("/people")
    assert page.status_code == 200
    for name in CREW.values():
        assert f'data-name="{name}" data-active="true"' in page.text
    assert f'action="/links/{share_id}/withdraw"' in page.text
    # Deactivate: the artist's open session and their token stop at once.
    answer = producer.post("/people/Ari/deactivate", data={"csrf": csrf})
    assert answer.status_code == 303 and answer.headers["location"] == "/people"
    assert artist.get("/api/shots").status_code == 401
    assert room.client("artist").get("/api/shots").status_code == 401
    assert 'data-name="Ari" data-active="false"' in producer.get("/people").text
    # Anyone's token, from the producer's page.
    rev_token = _token_of(room, "Rev")
    answer = producer.post(f"/tokens/{rev_token}/revoke", data={"csrf": csrf, "back": "people"})
    assert answer.status_code == 303 and answer.headers["location"] == "/people"
    assert room.client("reviewer").get("/api/shots").status_code == 401
    # The client link: the guest who had it open sees nothing more.
    assert producer.post(f"/links/{share_id}/withdraw", data={"csrf": csrf}).status_code == 303
    assert guest.get(url).status_code == 404
    assert 'data-live="false"' in producer.get("/people").text
    assert _events(room)[-3:] == [
        ("deactivate user", "Ada", "producer", "Ari"),
        ("revoke token", "Ada", "producer", "Rev"),
        ("withdraw link", "Ada", "producer", f"playlist {room.production.links()[-1][1]}"),
    ]
    _, trail = room.production.audit()
    assert [e.detail["via"] for e in trail[-3:]] == ["web session"] * 3
    assert trail[-3].detail["tokens"] == 1 and trail[-2].detail["token"] == rev_token


def test_roles_that_may_not_get_403_and_nothing_changes(review_room: ReviewRoom) -> None:
    room = review_room
    _, share_id = _client_link(room)
    ada_token = _token_of(room, "Ada")
    before = room.fingerprint()
    supervisor, csrf = room.login("supervisor")
    assert supervisor.get("/people").status_code == 403
    for path in ("/people/Ari/deactivate", f"/links/{share_id}/withdraw", f"/tokens/{ada_token}/revoke"):
        answer = supervisor.post(path, data={"csrf": csrf})
        assert answer.status_code == 403, (path, answer.status_code)
        assert "may not" in answer.text
    for role in ("artist", "reviewer", "client"):
        assert room.client(role).post("/people/Ari/deactivate").status_code == 403
        assert room.client(role).post(f"/tokens/{ada_token}/revoke").status_code == 403
    assert room.fingerprint() == before
    assert room.client("artist").get("/api/shots").status_code == 200
    assert room.client("producer").get("/api/shots").status_code == 200


def test_anyone_revokes_their_own_tokens_from_their_account(review_room: ReviewRoom) -> None:
    room = review_room
    second = room.production.issue_token("Rev")
    reviewer, csrf = room.login("reviewer")
    page = reviewer.get("/account")
    assert page.status_code == 200
    mine = [t for t, person, _ in room.production.tokens() if person == "Rev"]
    assert len(mine) == 2 and all(f'action="/tokens/{t}/revoke"' in page.text for t in mine)
    assert 'data-person="Ada"' not in page.text  # only your own
    answer = reviewer.post(f"/tokens/{mine[0]}/revoke", data={"csrf": csrf, "back": "account"})
    assert answer.status_code == 303 and answer.headers["location"] == "/account"
    assert room.client("reviewer").get("/api/shots").status_code == 401
    assert TestClient(room.app, headers={"Authorization": f"Bearer {second}"}).get("/api/shots").status_code == 200
    assert _events(room)[-1] == ("revoke token", "Rev", "reviewer", "Rev")
    # A bearer request revokes its own token too (no cookie, so no CSRF token needed).
    bearer = TestClient(room.app, follow_redirects=False, headers={"Authorization": f"Bearer {second}"})
    assert bearer.post(f"/tokens/{mine[1]}/revoke").status_code == 303
    assert bearer.get("/api/shots").status_code == 401
    _, trail = room.production.audit()
    revoked = {"token": mine[1], "via": "api token", "api_token": mine[1]}  # the token revoked itself
    assert (trail[-1].action, trail[-1].detail) == ("revoke token", revoked)


def test_forms_without_the_sessions_csrf_token_are_refused(review_room: ReviewRoom) -> None:
    room = review_room
    producer, _ = room.login("producer")
    before = room.fingerprint()
    for data in ({}, {"csrf": "not-the-token"}):
        assert producer.post("/people/Ari/deactivate", data=data).status_code == 403
        assert producer.post(f"/tokens/{_token_of(room, 'Rev')}/revoke", data=data).status_code == 403
        answer = producer.post("/account/password", data={**data, "current": password_of("Ada"), "new": "x" * 12})
        assert answer.status_code == 403
    assert room.fingerprint() == before
    assert room.client("artist").get("/api/shots").status_code == 200


def test_unknown_ids_are_404_and_bad_input_4xx(review_room: ReviewRoom) -> None:
    room = review_room
    producer, csrf = room.login("producer")
    page = TestClient(room.app, raise_server_exceptions=False, follow_redirects=False, cookies=producer.cookies)
    before = room.fingerprint()
    for path in ("/tokens/999/revoke", "/people/Nobody/deactivate", "/links/999/withdraw"):
        answer = page.post(path, data={"csrf": csrf})
        assert answer.status_code == 404, (path, answer.status_code)
        assert "no " in answer.text
    for path in ("/tokens/" + "9" * 40 + "/revoke", "/tokens/abc/revoke", "/tokens/0/revoke", "/links/-1/withdraw",
                 "/people/a%00b/deactivate", "/people/" + "x" * 200 + "/deactivate"):  # fmt: skip
        answer = page.post(path, data={"csrf": csrf})
        assert 400 <= answer.status_code < 500, (path, answer.status_code)
    assert room.fingerprint() == before
    assert page.post("/people/Ari/deactivate", data={"csrf": csrf}).status_code == 303
    again = page.post("/people/Ari/deactivate", data={"csrf": csrf})
    assert again.status_code == 409 and "deactivated already" in again.text


def test_a_new_password_from_the_web_ends_the_other_sessions(review_room: ReviewRoom) -> None:
    room = review_room
    here, csrf = room.login("reviewer")
    elsewhere, _ = room.login("reviewer")
    new = "a-brand-new-lantern"
    form = {"csrf": csrf, "current": password_of("Rev"), "new": new, "again": new}
    # Refused, and nothing ends: a wrong current password, two new ones that differ, a short one.
    before = room.fingerprint()
    assert here.post("/account/password", data={**form, "current": "not my password"}).status_code == 403
    assert here.post("/account/password", data={**form, "again": new + "!"}).status_code == 400
    assert here.post("/account/password", data={**form, "new": "short", "again": "short"}).status_code == 422
    assert here.post("/account/password", data={**form, "new": "a\x00" * 5, "again": "a\x00" * 5}).status_code == 422
    assert room.fingerprint() == before and elsewhere.get("/api/shots").status_code == 200
    answer = here.post("/account/password", data=form)
    assert answer.status_code == 200 and "your other sessions have ended" in answer.text
    assert here.get("/api/shots").status_code == 200  # the session it was set from stays
    assert elsewhere.get("/api/shots").status_code == 401
    assert _events(room)[-1] == ("set password", "Rev", "reviewer", "Rev")
    old = form_login(room.client(), {"name": "Rev", "password": password_of("Rev")})
    assert old.status_code == 401
    fresh = room.client()
    assert form_login(fresh, {"name": "Rev", "password": new}).status_code == 303
    assert SESSION_COOKIE in fresh.cookies


def test_guessing_the_current_password_is_throttled(review_room: ReviewRoom) -> None:
    room = review_room
    reviewer, csrf = room.login("reviewer")
    form = {"csrf": csrf, "current": "a guess", "new": "x" * 12, "again": "x" * 12}
    for _ in range(THROTTLE_FAILURES):
        assert reviewer.post("/account/password", data=form).status_code == 403
    right = {**form, "current": password_of("Rev")}
    answer = reviewer.post("/account/password", data=right)
    assert answer.status_code == 429 and "wait 5 minutes" in answer.text
    assert 0 < int(answer.headers["retry-after"]) <= 300
    assert csrf_of(answer.text) == csrf
