"""Scenes pinned by users to shoot dates (``soundstage schedule pin``).

Revision ID: 0014_strip2
Revises: 0013_motion
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_strip2"
down_revision: str | None = "0013_motion"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schedule_pins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scene", sa.String(length=16), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_schedule_pins"),
        sa.UniqueConstraint("scene", name="uq_schedule_pins_scene"),
    )


def downgrade() -> None:
    op.drop_table("schedule_pins")
