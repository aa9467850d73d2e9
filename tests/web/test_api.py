"""The review room's JSON API over the real app, on SQLite and PostgreSQL: the board, a shot,
notes with drawings and status changes, decisions, the race, playlists, annotations, audit."""

from __future__ import annotations

import threading

from sqlalchemy import event, select

from soundstage.review.workflow import Status
from soundstage.store.db import session_scope
from soundstage.store.tables import NoteRow, TakeRow

from .conftest import ReviewRoom

PEN = {"tool": "pen", "points": [[0.1, 0.2], [0.15, 0.25], [0.2, 0.3]], "colour": "#00ff00", "width": 0.005}
BOX = {"tool": "box", "points": [[0.3, 0.3], [0.6, 0.7]]}


def test_board_lists_every_shot_in_two_queries(review_room: ReviewRoom) -> None:
    client = review_room.client("reviewer")
    statements: list[str] = []
    engine = review_room.app.state.production.engine
    record = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(engine, "before_cursor_execute", record)
    answer = client.get("/api/shots", params={"limit": 500})
    event.remove(engine, "before_cursor_execute", record)
    assert answer.status_code == 200
    board = answer.json()
    shots = {s["code"]: s for s in board["shots"]}
    assert board["total"] == len(review_room.production.shots()) == len(shots)
    first, flagged = (shots[c] for c in review_room.codes[:2])
    assert (first["takes"], first["current_take"], first["flagged"]) == (2, f"{first['code']}/2", False)
    assert flagged["flagged"] is True and flagged["status"] == "todo"
    assert first["frames"] > 0 and set(first) >= {"scene", "assignee", "subjects", "notes"}
    # The token lookup, then the board in one statement whatever the number of shots: the
    # page's shots with their counts, how many match, their current takes with their findings.
    queries = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(queries) == 2, queries
    assert "count(*)" in queries[1].lower() and "join findings" in queries[1].lower()


def test_board_current_take_is_the_approved_one_else_the_newest(review_room: ReviewRoom) -> None:
    code = review_room.codes[0]
    client = review_room.client("supervisor")

    def card() -> dict[str, object]:
        return next(s for s in client.get("/api/shots", params={"limit": 500}).json()["shots"] if s["code"] == code)

    assert card()["current_take"] == f"{code}/2"
    answer = client.post(f"/api/shots/{code}/decisions", json={"action": "approve", "take": 1})
    assert answer.status_code == 200
    # Take 1 is approved: it is the shot's current take though take 2 is newer, with its standing.
    assert (card()["current_take"], card()["flagged"], card()["not_checked"]) == (f"{code}/1", False, False)


def test_board_filters_and_pages(review_room: ReviewRoom) -> None:
    client = review_room.client("artist")
    everything = client.get("/api/shots", params={"limit": 1000}).json()
    scene = everything["shots"][-1]["scene"]
    in_scene = client.get("/api/shots", params={"scene": scene}).json()
    assert in_scene["total"] == sum(s["scene"] == scene for s in everything["shots"]) > 0
    name = next(n for s in everything["shots"] for n in s["subjects"])
    with_name = client.get("/api/shots", params={"character": name.lower()}).json()
    assert with_name["total"] == sum(name in s["subjects"] for s in everything["shots"]) > 0
    assert all(name in s["subjects"] for s in with_name["shots"])
    page = client.get("/api/shots", params={"limit": 3, "offset": 2}).json()
    assert page["total"] == everything["total"]
    assert [s["code"] for s in page["shots"]] == [s["code"] for s in everything["shots"][2:5]]
    code = review_room.codes[0]
    client.post(f"/api/shots/{code}/decisions", json={"action": "submit"})
    pending = client.get("/api/shots", params={"status": "pending review"}).json()
    assert [s["code"] for s in pending["shots"]] == [code]
    assert client.get("/api/shots", params={"limit": 0}).status_code == 422


