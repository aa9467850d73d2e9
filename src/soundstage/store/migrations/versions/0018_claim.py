"""The queue's claim reads the open jobs through their own index, not through every finished one.

Revision ID: 0018_claim
Revises: 0017_temporal
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_claim"
down_revision: str | None = "0017_temporal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen as this revision knew them (store/tables.py OPEN_JOB_STATES).
OPEN = sa.text("state IN ('queued', 'running')")


def upgrade() -> None:
    op.create_index("ix_jobs_open", "jobs", ["id"], postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade() -> None:
    op.drop_index("ix_jobs_open", table_name="jobs")
