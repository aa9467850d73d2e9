"""The claim finds running jobs whose lease ran out through an index of their own, and its
batch's jobs through an index of (shot, id) that replaces the one of shot alone; the index of
every job's state goes: no query of the queue reads through it any more, and every state change
wrote an entry to it.

Revision ID: 0019_lease
Revises: 0018_claim
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_lease"
down_revision: str | None = "0018_claim"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUNNING = sa.text("state = 'running'")


def upgrade() -> None:
    op.create_index("ix_jobs_lease", "jobs", ["heartbeat_at"], postgresql_where=RUNNING, sqlite_where=RUNNING)
    op.create_index("ix_jobs_shot", "jobs", ["shot_id", "id"])
    op.drop_index("ix_jobs_shot_id", table_name="jobs")
    op.drop_index("ix_jobs_state", table_name="jobs")


def downgrade() -> None:
    op.create_index("ix_jobs_state", "jobs", ["state"])
    op.create_index("ix_jobs_shot_id", "jobs", ["shot_id"])
    op.drop_index("ix_jobs_shot", table_name="jobs")
    op.drop_index("ix_jobs_lease", table_name="jobs")
