"""Alembic migrations: the migrated schema is exactly the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event, inspect, text

from soundstage.errors import StoreError
from soundstage.store.db import SCHEMA_HEAD, alembic_config, current_revision, make_engine, sqlite_url, upgrade
from soundstage.store.tables import Base


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    # The guard that every change to tables.py comes with a migration.
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == SCHEMA_HEAD
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_schema_head_is_alembics_head(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "soundstage.db"))
    with engine.connect() as connection:
        scripts = ScriptDirectory.from_config(alembic_config(connection))
        assert scripts.get_heads() == [SCHEMA_HEAD], "update db.SCHEMA_HEAD to the newest migration"
    engine.dispose()


def test_upgrading_twice_changes_nothing(engine: Engine) -> None:
    upgrade(engine)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    upgrade(engine)
    event.remove(engine, "before_cursor_execute", record)
    writes = [s for s in statements if s.lstrip().upper().startswith(("CREATE", "ALTER", "DROP", "INSERT", "UPDATE"))]
    assert statements and writes == []
    assert current_revision(engine) == SCHEMA_HEAD


def test_upgrade_at_head_does_not_import_alembic(tmp_path: Path) -> None:
    # upgrade runs at every CLI command; importing Alembic alone costs about 180 ms.
    url = sqlite_url(tmp_path / "soundstage.db")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    probe = (
        "import sys; from soundstage.store.db import make_engine, upgrade;"
        f" upgrade(make_engine({url!r})); print('alembic' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_downgrade_to_base_and_back(engine: Engine) -> None:
    upgrade(engine)
    with engine.connect() as connection, connection.begin():
        command.downgrade(alembic_config(connection), "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    assert current_revision(engine) is None
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) == {"alembic_version"} | set(Base.metadata.tables)


def test_the_queues_tables_get_their_autovacuum_settings_on_postgresql_only(engine: Engine) -> None:
    """0022_autovacuum: no cost delay for jobs and takes, jobs vacuumed more often, both analyzed
    less often; taken back by its downgrade; SQLite, which has no autovacuum, is left alone."""
    upgrade(engine)
    if engine.dialect.name != "postgresql":
        assert current_revision(engine) == SCHEMA_HEAD
        return

    def options() -> dict[str, list[str]]:
        query = text("select relname, reloptions from pg_class where relname in ('jobs', 'takes')")
        with engine.connect() as connection:
            return {name: sorted(opts or []) for name, opts in connection.execute(query)}

    assert options() == {
        "jobs": [
            "autovacuum_analyze_scale_factor=0.5",
            "autovacuum_vacuum_cost_delay=0",
            "autovacuum_vacuum_scale_factor=0.02",
            "autovacuum_vacuum_threshold=1000",
        ],
        "takes": ["autovacuum_analyze_scale_factor=0.5", "autovacuum_vacuum_cost_delay=0"],
    }
    with engine.connect() as connection, connection.begin():
        command.downgrade(alembic_config(connection), "0021_queued")
    assert options() == {"jobs": [], "takes": []}


def test_database_from_a_newer_soundstage_is_refused(engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match=r"9999.*upgrade Soundstage"):
        upgrade(engine)
    assert current_revision(engine) == "9999"
