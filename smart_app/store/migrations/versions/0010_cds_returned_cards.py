"""The cards the CDS service returned, so that feedback is checked against them by every
worker process.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["branch_labels", "depends_on", "down_revision", "downgrade", "revision", "upgrade"]

revision = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "cds_returned_cards",
        sa.Column("card_uuid", sa.String(64), primary_key=True),
        sa.Column("service_id", sa.String(200), nullable=False),
        sa.Column("client_iss", sa.String(2048), nullable=False),
        sa.Column("suggestions", sa.Text(), nullable=False),
        sa.Column("override_reasons", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_cds_returned_cards_expires_at", "cds_returned_cards", ["expires_at"])


def downgrade() -> None:
    # Forgetting the cards only makes feedback on recent cards refused as unknown.
    op.drop_index("ix_cds_returned_cards_expires_at", table_name="cds_returned_cards")
    op.drop_table("cds_returned_cards")
