"""People of the production: users and their roles (audited), review-room passwords and API
tokens, and the logins behind the review room: bearer tokens, server-side sessions with their
CSRF token, and the guest sessions of client links.

Only hashes are stored (soundstage.passwords): argon2 for passwords, sha256 for tokens.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from soundstage.errors import NoSuchRecord, ReviewError
from soundstage.passwords import hash_password, new_token, token_digest, verify_password
from soundstage.project.production import Context
from soundstage.project.throttle import THROTTLE_WINDOW, begin_attempt, forget_attempt
from soundstage.project.trail import append_event
from soundstage.review.audit import as_utc
from soundstage.review.workflow import Action, Role, authorise, parse_role
from soundstage.store.tables import (
    ApiTokenRow,
    LoginFailureRow,
    ShareRow,
    UserRow,
    WebSessionRow,
    utcnow,
)

# Someone working at the production's own machine (CLI user administration): the console user
# has the files and the database already, so no role could stop them; the trail still names them.
CONSOLE = "console"
SESSION_LIFETIME = timedelta(hours=12)
# Live guest sessions a client link keeps: its guests are a handful of people, but a script that
# never keeps its cookie opens a session with every request; past this the link's oldest end
# (a guest whose session ended opens the link again).
GUEST_SESSIONS = 200


@dataclass(frozen=True, slots=True)
class Via:
    """How a decision reached the production, as its audit event records it: ``how`` is "web
    session", "api token", "cli" or "client link"; a CLI decision names the operating-system user
    and host, and whether the person's API token vouched for the name (``token``); a guest's
    comment names the client link it came through (``link``), since a guest names themselves; a
    bearer request names the API token that made it (``api_token``: the one to revoke if leaked)."""

    how: str
    os_user: str = ""
    host: str = ""
    token: bool = False
    link: int | None = None
    api_token: int | None = None

    def as_detail(self) -> dict[str, object]:
        """The event detail's entries for this provenance."""
        detail: dict[str, object] = {"via": self.how}
        if self.how == "cli":
            detail |= {"os_user": self.os_user, "host": self.host, "token": self.token}
        if self.link is not None:
            detail["link"] = self.link
        if self.api_token is not None:
            detail["api_token"] = self.api_token
        return detail


@dataclass(frozen=True, slots=True)
class Person:
    """Who is acting, as the audit trail records them (``via``: how they reached us, when known)."""

    name: str
    role: Role
    via: Via | None = None


@dataclass(frozen=True, slots=True)
class Login:
    """Who a session cookie or an API token belongs to; ``csrf`` is "" for bearer tokens, and
    ``token_id`` the API token's id."""

    name: str
    role: Role
    csrf: str = ""
    session_id: int | None = None
    token_id: int | None = None


# -- users and roles ----------------------------------------------------------------------------


def person(session: Session, name: str) -> Person:
    """The active user ``name``; ReviewError if there is none."""
    row = session.scalars(select(UserRow).where(UserRow.name == name)).first()
    if row is None or not row.active:
        raise ReviewError(f"no active user {name!r} in this production (soundstage user add {name} --role ROLE)")
    return Person(row.name, Role(row.role))


def add_user(session: Session, actor: Person | str, name: str, role: str, password_hash: str = "") -> UserRow:
    """Add a person with a role; ``actor`` is a producer, or a console name for the CLI at the
    production."""
    name = name.strip()
    # No control characters either: a name is printed to other people's terminals (user list,
    # audit log), where an escape sequence in it would retitle or recolour them.
    if not name or len(name) > 128 or "/" in name or any(unicodedata.category(c) == "Cc" for c in name):
        raise ReviewError(f"user name {name!r}: 1-128 characters, no slashes, line breaks or control characters")
    parsed = parse_role(role)
    actor_name, actor_role = _actor(actor, Action.ADD_USER)
    if session.scalars(select(UserRow.id).where(UserRow.name == name)).first() is not None:
        raise ReviewError(f"user {name!r} exists already (soundstage user role {name} ROLE changes the role)")
    row = UserRow(name=name, role=parsed.value, password_hash=password_hash)
    session.add(row)
    session.flush()
    append_event(session, actor_name, actor_role, Action.ADD_USER, name, {"role": parsed.value})
    return row


