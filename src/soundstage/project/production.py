"""Opening and closing a production folder, and the small context every service takes.

A production is a folder: ``soundstage.toml`` (settings and the bible), ``soundstage.db`` (or a
PostgreSQL URL in the settings), ``media/`` (content-addressed) and ``layouts/`` (USD files
artists may edit). ``open_production`` gives a ``Context`` over it: root, settings, engine and
media store, and a place where each service keeps what it caches for as long as the
production is open (``Context.state``). The services of ``soundstage.project`` take a context
(or a session of its engine), so the CLI and the web call the same functions, each inside its
own transactions.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from fractions import Fraction
from pathlib import Path
from typing import TypeVar

from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from soundstage.config import (
    SETTINGS_FILE,
    Credentials,
    Media,
    Settings,
    default_toml,
    frame_rate,
    load_settings,
    split_password,
)
from soundstage.errors import ConfigError, ProductionError
from soundstage.store.db import make_engine, read_scope, session_scope, sqlite_url, upgrade
from soundstage.store.media import MediaStore

DATABASE_FILE = "soundstage.db"
MEDIA_DIR = "media"
LAYOUTS_DIR = "layouts"
# Where a read-write session keeps the context it belongs to, for what must happen once its
# commit is durable (the audit trail's checkpoints, written by project/trail.py on after_commit).
SESSION_CONTEXT = "soundstage.context"
# Progress callbacks get (done, total).
Progress = Callable[[int, int], None]
State = TypeVar("State")


def no_progress(done: int, total: int) -> None:
    """A progress callback that shows nothing."""
    return None


class Context:
    """An open production: its folder, settings, database engine and media store."""

    def __init__(self, root: Path, settings: Settings, engine: Engine) -> None:
        self.root = root
        self.settings = settings
        self.engine = engine
        self.media = media_store(root / MEDIA_DIR, settings.media)
        self._states: dict[type, object] = {}
        # The review room calls services from many threads at once: each kind is made once.
        self._states_lock = threading.Lock()

    def state(self, kind: type[State]) -> State:
        """What one service keeps while the production is open (its caches), made on first use
        with ``kind()``. Each service owns its kind, so no service reaches into another's."""
        found = self._states.get(kind)
        if found is None:
            with self._states_lock:
                found = self._states.get(kind)
                if found is None:
                    found = self._states[kind] = kind()
        return found  # type: ignore[return-value]

    def transaction(self) -> AbstractContextManager[Session]:
        """One read-write transaction: committed when the block ends, rolled back if it raises."""
        return self._transaction()

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with session_scope(self.engine) as session:
            session.info[SESSION_CONTEXT] = self
            yield session

    def reading(self) -> AbstractContextManager[Session]:
        """A transaction that only reads (on SQLite it takes no write lock); never write in it."""
        return read_scope(self.engine)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def init_production(root: Path, *, database_url: str = "", title: str = "", fps: Fraction | int | str = 24) -> Context:
    """Make a new production folder and open it; on any failure nothing is left behind.
    ``fps``: the production's frame rate (24, 25, "24000/1001", 23.976). A password in
    ``database_url`` is used to open the database now but not written to soundstage.toml (the
    next commands take it from SOUNDSTAGE_DATABASE_PASSWORD or ~/.pgpass). With
    SOUNDSTAGE_KEY_PASSPHRASE set, the signing key is written encrypted with it."""
    from soundstage.provenance.credentials import make_project_identity, provider_of  # c2pa (~50 MB): init only

    database_url, password = split_password(database_url)
    try:
        rate = frame_rate(fps)
    except ValueError as error:
        raise ConfigError(f"init {root}: fps {error}") from None
    if (root / SETTINGS_FILE).exists():
        raise ProductionError(f"{root}: already a production ({SETTINGS_FILE} exists)")
    if root.exists() and not root.is_dir():
        raise ProductionError(f"{root}: exists and is not a folder")
    credentials = root / Path(Credentials().certificate).parent
    files = (SETTINGS_FILE, DATABASE_FILE, f"{DATABASE_FILE}-wal", f"{DATABASE_FILE}-shm")
    ours = [name for name in files if not (root / name).exists()]
    made: list[Path] = []  # folders this call made; a folder made meanwhile by another init is not
    try:
        for folder in (root, root / MEDIA_DIR, root / LAYOUTS_DIR, credentials):
            with suppress(FileExistsError):
                folder.mkdir(parents=True)
                made.append(folder)
        try:
            # Created exclusively: of two inits of one folder at once, one makes the production
            # and the other is refused, and its clean-up below removes nothing of the first's.
            with (root / SETTINGS_FILE).open("x", encoding="utf-8") as settings:
                settings.write(default_toml(title, database_url, rate))
        except FileExistsError:
            ours, made = [], []  # another init's production now: its files and folders are kept
            raise ProductionError(f"{root}: already a production ({SETTINGS_FILE} exists)") from None
        # The signing identity of the production's content credentials (a project CA and a
        # signer); studios can point [credentials] at their own certificate instead.
        passphrase = load_settings(root).signing_passphrase()
        make_project_identity(credentials, provider_of(title), passphrase=passphrase)
        context = open_production(root, database_password=password, create=True)
        try:
            # Only init probes writing: read-only credentials are a fair way to open a
            # production (a review machine, an auditor), a probe on every open would cost each
            # command and worker a request, and rights can change after any probe, so a put
            # that is refused is one line of its own anyway. A new production must take media.
            context.media.check_writable()
        except BaseException:
            context.close()
            raise
        return context
    except BaseException as error:
        # Leave the folder as it was: remove exactly what this call made.
        for name in ours:
            with suppress(FileNotFoundError, NotADirectoryError):  # never made: nothing to remove
                (root / name).unlink()
        for folder in reversed(made):
            shutil.rmtree(folder, ignore_errors=True)
        if isinstance(error, OSError):  # a read-only disk, a missing parent the user cannot make
            raise ProductionError(f"{root}: cannot make the production: {error.strerror or error}") from None
        raise


