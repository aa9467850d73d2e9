"""The audit trail in the database: every human decision appended as one event to a hash chain,
in the caller's transaction, and the chain read back and verified (review/audit.py).

The chain is anchored outside the database (review/anchor.py): each committed transaction that
appended events writes a checkpoint (head hash, event count, time) signed with the production's
signing key into ``audit/checkpoints/`` in the production folder; ``verify_trail`` checks the
chain against those checkpoints and any heads the caller knows (one the user kept, one a cut's
credentials carry), and replays the decisions against the shot statuses and approvals stored.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from sqlalchemy import event as orm_event
from sqlalchemy import select, text
from sqlalchemy.orm import Session, SessionTransaction

from soundstage.errors import CredentialsError, ReviewError
from soundstage.files import write_atomic
from soundstage.generate.backend import take_name
from soundstage.project.production import SESSION_CONTEXT, Context
from soundstage.review.anchor import (
    AnchorReport,
    Approval,
    Checkpoint,
    compare_state,
    read_checkpoints,
    replay,
    sign_checkpoint,
    verify_anchors,
)
from soundstage.review.audit import GENESIS, ChainReport, Event, event_hash
from soundstage.review.audit import verify as verify_chain
from soundstage.review.workflow import Action
from soundstage.store.db import make_durable
from soundstage.store.tables import EventRow, ShotRow, TakeRow, utcnow

log = logging.getLogger(__name__)

# One fixed key of PostgreSQL's transaction advisory locks: the audit chain's.
_CHAIN_LOCK = 7210412


def append_event(
    session: Session, actor: str, role: str, action: Action | str, subject: str, detail: dict[str, Any]
) -> EventRow:
    """Append one event to the chain, in the caller's transaction.

    Writers are serialised (SQLite: the write lock of BEGIN IMMEDIATE; PostgreSQL: a transaction
    advisory lock), and prev_sha256 is unique besides, so the chain cannot fork.
    """
    last = _tail(session)
    if last is None:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text(f"SELECT pg_advisory_xact_lock({_CHAIN_LOCK})"))
        last = session.execute(select(EventRow.id, EventRow.sha256).order_by(EventRow.id.desc()).limit(1)).first()
    event = Event(
        id=(last.id + 1) if last else 1,
        # Microseconds are what both databases keep; the hash must see the stored value.
        at=utcnow(),
        actor=actor,
        role=role,
        action=str(action),
        subject=subject,
        detail=detail,
        prev_sha256=last.sha256 if last else GENESIS,
    )
    row = EventRow(
        id=event.id,
        at=event.at,
        actor=actor,
        role=role,
        action=event.action,
        subject=subject,
        detail=detail,
        prev_sha256=event.prev_sha256,
        sha256=event_hash(event),
    )
    session.add(row)
    session.flush()
    # The newest head of this transaction, checkpointed once the commit is durable (below).
    session.info[_HEAD] = (event.id, row.sha256)
    session.info[_TAIL] = _Tail(session.get_transaction(), event.id, row.sha256)
    return row


@dataclass(frozen=True, slots=True)
class _Tail:
    """The chain's last event as this transaction appended it (the transaction holds the chain's
    lock until it ends, so no other writer can have appended after it)."""

    transaction: SessionTransaction | None
    id: int
    sha256: str


# session.info key: the _Tail of the transaction that last appended in this session.
_TAIL = "soundstage.audit_tail"


def _tail(session: Session) -> _Tail | None:
    """The chain's last event when this very transaction appended it (a note and its status
    change are two events of one transaction): no second lock or read of what it just wrote.
    None otherwise: a new transaction, or inside a savepoint (which could roll the event back)."""
    tail = session.info.get(_TAIL)
    if tail is None or session.in_nested_transaction() or tail.transaction is not session.get_transaction():
        return None
    return tail


def events(session: Session, *, after: int = 0, limit: int | None = None) -> list[Event]:
    """The trail in order (all of it, or a page)."""
    query = select(EventRow).where(EventRow.id > after).order_by(EventRow.id)
    if limit is not None:
        query = query.limit(limit)
    return [
        Event(r.id, r.at, r.actor, r.role, r.action, r.subject, r.detail, r.prev_sha256, r.sha256)
        for r in session.scalars(query)
    ]


def verify(session: Session) -> tuple[ChainReport, list[Event]]:
    """The whole trail and whether its hash chain is intact."""
    trail = events(session)
    return verify_chain(trail), trail


def audit(context: Context) -> tuple[ChainReport, list[Event]]:
    """The audit trail and whether its hash chain is intact, in a transaction of its own."""
    with context.reading() as session:
        return verify(session)


# -- anchors outside the database ---------------------------------------------------------------

# The checkpoints' folder in the production: one JSON-lines file per UTC day, oldest line first,
# so a file rewritten atomically on every decision stays as small as a day's decisions.
CHECKPOINTS_DIR = Path("audit") / "checkpoints"
# session.info key: (event count, head sha256) appended by the session, not yet checkpointed.
_HEAD = "soundstage.audit_head"


@orm_event.listens_for(Session, "after_commit")
def _checkpoint_after_commit(session: Session) -> None:
    """Write the checkpoint of a committed transaction that appended events.

    After the commit, not before, so a checkpoint never names a head that was rolled back (and
    outside the database's write lock, which the commit released: the signing and the two fsyncs
    hold up no other writer). Concurrent commits of one process share a write: a thread that
    waited for the checkpoint file finds the newest head committed meanwhile and checkpoints
    that one, which anchors every event before it; a thread whose head such a checkpoint
    already covers writes nothing. Either way the head is anchored when the request returns.
    The decision stands when the checkpoint cannot be written (a missing key, a full disk): that
    is logged, and the next decision's checkpoint covers this one."""
    head = session.info.pop(_HEAD, None)
    context = session.info.get(SESSION_CONTEXT)
    if head is None or not isinstance(context, Context):
        return
    anchoring = context.state(_Anchoring)
    anchoring.committed(head)
    with anchoring.writing:
        newest = anchoring.take()
        if newest is None:
            return  # written while this thread waited, by one that took this head or a newer one
        try:
            _write_checkpoint(context, *newest)
        except (OSError, ValueError, TypeError, ReviewError) as failure:
            log.warning("%s: the audit checkpoint of event %d was not written: %s", context.root, newest[0], failure)


