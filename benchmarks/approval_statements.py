"""How many SQL statements one approval in the review room sends to the database, and which.

Run: .venv/bin/python benchmarks/approval_statements.py [--shots 200] [--approvals 5] [--sqlite] [--note] [--show]

Builds a production (_review_data.py) on a throwaway PostgreSQL (or SQLite with --sqlite),
serves it in process (the app of ``soundstage serve``, through Starlette's test client) and
sends approvals as the load benchmark does (POST /api/shots/{code}/decisions with an API token;
with ``--note`` its note with a status change instead),
counting the statements each request executes (SQLAlchemy's ``before_cursor_execute``: the
token lookup, the decision and the commit's flush). On PostgreSQL it also counts what the server
received (``log_statement = all`` on the database): those statements plus the driver's BEGIN,
COMMIT and ROLLBACK and the pool's pre-ping, each a round trip. ``--show`` prints one request's
statements in order.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
from _review_data import build
from fastapi.testclient import TestClient
from review_load import APPROVE, NOTE
from sqlalchemy import event
from sqlalchemy.engine import make_url

from soundstage.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from postgres import create_database, start_server, write_pgpass  # noqa: E402


def _shape(statement: str) -> str:
    """A statement's first words and its table, for the summary (parameters left out)."""
    flat = re.sub(r"\s+", " ", statement).strip()
    return flat[:110]


def count(root: Path, codes: list[str], token: str, show: bool, log: Path | None, note: bool) -> list[tuple[int, int]]:
    """(statements, round trips the server logged, or 0 without ``log``) per approval (or note
    with a status change) of each shot in ``codes``."""
    app = create_app(root)
    engine = app.state.production.engine
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    counts = []
    with TestClient(app) as http:
        headers = {"Authorization": f"Bearer {token}"}
        for n, code in enumerate(codes):
            seen.clear()
            offset = log.stat().st_size if log else 0
            path, body = (f"/api/shots/{code}/notes", NOTE) if note else (f"/api/shots/{code}/decisions", APPROVE)
            answer = http.post(path, json=body, headers=headers)
            if answer.status_code >= 300:
                raise RuntimeError(f"approve {code}: {answer.status_code} {answer.text[:200]}")
            logged = _logged(log, offset) if log else []
            counts.append((len(seen), len(logged)))
            if show and n == len(codes) - 1:
                for i, statement in enumerate(seen, 1):
                    print(f"{i:3d}  {_shape(statement)}")
                for i, line in enumerate(logged, 1):
                    print(f"server {i:3d}  {line[:100]}")
                print(Counter(_shape(s).split(" ")[0] for s in seen))
    event.remove(engine, "before_cursor_execute", record)
    return counts


def _logged(log: Path, offset: int) -> list[str]:
    """The statements the server logged after ``offset`` (it writes its log a moment later)."""
    time.sleep(0.3)
    with open(log, encoding="utf-8", errors="replace") as file:
        file.seek(offset)
        text = file.read()
    return [m.group(1) for m in re.finditer(r"LOG:  (?:statement|execute [^:]*): (.*)", text)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=200)
    parser.add_argument("--approvals", type=int, default=5)
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--note", action="store_true", help="a note with a status change instead of an approval")
    parser.add_argument("--show", action="store_true", help="print the last request's statements")
    args = parser.parse_args()
    server = None if args.sqlite else start_server()
    try:
        with tempfile.TemporaryDirectory(prefix="approval-statements-") as tmp:
            url = ""
            if server is not None:
                os.environ["PGPASSFILE"] = str(write_pgpass(server.url, Path(tmp) / "pgpass"))
                url = create_database(server.url)
            data = build(Path(tmp) / "production", shots=args.shots, database_url=url, reviewers=1, supervisors=1)
            if server is not None:
                # New connections (the app's) log every statement they send.
                with psycopg.connect(
                    make_url(server.url).set(drivername="postgresql").render_as_string(False), autocommit=True
                ) as admin:
                    name = make_url(url).database
                    admin.execute(f"ALTER DATABASE \"{name}\" SET log_statement = 'all'")
            log = server.folder / "server.log" if server is not None else None
            counts = count(
                data.root, data.undecided[: args.approvals], data.tokens[data.supervisors[0]], args.show, log, args.note
            )
    finally:
        if server is not None:
            server.stop()
    where = "SQLite" if args.sqlite else "PostgreSQL"
    what = "note with a status change" if args.note else "approval"
    print(f"{where}: statements per {what} {[s for s, _ in counts]}")
    if not args.sqlite:
        print(f"{where}: round trips per {what}, as the server logged them {[r for _, r in counts]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
