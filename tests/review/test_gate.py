"""The review gate's "not checked": a take whose intent checks never ran, or one of whose checks
raised, never passes. Approving it needs an override reason as a failed one does; the board and
the shot page say "not checked"; a playlist approved whole gives each such take its own reason.
On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from soundstage.checks.findings import could_not_run, not_checked
from soundstage.errors import ReviewError
from soundstage.generate.backend import Recipe
from soundstage.project import Production, board, dailies
from soundstage.project.people import person
from soundstage.review.workflow import Action, Role
from soundstage.store.db import session_scope
from soundstage.store.tables import FindingRow, ShotRow, TakeRow, utcnow

from conftest import EXAMPLE

PASSED = {"check": "composition", "subject": "", "score": 0.1, "verdict": "pass", "reason": "as blocked"}


@pytest.fixture
def production(tmp_path: Path, database_url: str):
    """The example planned, one take on each of its first four shots, and a supervisor. Take 1 of
    the first shot passed its checks; the second shot's was never checked; the third's had a
    check raise (and another pass); the fourth's had nothing to compare on one check (no
    reference sheet) and passed the others."""
    with Production.init(tmp_path / "pilot", database_url=database_url) as production:
        production.import_script(EXAMPLE)
        production.plan()
        codes = [s.code for s in production.shots()[:4]]
        raised = could_not_run("character", RuntimeError("CUDA out of memory")).to_dict()
        nothing = not_checked("character", "MAISIE", "no reference sheet for MAISIE in the bible").to_dict()
        findings: list[list[dict[str, object]] | None] = [[PASSED], None, [raised, PASSED], [nothing, PASSED]]
        with session_scope(production.engine) as session:
            for code, found in zip(codes, findings, strict=True):
                shot = session.scalars(select(ShotRow).where(ShotRow.code == code)).one()
                recipe = Recipe(shot=code, backend="previs", seed=1)
                take = TakeRow(
                    shot_id=shot.id, number=1, backend="previs", recipe=recipe.model_dump(mode="json"),
                    recipe_sha256=recipe.sha256(), output_sha256=production.media.put_bytes(code.encode(), ".png"),
                    checked_at=utcnow() if found is not None else None,
                )  # fmt: skip
                session.add(take)
                session.flush()
                session.add_all(FindingRow(take_id=take.id, **f) for f in found or [])
        production.add_user("Sol", "supervisor")
        production.codes = codes  # type: ignore[attr-defined]
        # On PostgreSQL a decision from a script needs the person's API token.
        production.sol = {"by": "Sol", "token": production.issue_token("Sol")}  # type: ignore[attr-defined]
        yield production


def _reasons(production: Production, *where: object) -> dict[str, str]:
    """Shot code -> override reason of its takes that match ``where``."""
    with session_scope(production.engine) as session:
        rows = session.execute(select(ShotRow.code, TakeRow.override_reason).join(ShotRow).where(*where))
        return {code: reason for code, reason in rows}


def test_a_take_never_checked_needs_an_override_reason(production: Production) -> None:
    clean, unchecked, _, _ = production.codes
    with pytest.raises(ReviewError, match=rf"{unchecked}/1 was not checked .*needs an override reason"):
        production.decide(f"{unchecked}/1", Action.APPROVE, **production.sol)
    assert production.decide(f"{clean}/1", Action.APPROVE, **production.sol).take == f"{clean}/1"  # checked and passed
    production.decide(f"{unchecked}/1", Action.APPROVE, **production.sol, override_reason="checked it by eye")
    _, trail = production.audit()
    assert trail[-1].detail["override_reason"] == "checked it by eye"


def test_a_check_that_raised_is_not_a_pass(production: Production) -> None:
    _, _, raised, nothing = production.codes
    with pytest.raises(ReviewError, match="could not run .*CUDA out of memory.*needs an override reason"):
        production.decide(f"{raised}/1", Action.APPROVE, **production.sol)
    # A check with nothing to compare says so on its own, and does not hold the take back.
    assert production.decide(f"{nothing}/1", Action.APPROVE, **production.sol).take == f"{nothing}/1"


def test_the_board_and_the_shot_page_say_not_checked(production: Production) -> None:
    clean, unchecked, raised, nothing = production.codes
    with session_scope(production.engine) as session:
        cards = {card.code: card for card in board.board(session).shots}
        views = {code: board.shot_view(session, code, Role.SUPERVISOR, 24).takes[0].checks for code in production.codes}
    assert [(cards[c].not_checked, cards[c].flagged) for c in production.codes] == [
        (False, False),
        (True, False),
        (True, False),
        (False, False),
    ]
    assert views == {clean: "pass", unchecked: "not checked", raised: "not checked", nothing: "pass"}


def test_a_playlist_gives_each_flagged_take_its_own_reason(production: Production) -> None:
    clean, unchecked, raised, _ = production.codes
    takes = [f"{code}/1" for code in (clean, unchecked, raised)]
    with session_scope(production.engine) as session:
        sol = person(session, "Sol")
        playlist = dailies.create_playlist(session, sol, "dailies", takes)
    # One reason for two takes that need one is refused, and nothing is approved.
    with pytest.raises(ReviewError, match="give each its own override reason"), session_scope(production.engine) as s:
        dailies.approve_playlist(s, person(s, "Sol"), playlist, override_reason="fine")
    # A take left without its own reason refuses the whole playlist.
    with pytest.raises(ReviewError, match=f"{raised}/1 was not checked"), session_scope(production.engine) as s:
        dailies.approve_playlist(s, person(s, "Sol"), playlist, overrides={f"{unchecked}/1": "seen in dailies"})
    with session_scope(production.engine) as session:
        assert not session.scalars(select(TakeRow).where(TakeRow.approved_by != "")).all()
        done = dailies.approve_playlist(
            session,
            person(session, "Sol"),
            playlist,
            overrides={f"{unchecked}/1": "seen in dailies", f"{raised}/1": "the GPU ran out; looked at it"},
        )
    assert done.approved == takes and len(set(done.events)) == 3
    reasons = _reasons(production, TakeRow.number == 1)
    assert reasons[clean] == "" and reasons[unchecked] == "seen in dailies"
    assert reasons[raised] == "the GPU ran out; looked at it"


def test_one_reason_stands_for_the_one_take_that_needs_it(production: Production) -> None:
    clean, unchecked, _, _ = production.codes
    with session_scope(production.engine) as session:
        playlist = dailies.create_playlist(session, person(session, "Sol"), "dailies", [f"{clean}/1", f"{unchecked}/1"])
    with session_scope(production.engine) as session:
        dailies.approve_playlist(session, person(session, "Sol"), playlist, override_reason="seen in dailies")
    reasons = _reasons(production, TakeRow.approved_by != "")
    assert reasons == {clean: "", unchecked: "seen in dailies"}