@orm_event.listens_for(Session, "after_rollback")
def _forget_head(session: Session) -> None:
    session.info.pop(_HEAD, None)
    session.info.pop(_TAIL, None)


@orm_event.listens_for(Session, "after_transaction_end")
def _forget_tail(session: Session, transaction: SessionTransaction) -> None:
    # When the transaction ends, or a savepoint in it (released or rolled back), the next append
    # reads the chain's head again under the lock. A flush's own inner transaction is neither.
    if transaction.nested or transaction.parent is None:
        session.info.pop(_TAIL, None)


def write_checkpoint(context: Context, events: int, head_sha256: str, *, at: datetime | None = None) -> Path:
    """Sign a checkpoint of the trail's head (``events`` events, the newest hashing to
    ``head_sha256``) with the production's signing key and add it to today's file, atomically."""
    with context.state(_Anchoring).writing:
        return _write_checkpoint(context, events, head_sha256, at=at)


def _write_checkpoint(context: Context, events: int, head_sha256: str, *, at: datetime | None = None) -> Path:
    """``write_checkpoint`` for a caller holding the checkpoint file's lock."""
    make_durable(context.engine)  # the head this names must outlive a power cut, as the file will
    checkpoint = sign_checkpoint(events, head_sha256, at or utcnow(), _signing_key(context))
    path = context.root / CHECKPOINTS_DIR / f"{checkpoint.at:%Y-%m-%d}.jsonl"
    # Rewritten whole through the atomic writer: a reader never sees half a line. The threads of
    # one process take turns (_Anchoring.writing); two processes checkpointing in the same
    # instant may keep only one line, and the next decision's checkpoint anchors both.
    before = path.read_bytes() if path.exists() else b""
    write_atomic(path, before + checkpoint.to_json().encode() + b"\n", what="audit checkpoint", error=ReviewError)
    return path


def head(context: Context) -> tuple[int, str] | None:
    """(event count, newest event's sha256) of the trail now; None when it is empty."""
    with context.reading() as session:
        last = session.execute(select(EventRow.id, EventRow.sha256).order_by(EventRow.id.desc()).limit(1)).first()
    return (last.id, last.sha256) if last else None


def checkpoint(context: Context) -> Checkpoint | None:
    """Checkpoint the trail as it stands now (``soundstage audit checkpoint``: a production whose
    events predate checkpoints, or a head to keep before handing the folder on); None when empty."""
    now = head(context)
    if now is None:
        return None
    path = write_checkpoint(context, *now)
    return read_checkpoints(path)[-1]


def checkpoints(context: Context) -> list[Checkpoint]:
    """Every checkpoint in the production folder, oldest first."""
    folder = context.root / CHECKPOINTS_DIR
    found = [c for path in sorted(folder.glob("*.jsonl")) for c in read_checkpoints(path)] if folder.is_dir() else []
    return sorted(found, key=lambda c: (c.at, c.events))