def test_shot_page_data_has_takes_findings_notes_and_my_actions(review_room: ReviewRoom) -> None:
    code = review_room.codes[1]
    shot = review_room.client("supervisor").get(f"/api/shots/{code}").json()
    assert [t["name"] for t in shot["takes"]] == [f"{code}/1", f"{code}/2"]
    assert shot["takes"][1]["findings"][0]["verdict"] == "fail"
    assert shot["takes"][0]["recipe"]["seed"] == 1 and len(shot["takes"][0]["recipe_sha256"]) == 64
    assert shot["actions"] == ["start", "submit", "approve"]
    assert review_room.client("reviewer").get(f"/api/shots/{code}").json()["actions"] == []
    image = review_room.client("reviewer").get(shot["takes"][0]["image"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")
    assert review_room.client("reviewer").get("/api/shots/999_9999").status_code == 404


def test_note_with_drawing_and_status_change_is_one_transaction(review_room: ReviewRoom) -> None:
    code = review_room.codes[0]
    supervisor = review_room.client("supervisor")
    supervisor.post(f"/api/shots/{code}/decisions", json={"action": "submit"})
    before = review_room.fingerprint()
    # A reviewer may draw but not send a shot back: the note is refused with the status change.
    refused = review_room.client("reviewer").post(
        f"/api/shots/{code}/notes", json={"body": "too dark", "status": "changes requested"}
    )
    assert refused.status_code == 403 and "may not" in refused.json()["detail"]
    assert review_room.fingerprint() == before
    answer = supervisor.post(
        f"/api/shots/{code}/notes",
        json={"body": "lift the lamp", "take": 2, "frame": 12, "shapes": [PEN, BOX], "status": "changes requested"},
    )
    assert answer.status_code == 201 and answer.json()["status"] == "changes requested"
    assert review_room.status(code) == Status.CHANGES_REQUESTED
    with session_scope(review_room.production.engine) as session:
        note = session.get(NoteRow, answer.json()["note"])
        assert (note.frame, note.body, note.shapes[0]["points"][1]) == (12, "lift the lamp", [0.15, 0.25])
    # A move the state machine has no way for is 409, and nothing is written.
    before = review_room.fingerprint()
    stuck = supervisor.post(f"/api/shots/{code}/notes", json={"body": "lock it", "status": "final"})
    assert stuck.status_code == 409 and review_room.fingerprint() == before
    exported = review_room.client("artist").get(f"/api/shots/{code}/annotations").json()
    assert exported["fps"] == 24 and [n["frame"] for n in exported["notes"]] == [12]
    assert exported["notes"][0]["take"] == 2 and exported["notes"][0]["shapes"][1]["tool"] == "box"


def test_bad_input_is_422_and_changes_nothing(review_room: ReviewRoom) -> None:
    code, client = review_room.codes[0], review_room.client("producer")
    before = review_room.fingerprint()
    for body in (
        {"body": "x", "frame": -1},
        {"body": "x", "frame": 2**40},
        {"body": "nul \x00 inside"},
        {"body": "x", "shapes": [{"tool": "laser", "points": [[0, 0]]}]},
        {"body": "x", "shapes": [{"tool": "pen", "points": [[0, "NaN"]]}]},
        {"body": "x", "status": "sideways"},
        {"body": "x", "unknown": 1},
    ):
        answer = client.post(f"/api/shots/{code}/notes", json=body)
        assert answer.status_code == 422, body
        assert isinstance(answer.json()["detail"], str) and "\n" not in answer.json()["detail"]
    assert client.post(f"/api/shots/{code}/notes", json={"body": "  "}).status_code == 409  # words or a drawing
    big = client.post(f"/api/shots/{code}/notes", json={"body": "x" * 2_000_000})
    assert big.status_code == 413
    assert review_room.fingerprint() == before


def test_flagged_take_needs_an_override_reason(review_room: ReviewRoom) -> None:
    code = review_room.codes[1]
    client = review_room.client("supervisor")
    refused = client.post(f"/api/shots/{code}/decisions", json={"action": "approve", "take": 2})
    assert refused.status_code == 409 and "override reason" in refused.json()["detail"]
    answer = client.post(
        f"/api/shots/{code}/decisions", json={"action": "approve", "take": 2, "override_reason": "costume change"}
    )
    assert answer.status_code == 200
    assert answer.json()["status"] == "approved" and answer.json()["take"] == f"{code}/2"
    trail = client.get("/api/audit", params={"after": answer.json()["event"] - 1, "limit": 1}).json()["events"]
    assert trail[0]["actor"] == "Sol" and trail[0]["detail"]["override_reason"] == "costume change"
    shot = client.get(f"/api/shots/{code}").json()
    assert shot["takes"][1]["approved_by"] == "Sol" and shot["actions"] == ["request changes", "final"]


def test_two_approvals_at_the_same_moment_one_wins(review_room: ReviewRoom) -> None:
    code = review_room.codes[0]
    barrier, answers = threading.Barrier(2), []

    def approve(role: str, take: int) -> None:
        client = review_room.client(role)
        barrier.wait()
        answers.append(client.post(f"/api/shots/{code}/decisions", json={"action": "approve", "take": take}))

    threads = [threading.Thread(target=approve, args=args) for args in (("supervisor", 1), ("producer", 2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [200, 409]
    loser = next(a for a in answers if a.status_code == 409).json()["detail"]
    assert "already approved by" in loser or "changed by someone else" in loser
    with session_scope(review_room.production.engine) as session:
        assert len(session.scalars(select(TakeRow).where(TakeRow.approved_by != "")).all()) == 1


def test_playlist_approve_is_all_or_nothing(review_room: ReviewRoom) -> None:
    codes = review_room.codes
    producer = review_room.client("producer")
    takes = [f"{codes[0]}/1", f"{codes[1]}/2", f"{codes[2]}/2", f"{codes[0]}/2"]
    made = producer.post("/api/playlists", json={"name": "Tuesday dailies", "takes": takes})
    assert made.status_code == 201 and [t["name"] for t in made.json()["takes"]] == takes
    playlist = made.json()["id"]
    assert review_room.client("reviewer").get("/api/playlists").json()["playlists"][0]["takes"] == 4
    missing = producer.post("/api/playlists", json={"name": "x", "takes": [f"{codes[0]}/9"]})
    assert missing.status_code == 404
    before = review_room.fingerprint()
    # The flagged take has no override reason: nothing is approved.
    refused = producer.post(f"/api/playlists/{playlist}/approve", json={})
    assert refused.status_code == 409 and f"{codes[1]}/2" in refused.json()["detail"]
    assert review_room.fingerprint() == before
    answer = producer.post(f"/api/playlists/{playlist}/approve", json={"override_reason": "agreed in review"})
    assert answer.status_code == 200
    assert answer.json()["approved"] == takes[:3] and answer.json()["skipped"][0].startswith(takes[3])
    assert {review_room.status(c) for c in codes[:3]} == {"approved"}
    shot = producer.get(f"/api/shots/{codes[0]}").json()
    assert shot["takes"][0]["override_reason"] == ""  # only the flagged take carries the override
    again = producer.post(f"/api/playlists/{playlist}/approve")
    assert again.status_code == 200 and again.json()["approved"] == []
    assert producer.get("/api/playlists/999").status_code == 404


def test_audit_api_pages_and_verifies(review_room: ReviewRoom) -> None:
    client = review_room.client("supervisor")
    client.post(f"/api/shots/{review_room.codes[0]}/notes", json={"body": "warmer", "frame": 3})
    events = client.get("/api/audit").json()["events"]
    assert [e["action"] for e in events] == ["add user"] * 5 + ["note"]
    assert events[-1]["prev_sha256"] == events[-2]["sha256"]
    assert [e["id"] for e in client.get("/api/audit", params={"after": 2, "limit": 2}).json()["events"]] == [3, 4]
    verified = client.get("/api/audit/verify").json()
    assert (verified["intact"], verified["events"], verified["problems"]) == (True, 6, [])
    assert verified["head_sha256"] == events[-1]["sha256"] and verified["checkpoint"]["events"] == 6


def test_board_character_filter_matches_whole_names_after_an_edit(review_room: ReviewRoom) -> None:
    # The subjects column follows the artist's edits: a shot recast to FUSE alone is found by
    # FUSE and no longer by its planned subjects; a part of a name finds nothing.
    code = review_room.codes[0]
    planned = review_room.production.shot(code).subjects
    review_room.production.edit_shot(code, {"subjects": ["FUSE"]})
    client = review_room.client("reviewer")
    fuse = {s["code"]: s for s in client.get("/api/shots", params={"character": "fuse", "limit": 1000}).json()["shots"]}
    assert fuse[code]["subjects"] == ["FUSE"]
    for name in set(planned) - {"FUSE"}:
        listed = client.get("/api/shots", params={"character": name, "limit": 1000}).json()["shots"]
        assert code not in {s["code"] for s in listed}
    assert client.get("/api/shots", params={"character": "FUS"}).json() == {"total": 0, "shots": []}
