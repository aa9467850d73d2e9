"""The review room under load, against Kitsu's backend (zou) as the peer, in one run.

Run: .venv/bin/python benchmarks/review_load.py [--quick] [--no-zou] [--zou-venv PATH]
Prints markdown tables for docs/benchmarks.md, with the machine noted. Exits 2, saying how to
install it, when zou is missing (it needs a virtual environment of its own: see zou_peer.py).

1. Load: a production of 2,000 shots and 10,000 takes (_review_data.py), served by
   ``soundstage serve`` (uvicorn, a process of its own) on 127.0.0.1, on SQLite and on
   PostgreSQL; reviewers with API tokens send one operation at a time: the board (GET /api/shots
   with filters), the shot page (GET /api/shots/{code}), a note with a status change, an
   approval, and the unfiltered board of 1,000 shots. Each operation three ways: one client
   alone; 50 clients at once, each sending its next request the moment the last is answered
   (the server saturated); and 50 reviewers at a reviewer's pace (a random pause, 2 s on
   average, between requests). p50 and p99 latency each.
2. The same against zou in the same run: create a shot, a comment with a task status change,
   list 1,000 shots with their tasks; and the ratios.
3. Bulk work is linear: the bulk insert of 1,000 and 10,000 shots (five takes each) on both
   databases; Production.plan on scripts of 1,000 and 10,000 shots (how shots are made);
   approving a whole playlist (POST /api/playlists/{id}/approve) of 100 and of 1,000 takes.

The load generator runs on the same machine as the servers and takes CPU from them, for both
sides alike; the load average printed with the table says how busy the machine was.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import zou_peer
from _review_data import ReviewData, build, fountain

from soundstage.project import Production

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from postgres import create_database, start_server, write_pgpass  # noqa: E402

CLIENTS = 50
THINK_S = 2.0  # a reviewer's mean pause between requests, at their pace
# A note with a drawing on frame 12 of the newest take, sending the shot back.
NOTE = {
    "body": "warmer key light, and hold the look two frames longer",
    "frame": 12,
    "shapes": [{"tool": "pen", "points": [[0.1, 0.2], [0.15, 0.24], [0.2, 0.3]], "colour": "#ff3b30", "width": 0.004}],
    "status": "changes requested",
}
APPROVE = {"action": "approve", "note": ""}
SERVER_START_S = 180.0  # several workers on a busy 2-core machine take more than a minute to start

Call = tuple[str, str, dict[str, Any] | None]  # method, path (with query), JSON body


@dataclass(slots=True)
class Timings:
    """Latencies of one operation in one phase."""

    operation: str
    ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0  # wall time of the whole phase

    def p(self, q: float) -> float:
        """The ``q``-th percentile (0..100) in ms, nearest rank."""
        ordered = sorted(self.ms)
        return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]

    def cells(self) -> str:
        """ "p50 / p99 ms", with the failures if any."""
        failed = f" ({len(self.failures)} failed: {self.failures[0][:70]})" if self.failures else ""
        return f"{self.p(50):.1f} / {self.p(99):.1f} ms{failed}"


@dataclass(frozen=True, slots=True)
class Phases:
    """One operation alone, with clients at once, and with reviewers at their pace."""

    alone: Timings
    at_once: Timings
    paced: Timings


async def _load(
    base_url: str, operation: str, calls: Sequence[Call], tokens: Sequence[str], clients: int, think_s: float
) -> Timings:
    """Send ``calls`` from ``clients`` concurrent clients (client i speaks with ``tokens[i % n]``),
    each pausing a random time of mean ``think_s`` before each request (none when 0). Answers
    other than 2xx, and dropped connections, are counted as failures."""
    timings = Timings(operation)
    queue = list(reversed(calls))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as http:

        async def client(number: int) -> None:
            pauses = random.Random(number)
            headers = {"Authorization": f"Bearer {tokens[number % len(tokens)]}"}
            while queue:
                if think_s:
                    await asyncio.sleep(pauses.expovariate(1 / think_s))
                    if not queue:
                        return
                method, path, body = queue.pop()
                started = time.perf_counter()
                try:
                    answer = await http.request(method, path, json=body, headers=headers)
                except httpx.TransportError as error:
                    timings.failures.append(f"{method} {path}: {type(error).__name__} {error}")
                    continue
                timings.ms.append((time.perf_counter() - started) * 1000)
                if answer.status_code >= 300:
                    timings.failures.append(f"{method} {path}: {answer.status_code} {answer.text[:160]}")

        started = time.perf_counter()
        await asyncio.gather(*(client(n) for n in range(clients)))
        timings.seconds = time.perf_counter() - started
    return timings


def load(
    base_url: str, operation: str, calls: Sequence[Call], tokens: Sequence[str], clients: int, think_s: float = 0.0
) -> Timings:
    """``_load`` from synchronous code."""
    return asyncio.run(_load(base_url, operation, calls, tokens, clients, think_s))


@dataclass(frozen=True, slots=True)
class Counts:
    """How many requests each phase sends."""

    alone: int
    at_once: int
    paced: int
    whole_board: tuple[int, int, int]  # the unfiltered 1,000-shot board: alone, at once, paced
    playlists: tuple[int, int]  # playlist sizes approved in bulk


FULL = Counts(alone=50, at_once=250, paced=250, whole_board=(20, 100, 100), playlists=(100, 1000))
QUICK = Counts(alone=10, at_once=50, paced=50, whole_board=(5, 20, 20), playlists=(20, 200))


def phases(
    base_url: str,
    operation: str,
    make: Callable[[int], list[Call]],
    tokens: list[str],
    counts: Sequence[int],
    clients: int,
) -> Phases:
    """An operation alone, at once and paced; ``make(n)`` gives n requests, ``counts`` how many each."""
    alone, at_once, paced = counts
    return Phases(
        load(base_url, operation, make(alone), tokens, 1),
        load(base_url, operation, make(at_once), tokens, clients),
        load(base_url, operation, make(paced), tokens, clients, THINK_S),
    )


# -- Soundstage ---------------------------------------------------------------------------------


class Served:
    """``soundstage serve`` of a production in a subprocess on a free loopback port."""

    def __init__(self, root: Path, workers: int = 1) -> None:
        self.root = root
        self.workers = workers
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = root.parent / f"{root.name}-serve.log"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Served:
        command = [
            sys.executable, "-m", "soundstage", "--production", str(self.root),
            "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers),
        ]  # fmt: skip
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + SERVER_START_S
        while True:
            try:
                if httpx.get(f"{self.url}/login").status_code == 200:  # /openapi.json is off by default
                    return self
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"soundstage serve did not start: {self.log.read_text()[-600:]}")
            time.sleep(0.2)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def board_calls(data: ReviewData, count: int) -> list[Call]:
    """Board requests with each filter in turn (a page of 200 cards, as the board asks)."""
    scenes = sorted({int(code.split("_")[0]) for code in data.shots})
    filters = ["status=pending%20review", "character=JUNO", "assignee=ana", "", "scene={scene}"]
    return [
        ("GET", f"/api/shots?{filters[i % len(filters)].format(scene=scenes[i % len(scenes)])}&limit=200", None)
        for i in range(count)
    ]


OPERATIONS = ("board", "shot", "note", "approval", "whole")  # soundstage_load's, in its order


def soundstage_load(
    data: ReviewData, base_url: str, counts: Counts, clients: int, whole: int, operations: Sequence[str] = OPERATIONS
) -> list[Phases]:
    """Every operation (or those named in ``operations``) on one served production; ``whole`` is
    the size of the unfiltered board page (as many shots as the peer lists)."""
    rng = random.Random(7)
    reviewers = [data.tokens[n] for n in data.reviewers]
    supervisors = [data.tokens[n] for n in data.supervisors]
    decidable = list(data.undecided)
    rng.shuffle(decidable)

    def to_decide(count: int) -> list[str]:
        # Each shot is decided on once: a second approval of it would rightly be refused.
        if count > len(decidable):
            raise RuntimeError(f"only {len(decidable)} shots left to decide on, {count} wanted")
        taken, decidable[:] = decidable[:count], decidable[count:]
        return taken

    each = (counts.alone, counts.at_once, counts.paced)
    loads = {
        "board": lambda: phases(base_url, "board (GET /api/shots, filtered, 200 cards)",
                                lambda n: board_calls(data, n), reviewers, each, clients),
        "shot": lambda: phases(base_url, "shot page (GET /api/shots/{code})",
                               lambda n: [("GET", f"/api/shots/{rng.choice(data.shots)}", None) for _ in range(n)],
                               reviewers, each, clients),
        "note": lambda: phases(base_url, "note with a status change (POST /api/shots/{code}/notes)",
                               lambda n: [("POST", f"/api/shots/{c}/notes", NOTE) for c in to_decide(n)],
                               supervisors, each, clients),
        "approval": lambda: phases(base_url, "approval (POST /api/shots/{code}/decisions)",
                                   lambda n: [("POST", f"/api/shots/{c}/decisions", APPROVE) for c in to_decide(n)],
                                   supervisors, each, clients),
        "whole": lambda: phases(base_url, f"{whole:,} shots with their takes (GET /api/shots?limit={whole})",
                                lambda n: [("GET", f"/api/shots?limit={whole}", None)] * n,
                                reviewers, counts.whole_board, clients),
    }  # fmt: skip
    return [loads[name]() for name in OPERATIONS if name in operations]


def playlist_approvals(data: ReviewData, base_url: str, sizes: Sequence[int]) -> list[tuple[int, float]]:
    """(takes, seconds) to approve a whole playlist of each size: one request each, after making it."""
    producer = {"Authorization": f"Bearer {data.tokens[data.producer]}"}
    undecided, results = list(data.undecided), []
    with httpx.Client(base_url=base_url, headers=producer, timeout=600) as http:
        for size in sizes:
            codes, undecided = undecided[:size], undecided[size:]
            if len(codes) < size:
                raise RuntimeError(f"only {len(codes)} undecided shots left for a playlist of {size}")
            made = http.post("/api/playlists", json={"name": f"dailies {size}", "takes": [f"{c}/5" for c in codes]})
            made.raise_for_status()
            started = time.perf_counter()
            answer = http.post(f"/api/playlists/{made.json()['id']}/approve", json={"note": "", "override_reason": ""})
            seconds = time.perf_counter() - started
            answer.raise_for_status()
            if len(answer.json()["approved"]) != size:
                raise RuntimeError(f"playlist of {size}: approved {len(answer.json()['approved'])}")
            results.append((size, seconds))
    return results


# -- bulk linearity -------------------------------------------------------------------------------


def insert_linearity(
    folder: Path, database_url: Callable[[], str], sizes: Sequence[int]
) -> list[tuple[int, int, float]]:
    """(shots, takes, seconds) of the bulk insert at each size, each into a fresh production."""
    results = []
    for size in sizes:
        url = database_url()
        root = folder / f"insert-{size}-{'postgresql' if url else 'sqlite'}"
        data = build(root, shots=size, database_url=url, reviewers=0, supervisors=0)
        results.append((size, data.takes, data.insert_seconds))
    return results


def plan_linearity(folder: Path, scenes: Sequence[int]) -> list[tuple[int, float]]:
    """(shots planned, seconds) of ``Production.plan`` on generated scripts of each scene count."""
    results = []
    for count in scenes:
        script = folder / f"plan-{count}.fountain"
        script.write_text(fountain(count), encoding="utf-8")
        with Production.init(folder / f"plan-{count}") as production:
            production.import_script(script)
            started = time.perf_counter()
            report = production.plan()
            results.append((report.shots, time.perf_counter() - started))
    return results


# -- zou -------------------------------------------------------------------------------------------


def zou_load(venv: Path, shots: int, counts: Counts, clients: int) -> tuple[Timings, Timings, Phases, Phases]:
    """Create ``shots`` shots in a new zou project (alone, then the rest at once), give each an
    Animation task, then comment with a status change and list the shots with their tasks."""
    with zou_peer.ZouServer(venv) as zou, zou.client() as http:
        project = zou_peer.new_project(http, "review load")
        tokens = [zou.token]  # every client is zou's admin (the routes' permission checks still run)
        creations = [zou_peer.create_shot_call(project, i) for i in range(shots)]
        created_alone = load(zou.url, "create a shot", creations[: counts.alone], tokens, 1)
        created_at_once = load(zou.url, "create a shot", creations[counts.alone :], tokens, clients)
        zou_peer.create_tasks(http, project)
        tasks = random.Random(7).sample(project.tasks, counts.alone + counts.at_once + counts.paced)

        def comments(count: int) -> list[Call]:
            taken, tasks[:] = tasks[:count], tasks[count:]
            return [zou_peer.comment_call(project, task) for task in taken]

        each = (counts.alone, counts.at_once, counts.paced)
        commented = phases(zou.url, "comment with a status change", comments, tokens, each, clients)
        listed = phases(
            zou.url,
            f"{shots:,} shots with their tasks (GET /data/shots/with-tasks)",
            lambda n: [zou_peer.list_call(project)] * n,
            tokens,
            counts.whole_board,
            clients,
        )
    return created_alone, created_at_once, commented, listed


# -- the run ---------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests and smaller sizes (a smoke run)")
    parser.add_argument("--no-zou", action="store_true", help="leave out the zou peer")
    parser.add_argument("--zou-venv", type=Path, default=zou_peer.DEFAULT_VENV)
    parser.add_argument("--clients", type=int, default=CLIENTS, help="concurrent clients under load")
    parser.add_argument("--shots", type=int, default=0, help="shots in the load production (default 2,000; 400 quick)")
    parser.add_argument("--postgres-only", action="store_true", help="leave out the SQLite production")
    parser.add_argument("--load-only", action="store_true", help="only the load tables (no bulk-linearity runs)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (soundstage serve --workers)")
    parser.add_argument(
        "--operations",
        default=",".join(OPERATIONS),
        help=f"which load operations, comma-separated (default all: {','.join(OPERATIONS)})",
    )
    args = parser.parse_args()
    if not args.no_zou and args.operations != ",".join(OPERATIONS):
        print("--operations leaves out what zou is compared with: add --no-zou", file=sys.stderr)
        return 2
    if not args.no_zou and (why := zou_peer.missing(args.zou_venv)):
        print(f"{why}\n{zou_peer.INSTALL_HINT}", file=sys.stderr)
        return 2
    server = start_server()
    try:
        with tempfile.TemporaryDirectory(prefix="review-load-") as tmp:
            # Productions keep no database password: the served processes find it in a pgpass file.
            os.environ["PGPASSFILE"] = str(write_pgpass(server.url, Path(tmp) / "pgpass"))
            print(run(Path(tmp), server.url, args))
    finally:
        server.stop()
    return 0


def run(folder: Path, postgres: str, args: argparse.Namespace) -> str:
    """Every measurement, on SQLite and on the PostgreSQL server at ``postgres``; the report."""
    counts = QUICK if args.quick else FULL
    shots = args.shots or (400 if args.quick else 2000)
    insert_sizes = (200, 2000) if args.quick else (1000, 10000)
    plan_scenes = (100, 1000) if args.quick else (500, 5000)  # two shots a scene
    zou_shots = 200 if args.quick else 1000
    databases: dict[str, Callable[[], str]] = {"SQLite": lambda: "", "PostgreSQL": lambda: create_database(postgres)}
    if args.postgres_only:
        del databases["SQLite"]

    loads: dict[str, list[Phases]] = {}
    playlists: dict[str, list[tuple[int, float]]] = {}
    for name, url in databases.items():
        data = build(folder / f"load-{name}", shots=shots, database_url=url(), reviewers=CLIENTS)
        with Served(data.root, args.workers) as served:
            operations = [o.strip() for o in args.operations.split(",")]
            loads[name] = soundstage_load(data, served.url, counts, args.clients, zou_shots, operations)
        # A production of its own: the load above decided on most of the shots waiting for review.
        print(f"{name}: load measured", file=sys.stderr)
        if args.load_only:
            continue
        data = build(folder / f"playlist-{name}", shots=shots, database_url=url(), reviewers=0, supervisors=0)
        with Served(data.root) as served:
            playlists[name] = playlist_approvals(data, served.url, counts.playlists)
    zou = None if args.no_zou else zou_load(args.zou_venv, zou_shots, counts, args.clients)
    inserts = (
        {} if args.load_only else {name: insert_linearity(folder, url, insert_sizes) for name, url in databases.items()}
    )
    planned = [] if args.load_only else plan_linearity(folder, plan_scenes)
    return report(args, counts, shots, loads, zou, inserts, planned, playlists)


def report(
    args: argparse.Namespace,
    counts: Counts,
    shots: int,
    loads: dict[str, list[Phases]],
    zou: tuple[Timings, Timings, Phases, Phases] | None,
    inserts: dict[str, list[tuple[int, int, float]]],
    planned: list[tuple[int, float]],
    playlists: dict[str, list[tuple[int, float]]],
) -> str:
    """The markdown tables."""
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    busy = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    n = args.clients
    lines = [
        f"# review room: {shots:,} shots, {shots * 5:,} takes; {machine}; {args.workers} server process(es);"
        f" load average at the end {busy}",
        "",
        f"p50 / p99: one client alone; {n} clients at once (each sends its next request when answered);"
        f" {n} reviewers at their pace (a random pause of {THINK_S:g} s on average between requests)."
        " Loopback, API tokens.",
        "",
        f"| operation | server | alone | {n} at once | {n} at once: throughput | {n} at their pace |",
        "| --- | --- | --- | --- | --- | --- |",
    ]

    def row(where: str, p: Phases) -> str:
        rate = len(p.at_once.ms) / p.at_once.seconds
        return f"| {p.alone.operation} | {where} | {p.alone.cells()} | {p.at_once.cells()} | {rate:.0f}/s | {p.paced.cells()} |"

    for name, results in loads.items():
        lines += [row(f"Soundstage, {name}", p) for p in results]
    if zou is not None:
        created_alone, created_at_once, commented, listed = zou
        rate = len(created_at_once.ms) / created_at_once.seconds
        lines.append(
            f"| create a shot (POST /data/projects/{{id}}/shots) | zou, PostgreSQL | {created_alone.cells()} |"
            f" {created_at_once.cells()} | {rate:.0f}/s | |"
        )
        lines += [row("zou, PostgreSQL", p) for p in (commented, listed)]

    lines += ["", "| bulk work | size | seconds | per item |", "| --- | --- | --- | --- |"]
    for name, rows in inserts.items():
        lines += [
            f"| bulk insert, {name} | {size:,} shots + {takes:,} takes | {s:.2f} s | {s / size * 1000:.3f} ms/shot |"
            for size, takes, s in rows
        ]
    lines += [
        f"| Production.plan, SQLite | {size:,} shots | {s:.2f} s | {s / size * 1000:.3f} ms/shot |"
        for size, s in planned
    ]
    for name, rows in playlists.items():
        lines += [
            f"| approve a whole playlist, {name} | {size:,} takes | {s:.2f} s | {s / size * 1000:.2f} ms/take |"
            for size, s in rows
        ]

    if zou is not None:
        created_alone, _, commented, listed = zou
        pg = loads["PostgreSQL"]
        note, whole = pg[2], pg[4]
        plan_ms = planned[-1][1] / planned[-1][0] * 1000 if planned else float("nan")
        lines += [
            "",
            "| against zou (p50; both on PostgreSQL) | zou | Soundstage | zou / Soundstage |",
            "| --- | --- | --- | --- |",
        ]
        pairs = [
            ("a comment / a note with a status change, alone", commented.alone, note.alone),
            (f"the same, {n} at once", commented.at_once, note.at_once),
            (f"the same, {n} at their pace", commented.paced, note.paced),
            (f"{listed.alone.operation.split(' (')[0]} / takes, alone", listed.alone, whole.alone),
            (f"the same, {n} at once", listed.at_once, whole.at_once),
            (f"the same, {n} at their pace", listed.paced, whole.paced),
        ]
        lines += [
            f"| {label} | {z.p(50):.1f} ms | {s.p(50):.1f} ms | {z.p(50) / s.p(50):.1f}x |" for label, z, s in pairs
        ]
        lines.append(
            "| create a shot (zou: POST one shot; Soundstage has no such route: Production.plan, per shot) |"
            f" {created_alone.p(50):.1f} ms | {plan_ms:.2f} ms | {created_alone.p(50) / plan_ms:.0f}x |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
