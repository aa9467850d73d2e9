"""Who is asking, and may they: the FastAPI dependencies that routes declare, over the logins of
soundstage.project.people (API tokens, server-side session cookies with a CSRF token, the
guest sessions of client links).

A request is authenticated by ``Authorization: Bearer TOKEN`` or by the session cookie. The role
is read from the users table on every request, so a role change takes effect at once. Requests
that change something with the cookie must carry the session's CSRF token (header or form
field); bearer requests carry no cookie a forged page could ride on, so they need none.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from soundstage.passwords import new_token
from soundstage.project import people
from soundstage.project.people import SESSION_LIFETIME, Person, Via
from soundstage.project.production import Context
from soundstage.project.throttle import (
    THROTTLE_ADDRESS_FAILURES,
    THROTTLE_FAILURES,
    THROTTLE_NAME_FAILURES,
    THROTTLE_WINDOW,
    Throttled,
)
from soundstage.review.workflow import Role
from soundstage.web.render import render

__all__ = ["THROTTLE_ADDRESS_FAILURES", "THROTTLE_FAILURES", "THROTTLE_NAME_FAILURES", "THROTTLE_WINDOW", "Throttled"]

PageT = TypeVar("PageT", bound=Response)

SESSION_COOKIE = "soundstage_session"
SHARE_COOKIE = "soundstage_share"
# Before anyone has logged in: a random value the login forms' CSRF token is bound to, so a form
# on another site cannot log a browser into the attacker's account (login CSRF).
PRESESSION_COOKIE = "soundstage_presession"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CREW = frozenset({Role.PRODUCER, Role.SUPERVISOR, Role.ARTIST, Role.REVIEWER})
DECIDERS = frozenset({Role.PRODUCER, Role.SUPERVISOR})
PRODUCERS = frozenset({Role.PRODUCER})


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated person: their name and current role; ``csrf`` is "" for bearer tokens,
    ``token_id`` the bearer token's id."""

    name: str
    role: Role
    csrf: str = ""
    session_id: int | None = None
    token_id: int | None = None

    @property
    def person(self) -> Person:
        """The person as the review services record decisions."""
        # A session has a CSRF token, a bearer token none: that is how the decision came; a
        # bearer decision names its token, the one to revoke should it have leaked.
        if self.csrf:
            return Person(self.name, self.role, Via("web session"))
        return Person(self.name, self.role, Via("api token", api_token=self.token_id))


def production_of(request: Request) -> Context:
    """The production the app serves."""
    return request.app.state.production


def authenticate(request: Request) -> Principal | None:
    """The person behind a request's bearer token or session cookie; None when neither is sent.

    HTTPException 401 for a bearer token that is not (or no longer) valid.
    """
    if hasattr(request.state, "principal"):
        return request.state.principal
    production = production_of(request)
    header = request.headers.get("authorization")
    login: people.Login | None = None
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(401, "Authorization: expected Bearer TOKEN")
        with production.reading() as session:
            login = people.bearer(session, token.strip())
        if login is None:
            raise HTTPException(401, "unknown or revoked API token (soundstage user token NAME makes one)")
    elif cookie := request.cookies.get(SESSION_COOKIE):
        with production.reading() as session:
            login = people.session_login(session, cookie)
    principal = None
    if login is not None:
        principal = Principal(login.name, login.role, login.csrf, login.session_id, login.token_id)
    request.state.principal = principal
    return principal


async def check_csrf(request: Request, expected: str) -> None:
    """HTTPException 403 unless an unsafe request carries ``expected`` in the X-CSRF-Token header
    or a ``csrf`` form field."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get("x-csrf-token")
    content_type = request.headers.get("content-type", "")
    if sent is None and content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get("csrf")
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise HTTPException(403, "CSRF token missing or wrong: reload the page and try again")


async def caller(request: Request) -> Principal:
    """Dependency: the authenticated person (any role); 401 without authentication, 403 for a
    cookie request that changes something without the session's CSRF token."""
    # The lookup is blocking database work: off the event loop, like the sync routes.
    principal = await run_in_threadpool(authenticate, request)
    if principal is None:
        raise HTTPException(401, "log in first (or send Authorization: Bearer TOKEN)")
    if principal.session_id is not None:
        await check_csrf(request, principal.csrf)
    return principal


def _role_in(roles: frozenset[Role], what: str):
    def dependency(principal: Annotated[Principal, Depends(caller)]) -> Principal:
        if principal.role not in roles:
            raise HTTPException(403, f"{principal.name} ({principal.role}) may not {what}")
        return principal

    return dependency


