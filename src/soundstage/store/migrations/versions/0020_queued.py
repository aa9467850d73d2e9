"""The claim's walks from the queue's front read an index of queued jobs only: a claim writes
its running version into the index of open jobs at that front, and PostgreSQL does not mark
dead the entries a scan passed on a page changed since it read it, so under concurrent claims
every walk passed more dead entries until a vacuum (docs/benchmarks.md).

Revision ID: 0020_queued
Revises: 0019_lease
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_queued"
down_revision: str | None = "0019_lease"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUED = sa.text("state = 'queued'")


def upgrade() -> None:
    op.create_index("ix_jobs_queued", "jobs", ["id"], postgresql_where=QUEUED, sqlite_where=QUEUED)


def downgrade() -> None:
    op.drop_index("ix_jobs_queued", table_name="jobs")
