"""Autovacuum settings of the queue's two busy tables on PostgreSQL (a no-op on SQLite).

Every claim and completion leaves a dead row version of its job (its ``state`` changes, which
the partial indexes name, so no update is HOT), and the claims' index walks pass those versions'
entries until a vacuum removes them or a scan may mark them dead. An autovacuum's ANALYZE takes
a snapshot, and with the default cost delay it sleeps through its reads, so on a busy server it
holds back the horizon below which those entries may be marked, and the claims' walks grow
(docs/benchmarks.md, "what holds the horizon"). So for ``jobs`` and ``takes``: no cost delay (a
vacuum or ANALYZE of these narrow tables ends in a moment instead of sleeping), ``jobs`` vacuumed
after 2% of its rows changed rather than 20%, and both analyzed after half their rows changed
rather than a tenth (the queue refreshes the jobs table's statistics itself after an enqueue:
generate/queue.py ``refresh_statistics``). How often autovacuum looks, ``autovacuum_naptime``, is
the server's (60 s by default), not a table's.

Revision ID: 0022_autovacuum
Revises: 0021_queued
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0022_autovacuum"
down_revision: str | None = "0021_queued"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SETTINGS = {
    "jobs": {
        "autovacuum_vacuum_cost_delay": "0",
        "autovacuum_vacuum_scale_factor": "0.02",
        "autovacuum_vacuum_threshold": "1000",
        "autovacuum_analyze_scale_factor": "0.5",
    },
    "takes": {"autovacuum_vacuum_cost_delay": "0", "autovacuum_analyze_scale_factor": "0.5"},
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has no autovacuum: its updates replace rows in place
    for table, settings in SETTINGS.items():
        op.execute(f"ALTER TABLE {table} SET ({', '.join(f'{k} = {v}' for k, v in settings.items())})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, settings in SETTINGS.items():
        op.execute(f"ALTER TABLE {table} RESET ({', '.join(settings)})")
