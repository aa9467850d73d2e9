"""The review room against an attacker, part two (issue 17): a throttle per client address that
holds across `serve --workers` and restarts and cannot be dodged with X-Forwarded-For or a
fresh IPv6 address, bursts of parallel guesses, the schema and docs pages closed, RFC 9110
range answers, 500s that tell nothing, cookies and HSTS over HTTPS. Over the real app
(TestClient) and `soundstage serve`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from soundstage.web.app import create_app
from soundstage.web.auth import THROTTLE_ADDRESS_FAILURES, THROTTLE_FAILURES, THROTTLE_WINDOW

from .conftest import CREW, ReviewRoom, form_login, free_port, password_of, serve_production

WINDOW_S = int(THROTTLE_WINDOW.total_seconds())
WRONG = "not-the-password"


def _from(room: ReviewRoom, host: str) -> TestClient:
    """A browser at ``host`` (TestClient lets the test say where a request comes from)."""
    return TestClient(room.app, follow_redirects=False, client=(host, 40000))


def _one_guess(browser: TestClient | httpx.Client, i: int) -> int:
    """Wrong login number ``i`` of one address trying a password on everyone: made-up names,
    fewer tries per name than the per-name limit."""
    name = f"guess-{i // (THROTTLE_FAILURES - 1)}"
    return form_login(browser, {"name": name, "password": WRONG}).status_code


def _spray(browser: TestClient | httpx.Client, failures: int) -> list[int]:
    """``failures`` wrong logins from one address over made-up names."""
    return [_one_guess(browser, i) for i in range(failures)]


def _held(answer: httpx.Response) -> int:
    assert answer.status_code == 429, (answer.status_code, answer.text[-300:])
    wait = int(answer.headers["retry-after"])
    assert 0 < wait <= WINDOW_S
    return wait


def test_one_address_trying_many_names_is_held_with_retry_after(review_room: ReviewRoom) -> None:
    room = review_room
    attacker = _from(room, "203.0.113.7")
    assert _spray(attacker, THROTTLE_ADDRESS_FAILURES) == [401] * THROTTLE_ADDRESS_FAILURES
    # Now every login from there waits, the right password of a real person included ...
    held = form_login(attacker, {"name": CREW["producer"], "password": password_of(CREW["producer"])})
    assert _held(held) > WINDOW_S - 60 and "from your address" in held.text
    # ... and a client link's password too; the same person elsewhere is not held up.
    producer = room.client("producer")
    playlist = producer.post("/api/playlists", json={"name": "Client", "takes": [f"{room.codes[0]}/1"]}).json()["id"]
    url = producer.post(f"/api/playlists/{playlist}/share", json={"password": "open sesame"}).json()["url"]
    _held(form_login(attacker, {"password": "open sesame"}, f"{url}/login"))
    elsewhere = form_login(_from(room, "198.51.100.4"), {"name": "Ada", "password": password_of("Ada")})
    assert elsewhere.status_code == 303
    # Waiting while held does not prolong the hold: refused attempts are not failures.
    again = form_login(attacker, {"name": "guess-x", "password": WRONG})
    assert _held(again) <= _held(held)


def test_a_burst_of_parallel_guesses_gets_no_more_checks_than_the_limit(review_room: ReviewRoom) -> None:
    room = review_room
    burst = 3 * THROTTLE_FAILURES

    def guess(_: int) -> int:
        with _from(room, "203.0.113.8") as browser:
            return form_login(browser, {"name": CREW["supervisor"], "password": WRONG}).status_code

    with ThreadPoolExecutor(burst) as pool:
        answers = list(pool.map(guess, range(burst)))
    # Counted before checking, every guess sees those sent before it: the first few are checked
    # (and fail), the rest are held without a password check.
    assert answers.count(401) <= THROTTLE_FAILURES and answers.count(429) >= burst - THROTTLE_FAILURES
    assert set(answers) <= {401, 429}


def test_a_new_address_in_the_same_ipv6_network_is_no_fresh_throttle(review_room: ReviewRoom) -> None:
    room = review_room
    for i in range(THROTTLE_FAILURES):
        form = {"name": "Sol", "password": WRONG}
        assert form_login(_from(room, f"2001:db8:1:2::{i + 1:x}"), form).status_code == 401
    right = {"name": "Sol", "password": password_of("Sol")}
    _held(form_login(_from(room, "2001:db8:1:2:ffff:1:2:3"), right))
    # An IPv4 address written as IPv6 is the same address.
    for _ in range(THROTTLE_FAILURES):
        form_login(_from(room, "::ffff:203.0.113.9"), {"name": "Ada", "password": WRONG})
    _held(form_login(_from(room, "203.0.113.9"), {"name": "Ada", "password": password_of("Ada")}))
    # Another network is another subscriber.
    assert form_login(_from(room, "2001:db8:1:3::1"), right).status_code == 303


def test_the_address_throttle_holds_across_workers_and_a_restart(review_room: ReviewRoom) -> None:
    review_room.production.close()
    server, base = serve_production(review_room.root, workers=2)
    try:
        # A fresh connection per login: the kernel hands each to whichever worker accepts it.
        answers = []
        for i in range(THROTTLE_ADDRESS_FAILURES):
            with httpx.Client(base_url=base, timeout=60) as browser:
                answers.append(_one_guess(browser, i))
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert answers == [401] * THROTTLE_ADDRESS_FAILURES
    server, base = serve_production(review_room.root)
    try:
        with httpx.Client(base_url=base, timeout=60) as browser:
            held = form_login(browser, {"name": CREW["reviewer"], "password": password_of(CREW["reviewer"])})
    finally:
        server.terminate()
        server.wait(timeout=30)
    _held(held)


def test_behind_a_trusted_proxy_the_forwarded_address_counts_and_cannot_be_forged(
    review_room: ReviewRoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proxy (here: the test, on 127.0.0.1) appends the address it saw; what the client wrote
    in front of it is the client's own invention, and must not make a fresh throttle each time."""
    monkeypatch.setenv("SOUNDSTAGE_SERVE__TRUSTED_PROXIES", '["127.0.0.1"]')
    review_room.production.close()
    server, base = serve_production(review_room.root)
    try:
        forged = []
        with httpx.Client(base_url=base, timeout=60) as browser:
            for attempt in range(THROTTLE_FAILURES + 1):
                browser.headers["X-Forwarded-For"] = f"192.0.2.{attempt}, 198.51.100.20"
                forged.append(form_login(browser, {"name": CREW["artist"], "password": WRONG}).status_code)
            # Another client behind the same proxy is another address.
            browser.headers["X-Forwarded-For"] = "198.51.100.21"
            other = form_login(browser, {"name": CREW["artist"], "password": password_of(CREW["artist"])})
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert forged == [401] * THROTTLE_FAILURES + [429]
    assert other.status_code == 303
    assert "server" not in other.headers  # uvicorn's name and nothing else to fingerprint by


