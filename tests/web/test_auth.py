"""Logging in and staying safe, over the real app on SQLite and PostgreSQL: session cookies,
CSRF, logout, throttling, API tokens, role changes, and the CLI that sets passwords and tokens."""

from __future__ import annotations

import io

import httpx
import pytest

from soundstage.web.auth import SESSION_COOKIE, THROTTLE_FAILURES

from .conftest import CREW, ReviewRoom, form_login, password_of, serve_production


def test_login_sets_a_safe_session_cookie_and_logout_ends_it(review_room: ReviewRoom) -> None:
    client = review_room.client()
    page = client.get("/board")
    assert page.status_code == 401 and 'id="password"' in page.text and 'value="/board"' in page.text
    answer = form_login(client, {"name": "Rev", "password": password_of("Rev"), "next": "/board"})
    assert answer.status_code == 303 and answer.headers["location"] == "/board"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    board = client.get("/board")
    assert board.status_code == 200 and "Rev" in board.text and 'class="shot-card' in board.text
    csrf = board.text.split('name="csrf-token" content="')[1].split('"')[0]
    stolen = client.cookies[SESSION_COOKIE]
    assert client.post("/logout", data={"csrf": csrf}).status_code == 303
    replay = review_room.client()
    replay.cookies[SESSION_COOKIE] = stolen
    assert replay.get("/api/shots").status_code == 401  # the server forgot the session


def test_wrong_password_and_open_redirects(review_room: ReviewRoom) -> None:
    client = review_room.client()
    wrong = form_login(client, {"name": "Ada", "password": "not-her-password"})
    assert wrong.status_code == 401 and "wrong name or password" in wrong.text
    unknown = form_login(client, {"name": "Nobody", "password": "whatever-it-is"})
    assert unknown.status_code == 401 and "wrong name or password" in unknown.text
    away = form_login(client, {"name": "Ada", "password": password_of("Ada"), "next": "//evil.example/x"})
    assert away.status_code == 303 and away.headers["location"] == "/board"


def test_csrf_token_is_required_with_the_cookie(review_room: ReviewRoom) -> None:
    client, csrf = review_room.login("supervisor")
    code = review_room.codes[0]
    before = review_room.fingerprint()
    for headers in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": ""}):
        refused = client.post(f"/api/shots/{code}/decisions", json={"action": "submit"}, headers=headers)
        assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert client.post("/logout").status_code == 403
    assert review_room.fingerprint() == before
    answer = client.post(f"/api/shots/{code}/decisions", json={"action": "submit"}, headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200 and review_room.status(code) == "pending review"
    # Reading needs no token; a bearer token needs none either (it rides on no cookie).
    assert client.get("/api/shots").status_code == 200
    bearer = review_room.client("supervisor").post(f"/api/shots/{code}/notes", json={"body": "from a script"})
    assert bearer.status_code == 201


def test_login_throttling(review_room: ReviewRoom) -> None:
    client = review_room.client()
    for _ in range(THROTTLE_FAILURES):
        assert form_login(client, {"name": "Sol", "password": "guess-guess"}).status_code == 401
    # Now even the right password waits; another person is not held up.
    blocked = form_login(client, {"name": "Sol", "password": password_of("Sol")})
    assert blocked.status_code == 429 and "wait" in blocked.text
    assert form_login(client, {"name": "Ada", "password": password_of("Ada")}).status_code == 303


def test_api_tokens_and_role_changes_take_effect_at_once(review_room: ReviewRoom) -> None:
    code = review_room.codes[0]
    artist = review_room.client("artist")
    assert artist.get("/api/shots").status_code == 200
    assert review_room.client().get("/api/shots", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert review_room.client().get("/api/shots", headers={"Authorization": "Basic x"}).status_code == 401
    refused = artist.post(f"/api/shots/{code}/decisions", json={"action": "approve"})
    assert refused.status_code == 403
    review_room.production.change_role("Ari", "supervisor")
    assert artist.post(f"/api/shots/{code}/decisions", json={"action": "approve"}).status_code == 200
    review_room.production.change_role("Ari", "client")
    assert artist.get("/api/shots").status_code == 403


def test_new_password_ends_sessions(review_room: ReviewRoom) -> None:
    client, _csrf = review_room.login("reviewer")
    assert client.get("/api/shots").status_code == 200
    review_room.production.set_password("Rev", "a-brand-new-password")
    assert client.get("/api/shots").status_code == 401
    old = form_login(review_room.client(), {"name": "Rev", "password": password_of("Rev")})
    assert old.status_code == 401


def test_cli_sets_passwords_and_prints_tokens(review_room: ReviewRoom, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    root = review_room.root
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
    assert cli("-p", root, "user", "password", "Ari", "--stdin").code == 0
    client = review_room.client()
    assert form_login(client, {"name": "Ari", "password": "correct horse battery"}).status_code == 303
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    result = cli("-p", root, "user", "password", "Ari", "--stdin")
    assert result.code == 2 and "8-256 characters" in result.err
    token = cli("-p", root, "user", "token", CREW["reviewer"]).out.strip()
    answer = review_room.client().get("/api/shots", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert cli("-p", root, "user", "token", "Nobody").code == 2


def test_serve_believes_no_forwarded_address_unless_told(review_room: ReviewRoom) -> None:
    """`soundstage serve` on loopback: a made-up X-Forwarded-For per attempt must not give each
    attempt a fresh throttle (uvicorn believes 127.0.0.1's forwarded headers by default)."""
    review_room.production.close()
    server, base = serve_production(review_room.root)
    try:
        answers = []
        with httpx.Client(base_url=base) as browser:
            for attempt in range(THROTTLE_FAILURES + 1):
                browser.headers["X-Forwarded-For"] = f"203.0.113.{attempt}"
                answers.append(form_login(browser, {"name": CREW["artist"], "password": "wrong"}).status_code)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert answers[:THROTTLE_FAILURES] == [401] * THROTTLE_FAILURES
    assert answers[THROTTLE_FAILURES] == 429
