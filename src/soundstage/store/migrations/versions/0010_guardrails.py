"""The guardrails' records: performers, consents and their events, notices, consultations,
writer disclosures and producers' overrides.

Revision ID: 0010_guardrails
Revises: 0009_sec
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_guardrails"
down_revision: str | None = "0009_sec"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "performers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("gives", sa.JSON(), nullable=False),
        sa.Column("deceased", sa.Boolean(), nullable=False),
        sa.Column("replica", sa.String(length=32), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_performers"),
        sa.UniqueConstraint("name", name="uq_performers_name"),
    )
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consent_id", sa.String(length=64), nullable=False),
        sa.Column("performer", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("project", sa.String(length=256), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("signed", sa.String(length=10), nullable=False),
        sa.Column("expires", sa.String(length=10), nullable=True),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("document_suffix", sa.String(length=16), nullable=False),
        sa.Column("signer", sa.String(length=16), nullable=False),
        sa.Column("real_time", sa.Boolean(), nullable=True),
        sa.Column("name_in_prompt", sa.Boolean(), nullable=False),
        sa.Column("representation", sa.String(length=16), nullable=False),
        sa.Column("replaces_in_person", sa.Boolean(), nullable=False),
        sa.Column("scenes", sa.JSON(), nullable=False),
        sa.Column("pay_terms", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_consents"),
        sa.UniqueConstraint("consent_id", name="uq_consents_consent_id"),
    )
    op.create_index("ix_consents_performer", "consents", ["performer"])
    op.create_table(
        "consent_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consent_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_id"], ["consents.id"], name="fk_consent_events_consent_id_consents", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_consent_events"),
    )
    op.create_index("ix_consent_events_consent_id", "consent_events", ["consent_id"])
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notices"),
    )
    op.create_table(
        "consultations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("director", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("shots", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_consultations"),
    )
    op.create_table(
        "disclosures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_sha256", sa.String(length=64), nullable=False),
        sa.Column("writer", sa.String(length=128), nullable=False),
        sa.Column("disclosed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_disclosures"),
    )
    op.create_table(
        "overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("performer", sa.String(length=128), nullable=False),
        sa.Column("violation", sa.Text(), nullable=False),
        sa.Column("by", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_overrides"),
    )
    op.create_index("ix_overrides_subject", "overrides", ["subject"])


def downgrade() -> None:
    op.drop_index("ix_overrides_subject", table_name="overrides")
    op.drop_table("overrides")
    op.drop_table("disclosures")
    op.drop_table("consultations")
    op.drop_table("notices")
    op.drop_index("ix_consent_events_consent_id", table_name="consent_events")
    op.drop_table("consent_events")
    op.drop_index("ix_consents_performer", table_name="consents")
    op.drop_table("consents")
    op.drop_table("performers")
