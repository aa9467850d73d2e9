"""The claim's sweep of spent jobs reads them through an index of the open jobs' attempts, not
every open job.

Revision ID: 0019_sweep
Revises: 0018_claim
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_sweep"
down_revision: str | None = "0018_claim"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen as this revision knew them (store/tables.py OPEN_JOB_STATES).
OPEN = sa.text("state IN ('queued', 'running')")


def upgrade() -> None:
    op.create_index("ix_jobs_open_attempts", "jobs", ["attempts"], postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade() -> None:
    op.drop_index("ix_jobs_open_attempts", table_name="jobs")
