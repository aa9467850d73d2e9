"""The review room's HTML pages over the real app, on SQLite and PostgreSQL: the ids and data
attributes the browser tests and the player rely on, HTMX partials, escaping, the audit page."""

from __future__ import annotations

from .conftest import ReviewRoom

BOX = {"tool": "box", "points": [[0.25, 0.25], [0.5, 0.75]], "colour": "#00ff00"}


def test_board_cards_and_htmx_partial(review_room: ReviewRoom) -> None:
    client, _csrf = review_room.login("reviewer")
    page = client.get("/board")
    assert page.status_code == 200
    code = review_room.codes[1]
    assert f'data-code="{code}" data-status="todo"' in page.text and "flagged" in page.text
    assert 'id="filters"' in page.text and 'hx-get="/board"' in page.text
    scene = review_room.production.shots()[-1].scene
    partial = client.get("/board", params={"scene": scene}, headers={"HX-Request": "true"})
    assert partial.status_code == 200 and partial.text.lstrip().startswith('<section id="cards">')
    assert "<html" not in partial.text and f'data-code="{code}"' not in partial.text
    assert 'id="make-playlist"' not in page.text  # reviewers do not make playlists


def test_shot_page_shows_takes_findings_and_drawn_notes_escaped(review_room: ReviewRoom) -> None:
    code = review_room.codes[1]
    review_room.client("reviewer").post(
        f"/api/shots/{code}/notes", json={"body": "<script>alert(1)</script>", "take": 2, "frame": 4, "shapes": [BOX]}
    )
    page = review_room.client("artist").get(f"/shots/{code}")
    assert page.status_code == 200
    for marker in ('id="take-list"', 'id="findings"', 'id="notes"', 'id="compare"', 'id="shot-status"'):
        assert marker in page.text, marker
    assert f'data-take="{code}/2"' in page.text and "does not match the reference sheet" in page.text
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert 'data-frame="4"' in page.text and '<rect x="0.25" y="0.25" width="0.25" height="0.5"' in page.text
    assert 'data-action="submit"' in page.text and 'data-action="approve"' not in page.text  # the artist's buttons


def test_dailies_player_and_playlist_from_the_board(review_room: ReviewRoom) -> None:
    client, csrf = review_room.login("supervisor")
    codes = review_room.codes
    made = client.post(
        "/board/playlist", data={"csrf": csrf, "name": "Friday", "take": [f"{codes[0]}/2", f"{codes[2]}/1"]}
    )
    assert made.status_code == 303 and made.headers["location"].startswith("/dailies/")
    page = client.get(made.headers["location"])
    assert page.status_code == 200
    for marker in (
        'id="player"', 'canvas id="annotate"', 'data-tool="pen"', 'data-tool="arrow"', 'data-tool="box"',
        'data-tool="text"', 'id="approve"', 'id="request-changes"', 'id="note-body"', 'id="save-note"',
        'id="shot-status"', f'data-take="{codes[2]}/1"', 'id="dailies-data"',
    ):  # fmt: skip
        assert marker in page.text, marker
    assert 'id="share"' not in page.text  # only producers make client links
    assert "Friday" in client.get("/dailies").text


def test_audit_page_rows_and_chain(review_room: ReviewRoom) -> None:
    review_room.client("supervisor").post(f"/api/shots/{review_room.codes[0]}/decisions", json={"action": "submit"})
    page = review_room.client("producer").get("/audit")
    assert page.status_code == 200
    assert page.text.count('<tr class="event"') == 6 and 'data-intact="true"' in page.text
    assert 'data-action="submit"' in page.text


def test_every_answer_carries_the_security_headers(review_room: ReviewRoom) -> None:
    """Pages, the API, errors and static files: no framing by other sites, no sniffing, scripts
    only from the room itself, no referrer to other sites."""
    client, _ = review_room.login("supervisor")
    answers = [
        client.get("/dailies"),
        client.get("/login"),
        review_room.client("supervisor").get("/api/shots"),
        review_room.client().get("/api/shots"),  # 401
        client.get("/static/htmx.min.js"),
        client.get("/no-such-page"),
    ]
    for answer in answers:
        policy = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self';" in policy, answer.url
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "same-origin"
