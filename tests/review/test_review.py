"""Review decisions through the CLI and the production, on SQLite and PostgreSQL: roles, the
state machine, approvals of flagged takes, races, and the hash-chained audit trail."""

from __future__ import annotations

import getpass
import socket
import threading

import pytest
from sqlalchemy import select, update

from soundstage.errors import PermissionDenied, ReviewError
from soundstage.project import Production
from soundstage.review.workflow import Action, Role, Status, allowed_actions, next_status
from soundstage.store.db import session_scope
from soundstage.store.tables import EventRow, FindingRow, ShotRow, TakeRow


@pytest.fixture
def production(with_takes) -> Production:
    """The example imported and planned, two takes on its first two shots, and a crew."""
    return with_takes(2)


def crew(production: Production, name: str) -> dict[str, str]:
    """``by`` and, for the crew, their API token: the keywords of a decision on either database."""
    return {"by": name, "token": production.tokens.get(name, "")}  # type: ignore[attr-defined]


def test_state_machine_rules() -> None:
    assert next_status("001_0010", Status.PENDING_REVIEW, Action.APPROVE) is Status.APPROVED
    with pytest.raises(ReviewError, match="cannot final"):
        next_status("001_0010", Status.PENDING_REVIEW, Action.FINAL)
    assert Action.APPROVE not in allowed_actions(Role.ARTIST, Status.PENDING_REVIEW)
    assert Action.APPROVE in allowed_actions(Role.SUPERVISOR, Status.PENDING_REVIEW)
    assert allowed_actions(Role.CLIENT, Status.PENDING_REVIEW) == []


def test_approve_names_the_take_and_the_person(production: Production) -> None:
    code = production.codes[0]
    production.decide(code, Action.SUBMIT, **crew(production, "Ari"))
    decision = production.decide(f"{code}/1", Action.APPROVE, **crew(production, "Sol"), note="lovely light")
    assert (decision.previous, decision.status, decision.take) == (Status.PENDING_REVIEW, Status.APPROVED, f"{code}/1")
    with session_scope(production.engine) as session:
        take = session.scalars(select(TakeRow).where(TakeRow.recipe_sha256 != "", TakeRow.approved_by != "")).one()
        assert (take.number, take.approved_by, take.approved_role) == (1, "Sol", "supervisor")
    # The other supervisor is told who won; request changes clears the approval.
    with pytest.raises(ReviewError, match="already approved by Sol"):
        production.decide(f"{code}/2", Action.APPROVE, **crew(production, "Ada"))
    production.decide(code, Action.REQUEST_CHANGES, **crew(production, "Ada"), note="warmer")
    with session_scope(production.engine) as session:
        assert session.scalars(select(TakeRow).where(TakeRow.approved_by != "")).first() is None


def test_roles_are_enforced_and_nothing_changes(production: Production) -> None:
    code = production.codes[0]
    with pytest.raises(PermissionDenied, match="Ari \\(artist\\) may not approve"):
        production.decide(code, Action.APPROVE, **crew(production, "Ari"))
    with pytest.raises(PermissionDenied):
        production.add_user("Eve", "producer", by="Rev")
    refusal = "no active user" if production.engine.dialect.name == "sqlite" else "needs the person's API token"
    with pytest.raises(ReviewError, match=refusal):
        production.decide(code, Action.APPROVE, **crew(production, "Nobody"))
    with session_scope(production.engine) as session:
        assert session.scalars(select(ShotRow.status).where(ShotRow.code == code)).one() == "todo"
        assert [e.action for e in session.scalars(select(EventRow))] == ["add user"] * 4


def test_a_failed_take_needs_an_override_reason(production: Production) -> None:
    code = production.codes[1]
    with session_scope(production.engine) as session:
        take = session.scalars(select(TakeRow).join(ShotRow).where(ShotRow.code == code, TakeRow.number == 2)).one()
        session.add(FindingRow(take_id=take.id, check="character", subject="MAISIE", score=0.8, verdict="fail",
                               reason="MAISIE's colours differ from the reference sheet"))  # fmt: skip
    with pytest.raises(ReviewError, match="needs an override reason"):
        production.decide(f"{code}/2", Action.APPROVE, **crew(production, "Sol"))
    decision = production.decide(
        f"{code}/2", Action.APPROVE, **crew(production, "Sol"), override_reason="scarf is red by design"
    )
    assert decision.status is Status.APPROVED
    report, trail = production.audit()
    assert report.intact and trail[-1].detail["override_reason"] == "scarf is red by design"


