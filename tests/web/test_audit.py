"""The review room checks the audit trail as ``soundstage audit verify`` does, on SQLite and
PostgreSQL: ``GET /api/audit/verify`` and the ``/audit`` page find a trail cut short (which the
hash chain alone cannot see) and a row changed behind the trail's back, and say why."""

from __future__ import annotations

from markupsafe import escape
from sqlalchemy import delete, select, update

from soundstage.store.db import session_scope
from soundstage.store.tables import EventRow, ShotRow

from .conftest import ReviewRoom


def _decide(room: ReviewRoom) -> None:
    """A morning's decisions through the API: two shots submitted, one approved, a note."""
    supervisor = room.client("supervisor")
    for code in room.codes[:2]:
        assert supervisor.post(f"/api/shots/{code}/decisions", json={"action": "submit"}).status_code == 200
    approve = {"action": "approve", "take": 1}
    assert supervisor.post(f"/api/shots/{room.codes[0]}/decisions", json=approve).status_code == 200
    assert supervisor.post(f"/api/shots/{room.codes[1]}/notes", json={"body": "warmer"}).status_code == 201


def test_an_untouched_trail_verifies_with_its_newest_checkpoint(review_room: ReviewRoom) -> None:
    _decide(review_room)
    answer = review_room.client("producer").get("/api/audit/verify")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    with session_scope(review_room.production.engine) as session:
        count, head = session.execute(select(EventRow.id, EventRow.sha256).order_by(EventRow.id.desc()).limit(1)).one()
    assert body["intact"] is True and body["chain_intact"] is True and body["problems"] == []
    assert body["events"] == count and body["head_sha256"] == head
    # Every committed decision wrote a signed checkpoint: the newest is at the trail's head.
    assert body["checkpoint"]["events"] == count and body["checkpoint"]["head_sha256"] == head
    assert body["checkpoint"]["at"].endswith("+00:00") and body["anchors"]
    page = review_room.client("producer").get("/audit")
    assert 'data-intact="true"' in page.text and f'id="checkpoint" data-events="{count}"' in page.text


def test_events_deleted_from_the_end_are_found(review_room: ReviewRoom) -> None:
    _decide(review_room)
    with session_scope(review_room.production.engine) as session:
        total = len(session.scalars(select(EventRow.id)).all())
        session.execute(delete(EventRow).where(EventRow.id > total - 2))  # the approval and the note
    body = review_room.client("producer").get("/api/audit/verify").json()
    # What is left still chains: only the signed checkpoint shows the tail is gone.
    assert body["chain_intact"] is True
    assert body["intact"] is False and body["events"] == total - 2
    deleted = [p for p in body["problems"] if f"the trail has {total - 2}" in p and "deleted" in p]
    assert deleted, body["problems"]
    page = review_room.client("supervisor").get("/audit")
    assert page.status_code == 200
    assert 'data-intact="false"' in page.text and "Audit trail BROKEN" in page.text
    assert all(f"<li>{escape(problem)}</li>" in page.text for problem in body["problems"])
    assert page.text.count('<tr class="event"') == total - 2


def test_a_status_changed_in_the_database_is_found(review_room: ReviewRoom) -> None:
    _decide(review_room)
    second = review_room.codes[1]
    with session_scope(review_room.production.engine) as session:
        session.execute(update(ShotRow).where(ShotRow.code == second).values(status="final"))
    body = review_room.client("supervisor").get("/api/audit/verify").json()
    assert body["chain_intact"] is True and body["intact"] is False
    assert body["problems"] == [f"shot {second}: status is 'final' but the trail says 'pending review'"]
    page = review_room.client("producer").get("/audit")
    assert 'data-intact="false"' in page.text and f"<li>{escape(body['problems'][0])}</li>" in page.text