def change_role(session: Session, actor: Person | str, name: str, role: str) -> UserRow:
    """Give a person another role (audited)."""
    parsed = parse_role(role)
    actor_name, actor_role = _actor(actor, Action.CHANGE_ROLE)
    row = session.scalars(select(UserRow).where(UserRow.name == name)).first()
    if row is None:
        raise ReviewError(f"no user {name!r} in this production")
    previous, row.role = row.role, parsed.value
    append_event(session, actor_name, actor_role, Action.CHANGE_ROLE, name, {"from": previous, "to": parsed.value})
    return row


def users(session: Session) -> list[tuple[str, str, bool]]:
    """(name, role, active) of everyone, by name."""
    rows = session.execute(select(UserRow.name, UserRow.role, UserRow.active).order_by(UserRow.name))
    return [(name, role, active) for name, role, active in rows]


def set_password(
    session: Session,
    name: str,
    password: str,
    *,
    actor: Person | str = CONSOLE,
    keep_session_id: int | None = None,
) -> None:
    """Set a person's review-room password (argon2, audited); every other session they had open
    ends (``keep_session_id``: the one they set it from, if they did it themselves). A producer
    sets anyone's; anyone their own."""
    # Hashed before the first statement: the transaction (SQLite's write lock) begins with it.
    _store_password(session, name, hash_password(password, who=name), actor, keep_session_id)


def _store_password(
    session: Session, name: str, password_hash: str, actor: Person | str, keep_session_id: int | None
) -> None:
    row = session.scalars(select(UserRow).where(UserRow.name == name)).first()
    if row is None:
        raise NoSuchRecord(f"no user {name!r} in this production (soundstage user add {name} --role ROLE)")
    actor_name, actor_role = _actor(actor, Action.SET_PASSWORD, own=name)
    row.password_hash = password_hash
    ended = delete(WebSessionRow).where(WebSessionRow.user_id == row.id)
    if keep_session_id is not None:
        ended = ended.where(WebSessionRow.id != keep_session_id)
    session.execute(ended)
    append_event(session, actor_name, actor_role, Action.SET_PASSWORD, name, _how(actor))


def issue_token(session: Session, name: str) -> str:
    """A new API token for an active person, to be shown once: only its sha256 is kept."""
    token = new_token()
    person(session, name)  # an active user, or one clear line
    user_id = session.scalars(select(UserRow.id).where(UserRow.name == name)).one()
    session.add(ApiTokenRow(user_id=user_id, token_sha256=token_digest(token)))
    return token


def tokens(session: Session, of: str | None = None) -> list[tuple[int, str, datetime]]:
    """(id, person, made at) of every API token (``of``: one person's), oldest first: the ids
    ``revoke_token`` takes."""
    query = (
        select(ApiTokenRow.id, UserRow.name, ApiTokenRow.created_at)
        .join(UserRow, UserRow.id == ApiTokenRow.user_id)
        .order_by(ApiTokenRow.id)
    )
    if of is not None:
        query = query.where(UserRow.name == of)
    return [(token_id, name, made) for token_id, name, made in session.execute(query)]


def revoke_token(session: Session, actor: Person | str, token_id: int) -> str:
    """Revoke an API token at once (audited); the name of the person it acted as. A producer
    revokes anyone's; anyone their own."""
    row = session.execute(
        select(ApiTokenRow.id, UserRow.name)
        .join(UserRow, UserRow.id == ApiTokenRow.user_id)
        .where(ApiTokenRow.id == token_id)
    ).first()
    if row is None:
        raise NoSuchRecord(f"no API token {token_id} (soundstage token list shows them)")
    actor_name, actor_role = _actor(actor, Action.REVOKE_TOKEN, own=row.name)
    session.execute(delete(ApiTokenRow).where(ApiTokenRow.id == token_id))
    append_event(session, actor_name, actor_role, Action.REVOKE_TOKEN, row.name, {"token": token_id} | _how(actor))
    return row.name


def deactivate_user(session: Session, actor: Person | str, name: str) -> None:
    """Deactivate a person (audited): their sessions and API tokens end at once (deleted, so
    nothing they held comes back); their name stays in the trail."""
    actor_name, actor_role = _actor(actor, Action.DEACTIVATE_USER)
    row = session.scalars(select(UserRow).where(UserRow.name == name)).first()
    if row is None:
        raise NoSuchRecord(f"no user {name!r} in this production (soundstage user list shows them)")
    if not row.active:
        raise ReviewError(f"no active user {name!r} in this production: {name} was deactivated already")
    row.active = False
    session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == row.id))
    ended = session.execute(delete(ApiTokenRow).where(ApiTokenRow.user_id == row.id)).rowcount
    append_event(session, actor_name, actor_role, Action.DEACTIVATE_USER, name, {"tokens": ended} | _how(actor))


