"""The review room under load, against Kitsu's backend (zou) as the peer, in one run.

Run: .venv/bin/python benchmarks/review_load.py [--quick] [--no-zou] [--zou-venv PATH]
Prints markdown tables for docs/benchmarks.md, with the machine noted.

1. Bulk work is linear: the bulk insert of 1,000 and 10,000 shots (five takes each) on SQLite
   and PostgreSQL; planning scripts of about 1,000 and 10,000 shots (how shots are made).
2. Load: a production of 2,000 shots and 10,000 takes, served by ``soundstage serve`` (uvicorn,
   a process of its own) on 127.0.0.1, on SQLite and on PostgreSQL; 50 reviewers, each with an
   API token, send requests at once (a closed loop: each sends its next request as soon as the
   last one is answered), one operation at a time: the board (GET /api/shots with filters), the
   shot page (GET /api/shots/{code}), a note with a status change, an approval, and the whole
   board of 1,000 shots. p50 and p99 latency per operation.
3. Approving a whole playlist (POST /api/playlists/{id}/approve) of 100 and of 1,000 takes.
4. The same operations against zou in the same run, with the same 50 clients: create a shot,
   a comment with a task status change, list 1,000 shots with their tasks; and the ratios.

The load generator runs on the same machine as the servers and takes CPU from them, for both
sides alike.
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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import zou_peer
from _review_data import ReviewData, build, fountain

from soundstage.project import Production

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from postgres import create_database, start_server  # noqa: E402

REVIEWERS = 50
# Request body of a note with a drawing on frame 12 of the newest take, sending the shot back.
NOTE = {
    "body": "warmer key light, and hold the look two frames longer",
    "frame": 12,
    "shapes": [{"tool": "pen", "points": [[0.1, 0.2], [0.15, 0.24], [0.2, 0.3]], "colour": "#ff3b30", "width": 0.004}],
    "status": "changes requested",
}
APPROVE = {"action": "approve", "note": ""}
SERVER_START_S = 60.0

Call = tuple[str, str, dict[str, Any] | None]  # method, path (with query), JSON body


@dataclass(slots=True)
class Timings:
    """Latencies of one operation under load."""

    operation: str
    ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0  # wall time of the whole phase

    def p(self, q: float) -> float:
        """The ``q``-th percentile (0..100) in ms, nearest rank."""
        ordered = sorted(self.ms)
        return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def _load(base_url: str, operation: str, calls: Sequence[Call], tokens: Sequence[str], clients: int) -> Timings:
    """Send ``calls`` from ``clients`` concurrent clients (client i speaks with ``tokens[i % n]``);
    answers other than 2xx are counted as failures (and timed like the rest)."""
    timings = Timings(operation)
    queue = list(reversed(calls))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as http:

        async def client(number: int) -> None:
            headers = {"Authorization": f"Bearer {tokens[number % len(tokens)]}"}
            while queue:
                method, path, body = queue.pop()
                started = time.perf_counter()
                answer = await http.request(method, path, json=body, headers=headers)
                timings.ms.append((time.perf_counter() - started) * 1000)
                if answer.status_code >= 300:
                    timings.failures.append(f"{method} {path}: {answer.status_code} {answer.text[:160]}")

        started = time.perf_counter()
        await asyncio.gather(*(client(n) for n in range(clients)))
        timings.seconds = time.perf_counter() - started
    return timings


def load(base_url: str, operation: str, calls: Sequence[Call], tokens: Sequence[str], clients: int) -> Timings:
    """``_load`` from synchronous code."""
    return asyncio.run(_load(base_url, operation, calls, tokens, clients))


# -- Soundstage ---------------------------------------------------------------------------------


class Served:
    """``soundstage serve`` of a production in a subprocess on a free loopback port."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = root.parent / f"{root.name}-serve.log"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Served:
        command = [
            sys.executable, "-m", "soundstage", "--production", str(self.root),
            "serve", "--host", "127.0.0.1", "--port", str(self.port),
        ]  # fmt: skip
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + SERVER_START_S
        while True:
            try:
                if httpx.get(f"{self.url}/openapi.json").status_code == 200:
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


@dataclass(frozen=True, slots=True)
class Counts:
    """How many requests each phase sends: one client after another (``alone``), then ``clients``
    at once (``loaded``)."""

    alone: int
    loaded: int
    full_board_alone: int
    full_board_loaded: int
    playlists: tuple[int, int]


FULL = Counts(alone=100, loaded=300, full_board_alone=20, full_board_loaded=100, playlists=(100, 1000))
QUICK = Counts(alone=20, loaded=60, full_board_alone=5, full_board_loaded=20, playlists=(20, 200))


def board_calls(data: ReviewData, count: int) -> list[Call]:
    """Board requests with each filter in turn (a page of 200 cards, as the board asks)."""
    scenes = sorted({int(code.split("_")[0]) for code in data.shots})
    filters = ["status=pending%20review", "character=JUNO", "assignee=ana", "", "scene={scene}"]
    return [
        ("GET", f"/api/shots?{filters[i % len(filters)].format(scene=scenes[i % len(scenes)])}&limit=200", None)
        for i in range(count)
    ]


