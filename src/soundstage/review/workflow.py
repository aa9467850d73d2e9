"""The review workflow: roles, what each may do, and the state machine a shot's status follows.

Pure rules, no database: ``records.py`` applies them inside a transaction, the CLI and the web
both go through it, so a script and a browser are held to the same rules.
"""

from __future__ import annotations

from enum import StrEnum

from soundstage.errors import PermissionDenied, ReviewError


class Role(StrEnum):
    """A person's role in the production."""

    PRODUCER = "producer"  # everything, including accounts and client links
    SUPERVISOR = "supervisor"  # approves and requests changes
    ARTIST = "artist"  # makes takes, submits them for review
    REVIEWER = "reviewer"  # comments
    CLIENT = "client"  # sees and comments on the playlists shared with them, nothing else


class Status(StrEnum):
    """Where a shot stands."""

    TODO = "todo"
    IN_PROGRESS = "in progress"
    PENDING_REVIEW = "pending review"
    CHANGES_REQUESTED = "changes requested"
    APPROVED = "approved"
    FINAL = "final"


class Action(StrEnum):
    """Everything a person can do that the audit trail records."""

    START = "start"
    SUBMIT = "submit"
    APPROVE = "approve"
    REQUEST_CHANGES = "request changes"
    FINAL = "final"
    REOPEN = "reopen"
    NOTE = "note"
    ASSIGN = "assign"
    ADD_USER = "add user"
    CHANGE_ROLE = "change role"
    SHARE = "share"
    # -- review room security: ending access, and the acts that grant it --
    REVOKE_TOKEN = "revoke token"
    DEACTIVATE_USER = "deactivate user"
    WITHDRAW_LINK = "withdraw link"
    SET_PASSWORD = "set password"
    MAKE_PLAYLIST = "make playlist"


_ALL = frozenset(Role)
_CREW = frozenset({Role.PRODUCER, Role.SUPERVISOR, Role.ARTIST})
_DECIDERS = frozenset({Role.PRODUCER, Role.SUPERVISOR})
_PRODUCER = frozenset({Role.PRODUCER})

# Who may do what. Clients may note, but only on playlists shared with them (the web checks that).
ALLOWED: dict[Action, frozenset[Role]] = {
    Action.START: _CREW,
    Action.SUBMIT: _CREW,
    Action.APPROVE: _DECIDERS,
    Action.REQUEST_CHANGES: _DECIDERS,
    Action.FINAL: _DECIDERS,
    Action.REOPEN: _PRODUCER,
    Action.NOTE: _ALL,
    Action.ASSIGN: _DECIDERS,
    Action.ADD_USER: _PRODUCER,
    Action.CHANGE_ROLE: _PRODUCER,
    Action.SHARE: _PRODUCER,
    Action.REVOKE_TOKEN: _PRODUCER,
    Action.DEACTIVATE_USER: _PRODUCER,
    Action.WITHDRAW_LINK: _PRODUCER,
    Action.SET_PASSWORD: _PRODUCER,
    Action.MAKE_PLAYLIST: _DECIDERS,
}

# The state machine: for each status-changing action, the statuses it may start from and where it
# leads. Approving straight from "todo" or "in progress" is allowed: a supervisor at the artist's
# desk need not make them submit first; approving an approved shot is not (one approval wins).
TRANSITIONS: dict[Action, tuple[frozenset[Status], Status]] = {
    Action.START: (frozenset({Status.TODO, Status.CHANGES_REQUESTED}), Status.IN_PROGRESS),
    Action.SUBMIT: (
        frozenset({Status.TODO, Status.IN_PROGRESS, Status.CHANGES_REQUESTED}),
        Status.PENDING_REVIEW,
    ),
    Action.APPROVE: (
        frozenset({Status.TODO, Status.IN_PROGRESS, Status.PENDING_REVIEW, Status.CHANGES_REQUESTED}),
        Status.APPROVED,
    ),
    Action.REQUEST_CHANGES: (
        frozenset({Status.IN_PROGRESS, Status.PENDING_REVIEW, Status.APPROVED}),
        Status.CHANGES_REQUESTED,
    ),
    Action.FINAL: (frozenset({Status.APPROVED}), Status.FINAL),
    Action.REOPEN: (frozenset({Status.FINAL, Status.APPROVED}), Status.CHANGES_REQUESTED),
}


def parse_role(value: str) -> Role:
    """A role from its name, or one ReviewError line listing the roles."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise ReviewError(f"unknown role {value!r}; roles: {', '.join(Role)}") from None


def authorise(name: str, role: Role, action: Action) -> None:
    """Raise PermissionDenied unless ``role`` may do ``action``."""
    if role not in ALLOWED[action]:
        allowed = " or ".join(sorted(ALLOWED[action]))
        raise PermissionDenied(f"{name} ({role}) may not {action}: that needs a {allowed}")


def next_status(shot: str, current: Status, action: Action) -> Status:
    """Where ``action`` takes a shot that is ``current``; ReviewError if the machine forbids it."""
    sources, target = TRANSITIONS[action]
    if current not in sources:
        raise ReviewError(f"shot {shot} is {current}: cannot {action} (only from {', '.join(sorted(sources))})")
    return target


def allowed_actions(role: Role, current: Status) -> list[Action]:
    """The status changes ``role`` may make on a shot that is ``current`` (for buttons and keys)."""
    return [a for a, (sources, _) in TRANSITIONS.items() if current in sources and role in ALLOWED[a]]
