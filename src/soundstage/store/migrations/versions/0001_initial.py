"""Initial schema: drafts, scenes, shots.

Revision ID: 0001
Revises:
Create Date: 2026-11-21 12:44:06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_name", sa.String(length=512), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=512), nullable=False),
        sa.Column("scene_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_drafts"),
    )
    op.create_table(
        "scenes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("heading", sa.String(length=512), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("first_draft_id", sa.Integer(), nullable=False),
        sa.Column("changed_draft_id", sa.Integer(), nullable=False),
        sa.Column("removed_draft_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["first_draft_id"], ["drafts.id"], name="fk_scenes_first_draft_id_drafts"),
        sa.ForeignKeyConstraint(["changed_draft_id"], ["drafts.id"], name="fk_scenes_changed_draft_id_drafts"),
        sa.ForeignKeyConstraint(["removed_draft_id"], ["drafts.id"], name="fk_scenes_removed_draft_id_drafts"),
        sa.PrimaryKeyConstraint("id", name="pk_scenes"),
        sa.UniqueConstraint("number", name="uq_scenes_number"),
    )
    op.create_table(
        "shots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scene_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("planned", sa.JSON(), nullable=False),
        sa.Column("edits", sa.JSON(), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("in_plan", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["scene_id"], ["scenes.id"], ondelete="CASCADE", name="fk_shots_scene_id_scenes"),
        sa.PrimaryKeyConstraint("id", name="pk_shots"),
        sa.UniqueConstraint("code", name="uq_shots_code"),
    )
    op.create_index("ix_shots_scene_id", "shots", ["scene_id"])


def downgrade() -> None:
    op.drop_index("ix_shots_scene_id", table_name="shots")
    op.drop_table("shots")
    op.drop_table("scenes")
    op.drop_table("drafts")