# What routes declare: the crew (everyone but clients), deciders, producers.
Crew = Annotated[Principal, Depends(_role_in(CREW, "use the review room: clients use the links shared with them"))]
Decider = Annotated[Principal, Depends(_role_in(DECIDERS, "do that: it needs a supervisor or producer"))]
Producer = Annotated[Principal, Depends(_role_in(PRODUCERS, "do that: it needs a producer"))]


def set_cookie(response: Response, name: str, token: str, *, request: Request | None = None) -> None:
    """Set a session cookie: HttpOnly (scripts cannot read it), SameSite=Lax (no cross-site POSTs),
    and Secure when ``[serve] secure_cookies`` says the room is behind TLS or the request came
    over HTTPS (a browser that reached the room by HTTPS must never send it over plain HTTP)."""
    response.set_cookie(
        name, token, max_age=int(SESSION_LIFETIME.total_seconds()), httponly=True, samesite="lax", path="/",
        secure=_secure(request),
    )  # fmt: skip


def delete_cookie(response: Response, name: str, *, request: Request | None = None) -> None:
    """Delete a cookie ``set_cookie`` set, with the same flags: a deletion without them is itself
    a cookie without Secure and HttpOnly (sent over plain HTTP, seen by scripts until it expires),
    and some browsers keep a Secure cookie that a plain deletion does not match."""
    response.delete_cookie(name, httponly=True, samesite="lax", path="/", secure=_secure(request))


def _secure(request: Request | None) -> bool:
    return request is not None and (
        production_of(request).settings.serve.secure_cookies or request.url.scheme == "https"
    )


def guest_share(request: Request) -> int | None:
    """The client link (share id) whose live guest session the request carries, if any."""
    cookie = request.cookies.get(SHARE_COOKIE)
    if not cookie:
        return None
    # A read: every image a guest's page loads comes here, and no guest may hold the write lock
    # (SQLite has one writer) that the crew's decisions wait for.
    with production_of(request).reading() as session:
        return people.guest_share(session, cookie)


def client_address(request: Request) -> str:
    """The address a request came from, as the login throttle counts it: the connection's own
    (uvicorn rewrites it from X-Forwarded-For only for the proxies ``[serve] trusted_proxies``
    names), an IPv6 address by its /64 network (one subscriber is handed a whole /64 and picks
    addresses in it at will: counted one by one, each would be a fresh throttle), an IPv4
    address mapped into IPv6 as the IPv4 address."""
    host = request.client.host if request.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]  # not an address (a test client, a Unix socket): as it is
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def throttled_answer(page: PageT, held: Throttled) -> PageT:
    """A login refused by the throttle: ``page`` (already 429) with Retry-After, the seconds
    until a login is looked at again."""
    page.headers["Retry-After"] = str(held.retry_after)
    return page


def throttle_message(held: Throttled, what: str = "logins for this name") -> str:
    """The one line a throttled login form shows: what is held, and for how long."""
    minutes = -(-held.retry_after // 60)
    wait = f"{held.retry_after} seconds" if held.retry_after < 60 else f"{minutes} minute{'s' if minutes > 1 else ''}"
    held_for = "failed logins from your address" if held.by_address else f"failed {what}"
    return f"too many {held_for}: wait {wait} and try again"


# -- the login forms' CSRF token -----------------------------------------------------------------


def _login_token(request: Request, presession: str) -> str:
    # The key is the app's (web.app.login_form_key): one for every process serving the production.
    return hmac.new(request.app.state.login_form_key, presession.encode(), hashlib.sha256).hexdigest()


def login_page(request: Request, template: str, context: dict[str, object], status_code: int = 200) -> HTMLResponse:
    """A login form (``login.html``, ``share_login.html``) with its CSRF token in ``login_csrf``,
    bound to the browser's pre-session cookie (set here when the browser has none)."""
    presession = request.cookies.get(PRESESSION_COOKIE) or ""
    fresh = len(presession) != 43  # new_token's length: anything else is not ours
    if fresh:
        presession = new_token()
    page = render(request, template, {**context, "login_csrf": _login_token(request, presession)}, status_code)
    if fresh:
        set_cookie(page, PRESESSION_COOKIE, presession, request=request)
    return page


def check_login_csrf(request: Request, sent: str) -> None:
    """HTTPException 403 unless a login form's ``csrf`` field matches the pre-session cookie."""
    presession = request.cookies.get(PRESESSION_COOKIE) or ""
    if not presession or not sent or not hmac.compare_digest(sent.encode(), _login_token(request, presession).encode()):
        raise HTTPException(403, "login form expired or sent from another site: reload the page and try again")
