"""CDS client JWT ids already used, shared by every worker process.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["branch_labels", "depends_on", "down_revision", "downgrade", "revision", "upgrade"]

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "cds_token_ids",
        sa.Column("key", sa.String(64), primary_key=True),  # SHA-256 hex of (iss, jti)
        sa.Column("expires_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_cds_token_ids_expires_at", "cds_token_ids", ["expires_at"])


def downgrade() -> None:
    # Forgetting the ids only reopens replays within the tokens' last minutes of life.
    op.drop_index("ix_cds_token_ids_expires_at", table_name="cds_token_ids")
    op.drop_table("cds_token_ids")
