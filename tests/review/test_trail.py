"""The audit trail anchored outside the database, end to end through the CLI, on SQLite and
PostgreSQL: decisions write signed checkpoints into the production folder, and ``audit verify``
finds a trail cut short, rewritten and re-hashed, or rows changed behind its back."""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from sqlalchemy import delete, select, update

from soundstage.project import Production, TakeOptions, trail
from soundstage.project.trail import CHECKPOINTS_DIR, write_checkpoint
from soundstage.provenance.credentials import read_credentials
from soundstage.review.anchor import Checkpoint, signature_valid
from soundstage.review.audit import GENESIS, Event, event_hash
from soundstage.review.workflow import Action
from soundstage.store.db import session_scope
from soundstage.store.tables import EventRow, ShotRow, TakeRow


@pytest.fixture
def decided(with_takes) -> Production:
    """The example planned, two takes on each of its first three shots, a crew, and a morning of
    decisions: 3 shots submitted, 2 approved, a note, one sent back (4 users + 7 decisions)."""
    production = with_takes(3)
    codes = production.codes  # type: ignore[attr-defined]
    # CLI decisions on PostgreSQL need the person's API token; on SQLite the name stands.
    who = {name: {"token": token} for name, token in production.tokens.items()}  # type: ignore[attr-defined]
    for code in codes:
        production.decide(code, Action.SUBMIT, **who["Ari"])
    production.decide(f"{codes[0]}/2", Action.APPROVE, **who["Sol"])
    production.note(f"{codes[1]}/1", "the lamp flickers", **who["Rev"], frame=12)
    production.decide(f"{codes[1]}/1", Action.APPROVE, **who["Sol"])
    production.decide(codes[2], Action.REQUEST_CHANGES, **who["Ada"])
    production.codes, production.who = codes, who  # type: ignore[attr-defined]
    return production


def _submitted(with_takes, shots: int) -> tuple[Production, list[str], dict[str, dict[str, str]]]:
    """The production with takes on its first ``shots`` shots, those shots submitted for review:
    (production, shot codes, each person's API token as decide wants it)."""
    production = with_takes(shots)
    who = {name: {"token": token} for name, token in production.tokens.items()}
    for code in production.codes:
        production.decide(code, Action.SUBMIT, **who["Ari"])
    return production, production.codes, who


def _events(production: Production) -> int:
    with session_scope(production.engine) as session:
        return len(session.scalars(select(EventRow.id)).all())


def _broken(cli, root: Path, *args: str) -> list[str]:
    """Run audit verify, expecting it to fail; the problem lines it printed."""
    result = cli("-p", root, "audit", "verify", *args)
    assert result.code == 1, result.out + result.err
    assert "audit trail BROKEN" in result.out
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert lines
    return lines


def test_every_decision_writes_a_signed_checkpoint(decided: Production, cli) -> None:
    folder = decided.root / CHECKPOINTS_DIR
    lines = [json.loads(line) for path in sorted(folder.glob("*.jsonl")) for line in path.read_text().splitlines()]
    # One per committed transaction that appended events: 4 users, 3 submits, 2 approvals, a note, a request.
    assert len(lines) == 11
    assert [line["events"] for line in lines] == list(range(1, 12))
    newest = Checkpoint.from_json(json.dumps(lines[-1]))
    assert newest.at.utcoffset() is not None and lines[-1]["at"].endswith("+00:00")
    certificate = decided.root / decided.settings.credentials.certificate
    public_key = x509.load_pem_x509_certificates(certificate.read_bytes())[0].public_key()
    assert signature_valid(newest, public_key)
    assert not signature_valid(dataclasses.replace(newest, events=newest.events - 1), public_key)
    result = cli("-p", decided.root, "audit", "verify")
    assert result.code == 0, result.err
    with session_scope(decided.engine) as session:
        head = session.scalars(select(EventRow.sha256).order_by(EventRow.id.desc()).limit(1)).one()
    assert f"checkpoint: 11 event(s), head {head}" in result.out
    assert f"audit trail intact: 11 event(s), head {head}" in result.out
    # The head printed is the one a careful producer keeps and passes back later.
    assert cli("-p", decided.root, "audit", "verify", "--head", head).code == 0


def test_a_failed_decision_writes_no_checkpoint(decided: Production) -> None:
    before = _checkpoint_lines(decided)
    with pytest.raises(Exception, match="may not approve"):
        decided.decide(decided.codes[2], Action.APPROVE, **decided.who["Ari"])  # type: ignore[attr-defined]
    assert _checkpoint_lines(decided) == before


