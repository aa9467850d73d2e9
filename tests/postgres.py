"""A throwaway PostgreSQL server for the test session, or the one CI names.

``start_server()`` runs Debian's ``initdb`` and ``pg_ctl`` into a temporary folder owned
by an unprivileged user, listening on 127.0.0.1 on a free port with its unix socket in
that folder. ``Server.stop()`` shuts it down and removes the folder; it also runs at
interpreter exit, so an interrupted run leaves no server behind.

Tests get a database of their own for the session (``create_database``) and an empty
schema in it per test (``create_schema``): a schema costs about 1 ms where CREATE
DATABASE costs 130 ms, and a schema first on ``search_path`` is all a test can see.
"""

from __future__ import annotations

import atexit
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

# Set this to a URL with CREATEDB rights to test against a server started elsewhere (CI).
URL_VARIABLE = "SOUNDSTAGE_TEST_DATABASE_URL"

INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian package"
    f" 'postgresql' (apt-get install -y postgresql), or set {URL_VARIABLE} to a server's URL"
)

# The server lives for one test run: durability buys nothing, and without fsync a
# CREATE DATABASE or a migration does not wait for the disk.
_THROWAWAY_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


class PostgresUnavailable(RuntimeError):
    """No server could be started; the message says what to install or set."""


@dataclass(frozen=True)
class Server:
    """A running throwaway server; ``url`` is a superuser URL to its ``postgres`` database."""

    url: str
    folder: Path
    pg_ctl: Path
    run_as: tuple[str, ...]

    def stop(self) -> None:
        """Shut the server down (open sessions are cut) and remove its folder; idempotent."""
        if not self.folder.exists():
            return
        data = str(self.folder / "data")
        stop = [*self.run_as, str(self.pg_ctl), "stop", "-D", data, "-m", "fast", "-s"]
        subprocess.run(stop, capture_output=True, check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def server_binaries() -> tuple[Path, Path]:
    """``initdb`` and ``pg_ctl`` of the newest PostgreSQL installed; PostgresUnavailable if none."""
    # Debian keeps server binaries off PATH, one folder per major version; elsewhere
    # (a developer's Homebrew, say) they are on PATH.
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda initdb: int(initdb.parts[-3]) if initdb.parts[-3].isdigit() else 0,
    )
    on_path = shutil.which("initdb")
    initdb = debian[-1] if debian else Path(on_path) if on_path else None
    if initdb is None or not (initdb.parent / "pg_ctl").exists():
        raise PostgresUnavailable(INSTALL_HINT)
    return initdb, initdb.parent / "pg_ctl"


def start_server() -> Server:
    """Start a throwaway server (1 to 2 s) and return it."""
    initdb, pg_ctl = server_binaries()
    folder = Path(tempfile.mkdtemp(prefix="soundstage-pg-"))
    run_as = _unprivileged(folder)
    password = secrets.token_hex(16)
    (folder / "password").write_text(password)
    port = _free_port()
    server = Server(f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres", folder, pg_ctl, run_as)
    # Registered before the start, so that even an interrupted start is cleaned up.
    atexit.register(server.stop)
    data = str(folder / "data")
    initdb_options = [
        "-U",
        "postgres",
        "--pwfile",
        str(folder / "password"),
        "--auth-host=scram-sha-256",
        "--auth-local=peer",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync",
    ]
    _run("initdb", [*run_as, str(initdb), "-D", data, *initdb_options])
    settings = " ".join(
        f"-c {s}"
        for s in (
            f"port={port}",
            "listen_addresses=127.0.0.1",
            f"unix_socket_directories={folder}",
            *_THROWAWAY_SETTINGS,
        )
    )
    log = folder / "server.log"
    _run("pg_ctl start", [*run_as, str(pg_ctl), "start", "-D", data, "-l", str(log), "-w", "-s", "-o", settings], log)
    return server


def _unprivileged(folder: Path) -> tuple[str, ...]:
    # PostgreSQL refuses to run as root: as root, run it as 'postgres' (or 'nobody') and
    # give that user the folder.
    if os.geteuid() != 0:
        return ()
    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        os.chown(folder, user.pw_uid, user.pw_gid)
        return ("setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups")
    raise PostgresUnavailable("running as root, and there is no 'postgres' or 'nobody' user to run PostgreSQL as")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _run(label: str, command: list[str], log: Path | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        # pg_ctl only says "examine the log"; the reason (a port in use, say) is in the log.
        output = (result.stderr or result.stdout).strip().splitlines()
        if log is not None and log.exists():
            output = log.read_text().strip().splitlines()
        raise PostgresUnavailable(f"{label} failed (exit {result.returncode}): {' | '.join(output[-3:])}")


def create_database(server_url: str) -> str:
    """Create an empty database on the server at ``server_url``; return its URL."""
    name = f"soundstage_test_{secrets.token_hex(6)}"
    with psycopg.connect(_libpq(server_url), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, database_url: str) -> None:
    """Drop the database at ``database_url``, cutting any session still connected to it."""
    name = make_url(database_url).database or ""
    with psycopg.connect(_libpq(server_url), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def create_schema(database_url: str) -> str:
    """Create an empty schema in the database at ``database_url``; return a URL that sees only it."""
    name = f"test_{secrets.token_hex(6)}"
    with psycopg.connect(_libpq(database_url), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    url = make_url(database_url).update_query_dict({"options": f"-csearch_path={name}"})
    return url.render_as_string(hide_password=False)


def _libpq(url: str) -> str:
    # libpq reads postgresql:// URLs itself, but not SQLAlchemy's postgresql+psycopg://.
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def write_pgpass(server_url: str, path: Path) -> Path:
    """A libpq password file for the server at ``server_url`` (every database on it), mode
    0600 as libpq demands: productions made with ``init --database-url`` keep no password in
    soundstage.toml, so their later opens (and worker processes) find it here."""
    url = make_url(server_url)

    def field(value: object) -> str:
        return str(value).replace("\\", "\\\\").replace(":", "\\:")

    line = ":".join(field(v) for v in (url.host or "localhost", url.port or 5432, "*", url.username, url.password))
    path.write_text(line + "\n")
    path.chmod(0o600)
    return path