def links(session: Session) -> list[tuple[int, int, datetime, bool]]:
    """(id, playlist id, expires at, live) of every client link, oldest first."""
    now = utcnow()
    rows = session.execute(select(ShareRow.id, ShareRow.playlist_id, ShareRow.expires_at).order_by(ShareRow.id))
    return [(i, playlist, as_utc(expires), as_utc(expires) > now) for i, playlist, expires in rows]


def withdraw_link(session: Session, actor: Person | str, share_id: int) -> None:
    """Withdraw a client link at once (audited): it opens nothing from now on, and its guests'
    sessions end."""
    actor_name, actor_role = _actor(actor, Action.WITHDRAW_LINK)
    share = session.get(ShareRow, share_id)
    if share is None:
        raise NoSuchRecord(f"no client link {share_id} (soundstage link list shows them)")
    if as_utc(share.expires_at) > utcnow():
        share.expires_at = utcnow()
    session.execute(delete(WebSessionRow).where(WebSessionRow.share_id == share_id))
    append_event(
        session,
        actor_name,
        actor_role,
        Action.WITHDRAW_LINK,
        f"playlist {share.playlist_id}",
        {"share": share_id} | _how(actor),
    )


def _actor(actor: Person | str, action: Action, *, own: str | None = None) -> tuple[str, str]:
    """The actor's name and role for the event, once their role allows ``action``; ``own``: the
    person the action is about, when anyone may do it to themselves (end their own access)."""
    if isinstance(actor, str):
        return actor, CONSOLE
    if actor.name != own:
        authorise(actor.name, actor.role, action)
    return actor.name, actor.role.value


def _how(actor: Person | str) -> dict[str, object]:
    """How the act reached us (web session, API token), for the event's detail, when known."""
    return actor.via.as_detail() if isinstance(actor, Person) and actor.via is not None else {}


# -- logins and sessions ----------------------------------------------------------------------


def bearer(session: Session, token: str) -> Login | None:
    """The active person an API token belongs to, or None."""
    row = session.execute(
        select(UserRow.name, UserRow.role, ApiTokenRow.id)
        .join(ApiTokenRow, ApiTokenRow.user_id == UserRow.id)
        .where(ApiTokenRow.token_sha256 == token_digest(token), UserRow.active.is_(True))
    ).first()
    return Login(row.name, Role(row.role), token_id=row.id) if row is not None else None


def session_login(session: Session, cookie: str) -> Login | None:
    """The active person a live session cookie belongs to (with the session's CSRF token), or None."""
    row = session.execute(
        select(UserRow.name, UserRow.role, WebSessionRow.csrf, WebSessionRow.id)
        .join(WebSessionRow, WebSessionRow.user_id == UserRow.id)
        .where(
            WebSessionRow.token_sha256 == token_digest(cookie),
            WebSessionRow.expires_at > utcnow(),
            UserRow.active.is_(True),
        )
    ).first()
    return Login(row.name, Role(row.role), row.csrf, row.id) if row is not None else None


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
    if share_id is not None:
        session.flush()
        newest = (
            select(WebSessionRow.id)
            .where(WebSessionRow.share_id == share_id)
            .order_by(WebSessionRow.id.desc())
            .limit(GUEST_SESSIONS)
        )
        session.execute(
            delete(WebSessionRow).where(WebSessionRow.share_id == share_id, WebSessionRow.id.not_in(newest))
        )
    return token, csrf


