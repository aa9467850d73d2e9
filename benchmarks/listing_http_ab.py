"""The 1,000-shot listing over HTTP, two versions side by side: GET /api/shots?limit=1000 from two
``soundstage serve`` processes (one worker each) on the same production, one running the source
tree at ``--before`` and one this checkout's, requests alternating so both see the same machine.

Run: .venv/bin/python benchmarks/listing_http_ab.py --before /tmp/old/src [--sqlite] [--requests 40]

(``git archive COMMIT src | tar -x -C /tmp/old`` makes such a tree.) Prints per version the
median and fastest answer and the server process's CPU time per request (/proc), and whether
both answered the same bytes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _review_data import build
from review_load import Served

from soundstage.project.production import open_production

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from postgres import create_database, start_server, write_pgpass  # noqa: E402

LISTING = "/api/shots?limit=1000"


def _cpu_ms(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the src folder of the version to compare with")
    parser.add_argument("--sqlite", action="store_true", help="on SQLite (default PostgreSQL)")
    parser.add_argument("--shots", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=40, help="requests to each server")
    args = parser.parse_args()
    if not (args.before / "soundstage").is_dir():
        print(f"{args.before}: no soundstage package there", file=sys.stderr)
        return 2
    server = None if args.sqlite else start_server()
    try:
        with tempfile.TemporaryDirectory(prefix="listing-ab-") as tmp:
            url = ""
            if server is not None:
                os.environ["PGPASSFILE"] = str(write_pgpass(server.url, Path(tmp) / "pgpass"))
                url = create_database(server.url)
            data = build(Path(tmp) / "production", shots=args.shots, database_url=url, reviewers=1, supervisors=1)
            if url:
                with open_production(data.root) as production, production.engine.connect() as connection:
                    connection.exec_driver_sql("ANALYZE")  # what autovacuum does a minute after the insert
                    connection.commit()
            print(run(data.root, data.tokens[data.reviewers[0]], args.before, args.requests))
    finally:
        if server is not None:
            server.stop()
    return 0


def run(root: Path, token: str, before: Path, requests: int) -> str:
    """Both servers, requests alternating; the report."""
    versions = {"before": str(before.resolve()), "after": str(ROOT / "src")}
    served = {}
    try:
        for name, source in versions.items():
            os.environ["PYTHONPATH"] = source  # the served process imports soundstage from here
            served[name] = Served(root, 1).__enter__()
        headers = {"Authorization": f"Bearer {token}"}
        clients = {name: httpx.Client(base_url=s.url, headers=headers, timeout=60) for name, s in served.items()}
        bodies = {name: [client.get(LISTING).content for _ in range(3)][-1] for name, client in clients.items()}
        ms: dict[str, list[float]] = {name: [] for name in clients}
        cpu = {name: _cpu_ms(s.process.pid) for name, s in served.items() if s.process}
        for _ in range(requests):
            for name, client in clients.items():
                started = time.perf_counter()
                client.get(LISTING).raise_for_status()
                ms[name].append((time.perf_counter() - started) * 1000)
        lines = [f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}"]
        for name, s in served.items():
            spent = (_cpu_ms(s.process.pid) - cpu[name]) / requests if s.process else float("nan")
            lines.append(
                f"{name}: median {statistics.median(ms[name]):.1f} ms, fastest {min(ms[name]):.1f} ms, "
                f"server CPU {spent:.1f} ms a request"
            )
        lines.append(f"same bytes: {bodies['before'] == bodies['after']} ({len(bodies['after']):,} bytes)")
        return "\n".join(lines)
    finally:
        for s in served.values():
            s.__exit__()


if __name__ == "__main__":
    raise SystemExit(main())
