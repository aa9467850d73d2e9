"""A draft records whether it holds AI-generated material (the WGA terms: disclosed to a
writer before it is sent, never credited as source material); a time entry whether it is
AI-assisted work (booked under the person who did it).

Revision ID: 0016_writer
Revises: 0015_latency
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_writer"
down_revision: str | None = "0015_latency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("drafts") as batch:
        batch.add_column(sa.Column("ai_material", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("time_entries") as batch:
        batch.add_column(sa.Column("ai_assisted", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("time_entries") as batch:
        batch.drop_column("ai_assisted")
    with op.batch_alter_table("drafts") as batch:
        batch.drop_column("ai_material")
