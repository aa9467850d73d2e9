"""Shared fixtures and paths: the screenplays, databases on both servers Soundstage supports,
and the CLI run in-process."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from soundstage.cli import main
from soundstage.project import Production
from soundstage.store.db import make_engine, sqlite_url

from postgres import (
    URL_VARIABLE,
    PostgresUnavailable,
    Server,
    create_database,
    create_schema,
    drop_database,
    start_server,
    write_pgpass,
)

REPO = Path(__file__).resolve().parents[1]
# The real screenplays shared beside every checkout (never copied into the repository).
SCREENPLAYS = REPO.parent / "shared" / "screenplays"
EXAMPLE = REPO / "examples" / "lantern_keepers.fountain"


class CliResult:
    """Exit code and what a CLI run printed."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


def error_line(result: CliResult, *expected: str) -> str:
    """The one line a user mistake gives (exit 2, no traceback, nothing on stdout), which holds
    each of ``expected``."""
    assert result.code == 2, (result.out, result.err)
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: "), lines[0]
    for part in expected:
        assert part in lines[0], lines[0]
    assert result.out == "", result.out
    return lines[0]


def drafts_in(production: Path) -> int:
    """The drafts a SQLite production holds, read past Soundstage."""
    with sqlite3.connect(production / "soundstage.db") as db:
        return db.execute("select count(*) from drafts").fetchone()[0]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Run ``soundstage ARGS...`` in-process; returns a CliResult."""

    def run(*args: object) -> CliResult:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """An empty PostgreSQL database for this test session.

    On the server named by SOUNDSTAGE_TEST_DATABASE_URL when set, else on a throwaway
    server started here. Fails (never skips) when PostgreSQL is not installed.
    """
    server = None
    server_url = os.environ.get(URL_VARIABLE)
    if not server_url:
        server = _start_server_or_fail()
        server_url = server.url
    url = create_database(server_url)
    # What a team does: the password in ~/.pgpass (here a file of the session's own), not in
    # soundstage.toml, which ``init --database-url`` writes without it.
    pgpass = write_pgpass(server_url, Path(tempfile.mkdtemp(prefix="soundstage-pgpass-")) / "pgpass")
    previous = os.environ.get("PGPASSFILE")
    os.environ["PGPASSFILE"] = str(pgpass)
    yield url
    if previous is None:
        os.environ.pop("PGPASSFILE", None)
    else:
        os.environ["PGPASSFILE"] = previous
    shutil.rmtree(pgpass.parent, ignore_errors=True)
    if server is not None:
        server.stop()
    else:
        drop_database(server_url, url)


def _start_server_or_fail() -> Server:
    try:
        return start_server()
    except PostgresUnavailable as exc:
        reason = str(exc)  # failed outside the except block: the message alone, no chained traceback
    pytest.fail(reason, pytrace=False)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database per test, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "soundstage.db")
    # Looked up here, not requested, so a run of SQLite tests alone starts no server.
    return create_schema(request.getfixturevalue("postgres_url"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a fresh, empty (not yet migrated) database, on both servers."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


# Previs frame size of the shared rendered example: small, so it is quick, and 16:9.
PREVIS_SIZE = (320, 180)


@pytest.fixture(scope="session")
def rendered_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A production of the example with scenes 3 and 4 planned, laid out and rendered; tests
    copy it (``copy_production``) rather than change it."""
    root = tmp_path_factory.mktemp("rendered") / "pilot"
    with Production.init(root) as production:
        production.import_script(EXAMPLE)
        production.plan()
        for scene in ("3", "4"):
            production.layout(scene=scene)
            production.previs(size=PREVIS_SIZE, scene=scene)
    return root


@pytest.fixture
def copy_production(rendered_example: Path, tmp_path: Path):
    """A private copy of the rendered example, opened; closed after the test."""
    root = tmp_path / "pilot"
    shutil.copytree(rendered_example, root)
    with Production.open(root) as production:
        yield production
