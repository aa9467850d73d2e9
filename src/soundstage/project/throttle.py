"""The login throttle: failed logins (and client-link passwords) counted per name and address,
per name and per address, in the database so that it holds across `serve --workers` processes
and restarts.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from soundstage.project.production import Context
from soundstage.review.audit import as_utc
from soundstage.store.tables import LoginFailureRow, utcnow

THROTTLE_FAILURES = 5  # failed logins per name and address ...
THROTTLE_WINDOW = timedelta(minutes=5)  # ... within this long are refused
# Failed logins per name from any address within THROTTLE_WINDOW: someone guessing one person's
# password from many addresses (a botnet, or forged forwarded headers) is stopped too, at the
# price that the person waits five minutes after such an attack.
THROTTLE_NAME_FAILURES = 20
# Failed logins from one address within THROTTLE_WINDOW, whatever the names or links tried: one
# machine spraying a common password over every name (or guessing client links' passwords) is
# stopped. High enough that an office behind one NAT address, its people mistyping, is not.
THROTTLE_ADDRESS_FAILURES = 30


class Throttled(Exception):
    """Too many failed logins for one name (or client link), or from one address:
    ``retry_after`` is the seconds until a login would be looked at again, ``by_address``
    whether the address (rather than the name) is what is held."""

    def __init__(self, key: str, retry_after: int, by_address: bool = False) -> None:
        super().__init__(key)
        self.key, self.retry_after, self.by_address = key, retry_after, by_address


def begin_attempt(context: Context, key: str, address: str) -> int:
    """Record a login attempt for ``key`` (a name, or a client link) from ``address`` as a
    failure before its password is checked, then count; the attempt's row id (the caller
    deletes it when the password is right). Throttled, its row gone again, when the name or
    the address failed too often just now.

    Recorded first and counted after its own commit, so of many attempts sent at once each
    sees every one committed before it: no more than the limit get their password checked
    (counting first and recording after, a burst of parallel guesses all passed the count).
    """
    address = address[:64]
    with context.transaction() as session:
        # Failures the throttle no longer looks at go as new ones come: the table holds one
        # window's worth whatever an attacker sends, not only between successful logins.
        session.execute(delete(LoginFailureRow).where(LoginFailureRow.at <= utcnow() - THROTTLE_WINDOW))
        row = LoginFailureRow(name=key, address=address)
        session.add(row)
        session.flush()
        attempt = row.id
    with context.reading() as session:
        held = throttle(session, key, address, besides=attempt)
    if held is not None:
        with context.transaction() as session:
            # A refused attempt is no failure: retrying while held must not prolong the hold.
            session.execute(delete(LoginFailureRow).where(LoginFailureRow.id == attempt))
        raise held
    return attempt


def throttle(session: Session, key: str, address: str, besides: int | None = None) -> Throttled | None:
    """Throttled (not raised) if ``key`` (a name, or a client link) failed too often just now
    from ``address`` (THROTTLE_FAILURES) or from anywhere (THROTTLE_NAME_FAILURES), or
    ``address`` did whatever the names (THROTTLE_ADDRESS_FAILURES); None when a login may go
    ahead. ``besides``: an attempt's own row, not counted."""
    address = address[:64]
    since: datetime = utcnow() - THROTTLE_WINDOW
    recent = LoginFailureRow.at > since
    if besides is not None:
        recent = recent & (LoginFailureRow.id != besides)
    by_name = LoginFailureRow.name == key
    by_address = LoginFailureRow.address == address
    # Two counts, each through an index of its own (name; address and time).
    anywhere, here = session.execute(select(func.count(), func.count().filter(by_address)).where(by_name, recent)).one()
    from_address = session.scalar(select(func.count()).where(by_address, recent))
    held = [
        (limit, where, is_address)
        for count, limit, where, is_address in (
            (here, THROTTLE_FAILURES, by_name & by_address, False),
            (anywhere, THROTTLE_NAME_FAILURES, by_name, False),
            (from_address, THROTTLE_ADDRESS_FAILURES, by_address, True),
        )
        if count >= limit
    ]
    if not held:
        return None
    # Held until the limit-th newest failure of each exceeded count leaves the window (gone
    # already if a login just pruned it: then a second's wait).
    until = utcnow() - THROTTLE_WINDOW
    for limit, where, _ in held:
        at = session.scalar(
            select(LoginFailureRow.at)
            .where(where, recent)
            .order_by(LoginFailureRow.at.desc())
            .offset(limit - 1)
            .limit(1)
        )
        until = max(until, as_utc(at)) if at is not None else until
    wait = (until + THROTTLE_WINDOW - utcnow()).total_seconds()
    return Throttled(key, max(1, math.ceil(wait)), by_address=all(is_address for _, _, is_address in held))


def forget_attempt(session: Session, attempt: int) -> None:
    """The attempt's password was right: its row is no failure."""
    session.execute(delete(LoginFailureRow).where(LoginFailureRow.id == attempt))