def open_production(root: Path, *, database_password: str = "", create: bool = False) -> Context:
    """Open an existing production, migrating its database to the current schema.
    ``database_password``: the database's password when the environment gives none. ``create``:
    make the SQLite database when there is none (init only; see check_database_files)."""
    if root.is_file():  # -p pilot/soundstage.toml: "run soundstage init" on a file was wrong advice
        raise ProductionError(f"{root}: is a file; a production is the folder that holds {SETTINGS_FILE}")
    if not (root / SETTINGS_FILE).is_file():
        raise ProductionError(f"{root}: not a production (no {SETTINGS_FILE}); run: soundstage init {root}")
    settings = load_settings(root)
    if database_password and not settings.database_password.get_secret_value():
        settings = settings.model_copy(update={"database_password": SecretStr(database_password)})
    address = settings.database_address()
    if not address:
        check_database_files(root, create=create)
    engine = make_engine(address or sqlite_url(root / DATABASE_FILE))
    context = Context(root, settings, engine)
    try:
        context.media.check()  # an unreachable bucket is one line now, not a failure mid-way
        upgrade(engine)  # after the check: a production that cannot be used is not migrated
    except BaseException:
        context.close()
        raise
    return context


def check_database_files(root: Path, *, create: bool = False) -> None:
    """Raise ProductionError, naming the file or folder and what is wrong with it, when the
    production's SQLite database cannot be opened for writing.

    SQLite says only "unable to open database file" or "attempt to write a readonly database",
    and the second only once a command is half-way through its work. Every command may write,
    and in WAL mode even a reader writes the shared-memory file beside the database, so the
    folder and the files must be writable by whoever runs the command. ``os.access`` asks the
    kernel, so it sees what a plain mode check would miss (an immutable file, a read-only mount,
    root without CAP_DAC_OVERRIDE); a right lost after the check still fails in SQLite's words."""
    database = root / DATABASE_FILE
    for path in (database, root / f"{DATABASE_FILE}-wal", root / f"{DATABASE_FILE}-shm"):
        if path.is_dir():
            raise ProductionError(f"{path}: is a folder, not the production's SQLite database file")
    if not create and not database.exists():
        # SQLite would make a new empty database: a deleted or moved one must not look like a
        # production with nothing in it (the next import would start it over for good).
        raise ProductionError(
            f"{database}: missing; the production's SQLite database is not there (moved or deleted?),"
            " put it back to open the production"
        )
    if not os.access(root, os.W_OK | os.X_OK):
        raise ProductionError(
            f"{root}: cannot write in the production folder (read-only for this user); SQLite keeps"
            f" {DATABASE_FILE}-wal and {DATABASE_FILE}-shm beside the database, so the folder must be writable"
        )
    for path in (database, root / f"{DATABASE_FILE}-wal", root / f"{DATABASE_FILE}-shm"):
        if path.exists() and not os.access(path, os.R_OK | os.W_OK):
            raise ProductionError(f"{path}: cannot write the production's database file (read-only for this user)")


def media_store(folder: Path, settings: Media) -> MediaStore:
    """The production's media store: the folder, or a bucket read through the folder."""
    if not settings.url:
        return MediaStore(folder)
    from soundstage.store.bucket import BucketMediaStore

    return BucketMediaStore(
        folder, settings.url, endpoint=settings.endpoint, region=settings.region, allow_http=settings.allow_http
    )


def console() -> str:
    """The person at the production's own console, as the audit trail names them."""
    return f"{getpass.getuser()}@{socket.gethostname()}"