def soundstage_load(
    data: ReviewData, base_url: str, counts: Counts, clients: int, whole: int
) -> list[tuple[Timings, Timings]]:
    """Each operation alone, then under load: [(alone, loaded), ...]; ``whole`` is the size of the
    unfiltered board page (as many shots as the peer lists)."""
    rng = random.Random(7)
    reviewers = [data.tokens[n] for n in data.reviewers]
    supervisors = [data.tokens[n] for n in data.supervisors]
    decidable = list(data.undecided)
    rng.shuffle(decidable)

    def both(operation: str, make: Any, tokens: list[str], alone: int, loaded: int) -> tuple[Timings, Timings]:
        return (
            load(base_url, operation, make(alone), tokens, 1),
            load(base_url, operation, make(loaded), tokens, clients),
        )

    def shots_to_decide(count: int) -> list[str]:
        taken, decidable[:] = decidable[:count], decidable[count:]
        return taken

    results = [
        both("board (GET /api/shots, filtered, 200 cards)", lambda n: board_calls(data, n), reviewers,
             counts.alone, counts.loaded),
        both("shot page (GET /api/shots/{code})",
             lambda n: [("GET", f"/api/shots/{rng.choice(data.shots)}", None) for _ in range(n)], reviewers,
             counts.alone, counts.loaded),
        both("note with a status change (POST .../notes)",
             lambda n: [("POST", f"/api/shots/{c}/notes", NOTE) for c in shots_to_decide(n)], supervisors,
             counts.alone, counts.loaded),
        both("approval (POST .../decisions)",
             lambda n: [("POST", f"/api/shots/{c}/decisions", APPROVE) for c in shots_to_decide(n)], supervisors,
             counts.alone, counts.loaded),
        both(f"{whole:,} shots with their takes (GET /api/shots?limit={whole})",
             lambda n: [("GET", f"/api/shots?limit={whole}", None)] * n, reviewers,
             counts.full_board_alone, counts.full_board_loaded),
    ]  # fmt: skip
    return results


def playlist_approvals(data: ReviewData, base_url: str, sizes: tuple[int, int]) -> list[tuple[int, float]]:
    """Seconds to approve a whole playlist of each size (one request each, after making it)."""
    producer = {"Authorization": f"Bearer {data.tokens[data.producer]}"}
    results = []
    undecided = list(data.undecided)
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


def insert_linearity(folder: Path, database_url: str, sizes: Sequence[int]) -> list[tuple[int, int, float]]:
    """(shots, takes, seconds) of the bulk insert at each size, each into a fresh production."""
    results = []
    for size in sizes:
        url = create_database(database_url) if database_url else ""
        data = build(
            folder / f"insert-{size}-{'pg' if url else 'sqlite'}",
            shots=size,
            database_url=url,
            reviewers=0,
            supervisors=0,
        )
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


def zou_load(venv: Path, shots: int, counts: Counts, clients: int) -> list[tuple[Timings, Timings]]:
    """Create ``shots`` shots in a new zou project (the first ``counts.alone`` one at a time), then
    comments with a status change and the list of shots with tasks, alone and under load."""
    with zou_peer.ZouServer(venv) as zou, zou.client() as http:
        project = zou_peer.new_project(http, "review load")
        tokens = [zou.token]  # every client is zou's admin: the route's own permission checks stay in
        calls = [zou_peer.create_shot_call(project, i) for i in range(shots)]
        created = (
            load(zou.url, "create a shot", calls[: counts.alone], tokens, 1),
            load(zou.url, "create a shot", calls[counts.alone :], tokens, clients),
        )
        zou_peer.create_tasks(http, project)
        tasks = random.Random(7).sample(project.tasks, counts.alone + counts.loaded)
        comments = [zou_peer.comment_call(project, task) for task in tasks]
        commented = (
            load(zou.url, "comment with a status change", comments[: counts.alone], tokens, 1),
            load(zou.url, "comment with a status change", comments[counts.alone :], tokens, clients),
        )
        listing = zou_peer.list_call(project)
        listed = (
            load(zou.url, f"{shots:,} shots with their tasks", [listing] * counts.full_board_alone, tokens, 1),
            load(zou.url, f"{shots:,} shots with their tasks", [listing] * counts.full_board_loaded, tokens, clients),
        )
    return [created, commented, listed]


# -- report ----------------------------------------------------------------------------------------


def _cells(t: Timings) -> str:
    failed = f" ({len(t.failures)} failed: {t.failures[0][:60]})" if t.failures else ""
    return f"{t.p(50):.1f} / {t.p(99):.1f} ms{failed}"


