"""The take queue (jobs) and takes.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shot_id", sa.Integer(), nullable=False),
        sa.Column("backend", sa.String(length=32), nullable=False),
        sa.Column("recipe", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("worker", sa.String(length=128), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["shot_id"], ["shots.id"], ondelete="CASCADE", name="fk_jobs_shot_id_shots"),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )
    op.create_index("ix_jobs_shot_id", "jobs", ["shot_id"])
    op.create_index("ix_jobs_state", "jobs", ["state"])
    op.create_table(
        "takes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shot_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("backend", sa.String(length=32), nullable=False),
        sa.Column("recipe", sa.JSON(), nullable=False),
        sa.Column("recipe_sha256", sa.String(length=64), nullable=False),
        sa.Column("output_sha256", sa.String(length=64), nullable=False),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shot_id"], ["shots.id"], ondelete="CASCADE", name="fk_takes_shot_id_shots"),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], ondelete="SET NULL", name="fk_takes_job_id_jobs"),
        sa.PrimaryKeyConstraint("id", name="pk_takes"),
        sa.UniqueConstraint("shot_id", "number", name="uq_takes_shot_id"),
        sa.UniqueConstraint("job_id", name="uq_takes_job_id"),
    )
    op.create_index("ix_takes_shot_id", "takes", ["shot_id"])
    op.create_index("ix_takes_recipe_sha256", "takes", ["recipe_sha256"])


def downgrade() -> None:
    op.drop_table("takes")
    op.drop_table("jobs")