def _checkpoint_lines(production: Production) -> list[str]:
    folder = production.root / CHECKPOINTS_DIR
    return [line for path in sorted(folder.glob("*.jsonl")) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("deleted", [1, 5, "all"])
def test_deleting_the_newest_events_is_found(decided: Production, cli, deleted: int | str) -> None:
    total = _events(decided)
    keep = 0 if deleted == "all" else total - int(deleted)
    with session_scope(decided.engine) as session:
        session.execute(delete(EventRow).where(EventRow.id > keep))
    lines = _broken(cli, decided.root)
    assert any(f"the trail has {keep}" in line and "deleted" in line for line in lines), lines


def test_editing_an_event_and_rehashing_the_rest_is_found(decided: Production, cli) -> None:
    """What someone holding the database does: change who approved, then re-link and re-hash
    every later event so the chain alone verifies."""
    with session_scope(decided.engine) as session:
        rows = session.scalars(select(EventRow).order_by(EventRow.id)).all()
        target = next(r for r in rows if r.action == "approve")
        target.actor = "Mallory"
        previous = GENESIS
        for row in rows:
            row.prev_sha256 = previous
            row.sha256 = event_hash(_as_event(row))
            previous = row.sha256
    assert decided.audit()[0].intact  # the chain alone is fooled
    lines = _broken(cli, decided.root)
    assert any("rewritten" in line for line in lines), lines


def _as_event(row: EventRow) -> Event:
    return Event(row.id, row.at, row.actor, row.role, row.action, row.subject, row.detail, row.prev_sha256)


def test_changing_an_approval_row_is_found(decided: Production, cli) -> None:
    first = decided.codes[0]
    with session_scope(decided.engine) as session:
        shot = session.scalars(select(ShotRow).where(ShotRow.code == first)).one()
        session.execute(update(TakeRow).where(TakeRow.shot_id == shot.id).values(approved_by=""))
        session.execute(
            update(TakeRow).where(TakeRow.shot_id == shot.id, TakeRow.number == 1).values(approved_by="Mallory")
        )
    lines = _broken(cli, decided.root)
    assert lines == [
        f"shot {first}: the database has take {first}/1 approved by Mallory but the trail says take {first}/2 "
        "approved by Sol"
    ]


def test_changing_a_shot_status_is_found(decided: Production, cli) -> None:
    third = decided.codes[2]
    with session_scope(decided.engine) as session:
        session.execute(update(ShotRow).where(ShotRow.code == third).values(status="final"))
    assert _broken(cli, decided.root) == [f"shot {third}: status is 'final' but the trail says 'changes requested'"]


def test_a_head_not_in_the_trail_and_a_bad_head(decided: Production, cli) -> None:
    lines = _broken(cli, decided.root, "--head", "ab" * 32)
    assert lines == [f"--head: head {'ab' * 8} is not in the trail (events were rewritten or deleted)"]
    result = cli("-p", decided.root, "audit", "verify", "--head", "cafe")
    assert result.code == 2 and result.err.count("\n") == 1 and "64 hex digits" in result.err


def test_a_forged_or_deleted_checkpoint(decided: Production, cli) -> None:
    folder = decided.root / CHECKPOINTS_DIR
    path = sorted(folder.glob("*.jsonl"))[-1]
    lines = path.read_text().splitlines()
    forged = json.loads(lines[-1])
    forged["events"] = 3  # as if the trail had been short all along
    path.write_text("\n".join([*lines[:-1], json.dumps(forged)]) + "\n")
    assert any("signature does not verify" in line for line in _broken(cli, decided.root))
    for path in folder.glob("*.jsonl"):
        path.unlink()
    assert any("no checkpoint" in line for line in _broken(cli, decided.root))
    # A production whose events predate checkpoints is anchored on request.
    result = cli("-p", decided.root, "audit", "checkpoint")
    assert result.code == 0 and "checkpoint: 11 event(s)" in result.out
    assert cli("-p", decided.root, "audit", "verify").code == 0


def test_a_cut_carries_the_audit_head_it_was_made_at(copy_production: Production, tmp_path: Path, cli) -> None:
    production = copy_production
    first = production.shots(scene="3")[0].code
    production.queue_takes(first, TakeOptions(seed=3, requested_by="Ari"))
    production.work(1)
    production.add_user("Sol", "supervisor")
    production.decide(f"{first}/1", Action.APPROVE, by="Sol", override_reason="the blocking is ours")
    with session_scope(production.engine) as session:
        count, head = session.execute(select(EventRow.id, EventRow.sha256).order_by(EventRow.id.desc()).limit(1)).one()
    report = production.cut(tmp_path / "cut", scenes=["3"])
    carried = read_credentials(report.outputs["animatic"]).soundstage
    assert carried is not None and carried["audit"] == {"events": count, "head": head}
    animatic = report.outputs["animatic"]
    assert cli("-p", production.root, "audit", "verify", "--cut", animatic).code == 0
    # Rewrite the trail behind the cut's back, checkpoints and all: the exported animatic still tells.
    with session_scope(production.engine) as session:
        session.execute(update(EventRow).where(EventRow.id == count).values(role="producer"))
        row = session.get(EventRow, count)
        row.sha256 = event_hash(_as_event(row))
    for path in (production.root / CHECKPOINTS_DIR).glob("*.jsonl"):
        path.unlink()
    production.checkpoint()  # a fresh checkpoint of the rewritten trail, as its rewriter would sign
    lines = _broken(cli, production.root, "--cut", animatic)
    assert lines == [
        f"{animatic.name} ({count} event(s)): head {head[:16]} is not in the trail (events were rewritten or deleted)"
    ]
    # A file that is no cut is a user's mistake, exit 2.
    take = next((tmp_path / "cut" / "takes").glob("*.png"))
    result = cli("-p", production.root, "audit", "verify", "--cut", take)
    assert result.code == 2 and "no audit head" in result.err


def test_an_older_days_checkpoint_still_anchors_when_newer_files_are_lost(decided: Production, cli) -> None:
    with session_scope(decided.engine) as session:
        count, head = session.execute(select(EventRow.id, EventRow.sha256).order_by(EventRow.id.desc()).limit(1)).one()
        first = session.get(EventRow, 1)
        yesterday = first.at - timedelta(days=1)
    folder = decided.root / CHECKPOINTS_DIR
    today = sorted(folder.glob("*.jsonl"))
    write_checkpoint(decided.context, count, head, at=yesterday)
    for path in today:
        path.unlink()
    assert cli("-p", decided.root, "audit", "verify").code == 0
    with session_scope(decided.engine) as session:
        session.execute(delete(EventRow).where(EventRow.id > count - 2))
    assert any(f"the trail has {count - 2}" in line for line in _broken(cli, decided.root))


def _approve_at_once(
    production: Production, codes: list[str], token: dict[str, str]
) -> tuple[list[threading.Thread], list[BaseException]]:
    """Approve take 2 of each shot, each from a thread of its own, all at once; what they raised."""
    barrier, failures = threading.Barrier(len(codes)), []

    def approve(code: str) -> None:
        barrier.wait()
        try:
            production.decide(f"{code}/2", Action.APPROVE, **token)
        except BaseException as failure:  # noqa: BLE001 - reported by the test, not swallowed
            failures.append(failure)

    threads = [threading.Thread(target=approve, args=(code,)) for code in codes]
    for thread in threads:
        thread.start()
    return threads, failures


def test_approvals_at_once_keep_the_chain_and_every_checkpoint_anchors_its_head(with_takes, cli) -> None:
    production, codes, who = _submitted(with_takes, 6)
    threads, failures = _approve_at_once(production, codes, who["Sol"])
    for thread in threads:
        thread.join()
    assert not failures, failures
    with session_scope(production.engine) as session:
        heads = {row.id: row.sha256 for row in session.scalars(select(EventRow))}
    certificate = production.root / production.settings.credentials.certificate
    public_key = x509.load_pem_x509_certificates(certificate.read_bytes())[0].public_key()
    written = [Checkpoint.from_json(line) for line in _checkpoint_lines(production)]
    # Each checkpoint is signed and names a head the trail has at its count; the newest
    # names the trail's head: no checkpoint line was lost to another thread's rewrite.
    assert all(signature_valid(c, public_key) and heads[c.events] == c.head_sha256 for c in written)
    assert max(c.events for c in written) == len(heads) == 4 + 6 + 6
    assert cli("-p", production.root, "audit", "verify").code == 0


def test_approvals_committed_while_a_checkpoint_is_written_share_the_next_one(with_takes, cli) -> None:
    production, codes, who = _submitted(with_takes, 4)
    before, events = _checkpoint_lines(production), _events(production)
    # Another thread is writing the checkpoint file: the approvals commit (the database's lock
    # is not held for the checkpoint), then wait for the file.
    with production.context.state(trail._Anchoring).writing:
        threads, failures = _approve_at_once(production, codes, who["Sol"])
        deadline = time.monotonic() + 60
        while _events(production) < events + len(codes) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _events(production) == events + len(codes), failures
        assert _checkpoint_lines(production) == before
    for thread in threads:
        thread.join()
    assert not failures, failures
    # The first to get the file checkpoints the newest head, which anchors all four; the
    # others find their heads covered and write nothing.
    added = _checkpoint_lines(production)[len(before) :]
    assert [json.loads(line)["events"] for line in added] == [events + len(codes)]
    assert cli("-p", production.root, "audit", "verify").code == 0


def test_the_head_is_synced_to_disk_before_its_checkpoint(with_takes, monkeypatch) -> None:
    # A power cut cannot be staged here; what can be seen is the order of the fsyncs. On SQLite
    # (synchronous=NORMAL) the commit sits unsynced in the WAL file, so the WAL must be synced
    # before the checkpoint naming its head is; PostgreSQL's commit is durable by itself.
    production, codes, who = _submitted(with_takes, 1)
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    production.decide(codes[0], Action.APPROVE, **who["Sol"])
    checkpoint = next(i for i, path in enumerate(synced) if CHECKPOINTS_DIR.as_posix() in path)
    wal = [i for i, path in enumerate(synced) if path.endswith("soundstage.db-wal")]
    if production.engine.dialect.name == "sqlite":
        assert wal and wal[0] < checkpoint, synced
    else:
        assert not wal