def _load_row(name: str, where: str, alone: Timings, loaded: Timings) -> str:
    rate = len(loaded.ms) / loaded.seconds
    return f"| {name} | {where} | {_cells(alone)} | {_cells(loaded)} | {rate:.0f}/s |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests and smaller sizes (a smoke run)")
    parser.add_argument("--no-zou", action="store_true", help="leave out the zou peer")
    parser.add_argument("--zou-venv", type=Path, default=zou_peer.DEFAULT_VENV)
    parser.add_argument("--clients", type=int, default=REVIEWERS, help="concurrent clients under load")
    args = parser.parse_args()
    if not args.no_zou and (why := zou_peer.missing(args.zou_venv)):
        print(f"{why}\n{zou_peer.INSTALL_HINT}", file=sys.stderr)
        return 2
    server = start_server()
    try:
        with tempfile.TemporaryDirectory(prefix="review-load-") as tmp:
            print(run(Path(tmp), server.url, args))
    finally:
        server.stop()
    return 0


def run(folder: Path, postgres: str, args: argparse.Namespace) -> str:
    """Every measurement, on SQLite and on the PostgreSQL server at ``postgres``; the markdown report."""
    counts = QUICK if args.quick else FULL
    shots = 400 if args.quick else 2000
    insert_sizes = (200, 2000) if args.quick else (1000, 10000)
    plan_scenes = (100, 1000) if args.quick else (500, 5000)  # two shots a scene
    zou_shots = 200 if args.quick else 1000
    databases = {"SQLite": lambda: "", "PostgreSQL": lambda: create_database(postgres)}

    inserts = {name: insert_linearity(folder, url(), insert_sizes) for name, url in databases.items()}
    planned = plan_linearity(folder, plan_scenes)
    loads, playlists = {}, {}
    for name, url in databases.items():
        data = build(folder / f"load-{name}", shots=shots, database_url=url(), reviewers=REVIEWERS)
        with Served(data.root) as served:
            loads[name] = soundstage_load(data, served.url, counts, args.clients, zou_shots)
        # A production of its own: the load above decided on most shots waiting for review.
        data = build(folder / f"playlist-{name}", shots=shots, database_url=url(), reviewers=0, supervisors=0)
        with Served(data.root) as served:
            playlists[name] = playlist_approvals(data, served.url, counts.playlists)
        print(f"{name}: measured", file=sys.stderr)
    zou = None if args.no_zou else zou_load(args.zou_venv, zou_shots, counts, args.clients)

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    load_average = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        f"# review room: {shots:,} shots, {shots * 5:,} takes; {machine}; load average at the end {load_average}",
        "",
        f"p50 / p99 latency: one client alone ({counts.alone} requests), then {args.clients} clients at once"
        f" ({counts.loaded}; each sends its next request when answered); loopback, API tokens",
        "",
        f"| operation | server | alone p50 / p99 | {args.clients} clients p50 / p99 | throughput under load |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, results in loads.items():
        lines += [_load_row(alone.operation, f"Soundstage, {name}", alone, loaded) for alone, loaded in results]
    if zou is not None:
        lines += [_load_row(alone.operation, "zou, PostgreSQL", alone, loaded) for alone, loaded in zou]

    lines += ["", "| bulk work | size | seconds | per item |", "| --- | --- | --- | --- |"]
    for name, rows in inserts.items():
        lines += [
            f"| bulk insert, {name} | {size:,} shots + {takes:,} takes | {seconds:.2f} s | {seconds / size * 1000:.3f} ms/shot |"
            for size, takes, seconds in rows
        ]
    lines += [
        f"| plan (Production.plan), SQLite | {size:,} shots | {seconds:.2f} s | {seconds / size * 1000:.3f} ms/shot |"
        for size, seconds in planned
    ]
    for name, rows in playlists.items():
        lines += [
            f"| approve a playlist, {name} | {size:,} takes | {seconds:.2f} s | {seconds / size * 1000:.2f} ms/take |"
            for size, seconds in rows
        ]

    if zou is not None:
        (created, _), (commented, commented_loaded), (listed, listed_loaded) = zou
        pg = dict(zip(("board", "shot", "note", "approve", "full"), loads["PostgreSQL"]))
        plan_ms = planned[-1][1] / planned[-1][0] * 1000
        lines += [
            "",
            "| against zou (p50, PostgreSQL both) | zou | Soundstage | zou / Soundstage |",
            "| --- | --- | --- | --- |",
        ]
        pairs = [
            ("a comment / note with a status change, alone", commented, pg["note"][0]),
            (f"the same, {args.clients} clients", commented_loaded, pg["note"][1]),
            (f"{zou_shots:,} shots with tasks / takes, alone", listed, pg["full"][0]),
            (f"the same, {args.clients} clients", listed_loaded, pg["full"][1]),
        ]
        lines += [
            f"| {label} | {z.p(50):.1f} ms | {s.p(50):.1f} ms | {z.p(50) / s.p(50):.1f}x |" for label, z, s in pairs
        ]
        lines.append(
            f"| create a shot (zou: POST one shot, alone; Soundstage: Production.plan, per shot) |"
            f" {created.p(50):.1f} ms | {plan_ms:.2f} ms | {created.p(50) / plan_ms:.0f}x |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
