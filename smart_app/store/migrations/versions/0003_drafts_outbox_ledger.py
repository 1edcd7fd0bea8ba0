"""Study drafts, signed reports, the outbox and its ledger.

Revision ID: 0003
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["branch_labels", "depends_on", "down_revision", "downgrade", "revision", "upgrade"]

revision = "0003"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "study_drafts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("ehr_iss", sa.String(2048), nullable=False),
        sa.Column("patient_id", sa.String(200), nullable=False),
        sa.Column("user_id", sa.String(500), nullable=False),
        sa.Column("study_id", sa.String(64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("study_json", sa.Text(), nullable=False),
        sa.Column("problems_json", sa.Text(), nullable=False),
        sa.Column("based_on_version", sa.Integer(), nullable=True),
        sa.Column("signed_version", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.UniqueConstraint(
            "ehr_iss", "patient_id", "user_id", "study_id", name="uq_study_drafts_owner_study"
        ),
    )
    op.create_index(
        "ix_study_drafts_owner_state",
        "study_drafts",
        ["ehr_iss", "patient_id", "user_id", "state"],
    )
    op.create_table(
        "signed_reports",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("draft_id", sa.String(36), nullable=False),
        sa.Column("ehr_iss", sa.String(2048), nullable=False),
        sa.Column("patient_id", sa.String(200), nullable=False),
        sa.Column("user_id", sa.String(500), nullable=False),
        sa.Column("study_key", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("signed_at", sa.Float(), nullable=False),
        sa.Column("document_type", sa.String(16), nullable=False),
        sa.Column("study_json", sa.Text(), nullable=False),
        sa.Column("bundle_json", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("ehr_iss", "study_key", "version", name="uq_signed_reports_version"),
    )
    op.create_table(
        "outbox_items",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("report_id", sa.String(36), sa.ForeignKey("signed_reports.id"), nullable=False),
        sa.Column("ehr_iss", sa.String(2048), nullable=False),
        sa.Column("patient_id", sa.String(200), nullable=False),
        sa.Column("user_id", sa.String(500), nullable=False),
        sa.Column("study_key", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("session_ref", sa.LargeBinary(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.Float(), nullable=False),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_expires_at", sa.Float(), nullable=True),
        sa.Column("strategy", sa.String(16), nullable=True),
        sa.Column("plan_json", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("in_doubt", sa.Integer(), nullable=False),
        sa.Column("notes_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("written_at", sa.Float(), nullable=True),
        sa.UniqueConstraint("report_id", name="uq_outbox_items_report"),
    )
    op.create_index("ix_outbox_items_due", "outbox_items", ["state", "next_attempt_at"])
    op.create_index("ix_outbox_items_study", "outbox_items", ["ehr_iss", "study_key", "version"])
    op.create_index("ix_outbox_items_user", "outbox_items", ["ehr_iss", "user_id", "state"])
    op.create_table(
        "outbox_ledger",
        sa.Column("item_id", sa.String(36), sa.ForeignKey("outbox_items.id"), primary_key=True),
        sa.Column("step_key", sa.String(600), primary_key=True),
        sa.Column("token", sa.String(600), nullable=False),
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("server_id", sa.String(64), nullable=True),
        sa.Column("version", sa.String(64), nullable=True),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("intended_at", sa.Float(), nullable=True),
        sa.Column("recorded_at", sa.Float(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("outbox_ledger")
    op.drop_index("ix_outbox_items_user", table_name="outbox_items")
    op.drop_index("ix_outbox_items_study", table_name="outbox_items")
    op.drop_index("ix_outbox_items_due", table_name="outbox_items")
    op.drop_table("outbox_items")
    op.drop_table("signed_reports")
    op.drop_index("ix_study_drafts_owner_state", table_name="study_drafts")
    op.drop_table("study_drafts")
