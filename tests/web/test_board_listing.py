"""What the whole listing (GET /api/shots?limit=1000) says of every shot of a built production,
field by field, on SQLite and PostgreSQL: the shot's own columns, its counts, and its current
take (the lowest approved, else the newest) with that take's standing, image and length."""

from __future__ import annotations

from sqlalchemy import select, update

from soundstage.checks.findings import COULD_NOT_RUN
from soundstage.store.db import session_scope
from soundstage.store.tables import FindingRow, NoteRow, ShotRow, TakeRow

from .conftest import TAKES_PER_SHOT, ReviewRoom


def _output(room: ReviewRoom, code: str, number: int) -> str:
    with session_scope(room.production.engine) as session:
        return session.scalars(
            select(TakeRow.output_sha256)
            .join(ShotRow, ShotRow.id == TakeRow.shot_id)
            .where(ShotRow.code == code, TakeRow.number == number)
        ).one()


def test_the_whole_listing_says_what_each_shot_and_its_current_take_are(review_room: ReviewRoom) -> None:
    approved, flagged, unchecked, clip = review_room.codes
    supervisor = review_room.client("supervisor")
    # Take 1 of the first shot approved: its current take though take 2 is newer.
    assert supervisor.post(f"/api/shots/{approved}/decisions", json={"action": "approve", "take": 1}).status_code == 200
    for body in ("warmer", "hold two frames longer"):
        assert supervisor.post(f"/api/shots/{approved}/notes", json={"body": body}).status_code == 201
    with session_scope(review_room.production.engine) as session:
        ids = dict(session.execute(select(ShotRow.code, ShotRow.id)).all())
        newest = {
            code: session.scalars(
                select(TakeRow.id).where(TakeRow.shot_id == ids[code], TakeRow.number == TAKES_PER_SHOT)
            ).one()
            for code in (unchecked, clip)
        }
        # The third shot's newest take never had its checks run; the fourth's is a 48-frame clip
        # whose style check raised (not checked, whatever its composition check said).
        session.execute(update(TakeRow).where(TakeRow.id == newest[unchecked]).values(checked_at=None))
        session.execute(update(TakeRow).where(TakeRow.id == newest[clip]).values(recipe={"shot": clip, "frames": 48}))
        session.add(
            FindingRow(take_id=newest[clip], check="style", score=0.0, verdict="skipped",
                       reason=f"{COULD_NOT_RUN}: no references", first_frame=0, last_frame=47)
        )  # fmt: skip
        session.add(NoteRow(shot_id=ids[clip], author="Sol", role="supervisor", body="the lamp flickers", shapes=[]))

    answer = review_room.client("reviewer").get("/api/shots", params={"limit": 1000})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    listing = answer.json()
    shots = review_room.production.shots()
    assert listing["total"] == len(shots) == len(listing["shots"])
    # Every shot in cut order, with the plan's scene, subjects and frames.
    assert [(c["code"], c["scene"], c["subjects"], c["frames"]) for c in listing["shots"]] == [
        (s.code, s.scene, list(s.subjects), s.frames) for s in shots
    ]
    cards = {c["code"]: c for c in listing["shots"]}

    def card(code: str, number: int, **said: object) -> dict[str, object]:
        base = {"code": code, "scene": cards[code]["scene"], "status": "todo", "assignee": "",
                "subjects": cards[code]["subjects"], "frames": cards[code]["frames"], "takes": TAKES_PER_SHOT,
                "notes": 0, "current_take": f"{code}/{number}", "flagged": False,
                "image": f"/media/{_output(review_room, code, number)}.png", "not_checked": False, "clip_frames": 0}  # fmt: skip
        return base | said

    assert cards[approved] == card(approved, 1, notes=2, status="approved")
    assert cards[flagged] == card(flagged, 2, flagged=True)
    assert cards[unchecked] == card(unchecked, 2, not_checked=True)
    assert cards[clip] == card(
        clip, 2, notes=1, not_checked=True, clip_frames=48, image=f"/media/{_output(review_room, clip, 2)}.mp4"
    )
    # Shots without a take yet: no current take, no image, nothing flagged.
    bare = [c for code, c in cards.items() if code not in review_room.codes]
    assert bare and all(
        (c["takes"], c["notes"], c["current_take"], c["image"], c["flagged"], c["not_checked"], c["clip_frames"])
        == (0, 0, None, None, False, False, 0)
        for c in bare
    )
    # A page of it is the same cards.
    page = review_room.client("reviewer").get("/api/shots", params={"limit": 3, "offset": 1}).json()
    assert page == {"total": len(shots), "shots": listing["shots"][1:4]}
