"""The database engine and the one-transaction session, on SQLite and PostgreSQL."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from soundstage.errors import ConfigError, StoreError
from soundstage.store.db import make_engine, session_scope, sqlite_url, upgrade
from soundstage.store.tables import Draft, SceneRow, ShotRow


def _draft(name: str) -> Draft:
    return Draft(source_name=name, source_sha256="a" * 64, format="fountain", title="Night Shift", scene_count=1)


def _count(engine: Engine, table: type[Draft] | type[SceneRow] | type[ShotRow]) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_rows_round_trip(engine: Engine) -> None:
    upgrade(engine)
    with session_scope(engine) as session:
        draft = _draft("night_shift.fountain")
        session.add(draft)
        session.flush()
        scene = SceneRow(
            number="12A",
            position=0,
            heading="INT. DINER - NIGHT",
            body_sha256="b" * 64,
            first_draft_id=draft.id,
            changed_draft_id=draft.id,
        )
        scene.shots = [
            ShotRow(code="12A-2", position=1, planned={"size": "CU", "subjects": ["MARA"]}),
            ShotRow(code="12A-1", position=0, planned={"size": "WS", "lens_mm": 24}, edits={"lens_mm": 18}),
        ]
        session.add(scene)

    with session_scope(engine) as session:
        scene = session.scalars(select(SceneRow)).one()
        assert (scene.number, scene.heading, scene.removed_draft_id) == ("12A", "INT. DINER - NIGHT", None)
        assert [shot.code for shot in scene.shots] == ["12A-1", "12A-2"]  # ordered by position
        wide, close = scene.shots
        assert wide.planned == {"size": "WS", "lens_mm": 24} and wide.edits == {"lens_mm": 18}
        assert close.planned["subjects"] == ["MARA"] and close.edits == {}
        assert close.in_plan is True and close.note == "" and close.edited_at is None
        first_draft = session.get(Draft, scene.first_draft_id)
        assert first_draft is not None and first_draft.title == "Night Shift" and first_draft.imported_at is not None


def test_session_scope_rolls_back_on_error(engine: Engine) -> None:
    upgrade(engine)
    with session_scope(engine) as session:
        session.add(_draft("first.fountain"))

    with pytest.raises(RuntimeError, match="command failed"), session_scope(engine) as session:
        session.add(_draft("second.fountain"))
        session.flush()  # the row reaches the database inside the transaction
        raise RuntimeError("command failed")

    with session_scope(engine) as session:
        assert session.scalars(select(Draft.source_name)).all() == ["first.fountain"]


def test_objects_stay_readable_after_the_transaction(engine: Engine) -> None:
    upgrade(engine)
    with session_scope(engine) as session:
        draft = _draft("night_shift.fountain")
        session.add(draft)
    assert draft.id is not None and draft.source_name == "night_shift.fountain"


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    # SQLite ignores foreign keys unless each connection turns them on.
    upgrade(engine)
    engine.dispose()  # the next command's connection, not the one that migrated
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(ShotRow(scene_id=999, code="1-1", position=0, planned={}))
    assert _count(engine, ShotRow) == 0


def test_sqlite_connection_settings(tmp_path: Path) -> None:
    upgrade(make_engine(sqlite_url(tmp_path / "soundstage.db")))
    engine = make_engine(sqlite_url(tmp_path / "soundstage.db"))  # a fresh connection
    with engine.connect() as connection:
        settings = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
        }
    engine.dispose()
    assert settings == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 10000, "synchronous": 1}  # 1: NORMAL
    assert (tmp_path / "soundstage.db").read_bytes()[18:20] == b"\x02\x02"  # WAL, in the file header


def test_sqlite_second_command_waits_for_the_first(tmp_path: Path) -> None:
    # Two commands at once: the second reads, then writes. It must wait for the first to
    # commit and see its row, not fail with "database is locked" half-way.
    url = sqlite_url(tmp_path / "soundstage.db")
    first, second = make_engine(url), make_engine(url)
    upgrade(first)
    seen: list[int] = []
    errors: list[BaseException] = []

    def second_command() -> None:
        try:
            with session_scope(second) as session:
                seen.append(session.scalar(select(func.count()).select_from(Draft)) or 0)
                session.add(_draft("second.fountain"))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    with session_scope(first) as session:
        session.add(_draft("first.fountain"))
        session.flush()
        thread = threading.Thread(target=second_command)
        thread.start()
        time.sleep(0.3)  # the second command is now waiting for the first's lock
    thread.join(timeout=15)
    assert not errors and seen == [1]
    assert _count(first, Draft) == 2
    first.dispose()
    second.dispose()


def test_ctrl_c_in_a_statement_rolls_back_and_lets_the_interrupt_through(tmp_path: Path) -> None:
    """Ctrl-C inside a statement makes SQLAlchemy invalidate the connection (it does so for any
    BaseException there); the rollback that follows released the writer lock through the
    connection's info, which an invalid connection refuses, and a PendingRollbackError traceback
    replaced the Ctrl-C. Now the interrupt comes through and nothing of the transaction stays."""
    engine = make_engine(sqlite_url(tmp_path / "soundstage.db"))
    upgrade(engine)
    with pytest.raises(KeyboardInterrupt), session_scope(engine) as session:
        session.add(_draft("interrupted.fountain"))
        session.flush()
        session.connection().invalidate()  # as SQLAlchemy does when the statement is interrupted
        raise KeyboardInterrupt
    with session_scope(engine) as session:
        session.add(_draft("next.fountain"))
    with session_scope(engine) as session:
        assert session.scalars(select(Draft.source_name)).all() == ["next.fountain"]
    engine.dispose()


@pytest.mark.parametrize(
    "url", ["mysql://user:hunter2@db.example/soundstage", "mongodb://db.example", "postgresql//user:hunter2@db.example"]
)
def test_unsupported_url_raises_config_error(url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        make_engine(url)
    message = str(raised.value)
    assert "\n" not in message and "hunter2" not in message


def test_postgresql_urls_use_psycopg_3() -> None:
    for url in (
        "postgresql://u:p@127.0.0.1/db",
        "postgres://u:p@127.0.0.1/db",
        "postgresql+psycopg://u:p@127.0.0.1/db",
    ):
        assert make_engine(url).dialect.driver == "psycopg"
    with pytest.raises(ConfigError, match="psycopg2"):
        make_engine("postgresql+psycopg2://u:p@127.0.0.1/db")


def test_unreachable_postgresql_raises_store_error() -> None:
    with socket.socket() as probe:  # a port nothing listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    engine = make_engine(f"postgresql://soundstage:hunter2@127.0.0.1:{port}/production")
    with pytest.raises(StoreError) as raised:
        upgrade(engine)
    message = str(raised.value)
    assert f"127.0.0.1:{port}" in message
    assert "\n" not in message and "hunter2" not in message


def test_sqlite_in_a_missing_folder_raises_store_error(tmp_path: Path) -> None:
    missing = tmp_path / "no such folder" / "soundstage.db"
    with pytest.raises(StoreError, match="no such folder"):
        upgrade(make_engine(sqlite_url(missing)))


@pytest.mark.postgres
def test_postgresql_connections_compile_no_statement(postgres_url: str) -> None:
    # JIT compiling cost a 1,000-shot board 70 ms of 110 before the tables' statistics were
    # gathered; it stays off in every connection, after a rolled-back transaction too.
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as connection:
            connection.rollback()
            assert connection.exec_driver_sql("SHOW jit").scalar() == "off"
    finally:
        engine.dispose()
