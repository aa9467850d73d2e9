"""The permission matrix: every route of the review room, for every role and for nobody, on
SQLite and PostgreSQL. Nobody gets 401, a role that may not gets 403, and neither changes
anything; every role that may gets a 2xx (or a redirect). The list of routes is the app's own
(``app.routes``): a new route without a row here fails the test."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from .conftest import CREW, ROLES, ReviewRoom, password_of

ALL_CREW = frozenset({"producer", "supervisor", "artist", "reviewer"})
DECIDERS = frozenset({"producer", "supervisor"})
PRODUCER = frozenset({"producer"})
EVERYONE = frozenset(ROLES)
# Routes open without logging in, by design: the login form, the front page's redirect, and the
# client links (a token in the address; tests/web/test_share.py).
OPEN = {
    ("GET", "/login"), ("POST", "/login"), ("GET", "/"),
    ("GET", "/share/{token}"), ("POST", "/share/{token}/login"), ("POST", "/share/{token}/comments"),
}  # fmt: skip
# A different shot for each role that may change a status, so each one's change is allowed.
SHOT_OF = {"producer": 0, "supervisor": 1, "artist": 2, "reviewer": 3, "client": 3}


@dataclass(frozen=True)
class Route:
    """One request: method, path and JSON or form body, worked out per role."""

    method: str
    route: str  # the app's path template, e.g. /api/shots/{code}
    path: Callable[[ReviewRoom, str], str]
    allowed: frozenset[str]
    json: Callable[[ReviewRoom, str], Any] | None = None
    form: dict[str, Any] | Callable[[ReviewRoom, str], dict[str, Any]] | None = None

    def send(self, room: ReviewRoom, role: str | None) -> int:
        client = room.client(role)
        who = role or "client"
        json = self.json(room, who) if self.json else None
        form = self.form(room, who) if callable(self.form) else self.form
        return client.request(self.method, self.path(room, who), json=json, data=form).status_code


def shot(room: ReviewRoom, role: str) -> str:
    return room.codes[SHOT_OF[role]]


def take(room: ReviewRoom, role: str, number: int = 1) -> str:
    return f"{shot(room, role)}/{number}"


def image(room: ReviewRoom, _role: str) -> str:
    return room.client("producer").get(f"/api/shots/{room.codes[0]}").json()["takes"][0]["image"]


def spare_token(room: ReviewRoom, role: str) -> str:
    """The revoke address of a new API token of the person of ``role`` (not the one the test
    client sends, which later rows still need)."""
    room.production.issue_token(CREW[role])
    return f"/tokens/{room.production.tokens()[-1][0]}/revoke"


def new_password(_room: ReviewRoom, role: str) -> dict[str, str]:
    """A new password for the person of ``role``, given their current one."""
    return {"current": password_of(CREW[role]), "new": "a-new-lantern", "again": "a-new-lantern"}


SPARE = "Temp"  # a person the producer's row may deactivate, made by the test


def matrix(playlist: int) -> list[Route]:
    p = f"/api/playlists/{playlist}"
    return [
        Route("GET", "/api/shots", lambda r, w: "/api/shots", ALL_CREW),
        Route("GET", "/api/shots/{code}", lambda r, w: f"/api/shots/{shot(r, w)}", ALL_CREW),
        Route("GET", "/api/shots/{code}/annotations", lambda r, w: f"/api/shots/{shot(r, w)}/annotations", ALL_CREW),
        Route("POST", "/api/shots/{code}/notes", lambda r, w: f"/api/shots/{shot(r, w)}/notes", ALL_CREW, json=lambda r, w: {"body": "ok", "frame": 1}),
        Route("POST", "/api/shots/{code}/decisions", lambda r, w: f"/api/shots/{shot(r, w)}/decisions", frozenset({"producer", "supervisor", "artist"}),
              json=lambda r, w: {"action": "submit"}),
        Route("POST", "/api/shots/{code}/decisions", lambda r, w: f"/api/shots/{shot(r, w)}/decisions", DECIDERS,
              json=lambda r, w: {"action": "approve", "take": 2, "override_reason": "agreed"}),
        Route("POST", "/api/shots/{code}/notes", lambda r, w: f"/api/shots/{shot(r, w)}/notes", DECIDERS,
              json=lambda r, w: {"body": "again", "status": "changes requested"}),
        Route("GET", "/api/playlists", lambda r, w: "/api/playlists", ALL_CREW),
        Route("POST", "/api/playlists", lambda r, w: "/api/playlists", DECIDERS, json=lambda r, w: {"name": "n", "takes": [take(r, w)]}),
        Route("GET", "/api/playlists/{playlist_id}", lambda r, w: p, ALL_CREW),
        Route("POST", "/api/playlists/{playlist_id}/approve", lambda r, w: f"{p}/approve", DECIDERS, json=lambda r, w: {"override_reason": "agreed"}),
        Route("POST", "/api/playlists/{playlist_id}/share", lambda r, w: f"{p}/share", PRODUCER, json=lambda r, w: {"expires_in_hours": 1}),
        Route("GET", "/api/audit", lambda r, w: "/api/audit", DECIDERS),
        Route("GET", "/api/audit/verify", lambda r, w: "/api/audit/verify", DECIDERS),
        Route("GET", "/media/{name}", image, ALL_CREW),
        Route("HEAD", "/media/{name}", image, ALL_CREW),
        Route("GET", "/board", lambda r, w: "/board", ALL_CREW),
        Route("GET", "/board", lambda r, w: "/board?status=todo", ALL_CREW),
        Route("POST", "/board/playlist", lambda r, w: "/board/playlist", DECIDERS, form={"name": "from board", "take": ["001_0010/1"]}),
        Route("GET", "/shots/{code}", lambda r, w: f"/shots/{shot(r, w)}", ALL_CREW),
        Route("GET", "/dailies", lambda r, w: "/dailies", ALL_CREW),
        Route("GET", "/dailies/{playlist_id}", lambda r, w: f"/dailies/{playlist}", ALL_CREW),
        Route("GET", "/audit", lambda r, w: "/audit", DECIDERS),
        Route("GET", "/books", lambda r, w: "/books", PRODUCER),
        Route("POST", "/logout", lambda r, w: "/logout", EVERYONE),
        Route("GET", "/schedule", lambda r, w: "/schedule", ALL_CREW),
        Route("POST", "/api/schedule/moves", lambda r, w: "/api/schedule/moves", PRODUCER, json=lambda r, w: free_move(r)),
        Route("GET", "/api/schedule/preview", lambda r, w: "/api/schedule/preview?scene={scene}&day={day}".format(**free_move(r)), PRODUCER),
        Route("GET", "/account", lambda r, w: "/account", ALL_CREW),
        Route("POST", "/account/password", lambda r, w: "/account/password", ALL_CREW, form=new_password),
        Route("POST", "/tokens/{token_id}/revoke", spare_token, ALL_CREW),
        Route("GET", "/people", lambda r, w: "/people", PRODUCER),
        Route("POST", "/people/{name}/deactivate", lambda r, w: f"/people/{SPARE}/deactivate", PRODUCER),
        Route("POST", "/links/{share_id}/withdraw", lambda r, w: f"/links/{r.production.links()[0][0]}/withdraw", PRODUCER),
    ]  # fmt: skip


def free_move(room: ReviewRoom) -> dict[str, Any]:
    """A strip moved onto the shoot day after the last: breaks no rule of the schedule."""
    schedule = room.production.schedule()
    return {"scene": schedule.days[0].scenes[0], "day": schedule.days[-1].index + 2}


def _api_routes(app: FastAPI) -> list[tuple[str, set[str]]]:
    """(path template, methods) of every route of the app, its included routers' too."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI 0.165+: routers stay nested
    except ImportError:  # older FastAPI copies included routes into app.routes
        return [(r.path, r.methods) for r in app.routes if isinstance(r, APIRoute)]
    return [(c.path, c.methods) for c in iter_route_contexts(app.routes) if isinstance(c.original_route, APIRoute)]


