"""Anchors for the audit trail outside the database.

A hash chain proves that no event *inside* it was edited, but not that its tail is still there:
deleting the newest events, or rewriting one and re-hashing everything after it, leaves a chain
that verifies. So the chain is anchored outside the database, in places a person holding the
database cannot silently rewrite:

- checkpoints: the head hash, the event count and the time, signed with the production's signing
  key (the key that signs its content credentials), one JSON object a line in files of the
  production folder (project/trail.py: ``audit/checkpoints/YYYY-MM-DD.jsonl``);
- the content credentials of every cut, which carry the head they were made at;
- a head hash the user kept (``audit verify`` prints it) and passes back.

``verify_anchors`` checks a chain against any of these, and ``replay`` rebuilds the shot statuses
and approvals the events say, so a row changed behind the trail's back is found too.

Pure functions over values: the caller reads the events and rows and owns the files.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from soundstage.errors import ReviewError
from soundstage.review.audit import Event, as_utc

# RSA keys sign with PSS at the digest's length, which verifiers need not guess.
_PSS = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The audit trail's head at one moment: how many events, the newest one's hash, when, and a
    signature over those three by the production's key (``key_id`` names the key's public half)."""

    events: int
    head_sha256: str
    at: datetime
    key_id: str = ""
    signature: str = ""  # base64 of the signature over ``payload()``

    def payload(self) -> bytes:
        """The bytes that are signed: canonical JSON of count, head and UTC time."""
        content = {"events": self.events, "head": self.head_sha256, "at": as_utc(self.at).isoformat()}
        return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()

    def to_json(self) -> str:
        return json.dumps(
            {
                "events": self.events,
                "head": self.head_sha256,
                "at": as_utc(self.at).isoformat(),
                "key_id": self.key_id,
                "signature": self.signature,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        data = json.loads(text)
        return cls(
            events=int(data["events"]),
            head_sha256=str(data["head"]),
            at=datetime.fromisoformat(data["at"]),
            key_id=str(data.get("key_id", "")),
            signature=str(data.get("signature", "")),
        )


def key_id(public_key: PublicKeyTypes) -> str:
    """A short, stable name for a public key: the sha256 of its DER SubjectPublicKeyInfo."""
    digest = hashes.Hash(hashes.SHA256())
    digest.update(public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
    return digest.finalize().hex()[:32]


def sign_checkpoint(events: int, head_sha256: str, at: datetime, private_key: PrivateKeyTypes) -> Checkpoint:
    """A checkpoint of the trail's head, signed with ``private_key`` (EC, RSA or Ed25519)."""
    unsigned = Checkpoint(events, head_sha256, as_utc(at), key_id(private_key.public_key()))
    data = unsigned.payload()
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        raw = private_key.sign(data, ec.ECDSA(hashes.SHA256()))
    elif isinstance(private_key, rsa.RSAPrivateKey):
        raw = private_key.sign(data, _PSS, hashes.SHA256())
    elif isinstance(private_key, ed25519.Ed25519PrivateKey):
        raw = private_key.sign(data)
    else:
        raise ReviewError(f"audit checkpoints cannot be signed with a {type(private_key).__name__} key")
    return Checkpoint(
        unsigned.events, unsigned.head_sha256, unsigned.at, unsigned.key_id, base64.b64encode(raw).decode()
    )


def signature_valid(checkpoint: Checkpoint, public_key: PublicKeyTypes) -> bool:
    """Whether ``checkpoint`` was signed by the private half of ``public_key``, unchanged since."""
    try:
        raw = base64.b64decode(checkpoint.signature, validate=True)
        data = checkpoint.payload()
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(raw, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(raw, data, _PSS, hashes.SHA256())
        elif isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(raw, data)
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """The checkpoints in ``path`` (none when the file does not exist); a line that does not parse
    is a ReviewError naming the file and line (a damaged anchor is a finding, not a silent skip)."""
    if not path.exists():
        return []
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            found.append(Checkpoint.from_json(line))
        except (ValueError, KeyError, TypeError) as failure:
            raise ReviewError(f"{path}:{number}: not an audit checkpoint ({failure})") from None
    return found


@dataclass(slots=True)
class AnchorReport:
    """What checking the chain against its anchors found: one line per problem, and what was used."""

    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # one line per anchor compared

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_anchors(
    events: Sequence[Event],
    *,
    checkpoints: Iterable[Checkpoint] = (),
    public_key: PublicKeyTypes | None = None,
    heads: Iterable[tuple[str, str]] = (),
) -> AnchorReport:
    """Check ``events`` (the whole trail, in id order) against signed checkpoints and known heads.

    A checkpoint must carry a valid signature by ``public_key``; its event count must not exceed
    the trail's (else events were deleted), and the event at that count must still have the
    checkpoint's hash (else the trail was rewritten from there on). ``heads`` are (where, sha256)
    pairs, such as a head the user kept or one carried by a cut's credentials: each must be the
    hash of some event still in the trail.
    """
    report = AnchorReport()
    by_id = {event.id: event for event in events}
    hashes_now = {event.sha256 for event in events}
    for checkpoint in checkpoints:
        when = f"checkpoint of {as_utc(checkpoint.at):%Y-%m-%d %H:%M:%S} UTC"
        report.checked.append(f"{when}: {checkpoint.events} event(s), head {checkpoint.head_sha256[:16]}")
        if public_key is None or not signature_valid(checkpoint, public_key):
            report.problems.append(f"{when}: its signature does not verify with the production's key")
            continue
        if checkpoint.events > len(events):
            report.problems.append(
                f"{when} counted {checkpoint.events} event(s), the trail has {len(events)}: "
                f"events {len(events) + 1}..{checkpoint.events} were deleted"
            )
            continue
        if checkpoint.events == 0:
            continue
        event = by_id.get(checkpoint.events)
        if event is None or event.sha256 != checkpoint.head_sha256:
            report.problems.append(
                f"{when}: event {checkpoint.events} no longer has the hash it had then "
                "(the trail was rewritten from there on)"
            )
    for where, head in heads:
        report.checked.append(f"{where}: head {head[:16]}")
        if head not in hashes_now:
            report.problems.append(f"{where}: head {head[:16]} is not in the trail (events were rewritten or deleted)")
    return report


# -- what the events say ---------------------------------------------------------------------------

# The actions that move a shot's status; their events carry {"from": ..., "to": ...}.
_STATUS_ACTIONS = {"start", "submit", "approve", "request changes", "final", "reopen"}


@dataclass(frozen=True, slots=True)
class Approval:
    """An approval as the trail records it: which take ("012_0030/2") and by whom."""

    take: str
    by: str


@dataclass(slots=True)
class Replay:
    """The shot statuses and approvals that the trail's events lead to, shot code -> value."""

    statuses: dict[str, str] = field(default_factory=dict)
    approvals: dict[str, Approval] = field(default_factory=dict)


def replay(events: Iterable[Event]) -> Replay:
    """Walk the decisions in order and keep each shot's latest status and approved take.

    Approving names a take; asking for changes or reopening clears the shot's approval (as the
    workflow does), marking it final keeps it."""
    state = Replay()
    for event in events:
        if event.action not in _STATUS_ACTIONS or "to" not in event.detail:
            continue
        shot = event.subject.split("/", 1)[0]
        state.statuses[shot] = str(event.detail["to"])
        if event.action == "approve":
            state.approvals[shot] = Approval(event.subject, event.actor)
        elif event.detail["to"] == "changes requested":
            state.approvals.pop(shot, None)
    return state


def compare_state(
    said: Replay, statuses: Mapping[str, str], approvals: Mapping[str, Approval], *, initial: str = "todo"
) -> list[str]:
    """Where the database disagrees with what the trail says: a shot whose status or approval
    differs from the replay of its events (a shot with no events must be ``initial`` and
    unapproved). One line per shot, sorted."""
    problems = []
    for shot in sorted(set(statuses) | set(said.statuses)):
        expected = said.statuses.get(shot, initial)
        actual = statuses.get(shot)
        if actual is not None and actual != expected:
            problems.append(f"shot {shot}: status is {actual!r} but the trail says {expected!r}")
    for shot in sorted(set(approvals) | set(said.approvals)):
        if shot in statuses or shot in approvals:
            want, have = said.approvals.get(shot), approvals.get(shot)
            if want != have:
                what = f"take {have.take} approved by {have.by}" if have else "no approval"
                told = f"take {want.take} approved by {want.by}" if want else "no approval"
                problems.append(f"shot {shot}: the database has {what} but the trail says {told}")
    return problems
