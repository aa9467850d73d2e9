"""The production the review tests decide on: the example imported and planned, two checked,
passing takes on each of its first shots, and a crew of four with API tokens."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import select

from soundstage.generate.backend import Recipe
from soundstage.project import Production
from soundstage.store.db import session_scope
from soundstage.store.tables import FindingRow, ShotRow, TakeRow, utcnow

from conftest import EXAMPLE

CREW = (("Ada", "producer"), ("Sol", "supervisor"), ("Ari", "artist"), ("Rev", "reviewer"))


def _with_takes(root: Path, database_url: str, shots: int) -> Production:
    production = Production.init(root, database_url=database_url)
    production.import_script(EXAMPLE)
    production.plan()
    codes = [s.code for s in production.shots()[:shots]]
    with session_scope(production.engine) as session:
        for code in codes:
            shot = session.scalars(select(ShotRow).where(ShotRow.code == code)).one()
            for number in (1, 2):
                recipe = Recipe(shot=code, backend="previs", seed=number)
                sha = production.media.put_bytes(f"{code}/{number}".encode(), ".png")
                take = TakeRow(
                    shot_id=shot.id, number=number, backend="previs", recipe=recipe.model_dump(mode="json"),
                    recipe_sha256=recipe.sha256(), output_sha256=sha, checked_at=utcnow(),
                )  # fmt: skip
                session.add(take)
                session.flush()
                # Checked and passing, so that the review gate lets the decisions through.
                session.add(FindingRow(take_id=take.id, check="composition", score=0.1, verdict="pass",
                                       reason="as blocked"))  # fmt: skip
    for name, role in CREW:
        production.add_user(name, role)
    # On PostgreSQL a decision from the CLI (or a script) needs the person's API token.
    production.tokens = {name: production.issue_token(name) for name, _ in CREW}  # type: ignore[attr-defined]
    production.codes = codes  # type: ignore[attr-defined]
    return production


@pytest.fixture
def with_takes(tmp_path: Path, database_url: str) -> Iterator[Callable[[int], Production]]:
    """Makes the production (in tmp_path/pilot) with takes on its first ``shots`` shots; its
    ``codes`` are those shots, its ``tokens`` each crew member's API token. Closed at the end."""
    with ExitStack() as closing:

        def make(shots: int) -> Production:
            return closing.enter_context(_with_takes(tmp_path / "pilot", database_url, shots))

        yield make
