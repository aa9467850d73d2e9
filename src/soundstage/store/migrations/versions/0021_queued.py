"""An index of queued jobs only, for the claim's walks from the queue's front on PostgreSQL: a
claim writes its job's running version into the index of open jobs at that very front, and
PostgreSQL does not mark dead the entries a scan passed on a leaf page that changed since the
scan read it, so under concurrent claims every walk of ix_jobs_open passed more dead entries
until a vacuum (docs/benchmarks.md, "the claim in one statement"). No claim writes into this
index: it only leaves a dead entry there, which the first walk past it marks.

Revision ID: 0021_queued
Revises: 0020_login_throttle
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_queued"
down_revision: str | None = "0020_login_throttle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUED = sa.text("state = 'queued'")


def upgrade() -> None:
    op.create_index("ix_jobs_queued", "jobs", ["id"], postgresql_where=QUEUED, sqlite_where=QUEUED)


def downgrade() -> None:
    op.drop_index("ix_jobs_queued", table_name="jobs")