def test_two_approvals_at_once_exactly_one_wins(production: Production) -> None:
    code = production.codes[0]
    barrier, outcomes = threading.Barrier(2), []

    def approve(who: str, take: int) -> None:
        barrier.wait()
        try:
            production.decide(f"{code}/{take}", Action.APPROVE, **crew(production, who))
            outcomes.append("won")
        except ReviewError as error:
            outcomes.append(str(error))

    threads = [threading.Thread(target=approve, args=a) for a in (("Sol", 1), ("Ada", 2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes)[-1] == "won" and outcomes.count("won") == 1, outcomes
    loser = next(o for o in outcomes if o != "won")
    assert "already approved by" in loser or "changed by someone else" in loser
    with session_scope(production.engine) as session:
        assert len(session.scalars(select(TakeRow).where(TakeRow.approved_by != "")).all()) == 1
    assert production.audit()[0].intact


def test_audit_verify_finds_edits_and_deletions(production: Production, cli) -> None:
    code = production.codes[0]
    production.decide(code, Action.SUBMIT, **crew(production, "Ari"))
    production.note(f"{code}/1", "the lamp flickers", **crew(production, "Rev"), frame=12)
    production.decide(f"{code}/1", Action.APPROVE, **crew(production, "Sol"))
    root = production.root
    assert cli("-p", root, "audit", "verify").code == 0
    with session_scope(production.engine) as session:
        session.execute(update(EventRow).where(EventRow.id == 6).values(actor="Mallory"))
    result = cli("-p", root, "audit", "verify")
    assert result.code == 1 and "event 6" in result.err and "edited" in result.err
    with session_scope(production.engine) as session:
        session.execute(update(EventRow).where(EventRow.id == 6).values(actor="Rev"))
    assert cli("-p", root, "audit", "verify").code == 0
    with session_scope(production.engine) as session:
        session.delete(session.get(EventRow, 5))
    result = cli("-p", root, "audit", "verify")
    assert result.code == 1 and "missing" in result.err


def test_cli_review_commands(production: Production, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    root, code = production.root, production.codes[0]
    assert cli("-p", root, "review", "approve", code).code == 2  # nobody named
    # Who decides: a name on SQLite (whoever runs the CLI holds the database file), the person's
    # API token on PostgreSQL (a name alone is refused there, in one line, and nothing changes).
    if production.engine.dialect.name == "postgresql":
        refused = cli("-p", root, "review", "submit", code, "--as", "Ari")
        assert refused.code == 2 and refused.err.count("\n") == 1 and "needs the person's API token" in refused.err
        assert production.audit()[1][-1].action == "add user"
        monkeypatch.setenv("SOUNDSTAGE_TOKEN", production.tokens["Ari"])  # type: ignore[attr-defined]
        sol = ("--token", production.tokens["Sol"])  # type: ignore[attr-defined]
    else:
        monkeypatch.setenv("SOUNDSTAGE_USER", "Ari")
        sol = ("--as", "Sol")
    result = cli("-p", root, "review", "approve", code)
    assert result.code == 2 and result.err.count("\n") == 1 and "may not approve" in result.err
    assert cli("-p", root, "review", "submit", code, "-m", "ready").code == 0
    result = cli("-p", root, "review", "approve", f"{code}/2", *sol, "--note", "yes")
    assert result.code == 0 and f"{code}/2: pending review -> approved (by Sol" in result.out
    assert cli("-p", root, "user", "add", "Cleo", "--role", "client").code == 0
    assert cli("-p", root, "user", "add", "Cleo", "--role", "client").code == 2
    assert cli("-p", root, "user", "add", "Bo", "--role", "director").code == 2
    # A name is printed to other people's terminals: an escape sequence in it is refused, and a
    # huge one is quoted in the error cut short (the message stays one readable line).
    escaped = cli("-p", root, "user", "add", "Eve\x1b]0;pwned\x07", "--role", "artist")
    assert escaped.code == 2 and "control characters" in escaped.err and "\x1b" not in escaped.err
    huge = cli("-p", root, "user", "add", "x" * 100_000, "--role", "artist")
    assert huge.code == 2 and huge.err.count("\n") == 1 and len(huge.err) < 1100
    listed = cli("-p", root, "user", "list").out
    assert "Cleo" in listed and "client" in listed
    log = cli("-p", root, "audit", "log").out
    assert "approve" in log and "Sol" in log


def test_each_decision_records_how_it_was_made(production: Production, cli) -> None:
    """CLI decisions name the OS user and host and whether a token vouched for the name."""
    root, code = production.root, production.codes[0]
    token = production.tokens["Ari"]  # type: ignore[attr-defined]
    assert cli("-p", root, "review", "submit", code, "--token", token).code == 0
    console = {"via": "cli", "os_user": getpass.getuser(), "host": socket.gethostname()}
    submitted = production.audit()[1][-1]
    assert (submitted.actor, submitted.action) == ("Ari", "submit")
    assert submitted.detail == {"from": "todo", "to": "pending review", **console, "token": True}
    # A token is one person's: naming another with it is refused.
    result = cli("-p", root, "review", "approve", code, "--as", "Sol", "--token", token)
    assert result.code == 2 and "the API token given is Ari's, not Sol's" in result.err
    result = cli("-p", root, "review", "approve", code, "--token", "not-a-token")
    assert result.code == 2 and "unknown or revoked" in result.err
    if production.engine.dialect.name == "sqlite":
        assert cli("-p", root, "review", "note", f"{code}/1", "warmer", "--as", "Rev").code == 0
        noted = production.audit()[1][-1]
        assert noted.action == "note" and {k: noted.detail[k] for k in (*console, "token")} == {
            **console,
            "token": False,
        }
    assert production.audit()[0].intact