def test_a_wildcard_trusted_proxy_is_refused_in_one_line(
    review_room: ReviewRoom, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOUNDSTAGE_SERVE__TRUSTED_PROXIES", '["*"]')
    result = cli("-p", review_room.root, "serve", "--port", str(free_port()))
    assert result.code == 2 and "'*' is not an IP address or network" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_the_schema_and_docs_pages_are_closed_unless_enabled(
    review_room: ReviewRoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    for path in ("/openapi.json", "/docs", "/redoc"):
        assert review_room.client("producer").get(path).status_code == 404, path
    monkeypatch.setenv("SOUNDSTAGE_SERVE__API_SCHEMA", "true")
    documented = create_app(review_room.root)
    try:
        client = TestClient(documented)
        assert "/api/shots" in client.get("/openapi.json").json()["paths"]
        # The interactive pages stay closed: they would run a CDN's scripts with the room's cookies.
        assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404
    finally:
        documented.state.production.close()


def test_range_requests_are_answered_as_rfc_9110_says(review_room: ReviewRoom) -> None:
    room = review_room
    api = room.client("producer")
    image = api.get(f"/api/shots/{room.codes[0]}").json()["takes"][0]["image"]
    whole = api.get(image).content
    size = len(whole)

    def ranged(value: str | bytes, **headers: str) -> httpx.Response:
        return api.get(image, headers={"Range": value, **headers})

    suffix = ranged("bytes=-10")
    assert suffix.status_code == 206 and suffix.content == whole[-10:]
    assert suffix.headers["content-range"] == f"bytes {size - 10}-{size - 1}/{size}"
    clamped = ranged(f"bytes=5-{size * 10}")
    assert clamped.status_code == 206 and clamped.content == whole[5:]
    # Of several ranges the satisfiable ones are sent (one here, so no multipart).
    some = ranged(f"bytes=0-3, {size + 5}-{size + 9}")
    assert some.status_code == 206 and some.content == whole[:4]
    both = ranged("bytes=0-1,4-5")
    assert both.status_code == 206 and both.headers["content-type"].startswith("multipart/byteranges")
    # Valid, but nothing in the object: 416 naming its size, in the API's one line.
    for beyond in (f"bytes={size}-", f"bytes={size}-{size + 10}", "bytes=-0", f"bytes={size + 1}-,{size + 2}-"):
        answer = ranged(beyond)
        assert answer.status_code == 416, beyond
        assert answer.headers["content-range"] == f"bytes */{size}"
        assert "range not satisfiable" in answer.json()["detail"]
        assert answer.headers["x-content-type-options"] == "nosniff"
    # Not valid syntax, or not bytes: ignored, the whole object (not a 400).
    arabic_three = "bytes=\u0663-4".encode()  # a digit to str.isdigit, not to RFC 9110
    for malformed in (
        "bytes=3-1",
        "bytes=x-",
        "bytes=1-2-3",
        arabic_three,
        "bytes = 0-1",
        "pages=1-2",
        "bytes=",
        "=0-1",
    ):
        answer = ranged(malformed)
        assert answer.status_code == 200 and answer.content == whole, malformed
    # Too many ranges is a request to be expensive: the whole object.
    many = ranged("bytes=" + ",".join(f"{i}-{i}" for i in range(40)))
    assert many.status_code == 200 and many.content == whole
    # If-Range naming another version: the whole object, and no 416 either.
    etag = api.get(image).headers["etag"]
    assert ranged("bytes=1-4", **{"If-Range": etag}).status_code == 206
    assert ranged("bytes=1-4", **{"If-Range": '"another"'}).content == whole
    assert ranged(f"bytes={size}-", **{"If-Range": '"another"'}).status_code == 200


def test_an_unexpected_error_answers_one_line_with_no_sql_and_the_security_headers(review_room: ReviewRoom) -> None:
    app = create_app(review_room.root)
    statement = "SELECT password_hash FROM users WHERE name = 'Ada'"

    def broken() -> None:
        raise OperationalError(statement, {}, Exception("database disk image is malformed"))

    app.add_api_route("/api/broken", broken)
    app.add_api_route("/broken", broken)
    try:
        client = TestClient(app, raise_server_exceptions=False)
        for path in ("/api/broken", "/broken"):
            answer = client.get(path)
            assert answer.status_code == 500
            assert "SELECT" not in answer.text and "password" not in answer.text and "Traceback" not in answer.text
            assert "internal error" in answer.text
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert client.get("/api/broken").json() == {"detail": "internal error: the server's log has the details"}
    finally:
        app.state.production.close()


def test_cookies_over_https_are_secure_and_hsts_only_behind_tls(
    review_room: ReviewRoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reached by HTTPS without [serve] secure_cookies: the cookies are Secure all the same.
    https = TestClient(review_room.app, base_url="https://testserver", follow_redirects=False)
    answer = form_login(https, {"name": "Ada", "password": password_of("Ada")})
    cookie = answer.headers["set-cookie"].lower()
    assert answer.status_code == 303 and "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "strict-transport-security" not in answer.headers
    monkeypatch.setenv("SOUNDSTAGE_SERVE__SECURE_COOKIES", "true")
    behind_tls = create_app(review_room.root)
    try:
        page = TestClient(behind_tls, base_url="https://testserver").get("/login")
        assert page.headers["strict-transport-security"] == "max-age=31536000"
    finally:
        behind_tls.state.production.close()
