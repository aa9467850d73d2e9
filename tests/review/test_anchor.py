"""The audit trail's anchors outside the database: signed checkpoints, known heads, and the
replay of decisions against the rows they should have produced."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from soundstage.errors import ReviewError
from soundstage.review.anchor import (
    Approval,
    Checkpoint,
    compare_state,
    read_checkpoints,
    replay,
    sign_checkpoint,
    signature_valid,
    verify_anchors,
)
from soundstage.review.audit import GENESIS, Event, event_hash, verify

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def chain(*steps: tuple[str, str, str, dict]) -> list[Event]:
    """A hash chain of (actor, action, subject, detail) steps, hashed as records.py does."""
    events, previous = [], GENESIS
    for number, (actor, action, subject, detail) in enumerate(steps, start=1):
        event = Event(number, START + timedelta(minutes=number), actor, "supervisor", action, subject, detail, previous)
        event = dataclasses.replace(event, sha256=event_hash(event))
        events.append(event)
        previous = event.sha256
    return events


def rehash(events: list[Event]) -> list[Event]:
    """What an attacker with the database does after editing: re-link and re-hash every event."""
    out, previous = [], GENESIS
    for event in events:
        event = dataclasses.replace(event, prev_sha256=previous)
        event = dataclasses.replace(event, sha256=event_hash(event))
        out.append(event)
        previous = event.sha256
    return out


TRAIL = chain(
    ("Sol", "submit", "001_0010", {"from": "todo", "to": "pending review"}),
    ("Sol", "approve", "001_0010/2", {"from": "pending review", "to": "approved"}),
    ("Ada", "note", "001_0020", {"body": "warmer"}),
    ("Sol", "approve", "001_0020/1", {"from": "todo", "to": "approved"}),
    ("Sol", "request changes", "001_0020", {"from": "approved", "to": "changes requested"}),
    ("Sol", "approve", "001_0030/3", {"from": "todo", "to": "approved"}),
    ("Sol", "final", "001_0030", {"from": "approved", "to": "final"}),
)


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def checkpoint_of(events: list[Event], key) -> Checkpoint:
    return sign_checkpoint(len(events), events[-1].sha256, START + timedelta(hours=1), key)


def test_an_untouched_trail_agrees_with_its_checkpoint(key) -> None:
    report = verify_anchors(TRAIL, checkpoints=[checkpoint_of(TRAIL, key)], public_key=key.public_key())
    assert report.intact, report.problems
    assert len(report.checked) == 1


@pytest.mark.parametrize("deleted", [1, 5, len(TRAIL)])
def test_deleting_the_newest_events_is_found(key, deleted: int) -> None:
    checkpoint = checkpoint_of(TRAIL, key)
    cut_short = TRAIL[: len(TRAIL) - deleted]
    assert verify(cut_short).intact  # the chain alone cannot tell
    report = verify_anchors(cut_short, checkpoints=[checkpoint], public_key=key.public_key())
    assert not report.intact
    assert f"events {len(cut_short) + 1}..{len(TRAIL)} were deleted" in report.problems[0]


def test_editing_an_event_and_rehashing_the_rest_is_found(key) -> None:
    checkpoint = checkpoint_of(TRAIL, key)
    forged = list(TRAIL)
    forged[1] = dataclasses.replace(forged[1], actor="Mallory")
    forged = rehash(forged)
    assert verify(forged).intact  # internally consistent again
    report = verify_anchors(forged, checkpoints=[checkpoint], public_key=key.public_key())
    assert report.problems == [
        f"checkpoint of {checkpoint.at:%Y-%m-%d %H:%M:%S} UTC: event {len(TRAIL)} no longer has the hash it "
        "had then (the trail was rewritten from there on)"
    ]


def test_events_after_the_checkpoint_are_fine(key) -> None:
    checkpoint = checkpoint_of(TRAIL[:4], key)
    assert verify_anchors(TRAIL, checkpoints=[checkpoint], public_key=key.public_key()).intact


@pytest.mark.parametrize(
    "change",
    [
        lambda c: dataclasses.replace(c, events=c.events - 2),
        lambda c: dataclasses.replace(c, head_sha256="f" * 64),
        lambda c: dataclasses.replace(c, at=c.at + timedelta(seconds=1)),
        lambda c: dataclasses.replace(c, signature="bm90IGEgc2lnbmF0dXJl"),
        lambda c: dataclasses.replace(c, signature="%%%"),
    ],
)
def test_a_checkpoint_changed_after_signing_does_not_verify(key, change) -> None:
    forged = change(checkpoint_of(TRAIL, key))
    assert not signature_valid(forged, key.public_key())
    report = verify_anchors(TRAIL, checkpoints=[forged], public_key=key.public_key())
    assert "signature does not verify" in report.problems[0]


def test_a_checkpoint_signed_by_another_key_does_not_verify(key) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    report = verify_anchors(TRAIL, checkpoints=[checkpoint_of(TRAIL, other)], public_key=key.public_key())
    assert not report.intact


@pytest.mark.parametrize("make", [lambda: rsa.generate_private_key(65537, 2048), ed25519.Ed25519PrivateKey.generate])
def test_rsa_and_ed25519_keys_sign_checkpoints_too(make) -> None:
    private = make()
    checkpoint = checkpoint_of(TRAIL, private)
    assert signature_valid(checkpoint, private.public_key())
    assert checkpoint.key_id and len(checkpoint.key_id) == 32


def test_checkpoints_round_trip_through_their_file(key, tmp_path) -> None:
    path = tmp_path / "audit-checkpoints.jsonl"
    first, second = checkpoint_of(TRAIL[:3], key), checkpoint_of(TRAIL, key)
    path.write_text(first.to_json() + "\n" + second.to_json() + "\n")
    assert read_checkpoints(path) == [first, second]
    assert read_checkpoints(tmp_path / "none.jsonl") == []
    path.write_text(first.to_json() + "\n{broken\n")
    with pytest.raises(ReviewError, match=r"audit-checkpoints.jsonl:2: not an audit checkpoint"):
        read_checkpoints(path)


def test_a_kept_head_must_still_be_in_the_trail() -> None:
    kept = TRAIL[-1].sha256
    assert verify_anchors(TRAIL, heads=[("head you gave", kept)]).intact
    report = verify_anchors(TRAIL[:-1], heads=[("head you gave", kept)])
    assert report.problems == [
        f"head you gave: head {kept[:16]} is not in the trail (events were rewritten or deleted)"
    ]


def test_replay_follows_the_workflow() -> None:
    said = replay(TRAIL)
    assert said.statuses == {"001_0010": "approved", "001_0020": "changes requested", "001_0030": "final"}
    assert said.approvals == {"001_0010": Approval("001_0010/2", "Sol"), "001_0030": Approval("001_0030/3", "Sol")}


def test_rows_that_agree_with_the_trail_pass() -> None:
    said = replay(TRAIL)
    statuses = {**said.statuses, "001_0040": "todo"}
    assert compare_state(said, statuses, said.approvals) == []


def test_a_status_or_approval_changed_behind_the_trail_is_found() -> None:
    said = replay(TRAIL)
    statuses = {**said.statuses, "001_0020": "approved", "001_0040": "final"}
    approvals = {**said.approvals, "001_0010": Approval("001_0010/1", "Sol"), "001_0040": Approval("001_0040/1", "X")}
    assert compare_state(said, statuses, approvals) == [
        "shot 001_0020: status is 'approved' but the trail says 'changes requested'",
        "shot 001_0040: status is 'final' but the trail says 'todo'",
        "shot 001_0010: the database has take 001_0010/1 approved by Sol but the trail says take 001_0010/2 "
        "approved by Sol",
        "shot 001_0040: the database has take 001_0040/1 approved by X but the trail says no approval",
    ]