def log_in(context: Context, name: str, password: str, address: str, replacing: str = "") -> str | None:
    """Check a name and password; the new session's cookie value, or None when they are wrong.
    ``replacing``: the session cookie the browser brought, ended when the login succeeds (a
    browser holds one session: the one before must not stay live behind the new one).

    Raises throttle.Throttled (before the password is even looked at) when the name or the
    address failed too often just now (project/throttle.py). The hash is read in a short read, verified with
    no transaction open (argon2 takes tens of milliseconds by design, and SQLite has one
    writer: a login must never hold up a decision), and the outcome written in a short write
    of its own.
    """
    key = name.strip()[:128]
    attempt = begin_attempt(context, key, address)
    with context.reading() as session:
        user = session.execute(
            select(UserRow.id, UserRow.password_hash).where(UserRow.name == key, UserRow.active.is_(True))
        ).first()
    right = verify_password(user.password_hash if user is not None else "", password)
    if not (right and user is not None):
        return None  # the attempt's row stays: it is the failure the throttle counts
    with context.transaction() as session:
        # Still active with the same password? A deactivation or a new password between the
        # read and now must win over a login checked against the old hash.
        current = session.scalar(
            select(UserRow.id).where(
                UserRow.id == user.id, UserRow.active.is_(True), UserRow.password_hash == user.password_hash
            )
        )
        if current is None:
            return None
        session.execute(
            delete(LoginFailureRow).where(
                or_(
                    LoginFailureRow.id == attempt,
                    (LoginFailureRow.name == key) & (LoginFailureRow.address == address[:64]),
                )
            )
        )
        prune(session)
        if replacing:
            session.execute(delete(WebSessionRow).where(WebSessionRow.token_sha256 == token_digest(replacing)))
        return start_session(session, user_id=user.id)[0]


def prune(session: Session) -> None:
    """Forget expired sessions and login failures older than the throttle looks back (done on
    each successful login: cheap, and the tables never grow with time)."""
    now = utcnow()
    session.execute(delete(WebSessionRow).where(WebSessionRow.expires_at <= now))
    session.execute(delete(LoginFailureRow).where(LoginFailureRow.at <= now - THROTTLE_WINDOW))


def change_password(
    context: Context, who: Person, session_id: int | None, current: str, new: str, address: str
) -> bool:
    """A person changes their own password, giving the current one; False when that is wrong.
    Every other session of theirs ends, ``session_id`` (the one they are using) stays; audited.

    Throttled like ``log_in`` and under the same name (someone holding a stolen session must not
    guess their way to the password), and like it both hashes run with no transaction open.
    """
    attempt = begin_attempt(context, who.name, address)
    with context.reading() as session:
        stored = session.scalar(select(UserRow.password_hash).where(UserRow.name == who.name, UserRow.active.is_(True)))
    if stored is None or not verify_password(stored, current):
        return False  # the attempt's row stays: a failure, counted like a wrong login
    password_hash = hash_password(new, who=who.name)
    with context.transaction() as session:
        forget_attempt(session, attempt)  # the current password was right: no failure
        # A new password set between the check and now wins: this one was checked against the old.
        if session.scalar(select(UserRow.password_hash).where(UserRow.name == who.name)) != stored:
            return False
        _store_password(session, who.name, password_hash, who, session_id)
    return True


def end_session(session: Session, session_id: int) -> None:
    """Log out: the session row goes, so the cookie opens nothing any more."""
    session.execute(delete(WebSessionRow).where(WebSessionRow.id == session_id))


def link_log_in(context: Context, share_id: int, password_hash: str, password: str, address: str) -> str | None:
    """Check a client link's password; a guest session's cookie value, or None when it is wrong.
    Raises Throttled like ``log_in`` (the link is throttled like a login name), and like it
    verifies the hash with no transaction open."""
    key = f"share:{share_id}"
    attempt = begin_attempt(context, key, address)
    if not verify_password(password_hash, password):
        return None  # the attempt's row stays: it is the failure the throttle counts
    with context.transaction() as session:
        forget_attempt(session, attempt)
        prune(session)
        return start_session(session, share_id=share_id)[0]


def guest_session(session: Session, cookie: str | None, share_id: int) -> str | None:
    """The CSRF token of the guest session behind ``cookie`` for client link ``share_id``, if it
    is live (in the caller's transaction: SQLite would make a second one wait for the first)."""
    if not cookie:
        return None
    return session.scalar(
        select(WebSessionRow.csrf).where(
            WebSessionRow.token_sha256 == token_digest(cookie),
            WebSessionRow.share_id == share_id,
            WebSessionRow.expires_at > utcnow(),
        )
    )


def guest_share(session: Session, cookie: str | None) -> int | None:
    """The client link (share id) whose live guest session ``cookie`` is, if any."""
    if not cookie:
        return None
    now = utcnow()
    return session.scalar(
        select(ShareRow.id)
        .join(WebSessionRow, WebSessionRow.share_id == ShareRow.id)
        .where(
            WebSessionRow.token_sha256 == token_digest(cookie),
            WebSessionRow.expires_at > now,
            ShareRow.expires_at > now,
        )
    )
