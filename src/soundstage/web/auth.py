"""Who is asking, and may they: API tokens, server-side session cookies with a CSRF token, login
throttling, the guest sessions of client links, and the FastAPI dependencies that routes declare.

A request is authenticated by ``Authorization: Bearer TOKEN`` or by the session cookie. The role
is read from the users table on every request, so a role change takes effect at once. Requests
that change something with the cookie must carry the session's CSRF token (header or form
field); bearer requests carry no cookie a forged page could ride on, so they need none.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from soundstage.project import Production
from soundstage.review.records import Person
from soundstage.review.workflow import Role
from soundstage.store.db import read_scope, session_scope
from soundstage.store.tables import (
    ApiTokenRow,
    LoginFailureRow,
    ShareRow,
    UserRow,
    WebSessionRow,
    utcnow,
)
from soundstage.web.credentials import new_token, token_digest, verify_password

SESSION_COOKIE = "soundstage_session"
SHARE_COOKIE = "soundstage_share"
SESSION_LIFETIME = timedelta(hours=12)
THROTTLE_FAILURES = 5  # failed logins per name and address ...
THROTTLE_WINDOW = timedelta(minutes=5)  # ... within this long answer 429
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CREW = frozenset({Role.PRODUCER, Role.SUPERVISOR, Role.ARTIST, Role.REVIEWER})
DECIDERS = frozenset({Role.PRODUCER, Role.SUPERVISOR})
PRODUCERS = frozenset({Role.PRODUCER})


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated person: their name and current role; ``csrf`` is "" for bearer tokens."""

    name: str
    role: Role
    csrf: str = ""
    session_id: int | None = None

    @property
    def person(self) -> Person:
        """The person as review/records.py records decisions."""
        return Person(self.name, self.role)


class Throttled(Exception):
    """Too many failed logins for one name from one address (the route answers 429)."""


def production_of(request: Request) -> Production:
    """The production the app serves."""
    return request.app.state.production


def authenticate(request: Request) -> Principal | None:
    """The person behind a request's bearer token or session cookie; None when neither is sent.

    HTTPException 401 for a bearer token that is not (or no longer) valid.
    """
    if hasattr(request.state, "principal"):
        return request.state.principal
    engine = production_of(request).engine
    header = request.headers.get("authorization")
    principal: Principal | None = None
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(401, "Authorization: expected Bearer TOKEN")
        with read_scope(engine) as session:
            row = session.execute(
                select(UserRow.name, UserRow.role)
                .join(ApiTokenRow, ApiTokenRow.user_id == UserRow.id)
                .where(ApiTokenRow.token_sha256 == token_digest(token.strip()), UserRow.active.is_(True))
            ).first()
        if row is None:
            raise HTTPException(401, "unknown or revoked API token (soundstage user token NAME makes one)")
        principal = Principal(row.name, Role(row.role))
    elif cookie := request.cookies.get(SESSION_COOKIE):
        with read_scope(engine) as session:
            row = session.execute(
                select(UserRow.name, UserRow.role, WebSessionRow.csrf, WebSessionRow.id)
                .join(WebSessionRow, WebSessionRow.user_id == UserRow.id)
                .where(
                    WebSessionRow.token_sha256 == token_digest(cookie),
                    WebSessionRow.expires_at > utcnow(),
                    UserRow.active.is_(True),
                )
            ).first()
        if row is not None:
            principal = Principal(row.name, Role(row.role), row.csrf, row.id)
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


# -- sessions and logins ---------------------------------------------------------------------


def start_session(session: Session, *, user_id: int | None = None, share_id: int | None = None) -> tuple[str, str]:
    """A new server-side session for a person or a client link's guest: (cookie value, CSRF token)."""
    token, csrf = new_token(), new_token()
    session.add(
        WebSessionRow(
            token_sha256=token_digest(token),
            user_id=user_id,
            share_id=share_id,
            csrf=csrf,
            expires_at=utcnow() + SESSION_LIFETIME,
        )
    )
    return token, csrf


def set_cookie(response: Response, name: str, token: str) -> None:
    """Set a session cookie: HttpOnly (scripts cannot read it), SameSite=Lax (no cross-site POSTs)."""
    response.set_cookie(
        name,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        path="/",
    )


def log_in(production: Production, name: str, password: str, address: str) -> str | None:
    """Check a name and password; the new session's cookie value, or None when they are wrong.

    Raises Throttled after THROTTLE_FAILURES failures for the name and address within
    THROTTLE_WINDOW, before the password is even looked at.
    """
    key = name.strip()[:128]
    with session_scope(production.engine) as session:
        if throttled(session, key, address):
            raise Throttled(key)
        user = session.scalars(select(UserRow).where(UserRow.name == key, UserRow.active.is_(True))).first()
        if user is None or not verify_password(user.password_hash, password):
            session.add(LoginFailureRow(name=key, address=address[:64]))
            return None
        session.execute(delete(LoginFailureRow).where(LoginFailureRow.name == key, LoginFailureRow.address == address))
        return start_session(session, user_id=user.id)[0]


def throttled(session: Session, key: str, address: str) -> bool:
    """Whether ``key`` (a name, or a client link) failed too often from ``address`` just now."""
    since: datetime = utcnow() - THROTTLE_WINDOW
    failures = session.scalar(
        select(func.count())
        .select_from(LoginFailureRow)
        .where(LoginFailureRow.name == key, LoginFailureRow.address == address[:64], LoginFailureRow.at > since)
    )
    return (failures or 0) >= THROTTLE_FAILURES


def end_session(production: Production, session_id: int) -> None:
    """Log out: the session row goes, so the cookie opens nothing any more."""
    with session_scope(production.engine) as session:
        session.execute(delete(WebSessionRow).where(WebSessionRow.id == session_id))


def guest_session(session: Session, request: Request, share_id: int) -> str | None:
    """The CSRF token of the request's guest session for client link ``share_id``, if it has one
    (in the caller's transaction: SQLite would make a second one wait for the first)."""
    cookie = request.cookies.get(SHARE_COOKIE)
    if not cookie:
        return None
    return session.scalar(
        select(WebSessionRow.csrf).where(
            WebSessionRow.token_sha256 == token_digest(cookie),
            WebSessionRow.share_id == share_id,
            WebSessionRow.expires_at > utcnow(),
        )
    )


def guest_share(request: Request) -> int | None:
    """The client link (share id) whose guest session the request carries, if live."""
    cookie = request.cookies.get(SHARE_COOKIE)
    if not cookie:
        return None
    now = utcnow()
    with session_scope(production_of(request).engine) as session:
        return session.scalar(
            select(ShareRow.id)
            .join(WebSessionRow, WebSessionRow.share_id == ShareRow.id)
            .where(
                WebSessionRow.token_sha256 == token_digest(cookie),
                WebSessionRow.expires_at > now,
                ShareRow.expires_at > now,
            )
        )


def client_address(request: Request) -> str:
    """The address a request came from (for the login throttle)."""
    return request.client.host if request.client else "unknown"