def test_every_route_has_a_row_or_is_open_by_design(review_room: ReviewRoom) -> None:
    served = {(method, path) for path, methods in _api_routes(review_room.app) for method in methods}
    assert len(served) >= 20  # the app's routes were read
    rows = {(route.method, route.route) for route in matrix(1)}
    assert served - OPEN - rows == set(), "routes missing from the permission matrix"
    assert rows | OPEN <= served, "rows for routes the app does not have"


def test_every_route_for_every_role(review_room: ReviewRoom) -> None:
    codes = review_room.codes
    made = review_room.client("producer").post("/api/playlists", json={"name": "d", "takes": [f"{codes[3]}/1"]})
    playlist = made.json()["id"]
    # The stripboard's move needs a schedule to move a strip in.
    production = review_room.production
    production.add_stage("Stage A", kind="sound-stage", size_sqft=12000, zone="in", day_rate="2500")
    production.solve_schedule(start=date(2027, 1, 4), time_limit=10)
    # Access the producer's rows end: a person of their own, and a client link.
    production.add_user(SPARE, "artist")
    assert review_room.client("producer").post(f"/api/playlists/{playlist}/share", json={}).status_code == 201
    for route in matrix(playlist):
        for role in (None, *ROLES):
            if role in route.allowed:
                continue
            before = review_room.fingerprint()
            status = route.send(review_room, role)
            expected = 401 if role is None else 403
            assert status == expected, (route.method, route.path(review_room, role or "client"), role, status)
            assert review_room.fingerprint() == before, (route.method, route.path(review_room, role or "client"), role)
        for role in sorted(route.allowed):
            status = route.send(review_room, role)
            assert 200 <= status < 400, (route.method, route.path(review_room, role), role, status)


def test_open_pages(review_room: ReviewRoom) -> None:
    client = review_room.client()
    assert client.get("/").status_code == 303
    assert client.get("/login").status_code == 200
    assert client.get("/static/dailies.js").status_code == 200
    assert client.post("/logout").status_code == 401
    # The schema and FastAPI's docs pages are not served unless [serve] api_schema says so.
    for closed in ("/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"):
        assert client.get(closed).status_code == 404, closed
