"""What anchoring the audit trail costs: a review decision with its signed checkpoint against the
same decision without one, and ``audit verify`` on a trail of many events, in one run.

Run: .venv/bin/python benchmarks/audit_anchors.py [--decisions N] [--events N]
Prints a markdown table for docs/benchmarks.md, with the machine noted.

1. Decisions on SQLite, one transaction each, alternating submit and request changes on one
   shot: through the production's transaction (which writes a checkpoint after each commit)
   and through a bare session of the same engine (no checkpoint): the same decision and event.
2. ``verify_trail`` (chain, newest checkpoint of each day, replay of approvals and statuses) on
   a trail of ``--events`` events, against the chain walk alone (``trail.audit``).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from soundstage.project import Production, people, review, trail
from soundstage.review.workflow import Action
from soundstage.store.db import session_scope
from soundstage.store.tables import ShotRow

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "lantern_keepers.fountain"
CYCLE = (Action.SUBMIT, Action.REQUEST_CHANGES)


def _decisions(production: Production, code: str, count: int, *, anchored: bool) -> list[float]:
    """Seconds per decision, ``count`` of them, each in its own transaction."""
    times = []
    for number in range(count):
        start = time.perf_counter()
        scope = production.context.transaction() if anchored else session_scope(production.engine)
        with scope as session:
            actor = review.cli_person(session, "Sol")
            review.decide(session, actor, code, CYCLE[number % 2])
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=200)
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, Production.init(Path(folder) / "bench") as production:
        production.import_script(EXAMPLE)
        production.plan()
        production.add_user("Sol", "supervisor")
        first, second = (s.code for s in production.shots()[:2])
        with_checkpoint = _decisions(production, first, args.decisions, anchored=True)
        without = _decisions(production, second, args.decisions, anchored=False)
        with session_scope(production.engine) as session:  # fill the trail up to --events
            shot = session.scalars(select(ShotRow).where(ShotRow.code == second)).one()
            actor = people.person(session, "Sol")
            for number in range(args.events - 2 * args.decisions - 1):
                review.decide(session, actor, shot.code, CYCLE[number % 2])
        production.checkpoint()
        verify_s, chain_s = [], []
        for turn in range(6):  # interleaved, each first in turn; the best of six each
            for which in (0, 1) if turn % 2 else (1, 0):
                start = time.perf_counter()
                if which == 0:
                    check = production.verify_trail()
                    verify_s.append(time.perf_counter() - start)
                else:
                    chain, events = trail.audit(production.context)
                    chain_s.append(time.perf_counter() - start)
        assert check.intact and chain.intact, check.problems
    anchored_ms = statistics.median(with_checkpoint) * 1000
    bare_ms = statistics.median(without) * 1000
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    print("| figure | anchored | bare | ratio |")
    print("| --- | --- | --- | --- |")
    print(
        f"| one decision on SQLite, median of {args.decisions} | {anchored_ms:.1f} ms (with checkpoint) "
        f"| {bare_ms:.1f} ms (no checkpoint) | {anchored_ms / bare_ms:.2f}x |"
    )
    print(
        f"| audit verify, {len(events)} events, best of 6 | {min(verify_s) * 1000:.0f} ms (chain + checkpoints "
        f"+ replay) | {min(chain_s) * 1000:.0f} ms (chain alone) | {min(verify_s) / min(chain_s):.2f}x |"
    )


if __name__ == "__main__":
    main()