@dataclass(slots=True)
class TrailCheck:
    """What ``verify_trail`` found: the chain, its anchors, and the stored rows against the replay."""

    chain: ChainReport
    anchors: AnchorReport
    trail: list[Event]
    newest: Checkpoint | None = None  # the newest checkpoint, the one printed
    disagreements: list[str] = field(default_factory=list)  # rows that differ from the replay
    unanchored: str = ""  # set when events exist but no checkpoint does

    @property
    def problems(self) -> list[str]:
        """Every problem, one line each."""
        found = list(self.chain.problems) + list(self.anchors.problems) + list(self.disagreements)
        return found + ([self.unanchored] if self.unanchored else [])

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_trail(context: Context, *, heads: Iterable[tuple[str, str]] = ()) -> TrailCheck:
    """Check the audit trail as far as the production can: the hash chain, every signed checkpoint
    (a count beyond the trail means deleted events, a different hash at its count a rewrite),
    ``heads`` ((where, sha256) pairs the caller knows), and the shot statuses and approvals
    stored against what the events say."""
    with context.reading() as session:
        chain, trail = verify(session)
        statuses = {code: status for code, status in session.execute(select(ShotRow.code, ShotRow.status))}
        approved = session.execute(
            select(ShotRow.code, TakeRow.number, TakeRow.approved_by)
            .join(TakeRow, TakeRow.shot_id == ShotRow.id)
            .where(TakeRow.approved_by != "")
            .order_by(TakeRow.approved_at)
        )
        approvals = {code: Approval(take_name(code, number), by) for code, number, by in approved}
    # The newest checkpoint finds any deletion or rewrite before it; the newest of each day as
    # well keeps the trail anchored if newer files are lost, and keeps verifying a year of
    # decisions to a few hundred signatures rather than one per decision.
    newest_of_day: dict[str, Checkpoint] = {}
    for found_one in checkpoints(context):
        newest_of_day[f"{found_one.at:%Y-%m-%d}"] = found_one
    found = sorted(newest_of_day.values(), key=lambda c: (c.at, c.events))
    public_key = _public_key(context) if found else None
    anchors = verify_anchors(trail, checkpoints=found, public_key=public_key, heads=heads)
    check = TrailCheck(chain, anchors, trail, found[-1] if found else None)
    check.disagreements = compare_state(replay(trail), statuses, approvals)
    if trail and not found:
        check.unanchored = (
            f"{context.root / CHECKPOINTS_DIR}: no checkpoint of the trail's {len(trail)} event(s) "
            "(deleted, or the events predate checkpoints: run soundstage audit checkpoint)"
        )
    return check


def cut_head(file: Path) -> tuple[str, str]:
    """(where, head sha256) of the audit head a cut's animatic carries in its content credentials,
    to check the trail against (``audit verify --cut``). ReviewError when the file's credentials
    do not verify or carry no head (an animatic cut before heads were carried)."""
    from soundstage.provenance.credentials import CUT_LABEL, read_credentials  # c2pa (~50 MB): reading a cut only

    report = read_credentials(file)
    if not report.valid:
        raise ReviewError(f"{file}: its content credentials do not verify ({report.state or 'none'})")
    carried = (report.soundstage or {}).get("audit") if report.soundstage_label == CUT_LABEL else None
    if not isinstance(carried, dict) or not isinstance(carried.get("head"), str):
        raise ReviewError(f"{file}: its content credentials carry no audit head (not a cut, or an older one)")
    return f"{file.name} ({carried.get('events')} event(s))", carried["head"]


def _signing_key(context: Context) -> PrivateKeyTypes:
    """The private key of the production's content credentials, the one checkpoints are signed with.

    Read here rather than through provenance's Signer, which hands the key to c2pa and keeps no
    Python object of it; loaded once per open production."""
    from soundstage.provenance.credentials import load_signing_key  # c2pa (~50 MB) with it: signing only

    cached = context.state(_Keys)
    if cached.private is None:
        settings = context.settings
        path = settings.credentials.key_path(context.root)
        # The credentials signer's own loader: an encrypted key opens with the passphrase from
        # the environment, and a key kept outside the production is found the same way.
        try:
            cached.private = load_signing_key(path, settings.signing_passphrase())
        except CredentialsError as failure:
            raise ReviewError(f"audit checkpoints: {failure}") from None
    return cached.private


def _public_key(context: Context) -> PublicKeyTypes:
    """The public key of the production's signing certificate, which checkpoints verify against."""
    path = context.settings.credentials.certificate_path(context.root)
    try:
        return x509.load_pem_x509_certificates(path.read_bytes())[0].public_key()
    except (OSError, ValueError) as failure:
        raise ReviewError(
            f"{path}: cannot read the signing certificate to check audit checkpoints ({failure})"
        ) from None


class _Keys:
    """The signing key, kept while the production is open."""

    def __init__(self) -> None:
        self.private: PrivateKeyTypes | None = None


class _Anchoring:
    """The checkpoint file's writers in this process: the newest head committed and not yet
    checkpointed, and the lock that lets one thread at a time read and rewrite the file."""

    def __init__(self) -> None:
        self.writing = threading.Lock()
        self._guard = threading.Lock()
        self._waiting: tuple[int, str] | None = None

    def committed(self, head: tuple[int, str]) -> None:
        """A transaction committed ``head`` (event count, sha256): the chain is serialised, so
        the head with more events extends the other, and its checkpoint anchors both."""
        with self._guard:
            if self._waiting is None or head[0] > self._waiting[0]:
                self._waiting = head

    def take(self) -> tuple[int, str] | None:
        """The head to checkpoint now (the newest committed), or None when one was written since."""
        with self._guard:
            head, self._waiting = self._waiting, None
            return head
