"""Schedules remember the draft and the scenes' work they were solved from (re-planning after a
re-import), and stages have holds and bookings.

Revision ID: 0011_strip
Revises: 0010_guardrails
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_strip"
down_revision: str | None = "0010_guardrails"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("schedules") as batch:
        batch.add_column(sa.Column("draft_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("scenes", sa.JSON(), nullable=True))
        batch.create_foreign_key("fk_schedules_draft_id_drafts", "drafts", ["draft_id"], ["id"])
    op.create_table(
        "stage_bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("first", sa.String(length=10), nullable=False),
        sa.Column("last", sa.String(length=10), nullable=False),
        sa.Column("holder", sa.String(length=256), nullable=True),
        sa.Column("firm", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["stage_id"], ["stages.id"], ondelete="CASCADE", name="fk_stage_bookings_stage_id_stages"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_stage_bookings"),
    )
    op.create_index("ix_stage_bookings_stage_id", "stage_bookings", ["stage_id"])


def downgrade() -> None:
    op.drop_index("ix_stage_bookings_stage_id", table_name="stage_bookings")
    op.drop_table("stage_bookings")
    with op.batch_alter_table("schedules") as batch:
        batch.drop_constraint("fk_schedules_draft_id_drafts", type_="foreignkey")
        batch.drop_column("scenes")
        batch.drop_column("draft_id")
