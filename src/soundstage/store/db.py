"""The production's database: engine set-up, schema migrations and the one-transaction session.

SQLite (the default, one file beside the production) and PostgreSQL (for teams) are the
two supported servers. Every command opens the database with :func:`make_engine`, brings
the schema to the newest revision with :func:`upgrade`, and does its work inside one
:func:`session_scope`, so a failed command leaves the production as it was.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError
from sqlalchemy.orm import Session

from soundstage.errors import ConfigError, StoreError

if TYPE_CHECKING:
    from alembic.config import Config

# The newest migration in ``migrations/versions``. ``upgrade`` compares the database's
# revision with this constant so that a database already at head never imports Alembic
# (about 180 ms, more than the rest of a CLI command). test_migrations checks that it
# names Alembic's head; bump it with every new migration.
SCHEMA_HEAD = "0022_autovacuum"

MIGRATIONS = Path(__file__).with_name("migrations")

# Serialises concurrent upgrades on one PostgreSQL server (two commands started at once
# after a Soundstage upgrade): the second waits, then finds the schema at head.
_MIGRATION_LOCK_KEY = 0x50_756E_6453_7461  # arbitrary, constant across releases

_BUSY_TIMEOUT_MS = 10_000
_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",  # readers do not block the writer (web app + CLI at once)
    "PRAGMA foreign_keys=ON",  # SQLite ignores foreign keys unless asked, per connection
    f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}",  # wait up to 10 s for another command's transaction
    # Safe with WAL and much faster than FULL (4 ms of fsync a commit here), but a commit is
    # synced only at the next WAL checkpoint: what must outlive a power cut at once is synced by
    # its caller (make_durable).
    "PRAGMA synchronous=NORMAL",
)


def make_durable(engine: Engine) -> None:
    """Make every transaction committed through ``engine`` so far survive a power cut, now.

    With synchronous=NORMAL a SQLite commit reaches the WAL file but is fsynced only at the next
    WAL checkpoint, so a power cut can undo the newest commits. Whatever is anchored outside the
    database (the audit checkpoints) must never name a head the database could still lose, so
    it syncs the WAL first. sqlite3 has no call for this; fsync of the WAL file is what SQLite
    does itself before a checkpoint (on Linux an fsync flushes the file's data, whichever
    descriptor wrote it). Without a WAL file every commit is already in the database file,
    synced by the checkpoint that moved it there. PostgreSQL commits are durable already."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return
    try:
        wal = os.open(f"{database}-wal", os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fsync(wal)
    finally:
        os.close(wal)


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of the SQLite database file at ``path``."""
    return URL.create("sqlite", database=str(path)).render_as_string()


def make_engine(url: str) -> Engine:
    """An engine for a SQLite or PostgreSQL URL; no connection is made yet.

    ``postgresql://`` (and ``postgres://``) URLs use the psycopg 3 driver. Any other
    scheme raises ConfigError.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        # Not echoed: a mistyped URL may still hold a password.
        raise ConfigError("not a database URL; expected sqlite:///PATH or postgresql://HOST/DATABASE") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend in ("postgresql", "postgres"):
        if parsed.drivername not in ("postgresql", "postgres", "postgresql+psycopg"):
            raise ConfigError(
                f"database URL {parsed}: driver {parsed.get_driver_name()!r} is not supported;"
                " use postgresql:// (psycopg 3)"
            )
        try:
            # Pre-ping: a long-running web app outlives server restarts and idle timeouts.
            engine = create_engine(parsed.set(drivername="postgresql+psycopg"), pool_pre_ping=True)
        except ImportError:
            raise ConfigError("PostgreSQL needs the psycopg driver: pip install 'soundstage[postgres]'") from None
        event.listen(engine, "connect", _no_jit)
        return engine
    raise ConfigError(f"database URL {parsed}: only sqlite:// and postgresql:// are supported")


def _no_jit(dbapi_connection: Any, _record: Any) -> None:
    # PostgreSQL compiles a statement whose estimated cost passes jit_above_cost, at every
    # execution. Soundstage's statements are short: before a new table's statistics are
    # gathered, the 1,000-shot board's estimate passed it and compiling took 70 ms of a
    # 110 ms answer (docs/benchmarks.md). Committed, so it outlasts the first transaction.
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    dbapi_connection.commit()


def _sqlite_engine(url: URL) -> Engine:
    engine = create_engine(url)
    # The writers of this process queue here before BEGIN IMMEDIATE. SQLite's busy handler polls
    # with growing sleeps (up to 100 ms each), so with the review room's many threads a writer
    # could wait far longer than the writes ahead of it, and a newcomer could pass one that
    # slept; the lock wakes the next writer as soon as the last one ends. Other processes (the
    # CLI, more server workers) still meet at SQLite's own lock. A lock that somehow stays held
    # costs a writer its busy timeout, then it goes on to SQLite's lock as before.
    writers = threading.Lock()
    # The connections holding it, kept here rather than in ``connection.info``: a statement
    # interrupted by Ctrl-C invalidates its connection, whose info then cannot be read, and the
    # rollback that follows must still release the lock (and not fail in place of the Ctrl-C).
    holders: weakref.WeakSet[Connection] = weakref.WeakSet()

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Python's sqlite3 opens transactions implicitly and only before DML, so DDL
        # (migrations) would run outside any transaction. Take over: the driver stays in
        # autocommit and the "begin" listener below opens every transaction itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # IMMEDIATE takes the write lock up front: a second command waits (busy_timeout)
        # instead of failing half-way when a read-then-write transaction cannot upgrade
        # its lock after the other committed. Commands are short, so queuing is cheap.
        # Reads (read_scope) begin deferred: in WAL mode they never wait for a writer.
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        if read_only:
            connection.exec_driver_sql("BEGIN")
            return
        if writers.acquire(timeout=_BUSY_TIMEOUT_MS / 1000):
            holders.add(connection)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _end(connection)
            raise

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _end(connection: Connection) -> None:
        # Just before the driver's COMMIT or ROLLBACK: the next writer's BEGIN IMMEDIATE may
        # find SQLite's lock held a moment longer, and its busy handler waits out that moment.
        if connection in holders:
            holders.discard(connection)
            writers.release()

    return engine


def alembic_config(connection: Connection) -> Config:
    """An Alembic configuration that migrates over ``connection`` (no alembic.ini needed).

    Also the way to write a new migration: pass the returned config to
    ``alembic.command.revision(config, message, autogenerate=True, rev_id="0002")``.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine) -> None:
    """Bring the database schema to the newest revision; a fast no-op when already there.

    Raises StoreError when the server cannot be reached or the database was written by a
    newer Soundstage.
    """
    with _connect(engine) as connection:
        with connection.begin():
            if _revision(connection) == SCHEMA_HEAD:
                return
        _migrate(connection)


def _migrate(connection: Connection) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A SQLite migration that alters a table rebuilds it (copy, drop, rename), and
        # with foreign keys on, dropping scenes would cascade-delete every shot. The pragma
        # only takes effect outside a transaction; integrity is checked before commit.
        _sqlite_pragma(connection, "foreign_keys=OFF")
    try:
        with connection.begin():
            if not sqlite:
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
            # Read again under the lock: a command started at the same time may have migrated.
            current = _revision(connection)
            if current == SCHEMA_HEAD:
                return
            config = alembic_config(connection)
            known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
            if current is not None and current not in known:
                raise StoreError(
                    f"database {_where(connection.engine)} is at schema revision {current},"
                    f" which this Soundstage does not know (newest: {SCHEMA_HEAD}): upgrade Soundstage"
                )
            command.upgrade(config, "head")
            if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                raise StoreError(f"migrating {_where(connection.engine)} broke a foreign key; nothing was changed")
    finally:
        if sqlite:
            _sqlite_pragma(connection, "foreign_keys=ON")


def _sqlite_pragma(connection: Connection, pragma: str) -> None:
    # Through the driver, not connection.execute: that would open a transaction first
    # (the "begin" listener), and these pragmas are ignored inside one.
    connection.connection.driver_connection.execute(f"PRAGMA {pragma}")  # type: ignore[union-attr]


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at; None for an empty database."""
    with _connect(engine) as connection, connection.begin():
        return _revision(connection)


def _revision(connection: Connection) -> str | None:
    # Read Alembic's version table directly: the same answer as MigrationContext's
    # get_current_revision, without importing Alembic on every command.
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _connect(engine: Engine) -> Connection:
    try:
        return engine.connect()
    except DatabaseError as exc:  # unreachable (OperationalError) or a file that is no database
        # The driver's message can span several lines (psycopg adds hints); keep the first.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StoreError(f"cannot open database {_where(engine)}: {reason}") from exc


def _where(engine: Engine) -> str:
    # For messages: a SQLite path or host:port/database, never the password.
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """A transaction that only reads (the review room's pages and board): on SQLite it takes no
    write lock, so many readers run beside one writer. Never write in it: a deferred transaction
    that writes can fail to get the lock another writer holds (the reason for BEGIN IMMEDIATE)."""
    with Session(_read_engine(engine), expire_on_commit=False) as session, session.begin():
        yield session


# Execution option that marks read-only transactions, and the engines carrying it.
_READ_ONLY = "soundstage_read_only"
_read_engines: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def _read_engine(engine: Engine) -> Engine:
    if engine not in _read_engines:
        _read_engines[engine] = engine.execution_options(**{_READ_ONLY: True})
    return _read_engines[engine]


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back if it raises.

    Objects stay readable after the block (no expiry on commit) so a command can report
    what it wrote.
    """
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session
