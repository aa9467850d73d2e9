"""The take queue: a per-shot take counter, and the time a retried job waits for.

Revision ID: 0007_queue
Revises: 0006_schedules
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_queue"
down_revision: str | None = "0006_schedules"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "take_counters",
        sa.Column("shot_id", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["shot_id"], ["shots.id"], ondelete="CASCADE", name="fk_take_counters_shot_id_shots"),
        sa.PrimaryKeyConstraint("shot_id", name="pk_take_counters"),
    )
    # Shots that already have takes go on from their highest number.
    op.execute(
        "INSERT INTO take_counters (shot_id, last_number) SELECT shot_id, MAX(number) FROM takes GROUP BY shot_id"
    )
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("retry_at")
    op.drop_table("take_counters")
