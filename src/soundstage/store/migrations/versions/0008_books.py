"""The production books: crew members and their rates, time entries, spend lines.

Revision ID: 0008_books
Revises: 0007_queue
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_books"
down_revision: str | None = "0007_queue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crew_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=128), nullable=False),
        sa.Column("union", sa.String(length=16), nullable=False),
        sa.Column("union_local", sa.Integer(), nullable=True),
        sa.Column("residence", sa.String(length=32), nullable=True),
        sa.Column("atl", sa.Boolean(), nullable=False),
        sa.Column("trainee", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_crew_members"),
        sa.UniqueConstraint("name", name="uq_crew_members_name"),
    )
    op.create_table(
        "crew_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crew_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("effective", sa.String(length=10), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["crew_id"], ["crew_members.id"], ondelete="CASCADE", name="fk_crew_rates_crew_id_crew_members"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_crew_rates"),
        sa.UniqueConstraint("crew_id", "effective", name="uq_crew_rates_crew_id"),
    )
    op.create_index("ix_crew_rates_crew_id", "crew_rates", ["crew_id"])
    op.create_table(
        "time_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person", sa.String(length=128), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("hours", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=128), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("location", sa.String(length=32), nullable=True),
        sa.Column("scene", sa.String(length=16), nullable=False),
        sa.Column("shot", sa.String(length=32), nullable=False),
        sa.Column("task", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("pay", sa.String(length=32), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("origin", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_time_entries"),
    )
    op.create_index("ix_time_entries_person", "time_entries", ["person"])
    op.create_index("ix_time_entries_day", "time_entries", ["day"])
    op.create_index("ix_time_entries_status", "time_entries", ["status"])
    op.create_table(
        "spend_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor", sa.String(length=200), nullable=False),
        sa.Column("account", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("location", sa.String(length=32), nullable=True),
        sa.Column("vendor_local", sa.Boolean(), nullable=False),
        sa.Column("atl", sa.Boolean(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_spend_lines"),
    )
    op.create_index("ix_spend_lines_account", "spend_lines", ["account"])


def downgrade() -> None:
    op.drop_table("spend_lines")
    op.drop_table("time_entries")
    op.drop_table("crew_rates")
    op.drop_table("crew_members")
