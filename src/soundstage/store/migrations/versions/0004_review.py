"""Review: shot status, approvals on takes, intent-check findings, users, notes, the audit trail.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shots") as batch:
        batch.add_column(sa.Column("status", sa.String(length=24), nullable=False, server_default="todo"))
        batch.add_column(sa.Column("assignee", sa.String(length=128), nullable=False, server_default=""))
        batch.create_index("ix_shots_status", ["status"])
    with op.batch_alter_table("takes") as batch:
        batch.add_column(sa.Column("approved_by", sa.String(length=128), nullable=False, server_default=""))
        batch.add_column(sa.Column("approved_role", sa.String(length=16), nullable=False, server_default=""))
        batch.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("override_reason", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("signature", sa.JSON(), nullable=False, server_default="[]"))
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("take_id", sa.Integer(), nullable=False),
        sa.Column("check", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("verdict", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["take_id"], ["takes.id"], ondelete="CASCADE", name="fk_findings_take_id_takes"),
        sa.PrimaryKeyConstraint("id", name="pk_findings"),
    )
    op.create_index("ix_findings_take_id", "findings", ["take_id"])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shot_id", sa.Integer(), nullable=False),
        sa.Column("take_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("frame", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("shapes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shot_id"], ["shots.id"], ondelete="CASCADE", name="fk_notes_shot_id_shots"),
        sa.ForeignKeyConstraint(["take_id"], ["takes.id"], ondelete="SET NULL", name="fk_notes_take_id_takes"),
        sa.PrimaryKeyConstraint("id", name="pk_notes"),
    )
    op.create_index("ix_notes_shot_id", "notes", ["shot_id"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_sha256", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("prev_sha256", name="uq_events_prev_sha256"),
        sa.UniqueConstraint("sha256", name="uq_events_sha256"),
    )


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("notes")
    op.drop_table("users")
    op.drop_table("findings")
    with op.batch_alter_table("takes") as batch:
        for column in ("signature", "checked_at", "override_reason", "approved_at", "approved_role", "approved_by"):
            batch.drop_column(column)
    with op.batch_alter_table("shots") as batch:
        batch.drop_index("ix_shots_status")
        batch.drop_column("assignee")
        batch.drop_column("status")
